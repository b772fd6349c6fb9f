// The portal's pages in a real browser, as a reader gets them from
// `oretrace demo` (the reference scenario): every page renders the
// scenario's facts in English and in Urdu with no script error and no
// serious or critical axe-core violation; Verify works from a lot page,
// the clause check from an agreement page; the Sankey and the map are
// drawn from the server's own /flows and /map; without JavaScript the
// facts are still there. Screenshots of the main pages at 1280 and 375 px
// go to target/browser-artifacts/. The harness (harness.mjs) starts the
// demo, the proxy and Debian's chromium.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { artifacts, getJson, openPage, outcome, require, setup, state, teardown, verifyByKeyboard } from "./harness.mjs";

before(setup);
after(teardown);

/** The pages, each with facts of the reference scenario it must show. */
async function pages() {
  const lot = state.facts.lot.id;
  const events = await getJson("/events?perPage=1");
  const event = events.epcisBody.queryResults.resultsBody.eventList[0];
  return [
    { name: "dashboard", path: "/", facts: [state.facts.origin] },
    { name: "lot", path: `/lots/${encodeURIComponent(lot)}`, facts: [lot, "fwo-chagai-copper", "ussm-madison"] },
    { name: "agreement", path: "/agreements/fwo:mou-ussm-2025", facts: ["Frontier Works Organisation", "US Strategic Metals"] },
    { name: "report", path: "/reports/minerals-watch:pasni-port-offer", facts: ["Pasni"] },
    { name: "party", path: "/parties/fwo", facts: ["Frontier Works Organisation"] },
    { name: "site", path: "/sites/karachi-port", facts: ["Karachi Port"] },
    { name: "event", path: `/events/${encodeURIComponent(event.eventID)}`, facts: [event.eventID] },
    { name: "flows", path: "/flows", facts: ["Karachi Port"] },
    { name: "map", path: "/map", facts: ["Karachi Port", "Gwadar"] },
    { name: "search", path: "/search?q=antimony", facts: ["antimony"] },
    { name: "downloads", path: "/downloads", facts: [state.facts.origin] },
  ];
}

const MAIN = new Set(["dashboard", "lot", "agreement", "flows", "map"]);

test("every page renders the scenario's facts in English and Urdu, with no script error and no serious axe violation", async () => {
  const axe = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  for (const { name, path, facts } of await pages()) {
    for (const lang of ["en", "ur"]) {
      const widths = MAIN.has(name) ? [1280, 375] : [1280];
      for (const width of widths) {
        const url = `${path}${path.includes("?") ? "&" : "?"}lang=${lang}`;
        // The pages' Content-Security-Policy would refuse axe-core's injected
        // script; the other tests run under it and catch what it refuses.
        const { context, page, errors } = await openPage(url, { width, height: 900, bypassCSP: true });
        assert.equal(await page.locator("html").getAttribute("lang"), lang, url);
        assert.equal(await page.locator("html").getAttribute("dir"), lang === "ur" ? "rtl" : "ltr", url);
        const text = (await page.locator("body").textContent()).toLowerCase();
        for (const fact of facts) assert.ok(text.includes(fact.toLowerCase()), `${url}: ${fact}`);
        for (const figure of ["figure.sankey", "figure.map"]) {
          if ((await page.locator(figure).count()) > 0) await page.locator(`${figure}[data-chart]`).first().waitFor();
        }
        await page.addScriptTag({ content: axe });
        const results = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ["violations"] }));
        const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
        assert.deepEqual(
          bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
          [],
          `${url} at ${width}px`,
        );
        assert.deepEqual(errors, [], url);
        if (MAIN.has(name) && (lang === "en" || width === 1280)) {
          await page.screenshot({ path: join(artifacts, `${name}-${lang}-${width}.png`), fullPage: true });
        }
        await context.close();
      }
    }
  }
});

test("Verify works from a lot page, in English and Urdu", async () => {
  for (const lang of ["en", "ur"]) {
    const { context, page, errors } = await openPage(`/lots/${encodeURIComponent(state.facts.lot.id)}?lang=${lang}`);
    await verifyByKeyboard(page, state.vkey);
    const { result, steps } = await outcome(page, "section.verify");
    assert.equal(result, "ok", `${lang}: ${JSON.stringify(steps)}`);
    assert.deepEqual(
      steps.map(([step, ok]) => [step, ok]),
      ["checkpoint", "signature", "entry", "leaf", "proof", "root"].map((s) => [s, "true"]),
    );
    assert.deepEqual(errors, []);
    await page.screenshot({ path: join(artifacts, `lot-verified-${lang}-1280.png`), fullPage: true });
    // The README's pictures (docs/img/ holds copies): the verification as a reader sees it.
    if (lang === "en") await page.locator("section.verify").screenshot({ path: join(artifacts, "readme-verify.png") });
    await context.close();
  }
});

test("a changed tile fails Verify on a lot page at the root step", async () => {
  state.tamper = "tile";
  try {
    const { context, page } = await openPage(`/lots/${encodeURIComponent(state.facts.lot.id)}`);
    await verifyByKeyboard(page, state.vkey);
    const { result, steps } = await outcome(page, "section.verify");
    assert.equal(result, "failed");
    assert.deepEqual(steps.at(-1).slice(0, 2), ["root", "false"]);
    await context.close();
  } finally {
    state.tamper = null;
  }
});

test("the clause check on the agreement page opens every revealed clause", async () => {
  const { context, page, errors } = await openPage("/agreements/fwo:mou-ussm-2025");
  // The clause check proves its entries against the pinned key.
  await page.evaluate((key) => localStorage.setItem("oretrace.log-vkey", key), state.vkey);
  const sections = page.locator("section.clause-check");
  const count = await sections.count();
  assert.ok(count >= 3, `${count} clause checks`);
  for (let i = 0; i < count; i++) {
    const section = sections.nth(i);
    await section.locator("button[data-check-clause]").click();
    await section.locator("li[data-outcome]").waitFor();
    assert.equal(await section.locator("li[data-outcome]").getAttribute("data-outcome"), "ok", await section.textContent());
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test("the clause check reads the sealed root and the clause from proved log entries, not from the server's JSON", async () => {
  const { context, page, errors } = await openPage("/agreements/fwo:mou-ussm-2025");
  await page.evaluate((key) => localStorage.setItem("oretrace.log-vkey", key), state.vkey);
  state.tamper = "clause-json";
  try {
    const section = page.locator("section.clause-check").first();
    await section.locator("button[data-check-clause]").click();
    await section.locator("li[data-outcome]").waitFor();
    const text = await section.textContent();
    assert.equal(await section.locator("li[data-outcome]").getAttribute("data-outcome"), "failed", text);
    assert.match(text, /differs from the one log entry/);
  } finally {
    state.tamper = null;
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test("the flows and map pages draw the server's own data", async () => {
  const { context, page, errors } = await openPage("/flows");
  await page.locator('figure.sankey[data-chart="drawn"]').waitFor();
  const flows = await getJson((await page.locator("figure.sankey").getAttribute("data-flows")) ?? "/flows");
  assert.equal(await page.locator("figure.sankey path[data-link]").count(), flows.links.length);
  assert.equal(await page.locator("figure.sankey rect[data-node]").count(), new Set(flows.links.flatMap((l) => [l.source, l.target])).size);
  await page.goto(`${state.base}/map`);
  await page.locator('figure.map[data-chart="drawn"]').waitFor();
  await page.locator("figure.map .chart").screenshot({ path: join(artifacts, "readme-map.png") });
  const map = await getJson("/map");
  assert.equal(await page.locator("figure.map [data-site]").count(), map.sites.length);
  assert.ok((await page.locator("figure.map path[data-route]").count()) >= 1);
  assert.ok((await page.locator("figure.map [data-countries] path").count()) > 150);
  assert.deepEqual(errors, []);
  await context.close();
});

test("without JavaScript the pages still show their facts, and Verify stays hidden", async () => {
  const context = await state.browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${state.base}/lots/${encodeURIComponent(state.facts.lot.id)}`);
  assert.ok((await page.locator("body").textContent()).includes(state.facts.lot.id));
  assert.equal(await page.locator("button[data-verify]").isVisible(), false);
  await page.goto(`${state.base}/map`);
  assert.ok((await page.locator("figure.map").textContent()).includes("Karachi Port"));
  await context.close();
});

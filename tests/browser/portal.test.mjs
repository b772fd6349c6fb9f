// The portal's scripts in a real browser, on fixture pages carrying
// exactly the hook markup the portal's pages render
// (docs/design/portal-browser.md): Verify through every step, a changed
// tile or checkpoint failing at its step, the clause check, the Sankey and
// the map, Urdu and right to left, axe-core. The harness (harness.mjs)
// starts the demo, the tampering proxy and Debian's chromium.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { URDU, artifacts, openPage, outcome, require, setup, state, teardown, verifyByKeyboard } from "./harness.mjs";

before(setup);
after(teardown);


test("Verify on a real record passes through every step, and the pinned key is kept", async () => {
  state.tamper = null;
  const { context, page, errors } = await openPage("/__fixture/verify.html");
  await verifyByKeyboard(page, state.vkey);
  const { result, steps } = await outcome(page, "section.verify");
  assert.equal(result, "ok", JSON.stringify(steps));
  assert.deepEqual(
    steps.map(([step, ok]) => [step, ok]),
    ["checkpoint", "signature", "entry", "leaf", "proof", "root"].map((s) => [s, "true"]),
  );
  assert.equal(await page.locator("section.verify ol[data-verify-steps]").getAttribute("aria-live"), "polite");
  // The key is shown, and kept: a reload verifies without asking again.
  assert.equal(await page.locator("section.verify [data-pinned-key] code").textContent(), state.vkey);
  await page.reload();
  await page.locator("section.verify button[data-verify]").click();
  assert.equal((await outcome(page, "section.verify")).result, "ok");
  assert.equal(await page.locator("[data-pin-form]").count(), 0);
  // The key can be copied, and changed (which forgets it until a new one is pinned).
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: state.base });
  await page.locator("section.verify button[data-copy-key]").click();
  await page.locator("section.verify [data-pinned-key] [role=status]").filter({ hasText: "Copied" }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), state.vkey);
  await page.locator("section.verify button[data-change-key]").click();
  await page.locator("section.verify [data-pin-form]").waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem("oretrace.log-vkey")), null);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a key that is not a vkey is refused before anything is pinned", async () => {
  const { context, page } = await openPage("/__fixture/verify.html");
  await verifyByKeyboard(page, "not-a-key");
  await page.locator("section.verify .verify-key-error").filter({ hasText: "not a log key" }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem("oretrace.log-vkey")), null);
  // The server's key can be filled in, with the warning that it is not independent.
  await page.locator("section.verify button[data-fetch-key]").click();
  await page.locator("section.verify .verify-key-warning").waitFor({ state: "visible" });
  assert.equal(await page.locator("section.verify [data-key-input]").inputValue(), state.vkey);
  await context.close();
});

for (const [tamper, step] of [
  ["tile", "root"],
  ["checkpoint", "signature"],
]) {
  test(`a changed byte of the ${tamper} fails Verify at the ${step} step`, async () => {
    state.tamper = tamper;
    try {
      const { context, page } = await openPage("/__fixture/verify.html");
      await verifyByKeyboard(page, state.vkey);
      const { result, text, steps } = await outcome(page, "section.verify");
      assert.equal(result, "failed");
      const failed = steps.at(-1);
      assert.deepEqual([failed[0], failed[1]], [step, "false"], JSON.stringify(steps));
      assert.ok(steps.slice(0, -1).every(([, ok]) => ok === "true"));
      assert.match(text, /failed/i);
      await context.close();
    } finally {
      state.tamper = null;
    }
  });
}

test("a revealed clause opens the sealed commitment; a sealed one is said to be unrevealed", async () => {
  const { context, page, errors } = await openPage("/__fixture/verify.html");
  // The clause check proves its entries against the pinned key.
  await page.evaluate((key) => localStorage.setItem("oretrace.log-vkey", key), state.vkey);
  const [revealed, sealed] = [page.locator("section.clause-check").nth(0), page.locator("section.clause-check").nth(1)];
  await revealed.locator("button[data-check-clause]").click();
  const ok = await outcome(page, 'section.clause-check[data-clause="1"]');
  assert.equal(ok.result, "ok", JSON.stringify(ok.steps));
  assert.deepEqual(ok.steps.map(([s, o]) => [s, o]), [["sealed", "true"], ["revealed", "true"], ["commitment", "true"]]);
  await sealed.locator("button[data-check-clause]").click();
  const no = await outcome(page, 'section.clause-check[data-clause="5"]');
  assert.equal(no.result, "failed");
  assert.equal(no.steps.at(-1)[0], "revealed");
  assert.match(no.steps.at(-1)[2], /not been revealed/);
  assert.deepEqual(errors, []);
  await context.close();
});

test("the Sankey and the map are drawn, with legends and distinct symbols", async () => {
  const { context, page, errors } = await openPage("/__fixture/verify.html");
  await page.locator('figure.sankey[data-chart="drawn"]').waitFor();
  await page.locator('figure.map[data-chart="drawn"]').waitFor();
  const { flows, map } = state.facts;
  assert.equal(await page.locator("figure.sankey path[data-link]").count(), flows.links.length);
  assert.equal(await page.locator('figure.sankey path[data-illustrative="true"]').count(), 1);
  assert.equal(await page.locator("figure.sankey rect[data-node]").count(), flows.nodes.length);
  assert.match(await page.locator("figure.sankey .chart-legend").textContent(), /Illustrative/);
  // Node heights follow mass: the preparation plant carries all of it, Qila Abdullah a fifth.
  const height = (id) => page.locator(`figure.sankey rect[data-node="${id}"]`).evaluate((r) => r.getBBox().height);
  const ratio = (await height("site:fwo-qila-abdullah")) / (await height("site:fwo-prep-plant"));
  assert.ok(Math.abs(ratio - 3.25 / 15.75) < 0.01, `height ratio ${ratio}`);
  assert.ok((await page.locator("figure.map [data-countries] path").count()) > 150);
  for (const symbol of ["mine", "plant", "port", "other"]) {
    assert.ok((await page.locator(`figure.map [data-symbol="${symbol}"]`).count()) > 0, symbol);
  }
  assert.equal(await page.locator("figure.map [data-site]").count(), map.sites.length);
  assert.equal(await page.locator("figure.map path[data-route]").count(), map.routes.length);
  assert.equal(await page.locator("figure.map .chart-legend li").count(), 5);
  // The fallback table and list stay for readers without the chart.
  assert.equal(await page.locator("figure.sankey table").count(), 1);
  assert.deepEqual(errors, []);
  await context.close();
});

test("in Urdu the labels are the page's and the charts run right to left", async () => {
  const { context, page, errors } = await openPage("/__fixture/verify-ur.html");
  const button = page.locator("section.verify button[data-verify]");
  await button.waitFor({ state: "visible" });
  assert.equal((await button.textContent()).trim(), URDU["verify.button"]);
  await verifyByKeyboard(page, state.vkey);
  const { result, text, steps } = await outcome(page, "section.verify");
  assert.equal(result, "ok");
  assert.equal(text.trim(), URDU["verify.ok"]);
  assert.ok(steps[0][2].includes(URDU["verify.checkpoint"]));
  // A label the page's catalogue lacks falls back to English.
  assert.ok(steps[1][2].includes("Signature by the pinned log key"));
  assert.ok(steps[3][2].includes(URDU["verify.leaf"]));
  await page.locator('figure.sankey[data-chart="drawn"]').waitFor();
  const x = (id) => page.locator(`figure.sankey rect[data-node="${id}"]`).evaluate((r) => r.getBBox().x);
  assert.ok((await x("site:fwo-qila-abdullah")) > (await x("country:US")), "origins on the right");
  assert.deepEqual(errors, []);
  await context.close();
});

test("axe-core finds no serious or critical violation, and screenshots are written", async () => {
  const axe = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  for (const path of ["/__fixture/verify.html", "/__fixture/verify-ur.html"]) {
    for (const [width, height] of [
      [1280, 900],
      [375, 800],
    ]) {
      const { context, page } = await openPage(path, { width, height });
      await page.locator('figure.map[data-chart="drawn"]').waitFor();
      await page.locator('figure.sankey[data-chart="drawn"]').waitFor();
      // With the verification shown, as a reader sees it after pressing the button.
      await verifyByKeyboard(page, state.vkey);
      await outcome(page, "section.verify");
      await page.addScriptTag({ content: axe });
      const results = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ["violations"] }));
      const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
      assert.deepEqual(
        bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
        [],
        `${path} at ${width}px`,
      );
      const name = path.replace(/^\/__fixture\//, "fixture-").replace(/\.html$/, "");
      await page.screenshot({ path: join(artifacts, `${name}-${width}.png`), fullPage: true });
      await context.close();
    }
  }
});

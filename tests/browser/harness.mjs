// The harness of the real-browser tests (portal.test.mjs, pages.test.mjs).
// Debian's chromium driven by npm
// playwright-core, accessibility by npm axe-core (both installed by
// .ci/browser-env), against `oretrace demo` (the reference scenario)
// started here on a free port with a fresh data folder.
//
// The browser talks to a small proxy in this test that forwards to the
// demo and, when a test asks, changes one byte of a hash tile or of the
// checkpoint: tampering lives here, never in the product. The proxy also
// serves fixture pages under /__fixture/ carrying exactly the hook markup
// the portal's pages render (docs/design/portal-browser.md), so the
// scripts are tested on the same origin as the data they fetch. Not a
// test file itself (node --test runs only *.test.mjs).
//
// Needs the oretrace binary the cargo tests built ($ORETRACE_BIN, else
// $CARGO_TARGET_DIR or target, then debug/oretrace); it never builds.
// Screenshots go to target/browser-artifacts/.

import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
export const require = createRequire(import.meta.url);
export const artifacts = join(root, "target/browser-artifacts");

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

function binary() {
  const bin = process.env.ORETRACE_BIN || join(process.env.CARGO_TARGET_DIR || join(root, "target"), "debug/oretrace");
  if (!existsSync(bin)) {
    throw new Error(`no oretrace binary at ${bin}: run the cargo tests (or cargo build -p oretrace) first, or set ORETRACE_BIN`);
  }
  return bin;
}

function freePort() {
  return new Promise((ok, fail) => {
    const server = net.createServer();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

// ------------------------------------------------------------ the demo and the proxy

export const state = { demo: null, proxy: null, browser: null, work: null, demoBase: "", base: "", vkey: "", tamper: null, facts: {} };

export async function getJson(path) {
  const response = await fetch(state.demoBase + path, { headers: { Accept: "application/json" } });
  assert.equal(response.status, 200, `GET ${path}`);
  return response.json();
}

/** Forwards to the demo; changes one byte of a hash tile or the checkpoint when asked. */
function proxyHandler(request, response) {
  const url = new URL(request.url, "http://proxy");
  if (url.pathname.startsWith("/__fixture/")) return fixture(url, response);
  const upstream = http.request(
    { host: "127.0.0.1", port: new URL(state.demoBase).port, path: request.url, method: request.method, headers: { ...request.headers, host: new URL(state.demoBase).host } },
    (answer) => {
      const chunks = [];
      answer.on("data", (c) => chunks.push(c));
      answer.on("end", () => {
        let body = Buffer.concat(chunks);
        const hashTile = /^\/tile\/[0-9]+\//.test(url.pathname);
        if ((state.tamper === "tile" && hashTile) || (state.tamper === "checkpoint" && url.pathname === "/checkpoint")) {
          body[0] ^= 0x01;
        }
        // A server that lies in its JSON about an agreement: another sealed
        // root, and revealed clauses with invented text.
        if (state.tamper === "clause-json" && /^\/agreements\/[^/]+\/versions\/[0-9]+(\/clauses)?$/.test(url.pathname) && answer.statusCode === 200) {
          const value = JSON.parse(body.toString("utf8"));
          if (value?.record?.terms?.sealed) value.record.terms.sealed.root = "00".repeat(32);
          for (const c of Array.isArray(value?.clauses) ? value.clauses : []) c.text = `FORGED: ${c.text}`;
          body = Buffer.from(JSON.stringify(value));
        }
        const headers = { ...answer.headers };
        delete headers["transfer-encoding"];
        headers["content-length"] = String(body.length);
        response.writeHead(answer.statusCode, headers);
        response.end(body);
      });
    },
  );
  upstream.on("error", (e) => {
    response.writeHead(502, { "content-type": "text/plain" });
    response.end(String(e));
  });
  request.pipe(upstream);
}

// ------------------------------------------------------------ fixture pages

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

export const URDU = {
  "verify.button": "اس براؤزر میں تصدیق کریں",
  "verify.checkpoint": "چیک پوائنٹ حاصل ہوا",
  "verify.ok": "تصدیق ہو گئی",
  "verify.leaf": "لیف ہیش",
  "clause.button": "شق کی جانچ کریں",
  "chart.no_data": "کوئی ڈیٹا نہیں",
};

/** A page with exactly the contract's hooks, in English or Urdu. */
function fixturePage(lang) {
  const rtl = lang === "ur";
  const messages = rtl ? URDU : { "verify.button": "Verify in this browser", "clause.button": "Check this clause" };
  const { lot, agreement } = state.facts;
  return `<!doctype html>
<html lang="${lang}" dir="${rtl ? "rtl" : "ltr"}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>oretrace fixture: ${esc(lot.id)}</title>
<script type="module" src="/assets/portal.js"></script>
<script type="application/json" id="portal-messages">${JSON.stringify(messages).replace(/</g, "\\u003c")}</script>
<style>body{font-family:sans-serif;max-width:60rem;margin:auto;padding:1rem} button:focus-visible{outline:3px solid #1a5fb4} figure{margin:1rem 0}</style>
</head>
<body>
<main>
<h1>${esc(lot.id)}</h1>
<section class="verify" data-verify-index="${lot.index}" data-verify-hash=""><h2>Log</h2><button type="button" data-verify hidden>${esc(messages["verify.button"])}</button><ol data-verify-steps></ol></section>
<section class="clause-check" data-agreement="${esc(agreement.id)}" data-version="${agreement.version}" data-clause="1"><h2>Clause 1</h2><button type="button" data-check-clause hidden>${esc(messages["clause.button"])}</button><ol data-check-steps></ol></section>
<section class="clause-check" data-agreement="${esc(agreement.id)}" data-version="${agreement.version}" data-clause="5"><h2>Clause 5</h2><button type="button" data-check-clause hidden>${esc(messages["clause.button"])}</button><ol data-check-steps></ol></section>
<figure class="sankey" data-flows="/__fixture/flows?element=Cu&amp;from=2025-01-01&amp;to=2025-12-31"><table><caption>Flows</caption><tr><th scope="col">from</th><th scope="col">to</th><th scope="col">kg</th></tr></table><figcaption>Contained copper</figcaption></figure>
<figure class="map" data-map="/__fixture/map"><ul><li>${esc(lot.id)}</li></ul><figcaption>Sites and routes</figcaption></figure>
</main>
</body>
</html>
`;
}

function fixture(url, response) {
  const send = (type, body) => {
    response.writeHead(200, { "content-type": type, "cache-control": "no-store" });
    response.end(body);
  };
  switch (url.pathname) {
    case "/__fixture/verify.html":
      return send("text/html; charset=utf-8", fixturePage("en"));
    case "/__fixture/verify-ur.html":
      return send("text/html; charset=utf-8", fixturePage("ur"));
    case "/__fixture/flows":
      return send("application/json", JSON.stringify(state.facts.flows));
    case "/__fixture/map":
      return send("application/json", JSON.stringify(state.facts.map));
    default:
      response.writeHead(404, { "content-type": "text/plain" });
      response.end("no such fixture");
  }
}

/** The demo's facts the fixtures use: a lot, a revealed agreement, the sites. */
async function loadFacts() {
  const lots = (await getJson("/lots?perPage=100")).lots;
  const lot = lots.find((l) => l.index > 0) ?? assert.fail("the demo has no lot");
  const agreement = { id: "fwo:mou-ussm-2025", version: 2 };
  const sites = (await getJson("/sites?perPage=100")).sites.map((s) => ({
    id: s.id,
    name: s.record.name,
    kind: s.record.site_kind,
    country: s.country,
    lat: s.record.location?.lat,
    lon: s.record.location?.lon,
    approximate: s.record.approximate === true,
  }));
  const map = {
    sites,
    routes: [
      { from: "fwo-qila-abdullah", to: "fwo-prep-plant", via: [], shipments: 1 },
      { from: "fwo-prep-plant", to: "ussm-madison", via: ["karachi-port"], shipments: 2 },
    ],
  };
  const flows = {
    element: "Cu",
    from: "2025-01-01",
    to: "2025-12-31",
    checkpoint: { origin: "fixture", size: 1, root: "" },
    nodes: [
      { id: "site:fwo-chagai-copper", label: "Chagai", stage: "origin", country: "PK" },
      { id: "site:fwo-qila-abdullah", label: "Qila Abdullah", stage: "origin", country: "PK" },
      { id: "site:fwo-prep-plant", label: "FWO preparation plant", stage: "processing", country: "PK" },
      { id: "site:karachi-port", label: "Karachi Port", stage: "port", country: "PK" },
      { id: "country:US", label: "United States", stage: "destination", country: "US" },
    ],
    links: [
      { source: "site:fwo-chagai-copper", target: "site:fwo-prep-plant", kg: "12.5", illustrative: true },
      { source: "site:fwo-qila-abdullah", target: "site:fwo-prep-plant", kg: "3.25", illustrative: false },
      { source: "site:fwo-prep-plant", target: "site:karachi-port", kg: "15.75", illustrative: false },
      { source: "site:karachi-port", target: "country:US", kg: "15.75", illustrative: false },
    ],
  };
  const origin = (await (await fetch(`${state.demoBase}/checkpoint`)).text()).split("\n")[0];
  return { lot, agreement, sites, map, flows, origin };
}

/** Starts the demo, the proxy and the browser (a test file's `before`). */
export async function setup() {
  const bin = binary();
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: run bash .ci/browser-env (Debian's chromium), or set CHROMIUM`);
  let playwright;
  try {
    playwright = require("playwright-core");
    require.resolve("axe-core/axe.min.js");
  } catch {
    throw new Error("playwright-core or axe-core is not installed in tests/browser/node_modules: run bash .ci/browser-env");
  }
  state.work = mkdtempSync(join(tmpdir(), "oretrace-browser-"));
  const data = join(state.work, "data");
  // Load first (the demo captures its EPCIS documents through the server), then serve.
  execFileSync(bin, ["demo", "--data", data, "--no-serve"], { stdio: ["ignore", "ignore", "pipe"] });
  const port = await freePort();
  state.demoBase = `http://127.0.0.1:${port}`;
  state.demo = spawn(bin, ["demo", "--data", data, "--listen", `127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, RUST_LOG: "warn" } });
  let stderr = "";
  state.demo.stderr.on("data", (c) => (stderr += c));
  for (let i = 0; ; i++) {
    if (state.demo.exitCode !== null) throw new Error(`oretrace demo exited: ${stderr}`);
    try {
      if ((await fetch(`${state.demoBase}/healthz`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (i > 600) throw new Error(`oretrace demo did not answer /healthz: ${stderr}`);
    await sleep(100);
  }
  state.vkey = (await (await fetch(`${state.demoBase}/vkey`)).text()).trim();
  state.facts = await loadFacts();
  state.proxy = http.createServer(proxyHandler);
  await new Promise((ok) => state.proxy.listen(0, "127.0.0.1", ok));
  state.base = `http://127.0.0.1:${state.proxy.address().port}`;
  state.browser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  mkdirSync(artifacts, { recursive: true });
}

/** Stops what setup started (a test file's `after`). */
export async function teardown() {
  await state.browser?.close();
  await new Promise((ok) => (state.proxy ? state.proxy.close(ok) : ok()));
  if (state.demo && state.demo.exitCode === null) {
    state.demo.kill("SIGTERM");
    await new Promise((ok) => state.demo.once("exit", ok));
  }
  if (state.work) rmSync(state.work, { recursive: true, force: true });
}

/** A fresh browser context (its own localStorage) and page; collects script errors. */
export async function openPage(path, { width = 1280, height = 900, bypassCSP = false } = {}) {
  const context = await state.browser.newContext({ viewport: { width, height }, bypassCSP });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  await page.goto(state.base + path);
  return { context, page, errors };
}

/** Pins the log key through the page's own form, by keyboard, and runs Verify. */
export async function verifyByKeyboard(page, key) {
  const button = page.locator("section.verify button[data-verify]");
  await button.waitFor({ state: "visible" });
  await button.focus();
  await page.keyboard.press("Enter");
  const input = page.locator("section.verify [data-key-input]");
  await input.waitFor();
  await input.fill(key);
  await page.locator("section.verify button[data-pin-key]").focus();
  await page.keyboard.press("Enter");
}

export async function outcome(page, selector) {
  const item = page.locator(`${selector} li[data-outcome]`);
  await item.waitFor();
  const steps = await page.locator(`${selector} li[data-step]`).evaluateAll((items) => items.map((li) => [li.dataset.step, li.dataset.ok, li.textContent]));
  return { result: await item.getAttribute("data-outcome"), text: await item.textContent(), steps };
}


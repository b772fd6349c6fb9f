// oretrace portal: the parts of a page that need JavaScript. Finds the
// hooks the server-rendered pages carry and
//  - un-hides and wires the Verify buttons (section.verify) and the
//    clause checks (section.clause-check), showing each step;
//  - draws the Sankey of contained element mass (figure.sankey) and the
//    map of sites and routes (figure.map) as SVG.
// Everything else on a page works without it; each figure keeps its
// fallback table or list. Labels come from the page's
// <script type="application/json" id="portal-messages"> catalogue (so
// English and Urdu work), English where a key is missing.
// See docs/design/portal-browser.md.

import { verifyRecord, checkClause, parseVkey, field } from "./verify.js";

const SVG = "http://www.w3.org/2000/svg";

/** English labels, used for any key the page's catalogue lacks. */
const ENGLISH = {
  "verify.button": "Verify in this browser",
  "verify.checkpoint": "Checkpoint fetched",
  "verify.signature": "Signature by the pinned log key",
  "verify.entry": "Entry found in the log",
  "verify.record": "The log entry proved is",
  "verify.leaf": "Leaf hash",
  "verify.proof": "Inclusion proof from tiles",
  "verify.root": "Root matches the signed checkpoint",
  "verify.ok": "Verified: this record is in the log the pinned key signs.",
  "verify.failed": "Verification failed",
  "verify.pinned_key": "Pinned log key",
  "verify.pin_prompt":
    "Paste the log's verifier key (vkey) from a source you trust, such as the line `oretrace demo` prints or the operator publishes. It is kept in this browser and every later check is against it.",
  "verify.pin_button": "Pin this key and verify",
  "verify.fetch_key": "Fill in the key this server offers (/vkey)",
  "verify.fetch_warning":
    "A key fetched from the same server is not an independent check: a server that lies about its log can lie about its key. Compare it with a copy from elsewhere before pinning it.",
  "verify.change_key": "Change the pinned key",
  "verify.copy_key": "Copy the key",
  "verify.copied": "Copied",
  "verify.key_invalid": "That is not a log key",
  "clause.button": "Check this clause against the sealed commitment",
  "clause.sealed": "Sealed commitment read",
  "clause.revealed": "Revealed clause and its proof read",
  "clause.commitment": "Clause commitment and proof lead to the sealed root",
  "clause.ok": "The revealed clause opens the sealed commitment.",
  "clause.failed": "The clause does not open the sealed commitment",
  "chart.no_data": "No data to draw.",
  "chart.failed": "The chart could not be drawn",
  "sankey.title": "Contained element mass by stage",
  "sankey.reported": "Reported figures",
  "sankey.illustrative": "Illustrative figures",
  "sankey.origin": "Origins",
  "sankey.processing": "Processing",
  "sankey.port": "Ports",
  "sankey.destination": "Destinations",
  "map.title": "Sites and routes",
  "map.mine": "Mine or exploration area",
  "map.plant": "Processing or receiving plant",
  "map.port": "Port",
  "map.other": "Other site (laboratory, warehouse)",
  "map.route": "Route (width: shipments)",
  "map.approximate": "approximate location",
  "map.shipments": "shipments",
};


const KEY_STORE = "oretrace.log-vkey";

let catalogue = null;

/** The label for `key`: the page's, or English. */
export function t(key) {
  if (catalogue === null) {
    catalogue = {};
    const node = document.getElementById("portal-messages");
    if (node) {
      try {
        const parsed = JSON.parse(node.textContent);
        if (parsed && typeof parsed === "object") catalogue = parsed;
      } catch {
        // A broken catalogue is the page's bug; English still works.
      }
    }
  }
  const label = catalogue[key];
  if (typeof label === "string" && label !== "") return label;
  return ENGLISH[key] ?? key;
}

function rtl() {
  return (document.documentElement.getAttribute("dir") || "").toLowerCase() === "rtl";
}

/** An HTML element with attributes and children (strings become text). */
function h(tag, attributes = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) {
    if (v !== false && v !== null && v !== undefined) e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) e.append(c);
  return e;
}

/**
 * Lets a long key or hash wrap anywhere instead of widening the page. Set
 * through the CSSOM: the pages' Content-Security-Policy refuses style
 * attributes.
 */
function wrapping(e) {
  e.style.overflowWrap = "anywhere";
  return e;
}

/** An SVG element with attributes and children. */
function s(tag, attributes = {}, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) {
    if (v !== false && v !== null && v !== undefined) e.setAttribute(k, String(v));
  }
  for (const c of children) e.append(c);
  return e;
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.json();
}

// ------------------------------------------------------------ the pinned key

function pinnedKey() {
  try {
    return localStorage.getItem(KEY_STORE);
  } catch {
    return null;
  }
}

function pinKey(text) {
  try {
    localStorage.setItem(KEY_STORE, text);
  } catch {
    // Storage refused (private mode): the key holds for this page only.
  }
  sessionKey = text;
}

let sessionKey = null;

/** Shows the pinned key, with copy and change buttons. */
function keyPanel(section, key, onChange) {
  const code = wrapping(h("code", { class: "verify-key", dir: "ltr" }, key));
  const copy = h("button", { type: "button", "data-copy-key": true }, t("verify.copy_key"));
  const status = h("span", { role: "status" });
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(key);
      status.textContent = t("verify.copied");
    } catch {
      // No clipboard permission: select the key so it can be copied by hand.
      const range = document.createRange();
      range.selectNodeContents(code);
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
  });
  const change = h("button", { type: "button", "data-change-key": true }, t("verify.change_key"));
  change.addEventListener("click", onChange);
  return h("p", { class: "verify-pinned", "data-pinned-key": true }, `${t("verify.pinned_key")}: `, code, " ", copy, " ", change, " ", status);
}

let formCount = 0;

/** Asks for a key to pin (pasted, or the server's /vkey confirmed); resolves to it. */
function pinForm(section) {
  return new Promise((resolve) => {
    const id = `verify-key-${++formCount}`;
    const input = h("textarea", { id, rows: 2, cols: 60, dir: "ltr", spellcheck: "false", autocomplete: "off", "data-key-input": true });
    const error = h("p", { class: "verify-key-error", role: "alert" });
    const warning = h("p", { class: "verify-key-warning", hidden: true }, t("verify.fetch_warning"));
    const fetchKey = h("button", { type: "button", "data-fetch-key": true }, t("verify.fetch_key"));
    const pin = h("button", { type: "button", "data-pin-key": true }, t("verify.pin_button"));
    const form = h(
      "div",
      { class: "verify-pin", "data-pin-form": true },
      h("label", { for: id }, t("verify.pin_prompt")),
      input,
      h("p", {}, fetchKey),
      warning,
      h("p", {}, pin),
      error,
    );
    fetchKey.addEventListener("click", async () => {
      try {
        const response = await fetch("/vkey");
        if (!response.ok) throw new Error(`GET /vkey answered ${response.status}`);
        input.value = (await response.text()).trim();
        warning.hidden = false;
        input.focus();
      } catch (e) {
        error.textContent = e.message;
      }
    });
    pin.addEventListener("click", async () => {
      const text = input.value.trim();
      try {
        await parseVkey(text);
      } catch (e) {
        error.textContent = `${t("verify.key_invalid")}: ${e.message}`;
        input.focus();
        return;
      }
      pinKey(text);
      form.remove();
      resolve(text);
    });
    section.querySelector("[data-verify]").after(form);
    input.focus();
  });
}

// ------------------------------------------------------------ verify and clause hooks

function stepItem(list, labelKey, report) {
  const li = h(
    "li",
    { "data-step": report.step, "data-ok": report.ok ? "true" : "false", class: report.ok ? "step-ok" : "step-failed" },
    h("span", { "aria-hidden": "true" }, report.ok ? "\u2713 " : "\u2717 "),
    h("strong", {}, t(labelKey)),
    ": ",
    wrapping(h("span", { class: "step-detail", dir: "auto" }, report.detail)),
  );
  list.append(li);
}

function outcome(list, ok, okKey, failedKey, step) {
  list.append(
    h(
      "li",
      { "data-outcome": ok ? "ok" : "failed", class: ok ? "outcome-ok" : "outcome-failed" },
      h("strong", {}, ok ? t(okKey) : `${t(failedKey)}: ${step}`),
    ),
  );
}

function liveList(section, selector) {
  let list = section.querySelector(selector);
  if (!list) {
    list = h("ol");
    section.append(list);
  }
  list.setAttribute("aria-live", "polite");
  list.setAttribute("aria-atomic", "false");
  return list;
}

function wireVerify(section) {
  const button = section.querySelector("button[data-verify]");
  if (!button) return;
  const list = liveList(section, "ol[data-verify-steps]");
  const index = Number(section.dataset.verifyIndex);
  if (!/^(0|[1-9][0-9]*)$/.test(section.dataset.verifyIndex ?? "") || !Number.isSafeInteger(index)) return;
  if (!button.textContent.trim()) button.textContent = t("verify.button");
  button.hidden = false;

  let panel = null;
  const showKey = (key) => {
    panel?.remove();
    panel = keyPanel(section, key, async () => {
      panel?.remove();
      panel = null;
      try {
        localStorage.removeItem(KEY_STORE);
      } catch {
        // Nothing stored.
      }
      sessionKey = null;
      showKey(await pinForm(section));
    });
    button.after(panel);
  };
  const current = pinnedKey() ?? sessionKey;
  if (current) showKey(current);

  button.addEventListener("click", async () => {
    if (button.disabled) return;
    const key = await keyFor(section);
    showKey(key);
    button.disabled = true;
    section.setAttribute("aria-busy", "true");
    list.replaceChildren();
    const result = await verifyRecord({
      index,
      vkey: key,
      leafHash: section.dataset.verifyHash || "",
      onStep: (report) => stepItem(list, `verify.${report.step}`, report),
    });
    // Say which record the log holds, read from the verified entry itself,
    // so the reader can compare it with what the page shows.
    const kind = result.ok ? fields(result, "kind") : "";
    const subject = result.ok ? fields(result, "id") || fields(result, "agreement") || fields(result, "lot") || "" : "";
    if (result.ok) list.append(h("li", { "data-verified-record": "" }, `${t("verify.record")}: ${kind} ${subject}`.trim()));
    outcome(list, result.ok, "verify.ok", "verify.failed", result.ok ? "" : t(`verify.${result.step}`));
    section.dataset.verified = result.ok ? "ok" : "failed";
    section.removeAttribute("aria-busy");
    button.disabled = false;
  });
}

/** The pinned log key, or the one the reader pins now in `section`. */
async function keyFor(section) {
  const key = pinnedKey() ?? sessionKey;
  if (key) return key;
  section.querySelector("[data-pin-form]")?.remove();
  return pinForm(section);
}

/** The first value of `key` in a verified entry's fields. */
function fields(result, key) {
  return field(result.fields ?? [], key) ?? "";
}

function wireClause(section) {
  const button = section.querySelector("button[data-check-clause]");
  if (!button) return;
  const list = liveList(section, "ol[data-check-steps]");
  const id = section.dataset.agreement ?? "";
  const version = Number(section.dataset.version);
  const clause = Number(section.dataset.clause);
  if (!id || !Number.isSafeInteger(version) || version < 1 || !Number.isSafeInteger(clause) || clause < 0) return;
  if (!button.textContent.trim()) button.textContent = t("clause.button");
  button.hidden = false;
  button.addEventListener("click", async () => {
    if (button.disabled) return;
    // The clause check proves the entries it reads against the pinned
    // log key, as Verify does.
    const key = await keyFor(section);
    button.disabled = true;
    section.setAttribute("aria-busy", "true");
    list.replaceChildren();
    const result = await checkClause({ id, version, clause, vkey: key, onStep: (report) => stepItem(list, `clause.${report.step}`, report) });
    outcome(list, result.ok, "clause.ok", "clause.failed", result.ok ? "" : t(`clause.${result.step}`));
    section.dataset.checked = result.ok ? "ok" : "failed";
    section.removeAttribute("aria-busy");
    button.disabled = false;
  });
}

// ------------------------------------------------------------ charts

function chartNote(figure, key, detail = "") {
  figure.querySelector(".chart-note")?.remove();
  const note = h("p", { class: "chart-note", role: "status" }, t(key) + (detail ? `: ${detail}` : ""));
  figure.prepend(note);
  figure.dataset.chart = key === "chart.no_data" ? "empty" : "failed";
}

/** A legend as an HTML list: each item an inline SVG swatch and a label. */
function legend(items) {
  const list = h(
    "ul",
    { class: "chart-legend" },
    ...items.map(([swatch, label]) => h("li", {}, s("svg", { width: 18, height: 12, viewBox: "0 0 18 12", "aria-hidden": "true", focusable: "false" }, swatch), " ", label)),
  );
  // Through the CSSOM (the pages' Content-Security-Policy refuses style
  // attributes): one line of swatches, wrapping on a phone.
  Object.assign(list.style, { listStyle: "none", paddingInlineStart: "0", display: "flex", flexWrap: "wrap", gap: "0.25rem 1.25rem" });
  return list;
}

const STAGES = ["origin", "processing", "port", "destination"];

/**
 * Lays out a Sankey diagram: columns by stage, node heights by mass,
 * links as ribbons stacked along each node. Pure: returns coordinates in a
 * `width` × `height` box.
 */
export function sankeyLayout(flows, { width = 760, height = 380, nodeWidth = 14, gap = 14, labelRoom = 150 } = {}) {
  const nodes = new Map();
  const list = (v) => (Array.isArray(v) ? v : []);
  for (const n of list(flows?.nodes)) {
    if (typeof n?.id !== "string" || nodes.has(n.id)) continue;
    const stage = STAGES.includes(n.stage) ? n.stage : "processing";
    nodes.set(n.id, { id: n.id, label: String(n.label ?? n.id), stage, column: STAGES.indexOf(stage), inflow: 0, outflow: 0, in: [], out: [] });
  }
  const links = [];
  for (const l of list(flows?.links)) {
    const source = nodes.get(l?.source);
    const target = nodes.get(l?.target);
    const kg = Number.parseFloat(l?.kg);
    if (!source || !target || source === target || !Number.isFinite(kg) || kg <= 0) continue;
    const link = { source, target, kg, text: String(l.kg), illustrative: l.illustrative === true };
    source.out.push(link);
    target.in.push(link);
    source.outflow += kg;
    target.inflow += kg;
    links.push(link);
  }
  const used = [...nodes.values()].filter((n) => n.in.length + n.out.length > 0);
  const columns = STAGES.map((_, c) => used.filter((n) => n.column === c)).filter((c) => c.length > 0);
  if (links.length === 0 || columns.length === 0) return null;
  for (const n of used) n.value = Math.max(n.inflow, n.outflow);
  const scale = Math.min(...columns.map((c) => (height - gap * (c.length - 1)) / c.reduce((sum, n) => sum + n.value, 0)));
  const step = columns.length > 1 ? (width - 2 * labelRoom - nodeWidth) / (columns.length - 1) : 0;
  columns.forEach((column, i) => {
    column.sort((a, b) => b.value - a.value || a.label.localeCompare(b.label));
    const total = column.reduce((sum, n) => sum + n.value * scale, 0) + gap * (column.length - 1);
    let y = (height - total) / 2;
    for (const n of column) {
      n.x = labelRoom + i * step;
      n.y = y;
      n.height = Math.max(n.value * scale, 1);
      y += n.height + gap;
    }
  });
  // Ribbons leave and enter each node in the order of the other end's height.
  for (const n of used) {
    n.out.sort((a, b) => a.target.y - b.target.y);
    n.in.sort((a, b) => a.source.y - b.source.y);
    let y = n.y;
    for (const l of n.out) {
      l.sy = y;
      y += l.kg * scale;
    }
    y = n.y;
    for (const l of n.in) {
      l.ty = y;
      y += l.kg * scale;
    }
  }
  for (const l of links) l.width = Math.max(l.kg * scale, 0.5);
  return { width, height, nodeWidth, nodes: used, links, columns: columns.length, columnStep: step, labelRoom };
}

function ribbon(l, nodeWidth) {
  const x0 = l.source.x + nodeWidth;
  const x1 = l.target.x;
  const xm = (x0 + x1) / 2;
  const [y0, y1, w] = [l.sy, l.ty, l.width];
  return `M${x0} ${y0}C${xm} ${y0} ${xm} ${y1} ${x1} ${y1}L${x1} ${y1 + w}C${xm} ${y1 + w} ${xm} ${y0 + w} ${x0} ${y0 + w}Z`;
}

const STAGE_COLOURS = { origin: "#8c510a", processing: "#01665e", port: "#2166ac", destination: "#762a83" };

async function drawSankey(figure) {
  const url = figure.dataset.flows;
  if (!url || !url.startsWith("/")) return;
  let flows;
  try {
    flows = await getJson(url);
  } catch (e) {
    chartNote(figure, "chart.failed", e.message);
    return;
  }
  // Laid out at the figure's own width, so labels keep their size on a phone.
  const width = Math.max(320, Math.min(figure.clientWidth || 760, 960));
  const layout = sankeyLayout(flows, { width, height: width < 500 ? 320 : 380, labelRoom: Math.min(150, width * 0.22) });
  if (!layout) {
    chartNote(figure, "chart.no_data");
    return;
  }
  const mirrored = rtl();
  const W = layout.width;
  const fmt = (kg) => `${kg} kg`;
  const svg = s("svg", {
    class: "sankey-chart",
    viewBox: `0 -20 ${W} ${layout.height + 30}`,
    role: "img",
    "aria-label": `${t("sankey.title")}${flows.element ? ` (${flows.element})` : ""}`,
    // Anchors below are computed for both directions, so the SVG's own
    // direction stays ltr (Urdu labels still shape right to left).
    direction: "ltr",
    width: "100%",
  });
  const defs = s(
    "defs",
    {},
    s("pattern", { id: "sankey-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, s("rect", { width: 6, height: 6, fill: "#bbb", "fill-opacity": 0.35 }), s("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#555", "stroke-width": 2 })),
  );
  svg.append(defs);
  // In a right-to-left page the flow runs right to left: mirror x.
  const X = (x, w = 0) => (mirrored ? W - x - w : x);
  for (const l of layout.links) {
    const path = s("path", {
      d: ribbon(l, layout.nodeWidth),
      fill: l.illustrative ? "url(#sankey-hatch)" : STAGE_COLOURS[l.source.stage],
      "fill-opacity": l.illustrative ? 1 : 0.35,
      stroke: l.illustrative ? "#555" : "none",
      "stroke-dasharray": l.illustrative ? "3 2" : null,
      "stroke-width": 0.6,
      "data-link": `${l.source.id} ${l.target.id}`,
      "data-illustrative": l.illustrative ? "true" : "false",
      transform: mirrored ? `translate(${W} 0) scale(-1 1)` : null,
    });
    path.append(s("title", {}, `${l.source.label} \u2192 ${l.target.label}: ${fmt(l.text)}${l.illustrative ? ` (${t("sankey.illustrative")})` : ""}`));
    svg.append(path);
  }
  const labelled = new Set();
  const firstColumn = Math.min(...layout.nodes.map((m) => m.column));
  const lastColumn = Math.max(...layout.nodes.map((m) => m.column));
  for (const n of layout.nodes) {
    const rect = s("rect", { x: X(n.x, layout.nodeWidth), y: n.y, width: layout.nodeWidth, height: n.height, fill: STAGE_COLOURS[n.stage], "data-node": n.id });
    rect.append(s("title", {}, `${n.label}: ${fmt(Math.round(n.value * 1000) / 1000)}`));
    svg.append(rect);
    // Labels before the first column (in the margin), after the others.
    const after = n.column !== firstColumn;
    const lx = after ? n.x + layout.nodeWidth + 4 : n.x - 4;
    // A label gets the room to the next column (or the margin), cut short
    // with an ellipsis past it; the node's tooltip has it whole.
    const room = (n.column === firstColumn || n.column === lastColumn ? layout.labelRoom : layout.columnStep - layout.nodeWidth) - 8;
    const fits = Math.max(3, Math.floor(room / (11 * 0.55)));
    const label = n.label.length > fits ? `${n.label.slice(0, fits - 1)}\u2026` : n.label;
    const text = s("text", { x: X(lx), y: n.y + n.height / 2, "dominant-baseline": "middle", "text-anchor": after !== mirrored ? "start" : "end", "font-size": 11, fill: "#111" }, label);
    if (!labelled.has(n.id)) svg.append(text);
    labelled.add(n.id);
  }
  // Stage names over the columns.
  const byColumn = new Map();
  for (const n of layout.nodes) byColumn.set(n.column, n.x);
  for (const [column, x] of byColumn) {
    svg.append(s("text", { x: X(x + layout.nodeWidth / 2), y: -6, "text-anchor": "middle", "font-size": 11, "font-weight": "bold", fill: "#111" }, t(`sankey.${STAGES[column]}`)));
  }
  const hasIllustrative = layout.links.some((l) => l.illustrative);
  const items = [[s("rect", { width: 18, height: 12, fill: STAGE_COLOURS.processing, "fill-opacity": 0.35 }), t("sankey.reported")]];
  if (hasIllustrative) items.push([s("rect", { width: 18, height: 12, fill: "url(#sankey-legend-hatch)", stroke: "#555", "stroke-dasharray": "3 2" }), t("sankey.illustrative")]);
  const key = legend(items);
  if (hasIllustrative) {
    // The legend's own swatch needs its own pattern (each svg is its own document fragment).
    const swatch = key.querySelectorAll("svg")[1];
    swatch.prepend(s("defs", {}, s("pattern", { id: "sankey-legend-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, s("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#555", "stroke-width": 2 }))));
  }
  const chart = h("div", { class: "chart sankey-drawn" }, svg, key);
  figure.querySelector(".chart")?.remove();
  figure.querySelector(".chart-note")?.remove();
  figure.prepend(chart);
  figure.dataset.chart = "drawn";
}

/** What symbol a site kind gets on the map. */
export function siteClass(kind) {
  if (kind === "mine" || kind === "exploration-area") return "mine";
  if (kind === "concentrator" || kind === "refinery" || kind === "receiving-plant") return "plant";
  if (kind === "port") return "port";
  return "other";
}

const SITE_COLOURS = { mine: "#8c510a", plant: "#01665e", port: "#2166ac", other: "#555" };

/** A site symbol centred on (x, y) with size r: triangle, square, circle or diamond. */
function symbol(kind, x, y, r, extra = {}) {
  const common = { fill: SITE_COLOURS[kind], stroke: "#fff", "stroke-width": 1, "vector-effect": "non-scaling-stroke", ...extra };
  switch (kind) {
    case "mine":
      return s("path", { d: `M${x} ${y - r}L${x + r} ${y + r * 0.8}L${x - r} ${y + r * 0.8}Z`, ...common });
    case "plant":
      return s("rect", { x: x - r * 0.8, y: y - r * 0.8, width: r * 1.6, height: r * 1.6, ...common });
    case "port":
      return s("circle", { cx: x, cy: y, r: r * 0.85, ...common });
    default:
      return s("path", { d: `M${x} ${y - r}L${x + r} ${y}L${x} ${y + r}L${x - r} ${y}Z`, ...common });
  }
}

const project = (lon, lat) => [lon + 180, 90 - lat];

async function drawMap(figure) {
  const url = figure.dataset.map;
  if (!url || !url.startsWith("/")) return;
  let world;
  let data;
  try {
    [world, data] = await Promise.all([getJson("/assets/world-110m.json"), getJson(url)]);
  } catch (e) {
    chartNote(figure, "chart.failed", e.message);
    return;
  }
  const sites = new Map();
  const list = (v) => (Array.isArray(v) ? v : []);
  for (const site of list(data?.sites)) {
    const lat = Number(site?.lat);
    const lon = Number(site?.lon);
    if (typeof site?.id !== "string" || !Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) continue;
    const [x, y] = project(lon, lat);
    sites.set(site.id, { ...site, name: String(site.name ?? site.id), x, y, symbol: siteClass(site.kind) });
  }
  if (sites.size === 0) {
    chartNote(figure, "chart.no_data");
    return;
  }
  const mirrored = rtl();
  // The view: every site, padded (more on the side labels go), at least
  // 40° wide, 2:1.
  const xs = [...sites.values()].map((p) => p.x);
  const ys = [...sites.values()].map((p) => p.y);
  const [before, beyond] = mirrored ? [30, 8] : [8, 30];
  let [x0, x1, y0, y1] = [Math.min(...xs) - before, Math.max(...xs) + beyond, Math.min(...ys) - 8, Math.max(...ys) + 8];
  let w = Math.max(x1 - x0, 40, (y1 - y0) * 2);
  let hgt = w / 2;
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  x0 = Math.max(0, Math.min(360 - w, cx - w / 2));
  y0 = Math.max(0, Math.min(180 - hgt, cy - hgt / 2));
  w = Math.min(w, 360);
  hgt = Math.min(hgt, 180);
  // Symbols and labels keep a readable size on screen, whatever the zoom.
  const unitsPerPixel = w / Math.max(figure.clientWidth || 0, 320);
  const r = Math.max(w / 110, 5 * unitsPerPixel);
  const fontSize = 12 * unitsPerPixel;
  const svg = s("svg", { class: "map-chart", viewBox: `${x0} ${y0} ${w} ${hgt}`, role: "img", "aria-label": t("map.title"), direction: "ltr", width: "100%" });
  svg.append(s("rect", { x: 0, y: 0, width: 360, height: 180, fill: "#e8f1f8" }));
  const countries = list(world?.countries);
  const land = s("g", { fill: "#f2efe6", stroke: "#9a9a9a", "stroke-width": 0.6, "vector-effect": "non-scaling-stroke", "data-countries": countries.length });
  for (const c of countries) {
    if (typeof c?.d !== "string" || c.d === "") continue;
    const path = s("path", { d: c.d, "vector-effect": "non-scaling-stroke" });
    path.append(s("title", {}, String(c.name ?? "")));
    land.append(path);
  }
  svg.append(land);
  const routes = s("g", { fill: "none", stroke: "#b2182b", "stroke-opacity": 0.75, "stroke-linejoin": "round", "stroke-linecap": "round" });
  for (const route of list(data?.routes)) {
    const stops = [route?.from, ...(Array.isArray(route?.via) ? route.via : []), route?.to].map((id) => sites.get(id));
    if (stops.some((p) => !p)) continue;
    const shipments = Math.max(1, Number(route.shipments) || 1);
    const path = s("path", {
      d: stops.map((p, i) => `${i === 0 ? "M" : "L"}${p.x} ${p.y}`).join(""),
      "stroke-width": 1.5 + Math.log2(shipments),
      "vector-effect": "non-scaling-stroke",
      "data-route": `${route.from} ${route.to}`,
    });
    path.append(s("title", {}, `${stops.map((p) => p.name).join(" \u2192 ")}: ${shipments} ${t("map.shipments")}`));
    routes.append(path);
  }
  svg.append(routes);
  const marks = s("g", {});
  const labels = s("g", { "font-size": fontSize, fill: "#111", stroke: "#fff", "stroke-width": 3 * unitsPerPixel, "stroke-linejoin": "round", "paint-order": "stroke" });
  // Labels are placed greedily (ports and plants first) beside, above or
  // below their symbol, inside the view; one that would overlap a placed
  // label or a symbol is left out
  // (the symbol's tooltip and the figure's list still name the site).
  const placed = [...sites.values()].map((p) => [p.x - r, p.y - r, p.x + r, p.y + r]);
  const priority = { port: 0, plant: 1, mine: 2, other: 3 };
  const ordered = [...sites.values()].sort((a, b) => priority[a.symbol] - priority[b.symbol] || a.name.localeCompare(b.name));
  for (const p of ordered) {
    const mark = symbol(p.symbol, p.x, p.y, r, { "data-site": p.id, "data-symbol": p.symbol, "stroke-dasharray": p.approximate ? "2 1" : null });
    mark.append(s("title", {}, `${p.name}${p.approximate ? ` (${t("map.approximate")})` : ""}`));
    marks.append(mark);
    const width = p.name.length * fontSize * 0.55;
    const side = mirrored ? -1 : 1;
    const candidates = [
      [p.x + side * 1.4 * r, p.y, mirrored ? "end" : "start"],
      [p.x, p.y - r - 0.7 * fontSize, "middle"],
      [p.x, p.y + r + 0.7 * fontSize, "middle"],
      [p.x - side * 1.4 * r, p.y, mirrored ? "start" : "end"],
    ];
    for (const [x, y, anchor] of candidates) {
      const left = anchor === "start" ? x : anchor === "end" ? x - width : x - width / 2;
      const box = [left, y - fontSize * 0.6, left + width, y + fontSize * 0.6];
      const inside = box[0] >= x0 && box[2] <= x0 + w && box[1] >= y0 && box[3] <= y0 + hgt;
      const clear = inside && placed.every((b) => box[2] < b[0] || box[0] > b[2] || box[3] < b[1] || box[1] > b[3]);
      if (!clear) continue;
      placed.push(box);
      labels.append(s("text", { x, y, "dominant-baseline": "middle", "text-anchor": anchor, "data-label": p.id }, p.name));
      break;
    }
  }
  svg.append(marks, labels);
  const key = legend([
    [symbol("mine", 9, 6, 5), t("map.mine")],
    [symbol("plant", 9, 6, 5), t("map.plant")],
    [symbol("port", 9, 6, 5), t("map.port")],
    [symbol("other", 9, 6, 5), t("map.other")],
    [s("line", { x1: 1, y1: 6, x2: 17, y2: 6, stroke: "#b2182b", "stroke-width": 2.5 }), t("map.route")],
  ]);
  const chart = h("div", { class: "chart map-drawn" }, svg, key);
  figure.querySelector(".chart")?.remove();
  figure.querySelector(".chart-note")?.remove();
  figure.prepend(chart);
  figure.dataset.chart = "drawn";
}

// ------------------------------------------------------------ start

function start() {
  for (const section of document.querySelectorAll("section.verify[data-verify-index]")) wireVerify(section);
  for (const section of document.querySelectorAll("section.clause-check[data-agreement]")) wireClause(section);
  // A chart that cannot be drawn says so and leaves the fallback in place.
  const failed = (figure) => (e) => chartNote(figure, "chart.failed", e instanceof Error ? e.message : String(e));
  for (const figure of document.querySelectorAll("figure.sankey[data-flows]")) drawSankey(figure).catch(failed(figure));
  for (const figure of document.querySelectorAll("figure.map[data-map]")) drawMap(figure).catch(failed(figure));
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
}

// The Sankey layout and the map's symbol choice of portal.js, as plain
// functions under Node (the drawing itself is tested in the browser by
// portal.test.mjs and pages.test.mjs).

import { test } from "node:test";
import assert from "node:assert/strict";

import { sankeyLayout, siteClass } from "../../crates/server/assets/portal.js";

const flows = {
  nodes: [
    { id: "site:a", label: "A", stage: "origin" },
    { id: "site:b", label: "B", stage: "origin" },
    { id: "site:p", label: "Plant", stage: "processing" },
    { id: "site:k", label: "Port", stage: "port" },
    { id: "country:US", label: "US", stage: "destination" },
    { id: "country:CN", label: "CN", stage: "destination" },
  ],
  links: [
    { source: "site:a", target: "site:p", kg: "30", illustrative: false },
    { source: "site:b", target: "site:p", kg: "10.5", illustrative: true },
    { source: "site:p", target: "site:k", kg: "40.5", illustrative: false },
    { source: "site:k", target: "country:US", kg: "25", illustrative: false },
    { source: "site:k", target: "country:CN", kg: "15.5", illustrative: false },
  ],
};

const close = (a, b) => Math.abs(a - b) < 1e-9;

test("node heights follow mass and ribbons fill each node exactly", () => {
  const layout = sankeyLayout(flows, { width: 800, height: 400 });
  assert.equal(layout.columns, 4);
  assert.equal(layout.links.length, 5);
  const scale = layout.nodes.find((n) => n.id === "site:p").height / 40.5;
  for (const n of layout.nodes) {
    assert.ok(close(n.height, n.value * scale), n.id);
    const out = n.out.reduce((sum, l) => sum + l.width, 0);
    const inflow = n.in.reduce((sum, l) => sum + l.width, 0);
    if (n.out.length) assert.ok(close(out, n.outflow * scale), `${n.id} out`);
    if (n.in.length) assert.ok(close(inflow, n.inflow * scale), `${n.id} in`);
    // Ribbons start and end within their node.
    for (const l of n.out) assert.ok(l.sy >= n.y - 1e-9 && l.sy + l.width <= n.y + n.height + 1e-9, `${n.id} → ${l.target.id}`);
    for (const l of n.in) assert.ok(l.ty >= n.y - 1e-9 && l.ty + l.width <= n.y + n.height + 1e-9, `${l.source.id} → ${n.id}`);
  }
  // Columns left to right by stage; nodes of one column do not overlap and fit the height.
  const x = (id) => layout.nodes.find((n) => n.id === id).x;
  assert.ok(x("site:a") < x("site:p") && x("site:p") < x("site:k") && x("site:k") < x("country:US"));
  for (const column of new Set(layout.nodes.map((n) => n.column))) {
    const nodes = layout.nodes.filter((n) => n.column === column).sort((a, b) => a.y - b.y);
    for (let i = 1; i < nodes.length; i++) assert.ok(nodes[i].y >= nodes[i - 1].y + nodes[i - 1].height, `column ${column}`);
    assert.ok(nodes[0].y >= -1e-9 && nodes.at(-1).y + nodes.at(-1).height <= 400 + 1e-9, `column ${column} fits`);
  }
});

test("links to unknown nodes, non-positive or unreadable masses and hostile shapes are left out", () => {
  const hostile = {
    nodes: [{ id: "site:a", stage: "origin", label: "<b>A</b>" }, { id: "site:a", stage: "port" }, null, 7, { id: "x", stage: "nonsense" }],
    links: [
      { source: "site:a", target: "nowhere", kg: "1" },
      { source: "site:a", target: "x", kg: "-3" },
      { source: "site:a", target: "x", kg: "abc" },
      { source: "site:a", target: "site:a", kg: "2" },
      { source: "site:a", target: "x", kg: "2.5" },
    ],
  };
  const layout = sankeyLayout(hostile);
  assert.equal(layout.links.length, 1);
  assert.equal(layout.nodes.find((n) => n.id === "site:a").label, "<b>A</b>");
  assert.equal(sankeyLayout({}), null);
  assert.equal(sankeyLayout({ nodes: "no", links: [] }), null);
  assert.equal(sankeyLayout({ nodes: 7, links: { length: 3 } }), null);
  assert.equal(sankeyLayout(null), null);
  assert.equal(sankeyLayout({ nodes: flows.nodes, links: [] }), null);
});

test("sites get a symbol by kind", () => {
  assert.equal(siteClass("mine"), "mine");
  assert.equal(siteClass("exploration-area"), "mine");
  for (const kind of ["concentrator", "refinery", "receiving-plant"]) assert.equal(siteClass(kind), "plant");
  assert.equal(siteClass("port"), "port");
  assert.equal(siteClass("laboratory"), "other");
  assert.equal(siteClass(undefined), "other");
});

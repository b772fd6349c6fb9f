// Builds crates/server/assets/world-110m.json, the country outlines the
// portal's map draws, from Natural Earth 1:110m (public domain) as npm
// `world-atlas` 2.0.2 (ISC) ships it in TopoJSON, with npm
// `topojson-client` (ISC). Both are pinned in scripts/package-lock.json.
//
//   (cd scripts && npm ci && node build-world.mjs)
//
// The output is committed, so neither a build nor the server needs npm.
// Each country becomes one SVG path in an equirectangular projection
// (x = longitude + 180, y = 90 - latitude, in degrees, one decimal), with
// its ISO 3166-1 numeric id and its Natural Earth name.

import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { feature } from "topojson-client";

const require = createRequire(import.meta.url);
const atlasDir = require.resolve("world-atlas/package.json").replace(/package\.json$/, "");
const atlasVersion = JSON.parse(readFileSync(`${atlasDir}package.json`, "utf8")).version;
const topology = JSON.parse(readFileSync(`${atlasDir}countries-110m.json`, "utf8"));
const out = fileURLToPath(new URL("../crates/server/assets/world-110m.json", import.meta.url));

const round = (v) => Math.round(v * 10) / 10;

/**
 * One ring as SVG path commands, dropping points that round onto the
 * previous one. A ring that crosses the antimeridian (Russia, Fiji) jumps
 * by about 360° in longitude: it is unwrapped into one continuous ring and
 * drawn twice, once on each side, so the map shows no line across the
 * world and the part beyond ±180° appears at the other edge.
 */
function ring(points) {
  const unwrapped = [];
  let shift = 0;
  for (const [i, [lon, lat]] of points.entries()) {
    if (i > 0) {
      const step = lon + shift - unwrapped[i - 1][0];
      if (step > 180) shift -= 360;
      else if (step < -180) shift += 360;
    }
    unwrapped.push([lon + shift, lat]);
  }
  const lons = unwrapped.map(([lon]) => lon);
  const copies = [0];
  if (Math.max(...lons) > 180) copies.push(-360);
  if (Math.min(...lons) < -180) copies.push(360);
  return copies.map((offset) => path(unwrapped.map(([lon, lat]) => [lon + offset, lat]))).join("");
}

function path(points) {
  let d = "";
  let last = null;
  for (const [lon, lat] of points) {
    const x = round(lon + 180);
    const y = round(90 - lat);
    const here = `${x} ${y}`;
    if (here === last) continue;
    d += (last === null ? "M" : "L") + here;
    last = here;
  }
  return d === "" ? "" : d + "Z";
}

const countries = feature(topology, topology.objects.countries).features.map((f) => {
  const polygons = f.geometry === null ? [] : f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.coordinates;
  const d = polygons.flatMap((polygon) => polygon.map(ring)).join("");
  return { id: f.id ?? "", name: f.properties.name, d };
});
countries.sort((a, b) => a.name.localeCompare(b.name, "en"));

const document = {
  source: `Natural Earth 1:110m cultural vectors (public domain), from npm world-atlas ${atlasVersion} (ISC), built by scripts/build-world.mjs`,
  projection: "equirectangular: x = longitude + 180, y = 90 - latitude (degrees)",
  width: 360,
  height: 180,
  countries,
};
writeFileSync(out, JSON.stringify(document) + "\n");
console.log(`wrote ${out}: ${countries.length} countries, ${JSON.stringify(document).length} bytes`);

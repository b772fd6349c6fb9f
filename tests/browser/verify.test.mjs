// The in-browser verifier (crates/server/assets/verify.js) under Node's
// own Web Crypto, run with `node --test tests/browser/`:
//  - every RFC 6962 inclusion vector of the project's conformance data
//    (shared/conformance/merkle/testdata/inclusion, from
//    transparency-dev/merkle), and a one-byte change to each happy path;
//  - inclusion proofs read from tiles of in-memory logs of many sizes,
//    against a tree hash computed here with node:crypto;
//  - a whole record verification over a fake server, and each tampering
//    failing at the step that names it;
//  - every case of docs/design/agreement-vectors.json, and a changed
//    text, salt, index, proof or root refused.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import {
  STEPS,
  TileHashReader,
  clauseCommitment,
  decodeEntryBundle,
  encodeTileIndex,
  fromBase64,
  fromHex,
  parseCheckpoint,
  parseSignedNote,
  parseVkey,
  rootFromInclusionProof,
  tilePath,
  toBase64,
  toHex,
  verifyClause,
  verifyInclusion,
  verifyNote,
  verifyRecord,
} from "../../crates/server/assets/verify.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The conformance data: $ORETRACE_CONFORMANCE_DIR, or shared/conformance beside the checkout. */
function conformance(sub) {
  const base = process.env.ORETRACE_CONFORMANCE_DIR || resolve(root, "../shared/conformance");
  const dir = join(base, sub);
  if (!existsSync(dir)) {
    throw new Error(
      `the conformance data ${dir} is missing (${process.env.ORETRACE_CONFORMANCE_DIR ? "ORETRACE_CONFORMANCE_DIR" : "shared/conformance beside the checkout"}): put the project's shared/conformance there or set ORETRACE_CONFORMANCE_DIR`,
    );
  }
  return dir;
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith(".json") ? [path] : [];
  });
}

// ------------------------------------------------------------ an independent tree, node:crypto

const sha = (...parts) => new Uint8Array(createHash("sha256").update(Buffer.concat(parts.map((p) => Buffer.from(p)))).digest());
const refLeaf = (entry) => sha([0], entry);
const refNode = (l, r) => sha([1], l, r);

/** MTH(D[lo:hi]) over leaf hashes, RFC 6962 §2.1, by recursion. */
function mth(leaves, lo = 0, hi = leaves.length) {
  const n = hi - lo;
  if (n === 1) return leaves[lo];
  let k = 1;
  while (k * 2 < n) k *= 2;
  return refNode(mth(leaves, lo, lo + k), mth(leaves, lo + k, hi));
}

/** PATH(m, D[lo:hi]), RFC 6962 §2.1.1. */
function refPath(m, leaves, lo = 0, hi = leaves.length) {
  const n = hi - lo;
  if (n <= 1) return [];
  let k = 1;
  while (k * 2 < n) k *= 2;
  if (m < k) return [...refPath(m, leaves, lo, lo + k), mth(leaves, lo + k, hi)];
  return [...refPath(m - k, leaves, lo + k, hi), mth(leaves, lo, lo + k)];
}

/** The tiles a C2SP tlog-tiles log of these entries serves, by path. */
function tilesOf(entries) {
  const leaves = entries.map(refLeaf);
  const size = leaves.length;
  const tiles = new Map();
  // Level L holds the complete subtrees of 256^L leaves: each the tree hash
  // of 256 complete subtrees of the level below.
  let hashes = leaves;
  for (let level = 0; hashes.length > 0; level++) {
    if (level > 0) {
      const below = hashes;
      hashes = [];
      for (let i = 0; (i + 1) * 256 <= below.length; i++) hashes.push(mth(below, i * 256, (i + 1) * 256));
    }
    for (let t = 0; t * 256 < hashes.length; t++) {
      const part = hashes.slice(t * 256, t * 256 + 256);
      tiles.set(tilePath(level, t, part.length), Buffer.concat(part.map((h) => Buffer.from(h))));
    }
  }
  for (let t = 0; t * 256 < size; t++) {
    const part = entries.slice(t * 256, t * 256 + 256);
    const bundle = Buffer.concat(part.flatMap((e) => [Buffer.from([e.length >> 8, e.length & 0xff]), Buffer.from(e)]));
    tiles.set(tilePath("entries", t, part.length), bundle);
  }
  return { leaves, tiles, root: mth(leaves) };
}

/** The eight entries of the RFC 6962 reference tree and the root of all eight. */
const REFERENCE_ENTRIES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map((h) => fromHex(h));
const REFERENCE_ROOT_8 = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";

// ------------------------------------------------------------ inclusion vectors

test("every RFC 6962 inclusion vector of the conformance data gives its expected outcome", async () => {
  const dir = conformance("merkle/testdata/inclusion");
  const files = walk(dir);
  assert.ok(files.length >= 90, `only ${files.length} inclusion vectors under ${dir}`);
  let happy = 0;
  for (const file of files) {
    const name = relative(dir, file);
    const v = JSON.parse(readFileSync(file, "utf8"));
    let verified;
    let proof;
    let leaf;
    let rootHash;
    try {
      leaf = fromBase64(v.leafHash);
      rootHash = fromBase64(v.root);
      proof = (v.proof ?? []).map((p) => fromBase64(p));
      verified = await verifyInclusion(v.leafIdx, v.treeSize, leaf, proof, rootHash);
    } catch {
      verified = false;
    }
    assert.equal(verified, !v.wantErr, `${name}: ${v.desc}`);
    if (!v.wantErr) {
      happy++;
      // A one-byte change to the leaf or to any proof hash is refused.
      const flipped = (bytes, at) => bytes.map((b, i) => (i === at ? b ^ 0x01 : b));
      assert.equal(await verifyInclusion(v.leafIdx, v.treeSize, flipped(leaf, 0), proof, rootHash), false, `${name}: changed leaf`);
      for (let i = 0; i < proof.length; i++) {
        const changed = proof.map((p, j) => (j === i ? flipped(p, 31) : p));
        assert.equal(await verifyInclusion(v.leafIdx, v.treeSize, leaf, changed, rootHash), false, `${name}: changed proof[${i}]`);
      }
    }
  }
  assert.ok(happy >= 5, `only ${happy} happy-path vectors`);
});

test("the root is computed with plain arithmetic past 2^32 leaves", async () => {
  // Leaf 2^32 + 1 of a tree of 2^32 + 2: its sibling, then the left 2^32 subtree.
  const leaf = new Uint8Array(32).fill(7);
  const sibling = new Uint8Array(32).fill(8);
  const left = new Uint8Array(32).fill(9);
  const got = await rootFromInclusionProof(2 ** 32 + 1, 2 ** 32 + 2, leaf, [sibling, left]);
  assert.deepEqual(got, refNode(left, refNode(sibling, leaf)));
});

// ------------------------------------------------------------ tiles

test("tile paths follow C2SP tlog-tiles", () => {
  assert.equal(encodeTileIndex(1234067), "x001/x234/067");
  assert.equal(tilePath(0, 0, 256), "tile/0/000");
  assert.equal(tilePath(1, 1000, 17), "tile/1/x001/000.p/17");
  assert.equal(tilePath("entries", 3, 232), "tile/entries/003.p/232");
});

test("entry bundles are split exactly, and refused when malformed", () => {
  const bundle = Uint8Array.of(0, 1, 0x41, 0, 0, 0, 2, 0x42, 0x43);
  assert.deepEqual(decodeEntryBundle(bundle, 3).map(toHex), ["41", "", "4243"]);
  assert.throws(() => decodeEntryBundle(bundle, 2), /after its 2 entries/);
  assert.throws(() => decodeEntryBundle(bundle, 4), /holds 3 entries/);
  assert.throws(() => decodeEntryBundle(bundle.slice(0, 8), 3), /truncated/);
});

test("inclusion proofs read from tiles are RFC 6962's, for logs of many sizes", async () => {
  const reference = tilesOf(REFERENCE_ENTRIES);
  assert.equal(toHex(reference.root), REFERENCE_ROOT_8);
  for (const size of [1, 2, 3, 5, 8, 255, 256, 257, 300, 511, 512, 513, 65536 + 300]) {
    const entries = Array.from({ length: size }, (_, i) => new TextEncoder().encode(`entry ${i}`));
    const log = tilesOf(entries);
    const indexes = [...new Set([0, 1, 2, 255, 256, 257, Math.floor(size / 2), 65535, 65536, size - 2, size - 1])].filter((i) => i >= 0 && i < size);
    for (const index of indexes) {
      const reader = new TileHashReader(size, async (path) => {
        const bytes = log.tiles.get(path);
        if (!bytes) throw new Error(`no tile ${path}`);
        return new Uint8Array(bytes);
      });
      const proof = await reader.inclusionProof(index);
      assert.deepEqual(proof.map(toHex), refPath(index, log.leaves).map(toHex), `size ${size}, index ${index}`);
      assert.deepEqual(await rootFromInclusionProof(index, size, log.leaves[index], proof), log.root, `size ${size}, index ${index}`);
    }
  }
});

// ------------------------------------------------------------ signed notes and a whole record

async function newKey(name) {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const keyId = sha(new TextEncoder().encode(name), [0x0a, 0x01], publicKey).slice(0, 4);
  return { name, pair, keyId, vkey: `${name}+${toHex(keyId)}+${toBase64(Uint8Array.of(1, ...publicKey))}` };
}

async function signNote(key, text) {
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key.pair.privateKey, new TextEncoder().encode(text)));
  return `${text}\n\u2014 ${key.name} ${toBase64(Uint8Array.of(...key.keyId, ...signature))}\n`;
}

test("vkeys are parsed and their key ids checked", async () => {
  const key = await newKey("example.org/log");
  const parsed = await parseVkey(key.vkey);
  assert.equal(parsed.name, "example.org/log");
  assert.equal(parsed.publicKey.length, 32);
  const [, name, id, b64] = /^([^+]+)\+([^+]+)\+(.*)$/.exec(key.vkey);
  const otherId = ((parseInt(id, 16) ^ 1) >>> 0).toString(16).padStart(8, "0");
  await assert.rejects(parseVkey(`${name}+${otherId}+${b64}`), /key id does not match/);
  await assert.rejects(parseVkey(`other+${id}+${b64}`), /key id does not match/);
  await assert.rejects(parseVkey(`${name}+${id}`), /three parts/);
  await assert.rejects(parseVkey(`${name}+${id}+${toBase64(new Uint8Array(33))}`), /not an Ed25519 key/);
});

test("a signed note verifies only unchanged and only by the pinned key", async () => {
  const key = await newKey("log.example");
  const other = await newKey("log.example");
  const note = await signNote(key, "log.example\n5\n" + toBase64(new Uint8Array(32)) + "\n");
  const vkey = await parseVkey(key.vkey);
  const parsed = await verifyNote(note, vkey);
  assert.deepEqual(parseCheckpoint(parsed.text), { origin: "log.example", size: 5, root: new Uint8Array(32) });
  await assert.rejects(verifyNote(note.replace("\n5\n", "\n6\n"), vkey), /does not verify/);
  await assert.rejects(verifyNote(note, await parseVkey(other.vkey)), /not signed by the pinned key|does not verify/);
  assert.throws(() => parseSignedNote(note.replace("\n\n", "\n")), /blank line/);
  assert.throws(() => parseCheckpoint("log\n05\n" + toBase64(new Uint8Array(32)) + "\n"), /canonical/);
});

/** A fake server of a log of `count` records, with hooks to tamper with what it answers. */
async function fakeServer(count, tamper = {}) {
  const key = await newKey("oretrace.example/test");
  const entries = Array.from({ length: count }, (_, i) => new TextEncoder().encode(`oretrace.record/v1\nkind test\nnumber ${i}\n\n\u2014 party sig${i}\n`));
  const log = tilesOf(entries);
  const checkpoint = await signNote(key, `oretrace.example/test\n${count}\n${toBase64(log.root)}\n`);
  const fetch = async (url) => {
    let body;
    const path = url.replace(/^https?:\/\/[^/]+/, "");
    if (path === "/checkpoint") body = Buffer.from(tamper.checkpoint ? tamper.checkpoint(checkpoint) : checkpoint);
    else if (path.startsWith("/tile/")) {
      body = log.tiles.get(path.slice(1));
      if (body && tamper.tile) body = tamper.tile(path.slice(1), Buffer.from(body));
    } else {
      const m = /^\/records\/(\d+)$/.exec(path);
      if (m && Number(m[1]) < count) {
        const entry = new TextDecoder().decode(entries[Number(m[1])]);
        body = Buffer.from(JSON.stringify({ index: Number(m[1]), kind: "test", entry: tamper.record ? tamper.record(entry) : entry }));
      }
    }
    if (!body) return new Response("not found", { status: 404 });
    return new Response(body, { status: 200 });
  };
  return { key, log, fetch };
}

const flipByte = (buffer, at) => {
  const copy = Buffer.from(buffer);
  copy[at] ^= 0x01;
  return copy;
};

async function run(server, index, extra = {}) {
  const steps = [];
  const result = await verifyRecord({ index, vkey: server.key.vkey, fetch: server.fetch, onStep: (s) => steps.push(s), ...extra });
  return { result, steps };
}

test("a record verifies through every step, for logs with one and several tile levels", async () => {
  for (const [count, indexes] of [
    [1, [0]],
    [54, [0, 17, 53]],
    [70000, [0, 300, 65536, 69999]],
  ]) {
    const server = await fakeServer(count);
    for (const index of indexes) {
      const { result, steps } = await run(server, index, { leafHash: toHex(server.log.leaves[index]) });
      assert.equal(result.ok, true, `${count}/${index}: ${result.message}`);
      assert.deepEqual(steps.map((s) => [s.step, s.ok]), STEPS.map((s) => [s, true]));
    }
  }
});

test("a one-byte change fails at the step that names it", async () => {
  const cases = [
    // What is changed, the index checked, the step it must fail at.
    ["a checkpoint byte (its origin)", { checkpoint: (note) => note.replace("oretrace.example/test\n", "oretrace.example/tesu\n") }, 5, "signature"],
    ["a checkpoint byte (its size)", { checkpoint: (note) => note.replace("\n300\n", "\n301\n") }, 5, "signature"],
    ["the checkpoint's signature", { checkpoint: (note) => note.replace(/ (\S)(\S+)\n$/, (_, c, rest) => ` ${c === "A" ? "B" : "A"}${rest}\n`) }, 5, "signature"],
    ["a byte of the level-0 hash tile", { tile: (path, bytes) => (path.startsWith("tile/0/") ? flipByte(bytes, 32 * 4) : bytes) }, 5, "root"],
    ["a byte of the level-1 hash tile", { tile: (path, bytes) => (path.startsWith("tile/1/") ? flipByte(bytes, 0) : bytes) }, 299, "root"],
    ["a truncated hash tile", { tile: (path, bytes) => (path.startsWith("tile/0/") ? bytes.subarray(1) : bytes) }, 5, "proof"],
    ["a byte of the entry in its bundle", { tile: (path, bytes) => (path.startsWith("tile/entries/") ? flipByte(bytes, bytes.length - 3) : bytes) }, 299, "entry"],
    ["a byte of the record's entry", { record: (entry) => entry.replace("number", "numbes") }, 5, "entry"],
  ];
  for (const [what, tamper, index, step] of cases) {
    const server = await fakeServer(300, tamper);
    const { result, steps } = await run(server, index);
    assert.equal(result.ok, false, what);
    assert.equal(result.step, step, `${what}: ${result.message}`);
    const failed = steps.at(-1);
    assert.deepEqual([failed.step, failed.ok], [step, false], what);
    assert.deepEqual(
      steps.slice(0, -1).map((s) => s.step),
      STEPS.slice(0, STEPS.indexOf(step)),
      `${what}: every earlier step passed`,
    );
  }
});

test("the pinned key, the stated leaf hash and the index are each checked", async () => {
  const server = await fakeServer(10);
  const stranger = await newKey("oretrace.example/test");
  const wrongKey = await verifyRecord({ index: 1, vkey: stranger.vkey, fetch: server.fetch });
  assert.deepEqual([wrongKey.ok, wrongKey.step], [false, "signature"]);
  const notAKey = await verifyRecord({ index: 1, vkey: "not a key", fetch: server.fetch });
  assert.deepEqual([notAKey.ok, notAKey.step], [false, "signature"]);
  const wrongLeaf = await run(server, 1, { leafHash: toHex(server.log.leaves[2]) });
  assert.deepEqual([wrongLeaf.result.ok, wrongLeaf.result.step], [false, "leaf"]);
  const beyond = await run(server, 10);
  assert.deepEqual([beyond.result.ok, beyond.result.step], [false, "checkpoint"]);
});

// ------------------------------------------------------------ sealed clauses

test("every agreement vector opens, and a changed text, salt, index, proof or root does not", async () => {
  const vectors = JSON.parse(readFileSync(join(root, "docs/design/agreement-vectors.json"), "utf8"));
  assert.ok(vectors.cases.length >= 3);
  let clauses = 0;
  for (const c of vectors.cases) {
    for (const clause of c.clauses) {
      clauses++;
      const name = `${c.name} clause ${clause.index}`;
      const commitment = await clauseCommitment(clause.index, fromHex(clause.salt), clause.text);
      assert.equal(toHex(commitment), clause.commitment, name);
      const good = { root: c.root, count: c.count, index: clause.index, salt: clause.salt, text: clause.text, proof: clause.proof };
      const ok = await verifyClause(good);
      assert.deepEqual([ok.ok, ok.commitment, ok.root], [true, clause.commitment, c.root], name);
      const flipHex = (hex, at) => hex.slice(0, at) + (hex[at] === "0" ? "1" : "0") + hex.slice(at + 1);
      const changed = [
        ["text", { text: clause.text + " " }],
        ["text byte", { text: clause.text === "" ? "x" : clause.text.slice(0, -1) + String.fromCharCode(clause.text.charCodeAt(clause.text.length - 1) ^ 1) }],
        ["salt", { salt: flipHex(clause.salt, 63) }],
        ["root", { root: flipHex(c.root, 0) }],
        ["index", { index: (clause.index + 1) % c.count }],
        ...clause.proof.map((p, i) => [`proof[${i}]`, { proof: clause.proof.map((q, j) => (j === i ? flipHex(q, 10) : q)) }]),
      ];
      for (const [what, change] of changed) {
        if (what === "index" && c.count === 1) continue;
        const bad = await verifyClause({ ...good, ...change });
        assert.equal(bad.ok, false, `${name}: changed ${what}`);
        assert.ok(bad.reason.length > 0, `${name}: changed ${what} says why`);
      }
    }
  }
  assert.ok(clauses >= 10, `only ${clauses} clauses`);
});

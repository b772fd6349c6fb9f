// oretrace in-browser verifier: checks that a log entry is in the
// transparency log under a checkpoint signed by the key the reader pinned,
// and that a revealed clause opens a sealed agreement's commitment.
//
// Trusts only the pinned log key (a C2SP vkey). The checkpoint, tiles,
// entry bundles and records come from the server and are believed only as
// far as they are checked against that key. Web Crypto only (Ed25519 and
// SHA-256 through crypto.subtle); no dependencies. See
// docs/design/portal-browser.md.
//
// Specifications: C2SP signed-note, tlog-checkpoint and tlog-tiles;
// RFC 6962 hashing (leaf 0x00, node 0x01); RFC 9162 §2.1.3 inclusion proofs;
// docs/design/agreements.md for the clause commitment (oretrace.clause/v1).

/** The steps of a record's verification, in order. */
export const STEPS = ["checkpoint", "signature", "entry", "leaf", "proof", "root"];

/** Tree levels per tile, and hashes (or entries) in a full tile. */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
/** Largest signed note read (as the Rust parser). */
export const MAX_NOTE_BYTES = 64 * 1024;
/** Largest clause, in bytes of UTF-8. */
export const MAX_CLAUSE_BYTES = 32 * 1024;

/** A failure, with the step it happened at. */
export class VerifyError extends Error {
  constructor(step, message) {
    super(message);
    this.name = "VerifyError";
    this.step = step;
  }
}

const encoder = new TextEncoder();

// ------------------------------------------------------------ bytes

function concat(parts) {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Lower-case hex of bytes. */
export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bytes of a hex string (even length, 0-9a-fA-F only), or an error. */
export function fromHex(text, what = "hex") {
  if (typeof text !== "string" || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new Error(`${what} is not hex`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Bytes of standard, padded base64, or an error. */
export function fromBase64(text, what = "base64") {
  if (typeof text !== "string" || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new Error(`${what} is not base64`);
  }
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

export function toBase64(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

// ------------------------------------------------------------ hashing

/** SHA-256 of the concatenation of `parts` (Uint8Arrays). */
export async function sha256(...parts) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(parts)));
}

/** RFC 6962 leaf hash: SHA-256(0x00 ‖ entry). */
export function leafHash(entry) {
  return sha256(Uint8Array.of(0), entry);
}

/** RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left, right) {
  return sha256(Uint8Array.of(1), left, right);
}

/**
 * RFC 9162 §2.1.3.2: the root that leaf hash `leaf` at `index` in a tree of
 * `size` leaves leads to by `proof` (hashes, leaf upwards). Throws when
 * the proof cannot be one for that index and size (wrong length, a hash
 * that is not 32 bytes, an index outside the tree).
 */
export async function rootFromInclusionProof(index, size, leaf, proof) {
  checkCount(index, "index");
  checkCount(size, "size");
  if (index >= size) throw new Error(`index ${index} is outside a tree of ${size}`);
  if (leaf.length !== 32) throw new Error(`the leaf hash is ${leaf.length} bytes, not 32`);
  // Plain arithmetic, not JavaScript's 32-bit bit operators.
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const [i, p] of proof.entries()) {
    if (p.length !== 32) throw new Error(`proof hash ${i} is ${p.length} bytes, not 32`);
    if (sn === 0) throw new Error(`the proof has ${proof.length} hashes, more than the path has`);
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error(`the proof has ${proof.length} hashes, fewer than the path needs`);
  return r;
}

/** Whether `proof` proves `leaf` at `index` in the tree of `size` with `root`. */
export async function verifyInclusion(index, size, leaf, proof, root) {
  if (root.length !== 32) throw new Error(`the root is ${root.length} bytes, not 32`);
  return equalBytes(await rootFromInclusionProof(index, size, leaf, proof), root);
}

function checkCount(n, what) {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${what} ${n} is not a count this verifier can handle`);
}

// ------------------------------------------------------------ signed notes

/**
 * Parses a vkey, `name+hex(key id)+base64(0x01 ‖ Ed25519 public key)`, and
 * checks that its key id is SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4].
 */
export async function parseVkey(text) {
  const line = String(text).trim();
  // The name holds no "+", the id is 8 hex digits; base64 may hold "+".
  const m = /^([^+]*)\+([^+]*)\+(.*)$/s.exec(line);
  if (!m) throw new Error("a vkey is name+keyid+key (three parts joined by +)");
  const [, name, id, key] = m;
  if (name === "" || /[\s\p{Cc}]/u.test(name)) throw new Error("the vkey's name is empty or has white space");
  if (!/^[0-9a-f]{8}$/.test(id)) throw new Error("the vkey's key id is not 8 lower-case hex digits");
  const typed = fromBase64(key, "the vkey's key");
  if (typed.length !== 33 || typed[0] !== 0x01) throw new Error("the vkey is not an Ed25519 key (type 0x01, 32 bytes)");
  const publicKey = typed.slice(1);
  const keyId = (await sha256(encoder.encode(name), Uint8Array.of(0x0a, 0x01), publicKey)).slice(0, 4);
  if (toHex(keyId) !== id) throw new Error("the vkey's key id does not match its name and key");
  return { text: line, name, keyId, publicKey };
}

/**
 * Splits a C2SP signed note into its text (which ends in a newline) and
 * its signature lines `— name base64(key id ‖ signature)`.
 */
export function parseSignedNote(note) {
  if (typeof note !== "string") throw new Error("the note is not text");
  if (encoder.encode(note).length > MAX_NOTE_BYTES) throw new Error("the note is over 64 KiB");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new Error("the note has no blank line before its signatures");
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (!block.endsWith("\n")) throw new Error("the note's signature block does not end in a newline");
  const signatures = [];
  for (const line of block.slice(0, -1).split("\n")) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) throw new Error("a signature line is not \u2014 name base64");
    const bytes = fromBase64(m[2], "a signature");
    if (bytes.length < 5) throw new Error("a signature is too short to hold a key id");
    signatures.push({ name: m[1], keyId: bytes.slice(0, 4), signature: bytes.slice(4) });
  }
  if (signatures.length === 0) throw new Error("the note has no signature");
  return { text, signatures };
}

/** Parses a checkpoint body: origin, size (canonical decimal), root (base64 of 32 bytes). */
export function parseCheckpoint(text) {
  const lines = text.split("\n");
  if (lines.length < 4 || lines[lines.length - 1] !== "") throw new Error("a checkpoint has an origin, a size and a root, each on a line");
  const [origin, size, root] = lines;
  if (origin === "") throw new Error("the checkpoint's origin is empty");
  if (!/^(0|[1-9][0-9]*)$/.test(size)) throw new Error("the checkpoint's size is not a canonical decimal");
  const n = Number(size);
  if (!Number.isSafeInteger(n)) throw new Error("the checkpoint's size is beyond what this verifier handles");
  const rootBytes = fromBase64(root, "the checkpoint's root");
  if (rootBytes.length !== 32) throw new Error("the checkpoint's root is not 32 bytes");
  return { origin, size: n, root: rootBytes };
}

/**
 * Verifies that the note carries a valid Ed25519 signature by the key of
 * `vkey` (from parseVkey) over its text. Throws naming what is wrong.
 */
export async function verifyNote(note, vkey) {
  const parsed = parseSignedNote(note);
  const mine = parsed.signatures.filter((s) => s.name === vkey.name && equalBytes(s.keyId, vkey.keyId));
  if (mine.length === 0) throw new Error(`the note is not signed by the pinned key ${vkey.name}+${toHex(vkey.keyId)}`);
  const key = await crypto.subtle.importKey("raw", vkey.publicKey, { name: "Ed25519" }, false, ["verify"]);
  for (const s of mine) {
    if (s.signature.length === 64 && (await crypto.subtle.verify({ name: "Ed25519" }, key, s.signature, encoder.encode(parsed.text)))) {
      return parsed;
    }
  }
  throw new Error(`the signature by ${vkey.name}+${toHex(vkey.keyId)} does not verify: the checkpoint is not the one the key signed`);
}

// ------------------------------------------------------------ tiles

/** `1234067` → `x001/x234/067`. */
export function encodeTileIndex(n) {
  let out = String(n % 1000).padStart(3, "0");
  n = Math.floor(n / 1000);
  while (n > 0) {
    out = `x${String(n % 1000).padStart(3, "0")}/${out}`;
    n = Math.floor(n / 1000);
  }
  return out;
}

/** The path of a tile: `level` a tile level or "entries". */
export function tilePath(level, index, width) {
  const path = `tile/${level}/${encodeTileIndex(index)}`;
  return width === TILE_WIDTH ? path : `${path}.p/${width}`;
}

/** The width of tile `index` at tile level `level` in a tree of `size` (0 if none). */
export function tileWidth(size, level, index) {
  const hashes = Math.floor(size / TILE_WIDTH ** level);
  return Math.max(0, Math.min(TILE_WIDTH, hashes - index * TILE_WIDTH));
}

/** Splits an entry bundle (big-endian u16 length, then bytes) into exactly `width` entries. */
export function decodeEntryBundle(bytes, width) {
  const entries = [];
  let at = 0;
  while (at < bytes.length) {
    if (entries.length === width) throw new Error(`the entry bundle has ${bytes.length - at} bytes after its ${width} entries`);
    if (at + 2 > bytes.length) throw new Error(`entry ${entries.length} of the bundle has a truncated length`);
    const len = (bytes[at] << 8) | bytes[at + 1];
    if (at + 2 + len > bytes.length) throw new Error(`entry ${entries.length} of the bundle is truncated`);
    entries.push(bytes.slice(at + 2, at + 2 + len));
    at += 2 + len;
  }
  if (entries.length !== width) throw new Error(`the entry bundle holds ${entries.length} entries, not ${width}`);
  return entries;
}

/**
 * Reads the hashes of a tree of `size` leaves from its hash tiles.
 * `fetchTile(path)` returns the tile's bytes; each tile is fetched once.
 */
export class TileHashReader {
  constructor(size, fetchTile) {
    this.size = size;
    this.fetchTile = fetchTile;
    this.tiles = new Map();
    this.fetched = [];
  }

  async tile(level, index) {
    const width = tileWidth(this.size, level, index);
    if (width === 0) throw new Error(`a tree of ${this.size} has no tile ${index} at level ${level}`);
    const path = tilePath(level, index, width);
    if (!this.tiles.has(path)) {
      this.tiles.set(
        path,
        (async () => {
          const bytes = await this.fetchTile(path);
          if (bytes.length !== width * 32) {
            throw new Error(`${path} is ${bytes.length} bytes, not ${width * 32} (${width} hashes)`);
          }
          this.fetched.push(path);
          return bytes;
        })(),
      );
    }
    return { width, bytes: await this.tiles.get(path) };
  }

  /** The hash of the complete subtree at tree level `level`, number `index`. */
  async node(level, index) {
    const tileLevel = Math.floor(level / TILE_HEIGHT);
    const below = level - tileLevel * TILE_HEIGHT;
    const count = 2 ** below;
    const first = index * count; // first stored hash under it, at tree level 8·tileLevel
    const tileIndex = Math.floor(first / TILE_WIDTH);
    const offset = first - tileIndex * TILE_WIDTH;
    const { width, bytes } = await this.tile(tileLevel, tileIndex);
    if (offset + count > width) throw new Error(`node ${level}/${index} is not complete in a tree of ${this.size}`);
    let hashes = [];
    for (let i = 0; i < count; i++) hashes.push(bytes.slice((offset + i) * 32, (offset + i + 1) * 32));
    while (hashes.length > 1) {
      const up = [];
      for (let i = 0; i < hashes.length; i += 2) up.push(await nodeHash(hashes[i], hashes[i + 1]));
      hashes = up;
    }
    return hashes[0];
  }

  /** MTH(D[start:end]) for a range whose start is aligned as RFC 6962's split leaves it. */
  async range(start, end) {
    const parts = [];
    while (start < end) {
      let level = 0;
      while (start % 2 ** (level + 1) === 0 && start + 2 ** (level + 1) <= end) level++;
      parts.push(await this.node(level, start / 2 ** level));
      start += 2 ** level;
    }
    let h = parts.pop();
    while (parts.length > 0) h = await nodeHash(parts.pop(), h);
    return h;
  }

  /** The RFC 9162 inclusion proof of leaf `index` (PATH(m, D[n])), leaf upwards. */
  async inclusionProof(index) {
    const path = async (m, start, end) => {
      const n = end - start;
      if (n <= 1) return [];
      let k = 1;
      while (k * 2 < n) k *= 2;
      if (m < k) return [...(await path(m, start, start + k)), await this.range(start + k, end)];
      return [...(await path(m - k, start + k, end)), await this.range(start, start + k)];
    };
    if (index >= this.size) throw new Error(`index ${index} is outside a tree of ${this.size}`);
    return path(index, 0, this.size);
  }
}

// ------------------------------------------------------------ a record

async function getBytes(fetchFn, url) {
  const response = await fetchFn(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function getJson(fetchFn, url) {
  const response = await fetchFn(url, { headers: { Accept: "application/json" }, cache: "no-store" });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.json();
}

/**
 * Verifies that log entry `index` is in the log whose checkpoint the pinned
 * key `vkey` (text) signed. Reports each step through `onStep({step, ok,
 * detail})` as it finishes; stops at the first failure. Resolves to
 * `{ok: true, checkpoint, leaf, proof}` or `{ok: false, step, message}`;
 * never rejects.
 *
 * Options: `base` (the server's URL, "" for the page's own), `fetch`
 * (defaults to the global one), `leafHash` (hex the page states, checked
 * if given).
 */
export async function verifyRecord({ index, vkey, base = "", fetch: fetchFn = globalThis.fetch, onStep = () => {}, leafHash: statedLeaf = "" }) {
  let step = "checkpoint";
  const done = (detail) => onStep({ step, ok: true, detail });
  try {
    if (!Number.isSafeInteger(index) || index < 0) throw new Error(`${index} is not a log index`);
    const response = await fetchFn(`${base}/checkpoint`, { cache: "no-store" });
    if (!response.ok) throw new Error(`GET /checkpoint answered ${response.status}`);
    const note = await response.text();
    const { text } = parseSignedNote(note);
    const checkpoint = parseCheckpoint(text);
    if (index >= checkpoint.size) throw new Error(`entry ${index} is not covered by the checkpoint (size ${checkpoint.size})`);
    done(`${checkpoint.origin}, size ${checkpoint.size}`);

    step = "signature";
    const key = await parseVkey(vkey);
    await verifyNote(note, key);
    done(`Ed25519 by ${key.name}+${toHex(key.keyId)}`);

    step = "entry";
    const bundleIndex = Math.floor(index / TILE_WIDTH);
    const width = tileWidth(checkpoint.size, 0, bundleIndex);
    const bundlePath = tilePath("entries", bundleIndex, width);
    const entries = decodeEntryBundle(await getBytes(fetchFn, `${base}/${bundlePath}`), width);
    const entry = entries[index - bundleIndex * TILE_WIDTH];
    const record = await getJson(fetchFn, `${base}/records/${index}`);
    if (typeof record.entry !== "string" || !equalBytes(encoder.encode(record.entry), entry)) {
      throw new Error(`entry ${index} in ${bundlePath} is not the record /records/${index} shows`);
    }
    done(`${entry.length} bytes from ${bundlePath}, the ${record.kind ?? "record"} shown`);

    step = "leaf";
    const leaf = await leafHash(entry);
    if (statedLeaf && statedLeaf.toLowerCase() !== toHex(leaf)) {
      throw new Error(`the leaf hash is ${toHex(leaf)}, not ${statedLeaf} as the page states`);
    }
    done(toHex(leaf));

    step = "proof";
    const reader = new TileHashReader(checkpoint.size, (path) => getBytes(fetchFn, `${base}/${path}`));
    const proof = await reader.inclusionProof(index);
    done(`${proof.length} hashes from ${reader.fetched.join(", ") || "no tile (a tree of one)"}`);

    step = "root";
    const root = await rootFromInclusionProof(index, checkpoint.size, leaf, proof);
    if (!equalBytes(root, checkpoint.root)) {
      throw new Error(`the proof leads to root ${toBase64(root)}, the signed checkpoint has ${toBase64(checkpoint.root)}`);
    }
    done(`${toBase64(root)} = the signed root of ${checkpoint.size} entries`);
    return { ok: true, checkpoint, leaf, proof, fields: recordFields(new TextDecoder("utf-8", { fatal: true }).decode(entry)) };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    onStep({ step, ok: false, detail: message });
    return { ok: false, step, message };
  }
}

/**
 * The `key value` lines of a log entry's record (the signed note's text,
 * before the blank line and the signatures), in order: what a verified
 * entry says, read from its own bytes rather than from any JSON.
 */
export function recordFields(entryText) {
  const body = entryText.split("\n\n")[0];
  const lines = body.split("\n");
  if (lines[0] !== "oretrace.record/v1") return [];
  return lines.slice(1).map((line) => {
    const space = line.indexOf(" ");
    return space < 0 ? [line, ""] : [line.slice(0, space), line.slice(space + 1)];
  });
}

/** The first value of `key` in verified record fields, or null. */
export function field(fields, key) {
  const found = fields.find(([k]) => k === key);
  return found ? found[1] : null;
}

// ------------------------------------------------------------ sealed clauses

/** c_i = SHA-256("oretrace.clause/v1" ‖ 0x00 ‖ u32be(i) ‖ salt ‖ text). */
export function clauseCommitment(index, salt, text) {
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) throw new Error(`clause ${index} is not a clause index`);
  if (salt.length !== 32) throw new Error(`the salt is ${salt.length} bytes, not 32`);
  const i = Uint8Array.of(index >>> 24, (index >>> 16) & 0xff, (index >>> 8) & 0xff, index & 0xff);
  return sha256(encoder.encode("oretrace.clause/v1"), Uint8Array.of(0), i, salt, encoder.encode(text));
}

/**
 * Checks that `text` with `salt` (hex) is clause `index` of the text sealed
 * under `root` (hex) with `count` clauses, by `proof` (hex hashes), as
 * `oretrace agreement verify` does. Resolves to `{ok, commitment, root,
 * reason}`; `reason` says why a clause does not open.
 */
export async function verifyClause({ root, count, index, salt, text, proof }) {
  try {
    const sealed = fromHex(root, "the sealed root");
    if (sealed.length !== 32) throw new Error("the sealed root is not 32 bytes");
    if (!Number.isSafeInteger(count) || count < 1) throw new Error(`${count} is not a clause count`);
    if (!Number.isSafeInteger(index) || index < 0 || index >= count) {
      throw new Error(`clause ${index} is not a clause of a text of ${count} clauses`);
    }
    if (encoder.encode(text).length > MAX_CLAUSE_BYTES) throw new Error(`clause ${index} is over ${MAX_CLAUSE_BYTES} bytes`);
    const commitment = await clauseCommitment(index, fromHex(salt, "the salt"), text);
    const path = proof.map((h, i) => fromHex(h, `proof hash ${i}`));
    const computed = await rootFromInclusionProof(index, count, await leafHash(commitment), path);
    if (!equalBytes(computed, sealed)) {
      return {
        ok: false,
        commitment: toHex(commitment),
        root: toHex(computed),
        reason: `its text, salt and proof lead to root ${toHex(computed)} but the sealed root is ${root}`,
      };
    }
    return { ok: true, commitment: toHex(commitment), root: toHex(computed) };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * The clause check of a page: reads version `version` of agreement `id`
 * (its sealed root and count), clause `clause`'s revealed text and salt,
 * and the proof in the disclosure record that revealed it, then
 * verifyClause. Reports steps ("sealed", "revealed", "commitment") through
 * `onStep`; resolves to `{ok, …}` and never rejects.
 */
export async function checkClause({ id, version, clause, vkey, base = "", fetch: fetchFn = globalThis.fetch, onStep = () => {} }) {
  let step = "sealed";
  // Every figure the check uses is read from log entries whose inclusion
  // under the pinned key was verified first, never from the server's JSON
  // (which only says where to look, and must agree).
  const verified = async (index, what) => {
    const result = await verifyRecord({ index, vkey, base, fetch: fetchFn });
    if (!result.ok) throw new Error(`${what} (log entry ${index}) is not proved in the log: ${result.step}: ${result.message}`);
    return result.fields;
  };
  try {
    const v = await getJson(fetchFn, `${base}/agreements/${encodeURIComponent(id)}/versions/${version}`);
    if (!Number.isSafeInteger(v?.index)) throw new Error(`agreement ${id} version ${version} names no log entry`);
    const agreement = await verified(v.index, `agreement ${id} version ${version}`);
    if (field(agreement, "kind") !== "agreement" || field(agreement, "id") !== id || field(agreement, "version") !== String(version)) {
      throw new Error(`log entry ${v.index} is not agreement ${id} version ${version}`);
    }
    const terms = (field(agreement, "terms") ?? "").split(" ");
    if (terms[0] !== "sealed" || terms.length < 3) throw new Error(`agreement ${id} version ${version} is not sealed`);
    const sealed = { root: terms[1], count: Number(terms[2]) };
    onStep({ step, ok: true, detail: `root ${sealed.root}, ${sealed.count} clauses (log entry ${v.index}, proved)` });

    step = "revealed";
    let revealed = null;
    let page = `${base}/agreements/${encodeURIComponent(id)}/versions/${version}/clauses`;
    for (let pages = 0; pages < 1000 && page && !revealed; pages++) {
      const list = await getJson(fetchFn, page);
      revealed = (list.clauses ?? []).find((c) => c.clause === clause) ?? null;
      page = list.nextPageToken
        ? `${base}/agreements/${encodeURIComponent(id)}/versions/${version}/clauses?nextPageToken=${encodeURIComponent(list.nextPageToken)}`
        : null;
    }
    if (!revealed || !Number.isSafeInteger(revealed.index)) throw new Error(`clause ${clause} has not been revealed`);
    const disclosure = await verified(revealed.index, `the disclosure of clause ${clause}`);
    if (field(disclosure, "kind") !== "disclosure" || field(disclosure, "agreement") !== id || field(disclosure, "version") !== String(version)) {
      throw new Error(`log entry ${revealed.index} is not a disclosure of agreement ${id} version ${version}`);
    }
    let opened = null;
    for (const [key, value] of disclosure) {
      if (key === "clause") {
        if (opened) break;
        const [index, salt, ...rest] = value.split(" ");
        if (Number(index) === clause) opened = { salt, text: JSON.parse(rest.join(" ")), proof: [] };
      } else if (key === "proof" && opened) {
        opened.proof.push(value);
      } else if (opened) {
        break;
      }
    }
    if (!opened) throw new Error(`log entry ${revealed.index} does not reveal clause ${clause}`);
    if (opened.salt !== revealed.salt || opened.text !== revealed.text) {
      throw new Error(`the clause the server lists differs from the one log entry ${revealed.index} reveals`);
    }
    onStep({ step, ok: true, detail: `revealed in log entry ${revealed.index} (proved)` });

    step = "commitment";
    const result = await verifyClause({ root: sealed.root, count: sealed.count, index: clause, salt: opened.salt, text: opened.text, proof: opened.proof });
    if (!result.ok) throw new Error(result.reason);
    onStep({ step, ok: true, detail: `commitment ${result.commitment} opens root ${result.root}` });
    return { ok: true, ...result, text: opened.text };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    onStep({ step, ok: false, detail: message });
    return { ok: false, step, message };
  }
}

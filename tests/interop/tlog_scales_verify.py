#!/usr/bin/env python3
"""Independent verifier for C2SP tlog-tiles logs, built on the `tlog-scales`
PyPI package (pinned in requirements.txt).

Usage: python tlog_scales_verify.py <folder-or-http-url> <vkey>

<vkey> is a C2SP signed-note verifier key "name+hexkeyid+base64(type||pubkey)"
(type 0x01 = Ed25519); the checkpoint origin must equal the key name.

Everything cryptographic (checkpoint parsing, note signature verification,
key-ID derivation, tile path encoding, tile/bundle parsing, RFC 6962 tree
hashing, inclusion and consistency proof construction and checking) is done
by tlog-scales. This file only adds glue: choosing which tiles to fetch,
strict "exact width" checks and the loops over all tiles/entries.

Exit status: 0 = verified, 1 = verification failure, 2 = usage error.
"""

import sys
from pathlib import Path

from tlog_scales import backend as ts_backend
from tlog_scales import tiles as ts_tiles
from tlog_scales.reader import Tile, TilesReader
from tlog_scales.signing import Vkey
from tlog_scales.tlog import Checkpoint
from tlog_scales.utils import b64enc


class VerificationError(Exception):
    pass


def fail(msg: str) -> None:
    raise VerificationError(msg)


class CappedReader(TilesReader):
    """TilesReader that may only take subtree hashes from tiles of level <= cap.

    tlog-scales' TilesReader.mth() picks every aligned subtree hash from the
    highest tile level that stores it. Capping the level forces the tree root
    to be recomputed (by tlog-scales' own mth()) from all hashes of level
    `cap`; doing so for every cap 0..top proves that every hash on every
    level is consistent with the signed root.
    """

    def __init__(self, backend, cap: int):
        super().__init__(backend)
        self.cap = cap

    def mth_in_tile(self, start: int, end: int):
        coord = TilesReader.mth_in_tile(start, end)
        if coord is not None and coord[0] > self.cap:
            return None
        return coord


def make_backend(location: str):
    if location.startswith(("http://", "https://", "file://")):
        return ts_backend.make_backend(location)
    # tlog-scales only accepts '/...' or './...'; resolve other relative paths.
    p = Path(location).resolve()
    if not p.is_dir():
        raise SystemExit(f"usage error: {location} is not a directory")
    return ts_backend.make_backend(str(p))


def fetch(be, path: list[str]) -> bytes:
    data = be.get(*path)
    if data is None:
        fail(f"missing {'/'.join(path)}")
    return data


def tile_width(size: int, level: int, n: int) -> int:
    """Number of entries tile n of `level` must have for a tree of `size`."""
    full, partial = ts_tiles.level_tiles(size, level)
    if n < full:
        return 256
    assert n == full and partial > 0
    return partial


def tile_count(size: int, level: int) -> int:
    full, partial = ts_tiles.level_tiles(size, level)
    return full + (1 if partial else 0)


def path_for(size: int, level: int, n: int) -> list[str]:
    w = tile_width(size, level, n)
    return ts_tiles.tile_path(level, n, 0 if w == 256 else w)


def pick_indices(size: int) -> list[int]:
    cand = {0, 1, 255, 256, 257, size // 3, size // 2, 65535, 65536, size - 2, size - 1}
    return sorted(i for i in cand if 0 <= i < size)


def verify(location: str, vkey_str: str) -> str:
    be = make_backend(location)

    # --- key -------------------------------------------------------------
    try:
        vkey = Vkey.from_string(vkey_str)
    except Exception as e:
        raise SystemExit(f"usage error: cannot parse vkey: {e}")
    if vkey.sig_type != 1:
        fail(f"vkey signature type {vkey.sig_type} is not Ed25519 (0x01)")
    derived = Vkey(vkey.name, None, vkey.sig_type, vkey.pubkey)
    if derived.key_id != vkey.key_id:
        fail(f"vkey key ID {vkey.key_id:08x} != derived {derived.key_id:08x}")

    # --- checkpoint --------------------------------------------------------
    reader = TilesReader(be)
    raw_cp = fetch(be, ["checkpoint"])
    try:
        cp = reader.get_checkpoint()
    except Exception as e:
        fail(f"cannot parse checkpoint: {e!r}")
    if cp.origin != vkey.name:
        fail(f"checkpoint origin {cp.origin!r} != vkey name {vkey.name!r}")
    if raw_cp.decode() != cp.serialize():
        fail("checkpoint is not in canonical form (tlog-scales re-serialization differs)")
    try:
        cp.verify(vkey)
    except Exception as e:
        fail(f"checkpoint signature does not verify: {e!r}")
    size, root = cp.size, cp.root_hash

    # --- strict tile shape checks (glue) ----------------------------------
    levels = []
    level = 0
    while ts_tiles.level_entries(size, level) > 0:
        levels.append(level)
        level += 1
    n_tiles = 0
    for level in levels:
        for n in range(tile_count(size, level)):
            w = tile_width(size, level, n)
            p = path_for(size, level, n)
            data = fetch(be, p)
            if len(data) != 32 * w:
                fail(f"{'/'.join(p)}: {len(data)} bytes, expected {32 * w}")
            n_tiles += 1

    # --- root from every level via tlog-scales' mth() ----------------------
    if size == 0:
        levels_checked = [0]
    else:
        levels_checked = levels
    for cap in levels_checked:
        r = CappedReader(be, cap)
        r.set_size(size)
        try:
            got = r.calculate_root_hash()
        except Exception as e:
            fail(f"root recomputation from level {cap} failed: {e!r}")
        if got != root:
            fail(f"root recomputed from level-{cap} tiles {b64enc(got)} != checkpoint root {b64enc(root)}")
    got = reader.calculate_root_hash()  # tlog-scales default (highest tiles)
    if got != root:
        fail(f"root from tiles {b64enc(got)} != checkpoint root {b64enc(root)}")

    # --- every entry bundle vs level-0 hashes ------------------------------
    entries_checked = 0
    for n in range(tile_count(size, 0)):
        w = tile_width(size, 0, n)
        bp = ts_tiles.tile_path(-1, n, 0 if w == 256 else w)
        try:
            bundle = Tile.from_entries_bytes(fetch(be, bp))
        except VerificationError:
            raise
        except Exception as e:
            fail(f"{'/'.join(bp)}: cannot parse entry bundle: {e!r}")
        if bundle.length != w:
            fail(f"{'/'.join(bp)}: {bundle.length} entries, expected {w}")
        hashes = Tile.from_hash_bytes(fetch(be, path_for(size, 0, n)))
        for i in range(w):
            if ts_tiles.leaf_hash(bundle[i]) != hashes[i]:
                fail(f"entry {n * 256 + i}: leaf hash does not match tile/0 hash")
            entries_checked += 1

    # --- inclusion proofs via tlog-scales (reader.get_entry + proofs) ------
    incl = 0
    for idx in pick_indices(size):
        try:
            leaf = reader.get_entry(idx)
            proof = reader.get_inclusion_proof(idx, size)
            proof.check(ts_tiles.leaf_hash(leaf), root)
        except Exception as e:
            fail(f"inclusion proof for index {idx} failed: {e!r}")
        incl += 1

    # --- consistency proofs old -> size ------------------------------------
    cons = 0
    for old in sorted({1, 2, 255, 256, 1000, size // 2, size - 1, size}):
        if not 0 < old <= size:
            continue
        try:
            old_root = reader.mth(0, old)
            reader.get_consistency_proof(old, size).check(old_root, root)
        except Exception as e:
            fail(f"consistency proof {old} -> {size} failed: {e!r}")
        cons += 1

    return (f"OK origin={cp.origin} size={size} root={b64enc(root)} "
            f"entries_checked={entries_checked} tiles={n_tiles} levels={len(levels)} "
            f"inclusion_proofs={incl} consistency_proofs={cons}")


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: python tlog_scales_verify.py <folder-or-http-url> <vkey>", file=sys.stderr)
        return 2
    try:
        print(verify(sys.argv[1], sys.argv[2]))
        return 0
    except VerificationError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # anything unexpected is a failure too
        print(f"FAIL: unexpected error: {e!r}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

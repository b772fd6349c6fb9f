#!/usr/bin/env python3
"""Write a C2SP tlog-tiles log with the `tlog-scales` PyPI package.

Usage: python tlog_scales_write.py <out-folder> <n-entries> [batch-size]

Creates <out-folder> (must not exist, or be an empty directory) containing
checkpoint, tile/<L>/<N>[.p/<W>] and tile/entries/<N>[.p/<W>], with entries
b"entry 0", b"entry 1", ... and origin example.com/tlog-scales-test.
The checkpoint is signed with a fresh Ed25519 key by tlog-scales'
PlainEd25519Signer (which uses the `cryptography` package); the verifier key
(vkey) is printed as the only line on stdout.

With batch-size, entries are committed in batches of that size (exercising
tlog-scales' incremental partial-tile extension); default: one commit.
"""

import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tlog_scales.signing import PlainEd25519Signer
from tlog_scales.writer import TilesWriter

ORIGIN = "example.com/tlog-scales-test"


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print("usage: python tlog_scales_write.py <out-folder> <n-entries> [batch-size]", file=sys.stderr)
        return 2
    out = Path(sys.argv[1]).resolve()
    n = int(sys.argv[2])
    batch = int(sys.argv[3]) if len(sys.argv) == 4 else max(n, 1)
    if n < 0 or batch < 1:
        print("n-entries must be >= 0 and batch-size >= 1", file=sys.stderr)
        return 2
    if out.exists():
        if not out.is_dir() or any(out.iterdir()):
            print(f"{out} exists and is not an empty directory", file=sys.stderr)
            return 2
        out.rmdir()  # TilesWriter.create() insists on creating the directory

    signer = PlainEd25519Signer(ORIGIN, Ed25519PrivateKey.generate())
    writer = TilesWriter.create(out, ORIGIN)
    pending = 0
    for i in range(n):
        writer.add_leaf(b"entry %d" % i)
        pending += 1
        if pending == batch:
            writer.commit([signer])
            pending = 0
    if pending or n == 0:
        writer.commit([signer])

    print(signer.vkey.serialize())
    return 0


if __name__ == "__main__":
    sys.exit(main())

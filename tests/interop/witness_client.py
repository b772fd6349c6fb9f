#!/usr/bin/env python3
"""A tlog-witness v1 client written from the C2SP texts (tlog-witness,
tlog-cosignature, tlog-checkpoint, signed-note, RFC 6962 §2.1), with
`requests` only for HTTP. The log it submits is written by the PyPI
`tlog-scales` tool (TilesWriter, PlainEd25519Signer), and the witness's
cosignatures are checked with tlog-scales' own Ed25519CosignatureVerifier.

Usage:
  witness_client.py keygen DIR           write a log key in DIR; print its vkey
  witness_client.py drive DIR URL VKEY   write a tlog-scales log in DIR/log and
                                         drive URL/add-checkpoint through every
                                         status code; VKEY is the witness's

Exit 0 when every answer is the spec's; 1 naming the first that is not.
"""

import base64
import hashlib
import os
import sys
from pathlib import Path

import requests
from tlog_scales import signing, tlog, writer

ORIGIN = "interop.example/tlog-scales-log"


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


# RFC 6962 §2.1: MTH and the consistency proof SUBPROOF, from the leaves.
def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def mth(leaves: list) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def subproof(m: int, leaves: list, b: bool) -> list:
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def proof(m: int, leaves: list) -> list:
    return subproof(m, leaves, True)


def body(old: int, hashes: list, checkpoint: str) -> bytes:
    lines = [f"old {old}\n"] + [b64(h) + "\n" for h in hashes] + ["\n"]
    return ("".join(lines) + checkpoint).encode()


def signer(d: Path) -> signing.PlainEd25519Signer:
    return signing.PlainEd25519Signer(ORIGIN, (d / "log.seed").read_bytes())


def keygen(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    (d / "log.seed").write_bytes(os.urandom(32))
    print(signer(d).vkey.serialize())


def fail(what: str) -> None:
    print(f"FAIL: {what}")
    sys.exit(1)


def expect(resp, status: int, what: str) -> None:
    if resp.status_code != status:
        fail(f"{what}: expected {status}, got {resp.status_code}: {resp.text!r}")
    print(f"ok {status} {what}")


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "keygen":
        keygen(Path(sys.argv[2]))
        return
    if len(sys.argv) != 5 or sys.argv[1] != "drive":
        print(__doc__)
        sys.exit(2)
    d, url, witness_vkey = Path(sys.argv[2]), sys.argv[3].rstrip("/"), sys.argv[4]
    log_signer = signer(d)
    verifier = signing.Vkey.from_string(witness_vkey).get_verifier()
    s = requests.Session()
    add = f"{url}/add-checkpoint"

    # A log written by tlog-scales, committed at sizes 5, 12 and 300.
    w = writer.TilesWriter.create(d / "log", ORIGIN)
    leaves = []
    checkpoints = {}
    for size in (5, 12, 300):
        while len(leaves) < size:
            leaf = f"leaf {len(leaves)}".encode()
            w.add_leaf(leaf)
            leaves.append(leaf)
        w.commit([log_signer])
        text = (d / "log" / "checkpoint").read_text()
        cp = tlog.Checkpoint.from_text(text)
        if cp.size != size or cp.root_hash != mth(leaves):
            fail(f"tlog-scales' checkpoint at {size} is not the RFC 6962 root")
        checkpoints[size] = text

    def cosigned(resp, size: int) -> None:
        lines = resp.text.splitlines()
        if not lines or not all(l.startswith("\u2014 ") for l in lines):
            fail(f"the 200 body is not note signature lines: {resp.text!r}")
        cp = tlog.Checkpoint.from_text(checkpoints[size])
        vk = signing.Vkey.from_string(witness_vkey)
        mine = [signing.NoteSignature.from_line(l) for l in lines]
        mine = [n for n in mine if vk.match(n)]
        if not mine:
            fail("no cosignature by the witness's key")
        for n in mine:
            verifier.verify_note(n, cp)  # raises if it does not verify
            ts = signing.Ed25519CosignatureVerifier.get_timestamp(n.payload)
            if ts == 0:
                fail("a zero timestamp")
        print(f"ok cosignature on size {size} verified by tlog-scales")

    # 409 then 200: first contact at size 5 from old 0.
    r = s.post(add, data=body(0, [], checkpoints[5]))
    expect(r, 200, "first checkpoint, old 0")
    cosigned(r, 5)
    # 409: an old size the witness does not hold, with its size as text/x.tlog.size.
    r = s.post(add, data=body(0, [], checkpoints[12]))
    expect(r, 409, "old 0 when the witness holds 5")
    if r.headers.get("Content-Type") != "text/x.tlog.size" or r.text != "5\n":
        fail(f"409 answer {r.headers.get('Content-Type')!r} {r.text!r}")
    # 422: a consistency proof that does not verify.
    bad = proof(5, leaves[:12])
    bad[0] = hashlib.sha256(b"not it").digest()
    expect(s.post(add, data=body(5, bad, checkpoints[12])), 422, "a wrong consistency proof")
    # 200 with a consistency proof, twice over.
    r = s.post(add, data=body(5, proof(5, leaves[:12]), checkpoints[12]))
    expect(r, 200, "5 -> 12 with a proof")
    cosigned(r, 12)
    r = s.post(add, data=body(12, proof(12, leaves[:300]), checkpoints[300]))
    expect(r, 200, "12 -> 300 with a proof")
    cosigned(r, 300)
    # 400: malformed bodies, an old size above the checkpoint's, 64 proof lines.
    expect(s.post(add, data=b"old 012\n\n" + checkpoints[300].encode()), 400, "leading zero")
    expect(s.post(add, data=b"garbage"), 400, "no empty line")
    expect(s.post(add, data=body(301, [], checkpoints[300])), 400, "old size above the size")
    expect(
        s.post(add, data=body(300, [hashlib.sha256(b"x").digest()] * 64, checkpoints[300])),
        400,
        "64 proof lines",
    )
    # 403: the same origin signed by another key.
    other = signing.PlainEd25519Signer(ORIGIN, os.urandom(32))
    cp = tlog.Checkpoint.make_signed(ORIGIN, 300, mth(leaves), [other])
    expect(s.post(add, data=body(300, [], cp.serialize())), 403, "an untrusted signature")
    # 404: an origin the witness does not know.
    stranger = signing.PlainEd25519Signer("unknown.example/log", os.urandom(32))
    cp = tlog.Checkpoint.make_signed("unknown.example/log", 300, mth(leaves), [stranger])
    expect(s.post(add, data=body(0, [], cp.serialize())), 404, "an unknown origin")
    # 422: the same size with another root (a fork).
    forked = [b"forked"] + leaves[1:]
    cp = tlog.Checkpoint.make_signed(ORIGIN, 300, mth(forked), [log_signer])
    expect(s.post(add, data=body(300, [], cp.serialize())), 422, "a fork at the size held")
    # The monitoring URL: the latest cosigned checkpoint.
    origin_hash = hashlib.sha256(ORIGIN.encode()).hexdigest()
    r = s.get(f"{url}/{origin_hash}/checkpoint")
    expect(r, 200, "the monitoring checkpoint")
    cp = tlog.Checkpoint.from_text(r.text)
    if cp.size != 300:
        fail(f"the monitoring checkpoint is at {cp.size}, not 300")
    cp.verify(log_signer.vkey)
    cp.verify(signing.Vkey.from_string(witness_vkey))
    print("ok monitoring checkpoint verified by tlog-scales (log and witness)")
    print("all answers as the spec says")


if __name__ == "__main__":
    main()

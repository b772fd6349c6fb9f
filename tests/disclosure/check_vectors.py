"""Independent check of oretrace's sealed-clause vectors, from the document
alone (docs/design/agreements.md, "Sealing: the commitment format"), using
only hashlib: recomputes every clause commitment, the RFC 6962 root over
them, and verifies every inclusion proof (RFC 9162 section 2.1.3.2).

usage: python3 check_vectors.py VECTORS.json   (exit 0: all hold)
       python3 check_vectors.py --reveal REVEAL.json ROOT COUNT
         (a reveal file, a disclosure record, or GET /records/{index} of one:
          exit 0 if every revealed clause opens ROOT, a tree of COUNT clauses)
"""
import hashlib, json, sys


def sha256(b):
    return hashlib.sha256(b).digest()


def commitment(index, salt, text):
    return sha256(b"oretrace.clause/v1\x00" + index.to_bytes(4, "big") + salt + text.encode("utf-8"))


def mth(leaves):  # RFC 6962 section 2.1, over leaf hashes
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def root_from_proof(index, size, leaf, proof):  # RFC 9162 2.1.3.2
    if index >= size:
        raise ValueError("index beyond size")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ValueError("proof too long")
        if fn % 2 == 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = sha256(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("proof too short")
    return r


def check(doc):
    problems = []
    for case in doc["cases"]:
        leaves = []
        for c in case["clauses"]:
            got = commitment(c["index"], bytes.fromhex(c["salt"]), c["text"])
            if got.hex() != c["commitment"]:
                problems.append(f"{case['name']}: clause {c['index']} commitment differs")
            leaves.append(sha256(b"\x00" + got))
        root = mth(leaves)
        if root.hex() != case["root"] or len(leaves) != case["count"]:
            problems.append(f"{case['name']}: root or count differs")
        for c in case["clauses"]:
            proof = [bytes.fromhex(p) for p in c["proof"]]
            try:
                r = root_from_proof(c["index"], case["count"], leaves[c["index"]], proof)
            except ValueError as e:
                problems.append(f"{case['name']}: clause {c['index']}: {e}")
                continue
            if r.hex() != case["root"]:
                problems.append(f"{case['name']}: clause {c['index']} proof gives another root")
    return problems


def check_reveal(doc, root, count):
    problems = []
    for c in doc.get("record", doc)["clauses"]:
        leaf = sha256(b"\x00" + commitment(c["index"], bytes.fromhex(c["salt"]), c["text"]))
        try:
            r = root_from_proof(c["index"], count, leaf, [bytes.fromhex(p) for p in c["proof"]])
        except ValueError:
            r = None
        if r is None or r.hex() != root:
            problems.append(f"clause {c['index']} does not open root {root}")
    return problems


if __name__ == "__main__":
    reveal = sys.argv[1] == "--reveal"
    with open(sys.argv[2 if reveal else 1], encoding="utf-8") as f:
        doc = json.load(f)
    problems = check_reveal(doc, sys.argv[3], int(sys.argv[4])) if reveal else check(doc)
    for p in problems:
        print(p)
    print("ok" if not problems else f"{len(problems)} problems")
    sys.exit(1 if problems else 0)

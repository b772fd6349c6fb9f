"""Canonicalizes JSON texts with the PyPI `rfc8785` package (RFC 8785).

Reads one JSON text per line on standard input and writes, per line, the
package's canonical bytes, or `ERROR <why>` if it refuses the value. JSON
integers outside +-(2^53 - 1) are read as doubles first, as I-JSON
(RFC 7493 section 2.2) and RFC 8785's number model have them; the package
itself refuses such integers rather than round them.
"""

import json
import sys

import rfc8785

SAFE = 2**53 - 1


def parse_int(text):
    value = int(text)
    return value if -SAFE <= value <= SAFE else float(text)


def main():
    out = sys.stdout.buffer
    for line in sys.stdin.buffer.read().decode("utf-8").split("\n"):
        if not line:
            continue
        try:
            value = json.loads(line, parse_int=parse_int)
            out.write(rfc8785.dumps(value))
        except Exception as error:  # reported, compared by the caller
            out.write(f"ERROR {type(error).__name__}: {error}".encode("utf-8"))
        out.write(b"\n")


if __name__ == "__main__":
    main()

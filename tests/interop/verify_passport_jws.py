"""Verifies a lot passport's compact JWS with PyPI jwcrypto, independently
of oretrace: the key named by the header's kid in the issuer's JWK set,
EdDSA only. Prints the protected header and the credential's subject id as
JSON; exits 1 (with jwcrypto's error) when the JWS does not verify.

    python verify_passport_jws.py JWKS_FILE PASSPORT_FILE
"""

import json
import sys

from jwcrypto import jwk, jws


def main() -> int:
    keys = jwk.JWKSet.from_json(open(sys.argv[1], encoding="utf-8").read())
    token = open(sys.argv[2], encoding="utf-8").read().strip()
    signed = jws.JWS()
    try:
        signed.deserialize(token)
        header = signed.jose_header
        key = keys.get_key(header.get("kid"))
        if key is None:
            print(f"no key {header.get('kid')!r} in the JWK set", file=sys.stderr)
            return 1
        signed.verify(key, alg="EdDSA")
    except Exception as e:  # jwcrypto raises several kinds
        print(f"jwcrypto: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    credential = json.loads(signed.payload)
    print(json.dumps({"header": header, "subject": credential["credentialSubject"]["id"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

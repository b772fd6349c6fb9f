"""Checks a subscription delivery's GS1-Signature with PyPI jwcrypto,
independently of oretrace: a compact JWS with a detached, unencoded payload
(RFC 7515 Appendix F, RFC 7797 b64 false), EdDSA, the key named by the
header's kid in the issuer's JWK set, over the body bytes as sent.

    python verify_detached_jws.py JWKS_FILE JWS_FILE PAYLOAD_FILE
        prints the protected header as JSON; exits 1 (with jwcrypto's
        error) when the JWS does not verify or is not detached and
        unencoded.
    python verify_detached_jws.py --sign PRIVATE_JWK_FILE HEADER_FILE PAYLOAD_FILE
        prints jwcrypto's detached unencoded JWS of the payload under the
        protected header in HEADER_FILE (JSON), with alg EdDSA, the key's
        RFC 7638 thumbprint as kid, b64 false and crit ["b64"] set.
    python verify_detached_jws.py --hmac TOKEN_FILE JTI PAYLOAD_FILE
        prints sha256=<hex HMAC-SHA256(token, jti LF payload)> by the
        standard library's hmac.
"""

import hashlib
import hmac
import json
import sys

from jwcrypto import jwk, jws


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def verify(jwks_file: str, jws_file: str, payload_file: str) -> int:
    keys = jwk.JWKSet.from_json(read(jwks_file).decode("utf-8"))
    token = read(jws_file).decode("utf-8").strip()
    payload = read(payload_file)
    signed = jws.JWS()
    try:
        header_b64, middle, _ = token.split(".")
        if middle:
            print("the payload part is not empty: not detached", file=sys.stderr)
            return 1
        signed.deserialize(token)
        header = signed.jose_header
        if header.get("b64") is not False or header.get("crit") != ["b64"]:
            print(f"not an unencoded payload (b64 false, crit [b64]): {header}", file=sys.stderr)
            return 1
        key = keys.get_key(header.get("kid"))
        if key is None:
            print(f"no key {header.get('kid')!r} in the JWK set", file=sys.stderr)
            return 1
        signed.verify(key, alg="EdDSA", detached_payload=payload)
    except Exception as e:  # jwcrypto raises several kinds
        print(f"jwcrypto: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(header, sort_keys=True))
    return 0


def sign(private_jwk_file: str, header_file: str, payload_file: str) -> int:
    key = jwk.JWK.from_json(read(private_jwk_file).decode("utf-8"))
    protected = json.loads(read(header_file))
    protected.update(alg="EdDSA", kid=key.thumbprint(), b64=False, crit=["b64"])
    signed = jws.JWS(read(payload_file))
    signed.add_signature(key, protected=json.dumps(protected))
    signed.detach_payload()
    print(signed.serialize(compact=True))
    return 0


def delivery_hmac(token_file: str, jti: str, payload_file: str) -> int:
    message = jti.encode("utf-8") + b"\n" + read(payload_file)
    print("sha256=" + hmac.new(read(token_file), message, hashlib.sha256).hexdigest())
    return 0


def main() -> int:
    args = sys.argv[1:]
    if len(args) == 4 and args[0] == "--sign":
        return sign(*args[1:])
    if len(args) == 4 and args[0] == "--hmac":
        return delivery_hmac(*args[1:])
    if len(args) == 3:
        return verify(*args)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Independent JWS signer for crates/oidc/tests/interop.rs, written from RFC 7515/7518 with Python's
`cryptography` package (pinned in scripts/test-requirements.txt), sharing no code with the crate.

Generates an RSA 2048 and a P-256 key, signs one RS256 and one ES256 token with claims valid at the Unix time
given as the first argument, and prints {"jwks": ..., "rs256": token, "es256": token} as JSON on stdout.
"""
import base64
import json
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def uint(n: int, length: int = 0) -> bytes:
    length = max(length, (n.bit_length() + 7) // 8)
    return n.to_bytes(length, "big")


def compact(header: dict, claims: dict, sign) -> str:
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    return signing_input + "." + b64url(sign(signing_input.encode("ascii")))


def main() -> None:
    now = int(sys.argv[1])
    issuer, audience = sys.argv[2], sys.argv[3]
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_pub = rsa_key.public_key().public_numbers()
    ec_pub = ec_key.public_key().public_numbers()
    jwks = {
        "keys": [
            {"kty": "RSA", "kid": "py-rsa", "use": "sig", "alg": "RS256", "n": b64url(uint(rsa_pub.n)), "e": b64url(uint(rsa_pub.e))},
            {"kty": "EC", "kid": "py-ec", "use": "sig", "crv": "P-256", "x": b64url(uint(ec_pub.x, 32)), "y": b64url(uint(ec_pub.y, 32))},
        ]
    }

    def rs256(data: bytes) -> bytes:
        return rsa_key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def es256(data: bytes) -> bytes:
        # JWS wants r || s, each 32 bytes big-endian (RFC 7518 §3.4), not the DER that cryptography returns.
        r, s = decode_dss_signature(ec_key.sign(data, ec.ECDSA(hashes.SHA256())))
        return uint(r, 32) + uint(s, 32)

    def claims(name: str) -> dict:
        return {"iss": issuer, "aud": audience, "sub": name, "exp": now + 300, "iat": now, "jti": name, "aciClr": "SECRET"}

    print(json.dumps({
        "jwks": jwks,
        "rs256": compact({"alg": "RS256", "typ": "JWT", "kid": "py-rsa"}, claims("py-rs256"), rs256),
        "es256": compact({"alg": "ES256", "typ": "JWT", "kid": "py-ec"}, claims("py-es256"), es256),
    }))


if __name__ == "__main__":
    main()

"""An independent ZTDF verifier written with the `cryptography` package only, from the spec digest: unwraps
every split (RSA-OAEP-SHA1, or ECDH + HKDF-SHA256(salt=SHA-256("TDF")) + AES-GCM), XORs the shares, checks each
policy binding (hex form), every segment hash (GMAC or HS256), the root signature, every HS256 assertion binding
(JCS hash + JWS + assertionSig), decrypts the segments and compares the plaintext digest.

usage: verify_ztdf.py TDF EXPECTED_SHA256 PRIVATE_KEY.pem [PRIVATE_KEY.pem ...]
"""
import base64
import hashlib
import hmac
import json
import sys
import zipfile

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def fail(msg: str) -> None:
    print(msg, file=sys.stderr)
    sys.exit(1)


def unwrap(kao, key):
    wrapped = base64.b64decode(kao["wrappedKey"])
    if kao["type"] == "wrapped" and isinstance(key, rsa.RSAPrivateKey):
        return key.decrypt(wrapped, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None))
    if kao["type"] == "ec-wrapped" and isinstance(key, ec.EllipticCurvePrivateKey):
        eph = serialization.load_pem_public_key(kao["ephemeralPublicKey"].encode())
        if eph.curve.name != key.curve.name:
            return None
        z = key.exchange(ec.ECDH(), eph)
        salt = hashlib.sha256(b"TDF").digest()
        wrap_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"").derive(z)
        return AESGCM(wrap_key).decrypt(wrapped[:12], wrapped[12:], None)
    return None


def b64url(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def main() -> int:
    tdf_path, expected = sys.argv[1:3]
    keys = [serialization.load_pem_private_key(open(p, "rb").read(), password=None) for p in sys.argv[3:]]
    with zipfile.ZipFile(tdf_path) as z:
        manifest = json.loads(z.read("0.manifest.json"))
        payload = z.read(manifest["payload"]["url"])
    ei = manifest["encryptionInformation"]
    policy = ei["policy"]

    # Key splitting: one share per distinct sid; alternatives within a sid.
    shares = {}
    for kao in ei["keyAccess"]:
        sid = kao.get("sid") or ""
        if sid in shares:
            continue
        for key in keys:
            try:
                share = unwrap(kao, key)
            except Exception:
                share = None
            if share is None:
                continue
            binding = base64.b64decode(kao["policyBinding"]["hash"]).decode()
            want = hmac.new(share, policy.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(binding, want):
                fail(f"policy binding of {kao['url']} does not verify")
            shares[sid] = share
            break
    sids = {(k.get("sid") or "") for k in ei["keyAccess"]}
    if set(shares) != sids:
        fail(f"could not unwrap splits {sorted(sids - set(shares))}")
    dek = bytes(32)
    for s in shares.values():
        dek = bytes(a ^ b for a, b in zip(dek, s))

    ii = ei["integrityInformation"]
    if ii["encryptedSegmentSizeDefault"] != ii["segmentSizeDefault"] + 28:
        fail("default segment sizes are inconsistent")
    alg = ii["segmentHashAlg"]
    aead = AESGCM(dek)
    aggregate = b""
    plain = b""
    off = 0
    for i, seg in enumerate(ii["segments"]):
        stored = payload[off : off + seg["encryptedSegmentSize"]]
        off += seg["encryptedSegmentSize"]
        h = stored[-16:] if alg == "GMAC" else hmac.new(dek, stored, hashlib.sha256).digest()
        if base64.b64decode(seg["hash"]) != h:
            fail(f"segment {i} hash does not verify")
        aggregate += h
        plain += aead.decrypt(stored[:12], stored[12:], None)
    if off != len(payload):
        fail("payload size does not match the segments")
    root = base64.b64encode(hmac.new(dek, aggregate, hashlib.sha256).digest()).decode()
    if ii["rootSignature"]["alg"] != "HS256" or root != ii["rootSignature"]["sig"]:
        fail("root signature does not verify")

    for a in manifest.get("assertions", []):
        body = {k: v for k, v in a.items() if k != "binding"}
        # JCS: with string-only values, sorted keys and compact separators are RFC 8785.
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        ahash = hashlib.sha256(canonical).hexdigest()
        head, claims_b64, sig = a["binding"]["signature"].split(".")
        header = json.loads(b64url(head))
        if header["alg"] != "HS256":
            continue  # RS256/ES256 need the signer's public key: checked by the Rust tests
        mac = hmac.new(dek, f"{head}.{claims_b64}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(mac, b64url(sig)):
            fail(f"assertion {a['id']}: JWS does not verify")
        claims = json.loads(b64url(claims_b64))
        if claims["assertionHash"] != ahash:
            fail(f"assertion {a['id']}: hash mismatch")
        if claims["assertionSig"] != base64.b64encode(aggregate + bytes.fromhex(ahash)).decode():
            fail(f"assertion {a['id']}: not bound to this payload")

    digest = hashlib.sha256(plain).hexdigest()
    if digest != expected:
        fail(f"plaintext digest {digest} != {expected}")
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

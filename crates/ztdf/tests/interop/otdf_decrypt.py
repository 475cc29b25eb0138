"""Decrypts a ZTDF written by redoubt with the otdf-python SDK (local unwrap with the KAS private key).

usage: otdf_decrypt.py TDF PRIVATE_KEY.pem EXPECTED_SHA256
Exits 0 and prints `ok` when the plaintext digest matches; non-zero otherwise (including when the package is
missing: the test must fail, not skip).
"""
import hashlib
import sys

from otdf_python.tdf import TDF, TDFReaderConfig


def main() -> int:
    tdf_path, key_path, expected = sys.argv[1:4]
    with open(key_path) as f:
        key = f.read()
    with open(tdf_path, "rb") as f:
        data = f.read()
    reader = TDF().load_tdf(data, TDFReaderConfig(kas_private_key=key))
    digest = hashlib.sha256(reader.payload).hexdigest()
    if digest != expected:
        print(f"plaintext digest {digest} != {expected}", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Decodes ST 0601 packets with the independent `klvdata` package (PyPI) and prints them as JSON.

Usage: klvdata_decode.py FILE...  ->  {"FILE": [{"items": [{"tag": 2, "kind": "time_us", "value": ...}, ...]}]}
Kinds: float (linear-mapped value), time_us (microseconds since 1970), text, bytes (hex), set (nested items).
Used by crates/fmv/tests/interop.rs; klvdata decodes one-byte tags only, so tags >= 128 are out of scope.
"""
import datetime
import json
import sys

import klvdata
from klvdata.elementparser import BytesValue, DateTimeValue, MappedValue, StringValue

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def item(key, element):
    tag = key[0]
    if hasattr(element, "items"):
        return {"tag": tag, "kind": "set", "items": [item(k, v) for k, v in element.items.items()]}
    value = element.value
    if isinstance(value, MappedValue):
        return {"tag": tag, "kind": "float", "value": float(value.value)}
    if isinstance(value, DateTimeValue):
        return {"tag": tag, "kind": "time_us", "value": (value.value - EPOCH) // datetime.timedelta(microseconds=1)}
    if isinstance(value, StringValue):
        return {"tag": tag, "kind": "text", "value": value.value}
    if isinstance(value, BytesValue):
        return {"tag": tag, "kind": "bytes", "value": bytes(value).hex().upper()}
    return {"tag": tag, "kind": "bytes", "value": bytes(value).hex().upper()}


def main():
    out = {}
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            data = f.read()
        out[path] = [{"items": [item(k, v) for k, v in packet.items.items()]} for packet in klvdata.StreamParser(data)]
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()

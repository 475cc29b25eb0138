#!/usr/bin/env python3
"""Black-box S3 tests against a running Redoubt node, with boto3 (the AWS SDK a user would run).

Usage: s3_suite.py ENV.json TEST_NAME
ENV.json (written by crates/cli/tests/s3_api.rs): {"endpoint", "ca", "data_dir", "identities": {name: {...}},
"labels": {name: compact-json or base64 xml}}. Each test prints what it checked; any failure raises, exits 1.
"""

import base64
import hashlib
import json
import os
import ssl
import sys
import urllib.request
import urllib.error

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENV = json.load(open(sys.argv[1])) if sys.argv[1] != "-" else {}
MIB = 1024 * 1024


def client(identity, **cfg):
    ident = ENV["identities"][identity]
    return boto3.client(
        "s3",
        endpoint_url=ENV["endpoint"],
        aws_access_key_id=ident["access_key_id"],
        aws_secret_access_key=ident["secret_access_key"],
        region_name="us-east-1",
        verify=ENV["ca"],
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1}, **cfg),
    )


def label(name):
    return ENV["labels"][name]


def code_of(fn):
    """Runs fn, expecting a ClientError; returns (code, http status, message)."""
    try:
        fn()
    except ClientError as e:
        err = e.response.get("Error", {})
        return err.get("Code"), e.response["ResponseMetadata"]["HTTPStatusCode"], err.get("Message", "")
    raise AssertionError("expected an S3 error, the call succeeded")


def expect(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def body(n, seed=b"redoubt"):
    out = bytearray()
    block = hashlib.sha256(seed).digest()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


def fresh_bucket(s3, name):
    s3.create_bucket(Bucket=name)
    return name


def put(s3, bucket, key, data, lab="conf_fra", **kw):
    meta = kw.pop("Metadata", {})
    meta["redoubt-label"] = label(lab)
    return s3.put_object(Bucket=bucket, Key=key, Body=data, Metadata=meta, **kw)


# --- item 1: buckets ------------------------------------------------------------------------------------------

def test_buckets():
    s3 = client("writer")
    s3.create_bucket(Bucket="alpha")
    s3.create_bucket(Bucket="bravo")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    expect(names == ["alpha", "bravo"], f"list_buckets shows both buckets in order: {names}")
    s3.head_bucket(Bucket="alpha")
    c, status, _ = code_of(lambda: s3.head_bucket(Bucket="charlie"))
    expect(status == 404, f"head of a missing bucket is 404 ({c})")
    c, _, _ = code_of(lambda: s3.create_bucket(Bucket="alpha"))
    expect(c in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"), f"creating it again is refused ({c})")
    put(s3, "alpha", "k", b"x")
    c, status, _ = code_of(lambda: s3.delete_bucket(Bucket="alpha"))
    expect(c == "BucketNotEmpty" and status == 409, f"a non-empty bucket is not deleted ({c})")
    s3.delete_object(Bucket="alpha", Key="k")
    s3.delete_bucket(Bucket="alpha")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    expect(names == ["bravo"], "the empty bucket is deleted")
    c, _, _ = code_of(lambda: s3.create_bucket(Bucket="admin"))
    expect(c == "InvalidBucketName", "a bucket name shadowing a node route is refused")


# --- item 1: objects, metadata, ETags ---------------------------------------------------------------------------

def test_objects():
    s3 = client("writer")
    fresh_bucket(s3, "objects")
    data = body(300_000)
    r = put(s3, "objects", "dir/report.bin", data, Metadata={"mission": "atlas"}, ContentType="application/x-test")
    md5 = hashlib.md5(data).hexdigest()
    expect(r["ETag"] == f'"{md5}"', "the ETag of a single PUT is the MD5 of the plaintext")
    g = s3.get_object(Bucket="objects", Key="dir/report.bin")
    got = g["Body"].read()
    expect(got == data, "GET returns the bytes written")
    expect(g["ETag"] == f'"{md5}"' and g["ContentType"] == "application/x-test", "GET has the ETag and content type")
    expect(g["Metadata"].get("mission") == "atlas", "user metadata round-trips")
    h = s3.head_object(Bucket="objects", Key="dir/report.bin")
    expect(h["ContentLength"] == len(data), "HEAD gives the plaintext length")
    expect("NATO" in h["Metadata"].get("redoubt-marking", ""), f"HEAD shows the marking: {h['Metadata'].get('redoubt-marking')}")
    expect(h["Metadata"].get("redoubt-label", "").startswith("{"), "HEAD shows the label (compact JSON)")
    put(s3, "objects", "dir/report.bin", b"second version")
    expect(s3.get_object(Bucket="objects", Key="dir/report.bin")["Body"].read() == b"second version", "a PUT replaces")
    put(s3, "objects", "empty", b"")
    expect(s3.get_object(Bucket="objects", Key="empty")["Body"].read() == b"", "an empty object round-trips")
    s3.delete_object(Bucket="objects", Key="dir/report.bin")
    c, status, _ = code_of(lambda: s3.get_object(Bucket="objects", Key="dir/report.bin"))
    expect(c == "NoSuchKey" and status == 404, "a deleted object is gone")
    s3.delete_object(Bucket="objects", Key="never-existed")
    print("ok: deleting a missing key succeeds (S3 semantics)")
    c, _, _ = code_of(lambda: s3.put_object(Bucket="nobucket", Key="k", Body=b"x", Metadata={"redoubt-label": label("conf_fra")}))
    expect(c == "NoSuchBucket", "a PUT into a missing bucket is NoSuchBucket")


def test_ranges():
    s3 = client("writer")
    fresh_bucket(s3, "ranges")
    data = body(3 * MIB + 12345)
    put(s3, "ranges", "big", data)
    cases = [
        ("bytes=0-9", data[0:10]),
        ("bytes=1048570-1048600", data[1048570:1048601]),  # across a segment boundary
        ("bytes=2097150-3145730", data[2097150:3145731]),  # three segments
        ("bytes=-100", data[-100:]),
        (f"bytes={len(data) - 5}-", data[-5:]),
        ("bytes=100-99999999999", data[100:]),
    ]
    for rng, want in cases:
        g = s3.get_object(Bucket="ranges", Key="big", Range=rng)
        got = g["Body"].read()
        expect(got == want, f"range {rng} returns the right {len(want)} bytes")
        expect(g["ContentRange"].endswith(f"/{len(data)}"), f"range {rng} has Content-Range {g['ContentRange']}")
    c, status, _ = code_of(lambda: s3.get_object(Bucket="ranges", Key="big", Range=f"bytes={len(data) + 10}-"))
    expect(status == 416, f"a range past the end is 416 ({c})")


def test_list_v2():
    s3 = client("writer")
    fresh_bucket(s3, "listing")
    keys = sorted(
        [f"a/{i:02d}" for i in range(8)] + [f"b/c/{i}" for i in range(5)] + ["b/x", "top1", "top2", "zz/last"]
    )
    for k in keys:
        put(s3, "listing", k, k.encode())
    all_keys = []
    token = None
    pages = 0
    while True:
        kw = {"ContinuationToken": token} if token else {}
        r = s3.list_objects_v2(Bucket="listing", MaxKeys=4, **kw)
        pages += 1
        all_keys += [o["Key"] for o in r.get("Contents", [])]
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    expect(all_keys == keys, f"paging by 4 lists every key once, in order ({pages} pages)")
    r = s3.list_objects_v2(Bucket="listing", Delimiter="/")
    prefixes = [p["Prefix"] for p in r.get("CommonPrefixes", [])]
    top = [o["Key"] for o in r.get("Contents", [])]
    expect(prefixes == ["a/", "b/", "zz/"] and top == ["top1", "top2"], f"delimiter rolls up: {prefixes} {top}")
    r = s3.list_objects_v2(Bucket="listing", Prefix="b/", Delimiter="/")
    expect([p["Prefix"] for p in r.get("CommonPrefixes", [])] == ["b/c/"], "prefix + delimiter")
    expect([o["Key"] for o in r.get("Contents", [])] == ["b/x"], "prefix + delimiter contents")
    seen = []
    token = None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        r = s3.list_objects_v2(Bucket="listing", Delimiter="/", MaxKeys=2, **kw)
        seen += [p["Prefix"] for p in r.get("CommonPrefixes", [])] + [o["Key"] for o in r.get("Contents", [])]
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    expect(sorted(seen) == ["a/", "b/", "top1", "top2", "zz/"], f"paging with a delimiter: {seen}")
    r = s3.list_objects_v2(Bucket="listing", StartAfter="b/x")
    expect([o["Key"] for o in r["Contents"]] == ["top1", "top2", "zz/last"], "StartAfter")
    paginator = s3.get_paginator("list_objects")
    v1 = [o["Key"] for p in paginator.paginate(Bucket="listing", PaginationConfig={"PageSize": 5}) for o in p.get("Contents", [])]
    expect(v1 == keys, "ListObjects (v1) pages through every key too")


def test_copy_and_batch_delete():
    s3 = client("writer")
    fresh_bucket(s3, "copies")
    data = body(2 * MIB + 7)
    put(s3, "copies", "src", data, Metadata={"origin": "sensor-7"})
    r = s3.copy_object(Bucket="copies", Key="dst", CopySource={"Bucket": "copies", "Key": "src"})
    expect(r["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(data).hexdigest()}"', "the copy's ETag is the MD5")
    g = s3.get_object(Bucket="copies", Key="dst")
    expect(g["Body"].read() == data and g["Metadata"].get("origin") == "sensor-7", "the copy has data and metadata")
    s3.copy_object(
        Bucket="copies", Key="dst2", CopySource="copies/src", MetadataDirective="REPLACE", Metadata={"origin": "new"}
    )
    expect(s3.head_object(Bucket="copies", Key="dst2")["Metadata"].get("origin") == "new", "REPLACE sets new metadata")
    for i in range(5):
        put(s3, "copies", f"del/{i}", b"x")
    r = s3.delete_objects(
        Bucket="copies", Delete={"Objects": [{"Key": f"del/{i}"} for i in range(5)] + [{"Key": "del/none"}]}
    )
    expect(sorted(d["Key"] for d in r["Deleted"]) == [f"del/{i}" for i in range(5)] + ["del/none"], "batch delete")
    left = [o["Key"] for o in s3.list_objects_v2(Bucket="copies").get("Contents", [])]
    expect(left == ["dst", "dst2", "src"], f"only the deleted keys are gone: {left}")


def test_multipart():
    s3 = client("writer")
    fresh_bucket(s3, "multi")
    parts_data = [body(5 * MIB, b"p1"), body(5 * MIB, b"p2"), body(1234, b"p3")]
    up = s3.create_multipart_upload(Bucket="multi", Key="video.ts", Metadata={"redoubt-label": label("conf_fra")})
    uid = up["UploadId"]
    etags = []
    for i, d in enumerate(parts_data, start=1):
        r = s3.upload_part(Bucket="multi", Key="video.ts", UploadId=uid, PartNumber=i, Body=d)
        expect(r["ETag"] == f'"{hashlib.md5(d).hexdigest()}"', f"part {i} ETag is its MD5")
        etags.append(r["ETag"])
    lp = s3.list_parts(Bucket="multi", Key="video.ts", UploadId=uid)
    expect([p["PartNumber"] for p in lp["Parts"]] == [1, 2, 3], "list_parts shows the three parts")
    expect([p["Size"] for p in lp["Parts"]] == [len(d) for d in parts_data], "with their sizes")
    ups = s3.list_multipart_uploads(Bucket="multi")
    expect([u["UploadId"] for u in ups.get("Uploads", [])] == [uid], "the upload is listed while in progress")
    r = s3.complete_multipart_upload(
        Bucket="multi",
        Key="video.ts",
        UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": t} for i, t in enumerate(etags)]},
    )
    want = hashlib.md5(b"".join(hashlib.md5(d).digest() for d in parts_data)).hexdigest() + "-3"
    expect(r["ETag"] == f'"{want}"', "the multipart ETag is MD5(part MD5s)-3")
    whole = b"".join(parts_data)
    expect(s3.get_object(Bucket="multi", Key="video.ts")["Body"].read() == whole, "the assembled object reads back")
    g = s3.get_object(Bucket="multi", Key="video.ts", Range=f"bytes={5 * MIB - 10}-{5 * MIB + 9}")
    expect(g["Body"].read() == whole[5 * MIB - 10 : 5 * MIB + 10], "a range across the part boundary")
    expect(s3.list_multipart_uploads(Bucket="multi").get("Uploads", []) == [], "no upload left after completion")
    # abort
    uid2 = s3.create_multipart_upload(Bucket="multi", Key="aborted", Metadata={"redoubt-label": label("conf_fra")})["UploadId"]
    s3.upload_part(Bucket="multi", Key="aborted", UploadId=uid2, PartNumber=1, Body=b"abc")
    s3.abort_multipart_upload(Bucket="multi", Key="aborted", UploadId=uid2)
    c, _, _ = code_of(lambda: s3.list_parts(Bucket="multi", Key="aborted", UploadId=uid2))
    expect(c == "NoSuchUpload", "an aborted upload is gone")
    c, _, _ = code_of(lambda: s3.head_object(Bucket="multi", Key="aborted"))
    expect(c in ("404", "NoSuchKey"), "an aborted upload leaves no object")
    # too small
    uid3 = s3.create_multipart_upload(Bucket="multi", Key="small", Metadata={"redoubt-label": label("conf_fra")})["UploadId"]
    t1 = s3.upload_part(Bucket="multi", Key="small", UploadId=uid3, PartNumber=1, Body=b"a" * 100)["ETag"]
    t2 = s3.upload_part(Bucket="multi", Key="small", UploadId=uid3, PartNumber=2, Body=b"b" * 100)["ETag"]
    c, _, _ = code_of(
        lambda: s3.complete_multipart_upload(
            Bucket="multi", Key="small", UploadId=uid3,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": t1}, {"PartNumber": 2, "ETag": t2}]},
        )
    )
    expect(c == "EntityTooSmall", "a small part before the last is refused")
    c, _, _ = code_of(
        lambda: s3.complete_multipart_upload(
            Bucket="multi", Key="small", UploadId=uid3,
            MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": t2}, {"PartNumber": 1, "ETag": t1}]},
        )
    )
    expect(c == "InvalidPartOrder", "parts out of order are refused")
    # the high-level transfer manager (what `aws s3 cp` does) with 5 MiB chunks
    from boto3.s3.transfer import TransferConfig
    import io
    big = body(12 * MIB + 5, b"tm")
    s3.upload_fileobj(io.BytesIO(big), "multi", "tm.bin", ExtraArgs={"Metadata": {"redoubt-label": label("conf_fra")}},
                      Config=TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=4))
    out = io.BytesIO()
    s3.download_fileobj("multi", "tm.bin", out, Config=TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=4))
    expect(out.getvalue() == big, "boto3's transfer manager uploads (multipart) and downloads (ranged) 12 MiB intact")


def test_conditional():
    s3 = client("writer")
    fresh_bucket(s3, "cond")
    r = put(s3, "cond", "k", b"v1")
    tag = r["ETag"]
    c, status, _ = code_of(lambda: put(s3, "cond", "k", b"v2", IfNoneMatch="*"))
    expect(status == 412, f"If-None-Match: * on an existing key is 412 ({c})")
    put(s3, "cond", "new", b"n", IfNoneMatch="*")
    print("ok: If-None-Match: * creates a missing key")
    c, status, _ = code_of(lambda: put(s3, "cond", "k", b"v2", IfMatch='"0123456789abcdef0123456789abcdef"'))
    expect(status == 412, "If-Match with another ETag is 412")
    put(s3, "cond", "k", b"v2", IfMatch=tag)
    expect(s3.get_object(Bucket="cond", Key="k")["Body"].read() == b"v2", "If-Match with the current ETag writes")
    tag2 = s3.head_object(Bucket="cond", Key="k")["ETag"]
    c, status, _ = code_of(lambda: s3.get_object(Bucket="cond", Key="k", IfNoneMatch=tag2))
    expect(status == 304, "GET If-None-Match current ETag is 304")
    c, status, _ = code_of(lambda: s3.get_object(Bucket="cond", Key="k", IfMatch='"nope"'))
    expect(status == 412, "GET If-Match other ETag is 412")
    import datetime
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    past = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    c, status, _ = code_of(lambda: s3.get_object(Bucket="cond", Key="k", IfModifiedSince=future))
    expect(status == 304, "If-Modified-Since in the future is 304")
    c, status, _ = code_of(lambda: s3.get_object(Bucket="cond", Key="k", IfUnmodifiedSince=past))
    expect(status == 412, "If-Unmodified-Since in the past is 412")
    expect(s3.get_object(Bucket="cond", Key="k", IfModifiedSince=past)["Body"].read() == b"v2", "modified since 2000: 200")


def test_presigned():
    s3 = client("writer")
    fresh_bucket(s3, "presign")
    data = body(70_000)
    put(s3, "presign", "doc", data)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "presign", "Key": "doc"}, ExpiresIn=300)
    ctx = ssl.create_default_context(cafile=ENV["ca"])
    got = urllib.request.urlopen(url, context=ctx).read()
    expect(got == data, "a presigned GET URL works with no other credentials")
    sig = url.split("X-Amz-Signature=")[1][:64]
    flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
    bad = url.replace(sig, flipped)
    try:
        urllib.request.urlopen(bad, context=ctx)
        raise AssertionError("a tampered presigned URL was accepted")
    except urllib.error.HTTPError as e:
        expect(e.code == 403, "a tampered presigned URL is refused (403)")
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "presign", "Key": "up", "Metadata": {"redoubt-label": label("conf_fra")}}, ExpiresIn=300
    )
    req = urllib.request.Request(put_url, data=b"uploaded", method="PUT", headers={"x-amz-meta-redoubt-label": label("conf_fra")})
    urllib.request.urlopen(req, context=ctx).read()
    expect(s3.get_object(Bucket="presign", Key="up")["Body"].read() == b"uploaded", "a presigned PUT URL works")


# --- acceptance: four identities, one object ------------------------------------------------------------------

def audit_records(**query):
    """Reads audit records over the API as the auditor (client certificate)."""
    ident = ENV["identities"]["auditor"]
    ctx = ssl.create_default_context(cafile=ENV["ca"])
    ctx.load_cert_chain(ident["certificate"], ident["private_key"])
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    text = urllib.request.urlopen(f"{ENV['endpoint']}/audit/records?{qs}", context=ctx).read().decode()
    return [json.loads(line) for line in text.splitlines() if line]


def test_four_identities():
    w = client("writer")
    fresh_bucket(w, "intel")
    data = b"CONFIDENTIAL FRA report " * 100
    put(w, "intel", "report", data, lab="conf_fra")
    outcomes = {}
    for who in ["reader_fra", "reader_uncleared", "reader_usa", "operator"]:
        s3 = client(who)
        try:
            got = s3.get_object(Bucket="intel", Key="report")["Body"].read()
            outcomes[who] = ("permit", got == data, "")
        except ClientError as e:
            err = e.response["Error"]
            outcomes[who] = (err["Code"], False, err.get("Message", ""))
    expect(outcomes["reader_fra"][:2] == ("permit", True), "the cleared FRA reader reads the object")
    for who in ["reader_uncleared", "reader_usa", "operator"]:
        code, _, msg = outcomes[who]
        expect(code == "AccessDenied" and "decision" in msg, f"{who} is denied with a decision id: {msg}")
        expect("CONFIDENTIAL" not in msg and "FRA" not in msg, f"{who}'s denial does not reveal the label")
    recs = audit_records(action="s3:GetObject", object_prefix="intel/report")
    by = {r["entry"]["who"]["name"]: r["entry"] for r in recs}
    expect(by["reader_fra"]["decision"] == "allow", "the permit is audited")
    for who, rule in [("reader_uncleared", "rule 2"), ("reader_usa", "rule 3"), ("operator", "operator")]:
        e = by[who]
        reasons = " | ".join(e["reasons"])
        expect(e["decision"] == "deny" and rule in reasons, f"{who}'s denial is audited with the rule: {reasons}")
        expect(e["label"]["marking"] != "", f"{who}'s record names the label marking")


def test_labels_on_write():
    w = client("writer")
    fresh_bucket(w, "labels")
    for bad, why in [
        ("not base64 !!", "garbage"),
        (base64.b64encode(b"<notalabel/>").decode(), "XML that is not a label"),
        (label("food"), "a label of another policy"),
        ('{"v":1,"policy":"NATO"', "truncated JSON"),
    ]:
        c, status, msg = code_of(lambda: w.put_object(Bucket="labels", Key="x", Body=b"d", Metadata={"redoubt-label": bad}))
        expect(c == "InvalidArgument" and status == 400 and "label" in msg, f"{why} is refused: {msg}")
    c, _, msg = code_of(lambda: w.put_object(Bucket="labels", Key="x", Body=b"d"))
    expect(c == "InvalidArgument" and "no label" in msg, f"an unlabelled write without a bucket default is refused: {msg}")
    c, _, msg = code_of(lambda: put(w, "labels", "x", b"d", lab="cts"))
    expect(c == "AccessDenied", f"a writer may not label above what it could read ({c}: {msg})")
    expect(w.list_objects_v2(Bucket="labels").get("KeyCount", 0) == 0, "none of the refused writes stored anything")
    put(w, "labels", "xml", b"d", lab="conf_fra_xml")
    h = w.head_object(Bucket="labels", Key="xml")
    expect("CONFIDENTIAL" in h["Metadata"]["redoubt-marking"], "a base64 XML label is accepted and marked")


def test_bad_keys():
    w = client("writer")
    fresh_bucket(w, "keys")
    for key, why in [("a/../b", "a `..` segment"), ("a\x00b", "NUL"), ("é" * 1100, "2 KB of UTF-8"), ("./x", "a `.` segment")]:
        c, status, msg = code_of(lambda: put(w, "keys", key, b"d"))
        expect(status == 400 and c in ("InvalidArgument", "KeyTooLongError"), f"a key with {why} is refused ({c}: {msg[:80]})")
    expect(w.list_objects_v2(Bucket="keys").get("KeyCount", 0) == 0, "nothing stored")


def test_revocation():
    s3 = client("reader_fra")
    s3.list_buckets()
    print("ok: the identity works before revocation")
    os.system(ENV["revoke_cmd"] + " reader_fra > /dev/null")
    c, status, _ = code_of(lambda: s3.list_buckets())
    expect(status == 403 and c in ("InvalidAccessKeyId", "AccessDenied"), f"after revocation the next request fails ({c})")


def test_audit_api_roles():
    ident = ENV["identities"]["reader_fra"]
    ctx = ssl.create_default_context(cafile=ENV["ca"])
    ctx.load_cert_chain(ident["certificate"], ident["private_key"])
    try:
        urllib.request.urlopen(f"{ENV['endpoint']}/audit/records", context=ctx)
        raise AssertionError("a reader read the audit")
    except urllib.error.HTTPError as e:
        expect(e.code == 403, "a reader may not read the audit over the API")
    recs = audit_records(identity="reader_fra")
    expect(any(r["entry"]["action"] == "audit:Query" and r["entry"]["decision"] == "deny" for r in recs),
           "the refused audit read is itself audited")


def test_no_plaintext_at_rest():
    w = client("writer")
    fresh_bucket(w, "secrets")
    marker = b"PLAINTEXT-MARKER-7f3a9c" * 4096
    put(w, "secrets", "one", marker)
    up = w.create_multipart_upload(Bucket="secrets", Key="mp", Metadata={"redoubt-label": label("conf_fra")})
    w.upload_part(Bucket="secrets", Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=marker)
    needle = b"PLAINTEXT-MARKER-7f3a9c"
    hits = []
    for root, _, files in os.walk(ENV["data_dir"]):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                if needle in fh.read():
                    hits.append(p)
    expect(hits == [], f"no file under the data folder holds the plaintext (checked objects, parts, index, audit): {hits}")
    expect(w.get_object(Bucket="secrets", Key="one")["Body"].read() == marker, "and the object still reads back")


def raw_request(head, body=b"", close_after=True):
    """Sends bytes over TLS as the writer (client certificate) and returns what came back (b"" if nothing)."""
    import socket
    from urllib.parse import urlparse
    ident = ENV["identities"]["writer"]
    ctx = ssl.create_default_context(cafile=ENV["ca"])
    ctx.load_cert_chain(ident["certificate"], ident["private_key"])
    u = urlparse(ENV["endpoint"])
    with socket.create_connection((u.hostname, u.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=u.hostname) as tls:
            tls.sendall(head + body)
            if close_after:
                return b""
            out = b""
            try:
                while chunk := tls.recv(65536):
                    out += chunk
                    if b"\r\n\r\n" in out:
                        break
            except (ConnectionError, ssl.SSLError, TimeoutError):
                pass
            return out


def test_truncated_and_oversized():
    import time
    w = client("writer")
    fresh_bucket(w, "raw")
    host = ENV["endpoint"].split("//")[1]
    lab = label("conf_fra").encode()
    head = (b"PUT /raw/cut HTTP/1.1\r\nHost: " + host.encode() + b"\r\nContent-Length: 200000\r\n"
            b"x-amz-meta-redoubt-label: " + lab + b"\r\n\r\n")
    raw_request(head, b"x" * 70000)
    up = w.create_multipart_upload(Bucket="raw", Key="mp", Metadata={"redoubt-label": label("conf_fra")})
    part_head = (f"PUT /raw/mp?partNumber=1&uploadId={up['UploadId']} HTTP/1.1\r\nHost: {host}\r\n"
                 f"Content-Length: 6000000\r\n\r\n").encode()
    raw_request(part_head, b"y" * 100000)
    time.sleep(0.5)
    expect(w.list_objects_v2(Bucket="raw").get("KeyCount", 0) == 0, "a PUT whose body was cut stored nothing")
    parts = w.list_parts(Bucket="raw", Key="mp", UploadId=up["UploadId"]).get("Parts", [])
    expect(parts == [], "an UploadPart whose body was cut stored no part")
    big = (b"GET /raw HTTP/1.1\r\nHost: " + host.encode() + b"\r\nx-filler: " + b"a" * 70000 + b"\r\n\r\n")
    resp = raw_request(big, close_after=False)
    expect(resp.startswith(b"HTTP/1.1 431"), f"a 70 KB request head is refused with 431: {resp[:40]!r}")
    c, status, _ = code_of(lambda: w.put_object(Bucket="raw", Key="meta", Body=b"d",
                                                 Metadata={"redoubt-label": label("conf_fra"), "big": "v" * 3000}))
    expect(status == 400, f"user metadata over 2 KB is refused ({c})")
    blobs = sum(len(f) for _, _, f in os.walk(os.path.join(ENV["data_dir"], "store", "blobs")))
    expect(blobs == 0, f"no blob left behind by the refused and cut writes ({blobs})")


# --- device posture ---------------------------------------------------------------------------------------------

def posture_headers(device, user, checked_at, key_path=None):
    import time
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    key = serialization.load_pem_private_key(open(key_path or ENV["identities"][device]["private_key"], "rb").read(), None)
    report = {"device": device, "user": user, "patch_level": "2026-11", "disk_encrypted": True,
              "checked_at": int(time.time()) + checked_at}
    value = base64.urlsafe_b64encode(json.dumps(report).encode()).rstrip(b"=")
    r, s_ = decode_dss_signature(key.sign(value, ec.ECDSA(hashes.SHA256())))
    sig = base64.urlsafe_b64encode(r.to_bytes(32, "big") + s_.to_bytes(32, "big")).rstrip(b"=")
    return {"x-redoubt-posture": value.decode(), "x-redoubt-posture-signature": sig.decode()}


def with_headers(s3, headers):
    def add(request, **_):
        for k, v in headers.items():
            request.headers[k] = v
    s3.meta.events.register("before-sign.s3.*", add)
    return s3


def test_posture():
    w = client("writer")
    fresh_bucket(w, "secret")
    c, _, _ = code_of(lambda: put(w, "secret", "plan", b"x", lab="sec_fra"))
    expect(c == "AccessDenied", "writing SECRET without a device posture is denied")
    w = with_headers(client("writer"), posture_headers("laptop", "writer", 0))
    data = b"SECRET FRA plan " * 50
    put(w, "secret", "plan", data, lab="sec_fra")
    print("ok: writing SECRET with a fresh posture signed by the device works")
    r = client("sec_reader")
    c, _, _ = code_of(lambda: r.get_object(Bucket="secret", Key="plan"))
    expect(c == "AccessDenied", "reading SECRET without a posture is denied")
    fresh = with_headers(client("sec_reader"), posture_headers("laptop", "sec_reader", -60))
    expect(fresh.get_object(Bucket="secret", Key="plan")["Body"].read() == data, "with a fresh posture the read is permitted")
    stale = with_headers(client("sec_reader"), posture_headers("laptop", "sec_reader", -3 * 86400))
    c, _, _ = code_of(lambda: stale.get_object(Bucket="secret", Key="plan"))
    expect(c == "AccessDenied", "a three-day-old posture is not fresh: denied")
    other = with_headers(client("sec_reader"), posture_headers("laptop", "writer", 0))
    c, _, msg = code_of(lambda: other.get_object(Bucket="secret", Key="plan"))
    expect(c == "AccessDenied" and "another user" in msg, f"a posture made for another user is refused: {msg}")
    selfsigned = with_headers(client("sec_reader"), posture_headers("sec_reader", "sec_reader", 0))
    c, _, msg = code_of(lambda: selfsigned.get_object(Bucket="secret", Key="plan"))
    expect(c == "AccessDenied" and "device" in msg, f"a user cannot vouch for itself as a device: {msg}")
    forged = posture_headers("laptop", "sec_reader", 0, key_path=ENV["identities"]["writer"]["private_key"])
    c, _, msg = code_of(lambda: with_headers(client("sec_reader"), forged).get_object(Bucket="secret", Key="plan"))
    expect(c == "AccessDenied" and "does not verify" in msg, f"a posture signed with another key is refused: {msg}")
    recs = audit_records(identity="sec_reader", action="s3:GetObject")
    reasons = " | ".join(" ".join(r["entry"]["reasons"]) for r in recs if r["entry"]["decision"] == "deny")
    expect("posture" in reasons, "the posture denials are audited with the posture rule")


# --- client-made ZTDF ---------------------------------------------------------------------------------------------

def test_client_ztdf():
    import subprocess
    import tempfile
    tmp = tempfile.mkdtemp()
    ident = ENV["identities"]["writer"]
    ctx = ssl.create_default_context(cafile=ENV["ca"])
    ctx.load_cert_chain(ident["certificate"], ident["private_key"])
    domain_pub = urllib.request.urlopen(f"{ENV['endpoint']}/admin/domain-key", context=ctx).read()
    open(f"{tmp}/domain.pub", "wb").write(domain_pub)
    open(f"{tmp}/label.xml", "wb").write(base64.b64decode(label("conf_fra_xml")))
    plain = body(300_000, b"client")
    open(f"{tmp}/in.bin", "wb").write(plain)

    def encrypt(pub, out, with_label=True):
        args = [ENV["bin"], "encrypt", "--kas-url", f"{ENV['endpoint']}/kas", "--kas-pubkey", pub, "--segment-size", "65536"]
        if with_label:
            args += ["--label", f"{tmp}/label.xml"]
        subprocess.run(args + [f"{tmp}/in.bin", out], check=True, capture_output=True)
        return open(out, "rb").read()

    tdf = encrypt(f"{tmp}/domain.pub", f"{tmp}/ok.tdf")
    w = with_headers(client("writer"), {"x-redoubt-ztdf": "client"})
    fresh_bucket(w, "clientside")
    r = w.put_object(Bucket="clientside", Key="ok.tdf", Body=tdf)
    expect(r["ETag"] == f'"{hashlib.md5(tdf).hexdigest()}"', "a client-made ZTDF is accepted; its ETag is the container's MD5")
    g = client("reader_fra").get_object(Bucket="clientside", Key="ok.tdf")
    got = g["Body"].read()
    expect(got == tdf, "it is stored opaque: GET returns the container byte for byte")
    expect("CONFIDENTIAL" in g["Metadata"]["redoubt-marking"], "under the label it carries")
    open(f"{tmp}/back.tdf", "wb").write(got)
    subprocess.run([ENV["bin"], "decrypt", "--kas", f"{ENV['endpoint']}/kas", "--ca", ENV["ca"],
                    "--cert", ident["certificate"], "--key", ident["private_key"],
                    f"{tmp}/back.tdf", f"{tmp}/back.bin"], check=True, capture_output=True)
    expect(open(f"{tmp}/back.bin", "rb").read() == plain, "and it decrypts through the node's KAS to the client's plaintext")
    c, _, _ = code_of(lambda: client("reader_usa").get_object(Bucket="clientside", Key="ok.tdf"))
    expect(c == "AccessDenied", "its label is enforced like any object's")
    bad = bytearray(tdf)
    bad[len(bad) // 3] ^= 0x01
    c, status, msg = code_of(lambda: w.put_object(Bucket="clientside", Key="bad.tdf", Body=bytes(bad)))
    expect(status == 400 and c == "InvalidArgument", f"a tampered container is refused: {msg[:100]}")
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives import serialization
    other = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    open(f"{tmp}/other.pub", "wb").write(other)
    foreign = encrypt(f"{tmp}/other.pub", f"{tmp}/foreign.tdf")
    c, status, msg = code_of(lambda: w.put_object(Bucket="clientside", Key="foreign.tdf", Body=foreign))
    expect(status == 400 and "KAS key" in msg, f"a container for another key is refused: {msg[:100]}")
    unlabelled = encrypt(f"{tmp}/domain.pub", f"{tmp}/nolabel.tdf", with_label=False)
    c, status, msg = code_of(lambda: w.put_object(Bucket="clientside", Key="nolabel.tdf", Body=unlabelled))
    expect(status == 400 and "label" in msg, f"a container without a label is refused: {msg[:100]}")
    keys = [o["Key"] for o in client("writer").list_objects_v2(Bucket="clientside").get("Contents", [])]
    expect(keys == ["ok.tdf"], f"nothing else was stored: {keys}")


# --- OIDC bearer tokens ----------------------------------------------------------------------------------------

def make_oidc(out_dir):
    """Writes jwks.json and tokens.json (ES256, signed with a key made here: an independent JWT implementation)."""
    import time
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    def b64u(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    key = ec.generate_private_key(ec.SECP256R1())
    nums = key.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "alg": "ES256",
           "x": b64u(nums.x.to_bytes(32, "big")), "y": b64u(nums.y.to_bytes(32, "big"))}

    def token(claims):
        header = b64u(json.dumps({"alg": "ES256", "typ": "JWT", "kid": "k1"}).encode())
        payload = b64u(json.dumps(claims).encode())
        der = key.sign(f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
        r, s_ = decode_dss_signature(der)
        return f"{header}.{payload}.{b64u(r.to_bytes(32, 'big') + s_.to_bytes(32, 'big'))}"

    now = int(time.time())
    base = {"iss": "https://idp.test/realms/ops", "aud": "redoubt", "iat": now, "exp": now + 600,
            "nationality": "FRA", "redoubt_role": "reader"}
    tokens = {
        "cleared": token({**base, "preferred_username": "jwt-reader", "aciClr": "CONFIDENTIAL"}),
        "uncleared": token({**base, "preferred_username": "jwt-low", "aciClr": "UNCLASSIFIED"}),
        "expired": token({**base, "preferred_username": "jwt-old", "aciClr": "CONFIDENTIAL", "exp": now - 3600}),
        "wrong_aud": token({**base, "preferred_username": "jwt-aud", "aciClr": "CONFIDENTIAL", "aud": "other"}),
        "admin": token({**base, "preferred_username": "jwt-admin", "redoubt_role": "administrator"}),
    }
    json.dump({"keys": [jwk]}, open(os.path.join(out_dir, "jwks.json"), "w"))
    json.dump(tokens, open(os.path.join(out_dir, "tokens.json"), "w"))


def serve_jwks(out_dir):
    """Serves out_dir over HTTPS on a free loopback port with a certificate from a CA made here (ca.pem); writes
    the port to out_dir/port once listening; runs until killed."""
    import datetime
    import http.server
    import ipaddress
    import threading
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test IdP CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    open(os.path.join(out_dir, "ca.pem"), "wb").write(ca.public_bytes(serialization.Encoding.PEM))
    open(os.path.join(out_dir, "srv.pem"), "wb").write(cert.public_bytes(serialization.Encoding.PEM))
    open(os.path.join(out_dir, "srv.key"), "wb").write(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=out_dir, **k)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(out_dir, "srv.pem"), os.path.join(out_dir, "srv.key"))
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    open(os.path.join(out_dir, "port.tmp"), "w").write(str(httpd.server_address[1]))
    os.rename(os.path.join(out_dir, "port.tmp"), os.path.join(out_dir, "port"))
    httpd.serve_forever()


def test_oidc_bearer():
    tokens = json.load(open(os.path.join(os.path.dirname(sys.argv[1]), "tokens.json")))
    w = client("writer")
    fresh_bucket(w, "tokens")
    put(w, "tokens", "doc", b"for token holders")
    ctx = ssl.create_default_context(cafile=ENV["ca"])

    def get(tok):
        req = urllib.request.Request(f"{ENV['endpoint']}/tokens/doc", headers={"Authorization": f"Bearer {tok}"})
        try:
            with urllib.request.urlopen(req, context=ctx) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    import time
    deadline = time.time() + 20  # a key set fetched from a URL arrives shortly after the node starts
    while True:
        status, data = get(tokens["cleared"])
        if status != 401 or b"not been fetched" not in data or time.time() > deadline:
            break
        time.sleep(0.2)
    expect(status == 200 and data == b"for token holders", "a cleared reader's ES256 token reads the object")
    status, data = get(tokens["uncleared"])
    expect(status == 403 and b"AccessDenied" in data, "an uncleared token holder is denied by the policy")
    for name in ["expired", "wrong_aud", "admin"]:
        status, data = get(tokens[name])
        expect(status == 401, f"the {name} token is refused with 401: {data[:120]!r}")
        expect(tokens[name].encode() not in data, f"the refusal does not echo the {name} token")
    status, _ = get(tokens["cleared"][:-4] + "AAAA")
    expect(status == 401, "a token with a tampered signature is refused")
    recs = audit_records(identity="jwt-reader")
    expect(any(r["entry"]["decision"] == "allow" and r["entry"]["action"] == "s3:GetObject" for r in recs),
           "the token holder's read is audited under its token name")


if __name__ == "__main__":
    if sys.argv[1] == "-":
        {"make_oidc": make_oidc, "serve_jwks": serve_jwks}[sys.argv[2]](sys.argv[3])
        sys.exit(0)
    name = sys.argv[2]
    fn = globals().get(name)
    if fn is None:
        sys.exit(f"no test named {name}")
    fn()

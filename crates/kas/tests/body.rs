//! The request body: limits, ids, types, and the shape the OpenTDF Go SDK sends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use redoubt_kas::{KasError, MAX_BODY_BYTES, RequestBody};
use serde_json::{Value, json};

fn kao(id: &str) -> Value {
    json!({"keyAccessObjectId": id, "keyAccessObject": {
        "type": "wrapped", "url": "https://node.example", "protocol": "kas", "wrappedKey": "AAAA",
        "policyBinding": {"alg": "HS256", "hash": "AAAA"}}})
}

fn body(policies: usize, kaos_per_policy: usize) -> Value {
    let requests: Vec<Value> = (0..policies)
        .map(|p| {
            json!({"policy": {"id": format!("policy-{p}"), "body": "e30="},
                   "keyAccessObjects": (0..kaos_per_policy).map(|k| kao(&format!("kao-{k}"))).collect::<Vec<_>>()})
        })
        .collect();
    json!({"clientPublicKey": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "requests": requests})
}

fn parse(v: &Value) -> Result<RequestBody, KasError> {
    RequestBody::parse(&v.to_string())
}

#[test]
fn limits_at_their_bounds() {
    assert_eq!(parse(&body(64, 4)).unwrap().kao_count(), 256);
    assert!(matches!(
        parse(&body(65, 1)),
        Err(KasError::BodyLimit { what: "policy requests", count: 65, limit: 64 })
    ));
    assert!(parse(&body(1, 32)).is_ok());
    assert!(matches!(parse(&body(1, 33)), Err(KasError::BodyLimit { count: 33, limit: 32, .. })));
    assert!(matches!(
        parse(&body(9, 29)),
        Err(KasError::BodyLimit { what: "key access objects", count: 261, limit: 256 })
    ));
}

#[test]
fn over_one_mib_is_refused_unread() {
    let text = format!("{}{}", " ".repeat(MAX_BODY_BYTES + 1 - 2), "{}");
    assert_eq!(text.len(), MAX_BODY_BYTES + 1);
    assert_eq!(
        RequestBody::parse(&text),
        Err(KasError::BodyTooLarge { size: MAX_BODY_BYTES + 1, limit: MAX_BODY_BYTES })
    );
}

#[test]
fn ids_are_unique_non_empty_and_bounded() {
    let mut b = body(1, 2);
    b["requests"][0]["keyAccessObjects"][1]["keyAccessObjectId"] = json!("kao-0");
    assert!(matches!(parse(&b), Err(KasError::DuplicateId { what: "key access object", .. })));
    // The same kao id under two policies is fine.
    assert!(parse(&body(2, 1)).is_ok());
    let mut b = body(2, 1);
    b["requests"][1]["policy"]["id"] = json!("policy-0");
    assert!(matches!(parse(&b), Err(KasError::DuplicateId { what: "policy", .. })));
    let mut b = body(1, 1);
    b["requests"][0]["policy"]["id"] = json!("x".repeat(257));
    assert!(matches!(parse(&b), Err(KasError::BodyMalformed { .. })));
    b["requests"][0]["policy"]["id"] = json!("x".repeat(256));
    assert!(parse(&b).is_ok());
    b["requests"][0]["policy"]["id"] = json!("");
    assert!(matches!(parse(&b), Err(KasError::BodyMalformed { .. })));
}

#[test]
fn types_are_checked_and_unknown_members_ignored() {
    let mut b = body(1, 1);
    b["somethingNew"] = json!({"x": [1, 2]});
    assert!(parse(&b).is_ok());
    for (path, bad) in [("clientPublicKey", json!(5)), ("requests", json!({})), ("requests", json!([]))] {
        let mut b = body(1, 1);
        b[path] = bad;
        assert!(matches!(parse(&b), Err(KasError::BodyMalformed { .. })), "{path}");
    }
    let mut b = body(1, 1);
    b["requests"][0]["policy"]["body"] = json!(7);
    assert!(matches!(parse(&b), Err(KasError::BodyMalformed { .. })));
    let mut b = body(1, 1);
    b["requests"][0]["keyAccessObjects"][0]["keyAccessObject"]["url"] = json!(null);
    assert!(matches!(parse(&b), Err(KasError::BodyMalformed { .. })));
    assert!(matches!(
        RequestBody::parse(r#"{"clientPublicKey":"a","clientPublicKey":"b","requests":[]}"#),
        Err(KasError::BodyMalformed { .. })
    ));
    assert!(RequestBody::parse("[]").is_err());
    assert!(RequestBody::parse("{} x").is_err());
}

#[test]
fn round_trips_through_to_json() {
    let b = parse(&body(2, 2)).unwrap();
    assert_eq!(RequestBody::parse(&b.to_json().unwrap()).unwrap(), b);
}

/// A body as the OpenTDF Go SDK (`sdk/tdf.go` + `kas_client.go`, protojson of `UnsignedRewrapRequest`) writes
/// it: policy id `policy`, `wrappedKey` in padded standard base64, `sid` and `kid`, an `ec-wrapped` object with
/// its ephemeral key, and the deprecated single-object members at the top level.
#[test]
fn go_sdk_shaped_body_parses() {
    let text = r#"{"clientPublicKey":"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n",
      "requests":[{"keyAccessObjects":[
        {"keyAccessObjectId":"kao-0","keyAccessObject":{"policyBinding":{"alg":"HS256","hash":"ZGVhZGJlZWY="},
          "protocol":"kas","type":"wrapped","url":"http://localhost:8080","kid":"r1","sid":"split-1",
          "wrappedKey":"q83vASNFZ4mrze8BI0VniQ=="}},
        {"keyAccessObjectId":"kao-1","keyAccessObject":{"policyBinding":{"alg":"HS256","hash":"ZGVhZGJlZWY="},
          "protocol":"kas","type":"ec-wrapped","url":"http://localhost:8080","kid":"e1","sid":"split-2",
          "wrappedKey":"q83vASNFZ4mrze8BI0VniQ==","ephemeralPublicKey":"-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n"}}],
        "policy":{"id":"policy","body":"eyJ1dWlkIjoiMSIsImJvZHkiOnsiZGF0YUF0dHJpYnV0ZXMiOltdLCJkaXNzZW0iOltdfX0="},
        "algorithm":"rsa:2048"}],
      "keyAccess":{"type":"wrapped"},"policy":"eyJ9","algorithm":"rsa:2048"}"#;
    let b = RequestBody::parse(text).unwrap();
    assert_eq!(b.requests[0].policy.id, "policy");
    assert_eq!(b.requests[0].algorithm.as_deref(), Some("rsa:2048"));
    let k = &b.requests[0].key_access_objects[1];
    assert_eq!((k.id.as_str(), k.key_access_object.kind.as_str()), ("kao-1", "ec-wrapped"));
    assert_eq!(k.key_access_object.sid.as_deref(), Some("split-2"));
}

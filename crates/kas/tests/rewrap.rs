//! Client and server halves together: a client body and token, the server's checks and rewrap, the client
//! opening the shares; for RSA-2048, P-256 and P-384 client keys and for RSA and EC KAS keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeySize, PrivateDecryptingKey};
use common::{NOW, p256, pem, signer};
use redoubt_kas::{
    ClientKey, ClientKeyKind, ClientSession, KaoRequest, KaoResult, Outcome, PolicyRef, PolicyRequest,
    PolicyResults, ReplayGuard, RequestBody, RewrapResponse, Rewrapper, SignerKey, TokenRules, check_kas_url,
    check_policy_binding, parse_policy, sign_request_token, verify_request_token,
};
use redoubt_ztdf::policy::{AttributeValue, PolicyBody};
use redoubt_ztdf::{
    KasPrivateKey, KasPublicKey, KasTarget, KeyShare, Policy, SystemRandomSource, unwrap_key_access,
    wrap_key_access,
};

const KAS_URL: &str = "https://node.example/kas";

fn kas_rsa_key() -> (KasPrivateKey, KasPublicKey) {
    let k = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
    let private = pem("PRIVATE KEY", AsDer::<Pkcs8V1Der>::as_der(&k).unwrap().as_ref());
    let public = AsDer::<PublicKeyX509Der>::as_der(&k.public_key()).unwrap();
    (KasPrivateKey::from_pem(&private).unwrap(), KasPublicKey::from_spki_der(public.as_ref()).unwrap())
}

fn policy_b64() -> String {
    Policy {
        uuid: "3c7b6d4e-0000-4000-8000-000000000001".into(),
        body: PolicyBody {
            data_attributes: vec![AttributeValue {
                attribute: "https://nato.int/attr/classification/value/nato-secret".into(),
            }],
            dissem: vec![],
        },
    }
    .to_base64()
    .unwrap()
}

/// The whole exchange for one client key kind: returns the shares as wrapped and as opened.
fn exchange(kind: ClientKeyKind, kas_private: &KasPrivateKey, kas_public: &KasPublicKey) {
    let rng = SystemRandomSource::new();
    let policy = policy_b64();
    // Two shares, two key access objects, as a writer would make them.
    let shares: Vec<KeyShare> = (0..2).map(|_| KeyShare::random(&rng).unwrap()).collect();
    let target =
        KasTarget { url: KAS_URL.into(), key: kas_public.clone(), kid: Some("k1".into()), sid: None };
    let kaos: Vec<KaoRequest> = shares
        .iter()
        .enumerate()
        .map(|(i, s)| KaoRequest {
            id: format!("kao-{i}"),
            key_access_object: wrap_key_access(s, &target, Some(format!("s{i}")), &policy, None, &rng)
                .unwrap(),
        })
        .collect();

    // Client: session key, body, token.
    let session = ClientSession::generate(kind, &rng).unwrap();
    let body = RequestBody {
        client_public_key: session.public_pem(),
        requests: vec![PolicyRequest {
            policy: PolicyRef { id: "policy-0".into(), body: policy.clone() },
            key_access_objects: kaos,
            algorithm: None,
        }],
    };
    let (signing_pem, _) = p256();
    let signing = signer(&signing_pem);
    let token = sign_request_token(&body.to_json().unwrap(), &signing, NOW).unwrap();

    // Server.
    let caller = SignerKey::from_spki_der(&signing.public_spki_der().unwrap()).unwrap();
    let verified = verify_request_token(&token, &caller, &TokenRules::default(), NOW).unwrap();
    let mut guard = ReplayGuard::default();
    guard.check_and_insert(verified.digest, verified.exp, NOW).unwrap();
    let body = RequestBody::parse(&verified.body).unwrap();
    let client = ClientKey::from_pem(&body.client_public_key).unwrap();
    let rewrapper = Rewrapper::new(&client, &rng).unwrap();
    let mut responses = Vec::new();
    for req in &body.requests {
        parse_policy(&req.policy.id, &req.policy.body).unwrap();
        let mut results = Vec::new();
        for k in &req.key_access_objects {
            check_kas_url(&k.key_access_object.url, &["https://NODE.example/".to_owned()]).unwrap();
            let share = unwrap_key_access(&k.key_access_object, kas_private).unwrap();
            check_policy_binding(&share, &req.policy.body, &k.key_access_object, &k.id).unwrap();
            let wrapped_key = rewrapper.rewrap(&share).unwrap();
            results.push(KaoResult { kao_id: k.id.clone(), outcome: Outcome::Permit { wrapped_key } });
        }
        results
            .push(KaoResult { kao_id: "kao-x".into(), outcome: Outcome::Fail { error: "forbidden".into() } });
        responses.push(PolicyResults { policy_id: req.policy.id.clone(), results });
    }
    let response =
        RewrapResponse { responses, session_public_key: rewrapper.session_public_pem().map(str::to_owned) };
    assert_eq!(response.session_public_key.is_some(), kind != ClientKeyKind::Rsa2048);
    let json = response.to_json().unwrap();

    // Client again.
    let opened = session.open_results(&RewrapResponse::parse(&json).unwrap());
    assert_eq!(opened.len(), 3);
    for (i, s) in shares.iter().enumerate() {
        assert_eq!(
            (opened[i].policy_id.as_str(), opened[i].kao_id.as_str()),
            ("policy-0", format!("kao-{i}").as_str())
        );
        assert_eq!(opened[i].share.as_ref().unwrap().as_bytes(), s.as_bytes(), "{kind:?} share {i}");
    }
    assert_eq!(opened[2].share.as_ref().unwrap_err(), "the KAS refused: forbidden");
}

#[test]
fn rsa_kas_to_every_client_key_kind() {
    let (private, public) = kas_rsa_key();
    for kind in [ClientKeyKind::Rsa2048, ClientKeyKind::EcP256, ClientKeyKind::EcP384] {
        exchange(kind, &private, &public);
    }
}

#[test]
fn ec_kas_to_an_ec_client() {
    let (pem, kp) = p256();
    let private = KasPrivateKey::from_pem(&pem).unwrap();
    let public = KasPublicKey::from_spki_der(&common::ec_spki(&kp)).unwrap();
    exchange(ClientKeyKind::EcP256, &private, &public);
}

#[test]
fn a_share_for_another_session_does_not_open() {
    let rng = SystemRandomSource::new();
    let alice = ClientSession::generate(ClientKeyKind::EcP256, &rng).unwrap();
    let mallory = ClientSession::generate(ClientKeyKind::EcP256, &rng).unwrap();
    let rewrapper = Rewrapper::new(&ClientKey::from_pem(&alice.public_pem()).unwrap(), &rng).unwrap();
    let share = KeyShare::random(&rng).unwrap();
    let response = RewrapResponse {
        responses: vec![PolicyResults {
            policy_id: "p".into(),
            results: vec![KaoResult {
                kao_id: "k".into(),
                outcome: Outcome::Permit { wrapped_key: rewrapper.rewrap(&share).unwrap() },
            }],
        }],
        session_public_key: rewrapper.session_public_pem().map(str::to_owned),
    };
    assert!(alice.open_results(&response)[0].share.is_ok());
    assert!(mallory.open_results(&response)[0].share.is_err());
    let no_session = RewrapResponse { session_public_key: None, ..response };
    assert!(alice.open_results(&no_session)[0].share.as_ref().unwrap_err().contains("sessionPublicKey"));
}

#[test]
fn client_keys_are_checked() {
    let bad = |pem: &str| ClientKey::from_pem(pem).unwrap_err().rule();
    assert_eq!(bad("not a pem"), "kas-client-key");
    let (private_pem, _) = p256();
    assert_eq!(bad(&private_pem), "kas-client-key");
    let rsa = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
    let spki = AsDer::<PublicKeyX509Der>::as_der(&rsa.public_key()).unwrap();
    assert!(ClientKey::from_pem(&pem("PUBLIC KEY", spki.as_ref())).is_ok());
    assert_eq!(bad(&pem("PUBLIC KEY", &spki.as_ref()[..100])), "kas-client-key");
}

#[test]
fn response_wire_form_matches_the_platform() {
    let json = r#"{"metadata":{},"sessionPublicKey":"PEM","responses":[{"policyId":"policy-0","results":[
        {"keyAccessObjectId":"kao-0","status":"permit","kasWrappedKey":"AAAA","metadata":{}},
        {"keyAccessObjectId":"kao-1","status":"fail","error":"forbidden"}]}]}"#;
    let r = RewrapResponse::parse(json).unwrap();
    assert_eq!(r.session_public_key.as_deref(), Some("PEM"));
    assert_eq!(r.responses[0].results[0].outcome, Outcome::Permit { wrapped_key: "AAAA".into() });
    assert_eq!(r.responses[0].results[1].outcome, Outcome::Fail { error: "forbidden".into() });
    let out: serde_json::Value = serde_json::from_str(&r.to_json().unwrap()).unwrap();
    assert_eq!(out["responses"][0]["results"][0]["status"], "permit");
    assert_eq!(out["responses"][0]["results"][0]["kasWrappedKey"], "AAAA");
    assert_eq!(out["responses"][0]["results"][1]["error"], "forbidden");
    assert!(RewrapResponse::parse(r#"{"responses":[],"responses":[]}"#).is_err());
    assert!(
        RewrapResponse::parse(
            r#"{"responses":[{"policyId":"p","results":[{"keyAccessObjectId":"k","status":"maybe"}]}]}"#
        )
        .is_err()
    );
}

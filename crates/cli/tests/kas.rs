//! The node's KAS end to end: `redoubt encrypt --kas` and `redoubt decrypt --kas` against a running node, the
//! attacks a rewrap must refuse (each audited), key rotation and two-person crypto-shredding, and the PKCS#11
//! custody against SoftHSM2 (installed by scripts/test).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use redoubt_kas::{
    ClientKeyKind, ClientSession, KaoRequest, PolicyRef, PolicyRequest, RequestBody, RewrapResponse,
    SigningKey,
};
use redoubt_testkit::{TestNode, redoubt_command};
use redoubt_ztdf::{SystemRandomSource, TdfReader};
use serde_json::{Value, json};

const CONFIDENTIAL_FRA: &str = r#"<originatorConfidentialityLabel xmlns="urn:nato:stanag:4774:confidentialitymetadatalabel:1:0" ReviewDateTime="2030-01-01T00:00:00Z"><ConfidentialityInformation><PolicyIdentifier URI="urn:oid:1.3.26.1.3.1">NATO</PolicyIdentifier><Classification>CONFIDENTIAL</Classification><Category TagName="Releasable To" Type="PERMISSIVE" URI="urn:oid:1.3.26.1.4.2"><GenericValue>FRA</GenericValue></Category></ConfidentialityInformation><CreationDateTime>2025-01-01T09:00:00Z</CreationDateTime></originatorConfidentialityLabel>"#;

/// A node, its identities' files and a work folder.
struct Env {
    node: TestNode,
    dir: tempfile::TempDir,
}

impl Env {
    fn start() -> Env {
        Self::start_env(&[], &[])
    }

    fn start_env(extra: &[&str], env: &[(&str, &str)]) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let node = TestNode::start_in_env(&dir.path().join("data"), extra, env).unwrap();
        let ids = dir.path().join("ids");
        std::fs::create_dir(&ids).unwrap();
        for (name, role, clr) in [
            ("alice", "reader", "SECRET"),
            ("bob", "reader", "UNCLASSIFIED"),
            ("olivia", "officer", "SECRET"),
            ("wendy", "writer", "SECRET"),
        ] {
            node.create_identity(&ids, name, role, clr, "FRA");
        }
        std::fs::write(dir.path().join("label.xml"), CONFIDENTIAL_FRA).unwrap();
        Env { node, dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn kas_url(&self) -> String {
        format!("{}/kas", self.node.url)
    }

    /// `redoubt ARGS --kas URL --ca CA --cert ID.pem --key ID.key`.
    fn as_identity(&self, who: &str, args: &[&str]) -> Output {
        let ids = self.path("ids");
        redoubt_command()
            .args(args)
            .args(["--kas", &self.kas_url(), "--ca"])
            .arg(self.node.pki("ca.pem"))
            .arg("--cert")
            .arg(ids.join(format!("{who}.pem")))
            .arg("--key")
            .arg(ids.join(format!("{who}.key")))
            .output()
            .unwrap()
    }

    fn encrypt(&self, who: &str, extra: &[&str], input: &Path, output: &Path) {
        let mut args = vec!["encrypt"];
        args.extend_from_slice(extra);
        let (i, o) = (input.to_str().unwrap(), output.to_str().unwrap());
        args.extend_from_slice(&[i, o]);
        let out = self.as_identity(who, &args);
        assert!(out.status.success(), "encrypt: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn decrypt(&self, who: &str, input: &Path, output: &Path) -> Output {
        self.as_identity(who, &["decrypt", input.to_str().unwrap(), output.to_str().unwrap()])
    }

    /// `redoubt key …` as the administrator (the data folder's credentials) or as an identity.
    fn key_cmd(&self, as_who: Option<&str>, args: &[&str]) -> Output {
        let mut cmd = redoubt_command();
        cmd.arg("key").args(args).args(["--url", &self.node.url, "--data-dir"]).arg(&self.node.data_dir);
        if let Some(who) = as_who {
            let ids = self.path("ids");
            cmd.arg("--cert").arg(ids.join(format!("{who}.pem")));
            cmd.arg("--key").arg(ids.join(format!("{who}.key")));
        }
        cmd.output().unwrap()
    }

    /// KAS audit records' entries, as JSON.
    fn kas_audit(&self) -> Vec<Value> {
        self.node.audit_entries("kas:Rewrap")
    }

    /// A reqwest client presenting `who`'s certificate.
    fn client(&self, who: &str) -> reqwest::blocking::Client {
        let ids = self.path("ids");
        self.node.client(&redoubt_testkit::Credential::Files {
            cert: ids.join(format!("{who}.pem")),
            key: ids.join(format!("{who}.key")),
        })
    }

    /// Creates `bucket` and stores `data` at `key` (URL path form) over S3 as `who`, labelled CONFIDENTIAL FRA.
    fn put_labelled(&self, who: &str, bucket: &str, key: &str, data: &[u8]) {
        let client = self.client(who);
        let compact =
            redoubt_label::Label::from_xml(CONFIDENTIAL_FRA.as_bytes(), redoubt_label::Mode::Strict)
                .unwrap()
                .to_compact_json()
                .unwrap();
        assert!(client.put(format!("{}/{bucket}", self.node.url)).send().unwrap().status().is_success());
        let put = client
            .put(format!("{}/{bucket}/{key}", self.node.url))
            .header("x-amz-meta-redoubt-label", &compact)
            .body(data.to_vec())
            .send()
            .unwrap();
        assert!(put.status().is_success(), "{}", put.text().unwrap());
    }

    fn signing_key(&self, who: &str) -> SigningKey {
        SigningKey::from_pkcs8_pem(
            &std::fs::read_to_string(self.path("ids").join(format!("{who}.key"))).unwrap(),
        )
        .unwrap()
    }
}

fn random_file(path: &Path, len: usize) -> Vec<u8> {
    let mut data = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut data).unwrap();
    std::fs::write(path, &data).unwrap();
    data
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn protection_travels_with_the_file() {
    let env = Env::start();
    let plain = env.path("plain.bin");
    let data = random_file(&plain, 3 * 1024 * 1024 + 17);
    let label = env.path("label.xml");
    for (alg, file) in [("ec:secp256r1", "ec.tdf"), ("rsa:2048", "rsa.tdf"), ("ec:secp384r1", "p384.tdf")] {
        let tdf = env.path(file);
        env.encrypt("alice", &["--kas-algorithm", alg, "--label", label.to_str().unwrap()], &plain, &tdf);
        // Copied anywhere, the file is still readable only by whom the KAS releases the key to.
        let moved_dir = env.path(&format!("elsewhere-{file}"));
        std::fs::create_dir(&moved_dir).unwrap();
        let moved = moved_dir.join("copy.tdf");
        std::fs::copy(&tdf, &moved).unwrap();
        for source in [&tdf, &moved] {
            let out = env.path("out.bin");
            let o = env.decrypt("alice", source, &out);
            assert!(o.status.success(), "{alg}: {}", stderr(&o));
            assert_eq!(std::fs::read(&out).unwrap(), data, "{alg}");
            std::fs::remove_file(&out).unwrap();
            let denied = env.path("denied.bin");
            let o = env.decrypt("bob", source, &denied);
            assert_eq!(o.status.code(), Some(1), "{alg}: {}", stderr(&o));
            assert!(stderr(&o).contains("refused"), "{}", stderr(&o));
            assert!(!denied.exists(), "no output file after a refusal");
        }
    }
    // Every decision is audited; bob's refusals carry the ACDF rule.
    let records = env.kas_audit();
    let bobs: Vec<&Value> = records.iter().filter(|r| r["who"]["name"] == "bob").collect();
    assert_eq!(bobs.len(), 6, "{records:?}");
    for r in &bobs {
        assert_eq!(r["decision"], "deny", "{r}");
        assert!(r["reasons"].to_string().contains("acdf"), "{r}");
        assert!(r["label"]["marking"].as_str().unwrap().contains("CONFIDENTIAL"), "{r}");
    }
    assert_eq!(records.iter().filter(|r| r["who"]["name"] == "alice" && r["decision"] == "allow").count(), 6);
}

/// A rewrap request for one container, with a given token time and signing key.
struct Forged {
    body: RequestBody,
    session: ClientSession,
}

fn request_for(tdf: &Path) -> Forged {
    let reader = TdfReader::open(std::fs::File::open(tdf).unwrap()).unwrap();
    let ei = reader.manifest().encryption_information.clone();
    let policy = reader.policy().unwrap();
    let session = ClientSession::generate(ClientKeyKind::EcP256, &SystemRandomSource::new()).unwrap();
    let body = RequestBody {
        client_public_key: session.public_pem(),
        requests: vec![PolicyRequest {
            policy: PolicyRef { id: policy.uuid, body: ei.policy.clone() },
            key_access_objects: ei
                .key_access
                .iter()
                .enumerate()
                .map(|(i, k)| KaoRequest { id: format!("kao-{i}"), key_access_object: k.clone() })
                .collect(),
            algorithm: None,
        }],
    };
    Forged { body, session }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn post(env: &Env, who: &str, token: &str) -> (u16, Value) {
    let resp = env
        .client(who)
        .post(format!("{}/v2/rewrap", env.kas_url()))
        .json(&json!({"signedRequestToken": token}))
        .send()
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(Value::Null))
}

fn sign(env: &Env, who: &str, body: &RequestBody, iat: i64) -> String {
    redoubt_kas::sign_request_token(&body.to_json().unwrap(), &env.signing_key(who), iat).unwrap()
}

/// The first result's status and error.
fn first_result(v: &Value) -> (String, String) {
    let r = &v["responses"][0]["results"][0];
    (r["status"].as_str().unwrap_or("").to_owned(), r["error"].as_str().unwrap_or("").to_owned())
}

#[test]
fn rewrap_attacks_are_refused_and_audited() {
    let env = Env::start();
    let plain = env.path("plain.bin");
    random_file(&plain, 1000);
    let label = env.path("label.xml");
    let (a, b) = (env.path("a.tdf"), env.path("b.tdf"));
    env.encrypt("alice", &["--label", label.to_str().unwrap()], &plain, &a);
    env.encrypt("alice", &["--label", label.to_str().unwrap()], &plain, &b);

    // The honest request works, and the share opens with the session key.
    let honest = request_for(&a);
    let token = sign(&env, "alice", &honest.body, now());
    let (status, v) = post(&env, "alice", &token);
    assert_eq!(status, 200, "{v}");
    let opened = honest.session.open_results(&RewrapResponse::parse(&v.to_string()).unwrap());
    assert!(opened[0].share.is_ok(), "{v}");

    // Replay: the same token again.
    let (status, v) = post(&env, "alice", &token);
    assert_eq!(status, 403, "{v}");
    assert!(v["error"].as_str().unwrap().contains("already used"), "{v}");

    // Expired (issued 61 s ago) and not yet valid.
    let (status, v) = post(&env, "alice", &sign(&env, "alice", &honest.body, now() - 61));
    assert_eq!(status, 401, "{v}");
    let (status, v) = post(&env, "alice", &sign(&env, "alice", &honest.body, now() + 120));
    assert_eq!(status, 401, "{v}");

    // Signed with another identity's key than the connection's certificate.
    let (status, v) = post(&env, "alice", &sign(&env, "bob", &honest.body, now()));
    assert_eq!(status, 401, "{v}");

    // Wrong binding: the binding of another object.
    let other = request_for(&b);
    let mut wrong = request_for(&a);
    wrong.body.requests[0].key_access_objects[0].key_access_object.policy_binding =
        other.body.requests[0].key_access_objects[0].key_access_object.policy_binding.clone();
    let (status, v) = post(&env, "alice", &sign(&env, "alice", &wrong.body, now()));
    assert_eq!((status, first_result(&v).0.as_str()), (200, "fail"), "{v}");
    assert!(first_result(&v).1.contains("binding"), "{v}");

    // Policy swapped between two files: a's key access object with b's policy.
    let mut swapped = request_for(&a);
    swapped.body.requests[0].policy = other.body.requests[0].policy.clone();
    let (status, v) = post(&env, "alice", &sign(&env, "alice", &swapped.body, now()));
    assert_eq!((status, first_result(&v).0.as_str()), (200, "fail"), "{v}");
    assert!(first_result(&v).1.contains("binding"), "{v}");

    // A key access object addressed to another KAS.
    let mut foreign = request_for(&a);
    foreign.body.requests[0].key_access_objects[0].key_access_object.url =
        "https://kas.elsewhere.example/kas".into();
    let (status, v) = post(&env, "alice", &sign(&env, "alice", &foreign.body, now()));
    assert_eq!((status, first_result(&v).0.as_str()), (200, "fail"), "{v}");
    assert!(first_result(&v).1.contains("another KAS"), "{v}");

    // A policy without attributes is no free pass; a dissemination list is enforced.
    let (bare, dissem) = (env.path("bare.tdf"), env.path("dissem.tdf"));
    env.encrypt("alice", &[], &plain, &bare);
    let o = env.decrypt("alice", &bare, &env.path("bare.out"));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    env.encrypt("alice", &["--label", label.to_str().unwrap(), "--dissem", "wendy"], &plain, &dissem);
    let o = env.decrypt("alice", &dissem, &env.path("dissem.out"));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = env.decrypt("wendy", &dissem, &env.path("dissem.out"));
    assert!(o.status.success(), "{}", stderr(&o));

    // Every refusal is in the audit with its rule.
    let records = env.kas_audit();
    let rules: Vec<String> =
        records.iter().filter(|r| r["decision"] == "deny").map(|r| r["policy_ids"].to_string()).collect();
    for rule in [
        "kas-replay",
        "kas-token-too-old",
        "kas-token-not-yet-valid",
        "kas-token-signature",
        "kas-policy-binding",
        "kas-foreign-kas",
        "kas-no-attributes",
        "kas-dissem",
    ] {
        assert!(rules.iter().any(|r| r.contains(rule)), "no denial with rule {rule}: {rules:?}");
    }
    assert_eq!(rules.iter().filter(|r| r.contains("kas-policy-binding")).count(), 2, "{rules:?}");
}

#[test]
fn rotation_and_two_person_shredding() {
    let mut env = Env::start();
    let plain = env.path("plain.bin");
    let data = random_file(&plain, 100_000);
    let label = env.path("label.xml");
    let (old, new) = (env.path("old.tdf"), env.path("new.tdf"));
    env.encrypt("alice", &["--label", label.to_str().unwrap()], &plain, &old);
    // An object stored through S3 before the rotation (mutual TLS as the writer).
    let wendy = env.client("wendy");
    env.put_labelled("wendy", "ops", "before-rotation", &data);

    let o = env.key_cmd(None, &["rotate", "--algorithm", "ec:secp256r1", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rotated: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rotated["kid"], "p256-2");
    env.encrypt("alice", &["--label", label.to_str().unwrap()], &plain, &new);
    let kid_of = |p: &Path| {
        let r = TdfReader::open(std::fs::File::open(p).unwrap()).unwrap();
        r.manifest().encryption_information.key_access[0].kid.clone().unwrap()
    };
    assert_eq!((kid_of(&old).as_str(), kid_of(&new).as_str()), ("p256-1", "p256-2"));
    for f in [&old, &new] {
        let o = env.decrypt("alice", f, &env.path("out.bin"));
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let get = wendy.get(format!("{}/ops/before-rotation", env.node.url)).send().unwrap();
    assert_eq!(get.bytes().unwrap().as_ref(), data.as_slice(), "old objects still open after a rotation");

    // Shredding needs a confirmation, an administrator's request and another identity's (an officer's) approval.
    let o = env.key_cmd(None, &["shred", "--kid", "p256-1"]);
    assert_eq!(o.status.code(), Some(2), "no terminal, no --yes: {}", stderr(&o));
    let o = env.key_cmd(None, &["approve-shred", "--kid", "p256-1"]);
    assert_eq!(o.status.code(), Some(1), "nothing pending and not an officer: {}", stderr(&o));
    let o = env.key_cmd(None, &["shred", "--kid", "p256-1", "--yes"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = env.key_cmd(None, &["approve-shred", "--kid", "p256-1"]);
    assert_eq!(o.status.code(), Some(1), "the administrator cannot approve: {}", stderr(&o));
    let o = env.key_cmd(Some("alice"), &["approve-shred", "--kid", "p256-1"]);
    assert_eq!(o.status.code(), Some(1), "a reader cannot approve: {}", stderr(&o));
    let o = env.key_cmd(Some("olivia"), &["approve-shred", "--kid", "p256-1", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let shred: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(shred["unreadable_objects"], 1, "{shred}");
    assert_eq!(shred["listed"], json!(["ops/before-rotation"]), "{shred}");

    // The old file and the old object are gone for good; the new one still opens.
    let o = env.decrypt("alice", &old, &env.path("gone.bin"));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!env.path("gone.bin").exists());
    let o = env.decrypt("alice", &new, &env.path("out.bin"));
    assert!(o.status.success(), "{}", stderr(&o));
    let get = wendy.get(format!("{}/ops/before-rotation", env.node.url)).send().unwrap();
    assert!(!get.status().is_success());

    // The audit names the destroyed key, both people and the lost object.
    let out = redoubt_command()
        .args(["audit", "query", "--json", "--action", "admin:KeyShredded", "--data-dir"])
        .arg(&env.node.data_dir)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("p256-1") && text.contains("olivia") && text.contains("ops/before-rotation"),
        "{text}"
    );

    // A restart keeps it destroyed, and no file of the key is left.
    let pinned = env.kas_url();
    env.node.terminate();
    let kas_dir = env.node.data_dir.join("keys/kas");
    let names: Vec<String> = std::fs::read_dir(&kas_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with("p256-1")), "{names:?}");
    // The files name the KAS by the URL they were made against: the restarted node (on another port) is told
    // that URL is its own, as an operator pins `kas.url`.

    env.node =
        TestNode::start_in_env(&env.node.data_dir.clone(), &[], &[("REDOUBT_KAS_URL", pinned.as_str())])
            .unwrap();
    let o = env.decrypt("alice", &old, &env.path("gone.bin"));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = env.decrypt("alice", &new, &env.path("out.bin"));
    assert!(o.status.success(), "{}", stderr(&o));
    let o = env.key_cmd(None, &["list", "--json"]);
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    let p1 = list["keys"].as_array().unwrap().iter().find(|k| k["kid"] == "p256-1").unwrap();
    assert_eq!(p1["state"], "shredded");
}

/// `redoubt get`: the node hands over the stored container after its GET decision, the KAS releases the key after
/// its own; both are audited, an uncleared identity gets nothing, and the container kept travels with its protection.
#[test]
fn get_reads_a_stored_object_through_the_kas() {
    let env = Env::start();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let wendy = env.client("wendy");
    env.put_labelled("wendy", "ops", "reports/day%201.bin", &data);

    let get = |who: &str, extra: &[&str], out: &Path| {
        let ids = env.path("ids");
        redoubt_command()
            .arg("get")
            .args(["--url", &env.node.url, "--data-dir"])
            .arg(&env.node.data_dir)
            .arg("--ca")
            .arg(env.node.pki("ca.pem"))
            .arg("--cert")
            .arg(ids.join(format!("{who}.pem")))
            .arg("--key")
            .arg(ids.join(format!("{who}.key")))
            .args(extra)
            .arg("ops/reports/day 1.bin")
            .arg(out)
            .output()
            .unwrap()
    };
    let (out, kept) = (env.path("got.bin"), env.path("kept.tdf"));
    let o = get("alice", &["--keep-container", kept.to_str().unwrap()], &out);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap(), data, "what `get` wrote is the object");
    // The container kept is protected: it names this KAS and opens only through it.
    let kao = TdfReader::open(std::fs::File::open(&kept).unwrap())
        .unwrap()
        .manifest()
        .encryption_information
        .key_access[0]
        .clone();
    assert!(kao.url.ends_with(&format!(":{}/kas", env.node.addr.port())), "{}", kao.url);
    let o = env.decrypt("alice", &kept, &env.path("again.bin"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(env.path("again.bin")).unwrap(), data);
    let o = env.decrypt("bob", &kept, &env.path("stolen.bin"));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!env.path("stolen.bin").exists());

    // An uncleared identity is refused by the node before any container leaves, and nothing is written.
    let refused = env.path("refused.bin");
    let o = get("bob", &[], &refused);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("AccessDenied"), "{}", stderr(&o));
    assert!(!refused.exists());
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind: {leftovers:?}");
    // A missing object is a negative answer too; a bad value of the header is a usage error of the request.
    let o = redoubt_command()
        .arg("get")
        .args(["--url", &env.node.url, "--data-dir"])
        .arg(&env.node.data_dir)
        .args(["ops/no-such-key", env.path("none2.bin").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let bad = wendy
        .get(format!("{}/ops/reports/day%201.bin", env.node.url))
        .header("x-redoubt-ztdf", "plaintext")
        .send()
        .unwrap();
    assert_eq!(bad.status(), 400);

    // Both decisions are in the audit: the GET of the container and the rewrap, for alice; the refused GET for bob.
    let gets = env.node.audit_entries("s3:GetObject");
    assert!(gets.iter().any(|e| e["who"]["name"] == "alice" && e["decision"] == "allow"), "{gets:?}");
    assert!(gets.iter().any(|e| e["who"]["name"] == "bob" && e["decision"] == "deny"), "{gets:?}");
    let rewraps = env.kas_audit();
    assert!(rewraps.iter().any(|e| e["who"]["name"] == "alice" && e["decision"] == "allow"), "{rewraps:?}");
}

/// An ES256 key made here, as PKCS#8 PEM: an OIDC issuer's or a client's DPoP key.
fn es256_pem() -> (String, Vec<u8>) {
    let der = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &aws_lc_rs::rand::SystemRandom::new(),
    )
    .unwrap();
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der.as_ref());
    (format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n"), der.as_ref().to_vec())
}

/// A compact ES256 JWT over `claims`, signed with a PKCS#8 key (the issuer's), `kid` k1.
fn issue(issuer_der: &[u8], claims: &Value) -> String {
    let b64 = |b: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, b);
    let key = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        issuer_der,
    )
    .unwrap();
    let input = format!(
        "{}.{}",
        b64(json!({"alg": "ES256", "typ": "JWT", "kid": "k1"}).to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let sig = key.sign(&aws_lc_rs::rand::SystemRandom::new(), input.as_bytes()).unwrap();
    format!("{input}.{}", b64(sig.as_ref()))
}

/// Bearer-token callers (OpenTDF clients): the access token must be bound to a key (`cnf.jkt`, RFC 9449) and the
/// request token signed by that key, which it carries in its `jwk` header. Each refusal has its rule and is audited.
#[test]
fn bearer_callers_prove_their_bound_key() {
    let dir = tempfile::tempdir().unwrap();
    let (issuer_pem, issuer_der) = es256_pem();
    let issuer_jwk =
        SigningKey::from_pkcs8_pem(&issuer_pem).unwrap().public_jwk().unwrap().to_json(Some("k1"));
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, json!({"keys": [issuer_jwk]}).to_string()).unwrap();
    let config = dir.path().join("node.toml");
    std::fs::write(
        &config,
        format!(
            "[oidc]\nissuer = \"https://idp.test/realms/ops\"\naudience = \"redoubt\"\njwks_file = \"{}\"\n",
            jwks.display()
        ),
    )
    .unwrap();
    let env = Env::start_env(&["--config", config.to_str().unwrap()], &[]);
    let (plain, tdf) = (env.path("plain.bin"), env.path("file.tdf"));
    random_file(&plain, 10_000);
    env.encrypt("alice", &["--label", env.path("label.xml").to_str().unwrap()], &plain, &tdf);

    let (dpop_pem, _) = es256_pem();
    let dpop = SigningKey::from_pkcs8_pem(&dpop_pem).unwrap();
    let jkt = redoubt_kas::jwk_thumbprint(&dpop.public_jwk().unwrap());
    let (other_pem, _) = es256_pem();
    let other = SigningKey::from_pkcs8_pem(&other_pem).unwrap();
    let access = |user: &str, clearance: &str, cnf: Option<&str>| {
        let mut claims = json!({
            "iss": "https://idp.test/realms/ops", "aud": "redoubt", "iat": now(), "exp": now() + 600,
            "preferred_username": user, "aciClr": clearance, "nationality": "FRA", "redoubt_role": "reader",
        });
        if let Some(jkt) = cnf {
            claims["cnf"] = json!({ "jkt": jkt });
        }
        issue(&issuer_der, &claims)
    };
    // No client certificate: the bearer token is the only credential.
    let anonymous = env.node.client(&redoubt_testkit::Credential::Anonymous);
    let post_bearer = |bearer: &str, token: &str| {
        let resp = anonymous
            .post(format!("{}/v2/rewrap", env.kas_url()))
            .bearer_auth(bearer)
            .json(&json!({"signedRequestToken": token}))
            .send()
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json::<Value>().unwrap_or(Value::Null))
    };

    // The holder of the bound key, cleared: the share is released and opens.
    let forged = request_for(&tdf);
    let body = forged.body.to_json().unwrap();
    let bound = access("jwt-reader", "SECRET", Some(&jkt));
    let token = redoubt_kas::sign_bound_request_token(&body, &dpop, now()).unwrap();
    let (status, v) = post_bearer(&bound, &token);
    assert_eq!(status, 200, "{v}");
    let response = RewrapResponse::parse(&v.to_string()).unwrap();
    assert!(forged.session.open_results(&response)[0].share.is_ok(), "{v}");

    // Someone who stole the access token but not the key, signing with their own key (in the header too).
    let token = redoubt_kas::sign_bound_request_token(&body, &other, now()).unwrap();
    let (status, v) = post_bearer(&bound, &token);
    assert_eq!(status, 401, "{v}");
    assert!(v["error"].as_str().unwrap().contains("cnf.jkt"), "{v}");
    // A request token without the key in its header.
    let token = redoubt_kas::sign_request_token(&body, &dpop, now()).unwrap();
    assert_eq!(post_bearer(&bound, &token).0, 401);
    // An access token bound to no key proves nothing about who sends the request.
    let unbound = access("jwt-reader", "SECRET", None);
    let token = redoubt_kas::sign_bound_request_token(&body, &dpop, now()).unwrap();
    let (status, v) = post_bearer(&unbound, &token);
    assert_eq!(status, 401, "{v}");
    // Bound and proven, but not cleared: the KAS's decision refuses the key access object.
    let low = access("jwt-low", "UNCLASSIFIED", Some(&jkt));
    let token = redoubt_kas::sign_bound_request_token(&body, &dpop, now()).unwrap();
    let (status, v) = post_bearer(&low, &token);
    assert_eq!(status, 200, "{v}");
    assert_eq!(first_result(&v).0, "fail", "{v}");
    // Neither a certificate nor a token.
    assert_eq!(post_bearer("", &token).0, 401);

    let records = env.kas_audit();
    let rules = |who: &str| -> Vec<String> {
        records
            .iter()
            .filter(|r| r["who"]["name"] == who && r["decision"] == "deny")
            .map(|r| r["policy_ids"].to_string())
            .collect()
    };
    let reader_denials = rules("jwt-reader").join(" ");
    for rule in ["kas-dpop-key-mismatch", "kas-dpop-no-key", "kas-token-unbound"] {
        assert!(reader_denials.contains(rule), "{rule} not audited: {reader_denials}");
    }
    assert!(records.iter().any(|r| r["who"]["name"] == "jwt-reader" && r["decision"] == "allow"));
    assert_eq!(rules("jwt-low").len(), 1, "{records:?}");
}

/// A SoftHSM2 token in its own folder: the node sees it through SOFTHSM2_CONF.
fn softhsm_token(dir: &Path) -> PathBuf {
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!("directories.tokendir = {}\nobjectstore.backend = file\n", tokens.display()),
    )
    .unwrap();
    let out = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args(["--init-token", "--free", "--label", "redoubt", "--pin", "1234", "--so-pin", "5678"])
        .output()
        .unwrap_or_else(|e| panic!("softhsm2-util: {e}: run scripts/install-test-deps"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    conf
}

const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

#[test]
fn pkcs11_custody_with_softhsm() {
    assert!(Path::new(SOFTHSM_MODULE).exists(), "SoftHSM2 is missing: run scripts/install-test-deps");
    let hsm = tempfile::tempdir().unwrap();
    let conf = softhsm_token(hsm.path());
    let conf = conf.to_str().unwrap();
    let env = Env::start_env(
        &[],
        &[
            ("SOFTHSM2_CONF", conf),
            ("REDOUBT_KEYS_CUSTODY", "pkcs11"),
            ("REDOUBT_KEYS_PKCS11_MODULE", SOFTHSM_MODULE),
            ("REDOUBT_KEYS_PKCS11_TOKEN", "redoubt"),
            ("REDOUBT_PKCS11_PIN", "1234"),
        ],
    );
    let o = env.key_cmd(None, &["list", "--json"]);
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list["backend"], "pkcs11", "{list}");
    // No private key material on disk: only the keyring's metadata.
    let kas_dir = env.node.data_dir.join("keys/kas");
    for e in std::fs::read_dir(&kas_dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert_eq!(name, "keyring.json", "unexpected file in the key folder: {name}");
    }
    let plain = env.path("plain.bin");
    let data = random_file(&plain, 50_000);
    let label = env.path("label.xml");
    for alg in ["ec:secp256r1", "rsa:2048", "ec:secp384r1"] {
        let tdf = env.path("hsm.tdf");
        env.encrypt("alice", &["--kas-algorithm", alg, "--label", label.to_str().unwrap()], &plain, &tdf);
        let out = env.path("out.bin");
        let o = env.decrypt("alice", &tdf, &out);
        assert!(o.status.success(), "{alg}: {}", stderr(&o));
        assert_eq!(std::fs::read(&out).unwrap(), data);
        let o = env.decrypt("bob", &tdf, &env.path("no.bin"));
        assert_eq!(o.status.code(), Some(1), "{alg}: {}", stderr(&o));
    }
    // Rotation and destruction inside the token.
    let old = env.path("old.tdf");
    env.encrypt("alice", &["--label", label.to_str().unwrap()], &plain, &old);
    assert!(env.key_cmd(None, &["rotate"]).status.success());
    assert!(env.key_cmd(None, &["shred", "--kid", "p256-1", "--yes"]).status.success());
    let o = env.key_cmd(Some("olivia"), &["approve-shred", "--kid", "p256-1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = env.decrypt("alice", &old, &env.path("gone.bin"));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

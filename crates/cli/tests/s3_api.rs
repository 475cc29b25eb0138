//! Black-box tests of the S3 API with a real S3 client (boto3, installed by scripts/test): each test spawns a
//! node, issues identities with `redoubt identity create`, and runs one test of `tests/s3/s3_suite.py` against it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use redoubt_testkit::{TestNode, redoubt_command};
use serde_json::{Value, json};

const SUITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/s3/s3_suite.py");

/// A node with identities, and the env file the Python suite reads.
struct S3Env {
    node: TestNode,
    _dir: tempfile::TempDir,
    env_file: PathBuf,
}

fn label_xml(classification: &str, releasable: &[&str]) -> String {
    let values: String = releasable.iter().map(|v| format!("<GenericValue>{v}</GenericValue>")).collect();
    let category = if releasable.is_empty() {
        String::new()
    } else {
        format!(
            r#"<Category TagName="Releasable To" Type="PERMISSIVE" URI="urn:oid:1.3.26.1.4.2">{values}</Category>"#
        )
    };
    format!(
        r#"<originatorConfidentialityLabel xmlns="urn:nato:stanag:4774:confidentialitymetadatalabel:1:0" ReviewDateTime="2030-01-01T00:00:00Z"><ConfidentialityInformation><PolicyIdentifier URI="urn:oid:1.3.26.1.3.1">NATO</PolicyIdentifier><Classification>{classification}</Classification>{category}</ConfidentialityInformation><CreationDateTime>2025-01-01T09:00:00Z</CreationDateTime></originatorConfidentialityLabel>"#
    )
}

fn compact(xml: &str) -> String {
    redoubt_label::Label::from_xml(xml.as_bytes(), redoubt_label::Mode::Strict)
        .unwrap()
        .to_compact_json()
        .unwrap()
}

impl S3Env {
    fn start() -> S3Env {
        Self::start_with(tempfile::tempdir().unwrap(), &[])
    }

    fn start_with(dir: tempfile::TempDir, extra: &[&str]) -> S3Env {
        let data = dir.path().join("data");
        let node = TestNode::start_in(&data, extra).unwrap();
        let creds = dir.path().join("creds");
        std::fs::create_dir(&creds).unwrap();
        let mut ids = BTreeMap::new();
        for (name, role, clr, nat) in [
            ("writer", "writer", "SECRET", "FRA"),
            ("reader_fra", "reader", "CONFIDENTIAL", "FRA"),
            ("reader_uncleared", "reader", "UNCLASSIFIED", "FRA"),
            ("reader_usa", "reader", "SECRET", "USA"),
            ("operator", "operator", "SECRET", "FRA"),
            ("auditor", "auditor", "UNCLASSIFIED", "FRA"),
            ("sec_reader", "reader", "SECRET", "FRA"),
            ("laptop", "device", "UNCLASSIFIED", "FRA"),
        ] {
            let v = node.create_identity(&creds, name, role, clr, nat);
            ids.insert(
                name.to_owned(),
                json!({
                    "access_key_id": v["access_key_id"],
                    "secret_access_key": v["secret_access_key"],
                    "certificate": v["certificate"],
                    "private_key": v["private_key"],
                }),
            );
        }
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let other_policy = label_xml("CONFIDENTIAL", &["FRA"])
            .replace(r#"URI="urn:oid:1.3.26.1.3.1">NATO"#, r#"URI="urn:oid:1.2.3.4.5">OTHER"#);
        let labels = json!({
            "conf_fra": compact(&label_xml("CONFIDENTIAL", &["FRA"])),
            "conf_fra_xml": b64(&label_xml("CONFIDENTIAL", &["FRA"])),
            "cts": compact(&label_xml("TOP SECRET", &[])),
            "sec_fra": compact(&label_xml("SECRET", &["FRA"])),
            "food": b64(&other_policy),
        });
        let bin = redoubt_testkit::redoubt_bin();
        let revoke_cmd = format!(
            "{} identity revoke --data-dir {} --url {}",
            bin.display(),
            node.data_dir.display(),
            node.url
        );
        let env = json!({
            "endpoint": node.url,
            "ca": node.pki("ca.pem"),
            "data_dir": node.data_dir,
            "identities": ids,
            "labels": labels,
            "revoke_cmd": revoke_cmd,
            "bin": bin,
        });
        let env_file = dir.path().join("env.json");
        std::fs::write(&env_file, serde_json::to_vec_pretty(&env).unwrap()).unwrap();
        S3Env { node, _dir: dir, env_file }
    }

    fn run(&self, test: &str) {
        let out = Command::new("python3").arg(SUITE).arg(&self.env_file).arg(test).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{test} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- node log (tail)\n{}",
            tail(&self.node.logs(), 40)
        );
        print!("{stdout}");
    }
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

macro_rules! s3_test {
    ($name:ident) => {
        #[test]
        fn $name() {
            S3Env::start().run(stringify!($name));
        }
    };
}

s3_test!(test_buckets);
s3_test!(test_objects);
s3_test!(test_ranges);
s3_test!(test_list_v2);
s3_test!(test_copy_and_batch_delete);
s3_test!(test_multipart);
s3_test!(test_conditional);
s3_test!(test_presigned);
s3_test!(test_four_identities);
s3_test!(test_labels_on_write);
s3_test!(test_bad_keys);
s3_test!(test_revocation);
s3_test!(test_audit_api_roles);
s3_test!(test_no_plaintext_at_rest);
s3_test!(test_truncated_and_oversized);
s3_test!(test_posture);
s3_test!(test_client_ztdf);

/// OIDC bearer tokens (ES256, made by Python `cryptography`) against a node configured with their issuer's JWKS.
#[test]
fn test_oidc_bearer() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("python3").arg(SUITE).args(["-", "make_oidc"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let config = dir.path().join("node.toml");
    std::fs::write(
        &config,
        "[oidc]\nissuer = \"https://idp.test/realms/ops\"\naudience = \"redoubt\"\njwks_file = \"jwks.json\"\n",
    )
    .unwrap();
    let config = config.to_string_lossy().into_owned();
    S3Env::start_with(dir, &["--config", &config]).run("test_oidc_bearer");
}

/// `identity list|show` never print secrets; `policy test` explains a decision offline as the node makes it.
#[test]
fn identity_list_show_and_policy_test() {
    let env = S3Env::start();
    let node = &env.node;
    let run = |args: &[&str]| {
        let out = redoubt_command().args(args).arg("--data-dir").arg(&node.data_dir).output().unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, list, err) = run(&["identity", "list", "--url", &node.url]);
    assert_eq!(code, 0, "{err}");
    for name in ["admin", "writer", "reader_fra", "operator", "laptop"] {
        assert!(list.contains(name), "list shows {name}: {list}");
    }
    let (code, json, _) = run(&["identity", "show", "reader_fra", "--json", "--url", &node.url]);
    assert_eq!(code, 0);
    let shown: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(shown["clearance"], "CONFIDENTIAL");
    assert_eq!(shown["nationality"], "FRA");
    assert!(shown["secret_access_key"].is_null(), "show never prints the secret key");
    let env_json: Value = serde_json::from_slice(&std::fs::read(&env.env_file).unwrap()).unwrap();
    let secret = env_json["identities"]["reader_fra"]["secret_access_key"].as_str().unwrap();
    assert!(!list.contains(secret) && !json.contains(secret));
    let (code, _, err) = run(&["identity", "show", "nobody", "--url", &node.url]);
    assert_eq!(code, 2);
    assert!(err.contains("no identity named `nobody`"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let label = dir.path().join("label.xml");
    std::fs::write(&label, label_xml("CONFIDENTIAL", &["FRA"])).unwrap();
    let label = label.to_string_lossy().into_owned();
    let (code, out, _) =
        run(&["policy", "test", "--identity", "reader_fra", "--label", &label, "--action", "read"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("PERMIT"), "{out}");
    let (code, out, _) =
        run(&["policy", "test", "--identity", "reader_usa", "--label", &label, "--action", "read"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("DENY") && out.contains("rule 3"), "{out}");
    let (code, out, _) =
        run(&["policy", "test", "--identity", "operator", "--label", &label, "--action", "read"]);
    assert_eq!(code, 1);
    assert!(out.contains("operators-never-read-data"), "{out}");
    let (code, out, _) = run(&[
        "policy",
        "test",
        "--role",
        "reader",
        "--clearance",
        "UNCLASSIFIED",
        "--nationality",
        "FRA",
        "--label",
        &label,
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("rule 2"), "{out}");
}

/// The same with the key set fetched from the issuer's HTTPS URL (`oidc.jwks_url`, trusting `oidc.jwks_ca`).
#[test]
fn test_oidc_bearer_jwks_url() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("python3").arg(SUITE).args(["-", "make_oidc"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let served = dir.path().join("idp");
    std::fs::create_dir(&served).unwrap();
    std::fs::copy(dir.path().join("jwks.json"), served.join("jwks.json")).unwrap();
    let mut idp = Command::new("python3").arg(SUITE).args(["-", "serve_jwks"]).arg(&served).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let port = loop {
        if let Ok(p) = std::fs::read_to_string(served.join("port")) {
            break p;
        }
        assert!(std::time::Instant::now() < deadline, "the test IdP did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let config = dir.path().join("node.toml");
    std::fs::write(
        &config,
        format!(
            "[oidc]\nissuer = \"https://idp.test/realms/ops\"\naudience = \"redoubt\"\njwks_url = \"https://127.0.0.1:{port}/jwks.json\"\njwks_ca = \"idp/ca.pem\"\n"
        ),
    )
    .unwrap();
    let config = config.to_string_lossy().into_owned();
    let env = S3Env::start_with(dir, &["--config", &config]);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| env.run("test_oidc_bearer")));
    let _ = idp.kill();
    let _ = idp.wait();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

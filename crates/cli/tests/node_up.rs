//! Black-box tests of `redoubt up`: the real binary, real TLS, real clients (reqwest/rustls and curl).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redoubt_testkit::{
    Credential, RawOutcome, TestNode, foreign_client_cert, raw_get, raw_request, redoubt_command,
    unlisted_client_cert,
};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn first_start_bootstraps_the_pki_and_an_admin_identity_with_secret_keys() {
    let node = TestNode::start();
    for file in [
        "ca.pem",
        "ca.key",
        "admin.pem",
        "admin.key",
        "node.pem",
        "node.key",
        "server.pem",
        "server.key",
        "node.json",
    ] {
        assert!(node.pki(file).is_file(), "{file} missing");
    }
    for key in ["ca.key", "admin.key", "node.key", "server.key"] {
        assert_eq!(mode(&node.pki(key)), 0o600, "{key} must be 0600");
    }
    assert_eq!(mode(&node.data_dir.join("pki")), 0o700);
    let banner = node.banner.join("\n");
    assert!(banner.contains("bootstrapped a new node"), "{banner}");
    assert!(banner.contains(&node.url), "{banner}");
    assert!(banner.contains(node.pki("admin.key").to_str().unwrap()), "{banner}");
    // No private key material on stdout or in the logs.
    let logs = node.logs();
    for text in [&banner, &logs] {
        assert!(!text.contains("PRIVATE KEY"), "key material printed");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(node.pki("node.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "redoubt-pki");
    assert_eq!(manifest["identities"][0]["name"], "admin");
}

#[test]
fn the_printed_curl_command_works_as_printed() {
    let node = TestNode::start();
    let line = node.banner.iter().find(|l| l.contains("curl ")).expect("banner has a curl command");
    let command = &line[line.find("curl ").unwrap()..];
    let out =
        std::process::Command::new("sh").arg("-c").arg(format!("{command} -sS --fail")).output().unwrap();
    assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), r#"{"status":"ok"}"#);
}

#[test]
fn healthz_answers_over_tls_verified_against_the_node_ca_and_only_against_it() {
    let node = TestNode::start();
    let resp = node.get(&Credential::Anonymous, "/healthz").unwrap();
    assert_eq!(resp.status(), 200);
    // A client that does not trust the node CA cannot verify the node (curl with the system store).
    let out = std::process::Command::new("curl")
        .args(["-sS", "--fail", &format!("{}/healthz", node.url)])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the node's certificate must not verify against public roots");
}

#[test]
fn without_an_issued_certificate_nothing_but_healthz_is_served() {
    let node = TestNode::start();
    let tmp = tempfile::tempdir().unwrap();
    for path in ["/readyz", "/metrics", "/healthz/../metrics", "/admin/identities", "/audit/records"] {
        let resp = node.get(&Credential::Anonymous, path).unwrap();
        assert_eq!(resp.status(), 401, "{path} without a certificate");
        assert_eq!(resp.headers()["www-authenticate"], "mutual-tls");
    }
    // Every other path is the S3 API, which refuses an unauthenticated caller with S3's AccessDenied.
    let resp = node.get(&Credential::Anonymous, "/nope").unwrap();
    assert_eq!(resp.status(), 403, "/nope without credentials");
    assert!(resp.text().unwrap().contains("<Code>AccessDenied</Code>"));
    // A certificate from another CA fails the TLS handshake: no route at all, not even /healthz.
    let (cert, key) = foreign_client_cert(tmp.path());
    let foreign = Credential::Files { cert, key };
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert!(node.get(&foreign, path).is_err(), "{path} with a foreign certificate must fail");
    }
    // A certificate the node CA signed but the node never issued (not in its identity list) is nobody.
    let (cert, key) = unlisted_client_cert(&node, tmp.path());
    let unlisted = Credential::Files { cert, key };
    assert_eq!(node.get(&unlisted, "/healthz").unwrap().status(), 200);
    assert_eq!(node.get(&unlisted, "/metrics").unwrap().status(), 401);
    // The administrator gets everything.
    for path in ["/readyz", "/metrics"] {
        assert_eq!(node.get(&Credential::Admin, path).unwrap().status(), 200, "{path} as admin");
    }
    assert_eq!(node.get(&Credential::Admin, "/nope").unwrap().status(), 404);
}

#[test]
fn metrics_are_openmetrics_with_requests_by_route_and_status() {
    let node = TestNode::start();
    node.get(&Credential::Anonymous, "/healthz").unwrap();
    node.get(&Credential::Anonymous, "/metrics").unwrap();
    let resp = node.get(&Credential::Admin, "/metrics").unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = resp.text().unwrap();
    for needle in [
        "redoubt_build_info{version=\"",
        "redoubt_uptime_seconds ",
        "redoubt_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"}",
        "redoubt_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"401\"} 1",
        "redoubt_http_request_duration_seconds_bucket{le=",
        "redoubt_tls_connections_open ",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    assert!(text.ends_with("# EOF\n"));
}

#[test]
fn a_restart_keeps_the_ca_and_the_identities() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut first = TestNode::start_in(&dir, &[]).unwrap();
    let files = ["ca.pem", "ca.key", "admin.pem", "admin.key", "node.pem", "node.key", "node.json"];
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(first.pki(f)).unwrap()).collect();
    let fingerprint = first.banner.iter().find(|l| l.contains("SHA-256")).unwrap().clone();
    assert!(first.terminate().success());

    let second = TestNode::start_in(&dir, &[]).unwrap();
    assert!(second.banner.join("\n").contains("state reused from"));
    assert!(second.banner.contains(&fingerprint), "CA fingerprint changed");
    let after: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(second.pki(f)).unwrap()).collect();
    assert!(before == after, "node state changed across a restart");
    assert_eq!(
        second.get(&Credential::Admin, "/metrics").unwrap().status(),
        200,
        "admin credential still valid"
    );
}

#[test]
fn sigterm_exits_zero_and_loses_no_accepted_request() {
    let mut node = TestNode::start();
    let config = Arc::new(node.tls_config(&Credential::Admin));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (config, stop, addr) = (config.clone(), stop.clone(), node.addr);
            std::thread::spawn(move || {
                let mut outcomes = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let outcome = raw_get(addr, config.clone(), "/readyz");
                    let refused = matches!(outcome, RawOutcome::NotAccepted(_));
                    outcomes.push(outcome);
                    if refused {
                        break;
                    }
                }
                outcomes
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    node.signal("TERM");
    let status = node.wait_exit(Duration::from_secs(60));
    stop.store(true, Ordering::Relaxed);
    let outcomes: Vec<RawOutcome> = workers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    assert!(status.success(), "exit status {status}");
    let served = outcomes.iter().filter(|o| matches!(o, RawOutcome::Response(_))).count();
    let lost: Vec<_> = outcomes.iter().filter(|o| matches!(o, RawOutcome::Lost(_))).collect();
    assert!(served > 20, "the load did not run: {served} responses");
    assert!(lost.is_empty(), "{} of {} accepted requests lost: {lost:?}", lost.len(), outcomes.len());
    // Every response is 200 (ready) or 503 (already shutting down), never anything else.
    assert!(
        outcomes.iter().all(|o| matches!(o, RawOutcome::Response(200 | 503) | RawOutcome::NotAccepted(_)))
    );
    let logs = node.logs();
    assert!(logs.contains("SIGTERM received") && logs.contains("\"cut\":0"), "{logs}");
}

#[test]
fn sigint_exits_zero_too() {
    let mut node = TestNode::start();
    node.signal("INT");
    assert!(node.wait_exit(Duration::from_secs(30)).success());
}

#[test]
fn a_second_node_on_the_same_data_folder_is_refused() {
    let first = TestNode::start();
    let err = TestNode::start_in(&first.data_dir, &[]).unwrap_err();
    assert!(err.contains("another redoubt process is using the data folder"), "{err}");
    assert!(err.contains("exit status: 2"), "{err}");
}

#[test]
fn a_damaged_data_folder_is_refused_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut node = TestNode::start_in(&dir, &[]).unwrap();
    assert!(node.terminate().success());
    let admin = dir.join("pki/admin.pem");
    let mut bytes = std::fs::read(&admin).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&admin, &bytes).unwrap();
    let err = TestNode::start_in(&dir, &[]).unwrap_err();
    assert!(err.contains("exit status: 2"), "{err}");
    assert!(err.contains("admin.pem") && err.contains("restore it from a backup"), "{err}");
}

#[test]
fn an_interrupted_bootstrap_leaves_nothing_a_later_start_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    // What a bootstrap killed before its commit leaves: a staging folder with some files.
    let staging = dir.join(".pki-staging-999-deadbeef");
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::write(staging.join("ca.pem"), "half-written").unwrap();
    let node = TestNode::start_in(&dir, &[]).unwrap();
    assert!(node.banner.join("\n").contains("bootstrapped a new node"));
    assert!(!staging.exists(), "uncommitted staging folder must be discarded");
    assert_ne!(std::fs::read_to_string(node.pki("ca.pem")).unwrap(), "half-written");

    // A bootstrap killed at any moment: the folder either has a complete PKI or gets a fresh one.
    for delay_ms in [0u64, 2, 5, 10, 20] {
        let dir = tmp.path().join(format!("killed-{delay_ms}"));
        let mut child = redoubt_command()
            .args(["up", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap();
        child.wait().unwrap();
        let node = TestNode::start_in(&dir, &[]).unwrap();
        assert_eq!(node.get(&Credential::Admin, "/readyz").unwrap().status(), 200);
    }
}

#[test]
fn bad_config_exits_2_naming_the_key_the_source_and_the_expected_form() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("node.toml");
    std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:0\"\nlisten_port = 9\n").unwrap();
    let out = redoubt_command().args(["up", "--config"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown key `server.listen_port`") && err.contains(file.to_str().unwrap()),
        "{err}"
    );
    assert!(err.contains("line 3"), "{err}");

    std::fs::write(&file, "[server]\nlisten = \"everywhere\"\n").unwrap();
    let out = redoubt_command().args(["config", "show", "--config"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("key `server.listen` has `everywhere`, expected an ADDRESS:PORT"), "{err}");

    let out = redoubt_command().args(["config", "show"]).env("REDOUBT_LOG_FORMAT", "xml").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("environment variable `REDOUBT_LOG_FORMAT`"));

    let out = redoubt_command().args(["config", "show"]).env("REDOUBT_SERVER_LISTN", "x").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown key `REDOUBT_SERVER_LISTN`"));

    let out = redoubt_command().args(["up", "--listen", "nowhere"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("command-line flag `--listen`"));
}

#[test]
fn config_show_prints_the_effective_config_with_sources() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("node.toml");
    std::fs::write(&file, "[node]\nname = \"fob-7\"\n[server]\nlisten = \"127.0.0.1:7000\"\n").unwrap();
    let out = redoubt_command()
        .args(["config", "show", "--config"])
        .arg(&file)
        .args(["--log-format", "json"])
        .env("REDOUBT_SERVER_LISTEN", "127.0.0.1:7001")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("name = \"fob-7\"  # config file"), "{text}");
    assert!(
        text.contains("listen = \"127.0.0.1:7001\"  # environment variable `REDOUBT_SERVER_LISTEN`"),
        "{text}"
    );
    assert!(text.contains("format = \"json\"  # command-line flag `--log-format`"), "{text}");
    assert!(text.contains("max_connections = 4096  # default"), "{text}");
}

#[test]
fn every_subcommand_has_help_and_the_binary_a_version() {
    for args in [&["--help"][..], &["up", "--help"], &["config", "--help"], &["config", "show", "--help"]] {
        let out = redoubt_command().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: redoubt"), "{args:?}");
    }
    let out = redoubt_command().arg("--version").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("redoubt {}", env!("CARGO_PKG_VERSION")));
    let out = redoubt_command().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn extra_hostnames_are_served_by_a_reissued_certificate_from_the_same_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut first = TestNode::start_in(&dir, &[]).unwrap();
    let ca = std::fs::read(first.pki("ca.pem")).unwrap();
    assert!(first.terminate().success());
    let node = TestNode::start_in(&dir, &["--hostname", "fob1.example.int"]).unwrap();
    assert_eq!(std::fs::read(node.pki("ca.pem")).unwrap(), ca);
    // curl resolving the new name to loopback verifies the certificate for it against the node CA.
    let out = std::process::Command::new("curl")
        .args(["-sS", "--fail", "--cacert"])
        .arg(node.pki("ca.pem"))
        .args(["--resolve", &format!("fob1.example.int:{}:127.0.0.1", node.addr.port())])
        .arg(format!("https://fob1.example.int:{}/healthz", node.addr.port()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn oversized_request_heads_are_refused_and_the_node_keeps_serving() {
    let node = TestNode::start();
    let config = Arc::new(node.tls_config(&Credential::Admin));
    let head = |padding: usize| {
        format!(
            "GET /readyz HTTP/1.1\r\nHost: localhost\r\nX-Padding: {}\r\nConnection: close\r\n\r\n",
            "a".repeat(padding)
        )
    };
    assert_eq!(raw_request(node.addr, config.clone(), head(32 * 1024).as_bytes()), RawOutcome::Response(200));
    // Over the 64 KiB bound: 431 (or the connection closed once the bound is crossed), never served.
    match raw_request(node.addr, config.clone(), head(70 * 1024).as_bytes()) {
        RawOutcome::Response(status) => assert_eq!(status, 431),
        RawOutcome::Lost(_) => {}
        other => panic!("unexpected: {other:?}"),
    }
    assert!(!matches!(
        raw_request(node.addr, config, head(1024 * 1024).as_bytes()),
        RawOutcome::Response(200)
    ));
    assert_eq!(node.get(&Credential::Admin, "/readyz").unwrap().status(), 200, "the node keeps serving");
}

#[test]
fn a_closed_stdout_does_not_stop_the_node() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = redoubt_command()
        .args(["up", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(tmp.path().join("data"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before the banner is written
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "the node died when its stdout was closed");
    child.kill().unwrap();
    child.wait().unwrap();
}

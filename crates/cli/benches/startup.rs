//! Startup benchmark: time from spawning `redoubt up` to the first `/readyz` 200, for a first start
//! (bootstrap: CA, identities, server certificate) and for a restart on the same data folder.
//! Goal (issue 2): ready in under 1 s. Printed as figures beside the goal; there is no peer for "bootstrap a PKI
//! and serve mTLS", so the ratio printed is to the goal.
//!
//! Run: `cargo bench -p redoubt-cli --bench startup` (builds the release binary first).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "a benchmark program fails loudly"
)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls_pki_types::pem::PemObject;

const RUNS: usize = 10;
const GOAL: Duration = Duration::from_secs(1);

fn main() {
    let bin = env!("CARGO_BIN_EXE_redoubt");
    let tmp = tempfile::tempdir().unwrap();
    let mut first = Vec::new();
    let mut restart = Vec::new();
    for run in 0..RUNS {
        let dir = tmp.path().join(format!("node-{run}"));
        first.push(time_to_ready(bin, &dir));
        restart.push(time_to_ready(bin, &dir));
    }
    report("first start (bootstrap)", &mut first);
    report("restart (state reused)", &mut restart);
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let p50 = samples[samples.len() / 2];
    let max = samples[samples.len() - 1];
    println!(
        "{what:<26} p50 {:>7.1} ms  max {:>7.1} ms  ({} runs)  goal < {} ms  p50/goal {:.3}",
        p50.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        samples.len(),
        GOAL.as_millis(),
        p50.as_secs_f64() / GOAL.as_secs_f64()
    );
}

/// Spawns the node, reads its URL from the banner, polls /readyz with the admin certificate until 200.
fn time_to_ready(bin: &str, dir: &Path) -> Duration {
    let started = Instant::now();
    let mut child = Command::new(bin)
        .args(["up", "--listen", "127.0.0.1:0", "--log-level", "warn", "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = read_url(&mut child);
    let pki = dir.join("pki");
    let client = client(&pki);
    loop {
        if let Ok(resp) = client.get(format!("{url}/readyz")).send()
            && resp.status() == 200
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = started.elapsed();
    Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    child.wait().unwrap();
    elapsed
}

fn read_url(child: &mut Child) -> String {
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.trim().strip_prefix("URL") {
            // Keep draining stdout so the node never writes into a closed pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return url.trim().to_owned();
        }
    }
    panic!("no URL in the banner");
}

fn client(pki: &Path) -> reqwest::blocking::Client {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls_pki_types::CertificateDer::from_pem_file(pki.join("ca.pem")).unwrap()).unwrap();
    let chain = rustls_pki_types::CertificateDer::pem_file_iter(pki.join("admin.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pki_types::PrivateKeyDer::from_pem_file(pki.join("admin.key")).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
    reqwest::blocking::Client::builder().use_preconfigured_tls(config).build().unwrap()
}

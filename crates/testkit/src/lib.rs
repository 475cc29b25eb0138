//! Black-box test harness for Redoubt: spawns the real `redoubt` binary in a temporary data folder on a free
//! loopback port, waits until it is ready, and hands out TLS clients (verified against the node CA) with or
//! without a client certificate. Every black-box test of every later capability builds on it.
//!
//! Test code: failures panic with a message saying what went wrong, which is what a test wants.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test harness"
)]

mod raw;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

pub use raw::{RawOutcome, raw_get, raw_request};

/// How long a node may take to print its banner and become ready in a test.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Which credential a client presents.
#[derive(Debug, Clone)]
pub enum Credential {
    /// No client certificate.
    Anonymous,
    /// The administrator bootstrap created.
    Admin,
    /// A certificate and key given as PEM files.
    Files { cert: PathBuf, key: PathBuf },
}

/// A running `redoubt up`, killed when dropped.
#[derive(Debug)]
pub struct TestNode {
    child: Option<Child>,
    /// The data folder (kept alive by `_tmp` unless given by the caller).
    pub data_dir: PathBuf,
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// The bound address.
    pub addr: std::net::SocketAddr,
    /// Every line the node printed on stdout before it was ready (the banner).
    pub banner: Vec<String>,
    /// File receiving the node's stderr (its logs).
    pub log_file: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

/// Path of the `redoubt` binary under test: `REDOUBT_BIN`, or `target/<profile>/redoubt` next to the test binary.
pub fn redoubt_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("REDOUBT_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/test-binary -> target/<profile>/redoubt
    let bin = exe.parent().unwrap().parent().unwrap().join("redoubt");
    assert!(bin.exists(), "redoubt binary not found at {}: build it first (cargo build)", bin.display());
    bin
}

/// A `redoubt` command with no `REDOUBT_*` variable inherited from the test's environment.
pub fn redoubt_command() -> Command {
    let mut cmd = Command::new(redoubt_bin());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("REDOUBT_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

impl TestNode {
    /// Starts a node in a fresh temporary data folder.
    pub fn start() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let mut node = Self::start_in(&dir, &[]).unwrap_or_else(|e| panic!("node did not start: {e}"));
        node._tmp = Some(tmp);
        node
    }

    /// Starts a node on `data_dir` with extra arguments; `Err` carries the exit status and stderr when the node
    /// exits before it is ready.
    pub fn start_in(data_dir: &Path, extra: &[&str]) -> Result<Self, String> {
        Self::start_in_env(data_dir, extra, &[])
    }

    /// As [`TestNode::start_in`], with extra environment variables for the node process.
    pub fn start_in_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Result<Self, String> {
        let log_file = data_dir.with_extension(format!("log-{}", std::process::id()));
        let log = std::fs::File::create(&log_file).unwrap();
        let mut child = redoubt_command()
            .args([
                "up",
                "--listen",
                "127.0.0.1:0",
                "--log-format",
                "json",
                "--log-level",
                "info,redoubt_node=debug",
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + START_TIMEOUT;
        let mut banner = Vec::new();
        let mut url = None;
        while url.is_none() || !banner.last().is_some_and(|l: &String| l.starts_with("Stop with")) {
            if let Some(status) = child.try_wait().unwrap() {
                let log = std::fs::read_to_string(&log_file).unwrap_or_default();
                return Err(format!("node exited with {status} before it was ready; stderr:\n{log}"));
            }
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => {
                    if let Some(u) = line.trim().strip_prefix("URL") {
                        url = Some(u.trim().to_owned());
                    }
                    banner.push(line);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(format!("node printed no complete banner within {START_TIMEOUT:?}: {banner:?}"));
            }
        }
        let url = url.unwrap();
        let addr = url.trim_start_matches("https://").parse().unwrap();
        let node = Self {
            child: Some(child),
            data_dir: data_dir.to_path_buf(),
            url,
            addr,
            banner,
            log_file,
            _tmp: None,
        };
        node.wait_ready();
        Ok(node)
    }

    /// A file of the node PKI.
    pub fn pki(&self, file: &str) -> PathBuf {
        self.data_dir.join("pki").join(file)
    }

    /// The node CA certificate.
    pub fn ca(&self) -> CertificateDer<'static> {
        CertificateDer::from_pem_file(self.pki("ca.pem")).unwrap()
    }

    /// A rustls client configuration trusting only the node CA, presenting `credential`.
    pub fn tls_config(&self, credential: &Credential) -> rustls::ClientConfig {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca()).unwrap();
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let files = match credential {
            Credential::Anonymous => None,
            Credential::Admin => Some((self.pki("admin.pem"), self.pki("admin.key"))),
            Credential::Files { cert, key } => Some((cert.clone(), key.clone())),
        };
        match files {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let chain =
                    CertificateDer::pem_file_iter(cert).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
                let key = PrivateKeyDer::from_pem_file(key).unwrap();
                builder.with_client_auth_cert(chain, key).unwrap()
            }
        }
    }

    /// Issues an identity with `redoubt identity create --json` as the node's administrator, writing its
    /// certificate and key into `out`; returns the command's JSON (access key pair, file paths).
    pub fn create_identity(
        &self,
        out: &Path,
        name: &str,
        role: &str,
        clearance: &str,
        nationality: &str,
    ) -> serde_json::Value {
        let output = redoubt_command()
            .args(["identity", "create", "--json", "--name", name, "--role", role, "--clearance", clearance])
            .args(["--nationality", nationality, "--url", &self.url, "--data-dir"])
            .arg(&self.data_dir)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "identity create {name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// An HTTPS client (reqwest, blocking) trusting only the node CA, presenting `credential`.
    pub fn client(&self, credential: &Credential) -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .use_preconfigured_tls(self.tls_config(credential))
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap()
    }

    /// `GET url + path` with `credential`: the status, or the transport error as text.
    pub fn get(&self, credential: &Credential, path: &str) -> Result<reqwest::blocking::Response, String> {
        self.client(credential).get(format!("{}{path}", self.url)).send().map_err(|e| format!("{e:?}"))
    }

    fn wait_ready(&self) {
        let client = self.client(&Credential::Admin);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(resp) = client.get(format!("{}/readyz", self.url)).send()
                && resp.status() == 200
            {
                return;
            }
            assert!(Instant::now() < deadline, "node not ready within {START_TIMEOUT:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The entries of the audit records of one action (`redoubt audit query --json --action ACTION`), as JSON.
    pub fn audit_entries(&self, action: &str) -> Vec<serde_json::Value> {
        let out = redoubt_command()
            .args(["audit", "query", "--json", "--action", action, "--data-dir"])
            .arg(&self.data_dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["entry"].clone())
            .collect()
    }

    /// Process id of the node.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Sends SIGTERM and waits (at most 60 s) for the node to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal("TERM");
        self.wait_exit(Duration::from_secs(60))
    }

    /// Sends a signal (`TERM`, `INT`, `KILL`, …) with kill(1).
    pub fn signal(&self, name: &str) {
        let status =
            Command::new("kill").arg(format!("-{name}")).arg(self.pid().to_string()).status().unwrap();
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the node to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let child = self.child.as_mut().unwrap();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("node did not exit within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The node's log output so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.log_file);
    }
}

/// Writes a self-signed CA and a client certificate it issued into `dir`: a credential from another CA.
/// Returns (client cert path, client key path).
pub fn foreign_client_cert(dir: &Path) -> (PathBuf, PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Some other CA");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    issue_client_cert(dir, "intruder", &issuer)
}

/// Issues a client certificate from the node's own CA key (as someone holding the CA key, or an identity the
/// node no longer lists, would present). Returns (cert path, key path).
pub fn unlisted_client_cert(node: &TestNode, dir: &Path) -> (PathBuf, PathBuf) {
    let ca_key = rcgen::KeyPair::from_pem(&std::fs::read_to_string(node.pki("ca.key")).unwrap()).unwrap();
    let issuer = rcgen::Issuer::from_ca_cert_der(&node.ca(), ca_key).unwrap();
    issue_client_cert(dir, "unlisted", &issuer)
}

fn issue_client_cert(
    dir: &Path,
    name: &str,
    issuer: &rcgen::Issuer<'_, rcgen::KeyPair>,
) -> (PathBuf, PathBuf) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, issuer).unwrap();
    let (cert_path, key_path) = (dir.join(format!("{name}.pem")), dir.join(format!("{name}.key")));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

//! S3 benchmark: Redoubt's S3 API against Garage's, measured side by side in one run with one client.
//!
//! Both servers run on loopback at the same time; every workload (PUT then GET of 64 KiB and 1 MiB objects, 8
//! worker threads, each operation on its own key) runs on one server then the other, back to back, with the same
//! client code: reqwest blocking (HTTP/1.1 keep-alive, one client per worker thread per server) and the small
//! AWS SigV4 signer below (region us-east-1, `UNSIGNED-PAYLOAD`, path-style URLs). Redoubt is reached over TLS (it
//! serves nothing else; the client trusts only its CA), Garage over plain HTTP: TLS is part of Redoubt's cost.
//! Both acknowledge a write only once it is durable (Redoubt always fsyncs blob, metadata and audit record;
//! Garage is configured with `metadata_fsync` and `data_fsync`). Every GET is compared byte for byte with what
//! was PUT: a wrong byte aborts the run. Timings are printed, never asserted.
//!
//! Run: `cargo bench -p redoubt-cli --bench s3` (`-- --scale 0.25` or `S3_BENCH_SCALE=0.25` for fewer
//! operations, `-- --quick` = 0.25). Garage: `GARAGE_BIN`, default `/work/tools/garage/bin/garage`; without it
//! only Redoubt is measured.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::indexing_slicing,
    reason = "a benchmark program fails loudly"
)]

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::{digest, hmac};
use reqwest::blocking::Client;
use rustls_pki_types::pem::PemObject;

/// The label every object PUT to Redoubt carries (compact JSON form): NATO CONFIDENTIAL, Releasable To FRA.
const LABEL: &str = r#"{"v":1,"pol":"NATO","puri":"urn:oid:1.3.26.1.3.1","cls":"CONFIDENTIAL","cats":[{"t":"Releasable To","k":"P","v":["FRA"]}],"cre":"2025-01-01T09:00:00Z","rev":"2030-01-01T00:00:00Z"}"#;
const LABEL_HEADER: &str = "x-amz-meta-redoubt-label";
const BUCKET: &str = "bench";
const REGION: &str = "us-east-1";
const UNSIGNED: &str = "UNSIGNED-PAYLOAD";
const WORKERS: usize = 8;
/// Warm-up operations per worker before each size (connections, caches); not measured.
const WARMUP_PER_WORKER: usize = 2;
/// (object size, operations at scale 1).
const WORKLOADS: [(usize, usize); 2] = [(64 * 1024, 2000), (1024 * 1024, 400)];
const DEFAULT_GARAGE: &str = "/work/tools/garage/bin/garage";
const START_TIMEOUT: Duration = Duration::from_secs(60);
const MIB: f64 = 1024.0 * 1024.0;

fn main() {
    let scale = scale();
    let tmp = tempfile::tempdir().unwrap();
    let outcome = run(tmp.path(), scale);
    drop(tmp);
    if let Err(e) = outcome {
        eprintln!("s3 bench aborted: {e}");
        std::process::exit(1);
    }
}

/// `--scale X` / `--quick` / `S3_BENCH_SCALE`, default 1.
fn scale() -> f64 {
    let args: Vec<String> = std::env::args().collect();
    let mut scale = std::env::var("S3_BENCH_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    for (i, a) in args.iter().enumerate() {
        if a == "--quick" {
            scale = 0.25;
        } else if a == "--scale" {
            scale = args.get(i + 1).and_then(|s| s.parse().ok()).expect("--scale takes a number");
        }
    }
    assert!(scale > 0.0, "the scale must be positive");
    scale
}

fn run(tmp: &Path, scale: f64) -> Result<(), String> {
    println!(
        "S3 bench: Redoubt vs Garage, same client (reqwest blocking, HTTP/1.1 keep-alive, SigV4 UNSIGNED-PAYLOAD, path-style)"
    );
    println!(
        "machine: {} cores, load average {}, cpu pressure {}",
        std::thread::available_parallelism().map_or(0, usize::from),
        loadavg(),
        cpu_pressure()
    );
    println!("{WORKERS} worker threads per run, one client each per server; scale {scale}");
    println!(
        "Redoubt: HTTPS (TLS 1.3, rustls/aws-lc-rs, client trusts only the node CA) - TLS is part of its cost;"
    );
    println!(
        "         every object encrypted (ZTDF, AES-256-GCM, per-object key), blob+metadata+audit fsynced before the ack"
    );

    let redoubt = match start_redoubt(tmp) {
        Ok(r) => Some(r),
        Err(e) => {
            println!("redoubt setup failed, measuring Garage alone: {e}");
            None
        }
    };
    let redoubt_idle = redoubt.as_ref().and_then(|r| rss_kib(r.proc.pid()));

    let garage = match garage_bin() {
        None => {
            println!(
                "garage not found: install it with `cargo install garage --version 2.5.0 --locked \
                 --no-default-features --features bundled-libs,sqlite`"
            );
            None
        }
        Some(bin) => match start_garage(&bin, tmp) {
            Ok(g) => Some(g),
            Err(e) => {
                println!("garage setup failed, measuring Redoubt alone: {e}");
                None
            }
        },
    };
    if let Some(g) = &garage {
        println!("Garage:  {} over plain HTTP on loopback, single node, sqlite metadata,", g.version);
        println!(
            "         metadata_fsync = true, data_fsync = true, compression_level = \"none\", replication_factor = 1"
        );
    }
    let garage_idle = garage.as_ref().and_then(|g| rss_kib(g.proc.pid()));
    println!();

    let targets: Vec<&Target> =
        redoubt.iter().map(|r| &r.target).chain(garage.iter().map(|g| &g.target)).collect();
    if targets.is_empty() {
        return Err("neither server could be started".to_owned());
    }
    let mut rows = Vec::new();
    let started = Instant::now();
    for (size, base_ops) in WORKLOADS {
        let ops = ((base_ops as f64 * scale).round() as usize).max(WORKERS);
        let payload = Payload::new(size);
        for t in &targets {
            warm_up(t, &payload)?;
        }
        for op in [Op::Put, Op::Get] {
            for t in &targets {
                rows.push(measure(t, op, &payload, ops)?);
            }
        }
    }
    let elapsed = started.elapsed();

    print_table(&rows);
    println!();
    println!(
        "all {} GET bodies matched the bytes PUT (length and every byte)",
        rows.iter().filter(|r| r.op == Op::Get).map(|r| r.ops).sum::<usize>()
    );
    println!(
        "measured in {:.1} s; load average now {}, cpu pressure {}",
        elapsed.as_secs_f64(),
        loadavg(),
        cpu_pressure()
    );
    println!();

    let after = |pid: Option<u32>| pid.and_then(rss_kib);
    let (redoubt_pid, garage_pid) =
        (redoubt.as_ref().map(|r| r.proc.pid()), garage.as_ref().map(|g| g.proc.pid()));
    let (redoubt_after, garage_after) = (after(redoubt_pid), after(garage_pid));
    std::thread::sleep(Duration::from_secs(2));
    let (redoubt_later, garage_later) = (after(redoubt_pid), after(garage_pid));
    println!("RSS (VmRSS)            idle after setup   right after run   2 s later   goal");
    if redoubt.is_some() {
        println!(
            "  redoubt              {:>12}      {:>12}  {:>10}   < 50 MiB idle",
            mib(redoubt_idle),
            mib(redoubt_after),
            mib(redoubt_later)
        );
    }
    if garage.is_some() {
        println!(
            "  garage (reference)   {:>12}      {:>12}  {:>10}",
            mib(garage_idle),
            mib(garage_after),
            mib(garage_later)
        );
    }
    println!(
        "  (setup: redoubt = start, identity and bucket created; garage = start, layout, key and bucket created)"
    );
    println!();
    if let Some(r) = &redoubt {
        report_log("redoubt", &r.proc.log);
    }
    if let Some(g) = &garage {
        report_log("garage", &g.proc.log);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Workloads

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Put,
    Get,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Put => "PUT",
            Op::Get => "GET",
        }
    }
}

/// Object bodies of one size: random (incompressible) bytes whose first 8 bytes are the object's number, so that
/// every object is distinct (Garage deduplicates identical blocks) and a GET can be checked against what was PUT.
struct Payload {
    size: usize,
    base: Vec<u8>,
}

impl Payload {
    fn new(size: usize) -> Self {
        let mut base = vec![0u8; size];
        let mut seed = [0u8; 8];
        aws_lc_rs::rand::fill(&mut seed).unwrap();
        let mut x = u64::from_le_bytes(seed) | 1;
        for chunk in base.chunks_mut(8) {
            // xorshift64*
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            let v = x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Self { size, base }
    }

    fn body(&self, n: u64) -> Vec<u8> {
        let mut b = self.base.clone();
        b[..8].copy_from_slice(&n.to_le_bytes());
        b
    }

    fn check(&self, n: u64, got: &[u8]) -> Result<(), String> {
        if got.len() != self.size {
            return Err(format!("object {n}: GET returned {} bytes, {} were PUT", got.len(), self.size));
        }
        if got[..8] != n.to_le_bytes() || got[8..] != self.base[8..] {
            let at = (0..self.size)
                .find(|&i| got[i] != if i < 8 { n.to_le_bytes()[i] } else { self.base[i] })
                .unwrap_or(0);
            return Err(format!(
                "object {n}: GET returned different bytes than were PUT (first at offset {at})"
            ));
        }
        Ok(())
    }

    fn key(&self, prefix: &str, n: u64) -> String {
        format!("/{BUCKET}/{prefix}{}k-{n:06}", self.size / 1024)
    }
}

/// One measured run: a server, an operation, a size.
struct Row {
    server: &'static str,
    op: Op,
    size: usize,
    ops: usize,
    wall: Duration,
    lat: Vec<Duration>,
    server_cpu: Option<Duration>,
}

impl Row {
    fn ops_per_s(&self) -> f64 {
        self.ops as f64 / self.wall.as_secs_f64()
    }
    fn pct(&self, p: f64) -> f64 {
        let i = ((self.lat.len() as f64 * p).ceil() as usize).clamp(1, self.lat.len()) - 1;
        self.lat[i].as_secs_f64() * 1e3
    }
}

fn warm_up(t: &Target, payload: &Payload) -> Result<(), String> {
    let n = WORKERS * WARMUP_PER_WORKER;
    run_workers(t, n, |client, i| {
        let key = payload.key("warm-", i as u64);
        t.send(client, reqwest::Method::PUT, &key, Some(payload.body(i as u64)), true)?;
        let got = t.send(client, reqwest::Method::GET, &key, None, false)?;
        payload.check(i as u64, &got)
    })
    .map(drop)
}

fn measure(t: &Target, op: Op, payload: &Payload, ops: usize) -> Result<Row, String> {
    let cpu0 = cpu_time(t.pid);
    let (wall, mut lat) = run_workers(t, ops, |client, i| {
        let n = i as u64;
        let key = payload.key("obj-", n);
        match op {
            Op::Put => {
                t.send(client, reqwest::Method::PUT, &key, Some(payload.body(n)), true)?;
            }
            Op::Get => {
                let got = t.send(client, reqwest::Method::GET, &key, None, false)?;
                payload.check(n, &got)?;
            }
        }
        Ok(())
    })?;
    let server_cpu = cpu_time(t.pid).zip(cpu0).map(|(b, a)| b.saturating_sub(a));
    lat.sort();
    Ok(Row { server: t.name, op, size: payload.size, ops, wall, lat, server_cpu })
}

/// Runs `ops` operations on `WORKERS` threads (worker w uses the server's client w), each taking the next
/// operation number. Returns the wall time from the common start to the last completion, and each operation's
/// latency (request sent to last body byte read; the body built before, the check done after, not counted).
fn run_workers(
    t: &Target,
    ops: usize,
    op: impl Fn(&Client, usize) -> Result<(), String> + Sync,
) -> Result<(Duration, Vec<Duration>), String> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let barrier = Barrier::new(WORKERS + 1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..WORKERS)
            .map(|w| {
                let (next, failed, barrier, op, client) = (&next, &failed, &barrier, &op, &t.clients[w]);
                s.spawn(move || -> Result<Vec<Duration>, String> {
                    barrier.wait();
                    let mut lat = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= ops || failed.load(Ordering::Relaxed) {
                            return Ok(lat);
                        }
                        SPENT.with(|c| c.set(Duration::ZERO));
                        if let Err(e) = op(client, i) {
                            failed.store(true, Ordering::Relaxed);
                            return Err(format!("{} op {i}: {e}", t.name));
                        }
                        lat.push(SPENT.with(std::cell::Cell::get));
                    }
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let mut all = Vec::with_capacity(ops);
        let mut err = None;
        for h in handles {
            match h.join().unwrap() {
                Ok(l) => all.extend(l),
                Err(e) => err = err.or(Some(e)),
            }
        }
        let wall = start.elapsed();
        match err {
            Some(e) => Err(e),
            None => Ok((wall, all)),
        }
    })
}

thread_local! {
    /// Time this thread spent inside [`Target::send`] (request sent to last body byte) for the current operation.
    static SPENT: std::cell::Cell<Duration> = const { std::cell::Cell::new(Duration::ZERO) };
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<8} {:<3} {:>6} {:>6} {:>9} {:>8} {:>8} {:>8} {:>13}   Redoubt/Garage",
        "server", "op", "size", "ops", "ops/s", "MiB/s", "p50 ms", "p99 ms", "srv CPU ms/op"
    );
    for r in rows {
        let peer = rows.iter().find(|p| p.server != r.server && p.op == r.op && p.size == r.size);
        let ratio = match (r.server, peer) {
            ("redoubt", Some(g)) => format!(
                "{:.2} x ops/s, {:.2} x p50 (G/R)",
                r.ops_per_s() / g.ops_per_s(),
                g.pct(0.5) / r.pct(0.5)
            ),
            _ => String::new(),
        };
        let cpu =
            r.server_cpu.map_or("-".to_owned(), |c| format!("{:.2}", c.as_secs_f64() * 1e3 / r.ops as f64));
        println!(
            "{:<8} {:<3} {:>6} {:>6} {:>9.1} {:>8.1} {:>8.2} {:>8.2} {:>13}   {}",
            r.server,
            r.op.name(),
            size_name(r.size),
            r.ops,
            r.ops_per_s(),
            r.ops_per_s() * r.size as f64 / MIB,
            r.pct(0.5),
            r.pct(0.99),
            cpu,
            ratio
        );
    }
    println!(
        "(ratio goal >= 1.0: ops/s Redoubt/Garage; latency ratio is Garage p50 / Redoubt p50, so >= 1 is good too)"
    );
    println!(
        "(srv CPU = the server process's user+system CPU during the run / ops, 10 ms ticks; the client shares the cores)"
    );
}

fn size_name(size: usize) -> String {
    if size >= 1024 * 1024 { format!("{}MiB", size / (1024 * 1024)) } else { format!("{}KiB", size / 1024) }
}

// ---------------------------------------------------------------------------------------------------------------
// The S3 client: reqwest blocking and a SigV4 header signer

/// One S3 endpoint with its credentials and one client per worker.
struct Target {
    name: &'static str,
    /// `https://127.0.0.1:PORT` or `http://127.0.0.1:PORT`.
    endpoint: String,
    /// `127.0.0.1:PORT`, as the Host header carries it.
    host: String,
    access: String,
    secret: String,
    /// Send the Redoubt label header with PUTs of objects.
    label: bool,
    clients: Vec<Client>,
    pid: u32,
}

impl Target {
    /// Sends one signed request; `Ok` with the body on 2xx, else the status and the body as the error.
    /// The time from sending to the last body byte is added to the thread's [`SPENT`].
    fn send(
        &self,
        client: &Client,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
        object_put: bool,
    ) -> Result<impl std::ops::Deref<Target = [u8]>, String> {
        let mut extra: Vec<(&str, &str)> = Vec::new();
        if self.label && object_put && method == reqwest::Method::PUT {
            extra.push((LABEL_HEADER, LABEL));
        }
        let headers =
            sign(method.as_str(), &self.host, path, &extra, &self.access, &self.secret, SystemTime::now());
        let mut req = client.request(method.clone(), format!("{}{path}", self.endpoint));
        for (k, v) in extra.iter().map(|(k, v)| (*k, *v)).chain(headers.iter().map(|(k, v)| (*k, v.as_str())))
        {
            req = req.header(k, v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let start = Instant::now();
        let resp = req.send().map_err(|e| format!("{method} {path}: {e:?}"))?;
        let status = resp.status();
        let bytes = resp.bytes().map_err(|e| format!("{method} {path}: reading the body: {e:?}"))?;
        SPENT.with(|c| c.set(c.get() + start.elapsed()));
        if !status.is_success() {
            return Err(format!("{method} {path}: {status}: {}", String::from_utf8_lossy(&bytes)));
        }
        Ok(bytes)
    }
}

/// SigV4 headers for a request without a query string: `x-amz-date`, `x-amz-content-sha256` and `authorization`.
/// `extra` are the other headers sent (all `x-amz-*`), signed too. `path` is already URI-encoded (ours need none).
fn sign(
    method: &str,
    host: &str,
    path: &str,
    extra: &[(&str, &str)],
    access: &str,
    secret: &str,
    now: SystemTime,
) -> [(&'static str, String); 3] {
    let (date, amz_date) = amz_dates(now);
    let mut signed: Vec<(String, String)> = vec![
        ("host".to_owned(), host.to_owned()),
        ("x-amz-content-sha256".to_owned(), UNSIGNED.to_owned()),
        ("x-amz-date".to_owned(), amz_date.clone()),
    ];
    signed.extend(extra.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_owned())));
    signed.sort();
    let names = signed.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(";");
    let mut canonical = format!("{method}\n{path}\n\n");
    for (k, v) in &signed {
        let _ = writeln!(canonical, "{k}:{v}");
    }
    let _ = write!(canonical, "\n{names}\n{UNSIGNED}");
    let scope = format!("{date}/{REGION}/s3/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
    );
    let mac = |key: &[u8], data: &str| hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes());
    let k = mac(format!("AWS4{secret}").as_bytes(), &date);
    let k = mac(k.as_ref(), REGION);
    let k = mac(k.as_ref(), "s3");
    let k = mac(k.as_ref(), "aws4_request");
    let signature = hex::encode(mac(k.as_ref(), &to_sign));
    [
        ("x-amz-date", amz_date),
        ("x-amz-content-sha256", UNSIGNED.to_owned()),
        (
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={access}/{scope}, SignedHeaders={names}, Signature={signature}"
            ),
        ),
    ]
}

/// (`YYYYMMDD`, `YYYYMMDDTHHMMSSZ`) in UTC.
fn amz_dates(now: SystemTime) -> (String, String) {
    let secs = now.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let date = format!("{y:04}{m:02}{d:02}");
    let time = format!("{date}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60);
    (date, time)
}

/// `WORKERS` clients. Plain-HTTP clients get a TLS configuration too (trusting nothing, never used): reqwest is
/// built without a default crypto provider.
fn clients(tls: Option<&rustls::ClientConfig>) -> Vec<Client> {
    let cfg =
        tls.cloned().unwrap_or_else(|| tls_builder(rustls::RootCertStore::empty()).with_no_client_auth());
    (0..WORKERS)
        .map(|_| {
            Client::builder()
                .http1_only()
                .timeout(Duration::from_secs(120))
                .pool_max_idle_per_host(1)
                .use_preconfigured_tls(cfg.clone())
                .build()
                .unwrap()
        })
        .collect()
}

fn tls_builder(
    roots: rustls::RootCertStore,
) -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert> {
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
}

// ---------------------------------------------------------------------------------------------------------------
// Servers

/// A server process, killed when dropped (also on panic); its stderr goes to `log`.
struct Proc {
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Redoubt {
    target: Target,
    proc: Proc,
}

fn redoubt_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_redoubt"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("REDOUBT_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn start_redoubt(tmp: &Path) -> Result<Redoubt, String> {
    let data = tmp.join("redoubt");
    let log = tmp.join("redoubt.log");
    let child = redoubt_command()
        .args(["up", "--listen", "127.0.0.1:0", "--log-level", "warn", "--data-dir"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", env!("CARGO_BIN_EXE_redoubt")))?;
    let mut proc = Proc { child, log };
    let url = banner_url(&mut proc.child).ok_or_else(|| {
        format!(
            "redoubt printed no URL; its log:\n{}",
            std::fs::read_to_string(&proc.log).unwrap_or_default()
        )
    })?;
    let pki = data.join("pki");
    let roots = {
        let mut r = rustls::RootCertStore::empty();
        r.add(rustls_pki_types::CertificateDer::from_pem_file(pki.join("ca.pem")).unwrap()).unwrap();
        r
    };
    let builder = || tls_builder(roots.clone());
    // /readyz with the administrator certificate, as `redoubt identity` would talk to it.
    let chain = rustls_pki_types::CertificateDer::pem_file_iter(pki.join("admin.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pki_types::PrivateKeyDer::from_pem_file(pki.join("admin.key")).unwrap();
    let admin = Client::builder()
        .use_preconfigured_tls(builder().with_client_auth_cert(chain, key).unwrap())
        .build()
        .unwrap();
    let deadline = Instant::now() + START_TIMEOUT;
    while !admin.get(format!("{url}/readyz")).send().is_ok_and(|r| r.status() == 200) {
        if Instant::now() > deadline {
            return Err("redoubt not ready in time".to_owned());
        }
        std::thread::sleep(Duration::from_millis(20));
    }

    let creds = tmp.join("redoubt-creds");
    std::fs::create_dir(&creds).unwrap();
    let out = redoubt_command()
        .args(["identity", "create", "--json", "--name", "bench", "--role", "writer"])
        .args(["--clearance", "SECRET", "--nationality", "FRA", "--data-dir"])
        .arg(&data)
        .arg("--url")
        .arg(&url)
        .arg("--out")
        .arg(&creds)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(format!("redoubt identity create: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let id: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("identity JSON: {e}"))?;
    let field =
        |f: &str| id[f].as_str().map(str::to_owned).ok_or_else(|| format!("identity create printed no {f}"));
    let tls = builder().with_no_client_auth();
    let target = Target {
        name: "redoubt",
        host: url.trim_start_matches("https://").to_owned(),
        endpoint: url,
        access: field("access_key_id")?,
        secret: field("secret_access_key")?,
        label: true,
        clients: clients(Some(&tls)),
        pid: proc.pid(),
    };
    target.send(&target.clients[0], reqwest::Method::PUT, &format!("/{BUCKET}"), None, false)?;
    Ok(Redoubt { target, proc })
}

/// Reads stdout up to the banner's `URL` line and keeps draining the rest (the node must never write into a
/// closed pipe).
fn banner_url(child: &mut Child) -> Option<String> {
    let stdout = child.stdout.take()?;
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.ok()?;
        if let Some(url) = line.trim().strip_prefix("URL") {
            std::thread::spawn(move || lines.for_each(drop));
            return Some(url.trim().to_owned());
        }
    }
    None
}

struct Garage {
    target: Target,
    proc: Proc,
    version: String,
}

fn garage_bin() -> Option<PathBuf> {
    let bin = std::env::var_os("GARAGE_BIN").map_or_else(|| PathBuf::from(DEFAULT_GARAGE), PathBuf::from);
    bin.is_file().then_some(bin)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_garage(bin: &Path, tmp: &Path) -> Result<Garage, String> {
    let dir = tmp.join("garage");
    std::fs::create_dir_all(&dir).unwrap();
    let (rpc, s3) = (free_port(), free_port());
    let mut secret = [0u8; 32];
    aws_lc_rs::rand::fill(&mut secret).unwrap();
    let config = dir.join("garage.toml");
    std::fs::write(
        &config,
        format!(
            r#"metadata_dir = "{meta}"
data_dir = "{data}"
db_engine = "sqlite"
metadata_fsync = true
data_fsync = true
compression_level = "none"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:{rpc}"
rpc_public_addr = "127.0.0.1:{rpc}"
rpc_secret = "{secret}"

[s3_api]
s3_region = "{REGION}"
api_bind_addr = "127.0.0.1:{s3}"
root_domain = ".s3.garage.localhost"
"#,
            meta = dir.join("meta").display(),
            data = dir.join("data").display(),
            secret = hex::encode(secret),
        ),
    )
    .unwrap();
    let log = dir.join("garage.log");
    let file = std::fs::File::create(&log).unwrap();
    let child = Command::new(bin)
        .arg("-c")
        .arg(&config)
        .arg("server")
        .env("RUST_LOG", "warn")
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let proc = Proc { child, log };
    let cli = |args: &[&str]| -> Result<String, String> {
        let out =
            Command::new(bin).arg("-c").arg(&config).args(args).env("RUST_LOG", "warn").output().unwrap();
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "garage {}: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    };
    let version = cli(&["--version"]).map(|v| v.trim().to_owned()).unwrap_or_else(|_| "garage".to_owned());
    let deadline = Instant::now() + START_TIMEOUT;
    let node = loop {
        match cli(&["node", "id", "-q"]) {
            Ok(out) => break out.trim().split('@').next().unwrap_or_default().to_owned(),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    cli(&["layout", "assign", "-z", "dc1", "-c", "1G", &node])?;
    cli(&["layout", "apply", "--version", "1"])?;
    let key = cli(&["key", "create", "bench"])?;
    let field = |name: &str| {
        key.lines()
            .find_map(|l| {
                l.split_once(':').filter(|(k, _)| k.trim() == name).map(|(_, v)| v.trim().to_owned())
            })
            .ok_or_else(|| format!("no `{name}` in `garage key create` output:\n{key}"))
    };
    let (access, secret) = (field("Key ID")?, field("Secret key")?);
    cli(&["bucket", "create", BUCKET])?;
    cli(&["bucket", "allow", "--read", "--write", "--owner", BUCKET, "--key", "bench"])?;
    let target = Target {
        name: "garage",
        endpoint: format!("http://127.0.0.1:{s3}"),
        host: format!("127.0.0.1:{s3}"),
        access,
        secret,
        label: false,
        clients: clients(None),
        pid: proc.pid(),
    };
    // The layout and the key take a moment to reach the S3 API.
    loop {
        match target.send(&target.clients[0], reqwest::Method::HEAD, &format!("/{BUCKET}"), None, false) {
            Ok(_) => break,
            Err(e) if Instant::now() > deadline => return Err(format!("garage S3 API not ready: {e}")),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    Ok(Garage { target, proc, version })
}

// ---------------------------------------------------------------------------------------------------------------
// Process figures

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("-".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

/// User + system CPU time of a process (`/proc/PID/stat`, in clock ticks of 10 ms).
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // After the command: state is field 3, utime 14, stime 15 (1-based) -> indices 11 and 12.
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn cpu_pressure() -> String {
    std::fs::read_to_string("/proc/pressure/cpu")
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.split_whitespace().nth(1)).map(|a| format!("some {a}")))
        .unwrap_or_else(|| "-".to_owned())
}

/// Prints how many warnings and errors a server logged, and the first few.
fn report_log(name: &str, log: &Path) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let notable: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR") || l.contains("panicked"))
        .collect();
    println!("{name} log: {} lines, {} warnings/errors", text.lines().count(), notable.len());
    for l in notable.iter().take(5) {
        println!("  {}", l.chars().take(200).collect::<String>());
    }
}

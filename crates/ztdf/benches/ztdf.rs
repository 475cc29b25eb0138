//! ZTDF throughput benchmark: a program, not a timed test (STYLE.md rule 13). It prints encrypt and decrypt
//! throughput buffer to buffer with the in-memory API (`encrypt_in_memory`, `Decryptor::decrypt_into_vec`:
//! parallel end to end) and with the streaming API (`TdfWriter` / `decrypt_to` into a `Vec`), each with 1 and
//! 2 threads, and file to file, as ratios to `openssl speed -evp aes-256-gcm -bytes 16384` measured in the
//! same run; peak RSS of a streamed encryption and decryption (a child process each, so earlier buffers do
//! not count); and the per-object overhead of a 1 KiB object. In-memory figures are the best of several
//! repetitions (wall time and the calling thread's CPU time, each the least seen), as the machine this runs
//! on is shared; for the in-memory API the 1- and 2-thread runs alternate, so both see the same load, and the
//! cores the process actually got are printed beside the 2-thread/1-thread ratio.
//!
//! `cargo bench -p redoubt-ztdf --bench ztdf` runs bounded sizes (about a minute); `-- --full` runs the
//! issue's sizes: 1 GiB in memory and on disk, 5 GiB streamed for peak RSS. The streamed measurement reads
//! from a generator and writes to a sink (encryption), or decrypts a container read back from a sparse
//! generator of the same bytes: nothing of that size ever touches the disk.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::fs::File;
use std::io::{BufReader, BufWriter, Cursor, Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use redoubt_ztdf::{
    EncryptConfig, KasPrivateKey, KasPublicKey, KasTarget, SystemRandomSource, TdfReader, TdfWriter,
    VerifyOptions, encrypt_in_memory,
};

const MIB: u64 = 1024 * 1024;

fn key_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keys")
}

fn config(threads: usize) -> EncryptConfig {
    let pem = std::fs::read_to_string(key_dir().join("kas-rsa.pub.pem")).unwrap();
    EncryptConfig {
        kas: vec![KasTarget {
            url: "https://kas.example".into(),
            key: KasPublicKey::from_pem(&pem).unwrap(),
            kid: None,
            sid: None,
        }],
        threads,
        ..Default::default()
    }
}

fn private() -> KasPrivateKey {
    KasPrivateKey::from_pem(&std::fs::read_to_string(key_dir().join("kas-rsa.pem")).unwrap()).unwrap()
}

/// Deterministic plaintext generator (not all zeros, cheap to produce).
struct Gen {
    left: u64,
    state: u64,
}

impl Read for Gen {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        for chunk in buf[..n].chunks_mut(8) {
            self.state = self.state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let b = self.state.to_le_bytes();
            chunk.copy_from_slice(&b[..chunk.len()]);
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// CPU time (user + system) of the whole process so far, every thread included, from /proc (10 ms
/// resolution).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the command name. Count every
    // field (the state is a letter, tpgid is -1 without a terminal): skipping the ones that do not parse as
    // u64 shifted the indices and read stime + cutime instead.
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((tick(11) + tick(12)) * 10)
}

/// CPU time of the calling thread, in nanoseconds (`/proc/thread-self/schedstat`, scheduler accounting), or
/// the process figure at 10 ms resolution when that file is missing. The 1-thread paths run entirely on the
/// calling thread, so this is their CPU time at a resolution that a 256 MiB run can use.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .map_or_else(cpu_time, Duration::from_nanos)
}

/// Repetitions of each in-memory measurement; the best (least time) is reported, as the machine is shared.
const REPS: usize = 5;
/// Repetitions for the in-memory API (more: it is faster, and its scaling figures are the ones the goal asks).
const BUFFER_REPS: usize = 9;

fn mib_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / MIB as f64 / d.as_secs_f64()
}

/// `openssl speed -evp aes-256-gcm -bytes 16384`, in MiB/s.
fn openssl_speed() -> Option<f64> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", "3", "-evp", "aes-256-gcm", "-bytes", "16384"]) // divides by CPU user time
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().rev().find(|l| l.to_ascii_lowercase().starts_with("aes-256-gcm"))?;
    let k: f64 = line.split_whitespace().last()?.trim_end_matches('k').parse().ok()?;
    Some(k * 1000.0 / MIB as f64)
}

/// Encrypts `plain` into `out` (reused: its pages are already touched, so page faults of a fresh output
/// buffer are not charged to the encryptor); returns wall and calling-thread CPU time of the encryption.
fn encrypt_into(plain: &[u8], threads: usize, out: &mut Vec<u8>) -> (Duration, Duration) {
    let rng = SystemRandomSource::new();
    out.clear();
    let (t, c) = (Instant::now(), thread_cpu());
    let mut w = TdfWriter::new(&mut *out, config(threads), &rng).unwrap();
    w.write_all(plain).unwrap();
    w.finish().unwrap();
    (t.elapsed(), thread_cpu() - c)
}

/// As [`encrypt_into`], with the in-memory API: `out` keeps its length, so its touched pages are reused
/// without zero-filling.
fn encrypt_buffer(plain: &[u8], threads: usize, out: &mut Vec<u8>) -> (Duration, Duration) {
    let rng = SystemRandomSource::new();
    let (t, c) = (Instant::now(), thread_cpu());
    encrypt_in_memory(plain, config(threads), &rng, out).unwrap();
    (t.elapsed(), thread_cpu() - c)
}

/// As [`decrypt_mem`], with the in-memory API (`out` keeps its length, as above).
fn decrypt_buffer(tdf: &[u8], threads: usize, out: &mut Vec<u8>) -> (Duration, Duration) {
    let r = TdfReader::open(Cursor::new(tdf)).unwrap();
    let key = r.unwrap_payload_key(&[private()]).unwrap().key;
    let (t, c) = (Instant::now(), thread_cpu());
    let d = r.decryptor(key, &VerifyOptions { threads, ..Default::default() }).unwrap();
    d.decrypt_into_vec(out).unwrap();
    (t.elapsed(), thread_cpu() - c)
}

/// Copies `plain` into `out` (same length) with `threads` scoped threads, each its own contiguous half: the
/// memory-bandwidth reference the encrypt and decrypt scaling can be read against.
fn copy_buffer(plain: &[u8], threads: usize, out: &mut [u8]) -> (Duration, Duration) {
    let (t, c) = (Instant::now(), thread_cpu());
    let chunk = plain.len().div_ceil(threads);
    std::thread::scope(|s| {
        let mut parts = plain.chunks(chunk).zip(out.chunks_mut(chunk));
        let first = parts.next();
        for (src, dst) in parts {
            s.spawn(move || dst.copy_from_slice(src));
        }
        if let Some((src, dst)) = first {
            dst.copy_from_slice(src);
        }
    });
    (t.elapsed(), thread_cpu() - c)
}

/// Best-of and summed timings of one operation at one thread count.
#[derive(Clone, Copy)]
struct Runs {
    /// Least wall time and least calling-thread CPU time seen.
    best_wall: Duration,
    best_cpu: Duration,
    /// Process CPU, wall and calling-thread CPU summed over the repetitions.
    process_cpu: Duration,
    wall: Duration,
    caller_cpu: Duration,
    /// Cores the process got during the repetition with the least wall time (10 ms ticks: coarse for short
    /// runs).
    best_cores: f64,
}

impl Runs {
    fn new() -> Self {
        Self {
            best_wall: Duration::MAX,
            best_cpu: Duration::MAX,
            process_cpu: Duration::ZERO,
            wall: Duration::ZERO,
            caller_cpu: Duration::ZERO,
            best_cores: 0.0,
        }
    }

    /// Runs `f` (which returns wall and calling-thread CPU time) once and records it.
    fn record(&mut self, f: impl FnOnce() -> (Duration, Duration)) {
        let p0 = cpu_time();
        let (w, c) = f();
        let used = cpu_time() - p0;
        self.process_cpu += used;
        self.wall += w;
        self.caller_cpu += c;
        if w < self.best_wall {
            self.best_wall = w;
            self.best_cores = used.as_secs_f64() / w.as_secs_f64();
        }
        self.best_cpu = self.best_cpu.min(c);
    }

    /// Cores the process got: process CPU-seconds per wall-second over every repetition (10 ms ticks).
    fn cores(&self) -> f64 {
        self.process_cpu.as_secs_f64() / self.wall.as_secs_f64()
    }
}

/// The in-memory API, 1 and 2 threads alternating within each repetition.
fn bench_buffer_api(plain: &[u8], ratio: &dyn Fn(f64) -> String) {
    let size = plain.len() as u64;
    // Output buffers touched once, outside every measurement, then reused (their length too).
    let mut out = vec![1u8; plain.len()];
    let mut tdf = vec![1u8; plain.len() + plain.len() / 1000 + 65536];
    let (mut enc, mut dec, mut copy) = ([Runs::new(); 2], [Runs::new(); 2], [Runs::new(); 2]);
    for _ in 0..BUFFER_REPS {
        for (i, threads) in [1usize, 2].into_iter().enumerate() {
            copy[i].record(|| copy_buffer(plain, threads, &mut out));
            enc[i].record(|| encrypt_buffer(plain, threads, &mut tdf));
            dec[i].record(|| decrypt_buffer(&tdf, threads, &mut out));
            assert!(out == plain, "round trip");
        }
    }
    let wall = |r: &Runs| mib_s(size, r.best_wall);
    let cpu = |r: &Runs| mib_s(size, r.best_cpu);
    println!(
        "memory (in-memory API), 1 thread : encrypt {:.0} MiB/s wall, {:.0} MiB/CPU-s{}; decrypt {:.0} MiB/s wall, {:.0} MiB/CPU-s{}",
        wall(&enc[0]),
        cpu(&enc[0]),
        ratio(cpu(&enc[0])),
        wall(&dec[0]),
        cpu(&dec[0]),
        ratio(cpu(&dec[0]))
    );
    let (enc_x, dec_x) = (wall(&enc[1]) / wall(&enc[0]), wall(&dec[1]) / wall(&dec[0]));
    println!(
        "memory (in-memory API), 2 threads: encrypt {:.0} MiB/s wall ({enc_x:.2} x 1 thread); decrypt {:.0} MiB/s wall ({dec_x:.2} x 1 thread)",
        wall(&enc[1]),
        wall(&dec[1])
    );
    println!(
        "  cores the process got (CPU-s per wall-s over all repetitions, 10 ms ticks): 1 thread encrypt {:.2}, decrypt {:.2}; 2 threads encrypt {:.2}, decrypt {:.2}",
        enc[0].cores(),
        dec[0].cores(),
        enc[1].cores(),
        dec[1].cores()
    );
    println!(
        "  cores in the fastest repetition (the one the speed-up is taken from; 10 ms ticks): 1 thread encrypt {:.2}, decrypt {:.2}; 2 threads encrypt {:.2}, decrypt {:.2}",
        enc[0].best_cores, dec[0].best_cores, enc[1].best_cores, dec[1].best_cores
    );
    // Scaling per core received: the 2-thread speed-up divided by the extra cores the 2-thread run got, both
    // from the fastest repetitions (the speed-up is taken from them).
    println!(
        "  2-thread scaling per core received (speed-up / (2-thread cores / 1-thread cores), fastest repetitions): encrypt {:.2}, decrypt {:.2}",
        enc_x / (enc[1].best_cores / enc[0].best_cores),
        dec_x / (dec[1].best_cores / dec[0].best_cores)
    );
    println!(
        "  calling thread's share of the 2-thread process CPU: encrypt {:.0}%, decrypt {:.0}%",
        100.0 * enc[1].caller_cpu.as_secs_f64() / enc[1].process_cpu.as_secs_f64(),
        100.0 * dec[1].caller_cpu.as_secs_f64() / dec[1].process_cpu.as_secs_f64()
    );
    println!(
        "  memory-bandwidth reference, plain memcpy of the same size: 1 thread {:.0} MiB/s, 2 threads {:.0} MiB/s ({:.2} x; cores got {:.2}, {:.2})",
        wall(&copy[0]),
        wall(&copy[1]),
        wall(&copy[1]) / wall(&copy[0]),
        copy[0].cores(),
        copy[1].cores()
    );
    // Into fresh buffers instead: every page of a new `Vec` faults on first touch (4 KiB pages: transparent
    // huge pages are `madvise` only here), which the encryptor spreads over its threads, region by region.
    drop(tdf);
    let mut fresh = [Duration::MAX; 2];
    for _ in 0..3 {
        for (i, threads) in [1usize, 2].into_iter().enumerate() {
            let mut buf = Vec::new();
            fresh[i] = fresh[i].min(encrypt_buffer(plain, threads, &mut buf).0);
        }
    }
    println!(
        "  encrypt into a fresh Vec each time (its page faults included, taken by the threads in their regions): 1 thread {:.0} MiB/s, 2 threads {:.0} MiB/s ({:.2} x)",
        mib_s(size, fresh[0]),
        mib_s(size, fresh[1]),
        fresh[0].as_secs_f64() / fresh[1].as_secs_f64()
    );
    println!(
        "  projected 2-thread speed-up on two free cores (1-thread CPU-s / busiest thread's CPU-s at 2 threads): encrypt {:.2}, decrypt {:.2}",
        projected(&enc[0], &enc[1]),
        projected(&dec[0], &dec[1])
    );
}

/// What the 2-thread run would gain with a core per thread: it would take as long as its busiest thread (the
/// caller, or the one worker), where the 1-thread run takes its whole CPU time. Independent of the load, as
/// far as CPU time is (cache sharing and frequency are not).
fn projected(one: &Runs, two: &Runs) -> f64 {
    let worker = two.process_cpu.saturating_sub(two.caller_cpu);
    one.process_cpu.as_secs_f64() / two.caller_cpu.max(worker).as_secs_f64()
}

fn encrypt_mem(plain: &[u8], threads: usize) -> Vec<u8> {
    let mut out = Vec::new();
    encrypt_into(plain, threads, &mut out);
    out
}

/// Decrypts into `out` (reused); returns wall and calling-thread CPU time of the decryption.
fn decrypt_mem(tdf: &[u8], threads: usize, out: &mut Vec<u8>) -> (Duration, Duration) {
    out.clear();
    let r = TdfReader::open(Cursor::new(tdf)).unwrap();
    let key = r.unwrap_payload_key(&[private()]).unwrap().key;
    let (t, c) = (Instant::now(), thread_cpu());
    let mut d = r.decryptor(key, &VerifyOptions { threads, ..Default::default() }).unwrap();
    d.decrypt_to(&mut *out).unwrap();
    (t.elapsed(), thread_cpu() - c)
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Child process: stream `size` bytes through the writer into a sink, or through writer and reader.
fn rss_child(mode: &str, size: u64, threads: usize) {
    let rng = SystemRandomSource::new();
    match mode {
        "encrypt" => {
            let mut w = TdfWriter::new(std::io::sink(), config(threads), &rng).unwrap();
            std::io::copy(&mut Gen { left: size, state: 1 }, &mut w).unwrap();
            w.finish().unwrap();
        }
        _ => {
            // Decrypt a file written by this same child (the parent gave its path in `mode`).
            let f = File::open(mode).unwrap();
            let r = TdfReader::open(BufReader::new(f)).unwrap();
            let key = r.unwrap_payload_key(&[private()]).unwrap().key;
            let mut d = r.decryptor(key, &VerifyOptions { threads, ..Default::default() }).unwrap();
            d.decrypt_to(std::io::sink()).unwrap();
        }
    }
    println!("{}", peak_rss_kib());
}

fn child_rss(mode: &str, size: u64, threads: usize) -> u64 {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args(["--rss-child", mode, &size.to_string(), &threads.to_string()])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--rss-child") {
        rss_child(&args[i + 1], args[i + 2].parse().unwrap(), args[i + 3].parse().unwrap());
        return;
    }
    let full = args.iter().any(|a| a == "--full");
    let mem_size = if full { 1024 * MIB } else { 256 * MIB };
    let stream_size = if full { 5 * 1024 * MIB } else { 1024 * MIB };
    println!(
        "ZTDF benchmark ({} run): {} MiB in memory and on disk, {} MiB streamed",
        if full { "full" } else { "default" },
        mem_size / MIB,
        stream_size / MIB
    );

    let openssl = openssl_speed();
    match openssl {
        Some(v) => {
            println!("openssl speed -evp aes-256-gcm -bytes 16384: {v:.0} MiB per CPU-second (one core)")
        }
        None => println!("openssl speed: not available (ratios omitted)"),
    }
    let ratio = |v: f64| openssl.map_or_else(String::new, |o| format!(" = {:.2} x openssl", v / o));

    let mut plain = vec![0u8; mem_size as usize];
    Gen { left: mem_size, state: 3 }.read_exact(&mut plain).unwrap();
    bench_buffer_api(&plain, &ratio);
    // Output buffers touched once, outside every measurement, then reused.
    let mut out = vec![1u8; plain.len()];
    let mut tdf = vec![1u8; plain.len() + plain.len() / 1000 + 65536];
    let mut single = (0.0, 0.0);
    for threads in [1usize, 2] {
        // Best of REPS: wall time and calling-thread CPU time, each the least seen.
        let (mut enc_wall, mut enc_cpu, mut dec_wall, mut dec_cpu) =
            (Duration::MAX, Duration::MAX, Duration::MAX, Duration::MAX);
        // Whole-process CPU and wall summed over the repetitions: how many cores the run actually got.
        let (mut enc_used, mut dec_used) =
            ((Duration::ZERO, Duration::ZERO), (Duration::ZERO, Duration::ZERO));
        // CPU of the calling thread summed over the repetitions: the part that does not spread over threads.
        let (mut enc_caller, mut dec_caller) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..REPS {
            let p0 = cpu_time();
            let (w, c) = encrypt_into(&plain, threads, &mut tdf);
            enc_used = (enc_used.0 + (cpu_time() - p0), enc_used.1 + w);
            enc_caller += c;
            enc_wall = enc_wall.min(w);
            enc_cpu = enc_cpu.min(c);
            let p0 = cpu_time();
            let (w, c) = decrypt_mem(&tdf, threads, &mut out);
            dec_used = (dec_used.0 + (cpu_time() - p0), dec_used.1 + w);
            dec_caller += c;
            dec_wall = dec_wall.min(w);
            dec_cpu = dec_cpu.min(c);
            assert!(out == plain, "round trip");
        }
        let (enc, dec) = (mib_s(mem_size, enc_wall), mib_s(mem_size, dec_wall));
        let (enc_cpu, dec_cpu) = (mib_s(mem_size, enc_cpu), mib_s(mem_size, dec_cpu));
        if threads == 1 {
            single = (enc, dec);
            println!(
                "memory (streaming API), 1 thread : encrypt {enc:.0} MiB/s wall, {enc_cpu:.0} MiB/CPU-s{}; decrypt {dec:.0} MiB/s wall, {dec_cpu:.0} MiB/CPU-s{}",
                ratio(enc_cpu),
                ratio(dec_cpu)
            );
        } else {
            println!(
                "memory (streaming API), 2 threads: encrypt {enc:.0} MiB/s ({:.2} x 1 thread); decrypt {dec:.0} MiB/s ({:.2} x 1 thread)",
                enc / single.0,
                dec / single.1
            );
            println!(
                "  cores the 2-thread runs got (process CPU-s per wall-s, 10 ms ticks): encrypt {:.2}, decrypt {:.2}",
                enc_used.0.as_secs_f64() / enc_used.1.as_secs_f64(),
                dec_used.0.as_secs_f64() / dec_used.1.as_secs_f64()
            );
            println!(
                "  calling thread's share of the process CPU (copy-in/read and write-out): encrypt {:.0}%, decrypt {:.0}%",
                100.0 * enc_caller.as_secs_f64() / enc_used.0.as_secs_f64(),
                100.0 * dec_caller.as_secs_f64() / dec_used.0.as_secs_f64()
            );
        }
    }
    drop(out);
    drop(tdf);

    // File to file.
    let dir = tempfile::tempdir().unwrap();
    let pin = dir.path().join("plain");
    std::fs::write(&pin, &plain).unwrap();
    drop(plain);
    let ptdf = dir.path().join("obj.tdf");
    let pout = dir.path().join("out");
    for threads in [1usize, 2] {
        let rng = SystemRandomSource::new();
        let t = Instant::now();
        let mut w = TdfWriter::new(
            BufWriter::with_capacity(1 << 20, File::create(&ptdf).unwrap()),
            config(threads),
            &rng,
        )
        .unwrap();
        std::io::copy(&mut File::open(&pin).unwrap(), &mut w).unwrap();
        let (mut sink, _) = w.finish().unwrap();
        sink.flush().unwrap();
        let enc = mib_s(mem_size, t.elapsed());
        let r = TdfReader::open(File::open(&ptdf).unwrap()).unwrap();
        let key = r.unwrap_payload_key(&[private()]).unwrap().key;
        let t = Instant::now();
        let mut d = r.decryptor(key, &VerifyOptions { threads, ..Default::default() }).unwrap();
        d.decrypt_to(BufWriter::with_capacity(1 << 20, File::create(&pout).unwrap())).unwrap();
        let dec = mib_s(mem_size, t.elapsed());
        println!(
            "file,   {threads} thread{}: encrypt {enc:.0} MiB/s{}; decrypt {dec:.0} MiB/s{}",
            if threads == 1 { " " } else { "s" },
            ratio(enc),
            ratio(dec)
        );
    }
    let dec_rss = child_rss(ptdf.to_str().unwrap(), 0, 2);
    drop(dir);

    let enc_rss = child_rss("encrypt", stream_size, 2);
    println!(
        "peak RSS, streamed encrypt of {} MiB (generator -> sink, 2 threads): {:.1} MiB",
        stream_size / MIB,
        enc_rss as f64 / 1024.0
    );
    println!(
        "peak RSS, streamed decrypt of {} MiB (file -> sink, 2 threads): {:.1} MiB",
        mem_size / MIB,
        dec_rss as f64 / 1024.0
    );

    // Per-object overhead of a 1 KiB object.
    let small = vec![0x42u8; 1024];
    let n = 200;
    let t = Instant::now();
    let mut last = Vec::new();
    for _ in 0..n {
        last = encrypt_mem(&small, 1);
    }
    let enc_each = t.elapsed() / n;
    let t = Instant::now();
    let mut out = Vec::new();
    for _ in 0..n {
        let r = TdfReader::open(Cursor::new(&last)).unwrap();
        let key = r.unwrap_payload_key(&[private()]).unwrap().key;
        let mut d = r.decryptor(key, &VerifyOptions::default()).unwrap();
        out.clear();
        d.decrypt_to(&mut out).unwrap();
    }
    let dec_each = t.elapsed() / n;
    println!(
        "1 KiB object: {} bytes of container ({} bytes overhead, RSA-2048 wrapped); encrypt {:.0} us, decrypt {:.0} us (incl. RSA-OAEP unwrap)",
        last.len(),
        last.len() - 1024,
        enc_each.as_secs_f64() * 1e6,
        dec_each.as_secs_f64() * 1e6
    );
}

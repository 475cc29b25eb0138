//! `redoubt fmv list` and `redoubt fmv watch`: the live streams of a running node, through its mTLS API (see
//! `node.rs` for how the node is reached and as whom).
//!
//! `watch --out FILE.ts` or `-` reads `GET /fmv/streams/{id}/live` (the TS packets, unchanged);
//! `watch --out udp://127.0.0.1:PORT` asks the node to send the packets there itself (a UDP subscriber with a
//! 30 s lease that this command renews, and ends when it stops; if it is killed, the lease runs out);
//! `--out srt://127.0.0.1:PORT` does the same with the node calling an SRT listener there;
//! `--out 'srt://127.0.0.1:PORT?mode=listener'` has the node listen there instead, for a player that calls it with
//! the random stream id this command prints (the node waits 10 s for it).
//! Exit codes: 0 done, 1 refused by the node, 2 usage error or unreachable node.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::node::{NodeArgs, NodeClient};
use crate::exit::Negative;

/// The lease asked for a UDP subscriber, renewed every third of it.
const LEASE_SECS: u64 = 30;

/// The value at a JSON pointer (`/a/b`), or null.
fn at<'a>(v: &'a Value, pointer: &str) -> &'a Value {
    v.pointer(pointer).unwrap_or(&Value::Null)
}

/// `fmv list`.
pub fn list(node: &NodeArgs) -> Result<ExitCode> {
    let client = node.connect()?;
    let doc = client.call(reqwest::Method::GET, "/fmv/streams", None)?;
    if node.json {
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(ExitCode::SUCCESS);
    }
    let streams = at(&doc, "/streams").as_array().cloned().unwrap_or_default();
    if streams.is_empty() {
        println!("no streams you may read");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<16} {:<24} {:>10} {:>9} {:>6} {:>6} {:>6} {:>5}  POSITION",
        "ID", "MARKING", "KBIT/S", "PACKETS", "KLV", "CC", "CKSUM", "SUBS"
    );
    for s in &streams {
        let st = at(s, "/stats");
        let n = |k: &str| at(st, &format!("/{k}")).as_u64().unwrap_or(0);
        let mut marking = at(s, "/marking").as_str().unwrap_or("?").to_owned();
        if at(s, "/flagged") == &Value::Bool(true) {
            marking.push_str(" (!)");
        }
        let p = at(s, "/telemetry/platform");
        let position = match (at(p, "/latitude").as_f64(), at(p, "/longitude").as_f64()) {
            (Some(lat), Some(lon)) => format!("{lat:.5}, {lon:.5}"),
            _ => "-".to_owned(),
        };
        println!(
            "{:<16} {:<24} {:>10} {:>9} {:>6} {:>6} {:>6} {:>5}  {position}",
            at(s, "/id").as_str().unwrap_or("?"),
            marking,
            n("bitrate_bps") / 1000,
            n("packets"),
            n("klv_packets"),
            n("cc_errors"),
            n("checksum_errors"),
            n("subscribers"),
        );
    }
    if streams.iter().any(|s| at(s, "/flagged") == &Value::Bool(true)) {
        println!(
            "(!) the stream's own ST 0102 metadata raised its label, or it is quarantined: `--json` says which"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `fmv watch ID --out …`.
pub fn watch(node: &NodeArgs, id: &str, out: &str, seconds: Option<u64>) -> Result<ExitCode> {
    let client = node.connect()?;
    let until = seconds.map(|s| Instant::now() + Duration::from_secs(s));
    if out.starts_with("udp://") || out.starts_with("srt://") {
        return watch_udp(&client, id, out, until);
    }
    let path = format!("/fmv/streams/{id}/live");
    let mut resp = client
        .client
        .get(format!("{}{path}", client.url))
        // A live stream has no end: the client's default timeout would cut it. A bounded watch ends by it.
        .timeout(Duration::from_secs(seconds.unwrap_or(365 * 24 * 3600)))
        .send()
        .with_context(|| format!("cannot reach {}: is the node running?", client.url))?;
    let status = resp.status();
    if !status.is_success() {
        let value: Value = resp.json().unwrap_or(Value::Null);
        let message = at(&value, "/error").as_str().unwrap_or("no details").to_owned();
        if status == reqwest::StatusCode::FORBIDDEN || status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(Negative(format!("the node refused: {message}")).into());
        }
        bail!("the node answered {status}: {message}");
    }
    let mut sink: Box<dyn Write> = if out == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        let file =
            std::fs::File::create(PathBuf::from(out)).with_context(|| format!("cannot create `{out}`"))?;
        Box::new(std::io::BufWriter::new(file))
    };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if until.is_some_and(|t| Instant::now() >= t) {
            break;
        }
        let n = match resp.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            // The deadline of a bounded watch ends the read with a timeout: that is the normal end.
            Err(_) if until.is_some_and(|t| Instant::now() >= t) => break,
            Err(e) => return Err(e).context("the stream broke off"),
        };
        match sink.write_all(buf.get(..n).unwrap_or_default()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
            Err(e) => return Err(e).with_context(|| format!("cannot write `{out}`")),
        }
    }
    sink.flush().with_context(|| format!("cannot write `{out}`"))?;
    Ok(ExitCode::SUCCESS)
}

fn watch_udp(client: &NodeClient, id: &str, out: &str, until: Option<Instant>) -> Result<ExitCode> {
    let request = match out.strip_suffix("?mode=listener") {
        Some(destination) => {
            let stream_id = random_stream_id()?;
            eprintln!(
                "the node listens on {destination} for stream `{id}`: within 10 s, start the player as a caller with \
                 this stream id, e.g. ffplay '{destination}?streamid={stream_id}'"
            );
            json!({"destination": destination, "mode": "listener", "streamid": stream_id, "lease_secs": LEASE_SECS})
        }
        None => json!({"destination": out, "lease_secs": LEASE_SECS}),
    };
    let created =
        client.call(reqwest::Method::POST, &format!("/fmv/streams/{id}/subscribers"), Some(request))?;
    let Some(sub) = at(&created, "/subscriber").as_u64() else {
        bail!("the node answered without a subscriber id")
    };
    eprintln!("the node sends stream `{id}` to {out} (subscriber {sub}); stop with Ctrl-C");
    let renew_every = Duration::from_secs(LEASE_SECS / 3);
    let mut renewed = Instant::now();
    loop {
        let now = Instant::now();
        if until.is_some_and(|t| now >= t) {
            break;
        }
        if now.duration_since(renewed) >= renew_every {
            // A failed renewal means the subscriber ended (revoked, refused, stream gone): stop.
            client.call(
                reqwest::Method::POST,
                &format!("/fmv/streams/{id}/subscribers/{sub}/renew"),
                Some(json!({"lease_secs": LEASE_SECS})),
            )?;
            renewed = now;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let resp = client
        .client
        .delete(format!("{}/fmv/streams/{id}/subscribers/{sub}", client.url))
        .send()
        .with_context(|| format!("cannot reach {}", client.url))?;
    if !resp.status().is_success() && resp.status() != reqwest::StatusCode::NOT_FOUND {
        bail!("the node answered {} to ending subscriber {sub}", resp.status());
    }
    Ok(ExitCode::SUCCESS)
}

/// A fresh secret stream id for a listener-mode SRT output: 24 random bytes in hex.
fn random_stream_id() -> Result<String> {
    use redoubt_ztdf::RandomSource;
    let mut bytes = [0u8; 24];
    redoubt_ztdf::SystemRandomSource::new().fill(&mut bytes).context("no random bytes for the stream id")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

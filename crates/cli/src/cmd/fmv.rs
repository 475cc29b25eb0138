//! `redoubt fmv …`: full-motion video tools over `redoubt-fmv`. `probe` decodes and prints the KLV of a
//! transport-stream file (per packet time and PID, ST 0601 values with names and units, ST 0102 security,
//! checksum status) and what the demultiplexer found wrong. `list` and `watch` talk to a node (`fmv_live.rs`).
//!
//! Exit codes: 0 the file is a transport stream (errors inside it are reported, not fatal); 1 no transport stream
//! found; 2 unreadable file or usage error.

use std::fmt::Write as _;
use std::io::{BufWriter, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;
use redoubt_fmv::st0102::{SecuritySet, security_tag_name};
use redoubt_fmv::st0601::{ChecksumStatus, Format, UasDatalinkSet, Unit, Value};
use redoubt_fmv::ts::{ChecksumPolicy, Counters, Demux, DemuxConfig, Event, KlvEvent, KlvPayload};
use serde_json::{Value as Json, json};

use crate::exit::Negative;

/// Full-motion video: probe transport streams and their KLV metadata.
#[derive(Debug, Subcommand)]
pub enum FmvCommand {
    /// Decode and print the KLV metadata of an MPEG-TS file (ST 0601 values, ST 0102 security, checksums)
    Probe {
        /// The transport stream file
        file: PathBuf,
        /// Print one JSON document instead of text
        #[arg(long)]
        json: bool,
    },
    /// List the live streams of a node you may read: label, statistics, platform position
    List {
        #[command(flatten)]
        node: super::node::NodeArgs,
    },
    /// Receive a live stream: to a file, to stdout (`-`), or sent by the node to udp:// or srt://127.0.0.1:PORT
    Watch {
        /// The stream id (`redoubt fmv list`)
        id: String,
        /// `FILE.ts`, `-` for stdout, `udp://127.0.0.1:PORT`, or `srt://127.0.0.1:PORT` (an SRT listener the node calls), or `srt://127.0.0.1:PORT?mode=listener` (the node listens; call it with the printed stream id within 10 s); loopback only in this build
        #[arg(long, value_name = "DEST")]
        out: String,
        /// Stop after this many seconds [default: until the stream or the access ends]
        #[arg(long, value_name = "N")]
        seconds: Option<u64>,
        #[command(flatten)]
        node: super::node::NodeArgs,
    },
}

/// Runs an `fmv` subcommand.
pub fn run(cmd: FmvCommand) -> Result<ExitCode> {
    match cmd {
        FmvCommand::Probe { file, json } => probe(&file, json),
        FmvCommand::List { node } => super::fmv_live::list(&node),
        FmvCommand::Watch { id, out, seconds, node } => super::fmv_live::watch(&node, &id, &out, seconds),
    }
}

fn probe(path: &Path, as_json: bool) -> Result<ExitCode> {
    match probe_to(path, as_json, &mut BufWriter::new(std::io::stdout().lock())) {
        // The reader went away (`| head`): not an error of the probe.
        Err(err)
            if err.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == ErrorKind::BrokenPipe) =>
        {
            Ok(ExitCode::SUCCESS)
        }
        other => other,
    }
}

fn probe_to(path: &Path, as_json: bool, w: &mut impl Write) -> Result<ExitCode> {
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
    // Report policy: a probe shows packets with bad checksums too, marked as such.
    let mut demux =
        Demux::new(DemuxConfig { checksum_policy: ChecksumPolicy::Report, ..DemuxConfig::default() });
    let mut out = Output::new(as_json);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).with_context(|| format!("cannot read `{}`", path.display()))?;
        if n == 0 {
            break;
        }
        demux.handle_bytes(buf.get(..n).unwrap_or(&[]));
        while let Some(event) = demux.poll_event() {
            out.event(event, w)?;
        }
    }
    demux.handle_end();
    while let Some(event) = demux.poll_event() {
        out.event(event, w)?;
    }
    let counters = *demux.counters();
    let no_stream = counters.packets == 0;
    out.finish(path, &counters, w)?;
    w.flush()?;
    if no_stream {
        return Err(
            Negative(format!("`{}` is not an MPEG-TS stream: no packet sync found", path.display())).into()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Text is printed as events arrive; JSON is gathered into one document.
struct Output {
    json: Option<JsonDoc>,
}

#[derive(Default)]
struct JsonDoc {
    programs: Vec<Json>,
    klv: Vec<Json>,
    errors: Vec<Json>,
}

impl Output {
    fn new(json: bool) -> Self {
        Self { json: json.then(JsonDoc::default) }
    }

    fn event(&mut self, event: Event, w: &mut impl Write) -> std::io::Result<()> {
        match &mut self.json {
            Some(doc) => {
                doc.event(event);
                Ok(())
            }
            None => w.write_all(text_event(event).as_bytes()),
        }
    }

    fn finish(self, path: &Path, c: &Counters, w: &mut impl Write) -> std::io::Result<()> {
        match self.json {
            Some(doc) => {
                let document = json!({
                    "file": path.display().to_string(),
                    "programs": doc.programs,
                    "klv": doc.klv,
                    "errors": doc.errors,
                    "counters": counters_json(c),
                });
                writeln!(w, "{}", serde_json::to_string_pretty(&document).unwrap_or_default())
            }
            None => writeln!(
                w,
                "summary: {} packets, {} KLV packets, {} checksum errors, {} CC errors, {} PES errors, {} KLV errors, \
                 {} PSI errors, {} bytes skipped",
                c.packets,
                c.klv_packets,
                c.checksum_errors,
                c.cc_errors,
                c.pes_errors,
                c.klv_errors,
                c.psi_errors,
                c.skipped_bytes
            ),
        }
    }
}

fn text_event(event: Event) -> String {
    let mut s = String::new();
    match event {
        Event::Pat(pat) => {
            let programs: Vec<String> = pat
                .programs
                .iter()
                .map(|p| format!("program {} → PMT {}", p.program_number, p.pid))
                .collect();
            let _ = writeln!(s, "PAT: transport stream {}: {}", pat.transport_stream_id, programs.join(", "));
        }
        Event::Pmt(pmt) => {
            let _ = writeln!(s, "PMT: program {} (PCR PID {})", pmt.program_number, pmt.pcr_pid);
            for es in &pmt.streams {
                let carriage =
                    es.klv_carriage().map(|k| format!(" ({k:?})").to_lowercase()).unwrap_or_default();
                let _ = writeln!(
                    s,
                    "  PID {}  stream_type {:#04x}  {}{carriage}",
                    es.pid,
                    es.stream_type,
                    es.kind()
                );
            }
        }
        Event::Klv(klv) => s = klv_text(&klv),
        Event::ContinuityError { pid, expected, found } => {
            let _ = writeln!(s, "CC error: PID {pid} expected {expected}, found {found} (packets lost)");
        }
        // A bad checksum is shown on the packet's own line (the probe delivers such packets).
        Event::ChecksumError { .. } | Event::Pes(_) => {}
        Event::Resynced { skipped } => {
            let _ = writeln!(s, "resync: skipped {skipped} bytes that were not TS packets");
        }
        Event::Malformed { pid, error } => {
            let _ = match pid {
                Some(pid) => writeln!(s, "malformed: PID {pid}: {error}"),
                None => writeln!(s, "malformed: {error}"),
            };
        }
    }
    s
}

fn pts_text(klv: &KlvEvent) -> String {
    klv.pts.map_or_else(|| "no PTS".to_owned(), |p| format!("PTS {:.6} s", p.as_secs_f64()))
}

fn klv_text(klv: &KlvEvent) -> String {
    let mut s = String::new();
    match &klv.payload {
        KlvPayload::Uas(set) => {
            let _ = writeln!(
                s,
                "KLV PID {} {}: ST 0601 UAS Datalink Local Set, {} bytes, checksum {}",
                klv.pid,
                pts_text(klv),
                set.as_bytes().len(),
                checksum_text(set.checksum())
            );
            for item in set.decoded() {
                let value = match &item.value {
                    Ok(_) if item.info.format == Format::Checksum => hex(item.raw),
                    Ok(v) => value_text(v),
                    Err(e) => format!("{} (raw {})", e, hex(item.raw)),
                };
                let _ = writeln!(s, "  {:>4}  {:<40} {value}", item.info.tag, item.info.name);
            }
        }
        KlvPayload::Security(set) => {
            let _ = writeln!(s, "KLV PID {} {}: ST 0102 security set: {set}", klv.pid, pts_text(klv));
            let _ = write!(s, "{}", security_items_text(set));
        }
        KlvPayload::Other { key, length } => {
            let _ =
                writeln!(s, "KLV PID {} {}: key {key}, {length} bytes (not decoded)", klv.pid, pts_text(klv));
        }
    }
    s
}

fn security_items_text(set: &SecuritySet) -> String {
    let mut s = String::new();
    for item in set.items() {
        let text = std::str::from_utf8(item.value)
            .ok()
            .filter(|t| t.chars().all(|c| !c.is_control()))
            .map_or_else(|| hex(item.value), |t| format!("{t:?}"));
        let _ = writeln!(s, "          {:>4}  {:<36} {text}", item.tag, security_tag_name(item.tag));
    }
    s
}

fn value_text(value: &Value) -> String {
    match value {
        Value::Quantity { value, unit } => format!("{} {unit}", number(*value, *unit)),
        Value::Security(set) => format!("{set}\n{}", security_items_text(set).trim_end()),
        other => other.to_string(),
    }
}

/// Degrees to 7 decimals (about 1 cm), everything else to 3.
fn number(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Degrees => format!("{value:.7}"),
        _ => format!("{value:.3}"),
    }
}

fn checksum_text(status: ChecksumStatus) -> String {
    match status {
        ChecksumStatus::Valid(v) => format!("valid ({v:04X})"),
        ChecksumStatus::Mismatch { stored, computed } => {
            format!("MISMATCH (stored {stored:04X}, computed {computed:04X}: the standard says discard)")
        }
        ChecksumStatus::Missing => "MISSING".to_owned(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

impl JsonDoc {
    fn event(&mut self, event: Event) {
        match event {
            Event::Pat(_) | Event::Pes(_) | Event::ChecksumError { .. } => {}
            Event::Pmt(pmt) => self.programs.push(json!({
                "program_number": pmt.program_number,
                "pcr_pid": pmt.pcr_pid.value(),
                "streams": pmt.streams.iter().map(|s| json!({
                    "pid": s.pid.value(),
                    "stream_type": s.stream_type,
                    "kind": s.kind(),
                    "klv_carriage": s.klv_carriage().map(|k| format!("{k:?}").to_lowercase()),
                })).collect::<Vec<_>>(),
            })),
            Event::Klv(klv) => self.klv.push(klv_json(&klv)),
            Event::ContinuityError { pid, expected, found } => self.errors.push(
                json!({"kind": "continuity", "pid": pid.value(), "expected": expected, "found": found}),
            ),
            Event::Resynced { skipped } => {
                self.errors.push(json!({"kind": "resync", "skipped_bytes": skipped}))
            }
            Event::Malformed { pid, error } => self.errors.push(
                json!({"kind": "malformed", "pid": pid.map(|p| p.value()), "error": error.to_string()}),
            ),
        }
    }
}

fn klv_json(klv: &KlvEvent) -> Json {
    let mut doc = json!({
        "pid": klv.pid.value(),
        "pts": klv.pts.map(|p| p.as_secs_f64()),
        "packet_index": klv.packet_index,
    });
    let body = match &klv.payload {
        KlvPayload::Uas(set) => uas_json(set),
        KlvPayload::Security(set) => json!({"type": "st0102", "security": security_json(set)}),
        KlvPayload::Other { key, length } => {
            json!({"type": "other", "key": key.to_string(), "length": length})
        }
    };
    if let (Some(doc), Json::Object(body)) = (doc.as_object_mut(), body) {
        doc.extend(body);
    }
    doc
}

fn uas_json(set: &UasDatalinkSet) -> Json {
    let checksum = match set.checksum() {
        ChecksumStatus::Valid(v) => {
            json!({"status": "valid", "stored": format!("{v:04X}"), "computed": format!("{v:04X}")})
        }
        ChecksumStatus::Mismatch { stored, computed } => {
            json!({"status": "mismatch", "stored": format!("{stored:04X}"), "computed": format!("{computed:04X}")})
        }
        ChecksumStatus::Missing => json!({"status": "missing"}),
    };
    let items: Vec<Json> = set
        .decoded()
        .map(|item| {
            let mut j = json!({"tag": item.info.tag, "name": item.info.name, "raw": hex(item.raw)});
            if let Some(obj) = j.as_object_mut() {
                match &item.value {
                    Ok(Value::Quantity { value, unit }) => {
                        obj.insert("value".into(), json!(value));
                        obj.insert("unit".into(), json!(unit.ascii()));
                    }
                    Ok(Value::Unsigned(v, unit)) => {
                        obj.insert("value".into(), json!(v));
                        if let Some(unit) = unit {
                            obj.insert("unit".into(), json!(unit.ascii()));
                        }
                    }
                    Ok(Value::Signed(v, unit)) => {
                        obj.insert("value".into(), json!(v));
                        if let Some(unit) = unit {
                            obj.insert("unit".into(), json!(unit.ascii()));
                        }
                    }
                    Ok(Value::Time(t)) => {
                        obj.insert("value".into(), json!(t.to_string()));
                        obj.insert("micros".into(), json!(t.micros()));
                    }
                    Ok(Value::Text(t)) => {
                        obj.insert("value".into(), json!(t));
                    }
                    Ok(Value::ErrorIndicator) => {
                        obj.insert("value".into(), Json::Null);
                        obj.insert("error_indicator".into(), json!(true));
                    }
                    Ok(Value::Security(s)) => {
                        obj.insert("value".into(), security_json(s));
                    }
                    Ok(Value::Bytes(_)) => {}
                    Err(e) => {
                        obj.insert("error".into(), json!(e.to_string()));
                    }
                }
            }
            j
        })
        .collect();
    let security = set.security().and_then(Result::ok).map(|s| security_json(&s));
    json!({"type": "st0601", "length": set.as_bytes().len(), "checksum": checksum, "items": items, "security": security})
}

fn security_json(set: &SecuritySet) -> Json {
    json!({
        "classification": set.classification().map(|c| c.as_str()),
        "classifying_country": set.classifying_country(),
        "sci_shi": set.sci_shi(),
        "caveats": set.caveats(),
        "releasing_instructions": set.releasing_instructions(),
        "object_country_codes": set.object_country_codes(),
        "version": set.version(),
        "items": set.items().map(|i| json!({"tag": i.tag, "name": security_tag_name(i.tag), "raw": hex(i.value)})).collect::<Vec<_>>(),
    })
}

fn counters_json(c: &Counters) -> Json {
    json!({
        "bytes": c.bytes,
        "packets": c.packets,
        "null_packets": c.null_packets,
        "malformed_packets": c.malformed_packets,
        "transport_errors": c.transport_errors,
        "scrambled_packets": c.scrambled_packets,
        "duplicate_packets": c.duplicate_packets,
        "cc_errors": c.cc_errors,
        "resyncs": c.resyncs,
        "skipped_bytes": c.skipped_bytes,
        "psi_errors": c.psi_errors,
        "pes_packets": c.pes_packets,
        "pes_errors": c.pes_errors,
        "klv_packets": c.klv_packets,
        "klv_errors": c.klv_errors,
        "checksum_errors": c.checksum_errors,
        "events_dropped": c.events_dropped,
        "streams_ignored": c.streams_ignored,
    })
}

//! The `[[fmv.streams]]` configuration: one table per ingested stream, checked when the file is read.
//!
//! ```toml
//! [[fmv.streams]]
//! id = "uav1"
//! listen = "udp://127.0.0.1:5000"     # unicast on loopback, or a multicast group joined on loopback
//! classification = "CONFIDENTIAL"     # or label_file = "uav1-label.xml" (STANAG 4774 XML)
//! record = { bucket = "fmv-rec", segment_seconds = 10 }   # optional: record into the object store
//! ```
//!
//! This build ingests on loopback only: a unicast address must be a loopback address and a multicast group is
//! joined on the loopback interface. Relaying to other hosts is not built yet (see docs/fmv.md). An SRT source
//! (`listen = "srt://127.0.0.1:PORT"`, optional `latency_ms`) is parsed in `source.rs`.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use super::source::{Source, parse_source};

/// The most streams one node ingests.
pub const MAX_STREAMS: usize = 64;

/// One configured stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamConfig {
    /// Stream id (URL path segment): 1 to 64 letters, digits, `-`, `_` or `.`.
    pub id: String,
    /// Where the MPEG-TS datagrams arrive (UDP or SRT).
    pub listen: Source,
    /// Where the configured label comes from.
    pub label: LabelSource,
    /// Recording into the object store, when configured.
    pub record: Option<RecordConfig>,
}

/// Recording of a stream: one ZTDF object per segment of `segment_seconds` of wall time, in `bucket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordConfig {
    /// The bucket (S3 naming rules, not reserved); created by the node when missing.
    pub bucket: String,
    /// Seconds of wall time per segment.
    pub segment_seconds: u32,
}

/// The range of `segment_seconds`.
pub const SEGMENT_SECONDS: std::ops::RangeInclusive<u32> = 1..=3600;

/// Checks a recording's bucket and segment length; errors name the key (`prefix` is `record.` in the
/// configuration, empty in an API body).
pub fn check_record(bucket: &str, segment_seconds: i64, prefix: &str) -> Result<RecordConfig, String> {
    crate::objects::names::check_s3_bucket(bucket).map_err(|e| format!("`{prefix}bucket`: {e}"))?;
    let seconds = u32::try_from(segment_seconds)
        .ok()
        .filter(|s| SEGMENT_SECONDS.contains(s))
        .ok_or_else(|| format!("`{prefix}segment_seconds` is {segment_seconds}; expected 1 to 3600"))?;
    Ok(RecordConfig { bucket: bucket.to_owned(), segment_seconds: seconds })
}

fn parse_record(value: &toml::Value) -> Result<RecordConfig, String> {
    let form = "expected `record = { bucket = \"fmv-rec\", segment_seconds = 10 }`";
    let Some(table) = value.as_table() else {
        return Err(format!("`record` is not a table; {form}"));
    };
    if let Some(key) = table.keys().find(|k| !["bucket", "segment_seconds"].contains(&k.as_str())) {
        return Err(format!("unknown key `record.{key}`; {form}"));
    }
    let bucket = table
        .get("bucket")
        .and_then(toml::Value::as_str)
        .ok_or_else(|| format!("`record.bucket` is missing or not a string; {form}"))?;
    let seconds = table
        .get("segment_seconds")
        .and_then(toml::Value::as_integer)
        .ok_or_else(|| format!("`record.segment_seconds` is missing or not an integer; {form}"))?;
    check_record(bucket, seconds, "record.")
}

/// A UDP source: a loopback unicast address, or a multicast group joined on the loopback interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpSource(pub SocketAddr);

impl UdpSource {
    /// True for a multicast group.
    pub fn is_multicast(self) -> bool {
        self.0.ip().is_multicast()
    }
}

impl std::fmt::Display for UdpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "udp://{}", self.0)
    }
}

/// The configured label of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelSource {
    /// A classification of the domain policy, with no categories.
    Classification(String),
    /// A STANAG 4774 XML label file.
    File(PathBuf),
}

/// The form of a `listen` value, for errors.
pub const LISTEN_FORM: &str = "\"udp://127.0.0.1:PORT\" (a loopback address), \"udp://GROUP:PORT\" (a multicast group, joined on loopback) or \"srt://127.0.0.1:PORT\" (an SRT listener on loopback)";

/// Parses `udp://IP:PORT`, accepting loopback unicast and IPv4 multicast only.
pub fn parse_udp_source(text: &str) -> Result<UdpSource, String> {
    let addr = parse_udp_url(text)?;
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_loopback() || ip.is_multicast() => Ok(UdpSource(addr)),
        IpAddr::V6(ip) if ip.is_loopback() => Ok(UdpSource(addr)),
        _ => Err(format!(
            "`{text}` is not a loopback address or an IPv4 multicast group; expected {LISTEN_FORM}"
        )),
    }
}

/// Parses `udp://IP:PORT` with a non-zero port.
pub fn parse_udp_url(text: &str) -> Result<SocketAddr, String> {
    let rest = text.strip_prefix("udp://").ok_or_else(|| format!("`{text}` does not start with udp://"))?;
    let addr: SocketAddr =
        rest.trim_end_matches('/').parse().map_err(|_| format!("`{text}` is not udp://ADDRESS:PORT"))?;
    if addr.port() == 0 {
        return Err(format!("`{text}` has port 0; name a port"));
    }
    Ok(addr)
}

/// Checks a stream id.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && id != "."
        && id != ".."
}

/// Reads the `fmv.streams` array (each table: `id`, `listen`, and one of `classification` or `label_file`);
/// `base` resolves a relative `label_file`. Errors name the table (by position) and the key.
pub fn parse_streams(value: &toml::Value, base: &Path) -> Result<Vec<StreamConfig>, String> {
    let Some(items) = value.as_array() else {
        return Err("expected [[fmv.streams]] tables".to_owned());
    };
    if items.len() > MAX_STREAMS {
        return Err(format!("{} streams configured; at most {MAX_STREAMS}", items.len()));
    }
    let mut streams: Vec<StreamConfig> = Vec::with_capacity(items.len());
    for (n, item) in items.iter().enumerate() {
        let at = |msg: String| format!("stream {}: {msg}", n + 1);
        let Some(table) = item.as_table() else {
            return Err(at("expected a table with id, listen and classification or label_file".to_owned()));
        };
        if let Some(key) = table.keys().find(|k| {
            !["id", "listen", "classification", "label_file", "latency_ms", "record"].contains(&k.as_str())
        }) {
            return Err(at(format!(
                "unknown key `{key}`; known keys: id, listen, classification, label_file, latency_ms, record"
            )));
        }
        let text = |key: &str| table.get(key).and_then(toml::Value::as_str);
        let id = text("id").ok_or_else(|| at("`id` is missing or not a string".to_owned()))?;
        if !valid_id(id) {
            return Err(at(format!("`id` has `{id}`, expected 1 to 64 letters, digits, `-`, `_` or `.`")));
        }
        if streams.iter().any(|s| s.id == id) {
            return Err(at(format!("the id `{id}` is used twice")));
        }
        let listen =
            text("listen").ok_or_else(|| at(format!("`listen` is missing; expected {LISTEN_FORM}")))?;
        let latency_ms = match table.get("latency_ms") {
            None => None,
            Some(v) => Some(v.as_integer().ok_or_else(|| at("`latency_ms` is not an integer".to_owned()))?),
        };
        let listen = parse_source(listen, latency_ms).map_err(at)?;
        if streams.iter().any(|s| s.listen.addr() == listen.addr()) {
            return Err(at(format!("`{listen}` is used by another stream")));
        }
        let label = match (text("classification"), text("label_file")) {
            (Some(c), None) if !c.trim().is_empty() && c.len() <= 128 => {
                LabelSource::Classification(c.to_owned())
            }
            (None, Some(f)) if !f.is_empty() && !f.contains('\0') => {
                let path = Path::new(f);
                LabelSource::File(if path.is_relative() { base.join(path) } else { path.to_path_buf() })
            }
            _ => {
                return Err(at(
                    "set exactly one of `classification` (such as \"CONFIDENTIAL\") or `label_file` (STANAG 4774 XML)"
                        .to_owned(),
                ));
            }
        };
        let record = table.get("record").map(parse_record).transpose().map_err(at)?;
        streams.push(StreamConfig { id: id.to_owned(), listen, label, record });
    }
    Ok(streams)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<StreamConfig>, String> {
        let doc: toml::Table = toml::from_str(text).unwrap();
        parse_streams(&doc["fmv"]["streams"], Path::new("/etc/redoubt"))
    }

    #[test]
    fn streams_parse_with_labels_and_sources() {
        let s = parse(
            "[[fmv.streams]]\nid = \"a\"\nlisten = \"udp://127.0.0.1:5000\"\nclassification = \"SECRET\"\n\
             [[fmv.streams]]\nid = \"b\"\nlisten = \"udp://239.1.2.3:5001\"\nlabel_file = \"b.xml\"\n",
        )
        .unwrap();
        assert_eq!(s[0].label, LabelSource::Classification("SECRET".into()));
        assert!(matches!(s[0].listen, Source::Udp(u) if !u.is_multicast()));
        assert!(matches!(s[1].listen, Source::Udp(u) if u.is_multicast()));
        assert_eq!(s[1].label, LabelSource::File("/etc/redoubt/b.xml".into()));
    }

    #[test]
    fn bad_streams_are_refused_with_the_key() {
        let e =
            parse("[[fmv.streams]]\nid = \"a\"\nlisten = \"udp://10.0.0.1:5000\"\nclassification = \"S\"\n")
                .unwrap_err();
        assert!(e.contains("not a loopback address"), "{e}");
        let e = parse(
            "[[fmv.streams]]\nid = \"a/b\"\nlisten = \"udp://127.0.0.1:5000\"\nclassification = \"S\"\n",
        )
        .unwrap_err();
        assert!(e.contains("`id` has `a/b`"), "{e}");
        let e = parse("[[fmv.streams]]\nid = \"a\"\nlisten = \"udp://127.0.0.1:5000\"\n").unwrap_err();
        assert!(e.contains("exactly one of"), "{e}");
        let e = parse("[[fmv.streams]]\nid = \"a\"\nlisten = \"udp://127.0.0.1:5000\"\nclassification = \"S\"\nport = 1\n")
            .unwrap_err();
        assert!(e.contains("unknown key `port`"), "{e}");
        let e = parse(
            "[[fmv.streams]]\nid = \"a\"\nlisten = \"udp://127.0.0.1:5000\"\nclassification = \"S\"\n\
             [[fmv.streams]]\nid = \"a\"\nlisten = \"udp://127.0.0.1:5001\"\nclassification = \"S\"\n",
        )
        .unwrap_err();
        assert!(e.contains("used twice"), "{e}");
    }

    #[test]
    fn recordings_parse_and_bad_ones_name_the_key() {
        let base = "[[fmv.streams]]\nid = \"a\"\nlisten = \"udp://127.0.0.1:5000\"\nclassification = \"S\"\n";
        let s = parse(&format!("{base}record = {{ bucket = \"fmv-rec\", segment_seconds = 10 }}\n")).unwrap();
        assert_eq!(s[0].record, Some(RecordConfig { bucket: "fmv-rec".into(), segment_seconds: 10 }));
        assert_eq!(parse(base).unwrap()[0].record, None);
        for (record, want) in [
            ("{ bucket = \"fmv-rec\", segment_seconds = 0 }", "`record.segment_seconds` is 0"),
            ("{ bucket = \"fmv-rec\", segment_seconds = 3601 }", "`record.segment_seconds` is 3601"),
            ("{ bucket = \"Bad_Name\", segment_seconds = 10 }", "`record.bucket`"),
            ("{ bucket = \"fmv\", segment_seconds = 10 }", "reserved"),
            ("{ bucket = \"fmv-rec\" }", "`record.segment_seconds` is missing"),
            ("{ bucket = \"fmv-rec\", segment_seconds = 10, every = 1 }", "unknown key `record.every`"),
            ("\"fmv-rec\"", "`record` is not a table"),
        ] {
            let e = parse(&format!("{base}record = {record}\n")).unwrap_err();
            assert!(e.contains(want) && e.starts_with("stream 1:"), "{record}: {e}");
        }
    }
}

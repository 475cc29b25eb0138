//! Hostile containers are refused with an error, quickly and within bounded memory: huge segment counts,
//! sizes that overflow, oversized segments and manifests, malformed ZIP directories, duplicate entries.
//! Also: ZIP64 containers (payload past 4 GiB) are read, using a sparse source so no 4 GiB is written.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test helpers

mod common;

use std::io::{Cursor, Read, Seek, SeekFrom};

use common::{encrypt, rsa_config};
use redoubt_ztdf::zip::{ZipWriter, read_directory};
use redoubt_ztdf::{Error, ReadLimits, TdfReader};
use serde_json::{Value, json};

fn sample_manifest() -> Value {
    let tdf = encrypt(b"hello", rsa_config());
    let entries = read_directory(&mut Cursor::new(&tdf), 8).unwrap();
    let e = entries.iter().find(|e| e.name == "0.manifest.json").unwrap();
    serde_json::from_slice(&tdf[e.data_offset as usize..(e.data_offset + e.size) as usize]).unwrap()
}

fn container(payload_len: usize, manifest: &[u8]) -> Vec<u8> {
    let mut z = ZipWriter::new(Vec::new());
    z.start_streamed("0.payload").unwrap();
    z.write_data(&vec![0u8; payload_len]).unwrap();
    z.finish_streamed().unwrap();
    z.add_entry("0.manifest.json", manifest).unwrap();
    z.finish().unwrap().0
}

#[test]
fn a_million_segments_is_refused() {
    let mut m = sample_manifest();
    m["encryptionInformation"]["integrityInformation"]["segments"] = json!("@SEGMENTS@");
    let seg = r#"{"hash":"AAAAAAAAAAAAAAAAAAAAAA==","segmentSize":1,"encryptedSegmentSize":29},"#;
    let list = format!("[{}]", seg.repeat(1_000_000).trim_end_matches(','));
    let bytes = serde_json::to_string(&m).unwrap().replace("\"@SEGMENTS@\"", &list).into_bytes();
    assert!(bytes.len() > 60_000_000);
    // Over the 10 MB manifest bound: refused before parsing.
    let err = TdfReader::open(Cursor::new(container(64, &bytes))).unwrap_err();
    assert!(matches!(err, Error::Limit(_)), "{err}");
    // With the manifest bound lifted, the count is refused against the payload size.
    let limits = ReadLimits { max_manifest_bytes: 64 << 20, ..ReadLimits::default() };
    let err = TdfReader::open_with_limits(Cursor::new(container(64, &bytes)), &limits).unwrap_err();
    assert!(matches!(err, Error::Limit(_)), "{err}");
}

#[test]
fn overflowing_and_oversized_sizes_are_refused() {
    let base = sample_manifest();
    let edits: Vec<fn(&mut Value)> = vec![
        |m| {
            m["encryptionInformation"]["integrityInformation"]["segments"][0]["segmentSize"] =
                json!(u64::MAX - 10)
        },
        |m| {
            m["encryptionInformation"]["integrityInformation"]["segments"][0]["encryptedSegmentSize"] =
                json!(u64::MAX)
        },
        |m| {
            m["encryptionInformation"]["integrityInformation"]["segmentSizeDefault"] = json!(u64::MAX);
            m["encryptionInformation"]["integrityInformation"]["encryptedSegmentSizeDefault"] =
                json!(u64::MAX);
        },
        |m| {
            let ii = &mut m["encryptionInformation"]["integrityInformation"];
            ii["segments"][0]["segmentSize"] = json!(1u64 << 40);
            ii["segments"][0]["encryptedSegmentSize"] = json!((1u64 << 40) + 28);
        },
        |m| m["encryptionInformation"]["integrityInformation"]["segments"] = json!([]),
        |m| m["encryptionInformation"]["keyAccess"] = json!([]),
        |m| m["encryptionInformation"]["integrityInformation"]["segments"][0]["hash"] = json!("not base64!"),
        |m| m["encryptionInformation"]["policy"] = json!("e30="),
        |m| m["assertions"] = json!([{"id": "a", "type": "other", "scope": "tdo", "statement": {}}, {"id": "a", "type": "other", "scope": "tdo", "statement": {}}]),
        |m| {
            m.as_object_mut().unwrap().remove("payload");
        },
        |m| m["payload"]["url"] = json!("../../etc/passwd"),
    ];
    let tdf = encrypt(b"hello", rsa_config());
    let payload_len = read_directory(&mut Cursor::new(&tdf), 8).unwrap()[0].size as usize;
    for (i, edit) in edits.into_iter().enumerate() {
        let mut m = base.clone();
        edit(&mut m);
        let r = TdfReader::open(Cursor::new(container(payload_len, &serde_json::to_vec(&m).unwrap())));
        assert!(r.is_err(), "edit {i} was accepted");
    }
}

#[test]
fn deep_json_is_refused() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(TdfReader::open(Cursor::new(container(10, deep.as_bytes()))).is_err());
}

#[test]
fn malformed_zip_directories_are_refused() {
    let good = encrypt(b"hello", rsa_config());
    // Truncations at every point are errors, never panics.
    for cut in (0..good.len()).step_by(7) {
        assert!(TdfReader::open(Cursor::new(&good[..cut])).is_err(), "cut at {cut}");
    }
    // An end record declaring 65535 entries.
    let mut bad = good.clone();
    let eocd = bad.len() - 22;
    bad[eocd + 8..eocd + 12].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    assert!(TdfReader::open(Cursor::new(&bad)).is_err());
    // A central directory claimed to be 4 GB long.
    let mut bad = good.clone();
    bad[eocd + 12..eocd + 16].copy_from_slice(&[0xfe, 0xff, 0xff, 0xff]);
    assert!(TdfReader::open(Cursor::new(&bad)).is_err());
    // Random bytes.
    assert!(TdfReader::open(Cursor::new(vec![0x50u8; 4096])).is_err());
}

#[test]
fn duplicate_entries_are_refused() {
    let mut z = ZipWriter::new(Vec::new());
    z.add_entry("0.manifest.json", b"{}").unwrap();
    z.add_entry("0.manifest.json", b"{\"x\":1}").unwrap();
    let (bytes, _) = z.finish().unwrap();
    let err = TdfReader::open(Cursor::new(bytes)).unwrap_err();
    assert!(err.to_string().contains("appears twice"), "{err}");
}

/// A write sink that keeps only small writes, recording large zero-filled ones as holes.
#[derive(Default)]
struct Sparse {
    len: u64,
    chunks: Vec<(u64, Vec<u8>)>,
}

impl std::io::Write for Sparse {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // The test writes its big payload in zero-filled 8 MiB chunks: those are holes.
        if buf.len() < (1 << 20) {
            self.chunks.push((self.len, buf.to_vec()));
        }
        self.len += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct SparseReader {
    s: Sparse,
    pos: u64,
}

impl Read for SparseReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.s.len.saturating_sub(self.pos)) as usize;
        buf[..n].fill(0);
        for (off, data) in &self.s.chunks {
            let (start, end) = (*off, off + data.len() as u64);
            let (a, b) = (self.pos.max(start), (self.pos + n as u64).min(end));
            if a < b {
                buf[(a - self.pos) as usize..(b - self.pos) as usize]
                    .copy_from_slice(&data[(a - start) as usize..(b - start) as usize]);
            }
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SparseReader {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.pos = match pos {
            SeekFrom::Start(p) => p,
            SeekFrom::End(d) => self.s.len.checked_add_signed(d).unwrap(),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d).unwrap(),
        };
        Ok(self.pos)
    }
}

#[test]
fn zip64_past_4_gib_is_written_and_read() {
    let size: u64 = (4 << 30) + 12345;
    let mut z = ZipWriter::new(Sparse::default());
    z.start_streamed("0.payload").unwrap();
    let zeros = vec![0u8; 8 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        z.write_data(&zeros[..n]).unwrap();
        left -= n as u64;
    }
    z.finish_streamed().unwrap();
    z.add_entry("0.manifest.json", b"{}").unwrap();
    let (sparse, total) = z.finish().unwrap();
    assert!(total > size);
    let mut src = SparseReader { s: sparse, pos: 0 };
    let entries = read_directory(&mut src, 8).unwrap();
    assert_eq!(entries[0].name, "0.payload");
    assert_eq!(entries[0].size, size);
    assert!(entries[1].data_offset > size);
    let mut m = Vec::new();
    src.seek(SeekFrom::Start(entries[1].data_offset)).unwrap();
    src.by_ref().take(2).read_to_end(&mut m).unwrap();
    assert_eq!(m, b"{}");
}

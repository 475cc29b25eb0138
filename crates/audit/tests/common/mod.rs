//! Shared helpers: a fresh node key, sample decisions, a log written through the real writer, line surgery.

#![allow(dead_code, reason = "each test binary uses a part of the helpers")]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test helpers: a failure is a test failure")]

use std::fs;
use std::path::{Path, PathBuf};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use redoubt_audit::{
    AuditWriter, Checkpoint, Decision, Entry, LOG_FILE, LabelRef, Line, LogId, NodeSigner, Object, Report,
    VerifyingKey, Who,
};
use time::OffsetDateTime;

pub fn signer() -> NodeSigner {
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).unwrap();
    NodeSigner::from_pkcs8_der(pkcs8.as_ref()).unwrap()
}

pub fn at(i: u64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_750_000_000 + i as i64).unwrap()
}

pub fn entry(i: u64) -> Entry {
    let names = ["alice", "bob", "carol", "operator1"];
    Entry {
        request_id: format!("req-{i}"),
        decision_id: format!("dec-{i}"),
        who: Who {
            name: names[(i % 4) as usize].into(),
            role: if i % 4 == 3 { "operator".into() } else { "reader".into() },
        },
        device: i.is_multiple_of(2).then(|| format!("device-{i}")),
        action: if i.is_multiple_of(3) { "s3:PutObject".into() } else { "s3:GetObject".into() },
        object: Some(Object::Object { bucket: "mission".into(), key: Some(format!("reports/{i}.pdf")) }),
        label: Some(LabelRef { marking: "NATO SECRET".into(), policy_id: "1.3.26.1.3.1".into() }),
        decision: if i % 4 == 3 { Decision::Deny } else { Decision::Allow },
        reasons: vec![if i % 4 == 3 { "operators-never-read".into() } else { "acdf-permit".into() }],
        policy_ids: vec!["default".into()],
    }
}

pub struct Log {
    pub dir: tempfile::TempDir,
    pub signer: NodeSigner,
}

impl Log {
    pub fn path(&self) -> PathBuf {
        self.dir.path().join(LOG_FILE)
    }
    pub fn key(&self) -> VerifyingKey {
        self.signer.verifying_key().unwrap()
    }
    pub fn lines(&self) -> Vec<Vec<u8>> {
        read_lines(&self.path())
    }
    pub fn set_lines(&self, lines: &[Vec<u8>]) {
        let mut out = Vec::new();
        for l in lines {
            out.extend_from_slice(l);
            out.push(b'\n');
        }
        fs::write(self.path(), out).unwrap();
    }
    pub fn verify(&self) -> Report {
        redoubt_audit::verify(fs::File::open(self.path()).unwrap(), &self.key()).unwrap()
    }
    pub fn head(&self) -> Checkpoint {
        redoubt_audit::parse_head(&fs::read(self.dir.path().join(redoubt_audit::HEAD_FILE)).unwrap()).unwrap()
    }
    pub fn verify_anchored(&self) -> Report {
        redoubt_audit::verify_anchored(fs::File::open(self.path()).unwrap(), &self.key(), Some(&self.head()))
            .unwrap()
    }
}

/// A log of `n` decisions with a checkpoint after every `every` decisions and one at the end.
pub fn write_log(n: u64, every: u64) -> Log {
    let dir = tempfile::tempdir().unwrap();
    let signer = signer();
    let (mut w, rec) = AuditWriter::open(dir.path(), LogId([7; 16]), at(0)).unwrap();
    assert_eq!(rec, None);
    for i in 0..n {
        w.append(&entry(i), at(i + 1)).unwrap();
        if (i + 1) % every == 0 {
            w.checkpoint(&signer, at(i + 1)).unwrap();
        }
    }
    if w.needs_checkpoint() {
        w.checkpoint(&signer, at(n + 1)).unwrap();
    }
    drop(w);
    Log { dir, signer }
}

pub fn read_lines(path: &Path) -> Vec<Vec<u8>> {
    let bytes = fs::read(path).unwrap();
    let mut lines: Vec<Vec<u8>> = bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    assert_eq!(lines.pop(), Some(vec![]), "the log ends with a newline");
    lines
}

/// Re-encodes a line after changing its JSON, so the edit is canonical and only the chain can catch it.
pub fn edit(line: &[u8], f: impl FnOnce(&mut Line)) -> Vec<u8> {
    let mut l = redoubt_audit::chain::parse_line(line).unwrap();
    f(&mut l);
    redoubt_audit::chain::encode_line(&l).unwrap()
}

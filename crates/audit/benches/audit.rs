//! Audit log throughput, measured side by side in one run (the machine is shared: compare the ratios).
//! Appends per second without fsync, with an fsync per record and with an fsync per batch of 64; verify and
//! query records per second. Run: `cargo bench -p redoubt-audit --bench audit`.

#![allow(clippy::unwrap_used, clippy::print_stdout, reason = "a benchmark program")]

use std::fs::File;
use std::time::Instant;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use redoubt_audit::{
    AuditWriter, Decision, Entry, Filter, LOG_FILE, LabelRef, LogId, NodeSigner, Object, OffsetDateTime, Who,
};

fn entry(i: u64) -> Entry {
    Entry {
        request_id: format!("0193b5c2-7d4e-7a3b-9c1d-{i:012}"),
        decision_id: format!("0193b5c2-7d4e-7f00-8000-{i:012}"),
        who: Who { name: "alice.martin".into(), role: "reader".into() },
        device: Some("sha256:3f1c9a0d5e7b2c4f6a8d0e1f3a5c7e9b".into()),
        action: "s3:GetObject".into(),
        object: Some(Object::Object {
            bucket: "mission-data".into(),
            key: Some(format!("isr/2026/11/report-{i}.pdf")),
        }),
        label: Some(LabelRef {
            marking: "NATO SECRET RELEASABLE TO FRA, DEU".into(),
            policy_id: "1.3.26.1.3.1".into(),
        }),
        decision: if i.is_multiple_of(10) { Decision::Deny } else { Decision::Allow },
        reasons: vec!["acdf-permit".into(), "posture-fresh".into()],
        policy_ids: vec!["default-acdf".into(), "default-cedar".into()],
    }
}

fn now(i: u64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap() + time_offset(i)
}

fn time_offset(i: u64) -> std::time::Duration {
    std::time::Duration::from_micros(i * 137)
}

/// Appends `n` records, syncing every `sync_every` (0: never), checkpointing every 1000; returns records/s.
fn append(n: u64, sync_every: u64, signer: &NodeSigner) -> (f64, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (mut w, _) = AuditWriter::open(dir.path(), LogId([1; 16]), now(0)).unwrap();
    let start = Instant::now();
    for i in 0..n {
        w.append(&entry(i), now(i)).unwrap();
        if sync_every > 0 && (i + 1).is_multiple_of(sync_every) {
            w.sync().unwrap();
        }
        if (i + 1).is_multiple_of(1000) {
            w.checkpoint(signer, now(i)).unwrap();
        }
    }
    w.checkpoint(signer, now(n)).unwrap();
    (n as f64 / start.elapsed().as_secs_f64(), dir)
}

fn main() {
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).unwrap();
    let signer = NodeSigner::from_pkcs8_der(pkcs8.as_ref()).unwrap();
    let key = signer.verifying_key().unwrap();

    let (no_sync, dir) = append(100_000, 0, &signer);
    let (per_record, _) = append(2_000, 1, &signer);
    let (batched, _) = append(50_000, 64, &signer);

    let path = dir.path().join(LOG_FILE);
    let bytes = std::fs::metadata(&path).unwrap().len();
    let start = Instant::now();
    let report = redoubt_audit::verify(File::open(&path).unwrap(), &key).unwrap();
    let verify = report.decisions as f64 / start.elapsed().as_secs_f64();
    assert!(report.is_ok());
    let start = Instant::now();
    let filter = Filter { identity: Some("nobody".into()), ..Filter::default() };
    assert_eq!(redoubt_audit::query(File::open(&path).unwrap(), filter).count(), 0);
    let query = report.decisions as f64 / start.elapsed().as_secs_f64();

    println!(
        "audit log ({} records, {} bytes/record, checkpoint every 1000)",
        report.decisions,
        bytes / report.decisions
    );
    println!("  append, no fsync          {no_sync:>12.0} records/s");
    println!(
        "  append, fsync per record  {per_record:>12.0} records/s  ({:.0}x slower than no fsync)",
        no_sync / per_record
    );
    println!(
        "  append, fsync per 64      {batched:>12.0} records/s  ({:.1}x the per-record rate)",
        batched / per_record
    );
    println!(
        "  verify                    {verify:>12.0} records/s  ({:.2}x append without fsync)",
        verify / no_sync
    );
    println!("  query (full scan)         {query:>12.0} records/s");
}

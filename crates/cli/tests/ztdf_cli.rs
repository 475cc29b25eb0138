//! Black-box tests of `redoubt encrypt | decrypt | inspect`: round trips, exit codes, and that a failed decrypt
//! leaves no output file (nor a temporary one) behind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test helpers

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ztdf/tests/data").join(name)
}

fn key(name: &str) -> PathBuf {
    data(&format!("keys/{name}"))
}

fn redoubt(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redoubt")).args(args).output().unwrap()
}

macro_rules! run {
    ($($a:expr),* $(,)?) => { redoubt(&[$(std::ffi::OsStr::new(&$a)),*]) };
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn only_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn encrypt_then_decrypt_with_label_and_threads() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.bin");
    let data_bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&plain, &data_bytes).unwrap();
    let tdf = dir.path().join("obj.tdf");
    let o = run!(
        "encrypt",
        "--kas-url",
        "https://kas.example/kas",
        "--kas-pubkey",
        key("kas-rsa.pub.pem"),
        "--label",
        data("label-nato-secret.xml"),
        "--segment-size",
        "64KiB",
        "--threads",
        "2",
        plain,
        tdf
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = dir.path().join("out.bin");
    let o = run!("decrypt", "--kas-privkey", key("kas-rsa.pem"), "--threads", "2", tdf, out);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap(), data_bytes);
    // Nothing of the plaintext on stdout or stderr.
    assert!(o.stdout.is_empty() && o.stderr.is_empty());

    let o = run!("inspect", tdf);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("https://nato.int/attr/classification/value/secret"), "{text}");
    assert!(text.contains("stanag-4774-xml"), "{text}");
    let o = run!("inspect", "--json", "--spif", data("spif-nato.xml"), tdf);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["segments"], 5);
    assert!(v["assertions"][0]["marking"].as_str().unwrap().contains("SECRET"));
}

#[test]
fn failed_decrypt_leaves_no_file_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("p");
    std::fs::write(&plain, vec![1u8; 100_000]).unwrap();
    let tdf = dir.path().join("o.tdf");
    let o = run!(
        "encrypt",
        "--kas-url",
        "https://k",
        "--kas-pubkey",
        key("kas-rsa.pub.pem"),
        "--segment-size",
        "16KiB",
        plain,
        tdf
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = dir.path().join("out");

    // Wrong key: authorisation failure.
    let o = run!("decrypt", "--kas-privkey", key("kas2-rsa.pem"), tdf, out);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot recover the payload key"), "{}", stderr(&o));

    // A flipped byte in the last segment: detected only while streaming, after the output was started.
    let mut bytes = std::fs::read(&tdf).unwrap();
    let reader = redoubt_ztdf::TdfReader::open(std::io::Cursor::new(&bytes)).unwrap();
    let last = *reader.segments().last().unwrap();
    bytes[(last.stored_offset + 40) as usize] ^= 1;
    let bad = dir.path().join("bad.tdf");
    std::fs::write(&bad, &bytes).unwrap();
    let o = run!("decrypt", "--kas-privkey", key("kas-rsa.pem"), "--threads", "2", bad, out);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("segment 6 of 7"), "{}", stderr(&o));

    // Not a container at all: unreadable input.
    let o = run!("decrypt", "--kas-privkey", key("kas-rsa.pem"), plain, out);
    assert_eq!(code(&o), 2, "{}", stderr(&o));

    assert!(!out.exists());
    assert_eq!(only_files(dir.path()), vec!["bad.tdf", "o.tdf", "p"]);
}

#[test]
fn split_across_two_kas_needs_both_keys() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("p");
    std::fs::write(&plain, b"split secret").unwrap();
    let tdf = dir.path().join("o.tdf");
    let o = run!(
        "encrypt",
        "--kas-url",
        "https://a",
        "--kas-pubkey",
        key("kas-rsa.pub.pem"),
        "--kas-url",
        "https://b",
        "--kas-pubkey",
        key("kas-p384.pub.pem"),
        plain,
        tdf
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = dir.path().join("out");
    let o = run!("decrypt", "--kas-privkey", key("kas-rsa.pem"), tdf, out);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let o =
        run!("decrypt", "--kas-privkey", key("kas-rsa.pem"), "--kas-privkey", key("kas-p384.pem"), tdf, out);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap(), b"split secret");
}

#[test]
fn reference_sdk_file_decrypts_and_inspects() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run!(
        "decrypt",
        "--kas-privkey",
        key("golden-r1.pem"),
        data("with-json-object-assertions-java.tdf"),
        out
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap().len(), 4);
    let o = run!("inspect", data("tdf-multikas.tdf"));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(String::from_utf8(o.stdout).unwrap().contains("key access #2"));
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let o = run!(
        "encrypt",
        "--kas-url",
        "https://a",
        "--kas-pubkey",
        key("kas-rsa.pub.pem"),
        "--segment-size",
        "1KiB",
        data("label-nato-secret.xml"),
        dir.path().join("o")
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let o = run!(
        "encrypt",
        "--kas-url",
        "https://a",
        "--kas-pubkey",
        key("kas-rsa.pem"),
        data("label-nato-secret.xml"),
        dir.path().join("o")
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(only_files(dir.path()).is_empty());
}

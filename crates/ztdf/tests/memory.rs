//! The in-memory (buffer to buffer, parallel end to end) paths agree with the streaming writer and reader:
//! each decrypts what the other encrypts, at segment boundaries and with 1, 2 and 3 threads; with the same
//! random bytes the in-memory encryption writes the streaming writer's container byte for byte; a tampered
//! segment fails naming the first bad segment and leaves no plaintext in the output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test helpers

mod common;

use std::io::Cursor;

use common::{TestRng, decrypt, encrypt_seeded, private, rsa_config, target};
use redoubt_ztdf::assertion::label::xml_label_assertion;
use redoubt_ztdf::zip::read_directory;
use redoubt_ztdf::{
    Decryptor, EncryptConfig, Error, IntegrityError, SegmentHashAlg, TdfReader, VerifyOptions,
    encrypt_in_memory,
};

const SEG: usize = 16 * 1024;

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

/// 0 bytes, 1 byte, exactly one segment, one segment + 1, many segments (with a short last one).
fn sizes() -> [usize; 5] {
    [0, 1, SEG, SEG + 1, 11 * SEG + 13]
}

fn encrypt_mem(plain: &[u8], config: EncryptConfig, seed: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let summary = encrypt_in_memory(plain, config, &TestRng::new(seed), &mut out).unwrap();
    assert_eq!(summary.container_len, out.len() as u64);
    assert_eq!(summary.plaintext_len, plain.len() as u64);
    out
}

fn decryptor(tdf: &[u8], threads: usize) -> Decryptor<Cursor<&[u8]>> {
    let r = TdfReader::open(Cursor::new(tdf)).unwrap();
    let key = r.unwrap_payload_key(&[private("kas-rsa.pem")]).unwrap().key;
    r.decryptor(key, &VerifyOptions { threads, ..Default::default() }).unwrap()
}

fn decrypt_mem(tdf: &[u8], threads: usize) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    decryptor(tdf, threads).decrypt_into_vec(&mut out)?;
    Ok(out)
}

#[test]
fn memory_encryption_decrypts_with_the_streaming_reader() {
    for threads in [1, 2, 3] {
        for hash_alg in [SegmentHashAlg::Gmac, SegmentHashAlg::Hs256] {
            for n in sizes() {
                let p = payload(n);
                let tdf = encrypt_mem(&p, EncryptConfig { threads, hash_alg, ..rsa_config() }, 5);
                let what = format!("{n} bytes, {threads} threads, {hash_alg:?}");
                assert_eq!(decrypt(&tdf, &[private("kas-rsa.pem")]).unwrap(), p, "{what}");
                let m = TdfReader::open(Cursor::new(&tdf)).unwrap().manifest().clone();
                let segments = m.encryption_information.integrity_information.segments.len();
                assert_eq!(segments, n.div_ceil(SEG).max(1), "{what}");
            }
        }
    }
}

#[test]
fn streaming_encryption_decrypts_in_memory() {
    for threads in [1, 2, 3] {
        for hash_alg in [SegmentHashAlg::Gmac, SegmentHashAlg::Hs256] {
            for n in sizes() {
                let p = payload(n);
                let tdf = encrypt_seeded(&p, EncryptConfig { threads, hash_alg, ..rsa_config() }, 9);
                let what = format!("{n} bytes, {threads} threads, {hash_alg:?}");
                assert_eq!(decrypt_mem(&tdf, threads).unwrap(), p, "{what}");
                // Into a slice of exactly the plaintext length too.
                let mut slice = vec![0xEEu8; n];
                decryptor(&tdf, threads).decrypt_into_slice(&mut slice).unwrap();
                assert_eq!(slice, p, "{what}");
            }
        }
    }
}

#[test]
fn memory_and_streaming_write_the_same_bytes() {
    // EC key wrapping draws every random byte from the random source (RSA-OAEP padding would not), so with
    // the same seed both paths must write identical containers: same manifest, assertions, labels, ZIP.
    let config = |threads| EncryptConfig {
        kas: vec![target("https://kas.example", "kas-p256.pub.pem")],
        segment_size: SEG as u32,
        hash_alg: SegmentHashAlg::Hs256,
        attributes: vec!["https://example.com/attr/class/value/secret".into()],
        metadata: Some(b"{\"owner\":\"ops\"}".to_vec()),
        assertions: vec![xml_label_assertion("<ConfidentialityLabel/>")],
        threads,
        ..Default::default()
    };
    for n in sizes() {
        let p = payload(n);
        let streamed = encrypt_seeded(&p, config(1), 11);
        for threads in [1, 2, 3] {
            assert!(encrypt_mem(&p, config(threads), 11) == streamed, "{n} bytes, {threads} threads");
        }
    }
}

#[test]
fn a_reused_longer_buffer_gives_the_same_container() {
    let p = payload(5 * SEG + 3);
    let fresh = encrypt_mem(&p, EncryptConfig { threads: 2, ..rsa_config() }, 3);
    let cfg = || EncryptConfig {
        kas: vec![target("https://kas.example", "kas-p256.pub.pem")],
        segment_size: SEG as u32,
        threads: 2,
        ..Default::default()
    };
    let expected = encrypt_seeded(&p, cfg(), 4);
    let mut out = vec![0xAAu8; fresh.len() * 3];
    encrypt_in_memory(&p, cfg(), &TestRng::new(4), &mut out).unwrap();
    assert!(out == expected);
    // With the capacity but not the length (zero-filled on the caller), and neither (a new allocation).
    for mut out in [Vec::with_capacity(fresh.len() * 2), vec![0xAAu8; 100]] {
        encrypt_in_memory(&p, cfg(), &TestRng::new(4), &mut out).unwrap();
        assert!(out == expected);
    }
    // And the decryption output buffer is reused the same way.
    for mut plain in [vec![0x55u8; p.len() * 2], Vec::with_capacity(p.len()), vec![0x55u8; 10]] {
        decryptor(&fresh, 2).decrypt_into_vec(&mut plain).unwrap();
        assert_eq!(plain, p);
    }
}

/// Offset in the container of the first ciphertext byte of `segment` (16 KiB segments).
fn ciphertext_offset(tdf: &[u8], segment: usize) -> usize {
    let entries = read_directory(&mut Cursor::new(tdf), 8).unwrap();
    let payload = entries.iter().find(|e| e.name == "0.payload").unwrap();
    payload.data_offset as usize + segment * (SEG + 28) + 12
}

#[test]
fn a_flipped_payload_byte_names_the_segment_and_wipes_the_output() {
    let p = payload(7 * SEG + 100);
    let tdf = encrypt_mem(&p, rsa_config(), 1);
    for threads in [1, 2, 3] {
        for bad in [0, 3, 6, 7] {
            let mut t = tdf.clone();
            t[ciphertext_offset(&tdf, bad) + 5] ^= 0x01;
            let d = decryptor(&t, threads);
            let mut out = Vec::new();
            let err = d.decrypt_into_vec(&mut out).unwrap_err();
            assert!(
                matches!(err, Error::Integrity(IntegrityError::Segment { index, count: 8 }) if index == bad),
                "segment {bad}, {threads} threads: {err}"
            );
            assert!(out.is_empty());
            let mut slice = vec![0xEEu8; p.len()];
            assert!(d.decrypt_into_slice(&mut slice).is_err());
            assert!(slice.iter().all(|&b| b == 0), "segment {bad}, {threads} threads: output not wiped");
        }
    }
}

#[test]
fn of_two_tampered_segments_the_first_is_named() {
    let p = payload(9 * SEG);
    let tdf = encrypt_mem(&p, EncryptConfig { threads: 3, ..rsa_config() }, 2);
    let mut t = tdf.clone();
    // Segment 7 is in the last thread's block and segment 2 in the first's, with 3 threads.
    t[ciphertext_offset(&tdf, 7)] ^= 0x80;
    t[ciphertext_offset(&tdf, 2) + SEG + 4] ^= 0x80; // its tag
    for threads in [1, 2, 3] {
        let err = decrypt_mem(&t, threads).unwrap_err();
        assert!(
            matches!(err, Error::Integrity(IntegrityError::Segment { index: 2, count: 9 })),
            "{threads} threads: {err}"
        );
    }
}

#[test]
fn a_slice_of_the_wrong_length_is_refused() {
    let p = payload(SEG + 1);
    let tdf = encrypt_mem(&p, rsa_config(), 6);
    let d = decryptor(&tdf, 2);
    for len in [0, SEG, SEG + 2] {
        let mut out = vec![0u8; len];
        assert!(matches!(d.decrypt_into_slice(&mut out), Err(Error::Config(_))), "{len} bytes");
    }
}

#[test]
fn memory_encryption_rejects_bad_configuration_and_leaves_nothing() {
    let mut out = vec![1u8; 100];
    let cfg = EncryptConfig { segment_size: 1000, ..rsa_config() };
    assert!(matches!(encrypt_in_memory(b"secret", cfg, &TestRng::new(1), &mut out), Err(Error::Config(_))));
    assert!(out.is_empty());
}

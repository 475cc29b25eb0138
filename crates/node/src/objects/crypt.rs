//! The data path's crypto, on blocking threads: plaintext in → a ZTDF blob in the store (its own data key,
//! wrapped to the node's current KAS key, the label bound as a `handling` assertion and as policy attributes); a blob → a
//! verified plaintext reader that decrypts only the segments a range touches.
//!
//! INVARIANT: plaintext only ever exists in memory, one segment at a time; nothing here writes it to a file.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use bytes::Bytes;
use redoubt_label::Label;
use redoubt_store::{BlobId, Store};
use redoubt_ztdf::assertion::label::{label_assertion, label_attributes};
use redoubt_ztdf::{EncryptConfig, PlaintextReader, SystemRandomSource, TdfReader, TdfWriter, VerifyOptions};
use s3s::crypto::{Checksum, Md5};
use tokio::sync::mpsc;

use crate::keys::NodeKeys;

/// Plaintext segment size of stored objects: a range read decrypts at most this much beyond what it asked.
pub const SEGMENT_SIZE: u32 = 1024 * 1024;
/// Namespace of the policy attribute FQNs derived from labels.
pub const ATTRIBUTE_NAMESPACE: &str = "nato.int";
/// Chunk size of GET bodies.
const READ_CHUNK: usize = 256 * 1024;

/// A piece of a request body on its way to the sealing thread.
#[derive(Debug)]
pub enum Chunk {
    /// Bytes of plaintext.
    Data(Bytes),
    /// The body ended normally. A channel closed without `End` means the body was cut: nothing is kept.
    End,
}

/// A sealed blob.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// The blob, fsynced, not yet referenced.
    pub blob: BlobId,
    /// Plaintext bytes.
    pub size: u64,
    /// Stored bytes.
    pub stored_size: u64,
    /// MD5 of the plaintext.
    pub md5: [u8; 16],
}

/// Why sealing failed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The body was cut before its end.
    #[error("the request body ended before it was complete")]
    Incomplete,
    /// Storage or crypto failure.
    #[error("{0}")]
    Failed(String),
    /// A client-made container that is not acceptable (the reason is for the client).
    #[error("{0}")]
    Rejected(String),
}

fn encrypt_config(keys: &NodeKeys, label: &Label, mime: Option<&str>) -> Result<EncryptConfig, String> {
    Ok(EncryptConfig {
        kas: vec![keys.target()?],
        segment_size: SEGMENT_SIZE,
        attributes: label_attributes(label, ATTRIBUTE_NAMESPACE),
        assertions: vec![label_assertion(label)],
        mime_type: mime.unwrap_or("application/octet-stream").to_owned(),
        threads: 1,
        ..EncryptConfig::default()
    })
}

/// Encrypts what arrives on `rx` into a new blob. Blocking: run it on a blocking thread.
pub fn seal(
    store: &Store,
    keys: &NodeKeys,
    label: &Label,
    mime: Option<&str>,
    mut rx: mpsc::Receiver<Chunk>,
) -> Result<Sealed, SealError> {
    seal_with(store, keys, label, mime, |w, md5| {
        loop {
            match rx.blocking_recv() {
                Some(Chunk::Data(b)) => {
                    md5.update(&b);
                    w.write_all(&b).map_err(|e| SealError::Failed(format!("cannot encrypt: {e}")))?;
                }
                Some(Chunk::End) => return Ok(()),
                None => return Err(SealError::Incomplete),
            }
        }
    })
}

/// Encrypts the plaintext read from `source` into a new blob (copy and multipart completion).
pub fn seal_from(
    store: &Store,
    keys: &NodeKeys,
    label: &Label,
    mime: Option<&str>,
    source: &mut dyn Read,
) -> Result<Sealed, SealError> {
    seal_with(store, keys, label, mime, |w, md5| {
        let mut buf = vec![0u8; READ_CHUNK];
        let result = loop {
            let n = match source.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => n,
                Err(e) => break Err(SealError::Failed(format!("cannot read the source: {e}"))),
            };
            let piece = buf.get(..n).unwrap_or_default();
            md5.update(piece);
            if let Err(e) = w.write_all(piece) {
                break Err(SealError::Failed(format!("cannot encrypt: {e}")));
            }
        };
        zeroize::Zeroize::zeroize(&mut buf);
        result
    })
}

fn seal_with(
    store: &Store,
    keys: &NodeKeys,
    label: &Label,
    mime: Option<&str>,
    feed: impl FnOnce(&mut dyn Write, &mut Md5) -> Result<(), SealError>,
) -> Result<Sealed, SealError> {
    let failed = |what: &str, e: &dyn std::fmt::Display| SealError::Failed(format!("{what}: {e}"));
    let blob = store.blob_writer().map_err(|e| failed("cannot create a blob", &e))?;
    let rng = SystemRandomSource::new();
    let config = encrypt_config(keys, label, mime).map_err(SealError::Failed)?;
    let mut writer = TdfWriter::new(BufWriter::with_capacity(256 * 1024, blob), config, &rng)
        .map_err(|e| failed("cannot start the container", &e))?;
    let mut md5 = Md5::new();
    feed(&mut writer, &mut md5)?;
    let (buffered, summary) = writer.finish().map_err(|e| failed("cannot finish the container", &e))?;
    let blob = buffered.into_inner().map_err(|e| failed("cannot write the blob", e.error()))?;
    let id = blob.finish().map_err(|e| failed("cannot make the blob durable", &e))?;
    Ok(Sealed {
        blob: id,
        size: summary.plaintext_len,
        stored_size: summary.container_len,
        md5: md5.finalize(),
    })
}

/// Opens a stored object for reading: checks the container, unwraps its key through the key custody, verifies the
/// manifest (policy binding, root signature, assertion bindings) before any plaintext is released.
pub fn open(store: &Store, keys: &NodeKeys, blob: &BlobId) -> Result<PlaintextReader<File>, String> {
    let file = store.open_blob(blob).map_err(|e| e.to_string())?;
    let reader = TdfReader::open(file).map_err(|e| format!("stored container unreadable: {e}"))?;
    let unwrapped = keys.unwrap_payload(&reader).map_err(|e| format!("stored container key: {e}"))?;
    let decryptor = reader
        .decryptor(unwrapped.key, &VerifyOptions::default())
        .map_err(|e| format!("stored container integrity: {e}"))?;
    Ok(decryptor.into_reader())
}

/// Streams `len` bytes from `start` into `tx`, in chunks: the plaintext of a stored object, or the raw bytes of a
/// client-made container. Blocking. A failure mid-stream (an integrity error) ends the stream with an error, so
/// the client sees a cut body, never unverified bytes.
pub fn stream(
    mut reader: impl Read + Seek,
    start: u64,
    len: u64,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    if let Err(e) = reader.seek(SeekFrom::Start(start)) {
        let _ = tx.blocking_send(Err(e));
        return;
    }
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left).unwrap_or(READ_CHUNK).min(READ_CHUNK);
        let mut buf = vec![0u8; want];
        match reader.read(&mut buf) {
            Ok(0) => {
                let _ = tx.blocking_send(Err(std::io::Error::other(
                    "the stored object is shorter than its index says",
                )));
                return;
            }
            Ok(n) => {
                buf.truncate(n);
                left -= n as u64;
                if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                    return; // the client went away
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "stored object failed verification while streaming");
                let _ = tx.blocking_send(Err(e));
                return;
            }
        }
    }
}

/// A shared store and key, for blocking closures.
#[derive(Debug, Clone)]
pub struct Vault {
    /// The store.
    pub store: Arc<Store>,
    /// The KAS keys.
    pub keys: Arc<NodeKeys>,
}

/// What a client-made ZTDF upload turned out to be.
#[derive(Debug)]
pub struct ClientZtdf {
    /// The blob holding the container exactly as uploaded.
    pub blob: BlobId,
    /// Container bytes.
    pub stored_size: u64,
    /// Plaintext bytes the manifest declares.
    pub plaintext_len: u64,
    /// MD5 of the container bytes (the ETag).
    pub md5: [u8; 16],
    /// The label bound in the container.
    pub label: Label,
}

/// Stores a client-made ZTDF as uploaded, then checks it: the container and manifest parse (bounded), its key
/// unwraps with this node's KAS keys (it was made for this node), the policy binding, root signature and assertion
/// bindings verify, every segment verifies, and it carries a 4774 label in a `handling` assertion. Any failure
/// discards the blob. Blocking.
pub fn accept_client_ztdf(
    store: &Store,
    keys: &NodeKeys,
    mut rx: mpsc::Receiver<Chunk>,
) -> Result<ClientZtdf, SealError> {
    let failed = |what: &str, e: &dyn std::fmt::Display| SealError::Failed(format!("{what}: {e}"));
    let blob = store.blob_writer().map_err(|e| failed("cannot create a blob", &e))?;
    let mut out = BufWriter::with_capacity(256 * 1024, blob);
    let mut md5 = Md5::new();
    let mut size: u64 = 0;
    loop {
        match rx.blocking_recv() {
            Some(Chunk::Data(b)) => {
                md5.update(&b);
                size += b.len() as u64;
                out.write_all(&b).map_err(|e| failed("cannot write the blob", &e))?;
            }
            Some(Chunk::End) => break,
            None => return Err(SealError::Incomplete),
        }
    }
    let blob = out.into_inner().map_err(|e| failed("cannot write the blob", e.error()))?;
    let id = blob.finish().map_err(|e| failed("cannot make the blob durable", &e))?;
    match check_client_ztdf(store, keys, &id) {
        Ok((plaintext_len, label)) => {
            Ok(ClientZtdf { blob: id, stored_size: size, plaintext_len, md5: md5.finalize(), label })
        }
        Err(why) => {
            store.discard_blob(&id);
            Err(SealError::Rejected(why))
        }
    }
}

fn check_client_ztdf(store: &Store, keys: &NodeKeys, id: &BlobId) -> Result<(u64, Label), String> {
    let file = store.open_blob(id).map_err(|e| e.to_string())?;
    let reader = TdfReader::open(file).map_err(|e| format!("not a readable ZTDF container: {e}"))?;
    let label = reader
        .manifest()
        .assertions
        .iter()
        .filter(|a| a.kind.eq_ignore_ascii_case("handling"))
        .find_map(|a| redoubt_ztdf::assertion::label::read_label(&a.statement).ok().flatten())
        .map(|(_, l)| l)
        .ok_or_else(|| "the container carries no STANAG 4774 label in a handling assertion".to_owned())?;
    let unwrapped = keys.unwrap_payload(&reader).map_err(|e| {
        format!("its key is not wrapped to this node's KAS key (GET /kas/v2/kas_public_key): {e}")
    })?;
    let mut decryptor =
        reader.decryptor(unwrapped.key, &VerifyOptions::default()).map_err(|e| format!("integrity: {e}"))?;
    let len = decryptor.plaintext_len();
    decryptor.decrypt_to(std::io::sink()).map_err(|e| format!("integrity: {e}"))?;
    Ok((len, label))
}

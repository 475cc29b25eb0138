//! `redoubt encrypt | decrypt | inspect`: ZTDF containers from the command line, thin wrappers over
//! `redoubt-ztdf`. Offline: `encrypt` wraps the key to KAS public keys given as files; `decrypt` unwraps with
//! KAS private keys given as files (recovery and tests; the online path goes through a KAS).
//!
//! Outputs are written to a temporary file in the destination's directory and renamed into place only on
//! success: a failed `decrypt` or `encrypt` leaves no output file. Plaintext and keys are never printed.
//! Exit codes: 0 done; 1 integrity or authorisation failure (tampered container, no key unwraps it);
//! 2 usage error or unreadable input.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, ValueEnum};
use redoubt_label::{Label, Mode, Spif};
use redoubt_ztdf::assertion::label::{label_assertion, label_attributes};
use redoubt_ztdf::inspect::Inspection;
use redoubt_ztdf::{
    AssertionVerification, AssertionVerifier, EncryptConfig, KasPrivateKey, KasPublicKey, KasTarget,
    SegmentHashAlg, SplitMode, SystemRandomSource, TdfReader, TdfWriter, VerifyOptions, inspect_with_spif,
};

use crate::exit::Negative;

/// Largest key, label or SPIF file read (bytes).
const MAX_SMALL_FILE: u64 = 4 * 1024 * 1024;

/// How several KAS share the key.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KasMode {
    /// Key splitting: each KAS holds an XOR share; all are needed.
    AllOf,
    /// Alternatives: each KAS can release the whole key.
    AnyOf,
}

/// Segment hash algorithm.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum HashArg {
    /// The GCM tag (the SDKs' default).
    Gmac,
    /// HMAC-SHA256 of each stored segment.
    Hs256,
}

/// Encrypt a file into a ZTDF container: offline with KAS public keys, or online with `--kas URL`.
#[derive(Debug, Args)]
pub struct EncryptArgs {
    /// KAS URL written into the key access object; give one per `--kas-pubkey`, in the same order
    #[arg(long = "kas-url", required_unless_present = "kas")]
    kas_url: Vec<String>,
    /// KAS public key (PEM: `PUBLIC KEY` or `CERTIFICATE`; RSA gives `wrapped`, EC P-256/P-384 `ec-wrapped`)
    #[arg(long = "kas-pubkey", required_unless_present = "kas")]
    kas_pubkey: Vec<PathBuf>,
    #[command(flatten)]
    online: super::online::KasArgs,
    /// With several KAS: split the key (all needed) or give each the whole key (any one suffices)
    #[arg(long, value_enum, default_value = "all-of")]
    kas_mode: KasMode,
    /// STANAG 4774 confidentiality label (XML, or a JSON form) bound as a `handling` assertion; its
    /// classification and categories become policy attributes
    #[arg(long)]
    label: Option<PathBuf>,
    /// Namespace of the attribute FQNs derived from the label
    #[arg(long, default_value = "nato.int")]
    attribute_namespace: String,
    /// Extra policy attribute FQN (`https://<ns>/attr/<name>/value/<value>`); repeatable
    #[arg(long = "attribute")]
    attributes: Vec<String>,
    /// Policy dissemination entity; repeatable
    #[arg(long)]
    dissem: Vec<String>,
    /// Plaintext segment size, 16KiB to 4MiB (accepts KiB/MiB suffixes)
    #[arg(long, default_value = "2MiB", value_parser = parse_size)]
    segment_size: u32,
    /// Segment hash algorithm
    #[arg(long, value_enum, default_value = "gmac")]
    segment_hash: HashArg,
    /// Threads for segment encryption
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// MIME type of the plaintext
    #[arg(long, default_value = "application/octet-stream")]
    mime_type: String,
    /// Input file (`-` for stdin)
    input: PathBuf,
    /// Output container
    output: PathBuf,
}

/// Decrypt a ZTDF container, verifying everything first: online through a KAS (`--kas URL`, the key released
/// under its decision), or offline with KAS private keys (recovery).
#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// KAS private key (PEM: PKCS#8 `PRIVATE KEY` or SEC1 `EC PRIVATE KEY`); repeatable, one per split
    #[arg(long = "kas-privkey", required_unless_present = "kas", conflicts_with = "kas")]
    kas_privkey: Vec<PathBuf>,
    #[command(flatten)]
    online: super::online::KasArgs,
    /// Verification key for an RS256/ES256-signed assertion, as `ID=PUBLIC_KEY.pem`; repeatable
    #[arg(long = "assertion-key")]
    assertion_keys: Vec<String>,
    /// Threads for segment decryption
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Input container
    input: PathBuf,
    /// Output file (written only if everything verifies)
    output: PathBuf,
}

/// Describe a ZTDF container without decrypting it.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// SPIF (Open XML SPIF) to render label markings with
    #[arg(long)]
    spif: Option<PathBuf>,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
    /// Input container
    input: PathBuf,
}

fn parse_size(s: &str) -> Result<u32, String> {
    let t = s.trim();
    let (num, mul) = if let Some(n) = t.strip_suffix("MiB").or_else(|| t.strip_suffix('M')) {
        (n, 1024 * 1024)
    } else if let Some(n) = t.strip_suffix("KiB").or_else(|| t.strip_suffix('K')) {
        (n, 1024)
    } else {
        (t, 1)
    };
    let n: u32 = num.trim().parse().map_err(|_| format!("`{s}` is not a size (e.g. 2MiB, 65536)"))?;
    n.checked_mul(mul).ok_or_else(|| format!("`{s}` is too large"))
}

fn read_small(path: &Path, what: &str) -> Result<Vec<u8>> {
    let f = File::open(path).with_context(|| format!("cannot open {what} `{}`", path.display()))?;
    let mut buf = Vec::new();
    f.take(MAX_SMALL_FILE + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {what} `{}`", path.display()))?;
    if buf.len() as u64 > MAX_SMALL_FILE {
        bail!("{what} `{}` is larger than {MAX_SMALL_FILE} bytes", path.display());
    }
    Ok(buf)
}

fn read_text(path: &Path, what: &str) -> Result<String> {
    String::from_utf8(read_small(path, what)?)
        .map_err(|_| anyhow!("{what} `{}` is not UTF-8 text", path.display()))
}

pub(crate) fn read_label(path: &Path) -> Result<Label> {
    let bytes = read_small(path, "label")?;
    let text =
        std::str::from_utf8(&bytes).map_err(|_| anyhow!("label `{}` is not UTF-8 text", path.display()))?;
    let parsed = if text.trim_start().starts_with('{') {
        Label::from_5636_json(text)
            .or_else(|_| Label::from_json_structured(text))
            .or_else(|_| Label::from_compact_json(text))
    } else {
        Label::from_xml(&bytes, Mode::Strict)
    };
    parsed.with_context(|| format!("label `{}` is not a valid STANAG 4774 label", path.display()))
}

/// Maps a library error: integrity and key-access failures are negative answers (exit 1).
pub(crate) fn ztdf_err(e: redoubt_ztdf::Error) -> anyhow::Error {
    if e.is_integrity_or_access() { Negative(e.to_string()).into() } else { anyhow!(e) }
}

/// A temporary file beside `output`, persisted over it only by `commit`.
pub(crate) fn temp_beside(output: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    tempfile::Builder::new()
        .prefix(".redoubt-")
        .suffix(".partial")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot create a file in `{}`", dir.display()))
}

pub(crate) fn commit(tmp: tempfile::NamedTempFile, output: &Path) -> Result<()> {
    tmp.as_file().sync_all().context("cannot flush the output")?;
    tmp.persist(output).map_err(|e| anyhow!("cannot write `{}`: {}", output.display(), e.error))?;
    Ok(())
}

/// `redoubt encrypt`.
pub fn run_encrypt(args: EncryptArgs) -> Result<ExitCode> {
    if args.kas_url.len() != args.kas_pubkey.len() {
        bail!(
            "give one `--kas-url` per `--kas-pubkey` ({} URLs, {} keys)",
            args.kas_url.len(),
            args.kas_pubkey.len()
        );
    }
    let mut kas = Vec::new();
    if let Some(url) = &args.online.kas {
        kas.push(super::online::kas_target(&args.online, url)?);
    }
    for (url, path) in args.kas_url.iter().zip(&args.kas_pubkey) {
        let key = KasPublicKey::from_pem(&read_text(path, "KAS public key")?)
            .with_context(|| format!("KAS public key `{}`", path.display()))?;
        kas.push(KasTarget { url: url.clone(), key, kid: None, sid: None });
    }
    let mut attributes = Vec::new();
    let mut assertions = Vec::new();
    if let Some(path) = &args.label {
        let label = read_label(path)?;
        attributes.extend(label_attributes(&label, &args.attribute_namespace));
        assertions.push(label_assertion(&label));
    }
    attributes.extend(args.attributes.iter().cloned());
    let config = EncryptConfig {
        kas,
        split: match args.kas_mode {
            KasMode::AllOf => SplitMode::AllOf,
            KasMode::AnyOf => SplitMode::AnyOf,
        },
        segment_size: args.segment_size,
        hash_alg: match args.segment_hash {
            HashArg::Gmac => SegmentHashAlg::Gmac,
            HashArg::Hs256 => SegmentHashAlg::Hs256,
        },
        attributes,
        dissem: args.dissem.clone(),
        mime_type: args.mime_type.clone(),
        assertions,
        threads: args.threads.max(1),
        ..EncryptConfig::default()
    };
    let mut input: Box<dyn Read> = if args.input.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(File::open(&args.input).with_context(|| format!("cannot open `{}`", args.input.display()))?)
    };
    let tmp = temp_beside(&args.output)?;
    let rng = SystemRandomSource::new();
    let sink =
        BufWriter::with_capacity(1 << 20, tmp.as_file().try_clone().context("cannot open the output")?);
    let mut writer = TdfWriter::new(sink, config, &rng).map_err(ztdf_err)?;
    std::io::copy(&mut input, &mut writer)
        .with_context(|| format!("cannot encrypt `{}`", args.input.display()))?;
    let (mut sink, _summary) = writer.finish().map_err(ztdf_err)?;
    sink.flush().context("cannot write the output")?;
    drop(sink);
    commit(tmp, &args.output)?;
    Ok(ExitCode::SUCCESS)
}

fn assertion_keys(specs: &[String]) -> Result<AssertionVerification> {
    let mut v = AssertionVerification::default();
    for spec in specs {
        let (id, path) = spec
            .split_once('=')
            .ok_or_else(|| anyhow!("`--assertion-key {spec}`: expected `ID=PUBLIC_KEY.pem`"))?;
        let key = AssertionVerifier::from_pem(&read_text(Path::new(path), "assertion key")?)
            .with_context(|| format!("assertion key `{path}`"))?;
        v.keys.insert(id.to_owned(), key);
    }
    Ok(v)
}

/// `redoubt decrypt`.
pub fn run_decrypt(args: DecryptArgs) -> Result<ExitCode> {
    let mut keys = Vec::new();
    for path in &args.kas_privkey {
        keys.push(
            KasPrivateKey::from_pem(&read_text(path, "KAS private key")?)
                .with_context(|| format!("KAS private key `{}`", path.display()))?,
        );
    }
    let options =
        VerifyOptions { assertions: assertion_keys(&args.assertion_keys)?, threads: args.threads.max(1) };
    let file = File::open(&args.input).with_context(|| format!("cannot open `{}`", args.input.display()))?;
    let reader =
        TdfReader::open(file).map_err(ztdf_err).with_context(|| format!("`{}`", args.input.display()))?;
    let unwrapped = match &args.online.kas {
        Some(url) => super::online::unwrap_online(&args.online, url, &reader)?,
        None => reader.unwrap_payload_key(&keys).map_err(ztdf_err)?,
    };
    decrypt_into(reader, unwrapped, &options, &args.output)?;
    Ok(ExitCode::SUCCESS)
}

/// Decrypts a container whose key is unwrapped into `output`, verifying every segment: the output file is
/// created only now, with the key and every binding verified, and a segment failing later still leaves nothing
/// behind (the temporary file is removed when dropped).
pub(crate) fn decrypt_into<R: Read + std::io::Seek>(
    reader: TdfReader<R>,
    unwrapped: redoubt_ztdf::Unwrapped,
    options: &VerifyOptions,
    output: &Path,
) -> Result<()> {
    let mut decryptor = reader.decryptor(unwrapped.key, options).map_err(ztdf_err)?;
    let tmp = temp_beside(output)?;
    let sink =
        BufWriter::with_capacity(1 << 20, tmp.as_file().try_clone().context("cannot open the output")?);
    decryptor.decrypt_to(sink).map_err(ztdf_err)?;
    commit(tmp, output)
}

/// `redoubt inspect`.
pub fn run_inspect(args: InspectArgs) -> Result<ExitCode> {
    let spif = match &args.spif {
        Some(p) => Some(
            Spif::from_xml(&read_small(p, "SPIF")?, Mode::Strict)
                .with_context(|| format!("SPIF `{}`", p.display()))?,
        ),
        None => None,
    };
    let file = File::open(&args.input).with_context(|| format!("cannot open `{}`", args.input.display()))?;
    let report = inspect_with_spif(BufReader::new(file), spif.as_ref())
        .map_err(|e| anyhow!(e))
        .with_context(|| format!("`{}`", args.input.display()))?;
    let text = if args.json {
        serde_json::to_string_pretty(&report).context("cannot render JSON")?
    } else {
        render(&report)
    };
    println!("{text}");
    if report.checks.iter().all(|c| c.ok) {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Negative("the container's structure does not check out (see `checks`)".into()).into())
    }
}

fn render(i: &Inspection) -> String {
    let mut s = String::new();
    let mut line = |k: &str, v: String| s.push_str(&format!("{k:<16}{v}\n"));
    line(
        "schema",
        format!(
            "{}{}",
            i.schema_version.as_deref().unwrap_or("(none)"),
            if i.legacy { " (legacy: hex hashes)" } else { "" }
        ),
    );
    line("mime type", i.mime_type.clone().unwrap_or_else(|| "(none)".into()));
    line(
        "payload",
        format!(
            "{} plaintext bytes in {} segment(s) of {} ({} segment hashes, {} root signature)",
            i.plaintext_bytes.map_or_else(|| "?".into(), |b| b.to_string()),
            i.segments,
            i.segment_size,
            i.segment_hash_alg,
            i.root_signature_alg
        ),
    );
    match &i.policy {
        Some(p) => {
            line("policy", format!("uuid {}", p.uuid));
            for a in &p.body.data_attributes {
                line("  attribute", a.attribute.clone());
            }
            for d in &p.body.dissem {
                line("  dissem", d.clone());
            }
        }
        None => line("policy", "(does not decode)".into()),
    }
    for (n, k) in i.key_access.iter().enumerate() {
        line(
            &format!("key access #{n}"),
            format!(
                "{} {} kid={} sid={} binding={} metadata={}",
                k.kind,
                k.url,
                k.kid.as_deref().unwrap_or("-"),
                if k.sid.is_empty() { "-" } else { &k.sid },
                k.binding_form,
                if k.encrypted_metadata { "yes" } else { "no" }
            ),
        );
    }
    for a in &i.assertions {
        line(
            "assertion",
            format!(
                "`{}` {} scope={} format={} schema={} binding={}",
                a.id,
                a.kind,
                a.scope,
                a.format,
                if a.schema.is_empty() { "-" } else { &a.schema },
                a.binding_alg.as_deref().unwrap_or("none")
            ),
        );
        if let Some(form) = &a.label_form {
            match (&a.label, &a.label_error) {
                (Some(l), _) => line("  label", format!("{form} {l}")),
                (None, Some(e)) => line("  label", format!("{form} (invalid: {e})")),
                _ => line("  label", form.clone()),
            }
        }
        if let Some(m) = &a.marking {
            line("  marking", m.clone());
        }
    }
    for c in &i.checks {
        line(
            "check",
            format!(
                "{} {}{}",
                if c.ok { "ok  " } else { "FAIL" },
                c.name,
                c.detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default()
            ),
        );
    }
    line("integrity", "not verified: inspect never decrypts (`redoubt decrypt` verifies everything)".into());
    s.trim_end().to_owned()
}

//! `redoubt audit …`: verify the audit trail's hash chain and checkpoint signatures, and query its records —
//! thin wrappers over `redoubt-audit`, working offline on the files.
//!
//! With `--data-dir DIR` the log is `DIR/audit/audit.log`, the key is the node certificate `DIR/pki/node.pem`
//! (unless `--pubkey`/`--cert` is given) and `DIR/audit/checkpoint.json`, when present, is the anchor that
//! catches truncation. With `--log FILE` the key must be given.
//! Exit codes: 0 verified; 1 a bad record (named on stderr) or, for query, invalid lines met; 2 unreadable input.

use std::fs::File;
use std::io::{BufWriter, Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::{Args, Subcommand, ValueEnum};
use redoubt_audit::{
    AUDIT_DIR, Checkpoint, Decision, Filter, HEAD_FILE, LOG_FILE, OffsetDateTime, Report, VerifyingKey,
};

use crate::exit::Negative;

/// Largest key, certificate or head file read.
const MAX_SMALL_FILE: u64 = 256 * 1024;

/// Audit trail: verify the hash chain and signatures, query records.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the whole log: exit 0 if intact, 1 naming the first bad record, 2 if it cannot be read
    Verify {
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        key: KeyArgs,
        /// Print the report as JSON on stdout
        #[arg(long)]
        json: bool,
    },
    /// Print the decision records that match every filter given (the log is read, not verified)
    Query {
        #[command(flatten)]
        source: Source,
        /// Records at or after this time (RFC 3339)
        #[arg(long, value_parser = redoubt_audit::parse_time)]
        from: Option<OffsetDateTime>,
        /// Records before this time (RFC 3339)
        #[arg(long, value_parser = redoubt_audit::parse_time)]
        to: Option<OffsetDateTime>,
        /// Identity name
        #[arg(long)]
        identity: Option<String>,
        /// Role the identity acted in
        #[arg(long)]
        role: Option<String>,
        /// Action, e.g. `s3:GetObject`
        #[arg(long)]
        action: Option<String>,
        /// Allow or deny
        #[arg(long, value_enum)]
        decision: Option<DecisionArg>,
        /// Prefix of `bucket/key` (or `stream:id`)
        #[arg(long)]
        object_prefix: Option<String>,
        /// Stop after this many records
        #[arg(long)]
        limit: Option<u64>,
        /// One JSON record per line
        #[arg(long)]
        json: bool,
    },
}

/// Where the log is.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Source {
    /// The node's data folder (log in `audit/`, certificate in `pki/node.pem`)
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// A log file
    #[arg(long)]
    log: Option<PathBuf>,
}

/// Which key signed the checkpoints, and what the log must reach.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// The node's public key (PEM `PUBLIC KEY`)
    #[arg(long, conflicts_with = "cert")]
    pubkey: Option<PathBuf>,
    /// The node's certificate (PEM); its public key is used
    #[arg(long)]
    cert: Option<PathBuf>,
    /// A checkpoint kept apart from the log (`checkpoint.json`): the log must contain it
    #[arg(long)]
    anchor: Option<PathBuf>,
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DecisionArg {
    /// Allowed requests
    Allow,
    /// Denied requests
    Deny,
}

/// Runs one `audit` subcommand.
pub fn run(cmd: AuditCommand) -> Result<ExitCode> {
    match cmd {
        AuditCommand::Verify { source, key, json } => verify(&source, &key, json),
        AuditCommand::Query {
            source,
            from,
            to,
            identity,
            role,
            action,
            decision,
            object_prefix,
            limit,
            json,
        } => {
            let decision = decision.map(|d| match d {
                DecisionArg::Allow => Decision::Allow,
                DecisionArg::Deny => Decision::Deny,
            });
            let filter = Filter { from, to, identity, role, action, decision, object_prefix };
            query(&source, filter, limit, json)
        }
    }
}

fn log_path(source: &Source) -> Result<PathBuf> {
    match (&source.data_dir, &source.log) {
        (Some(dir), _) => Ok(dir.join(AUDIT_DIR).join(LOG_FILE)),
        (None, Some(log)) => Ok(log.clone()),
        (None, None) => Err(anyhow!("give `--data-dir` or `--log`")),
    }
}

fn verify(source: &Source, args: &KeyArgs, json: bool) -> Result<ExitCode> {
    let path = log_path(source)?;
    let key = match (&args.pubkey, &args.cert, &source.data_dir) {
        (Some(p), _, _) | (None, Some(p), _) => read_key(p)?,
        (None, None, Some(dir)) => read_key(&dir.join("pki").join("node.pem"))?,
        (None, None, None) => return Err(anyhow!("give the node's key with `--pubkey` or `--cert`")),
    };
    let anchor_path = match (&args.anchor, &source.data_dir) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(dir)) => Some(dir.join(AUDIT_DIR).join(HEAD_FILE)).filter(|p| p.exists()),
        (None, None) => None,
    };
    let anchor = anchor_path.as_deref().map(read_anchor).transpose()?;
    let file =
        File::open(&path).with_context(|| format!("cannot open the audit log `{}`", path.display()))?;
    let report = redoubt_audit::verify_anchored(file, &key, anchor.as_ref())
        .with_context(|| format!("cannot read the audit log `{}`", path.display()))?;
    if json {
        println!("{}", report_json(&report));
    }
    if let Some(torn) = &report.torn_tail {
        eprintln!(
            "warning: {} bytes at byte {} are an interrupted append, not a record; the node removes them at its next start",
            torn.len, torn.offset
        );
    }
    if let Some(problem) = &report.problem {
        return Err(Negative(format!("audit log `{}`: {problem}", path.display())).into());
    }
    if !json {
        println!("{}", summary(&report, anchor.is_some()));
    }
    Ok(ExitCode::SUCCESS)
}

fn summary(r: &Report, anchored: bool) -> String {
    let mut s = format!("audit log intact: {} decisions, {} checkpoints", r.decisions, r.checkpoints);
    match &r.last_checkpoint {
        Some(c) => s.push_str(&format!("; signed through record {} ({})", c.seq, c.time)),
        None => s.push_str("; no checkpoint: nothing is signed"),
    }
    if r.unsigned > 0 {
        s.push_str(&format!(
            "; the last {} records are after the last checkpoint and cannot be proven until the next one",
            r.unsigned
        ));
    }
    if !anchored {
        s.push_str("; no head checkpoint given: truncation back to a checkpoint would not show");
    }
    s
}

fn report_json(r: &Report) -> serde_json::Value {
    serde_json::json!({
        "ok": r.is_ok(),
        "log_id": r.log_id.map(|id| id.to_string()),
        "decisions": r.decisions,
        "checkpoints": r.checkpoints,
        "last_seq": r.last_seq,
        "head": r.head.map(|h| h.to_string()),
        "last_checkpoint": r.last_checkpoint.as_ref().map(|c| serde_json::json!({
            "seq": c.seq, "line": c.line, "head": c.head.to_string(), "time": c.time.to_string(),
        })),
        "unsigned": r.unsigned,
        "torn_tail": r.torn_tail.as_ref().map(|t| serde_json::json!({"offset": t.offset, "len": t.len})),
        "problem": r.problem.as_ref().map(|p| serde_json::json!({
            "seq": p.seq, "line": p.line, "offset": p.offset, "reason": p.kind.to_string(),
        })),
    })
}

fn query(source: &Source, filter: Filter, limit: Option<u64>, json: bool) -> Result<ExitCode> {
    let path = log_path(source)?;
    let file =
        File::open(&path).with_context(|| format!("cannot open the audit log `{}`", path.display()))?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    let (mut shown, mut bad) = (0u64, 0u64);
    for hit in redoubt_audit::query(file, filter) {
        if limit.is_some_and(|l| shown >= l) {
            break;
        }
        let hit = match hit {
            Ok(hit) => hit,
            Err(redoubt_audit::Error::BadLine { line, offset, reason }) => {
                bad += 1;
                eprintln!("warning: line {line} (byte {offset}) skipped: {reason}");
                continue;
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read the audit log `{}`", path.display()));
            }
        };
        let r = &hit.record;
        if json {
            writeln!(out, "{}", serde_json::to_string(r)?)?;
        } else {
            let e = &r.entry;
            let decision = match e.decision {
                Decision::Allow => "allow",
                Decision::Deny => "deny",
            };
            let object = e.object.as_ref().map_or_else(|| "-".to_owned(), redoubt_audit::Object::path);
            let label = e.label.as_ref().map_or_else(|| "-".to_owned(), |l| format!("[{}]", l.marking));
            writeln!(
                out,
                "{} #{} {decision} {}({}) {} {object} {label} decision={} reasons={}",
                r.time,
                r.seq,
                e.who.name,
                e.who.role,
                e.action,
                e.decision_id,
                e.reasons.join(",")
            )?;
        }
        shown += 1;
    }
    out.flush()?;
    if bad > 0 {
        return Err(Negative(format!("{bad} lines are not valid records; run `redoubt audit verify`")).into());
    }
    Ok(ExitCode::SUCCESS)
}

fn read_small(path: &Path) -> Result<Vec<u8>> {
    let f = File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
    let mut buf = Vec::new();
    f.take(MAX_SMALL_FILE + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    if buf.len() as u64 > MAX_SMALL_FILE {
        return Err(anyhow!("`{}` is larger than {MAX_SMALL_FILE} bytes", path.display()));
    }
    Ok(buf)
}

fn read_key(path: &Path) -> Result<VerifyingKey> {
    VerifyingKey::from_pem(&read_small(path)?)
        .with_context(|| format!("cannot use the key in `{}`", path.display()))
}

fn read_anchor(path: &Path) -> Result<Checkpoint> {
    redoubt_audit::parse_head(&read_small(path)?)
        .with_context(|| format!("the head checkpoint `{}` is unreadable", path.display()))
}

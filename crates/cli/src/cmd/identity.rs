//! `redoubt identity create|list|show|revoke`: manages the identities of a running node through its admin API,
//! as the bootstrap administrator (the certificate and key in `DATA_DIR/pki`), trusting only the node CA.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use serde_json::Value;

use super::node::NodeArgs;

/// Identity commands.
#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Issue an identity: a client certificate from the node CA and an S3 access key pair, both bound to it
    Create(CreateArgs),
    /// List the node's identities (never their secrets)
    List(NodeArgs),
    /// Show one identity
    Show(NamedArgs),
    /// Revoke an identity: its certificate and access key stop working on the next request
    Revoke(NamedArgs),
}

/// `identity show|revoke NAME`.
#[derive(Debug, Args)]
pub struct NamedArgs {
    /// Identity name
    name: String,
    #[command(flatten)]
    node: NodeArgs,
}

/// `identity create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Unique name (1 to 64 of A-Z a-z 0-9 . _ @ -)
    #[arg(long)]
    name: String,
    /// Highest classification cleared for (and every lower one), e.g. SECRET
    #[arg(long, value_name = "CLASSIFICATION")]
    clearance: Option<String>,
    /// ISO 3166 alpha-3 nationality, e.g. FRA
    #[arg(long, value_name = "CODE")]
    nationality: Option<String>,
    /// Community of interest: a category value of the domain policy (repeatable)
    #[arg(long = "coi", value_name = "VALUE")]
    cois: Vec<String>,
    /// Role
    /// (`device`: a device whose certificate signs its posture reports)
    #[arg(long, default_value = "reader", value_parser = ["reader", "writer", "officer", "operator", "auditor", "device"])]
    role: String,
    /// Folder for the certificate and private key files (NAME.pem, NAME.key)
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    #[command(flatten)]
    node: NodeArgs,
}

/// Runs an identity command.
pub fn run(cmd: IdentityCommand) -> Result<ExitCode> {
    match cmd {
        IdentityCommand::Create(args) => create(args),
        IdentityCommand::List(args) => {
            let list = args.connect()?.call(reqwest::Method::GET, "/admin/identities", None)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                for id in list.as_array().into_iter().flatten() {
                    println!("{}", summary(id));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        IdentityCommand::Show(args) => {
            let id = args.node.connect()?.call(
                reqwest::Method::GET,
                &format!("/admin/identities/{}", args.name),
                None,
            )?;
            print_identity(&id, args.node.json)?;
            Ok(ExitCode::SUCCESS)
        }
        IdentityCommand::Revoke(args) => {
            let id = args.node.connect()?.call(
                reqwest::Method::POST,
                &format!("/admin/identities/{}/revoke", args.name),
                None,
            )?;
            print_identity(&id, args.node.json)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn text(v: &Value, field: &str) -> String {
    match v.get(field) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","),
        _ => "-".to_owned(),
    }
}

fn summary(id: &Value) -> String {
    let state = if id.get("revoked").is_some_and(|r| !r.is_null()) { "revoked" } else { "active" };
    format!(
        "{:<24} {:<9} {:<13} {:<4} {:<8} {}",
        text(id, "name"),
        text(id, "role"),
        text(id, "clearance"),
        text(id, "nationality"),
        state,
        text(id, "access_key_id")
    )
}

fn print_identity(id: &Value, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(id)?);
        return Ok(());
    }
    for field in [
        "name",
        "role",
        "clearance",
        "nationality",
        "cois",
        "fingerprint",
        "access_key_id",
        "created",
        "revoked",
    ] {
        println!("{field:<14} {}", text(id, field));
    }
    Ok(())
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create `{}` (it must not exist yet)", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

fn save_credentials(issued: &Value, cert_path: &Path, key_path: &Path) -> Result<()> {
    let cert = issued
        .get("certificate_pem")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("the node sent no certificate"))?;
    let key = zeroize::Zeroizing::new(
        issued
            .get("private_key_pem")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("the node sent no key"))?
            .to_owned(),
    );
    write_new(key_path, key.as_bytes(), 0o600)?;
    write_new(cert_path, cert.as_bytes(), 0o644)
}

fn create(args: CreateArgs) -> Result<ExitCode> {
    if !args.out.is_dir() {
        bail!("the --out folder `{}` does not exist: create it first", args.out.display());
    }
    let cert_path = args.out.join(format!("{}.pem", args.name));
    let key_path = args.out.join(format!("{}.key", args.name));
    for p in [&cert_path, &key_path] {
        if p.exists() {
            bail!("`{}` exists already: choose another --out folder or move it away", p.display());
        }
    }
    let body = serde_json::json!({
        "name": args.name,
        "role": args.role,
        "clearance": args.clearance,
        "nationality": args.nationality,
        "cois": args.cois,
    });
    let admin = args.node.connect()?;
    let issued = admin.call(reqwest::Method::POST, "/admin/identities", Some(body))?;
    if let Err(e) = save_credentials(&issued, &cert_path, &key_path) {
        // Never leave an identity whose private key nobody holds: revoke it, and say so.
        let revoked =
            admin.call(reqwest::Method::POST, &format!("/admin/identities/{}/revoke", args.name), None);
        let _ = std::fs::remove_file(&key_path);
        let _ = std::fs::remove_file(&cert_path);
        return Err(e.context(match revoked {
            Ok(_) => format!("the credentials of `{}` could not be saved, so the identity was revoked", args.name),
            Err(_) => format!(
                "the credentials of `{}` could not be saved and revoking it failed: run `redoubt identity revoke {}`",
                args.name, args.name
            ),
        }));
    }
    let access = text(&issued, "access_key_id");
    let secret = text(&issued, "secret_access_key");
    if args.node.json {
        let out = serde_json::json!({
            "identity": issued.get("identity"),
            "certificate": cert_path,
            "private_key": key_path,
            "access_key_id": access,
            "secret_access_key": secret,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("identity        {}", args.name);
        println!("certificate     {}", cert_path.display());
        println!("private key     {}", key_path.display());
        println!("access key id   {access}");
        println!("secret key      {secret}");
        println!("(the secret key is shown once: store it now)");
    }
    Ok(ExitCode::SUCCESS)
}

//! `redoubt key list|rotate|shred|approve-shred`: the KAS key lifecycle of a running node, through its admin API.
//! Destroying a key version takes two people: an administrator asks (`shred`, after typing the kid back), a
//! security officer approves (`approve-shred`, with the officer's `--cert`/`--key`).

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::node::NodeArgs;

/// Key commands.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// List every key version: kid, algorithm, state
    List(NodeArgs),
    /// Add a new version of an algorithm's key: new objects use it, old ones keep opening
    Rotate(RotateArgs),
    /// Ask for a key version to be destroyed (an officer must approve): every object wrapped only to it becomes
    /// unreadable, wherever its copies are
    Shred(ShredArgs),
    /// Approve a pending destruction, as a security officer (give the officer's --cert and --key)
    ApproveShred(ApproveArgs),
}

/// `key rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// Algorithm of the new version
    #[arg(long, default_value = "ec:secp256r1", value_parser = ["rsa:2048", "ec:secp256r1", "ec:secp384r1"])]
    algorithm: String,
    #[command(flatten)]
    node: NodeArgs,
}

/// `key shred`.
#[derive(Debug, Args)]
pub struct ShredArgs {
    /// The key version to destroy
    #[arg(long)]
    kid: String,
    /// Do not ask to type the kid back (scripts)
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    node: NodeArgs,
}

/// `key approve-shred`.
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The key version whose destruction to approve
    #[arg(long)]
    kid: String,
    #[command(flatten)]
    node: NodeArgs,
}

/// Runs a key command.
pub fn run(cmd: KeyCommand) -> Result<ExitCode> {
    match cmd {
        KeyCommand::List(node) => {
            let v = node.connect()?.call(reqwest::Method::GET, "/admin/keys", None)?;
            if node.json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!("backend: {}", text(&v, "backend"));
                for k in v.get("keys").and_then(Value::as_array).into_iter().flatten() {
                    println!("{:<14} {:<14} {}", text(k, "kid"), text(k, "algorithm"), text(k, "state"));
                }
            }
        }
        KeyCommand::Rotate(args) => {
            let v = args.node.connect()?.call(
                reqwest::Method::POST,
                "/admin/keys/rotate",
                Some(json!({"algorithm": args.algorithm})),
            )?;
            print(
                &v,
                args.node.json,
                &format!("new key version {} ({})", text(&v, "kid"), text(&v, "algorithm")),
            )?;
        }
        KeyCommand::Shred(args) => {
            if !args.yes {
                confirm(&args.kid)?;
            }
            let v = args.node.connect()?.call(
                reqwest::Method::POST,
                &format!("/admin/keys/{}/shred", args.kid),
                None,
            )?;
            print(
                &v,
                args.node.json,
                &format!("destruction of {} requested; {}", args.kid, text(&v, "next")),
            )?;
        }
        KeyCommand::ApproveShred(args) => {
            let v = args.node.connect()?.call(
                reqwest::Method::POST,
                &format!("/admin/keys/{}/shred/approve", args.kid),
                None,
            )?;
            let n = v.get("unreadable_objects").and_then(Value::as_u64).unwrap_or(0);
            print(
                &v,
                args.node.json,
                &format!("key version {} destroyed; {n} stored object(s) are now unreadable", args.kid),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn text(v: &Value, field: &str) -> String {
    v.get(field).and_then(Value::as_str).unwrap_or("-").to_owned()
}

fn print(v: &Value, json: bool, line: &str) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(v)?);
    } else {
        println!("{line}");
    }
    Ok(())
}

/// Asks the operator to type the kid back.
fn confirm(kid: &str) -> Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!("destroying a key cannot be undone: run this in a terminal to confirm, or pass --yes");
    }
    eprint!(
        "Destroying key version {kid} makes every object wrapped only to it unreadable, for good.\nType the kid to confirm: "
    );
    std::io::stderr().flush()?;
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    if line.trim() != kid {
        bail!("not confirmed: nothing was asked of the node");
    }
    Ok(())
}

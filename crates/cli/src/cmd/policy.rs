//! `redoubt policy test`: evaluates a decision offline, exactly as the node would (the domain SPIF and default
//! policies, the identity as the node knows it), and explains it. Exit 0 for permit, 1 for deny.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::{Args, Subcommand};
use redoubt_node::identities::{IdentityRecord, read_records, subject_for};
use redoubt_policy::{Action, Request, Resource};

use super::settings::ConfigArgs;

/// Policy commands.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Decide one request offline and explain the decision
    Test(TestArgs),
}

/// `policy test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// An identity of the node (read from DATA_DIR/identities.json)
    #[arg(long, value_name = "NAME", conflicts_with_all = ["role", "clearance", "nationality", "cois"])]
    identity: Option<String>,
    /// Instead of --identity: a role for a hypothetical subject
    #[arg(long, value_parser = ["reader", "writer", "officer", "operator", "auditor", "administrator"])]
    role: Option<String>,
    /// Instead of --identity: the subject's highest classification
    #[arg(long)]
    clearance: Option<String>,
    /// Instead of --identity: the subject's nationality
    #[arg(long)]
    nationality: Option<String>,
    /// Instead of --identity: a community of interest (repeatable)
    #[arg(long = "coi")]
    cois: Vec<String>,
    /// The object's label file (4774 XML, compact JSON, 5636 JSON, …)
    #[arg(long, value_name = "FILE")]
    label: Option<PathBuf>,
    /// The action
    #[arg(long, default_value = "read", value_parser = ["read", "write", "delete", "read_label", "list", "create_bucket", "delete_bucket", "read_audit", "manage_identities", "manage_keys", "approve_key_destruction"])]
    action: String,
    /// Print JSON
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    config: ConfigArgs,
}

fn action(name: &str) -> Result<Action> {
    Ok(match name {
        "read" => Action::Read,
        "write" => Action::Write,
        "delete" => Action::Delete,
        "read_label" => Action::ReadLabel,
        "list" => Action::List,
        "create_bucket" => Action::CreateBucket,
        "delete_bucket" => Action::DeleteBucket,
        "read_audit" => Action::ReadAudit,
        "manage_identities" => Action::ManageIdentities,
        "manage_keys" => Action::ManageKeys,
        "approve_key_destruction" => Action::ApproveKeyDestruction,
        other => return Err(anyhow!("unknown action `{other}`")),
    })
}

/// Runs a policy command.
pub fn run(cmd: PolicyCommand) -> Result<ExitCode> {
    let PolicyCommand::Test(args) = cmd;
    let pdp = redoubt_node::default_pdp().map_err(|e| anyhow!(e))?;
    let record = match &args.identity {
        Some(name) => {
            let data_dir = args.config.load()?.data_dir;
            read_records(&data_dir)?
                .into_iter()
                .find(|r| &r.name == name)
                .ok_or_else(|| anyhow!("no identity named `{name}` in `{}`", data_dir.display()))?
        }
        None => IdentityRecord {
            name: "(hypothetical)".into(),
            role: args.role.clone().unwrap_or_else(|| "reader".into()),
            clearance: args.clearance.clone(),
            nationality: args.nationality.clone(),
            cois: args.cois.clone(),
            fingerprint: String::new(),
            access_key_id: None,
            secret_access_key: None,
            created: String::new(),
            revoked: None,
            certificate_pem: None,
        },
    };
    if record.revoked.is_some() {
        return Err(crate::exit::Negative(format!(
            "identity `{}` is revoked: every request is refused",
            record.name
        ))
        .into());
    }
    let subject = subject_for(&pdp, &record)?;
    let label = args.label.as_deref().map(super::ztdf::read_label).transpose()?;
    let decision = pdp.decide(&Request {
        subject: &subject,
        action: action(&args.action)?,
        resource: Resource { bucket: "", key: None, label: label.as_ref() },
        now_unix: time_now(),
    });
    if args.json {
        let out = serde_json::json!({
            "identity": record.name,
            "action": args.action,
            "decision": if decision.permit { "permit" } else { "deny" },
            "reasons": decision.reasons,
            "policy_ids": decision.policy_ids,
        });
        println!("{}", serde_json::to_string_pretty(&out).context("cannot print")?);
    } else {
        println!("{}: {} {}", if decision.permit { "PERMIT" } else { "DENY" }, record.name, args.action);
        for r in &decision.reasons {
            println!("  reason: {r}");
        }
        for p in &decision.policy_ids {
            println!("  policy: {p}");
        }
    }
    Ok(if decision.permit { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn time_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

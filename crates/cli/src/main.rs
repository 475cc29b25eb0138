//! The `redoubt` binary. Thin by design: it parses arguments, calls the crates and maps outcomes to exit codes.
//! It owns no protocol or format logic; every subcommand lives in `cmd/<group>.rs`.
//!
//! Exit codes, for every subcommand: 0 success; 1 a negative answer (invalid, denied, integrity failure);
//! 2 usage error or unreadable input.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the binary talks to its user on stdout and stderr"
)]

mod cmd;
mod exit;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Redoubt: a deployable, zero-trust, data-centric cloud node for classified mission data.
#[derive(Debug, Parser)]
#[command(name = "redoubt", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a node: bootstrap its PKI on first start, then serve HTTPS until SIGINT/SIGTERM
    Up(cmd::up::UpArgs),
    /// Show the effective configuration
    #[command(subcommand)]
    Config(cmd::config::ConfigCommand),
    /// Labels: validate, mark, decide, translate, dominant
    #[command(subcommand)]
    Label(cmd::label::LabelCommand),
    /// Full-motion video: probe MPEG-TS files and their KLV metadata (ST 0601, ST 0102)
    #[command(subcommand)]
    Fmv(cmd::fmv::FmvCommand),
    /// Encrypt a file into a ZTDF container (offline, with KAS public keys)
    Encrypt(cmd::ztdf::EncryptArgs),
    /// Decrypt a ZTDF container offline with KAS private keys; nothing is written unless everything verifies
    Decrypt(cmd::ztdf::DecryptArgs),
    /// Describe a ZTDF container (manifest, keys, policy, label, structure) without decrypting it
    Inspect(cmd::ztdf::InspectArgs),
    /// Fetch an object's ZTDF container from a node and decrypt it here, the key released by the node's KAS
    Get(cmd::get::GetArgs),
    /// Audit trail: verify the hash chain and signatures, query records
    #[command(subcommand)]
    Audit(cmd::audit::AuditCommand),
    /// Identities of a running node: create (certificate + S3 access key), list, show, revoke
    #[command(subcommand)]
    Identity(cmd::identity::IdentityCommand),
    /// KAS keys of a running node: list, rotate, shred (two-person destruction)
    #[command(subcommand)]
    Key(cmd::key::KeyCommand),
    /// Access policy: evaluate a decision offline and explain it
    #[command(subcommand)]
    Policy(cmd::policy::PolicyCommand),
    // Each group's arguments and `run` live in `cmd/<group>.rs`; add a variant here and one line in `main`.
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(args) => cmd::up::run(args),
        Command::Config(cmd) => cmd::config::run(cmd),
        Command::Label(cmd) => cmd::label::run(cmd),
        Command::Fmv(cmd) => cmd::fmv::run(cmd),
        Command::Encrypt(args) => cmd::ztdf::run_encrypt(args),
        Command::Decrypt(args) => cmd::ztdf::run_decrypt(args),
        Command::Inspect(args) => cmd::ztdf::run_inspect(args),
        Command::Get(args) => cmd::get::run(args),
        Command::Audit(cmd) => cmd::audit::run(cmd),
        Command::Identity(cmd) => cmd::identity::run(cmd),
        Command::Key(cmd) => cmd::key::run(cmd),
        Command::Policy(cmd) => cmd::policy::run(cmd),
    };
    exit::report(result)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}

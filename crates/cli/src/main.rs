//! The `redoubt` binary. Thin by design: it parses arguments, calls the crates and maps outcomes to exit codes.
//! It owns no protocol or format logic; every subcommand lives in `cmd/<group>.rs`.
//!
//! Exit codes, for every subcommand: 0 success; 1 a negative answer (invalid, denied, integrity failure);
//! 2 usage error or unreadable input.

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
    // Each group's arguments and `run` live in `cmd/<group>.rs`; add a variant here and one line in `main`.
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {};
    exit::report(result)
}

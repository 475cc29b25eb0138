//! `redoubt config show`: the effective configuration, each value with where it came from.

use std::process::ExitCode;

use clap::Subcommand;

use crate::cmd::settings::ConfigArgs;

/// Configuration commands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration as TOML, each key commented with its source
    Show(ConfigArgs),
}

/// Runs a `config` command.
pub fn run(cmd: ConfigCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ConfigCommand::Show(args) => {
            let config = args.load()?;
            print!("{}", config.to_toml());
            Ok(ExitCode::SUCCESS)
        }
    }
}

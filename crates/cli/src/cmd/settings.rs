//! Flags shared by the commands that read the node configuration, and the layering of flags over
//! file and environment (see `redoubt_node::config`).

use std::path::PathBuf;

use clap::Args;
use redoubt_node::Config;
use redoubt_node::config::{CONFIG_ENV, Origin, RawValue};

/// Configuration flags. Each overrides the config file and the environment.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// TOML config file (default: none; or the REDOUBT_CONFIG environment variable)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Folder holding the node's state [default: ./redoubt-data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// HTTPS listen address [default: 127.0.0.1:8443]
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// Extra DNS name or IP address for the server certificate (repeatable)
    #[arg(long = "hostname", value_name = "NAME")]
    pub hostnames: Vec<String>,
    /// Node name, used in its certificates [default: redoubt-node]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Log format [default: text]
    #[arg(long, value_name = "FORMAT", value_parser = ["text", "json"])]
    pub log_format: Option<String>,
    /// Log filter, such as info or debug [default: info]
    #[arg(long, value_name = "FILTER")]
    pub log_level: Option<String>,
}

impl ConfigArgs {
    /// Defaults, then the config file, then `REDOUBT_*` variables, then these flags.
    pub fn load(&self) -> anyhow::Result<Config> {
        let file = self.config.clone().or_else(|| std::env::var_os(CONFIG_ENV).map(PathBuf::from));
        let mut config = Config::load(file.as_deref(), std::env::vars())?;
        let flags: [(&'static str, &'static str, Option<RawValue>); 6] = [
            (
                "node.data_dir",
                "--data-dir",
                self.data_dir.as_ref().map(|d| RawValue::Str(d.to_string_lossy().into())),
            ),
            ("server.listen", "--listen", self.listen.clone().map(RawValue::Str)),
            (
                "node.hostnames",
                "--hostname",
                (!self.hostnames.is_empty()).then(|| RawValue::List(self.hostnames.clone())),
            ),
            ("node.name", "--name", self.name.clone().map(RawValue::Str)),
            ("log.format", "--log-format", self.log_format.clone().map(RawValue::Str)),
            ("log.level", "--log-level", self.log_level.clone().map(RawValue::Str)),
        ];
        for (key, flag, value) in flags {
            if let Some(value) = value {
                config.set(key, value, Origin::Flag(flag))?;
            }
        }
        Ok(config)
    }
}

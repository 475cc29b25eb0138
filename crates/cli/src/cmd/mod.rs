//! One module per subcommand group. Each exposes a clap `Args`/`Subcommand` type and a `run` function
//! returning `anyhow::Result<ExitCode>`; errors are reported by `crate::exit`.

pub mod audit;
pub mod config;
pub mod fmv;
pub mod fmv_live;
pub mod get;
pub mod identity;
pub mod key;
pub mod label;
pub mod node;
pub mod online;
pub mod policy;
pub mod settings;
pub mod up;
pub mod ztdf;

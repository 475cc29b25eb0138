//! One module per subcommand group. Each exposes a clap `Args`/`Subcommand` type and a `run` function
//! returning `anyhow::Result<ExitCode>`; errors are reported by `crate::exit`.

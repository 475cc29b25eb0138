//! `redoubt up`: run a node. First start bootstraps the node PKI and the administrator's credentials into the
//! data folder; later starts reuse them. Prints where everything is and one command to check the node.

use std::process::ExitCode;

use clap::Args;
use redoubt_node::StartInfo;

use crate::cmd::settings::ConfigArgs;

/// Arguments of `redoubt up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    config: ConfigArgs,
}

/// Runs the node until SIGINT or SIGTERM.
pub fn run(args: UpArgs) -> anyhow::Result<ExitCode> {
    let config = args.config.load()?;
    redoubt_node::telemetry::init_logging(config.log_format, &config.log_level)
        .map_err(anyhow::Error::msg)?;
    let name = config.name.clone();
    let data_dir = config.data_dir.clone();
    redoubt_node::run_until_signal(config, |info| banner(&name, &data_dir, info))?;
    Ok(ExitCode::SUCCESS)
}

/// Prints where everything is. Write errors are ignored: a node whose stdout was closed (a supervisor that
/// stopped reading) keeps serving; `println!` would panic instead.
fn banner(name: &str, data_dir: &std::path::Path, info: &StartInfo) {
    use std::io::Write as _;
    let what = if info.bootstrapped { "bootstrapped a new node in" } else { "state reused from" };
    let (ca, cert, key) = (info.ca_file.display(), info.admin_cert.display(), info.admin_key.display());
    let text = format!(
        "Redoubt node `{name}` is up ({what} {dir})\n\
         \x20 URL       {url}\n\
         \x20 Node CA   {ca}\n\
         \x20           SHA-256 {fingerprint}\n\
         \x20 Admin     {cert} (certificate)\n\
         \x20           {key} (private key, mode 0600: keep it secret)\n\
         \x20 Check it  curl --cacert {ca} --cert {cert} --key {key} {url}/healthz\n\
         Stop with Ctrl-C or SIGTERM; in-flight requests finish first.\n",
        dir = data_dir.display(),
        url = info.url,
        fingerprint = info.ca_fingerprint,
    );
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

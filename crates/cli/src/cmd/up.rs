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

fn banner(name: &str, data_dir: &std::path::Path, info: &StartInfo) {
    let what = if info.bootstrapped { "bootstrapped a new node in" } else { "state reused from" };
    let (ca, cert, key) = (info.ca_file.display(), info.admin_cert.display(), info.admin_key.display());
    println!("Redoubt node `{name}` is up ({what} {})", data_dir.display());
    println!("  URL       {}", info.url);
    println!("  Node CA   {ca}");
    println!("            SHA-256 {}", info.ca_fingerprint);
    println!("  Admin     {cert} (certificate)");
    println!("            {key} (private key, mode 0600: keep it secret)");
    println!("  Check it  curl --cacert {ca} --cert {cert} --key {key} {}/healthz", info.url);
    println!("Stop with Ctrl-C or SIGTERM; in-flight requests finish first.");
}

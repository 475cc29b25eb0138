//! `redoubt get BUCKET/KEY OUT`: an object read the data-centric way. The node hands over the stored ZTDF
//! container (after the same decision and audit as any GET), the node's KAS releases the payload key to this
//! identity (after a decision of its own, under the policy the container carries), and the container is verified
//! and decrypted here. The node never sends plaintext, and nothing is written unless everything verifies.

use std::io::{BufWriter, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use redoubt_ztdf::{TdfReader, VerifyOptions};

use super::node::NodeArgs;
use super::ztdf::{commit, decrypt_into, temp_beside, ztdf_err};
use crate::exit::Negative;

/// The request header that asks a GET for the stored container (see the node's object service).
const CONTAINER_HEADER: &str = "x-redoubt-ztdf";
/// Largest error body read from the node.
const MAX_ERROR_BODY: u64 = 64 * 1024;

/// Fetch an object's ZTDF container from a node and decrypt it here, the key released by the node's KAS.
#[derive(Debug, Args)]
pub struct GetArgs {
    #[command(flatten)]
    node: NodeArgs,
    /// The KAS to ask for the key [default: the node's, NODE_URL/kas]
    #[arg(long, value_name = "URL")]
    kas: Option<String>,
    /// Threads for segment decryption
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Keep the container too, written here (it stays protected: only the KAS can open it)
    #[arg(long, value_name = "FILE")]
    keep_container: Option<PathBuf>,
    /// The object, as BUCKET/KEY
    object: String,
    /// Output file (written only if everything verifies)
    output: PathBuf,
}

/// `redoubt get`.
pub fn run(args: GetArgs) -> Result<ExitCode> {
    let (bucket, key) = args
        .object
        .split_once('/')
        .filter(|(b, k)| !b.is_empty() && !k.is_empty())
        .ok_or_else(|| anyhow!("name the object as BUCKET/KEY (got `{}`)", args.object))?;
    let client = args.node.connect()?;
    let mut url = reqwest::Url::parse(&client.url).with_context(|| format!("node URL `{}`", client.url))?;
    url.path_segments_mut()
        .map_err(|()| anyhow!("node URL `{}` cannot take a path", client.url))?
        .pop_if_empty()
        .push(bucket)
        .extend(key.split('/'));
    let mut response = client
        .client
        .get(url)
        .header(CONTAINER_HEADER, "container")
        .send()
        .with_context(|| format!("cannot reach the node at {}", client.url))?;
    let status = response.status();
    if !status.is_success() {
        let mut body = String::new();
        let _ =
            std::io::Read::read_to_string(&mut std::io::Read::take(&mut response, MAX_ERROR_BODY), &mut body);
        let message = s3_error_text(&body).unwrap_or_else(|| status.to_string());
        if status.is_client_error() {
            return Err(Negative(format!("the node refused `{}`: {message}", args.object)).into());
        }
        bail!("the node failed to serve `{}`: {message}", args.object);
    }
    // The container goes to a temporary file beside the output (removed on every path), or to --keep-container.
    let container = temp_beside(&args.output)?;
    {
        let mut sink = BufWriter::with_capacity(1 << 20, container.as_file());
        response.copy_to(&mut sink).context("the download was cut")?;
        sink.flush().context("cannot write the container")?;
    }
    let file = container.reopen().context("cannot read the container back")?;
    let reader =
        TdfReader::open(file).map_err(ztdf_err).context("the node sent a container that does not open")?;
    let kas = args.kas.clone().unwrap_or_else(|| format!("{}/kas", client.url));
    let unwrapped = super::online::unwrap_through(&client, &kas, &reader)?;
    let options = VerifyOptions { threads: args.threads.max(1), ..VerifyOptions::default() };
    decrypt_into(reader, unwrapped, &options, &args.output)?;
    if let Some(keep) = &args.keep_container {
        commit(container, keep)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The `Code: Message` of an S3 error document, when the body is one.
fn s3_error_text(body: &str) -> Option<String> {
    let field = |tag: &str| {
        let open = format!("<{tag}>");
        let start = body.find(&open)? + open.len();
        let end = body.get(start..)?.find(&format!("</{tag}>"))? + start;
        body.get(start..end).map(str::to_owned)
    };
    match (field("Code"), field("Message")) {
        (Some(c), Some(m)) => Some(format!("{c}: {m}")),
        (Some(c), None) => Some(c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::s3_error_text;

    #[test]
    fn s3_error_documents_are_summarised() {
        let xml = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>no</Message></Error>";
        assert_eq!(s3_error_text(xml).as_deref(), Some("AccessDenied: no"));
        assert_eq!(s3_error_text("<Error><Code>NoSuchKey</Code></Error>").as_deref(), Some("NoSuchKey"));
        assert_eq!(s3_error_text("not xml"), None);
        assert_eq!(s3_error_text("<Code>unterminated"), None);
    }
}

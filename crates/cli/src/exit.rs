//! Maps a command's outcome to the process exit code and prints errors the same way for every command.

use std::process::ExitCode;

/// A negative answer that is not a usage error: invalid label, denied access, failed integrity check.
/// Commands return it (wrapped in `anyhow::Error`) to exit with code 1 instead of 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Negative(pub String);

/// Prints the error chain (never a Rust type name) and returns 1 for [`Negative`], 2 otherwise.
pub fn report(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(err) => {
            let mut msg = format!("error: {err}");
            for cause in err.chain().skip(1) {
                msg.push_str(&format!(": {cause}"));
            }
            eprintln!("{msg}");
            if err.downcast_ref::<Negative>().is_some() { ExitCode::from(1) } else { ExitCode::from(2) }
        }
    }
}

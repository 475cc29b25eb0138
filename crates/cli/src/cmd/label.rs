//! `redoubt label …`: validate, mark, decide, translate, dominant, convert — thin wrappers over `redoubt-label`.
//!
//! Every file argument may be `-` for standard input. Labels and clearances are read in any form the crate reads
//! (4774 XML, spiffing XML, ESS BER, compact JSON, STANAG 5636 JSON, json-structured JSON), detected from their
//! bytes. Several `--spif` may be given; the policy of each label is found by OID or name.
//! Exit codes: 0 yes (valid, permit, done); 1 no (invalid, deny); 2 unreadable input or usage error.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::{Args, Subcommand, ValueEnum};
use redoubt_label::limits::{MAX_LABEL_BYTES, MAX_SPIF_BYTES};
use redoubt_label::{Clearance, Decision, Label, Levels, Mode, PolicySet, Spif};

use crate::exit::Negative;

/// Labels: validate, mark, decide, translate, dominant.
#[derive(Debug, Subcommand)]
pub enum LabelCommand {
    /// Validate a label against its SPIF: exit 0 if valid, 1 if not (every violated rule on stderr)
    Validate {
        #[command(flatten)]
        policies: Policies,
        /// The label (`-` for stdin)
        label: PathBuf,
    },
    /// Print the display marking of a label (or, with --clearance-marking, of a clearance)
    Mark {
        #[command(flatten)]
        policies: Policies,
        /// Marking language, e.g. `fr` or `fr-CA` (default: the SPIF's untagged markings)
        #[arg(long, default_value = "")]
        lang: String,
        /// The file is a clearance: print the clearance marking
        #[arg(long)]
        clearance_marking: bool,
        /// The label or clearance (`-` for stdin)
        file: PathBuf,
    },
    /// Decide access (ADatP-4774.1 ACDF): prints `permit` (exit 0) or `deny: <reason>` (exit 1)
    Decide {
        #[command(flatten)]
        policies: Policies,
        /// The clearance (`-` for stdin)
        #[arg(long)]
        clearance: PathBuf,
        /// How the clearance's classification list is read: exactly those levels, or those and every lower level
        #[arg(long, value_enum)]
        levels: Option<LevelsArg>,
        /// The label (`-` for stdin)
        label: PathBuf,
    },
    /// Translate a label into an equivalent policy: prints the alternative label (4774 XML)
    Translate {
        #[command(flatten)]
        policies: Policies,
        /// Target policy, by OID or name
        #[arg(long)]
        to: String,
        /// The label (`-` for stdin)
        label: PathBuf,
    },
    /// Print the dominant label (4774 XML) of several labels
    Dominant {
        #[command(flatten)]
        policies: Policies,
        /// The labels (`-` for stdin, once)
        #[arg(required = true)]
        labels: Vec<PathBuf>,
    },
    /// Convert a label to another form
    Convert {
        #[command(flatten)]
        policies: Policies,
        /// Output form
        #[arg(long, value_enum)]
        to: Form,
        /// Attribute namespace for `--to fqn`, e.g. `nato.int`
        #[arg(long, default_value = "")]
        ns: String,
        /// The label (`-` for stdin)
        label: PathBuf,
    },
}

/// The SPIFs to load and how strictly to read inputs.
#[derive(Debug, Args)]
pub struct Policies {
    /// A SPIF (Open XML SPIF); repeat for several policies
    #[arg(long = "spif", required = true)]
    spifs: Vec<PathBuf>,
    /// Accept common defects in labels and SPIFs (missing namespace, `tagName`, `URL=`…) and report each repair
    #[arg(long)]
    lenient: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LevelsArg {
    /// Exactly the listed classifications
    Listed,
    /// The listed classifications and every lower one in the SPIF hierarchy
    Dominance,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Form {
    /// STANAG 4774 label XML
    Xml,
    /// Redoubt's compact JSON
    Compact,
    /// STANAG 5636 JSON
    Stanag5636,
    /// json-structured 4774 JSON
    JsonStructured,
    /// spiffing's XML form
    Spiffing,
    /// OpenTDF attribute value FQNs, one a line (needs --ns)
    Fqn,
}

/// Runs one `label` subcommand.
pub fn run(cmd: LabelCommand) -> Result<ExitCode> {
    match cmd {
        LabelCommand::Validate { policies, label } => {
            let (set, mode) = policies.load()?;
            let label = read_label(&set, &label, mode)?;
            let spif = set.policy_of(&label.policy)?;
            for w in spif.obsolete_values(&label) {
                eprintln!("warning: {w} is obsolete in policy `{}`", spif.name());
            }
            let violations = spif.validate(&label);
            if violations.is_empty() {
                println!("valid");
                return Ok(ExitCode::SUCCESS);
            }
            for v in &violations {
                eprintln!("invalid: {v}");
            }
            Err(Negative(format!(
                "label is not valid under policy `{}` ({} violation(s))",
                spif.name(),
                violations.len()
            ))
            .into())
        }
        LabelCommand::Mark { policies, lang, clearance_marking, file } => {
            let (set, mode) = policies.load()?;
            let marking = if clearance_marking {
                let clearance = read_clearance(&set, &file, mode)?;
                set.policy_of(&clearance.policy)?.clearance_marking(&clearance, &lang)?
            } else {
                let label = read_label(&set, &file, mode)?;
                set.policy_of(&label.policy)?.marking(&label, &lang)?
            };
            println!("{marking}");
            Ok(ExitCode::SUCCESS)
        }
        LabelCommand::Decide { policies, clearance, levels, label } => {
            let (set, mode) = policies.load()?;
            let label = read_label(&set, &label, mode)?;
            let mut clearance = read_clearance(&set, &clearance, mode)?;
            if let Some(l) = levels {
                clearance.levels = match l {
                    LevelsArg::Listed => Levels::Listed,
                    LevelsArg::Dominance => Levels::Dominance,
                };
            }
            let spif = set.policy_of(&clearance.policy)?;
            match spif.decide(&label, &clearance) {
                Decision::Permit => {
                    println!("permit");
                    Ok(ExitCode::SUCCESS)
                }
                Decision::Deny(denial) => {
                    println!("deny: {}", spif.explain(&denial));
                    Ok(ExitCode::from(1))
                }
            }
        }
        LabelCommand::Translate { policies, to, label } => {
            let (set, mode) = policies.load()?;
            let label = read_label(&set, &label, mode)?;
            print!("{}", set.translate(&label, &to)?.to_xml());
            Ok(ExitCode::SUCCESS)
        }
        LabelCommand::Dominant { policies, labels } => {
            let (set, mode) = policies.load()?;
            let labels = labels.iter().map(|p| read_label(&set, p, mode)).collect::<Result<Vec<_>>>()?;
            let first = labels.first().ok_or_else(|| anyhow!("give at least one label"))?;
            let spif = set.policy_of(&first.policy)?;
            print!("{}", spif.dominant(&labels)?.to_xml());
            Ok(ExitCode::SUCCESS)
        }
        LabelCommand::Convert { policies, to, ns, label } => {
            let (set, mode) = policies.load()?;
            let label = read_label(&set, &label, mode)?;
            let out = match to {
                Form::Xml => label.to_xml(),
                Form::Compact => label.to_compact_json()? + "\n",
                Form::Stanag5636 => label.to_5636_json()? + "\n",
                Form::JsonStructured => label.to_json_structured()? + "\n",
                Form::Spiffing => set.policy_of(&label.policy)?.to_spiffing_xml(&label)?,
                Form::Fqn => {
                    if ns.is_empty() {
                        return Err(anyhow!("`--to fqn` needs `--ns <namespace>`, e.g. `--ns nato.int`"));
                    }
                    label.to_attribute_fqns(&ns).join("\n") + "\n"
                }
            };
            print!("{out}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

impl Policies {
    fn load(&self) -> Result<(PolicySet, Mode)> {
        let mode = if self.lenient { Mode::Lenient } else { Mode::Strict };
        let mut set = PolicySet::new();
        for path in &self.spifs {
            let bytes = read_input(path, MAX_SPIF_BYTES)?;
            let (spif, repairs) = Spif::from_xml_with_repairs(&bytes, mode)
                .with_context(|| format!("reading SPIF `{}`", path.display()))?;
            warn_repairs(path, &repairs);
            set.add(spif)?;
        }
        Ok((set, mode))
    }
}

fn warn_repairs(path: &Path, repairs: &[redoubt_label::Repair]) {
    for r in repairs {
        eprintln!("warning: {}: repaired {r}", path.display());
    }
}

fn read_label(set: &PolicySet, path: &Path, mode: Mode) -> Result<Label> {
    let bytes = read_input(path, MAX_LABEL_BYTES)?;
    let (label, repairs) = set.read_label(&bytes, mode).with_context(|| {
        let hint = lenient_hint(mode, || set.read_label(&bytes, Mode::Lenient).is_ok());
        format!("reading label `{}`{hint}", path.display())
    })?;
    warn_repairs(path, &repairs);
    Ok(label)
}

fn read_clearance(set: &PolicySet, path: &Path, mode: Mode) -> Result<Clearance> {
    let bytes = read_input(path, MAX_LABEL_BYTES)?;
    let (clearance, repairs) = set.read_clearance(&bytes, mode).with_context(|| {
        let hint = lenient_hint(mode, || set.read_clearance(&bytes, Mode::Lenient).is_ok());
        format!("reading clearance `{}`{hint}", path.display())
    })?;
    warn_repairs(path, &repairs);
    Ok(clearance)
}

/// When a strict read failed but a lenient one would succeed, says so: the user learns the way out.
fn lenient_hint(mode: Mode, lenient_reads: impl FnOnce() -> bool) -> &'static str {
    if matches!(mode, Mode::Strict) && lenient_reads() {
        " (--lenient accepts this file and reports each repair)"
    } else {
        ""
    }
}

/// Reads a file (or stdin for `-`), at most `limit + 1` bytes so that the parser reports an oversized input.
fn read_input(path: &Path, limit: usize) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    if path.as_os_str() == "-" {
        std::io::stdin().lock().take(cap).read_to_end(&mut buf).context("reading standard input")?;
    } else {
        let file = std::fs::File::open(path).with_context(|| format!("cannot read `{}`", path.display()))?;
        file.take(cap).read_to_end(&mut buf).with_context(|| format!("cannot read `{}`", path.display()))?;
    }
    Ok(buf)
}

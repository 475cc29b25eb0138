//! Building the label clearance of an identity from what an identity record says: a level, a nationality and
//! communities of interest (COIs), resolved against the SPIF once, when the identity is loaded.
//!
//! The label crate does not expose the SPIF's tag sets directly; its OpenTDF attribute definitions list every
//! tag set and value, and [`Label::from_attribute_fqns`] recovers the exact SPIF names from them. That is a
//! load-time path, never the decision's.

use redoubt_label::fqn::{AttributeDefinition, opentdf_name};
use redoubt_label::{Category, CategoryType, Clearance, Label, Levels, Spif};

use crate::error::PolicyError;

/// The namespace of the attribute FQNs used internally for name look-ups (never leaves this module).
const NS: &str = "redoubt.invalid";
/// How many valid values an error message lists.
const EXAMPLES: usize = 8;

/// Builds the clearance of an identity under `spif`:
///
/// * cleared for `level` and every lower level ([`Levels::Dominance`]);
/// * holding `nationality` in every permissive tag set whose values include it (for the NATO SPIF: `Releasable
///   To` and `Only`); a nationality that no permissive tag set has is an error;
/// * holding each COI in every tag set that defines a (non-informative) value of that name, e.g. `NATO` in
///   `Context` (and, for the NATO SPIF, `Releasable To`); a COI that no tag set has is an error naming a few
///   valid ones.
///
/// Names are matched ignoring ASCII case and written as the SPIF spells them. The result is checked to bind.
pub fn clearance_for(
    spif: &Spif,
    level: &str,
    nationality: Option<&str>,
    cois: &[String],
) -> Result<Clearance, PolicyError> {
    let classes = spif.classifications();
    let Some(level_name) = classes.iter().find(|c| c.eq_ignore_ascii_case(level)) else {
        return Err(PolicyError::UnknownLevel {
            level: level.to_owned(),
            policy: spif.name().to_owned(),
            valid: classes.join(", "),
        });
    };
    let class_fqn = format!("https://{NS}/attr/classification/value/{}", opentdf_name(level_name));
    let defs: Vec<AttributeDefinition> =
        spif.attribute_definitions(NS).into_iter().filter(|d| d.rule != "HIERARCHY").collect();
    let mut categories: Vec<Category> = Vec::new();
    if let Some(nat) = nationality {
        let permissive: Vec<&AttributeDefinition> = defs.iter().filter(|d| d.rule == "ANY_OF").collect();
        let found = values_named(spif, &class_fqn, &permissive, nat)?;
        if found.is_empty() {
            return Err(PolicyError::UnknownNationality {
                nationality: nat.to_owned(),
                policy: spif.name().to_owned(),
                examples: examples(spif, &class_fqn, permissive.get(..1).unwrap_or_default(), |v| {
                    v.len() == 3
                }),
            });
        }
        merge(&mut categories, found);
    }
    let all: Vec<&AttributeDefinition> = defs.iter().collect();
    for coi in cois {
        let found = values_named(spif, &class_fqn, &all, coi)?;
        if found.is_empty() {
            return Err(PolicyError::UnknownCoi {
                coi: coi.clone(),
                policy: spif.name().to_owned(),
                examples: examples(spif, &class_fqn, &all, |_| true),
            });
        }
        merge(&mut categories, found);
    }
    let clearance = Clearance {
        policy: spif.policy_id(),
        classifications: vec![(*level_name).to_owned()],
        levels: Levels::Dominance,
        categories,
    };
    spif.bind_clearance(&clearance)?;
    Ok(clearance)
}

/// The categories (one value each, SPIF spelling) of the tag sets among `defs` that define a value `name`.
fn values_named(
    spif: &Spif,
    class_fqn: &str,
    defs: &[&AttributeDefinition],
    name: &str,
) -> Result<Vec<Category>, PolicyError> {
    let wanted = opentdf_name(name);
    let mut out = Vec::new();
    if wanted.is_empty() {
        return Ok(out);
    }
    for d in defs.iter().filter(|d| d.values.contains(&wanted)) {
        let fqns = [class_fqn.to_owned(), format!("{}/value/{wanted}", d.fqn)];
        let label = Label::from_attribute_fqns(&fqns, NS, spif)?;
        // The OpenTDF name is lossy (case, punctuation): keep only a value that is `name` ignoring ASCII case.
        out.extend(
            label.categories.into_iter().filter(|c| c.values.iter().any(|v| v.eq_ignore_ascii_case(name))),
        );
    }
    Ok(out)
}

/// Adds `found` to `categories`, one `Category` per tag set and type, without repeating a value.
fn merge(categories: &mut Vec<Category>, found: Vec<Category>) {
    for f in found {
        match categories.iter_mut().find(|c| c.kind == f.kind && c.tag_name == f.tag_name) {
            Some(c) => {
                for v in f.values {
                    if !c.values.contains(&v) {
                        c.values.push(v);
                    }
                }
            }
            None => categories.push(f),
        }
    }
}

/// A few valid values of `defs` in SPIF spelling, with their tag set: `NATO, EAPC (Context); …`.
fn examples(
    spif: &Spif,
    class_fqn: &str,
    defs: &[&AttributeDefinition],
    keep: impl Fn(&str) -> bool,
) -> String {
    let per_set = EXAMPLES.div_ceil(defs.len().max(1)).max(2);
    let mut parts = Vec::new();
    let mut total = 0;
    for d in defs {
        let fqns: Vec<String> = std::iter::once(class_fqn.to_owned())
            .chain(d.values.iter().filter(|v| keep(v)).take(per_set).map(|v| format!("{}/value/{v}", d.fqn)))
            .collect();
        let Ok(label) = Label::from_attribute_fqns(&fqns, NS, spif) else { continue };
        for c in label.categories.into_iter().filter(|c| c.kind != CategoryType::Informative) {
            total += c.values.len();
            parts.push(format!("{} ({})", c.values.join(", "), c.tag_name));
        }
        if total >= EXAMPLES {
            break;
        }
    }
    if parts.is_empty() { "none: the policy defines no category values".to_owned() } else { parts.join("; ") }
}

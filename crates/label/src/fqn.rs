//! The mapping between a label and OpenTDF attribute value FQNs (`https://<ns>/attr/<name>/value/<value>`),
//! both ways, so that a label can drive a ZTDF policy and a ZTDF policy can be shown as a label.
//!
//! * The classification maps to attribute `classification`: `https://<ns>/attr/classification/value/secret`
//!   (an OpenTDF `HIERARCHY` attribute whose values are the SPIF classifications, highest first).
//! * Each permissive value maps to its tag set's attribute (`ANY_OF`), each restrictive value likewise (`ALL_OF`):
//!   `https://<ns>/attr/releasable-to/value/fra`.
//! * Informative categories are not mapped (they never take part in access control, and an OpenTDF policy
//!   enforces every attribute it lists); keep the label assertion for the full label.
//! * Names become OpenTDF names: ASCII lower case, every run of characters outside `[a-z0-9_]` becomes one `-`,
//!   no leading or trailing `-`. The mapping is lossy in case and punctuation, so the reverse needs the SPIF to
//!   recover the exact names; two SPIF names that map to the same OpenTDF name make the reverse ambiguous and
//!   are reported. The namespace is chosen by the deployment, one per policy (e.g. `nato.int` for NATO).

use crate::error::Error;
use crate::label::{Category, CategoryType, Label, LabelKind};
use crate::limits::MAX_VALUES;
use crate::spif::Spif;

/// The attribute name reserved for the classification.
pub const CLASSIFICATION_ATTR: &str = "classification";

/// An OpenTDF name for `s` (see the module docs).
pub fn opentdf_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut dash = false;
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() || c == '_' {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
    }
    out
}

fn fqn(ns: &str, attr: &str, value: &str) -> String {
    format!("https://{ns}/attr/{}/value/{}", opentdf_name(attr), opentdf_name(value))
}

impl Label {
    /// The attribute value FQNs of this label under namespace `ns` (e.g. `nato.int`), classification first.
    pub fn to_attribute_fqns(&self, ns: &str) -> Vec<String> {
        let mut out = vec![fqn(ns, CLASSIFICATION_ATTR, &self.classification)];
        for c in self.categories.iter().filter(|c| c.kind != CategoryType::Informative) {
            for v in &c.values {
                out.push(fqn(ns, &c.tag_name, v));
            }
        }
        out
    }

    /// The label that attribute value FQNs under `ns` stand for, names recovered from `spif`. FQNs of other
    /// namespaces are ignored (an OpenTDF policy may mix authorities); exactly one classification is required.
    pub fn from_attribute_fqns<S: AsRef<str>>(fqns: &[S], ns: &str, spif: &Spif) -> Result<Label, Error> {
        if fqns.len() > MAX_VALUES {
            return Err(Error::Limit { what: "attribute FQN count", limit: MAX_VALUES, pos: None });
        }
        let prefix = format!("https://{}/attr/", ns.to_ascii_lowercase());
        let mut class: Option<String> = None;
        let mut cats: Vec<Category> = Vec::new();
        for f in fqns {
            let f = f.as_ref();
            let bad = |problem: &str| Error::Fqn { fqn: f.to_owned(), problem: problem.to_owned() };
            let lower = f.to_ascii_lowercase();
            let Some(rest) = lower.strip_prefix(&prefix) else { continue };
            let Some((attr, value)) = rest.split_once("/value/") else {
                return Err(bad("expected `https://<ns>/attr/<name>/value/<value>`"));
            };
            if attr.is_empty() || value.is_empty() || value.contains('/') {
                return Err(bad("expected `https://<ns>/attr/<name>/value/<value>`"));
            }
            if attr == CLASSIFICATION_ATTR {
                let name =
                    unique(spif.classes.iter().map(|c| c.name.as_str()), value).map_err(|p| bad(&p))?;
                if class.as_deref().is_some_and(|c| c != name) {
                    return Err(bad(
                        "a second classification: an OpenTDF policy for a label carries exactly one",
                    ));
                }
                class = Some(name.to_owned());
                continue;
            }
            let set = unique(spif.tag_sets.iter().map(|t| t.name.as_str()), attr).map_err(|p| bad(&p))?;
            let ts = spif.tag_set_by_name(set).ok_or_else(|| bad("unknown tag set"))?;
            let candidates = spif
                .cats
                .iter()
                .filter(|c| c.tag_set == ts && c.kind.category_type() != CategoryType::Informative);
            let matches: Vec<_> = candidates.filter(|c| opentdf_name(&c.name) == value).collect();
            let cat = match matches.as_slice() {
                [one] => *one,
                [] => {
                    return Err(bad(&format!(
                        "no value of tag set `{set}` in policy `{}` has this name",
                        spif.name()
                    )));
                }
                _ => return Err(bad("ambiguous: several SPIF values map to this name")),
            };
            let kind = cat.kind.category_type();
            match cats.iter_mut().find(|c| c.kind == kind && c.tag_name == set) {
                Some(c) if !c.values.contains(&cat.name) => c.values.push(cat.name.clone()),
                Some(_) => {}
                None => cats.push(Category {
                    tag_name: set.to_owned(),
                    kind,
                    uri: None,
                    values: vec![cat.name.clone()],
                }),
            }
        }
        let Some(classification) = class else {
            return Err(Error::Fqn {
                fqn: format!("{prefix}{CLASSIFICATION_ATTR}/value/…"),
                problem: "missing: the FQNs carry no classification".into(),
            });
        };
        let mut label = spif.label_of(
            LabelKind::Originator,
            spif.class_by_name(&classification).unwrap_or_default(),
            &[],
        );
        let mut idx = Vec::new();
        for c in &cats {
            spif.bind_category(c, &mut idx)?;
        }
        idx.sort_unstable();
        idx.dedup();
        label.categories = spif.categories_of(&idx);
        Ok(label)
    }
}

/// The one name among `names` whose OpenTDF name is `wanted`.
fn unique<'a>(names: impl Iterator<Item = &'a str>, wanted: &str) -> Result<&'a str, String> {
    let found: Vec<&str> = names.filter(|n| opentdf_name(n) == wanted).collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(format!("`{wanted}` is not a name of the policy")),
        _ => Err(format!("`{wanted}` is ambiguous in the policy: {}", found.join(", "))),
    }
}

/// One OpenTDF attribute definition a policy needs: its FQN, rule and values (in SPIF order; classifications
/// highest first, as a `HIERARCHY` rule wants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeDefinition {
    /// `https://<ns>/attr/<name>`.
    pub fqn: String,
    /// `HIERARCHY`, `ANY_OF` or `ALL_OF`.
    pub rule: &'static str,
    /// OpenTDF value names.
    pub values: Vec<String>,
}

impl Spif {
    /// The OpenTDF attribute definitions that carry this policy's labels under namespace `ns`.
    pub fn attribute_definitions(&self, ns: &str) -> Vec<AttributeDefinition> {
        let mut classes: Vec<_> = self.classes.iter().collect();
        classes.sort_by_key(|c| std::cmp::Reverse(c.hierarchy));
        let mut out = vec![AttributeDefinition {
            fqn: format!("https://{ns}/attr/{CLASSIFICATION_ATTR}"),
            rule: "HIERARCHY",
            values: classes.iter().map(|c| opentdf_name(&c.name)).collect(),
        }];
        for (i, ts) in self.tag_sets.iter().enumerate() {
            for (kind, rule) in [(CategoryType::Permissive, "ANY_OF"), (CategoryType::Restrictive, "ALL_OF")]
            {
                let values: Vec<String> = self
                    .cats
                    .iter()
                    .filter(|c| c.tag_set == i && c.kind.category_type() == kind)
                    .map(|c| opentdf_name(&c.name))
                    .collect();
                if !values.is_empty() {
                    out.push(AttributeDefinition {
                        fqn: format!("https://{ns}/attr/{}", opentdf_name(&ts.name)),
                        rule,
                        values,
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(opentdf_name("Releasable To"), "releasable-to");
        assert_eq!(opentdf_name("TOP SECRET"), "top-secret");
        assert_eq!(opentdf_name("  a//b  "), "a-b");
        assert_eq!(opentdf_name("SIOP ESI"), "siop-esi");
    }
}

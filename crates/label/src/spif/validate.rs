//! Validation of a label against its SPIF, reporting every violated rule (not only the first).
//!
//! Checked: the policy; the classification and every category value are defined; category URIs (when given)
//! match the tag set OID; the classification's required categories; each value's excluded classifications,
//! excluded categories and required categories; single selection per tag. Values that do not resolve are reported
//! and left out of the rule checks, so one typo does not hide the other problems.

use std::fmt;

use crate::label::{CategoryType, Label};
use crate::spif::Spif;
use crate::spif::model::{Data, Group, Op};

/// One violated rule.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// The label is under another policy.
    Policy {
        /// The SPIF's policy.
        expected: String,
        /// The label's.
        found: String,
    },
    /// The classification is not defined by the policy.
    UnknownClassification(String),
    /// The tag set (`Category/@TagName`) is not defined.
    UnknownTagSet(String),
    /// A category value is not defined for that tag set and type.
    UnknownValue {
        /// Tag set name.
        tag_set: String,
        /// Category type.
        kind: CategoryType,
        /// The value.
        value: String,
    },
    /// `Category/@URI` is not the tag set's OID.
    CategoryUri {
        /// Tag set name.
        tag_set: String,
        /// URI given.
        uri: String,
        /// URI expected.
        expected: String,
    },
    /// A value excludes the label's classification.
    ExcludedClass {
        /// `tag set/value`.
        value: String,
        /// The classification.
        classification: String,
    },
    /// A value excludes another value present in the label.
    ExcludedCategory {
        /// `tag set/value` that excludes.
        value: String,
        /// `tag set/value` excluded.
        excluded: String,
    },
    /// A requirement (of the classification or of a value) is not met.
    Required {
        /// What imposes it: `classification X` or `value Y`.
        by: String,
        /// What is required, in words.
        requirement: String,
    },
    /// More than one value of a single-selection tag.
    SingleSelection {
        /// The tag.
        tag: String,
        /// The values present.
        values: Vec<String>,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Policy { expected, found } => {
                write!(f, "label is under policy `{found}`, not `{expected}`")
            }
            Violation::UnknownClassification(c) => write!(f, "unknown classification `{c}`"),
            Violation::UnknownTagSet(t) => write!(f, "unknown category tag set `{t}`"),
            Violation::UnknownValue { tag_set, kind, value } => {
                write!(
                    f,
                    "unknown {} value `{value}` in tag set `{tag_set}`",
                    kind.as_str().to_ascii_lowercase()
                )
            }
            Violation::CategoryUri { tag_set, uri, expected } => {
                write!(f, "category `{tag_set}` has URI `{uri}`, the policy says `{expected}`")
            }
            Violation::ExcludedClass { value, classification } => {
                write!(f, "`{value}` is not allowed at classification `{classification}`")
            }
            Violation::ExcludedCategory { value, excluded } => write!(f, "`{value}` excludes `{excluded}`"),
            Violation::Required { by, requirement } => write!(f, "{by} requires {requirement}"),
            Violation::SingleSelection { tag, values } => {
                write!(f, "tag `{tag}` allows a single value, the label has {}", values.join(", "))
            }
        }
    }
}

pub(crate) fn validate(spif: &Spif, label: &Label) -> Vec<Violation> {
    let mut out = Vec::new();
    if !spif.is_policy(&label.policy) {
        out.push(Violation::Policy {
            expected: spif.name.clone(),
            found: label.policy.uri.clone().unwrap_or_else(|| label.policy.name.clone()),
        });
        return out;
    }
    if let Some(uri) = &label.policy.uri
        && uri.strip_prefix("urn:oid:") != Some(spif.oid.as_str())
    {
        out.push(Violation::Policy { expected: spif.uri(), found: uri.clone() });
    }
    let class = spif.class_by_name(&label.classification);
    if class.is_none() {
        out.push(Violation::UnknownClassification(label.classification.clone()));
    }
    let mut cats = Vec::new();
    for c in &label.categories {
        let Some(ts) = spif.tag_set_by_name(&c.tag_name) else {
            out.push(Violation::UnknownTagSet(c.tag_name.clone()));
            continue;
        };
        if let (Some(uri), Some(set)) = (&c.uri, spif.tag_set(ts))
            && uri.strip_prefix("urn:oid:") != Some(set.id.as_str())
        {
            let expected = format!("urn:oid:{}", set.id);
            out.push(Violation::CategoryUri { tag_set: c.tag_name.clone(), uri: uri.clone(), expected });
        }
        for v in &c.values {
            match spif.cat_by_name(ts, c.kind, v) {
                Some(ci) => cats.push(ci),
                None => out.push(Violation::UnknownValue {
                    tag_set: c.tag_name.clone(),
                    kind: c.kind,
                    value: v.clone(),
                }),
            }
        }
    }
    cats.sort_unstable();
    cats.dedup();
    let has = |ci: usize| cats.binary_search(&ci).is_ok();
    let describe = |g: &Group| describe_group(spif, g);

    if let Some(ci) = class.and_then(|c| spif.class(c)) {
        for g in &ci.required {
            if !group_met(g, &has) {
                out.push(Violation::Required {
                    by: format!("classification `{}`", ci.name),
                    requirement: describe(g),
                });
            }
        }
    }
    for &c in &cats {
        let Some(cat) = spif.cat(c) else { continue };
        // Built only for a violation: formatting it for every value was most of the cost of a valid label.
        let name = || spif.cat_label(c);
        if let Some(cl) = class
            && cat.excluded_classes.contains(&cl)
        {
            let classification = spif.class(cl).map(|x| x.name.clone()).unwrap_or_default();
            out.push(Violation::ExcludedClass { value: name(), classification });
        }
        for ex in &cat.excluded {
            for &other in ex.cats.iter().filter(|&&o| has(o)) {
                out.push(Violation::ExcludedCategory { value: name(), excluded: spif.cat_label(other) });
            }
        }
        for g in &cat.required {
            if !group_met(g, &has) {
                out.push(Violation::Required { by: format!("value `{}`", name()), requirement: describe(g) });
            }
        }
    }
    // Single selection: count values per tag.
    let mut i = 0;
    while let Some(&first) = cats.get(i) {
        let tag = spif.cat(first).map(|c| c.tag);
        let mut end = i + 1;
        while cats.get(end).and_then(|&c| spif.cat(c)).map(|c| c.tag) == tag {
            end += 1;
        }
        if let Some(t) = tag.and_then(|t| spif.tag(t))
            && t.single
            && end - i > 1
        {
            let values = cats
                .get(i..end)
                .unwrap_or_default()
                .iter()
                .filter_map(|&c| spif.cat(c))
                .map(|c| c.name.clone())
                .collect();
            out.push(Violation::SingleSelection { tag: t.name.clone(), values });
        }
        i = end;
    }
    out
}

fn data_met(d: &Data, has: &impl Fn(usize) -> bool) -> bool {
    d.cats.iter().any(|&c| has(c))
}

pub(crate) fn group_met(g: &Group, has: &impl Fn(usize) -> bool) -> bool {
    let n = g.members.iter().filter(|d| data_met(d, has)).count();
    match g.op {
        Op::OnlyOne => n == 1,
        Op::OneOrMore => n >= 1,
        Op::All => n == g.members.len(),
    }
}

fn describe_group(spif: &Spif, g: &Group) -> String {
    let members: Vec<String> = g
        .members
        .iter()
        .map(|d| match d.raw.lacv {
            Some(_) => {
                d.cats.first().map_or_else(|| d.raw.tag_set.clone(), |&c| format!("`{}`", spif.cat_label(c)))
            }
            None => format!("any {} value of `{}`", d.raw.kind.spiffing_name(), d.raw.tag_set),
        })
        .collect();
    format!("{} {}", g.op.describe(), members.join(", "))
}

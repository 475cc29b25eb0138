//! The access control decision function (ADatP-4774.1 §3.11.4): deny unless permit.
//!
//! 1. the label's policy is the clearance's;
//! 2. the label's classification is covered by the clearance;
//! 3. every permissive tag of the label has at least one of its values held;
//! 4. every restrictive value of the label is held;
//! 5. informative categories are ignored.
//!
//! Permissive values are grouped by SPIF tag (`securityCategoryTag`), as spiffing does.
//! [`Spif::decide_bound`] allocates nothing: a [`Denial`] carries indexes, and [`Spif::explain`] turns it into
//! words when someone needs them.

use std::fmt;

use crate::Clearance;
use crate::label::{CategoryType, Label};
use crate::spif::Spif;
use crate::spif::bind::{BoundClearance, BoundLabel};

/// Which ACDF rule denied access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AcdfRule {
    /// Rule 1: label and clearance are not under the same policy.
    Policy,
    /// Rule 2: the clearance does not cover the label's classification.
    Classification,
    /// Rule 3: the clearance holds none of a permissive tag's values.
    Permissive,
    /// Rule 4: the clearance lacks a restrictive value.
    Restrictive,
    /// The label or clearance does not resolve under the policy (unknown value): fail closed.
    Unresolved,
}

impl AcdfRule {
    /// The rule number of ADatP-4774.1 §3.11.4 (0 for [`AcdfRule::Unresolved`]).
    pub fn number(self) -> u8 {
        match self {
            AcdfRule::Policy => 1,
            AcdfRule::Classification => 2,
            AcdfRule::Permissive => 3,
            AcdfRule::Restrictive => 4,
            AcdfRule::Unresolved => 0,
        }
    }
}

impl fmt::Display for AcdfRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AcdfRule::Policy => "rule 1 (policy)",
            AcdfRule::Classification => "rule 2 (classification)",
            AcdfRule::Permissive => "rule 3 (permissive category)",
            AcdfRule::Restrictive => "rule 4 (restrictive category)",
            AcdfRule::Unresolved => "unresolved label or clearance",
        })
    }
}

/// How many values a [`Denial`] records inline (more are counted, not named).
const INLINE: usize = 8;

/// Why access was denied: the rule and the policy indexes involved. Copy-cheap, allocation-free unless
/// [`AcdfRule::Unresolved`] (which carries the resolution error's text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    rule: AcdfRule,
    class: usize,
    values: [usize; INLINE],
    n_values: usize,
    detail: Option<Box<str>>,
}

impl Denial {
    fn new(rule: AcdfRule) -> Self {
        Denial { rule, class: 0, values: [0; INLINE], n_values: 0, detail: None }
    }

    fn push(&mut self, v: usize) {
        if let Some(slot) = self.values.get_mut(self.n_values) {
            *slot = v;
        }
        self.n_values += 1;
    }

    /// The rule that failed.
    pub fn rule(&self) -> AcdfRule {
        self.rule
    }
}

/// The outcome of the ACDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Access permitted.
    Permit,
    /// Access denied, with the rule and the values involved.
    Deny(Denial),
}

impl Decision {
    /// True for [`Decision::Permit`].
    pub fn is_permit(&self) -> bool {
        matches!(self, Decision::Permit)
    }
}

impl Spif {
    /// The ACDF on bound values. Allocation-free; a label or clearance bound by another SPIF instance is denied
    /// under rule 1.
    pub fn decide_bound(&self, label: &BoundLabel, clearance: &BoundClearance) -> Decision {
        if label.spif != self.uid || clearance.spif != self.uid {
            return Decision::Deny(Denial::new(AcdfRule::Policy));
        }
        if !clearance.classes.get(label.class) {
            let mut d = Denial::new(AcdfRule::Classification);
            d.class = label.class;
            return Decision::Deny(d);
        }
        // Categories are sorted in SPIF order, so the values of one tag are contiguous.
        let cats = label.cats.as_slice();
        let mut i = 0;
        while let Some(&first) = cats.get(i) {
            let Some(cat) = self.cat(first) else { return Decision::Deny(Denial::new(AcdfRule::Unresolved)) };
            let tag = cat.tag;
            let mut end = i + 1;
            while cats.get(end).and_then(|&c| self.cat(c)).is_some_and(|c| c.tag == tag) {
                end += 1;
            }
            let run = cats.get(i..end).unwrap_or_default();
            match cat.kind.category_type() {
                CategoryType::Restrictive => {
                    if let Some(&missing) = run.iter().find(|&&c| !clearance.cats.get(c)) {
                        let mut d = Denial::new(AcdfRule::Restrictive);
                        d.push(missing);
                        return Decision::Deny(d);
                    }
                }
                CategoryType::Permissive => {
                    if !run.iter().any(|&c| clearance.cats.get(c)) {
                        let mut d = Denial::new(AcdfRule::Permissive);
                        for &c in run {
                            d.push(c);
                        }
                        return Decision::Deny(d);
                    }
                }
                CategoryType::Informative => {}
            }
            i = end;
        }
        Decision::Permit
    }

    /// Explains a denial in words: the rule, and the classification or values involved.
    pub fn explain(&self, denial: &Denial) -> String {
        let names = |d: &Denial| {
            let mut s: Vec<String> = d
                .values
                .iter()
                .take(d.n_values.min(INLINE))
                .filter_map(|&c| self.cat(c))
                .map(|c| c.name.clone())
                .collect();
            if d.n_values > INLINE {
                s.push(format!("and {} more", d.n_values - INLINE));
            }
            s.join(", ")
        };
        let tag_of = |d: &Denial| {
            d.values
                .first()
                .and_then(|&c| self.cat(c))
                .and_then(|c| self.tag(c.tag))
                .map_or(String::new(), |t| t.name.clone())
        };
        match denial.rule {
            AcdfRule::Policy => format!(
                "{}: the label and the clearance are not under the same policy (`{}`)",
                denial.rule, self.name
            ),
            AcdfRule::Classification => format!(
                "{}: the clearance does not cover classification `{}`",
                denial.rule,
                self.class(denial.class).map_or("?", |c| c.name.as_str())
            ),
            AcdfRule::Permissive => format!(
                "{}: the clearance holds none of `{}`: {}",
                denial.rule,
                tag_of(denial),
                names(denial)
            ),
            AcdfRule::Restrictive => {
                format!("{}: the clearance lacks `{}` of `{}`", denial.rule, names(denial), tag_of(denial))
            }
            AcdfRule::Unresolved => {
                format!("{}: {}", denial.rule, denial.detail.as_deref().unwrap_or("unknown value"))
            }
        }
    }
}

/// [`Spif::decide`]: binds, then decides. A label that does not bind is denied (fail closed).
pub(crate) fn decide_unbound(spif: &Spif, label: &Label, clearance: &Clearance) -> Decision {
    if !spif.is_policy(&label.policy) || !spif.is_policy(&clearance.policy) {
        return Decision::Deny(Denial::new(AcdfRule::Policy));
    }
    let bound = spif.bind_label(label).and_then(|l| spif.bind_clearance(clearance).map(|c| (l, c)));
    match bound {
        Ok((l, c)) => spif.decide_bound(&l, &c),
        Err(e) => {
            let mut d = Denial::new(AcdfRule::Unresolved);
            d.detail = Some(e.to_string().into_boxed_str());
            Decision::Deny(d)
        }
    }
}

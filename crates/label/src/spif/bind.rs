//! Binding: a label or clearance resolved to indexes into one SPIF, and back.
//!
//! Names are matched ignoring ASCII case (ADatP-4774: NATO policy values are case-insensitive). A bound value
//! carries the uid of the SPIF instance that made it, so that it can never be decided by another policy.

use crate::clearance::{Clearance, Levels};
use crate::error::Error;
use crate::label::{Category, CategoryType, Label, LabelKind, PolicyId};
use crate::limits::{MAX_CATEGORIES, MAX_VALUES};
use crate::spif::Spif;
use crate::spif::model::{Bits, TagType};

/// A label bound to a [`Spif`]: its classification index and its category indexes, sorted (SPIF order).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BoundLabel {
    pub(crate) spif: u64,
    pub(crate) class: usize,
    /// INVARIANT: sorted and without duplicates.
    pub(crate) cats: Vec<usize>,
}

/// A clearance bound to a [`Spif`]: the classifications it covers (after applying its [`Levels`]) and the
/// categories it holds, as bit sets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BoundClearance {
    pub(crate) spif: u64,
    pub(crate) classes: Bits,
    pub(crate) cats: Bits,
}

/// A label in the numeric forms (spiffing's XML, ESS BER): references by policy OID, tag set OID and LACV.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawLabel {
    pub policy_id: String,
    pub class_lacv: Option<u64>,
    pub privacy_mark: Option<String>,
    pub tags: Vec<RawTag>,
}

/// A clearance in spiffing's XML form.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawClearance {
    pub policy_id: String,
    pub classes: Vec<u64>,
    pub tags: Vec<RawTag>,
}

#[derive(Debug, Clone)]
pub(crate) struct RawTag {
    pub tag_set_id: String,
    pub kind: TagType,
    pub lacv: u64,
}

impl Spif {
    fn check_policy(&self, policy: &PolicyId) -> Result<(), Error> {
        if self.is_policy(policy) {
            Ok(())
        } else {
            Err(Error::PolicyMismatch {
                expected: self.name.clone(),
                found: policy.uri.clone().unwrap_or_else(|| policy.name.clone()),
            })
        }
    }

    fn unknown(&self, what: &'static str, value: &str) -> Error {
        Error::Unknown { what, value: value.to_owned(), policy: self.name.clone() }
    }

    /// Resolves one `Category` to category indexes, appending to `out`.
    pub(crate) fn bind_category(&self, cat: &Category, out: &mut Vec<usize>) -> Result<(), Error> {
        let Some(ts) = self.tag_set_by_name(&cat.tag_name) else {
            return Err(self.unknown("tag set", &cat.tag_name));
        };
        for v in &cat.values {
            match self.cat_by_name(ts, cat.kind, v) {
                Some(c) => out.push(c),
                None => {
                    return Err(Error::Unknown {
                        what: "category value",
                        value: format!("{}/{v} ({})", cat.tag_name, cat.kind.as_str().to_ascii_lowercase()),
                        policy: self.name.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Binds a label to this policy; fails on another policy or any value the SPIF does not define.
    pub fn bind_label(&self, label: &Label) -> Result<BoundLabel, Error> {
        self.check_policy(&label.policy)?;
        let class = self
            .class_by_name(&label.classification)
            .ok_or_else(|| self.unknown("classification", &label.classification))?;
        let mut cats = Vec::new();
        for c in label.categories.iter().take(MAX_CATEGORIES.saturating_add(1)) {
            self.bind_category(c, &mut cats)?;
            if cats.len() > MAX_VALUES {
                return Err(Error::Limit { what: "category value count", limit: MAX_VALUES, pos: None });
            }
        }
        cats.sort_unstable();
        cats.dedup();
        Ok(BoundLabel { spif: self.uid, class, cats })
    }

    /// Binds a clearance: classifications per its [`Levels`], categories as held values. Values the SPIF does not
    /// define are an error (a clearance is issued against a policy; an unknown value is a mistake to surface).
    pub fn bind_clearance(&self, clearance: &Clearance) -> Result<BoundClearance, Error> {
        self.check_policy(&clearance.policy)?;
        let mut classes = Bits::with_len(self.classes.len());
        let mut top = None;
        for name in &clearance.classifications {
            let i = self.class_by_name(name).ok_or_else(|| self.unknown("classification", name))?;
            classes.set(i);
            let h = self.class(i).map_or(0, |c| c.hierarchy);
            top = Some(top.map_or(h, |t: u64| t.max(h)));
        }
        if clearance.levels == Levels::Dominance
            && let Some(top) = top
        {
            for (i, c) in self.classes.iter().enumerate() {
                if c.hierarchy <= top {
                    classes.set(i);
                }
            }
        }
        let mut list = Vec::new();
        for c in &clearance.categories {
            self.bind_category(c, &mut list)?;
            if list.len() > MAX_VALUES {
                return Err(Error::Limit { what: "category value count", limit: MAX_VALUES, pos: None });
            }
        }
        let mut cats = Bits::with_len(self.cats.len());
        for c in list {
            cats.set(c);
        }
        Ok(BoundClearance { spif: self.uid, classes, cats })
    }

    /// The `Category` list of a set of category indexes: one per tag set and type, in SPIF order.
    pub(crate) fn categories_of(&self, cats: &[usize]) -> Vec<Category> {
        let mut out: Vec<(usize, CategoryType, Category)> = Vec::new();
        for &ci in cats {
            let Some(c) = self.cat(ci) else { continue };
            let kind = c.kind.category_type();
            let Some(set) = self.tag_set(c.tag_set) else { continue };
            match out.iter_mut().find(|(s, k, _)| *s == c.tag_set && *k == kind) {
                Some((_, _, cat)) => cat.values.push(c.name.clone()),
                None => out.push((
                    c.tag_set,
                    kind,
                    Category {
                        tag_name: set.name.clone(),
                        kind,
                        uri: Some(format!("urn:oid:{}", set.id)),
                        values: vec![c.name.clone()],
                    },
                )),
            }
        }
        out.into_iter().map(|(_, _, c)| c).collect()
    }

    /// The policy identifier of this SPIF as labels write it.
    pub fn policy_id(&self) -> PolicyId {
        PolicyId { name: self.name.clone(), uri: Some(self.uri()) }
    }

    /// A label (of `kind`) from bound parts, with names, URIs and SPIF ordering filled in.
    pub(crate) fn label_of(&self, kind: LabelKind, class: usize, cats: &[usize]) -> Label {
        Label {
            kind,
            policy: self.policy_id(),
            classification: self.class(class).map(|c| c.name.clone()).unwrap_or_default(),
            categories: self.categories_of(cats),
            ..Label::default()
        }
    }

    /// The label a bound label stands for (normalised: SPIF names, order and URIs; no dates).
    pub fn unbind_label(&self, bound: &BoundLabel) -> Label {
        self.label_of(LabelKind::Originator, bound.class, &bound.cats)
    }

    fn raw_cats(&self, tags: &[RawTag]) -> Result<Vec<usize>, Error> {
        if tags.len() > MAX_VALUES {
            return Err(Error::Limit { what: "tag count", limit: MAX_VALUES, pos: None });
        }
        let mut cats = Vec::with_capacity(tags.len());
        for t in tags {
            let Some(ts) = self.tag_set_by_id(&t.tag_set_id) else {
                return Err(self.unknown("tag set id", &t.tag_set_id));
            };
            let Some(c) = self.cat_by_lacv(ts, t.kind, t.lacv) else {
                return Err(self.unknown(
                    "category",
                    &format!("{} LACV {} in tag set {}", t.kind.spiffing_name(), t.lacv, t.tag_set_id),
                ));
            };
            cats.push(c);
        }
        cats.sort_unstable();
        cats.dedup();
        Ok(cats)
    }

    /// Resolves a label read in a numeric form (spiffing XML, BER).
    pub(crate) fn label_from_raw(&self, raw: &RawLabel) -> Result<Label, Error> {
        if raw.policy_id != self.oid {
            return Err(Error::PolicyMismatch { expected: self.oid.clone(), found: raw.policy_id.clone() });
        }
        let Some(lacv) = raw.class_lacv else {
            return Err(Error::invalid("label", None, "no classification: a label needs one"));
        };
        let class =
            self.class_by_lacv(lacv).ok_or_else(|| self.unknown("classification LACV", &lacv.to_string()))?;
        let cats = self.raw_cats(&raw.tags)?;
        let mut label = self.label_of(LabelKind::Originator, class, &cats);
        label.privacy_mark = raw.privacy_mark.clone();
        Ok(label)
    }

    /// Resolves a clearance read in spiffing's XML form.
    pub(crate) fn clearance_from_raw(&self, raw: &RawClearance) -> Result<Clearance, Error> {
        if raw.policy_id != self.oid {
            return Err(Error::PolicyMismatch { expected: self.oid.clone(), found: raw.policy_id.clone() });
        }
        let mut classes = Vec::new();
        for &lacv in &raw.classes {
            let c = self
                .class_by_lacv(lacv)
                .ok_or_else(|| self.unknown("classification LACV", &lacv.to_string()))?;
            classes.push(c);
        }
        classes.sort_by_key(|&c| self.class(c).map_or(0, |c| c.hierarchy));
        classes.dedup();
        let cats = self.raw_cats(&raw.tags)?;
        Ok(Clearance {
            policy: self.policy_id(),
            classifications: classes.iter().filter_map(|&c| self.class(c)).map(|c| c.name.clone()).collect(),
            levels: Levels::Listed,
            categories: self.categories_of(&cats),
        })
    }

    /// A clearance whose list names every level it covers, so that it can be written in a form that only says
    /// "exactly these levels" (the 4774 clearance XML).
    pub fn expand_levels(&self, clearance: &Clearance) -> Result<Clearance, Error> {
        let bound = self.bind_clearance(clearance)?;
        let mut idx: Vec<usize> = bound.classes.iter().collect();
        idx.sort_by_key(|&c| self.class(c).map_or(0, |c| c.hierarchy));
        Ok(Clearance {
            classifications: idx.iter().filter_map(|&c| self.class(c)).map(|c| c.name.clone()).collect(),
            levels: Levels::Listed,
            ..clearance.clone()
        })
    }

    /// The numeric form of a label (policy OID, LACVs) for spiffing's XML writer.
    pub(crate) fn raw_of(&self, label: &Label) -> Result<RawLabel, Error> {
        let bound = self.bind_label(label)?;
        Ok(RawLabel {
            policy_id: self.oid.clone(),
            class_lacv: self.class(bound.class).map(|c| c.lacv),
            privacy_mark: label.privacy_mark.clone(),
            tags: bound
                .cats
                .iter()
                .filter_map(|&c| self.cat(c))
                .map(|c| RawTag {
                    tag_set_id: self.tag_set(c.tag_set).map(|t| t.id.clone()).unwrap_or_default(),
                    kind: c.kind,
                    lacv: c.lacv,
                })
                .collect(),
        })
    }
}

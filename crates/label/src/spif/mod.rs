//! A loaded security policy (Open XML SPIF) and everything decided by it: binding labels and clearances to it,
//! validation, display markings, the access decision, dominance and translation (one file each).
//!
//! A [`Spif`] is immutable once loaded and cheap to share (`Send + Sync`). Binding turns a [`Label`] or
//! [`Clearance`] into indexes into this policy ([`BoundLabel`], [`BoundClearance`]); the hot path (the ACDF) works
//! on those alone and allocates nothing.

mod acdf;
pub(crate) mod bind;
mod dominant;
mod mark;
pub(crate) mod marking;
pub(crate) mod model;
pub(crate) mod parse;
mod set;
mod translate;
mod validate;

use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

pub use acdf::{AcdfRule, Decision, Denial};
pub use bind::{BoundClearance, BoundLabel};
pub use set::PolicySet;
pub use validate::Violation;

use crate::error::Error;
use crate::label::CategoryType;
use crate::{Clearance, Label, Mode, Repair};
use marking::Markings;
use model::{Cat, Class, EquivPolicy, Tag, TagSet, TagType, ci_cmp};

static NEXT_UID: AtomicU64 = AtomicU64::new(1);

fn next_uid() -> u64 {
    NEXT_UID.fetch_add(1, AtomicOrdering::Relaxed)
}

/// A compiled security policy.
#[derive(Debug, Clone)]
pub struct Spif {
    /// Identity of this loaded instance: bound labels and clearances carry it so that they are never decided by
    /// another policy.
    pub(crate) uid: u64,
    pub(crate) name: String,
    pub(crate) oid: String,
    pub(crate) classes: Vec<Class>,
    pub(crate) tag_sets: Vec<TagSet>,
    pub(crate) tags: Vec<Tag>,
    pub(crate) cats: Vec<Cat>,
    pub(crate) equivalents: Vec<EquivPolicy>,
    pub(crate) markings: Markings,
    pub(crate) tables: Tables,
}

/// Sorted lookup tables, built once at load.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tables {
    class_by_name: Vec<usize>,
    class_by_lacv: Vec<(u64, usize)>,
    set_by_name: Vec<usize>,
    set_by_id: Vec<usize>,
    cat_by_lacv: Vec<((usize, TagType, u64), usize)>,
    cat_by_name: Vec<usize>,
}

impl Tables {
    fn build(s: &Spif) -> Self {
        let mut class_by_name: Vec<usize> = (0..s.classes.len()).collect();
        class_by_name.sort_by(|&a, &b| ci_cmp(name_of(&s.classes, a), name_of(&s.classes, b)));
        let mut class_by_lacv: Vec<(u64, usize)> =
            s.classes.iter().enumerate().map(|(i, c)| (c.lacv, i)).collect();
        class_by_lacv.sort_unstable();
        let mut set_by_name: Vec<usize> = (0..s.tag_sets.len()).collect();
        set_by_name.sort_by(|&a, &b| ci_cmp(set_name(&s.tag_sets, a), set_name(&s.tag_sets, b)));
        let mut set_by_id: Vec<usize> = (0..s.tag_sets.len()).collect();
        set_by_id.sort_by(|&a, &b| set_id(&s.tag_sets, a).cmp(set_id(&s.tag_sets, b)));
        let mut cat_by_lacv: Vec<((usize, TagType, u64), usize)> =
            s.cats.iter().enumerate().map(|(i, c)| ((c.tag_set, c.kind, c.lacv), i)).collect();
        cat_by_lacv.sort_unstable();
        let mut cat_by_name: Vec<usize> = (0..s.cats.len()).collect();
        cat_by_name.sort_by(|&a, &b| cat_name_key_cmp(&s.cats, a, b));
        Tables { class_by_name, class_by_lacv, set_by_name, set_by_id, cat_by_lacv, cat_by_name }
    }
}

fn name_of(classes: &[Class], i: usize) -> &str {
    classes.get(i).map_or("", |c| c.name.as_str())
}

fn set_name(sets: &[TagSet], i: usize) -> &str {
    sets.get(i).map_or("", |t| t.name.as_str())
}

fn set_id(sets: &[TagSet], i: usize) -> &str {
    sets.get(i).map_or("", |t| t.id.as_str())
}

fn cat_key(cats: &[Cat], i: usize) -> (usize, CategoryType, &str) {
    cats.get(i).map_or((usize::MAX, CategoryType::Informative, ""), |c| {
        (c.tag_set, c.kind.category_type(), c.name.as_str())
    })
}

fn cat_name_key_cmp(cats: &[Cat], a: usize, b: usize) -> std::cmp::Ordering {
    let (sa, ta, na) = cat_key(cats, a);
    let (sb, tb, nb) = cat_key(cats, b);
    sa.cmp(&sb).then(ta.cmp(&tb)).then_with(|| ci_cmp(na, nb))
}

impl Spif {
    /// Reads a SPIF from XML. [`Mode::Strict`] requires the SPIF namespace and matching end tags; use
    /// [`Spif::from_xml_with_repairs`] with [`Mode::Lenient`] to accept (and be told about) sloppy files.
    pub fn from_xml(input: &[u8], mode: Mode) -> Result<Spif, Error> {
        parse::parse(input, mode).map(|(s, _)| s)
    }

    /// Reads a SPIF from XML and returns what lenient mode repaired.
    pub fn from_xml_with_repairs(input: &[u8], mode: Mode) -> Result<(Spif, Vec<Repair>), Error> {
        parse::parse(input, mode)
    }

    /// The policy name (`securityPolicyId/@name`), e.g. `NATO`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The policy OID (`securityPolicyId/@id`), e.g. `1.3.26.1.3.1`.
    pub fn oid(&self) -> &str {
        &self.oid
    }

    /// The policy URI used in labels: `urn:oid:` + OID.
    pub fn uri(&self) -> String {
        format!("urn:oid:{}", self.oid)
    }

    /// The classification names, lowest hierarchy first.
    pub fn classifications(&self) -> Vec<&str> {
        let mut v: Vec<&Class> = self.classes.iter().collect();
        v.sort_by_key(|c| c.hierarchy);
        v.into_iter().map(|c| c.name.as_str()).collect()
    }

    /// The display colour of a classification (`securityClassification/@color`), if the SPIF gives one.
    pub fn classification_color(&self, classification: &str) -> Option<&str> {
        self.class_by_name(classification).and_then(|i| self.class(i)).and_then(|c| c.color.as_deref())
    }

    /// The values of `label` that the SPIF marks obsolete (a warning, not a violation: existing labels keep their
    /// meaning, new labels should not use them).
    pub fn obsolete_values(&self, label: &Label) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(c) =
            self.class_by_name(&label.classification).and_then(|i| self.class(i)).filter(|c| c.obsolete)
        {
            out.push(format!("classification `{}`", c.name));
        }
        if let Ok(bound) = self.bind_label(label) {
            out.extend(
                bound
                    .cats
                    .iter()
                    .filter(|&&c| self.cat(c).is_some_and(|c| c.obsolete))
                    .map(|&c| format!("`{}`", self.cat_label(c))),
            );
        }
        out
    }

    /// Every `xml:lang` the SPIF's markings use (`""` is the untagged default), sorted.
    pub fn languages(&self) -> Vec<String> {
        let mut langs: Vec<String> = std::iter::once(&self.markings)
            .chain(self.classes.iter().map(|c| &c.markings))
            .chain(self.tag_sets.iter().map(|t| &t.markings))
            .chain(self.tags.iter().map(|t| &t.markings))
            .chain(self.cats.iter().map(|c| &c.markings))
            .flat_map(|m| m.languages().map(str::to_owned))
            .collect();
        langs.push(String::new());
        langs.sort();
        langs.dedup();
        langs
    }

    /// True when `policy` names this SPIF: by OID (`urn:oid:` URI) when given, else by name ignoring ASCII case.
    pub fn is_policy(&self, policy: &crate::PolicyId) -> bool {
        match policy.oid() {
            Some(oid) => oid == self.oid,
            None => policy.name.eq_ignore_ascii_case(&self.name) || policy.name == self.oid,
        }
    }

    /// Validates a label against this policy and returns every violated rule (empty when valid).
    pub fn validate(&self, label: &Label) -> Vec<Violation> {
        validate::validate(self, label)
    }

    /// The display marking of `label` in language `lang` (`""` for the default; `fr-CA` falls back to `fr`) at
    /// the default location (page bottom).
    pub fn marking(&self, label: &Label, lang: &str) -> Result<String, Error> {
        let bound = self.bind_label(label)?;
        Ok(self.marking_bound(&bound, lang, marking::MarkingLocation::PageBottom))
    }

    /// The display marking of a clearance, e.g. `NATO {UNCLASSIFIED|SECRET} …`.
    pub fn clearance_marking(&self, clearance: &Clearance, lang: &str) -> Result<String, Error> {
        let bound = self.bind_clearance(clearance)?;
        Ok(self.clearance_marking_bound(&bound, lang))
    }

    /// The access decision (ADatP-4774.1 §3.11.4, deny unless permit) for `label` and `clearance`. Binds both
    /// first; use [`Spif::decide_bound`] on the hot path.
    pub fn decide(&self, label: &Label, clearance: &Clearance) -> Decision {
        acdf::decide_unbound(self, label, clearance)
    }

    pub(crate) fn class_by_name(&self, name: &str) -> Option<usize> {
        let t = &self.tables.class_by_name;
        let i = t.binary_search_by(|&c| ci_cmp(name_of(&self.classes, c), name)).ok()?;
        t.get(i).copied()
    }

    pub(crate) fn class_by_lacv(&self, lacv: u64) -> Option<usize> {
        let t = &self.tables.class_by_lacv;
        let i = t.binary_search_by_key(&lacv, |&(l, _)| l).ok()?;
        t.get(i).map(|&(_, c)| c)
    }

    pub(crate) fn tag_set_by_name(&self, name: &str) -> Option<usize> {
        let t = &self.tables.set_by_name;
        let i = t.binary_search_by(|&s| ci_cmp(set_name(&self.tag_sets, s), name)).ok()?;
        t.get(i).copied()
    }

    pub(crate) fn tag_set_by_id(&self, id: &str) -> Option<usize> {
        let t = &self.tables.set_by_id;
        let i = t.binary_search_by(|&s| set_id(&self.tag_sets, s).cmp(id)).ok()?;
        t.get(i).copied()
    }

    pub(crate) fn cat_by_lacv(&self, tag_set: usize, kind: TagType, lacv: u64) -> Option<usize> {
        let t = &self.tables.cat_by_lacv;
        let i = t.binary_search_by_key(&(tag_set, kind, lacv), |&(k, _)| k).ok()?;
        t.get(i).map(|&(_, c)| c)
    }

    pub(crate) fn cat_by_name(&self, tag_set: usize, kind: CategoryType, name: &str) -> Option<usize> {
        let t = &self.tables.cat_by_name;
        let i = t
            .binary_search_by(|&c| {
                let (s, k, n) = cat_key(&self.cats, c);
                s.cmp(&tag_set).then(k.cmp(&kind)).then_with(|| ci_cmp(n, name))
            })
            .ok()?;
        t.get(i).copied()
    }

    pub(crate) fn class(&self, i: usize) -> Option<&Class> {
        self.classes.get(i)
    }

    pub(crate) fn cat(&self, i: usize) -> Option<&Cat> {
        self.cats.get(i)
    }

    pub(crate) fn tag(&self, i: usize) -> Option<&Tag> {
        self.tags.get(i)
    }

    pub(crate) fn tag_set(&self, i: usize) -> Option<&TagSet> {
        self.tag_sets.get(i)
    }

    /// `Tag set/value` for messages.
    pub(crate) fn cat_label(&self, i: usize) -> String {
        match self.cat(i) {
            Some(c) => format!("{}/{}", self.tag_set(c.tag_set).map_or("?", |t| t.name.as_str()), c.name),
            None => format!("#{i}"),
        }
    }
}

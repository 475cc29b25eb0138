//! The dominant label of an aggregate (ADatP-4774.1 §4.4): the highest classification, permissive values
//! intersected, restrictive (and informative) values united, then re-validated.
//!
//! One deliberate reading: a permissive category that only some labels carry is *kept* (with the values of those
//! labels), not dropped. Under the ACDF a permissive category is a constraint ("hold one of these"); dropping the
//! `Only` category of one part would release that part more widely than its own label does. With this rule the
//! dominant label never permits a clearance that one of its parts denies (a property test checks it). An empty
//! intersection cannot be expressed as a label and is an error, never a silent drop.

use crate::error::Error;
use crate::label::{CategoryType, Label, LabelKind};
use crate::limits::MAX_AGGREGATE;
use crate::spif::Spif;

impl Spif {
    /// The dominant label of `labels` (all under this policy). Keeps the latest `CreationDateTime` and the earliest
    /// `ReviewDateTime` of the parts.
    pub fn dominant(&self, labels: &[Label]) -> Result<Label, Error> {
        if labels.is_empty() {
            return Err(Error::NoDominant("no labels given".into()));
        }
        if labels.len() > MAX_AGGREGATE {
            return Err(Error::Limit { what: "aggregate label count", limit: MAX_AGGREGATE, pos: None });
        }
        let bound = labels.iter().map(|l| self.bind_label(l)).collect::<Result<Vec<_>, _>>()?;
        let mut class = None;
        for b in &bound {
            let h = self.class(b.class).map_or(0, |c| c.hierarchy);
            if class.is_none_or(|(_, top)| h > top) {
                class = Some((b.class, h));
            }
        }
        let Some((class, _)) = class else { return Err(Error::NoDominant("no labels given".into())) };
        // Key of a permissive constraint: the SPIF tag (the unit the ACDF evaluates).
        let mut permissive: Vec<(usize, Vec<usize>)> = Vec::new();
        let mut others: Vec<usize> = Vec::new();
        for b in &bound {
            let mut seen: Vec<(usize, Vec<usize>)> = Vec::new();
            for &ci in &b.cats {
                let Some(cat) = self.cat(ci) else { continue };
                match cat.kind.category_type() {
                    CategoryType::Permissive => match seen.iter_mut().find(|(t, _)| *t == cat.tag) {
                        Some((_, v)) => v.push(ci),
                        None => seen.push((cat.tag, vec![ci])),
                    },
                    CategoryType::Restrictive | CategoryType::Informative => others.push(ci),
                }
            }
            for (tag, values) in seen {
                match permissive.iter_mut().find(|(t, _)| *t == tag) {
                    Some((_, acc)) => acc.retain(|c| values.contains(c)),
                    None => permissive.push((tag, values)),
                }
            }
        }
        if let Some((tag, _)) = permissive.iter().find(|(_, v)| v.is_empty()) {
            let name = self.tag(*tag).map_or("?", |t| t.name.as_str());
            return Err(Error::NoDominant(format!(
                "permissive category `{name}` has no value common to all labels that carry it: \
                 no single label can express the aggregate; split it or downgrade it by hand"
            )));
        }
        let mut cats: Vec<usize> = permissive.into_iter().flat_map(|(_, v)| v).chain(others).collect();
        cats.sort_unstable();
        cats.dedup();
        let mut out = self.label_of(LabelKind::Originator, class, &cats);
        out.creation_date_time = labels.iter().filter_map(|l| l.creation_date_time.clone()).max();
        out.review_date_time = labels.iter().filter_map(|l| l.review_date_time.clone()).min();
        let violations = self.validate(&out);
        if !violations.is_empty() {
            let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
            return Err(Error::NoDominant(format!("the aggregate label is not valid: {}", list.join("; "))));
        }
        Ok(out)
    }
}

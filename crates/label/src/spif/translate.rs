//! Translation of a label into an equivalent policy (the SPIF's `encrypt` equivalences), producing an
//! alternative label. The originator label is never changed: the result is a new `alternativeConfidentialityLabel`.
//!
//! Steps, as the Open XML SPIF defines them: the classification's `equivalentClassification` for the target
//! (applied `encrypt` or `both`) gives the new classification and may add required categories; every category of
//! the label must have an `equivalentSecCategoryTag` for the target (mapped, or explicitly discarded) — a category
//! without one is an error, never silently dropped; finally the source policy's `equivalentPolicy` may add
//! categories the target requires. Added requirements are resolved in the target policy.

use crate::error::Error;
use crate::label::{Label, LabelKind};
use crate::spif::Spif;
use crate::spif::model::RawGroup;

impl Spif {
    /// Translates `label` (under this policy) into `target`'s policy.
    pub fn translate(&self, label: &Label, target: &Spif) -> Result<Label, Error> {
        let bound = self.bind_label(label)?;
        let class =
            self.class(bound.class).ok_or_else(|| Error::NoEquivalent("unknown classification".into()))?;
        let Some(equiv) = class.equivs.iter().find(|e| e.encrypt && e.policy_id == target.oid) else {
            return Err(Error::NoEquivalent(format!(
                "classification `{}` of policy `{}` has no equivalent in policy `{}` ({}): add an equivalentClassification",
                class.name, self.name, target.name, target.oid
            )));
        };
        let Some(new_class) = target.class_by_lacv(equiv.lacv) else {
            return Err(Error::NoEquivalent(format!(
                "classification `{}` maps to LACV {} which policy `{}` does not define",
                class.name, equiv.lacv, target.name
            )));
        };
        let mut cats = Vec::new();
        add_required(target, &equiv.required, &mut cats)?;
        for &ci in &bound.cats {
            let Some(cat) = self.cat(ci) else { continue };
            let mut mapped = false;
            for e in cat.equivs.iter().filter(|e| e.policy_id == target.oid) {
                mapped = true;
                let Some((set_id, kind, lacv)) = &e.target else { continue };
                let c = target
                    .tag_set_by_id(set_id)
                    .and_then(|ts| target.cat_by_lacv(ts, *kind, *lacv))
                    .ok_or_else(|| {
                        Error::NoEquivalent(format!(
                            "`{}` maps to {} LACV {lacv} of tag set {set_id}, which policy `{}` does not define",
                            self.cat_label(ci),
                            kind.spiffing_name(),
                            target.name
                        ))
                    })?;
                cats.push(c);
            }
            if !mapped {
                return Err(Error::NoEquivalent(format!(
                    "`{}` has no equivalent in policy `{}`: add an equivalentSecCategoryTag (or one with action=\"discard\")",
                    self.cat_label(ci),
                    target.name
                )));
            }
        }
        for ep in self.equivalents.iter().filter(|e| e.id == target.oid) {
            add_required(target, &ep.required, &mut cats)?;
        }
        cats.sort_unstable();
        cats.dedup();
        let mut out = target.label_of(LabelKind::Alternative, new_class, &cats);
        out.creation_date_time = label.creation_date_time.clone();
        out.review_date_time = label.review_date_time.clone();
        out.originator_id = label.originator_id.clone();
        out.privacy_mark = label.privacy_mark.clone();
        Ok(out)
    }
}

/// Adds every category a requirement of the equivalence names (resolved in the target policy).
fn add_required(target: &Spif, groups: &[RawGroup], cats: &mut Vec<usize>) -> Result<(), Error> {
    for g in groups {
        for d in &g.members {
            let data = target.resolve_data(d).map_err(|e| Error::NoEquivalent(e.to_string()))?;
            cats.extend(data.cats);
        }
    }
    Ok(())
}

//! A stream's label: the configured one, raised by what its own ST 0102 metadata claims (the more restrictive
//! wins, never the less), or quarantined when that metadata cannot be understood (fail closed). Pure: SPIF and
//! labels in, the new label state out.

use std::sync::Arc;

use redoubt_fmv::label::LabelMapping;
use redoubt_fmv::st0102::SecuritySet;
use redoubt_label::{Label, Mode, PolicyId, Spif};

use super::config::LabelSource;
use crate::objects::labels;

/// The label a stream is decided under, and how it got it.
#[derive(Debug, Clone)]
pub struct StreamLabel {
    /// The effective label (PDP input).
    pub label: Label,
    /// Its display marking.
    pub marking: String,
    /// The configured label's marking.
    pub configured_marking: String,
    /// The marking the stream's ST 0102 metadata last claimed, when it claimed one.
    pub klv_marking: Option<String>,
    /// True when the stream's metadata claimed more than the configuration: the label was raised.
    pub raised: bool,
    /// Why the stream is quarantined (its metadata carried a security set that maps to no valid label): every
    /// subscriber is refused until the node restarts with a corrected configuration.
    pub quarantined: Option<String>,
}

impl StreamLabel {
    /// True when the stream needs an operator's attention (raised or quarantined).
    pub fn flagged(&self) -> bool {
        self.raised || self.quarantined.is_some()
    }
}

/// What a new security set did to the label.
#[derive(Debug, Clone)]
pub enum LabelChange {
    /// Nothing: the set claims what it claimed before.
    Same,
    /// The set claims no more than the label says; the claim is recorded (no access changes).
    Noted(Arc<StreamLabel>),
    /// The label was raised to the new state.
    Raised(Arc<StreamLabel>),
    /// The set does not map to a valid label: the stream is quarantined.
    Quarantined(Arc<StreamLabel>),
}

/// The policy id of the domain SPIF, as labels carry it.
pub fn domain_policy(spif: &Spif) -> PolicyId {
    PolicyId { name: spif.name().to_owned(), uri: Some(format!("urn:oid:{}", spif.oid())) }
}

/// Resolves a configured label (a classification of the domain policy, or a 4774 XML file) and checks it.
pub fn configured(source: &LabelSource, spif: &Spif) -> Result<StreamLabel, String> {
    let label = match source {
        LabelSource::Classification(c) => {
            let classes = spif.classifications();
            let Some(name) = classes.iter().find(|k| k.eq_ignore_ascii_case(c.trim())) else {
                return Err(format!(
                    "classification `{c}` is not one of the domain policy's: {}",
                    classes.join(", ")
                ));
            };
            Label::new(domain_policy(spif), *name)
        }
        LabelSource::File(path) => {
            let xml = std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            Label::from_xml(&xml, Mode::Strict)
                .map_err(|e| format!("`{}` is not a STANAG 4774 label: {e}", path.display()))?
        }
    };
    let checked = labels::check(label, spif)?;
    Ok(StreamLabel {
        label: checked.label,
        configured_marking: checked.marking.clone(),
        marking: checked.marking,
        klv_marking: None,
        raised: false,
        quarantined: None,
    })
}

/// Applies the security set a stream carried to its current label: the dominant of the two under the SPIF.
pub fn apply_security(current: &StreamLabel, set: &SecuritySet, spif: &Spif) -> LabelChange {
    if current.quarantined.is_some() {
        return LabelChange::Same;
    }
    let mapping = LabelMapping { policy: domain_policy(spif), ..LabelMapping::nato() };
    let quarantine = |why: String| {
        LabelChange::Quarantined(Arc::new(StreamLabel { quarantined: Some(why), ..current.clone() }))
    };
    let claimed = match mapping.label_of(set) {
        Ok(l) => l,
        Err(e) => return quarantine(format!("the stream's ST 0102 security set maps to no label: {e}")),
    };
    let claimed = match labels::check(claimed, spif) {
        Ok(c) => c,
        Err(e) => return quarantine(format!("the stream's ST 0102 security set: {e}")),
    };
    let dominant = match spif.dominant(&[current.label.clone(), claimed.label.clone()]) {
        Ok(d) => d,
        Err(e) => return quarantine(format!("no dominant label of the configured and the stream's: {e}")),
    };
    let marking = match spif.marking(&dominant, "") {
        Ok(m) => m,
        Err(e) => return quarantine(format!("the raised label does not resolve: {e}")),
    };
    if marking == current.marking {
        if current.klv_marking.as_deref() == Some(claimed.marking.as_str()) {
            return LabelChange::Same;
        }
        return LabelChange::Noted(Arc::new(StreamLabel {
            klv_marking: Some(claimed.marking),
            ..current.clone()
        }));
    }
    LabelChange::Raised(Arc::new(StreamLabel {
        label: dominant,
        marking,
        configured_marking: current.configured_marking.clone(),
        klv_marking: Some(claimed.marking),
        raised: true,
        quarantined: None,
    }))
}

#[cfg(test)]
mod tests {
    use redoubt_fmv::st0102::Classification;

    use super::*;

    fn spif() -> Spif {
        crate::default_pdp().unwrap().spif().clone()
    }

    #[test]
    fn configured_labels_are_checked_against_the_spif() {
        let spif = spif();
        let l = configured(&LabelSource::Classification("confidential".into()), &spif).unwrap();
        assert_eq!(l.marking, "NATO CONFIDENTIAL");
        assert!(!l.flagged());
        let e = configured(&LabelSource::Classification("VERY SECRET".into()), &spif).unwrap_err();
        assert!(e.contains("`VERY SECRET` is not one of"), "{e}");
        let e = configured(&LabelSource::File("/nonexistent/label.xml".into()), &spif).unwrap_err();
        assert!(e.contains("cannot read"), "{e}");
    }

    #[test]
    fn the_stream_metadata_raises_never_lowers_and_quarantines_what_it_cannot_map() {
        let spif = spif();
        let low = configured(&LabelSource::Classification("UNCLASSIFIED".into()), &spif).unwrap();
        let confidential = SecuritySet::new(Classification::Confidential, 7, "//NATO", 12);
        let LabelChange::Raised(raised) = apply_security(&low, &confidential, &spif) else {
            panic!("not raised")
        };
        assert_eq!(raised.marking, "NATO CONFIDENTIAL");
        assert_eq!(raised.configured_marking, "NATO UNCLASSIFIED");
        assert!(raised.raised && raised.flagged());
        // The same claim again changes nothing.
        assert!(matches!(apply_security(&raised, &confidential, &spif), LabelChange::Same));
        // A lower claim never lowers the label.
        let unclassified = SecuritySet::new(Classification::Unclassified, 7, "//NATO", 12);
        let LabelChange::Noted(noted) = apply_security(&raised, &unclassified, &spif) else {
            panic!("not noted")
        };
        assert_eq!(noted.marking, "NATO CONFIDENTIAL");
        assert_eq!(noted.klv_marking.as_deref(), Some("NATO UNCLASSIFIED"));
        // No classification: fail closed.
        let LabelChange::Quarantined(q) = apply_security(&low, &SecuritySet::default(), &spif) else {
            panic!("not quarantined")
        };
        assert!(q.quarantined.is_some() && q.flagged());
        assert!(matches!(apply_security(&q, &confidential, &spif), LabelChange::Same));
    }
}

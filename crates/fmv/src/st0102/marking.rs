//! What an ST 0102 set says about access, reduced to the fields a confidentiality label needs: classification,
//! classifying country / marking system, releasability and caveats. Parsing fails closed: a set without a valid
//! classification or classifying country yields no marking, never a weaker one.

use crate::st0102::set::{Classification, SecuritySet, tag};

/// The access-relevant content of an ST 0102 set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecurityMarking {
    /// Tag 1.
    pub classification: Classification,
    /// Tag 3 without its leading `//`, e.g. `USA`, `NATO`.
    pub classifying_country: String,
    /// Tag 2: how tags 3 and 6 code countries (1 ISO-3166 two-letter, 2 three-letter, 6/7 STANAG 1059, ...).
    pub country_coding_method: u8,
    /// Tag 11, the classification and marking system, when present.
    pub marking_system: Option<String>,
    /// Tag 6 split on whitespace: the countries the stream is releasable to.
    pub releasable_to: Vec<String>,
    /// Tags 4 (SCI/SHI) and 5 (caveats), in that order, each split on `/` and `,`.
    pub caveats: Vec<String>,
}

/// Why an ST 0102 set does not yield a marking.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkingError {
    /// Tag 1 is absent.
    #[error("security set has no classification (tag 1): treat the stream as unlabelled")]
    MissingClassification,
    /// Tag 1 holds a code ST 0102 does not define.
    #[error("security classification code `{0}` is not defined by ST 0102 (1 to 5)")]
    UndefinedClassification(u8),
    /// Tag 2 or tag 3 is absent or malformed.
    #[error("security set has no valid classifying country (tags 2 and 3)")]
    MissingClassifyingCountry,
    /// A text field is not UTF-8.
    #[error("security set tag {0} is not valid UTF-8")]
    BadText(u32),
}

impl TryFrom<&SecuritySet> for SecurityMarking {
    type Error = MarkingError;

    fn try_from(set: &SecuritySet) -> Result<Self, MarkingError> {
        let classification = match set.raw(tag::CLASSIFICATION) {
            None => return Err(MarkingError::MissingClassification),
            Some([code]) => {
                Classification::from_code(*code).ok_or(MarkingError::UndefinedClassification(*code))?
            }
            Some(other) => {
                return Err(MarkingError::UndefinedClassification(other.first().copied().unwrap_or(0)));
            }
        };
        let country_coding_method =
            set.country_coding_method().ok_or(MarkingError::MissingClassifyingCountry)?;
        let classifying_country = text(set, tag::CLASSIFYING_COUNTRY)?
            .map(country)
            .filter(|c| !c.is_empty())
            .ok_or(MarkingError::MissingClassifyingCountry)?;
        let marking_system = text(set, 11)?.map(str::to_owned);
        let releasable_to = text(set, tag::RELEASING_INSTRUCTIONS)?
            .map(|r| r.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        let mut caveats: Vec<String> = Vec::new();
        for t in [tag::SCI_SHI, tag::CAVEATS] {
            if let Some(value) = text(set, t)? {
                caveats.extend(
                    value.split(['/', ',']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned),
                );
            }
        }
        Ok(Self {
            classification,
            classifying_country,
            country_coding_method,
            marking_system,
            releasable_to,
            caveats,
        })
    }
}

impl SecurityMarking {
    /// The ST 0102 set that carries this marking (version 12 of ST 0102; object country codes are not part of
    /// a marking and must be added by the caller when known).
    pub fn to_security_set(&self) -> SecuritySet {
        let mut set = SecuritySet::new(
            self.classification,
            self.country_coding_method,
            &format!("//{}", self.classifying_country),
            12,
        );
        if !self.caveats.is_empty() {
            set.set(tag::CAVEATS, self.caveats.join("/").into_bytes());
        }
        if !self.releasable_to.is_empty() {
            set.set(tag::RELEASING_INSTRUCTIONS, self.releasable_to.join(" ").into_bytes());
        }
        if let Some(system) = &self.marking_system {
            set.set(11, system.as_bytes().to_vec());
        }
        set
    }
}

/// A classifying country without its leading `//` (or any run of slashes and spaces), e.g. `//USA` → `USA`.
/// Idempotent, so a marking written back to ST 0102 reads back the same.
pub(crate) fn country(text: &str) -> String {
    text.trim_start_matches(|c: char| c == '/' || c.is_whitespace()).trim_end().to_owned()
}

fn text(set: &SecuritySet, t: u32) -> Result<Option<&str>, MarkingError> {
    set.raw(t).map(|b| std::str::from_utf8(b).map_err(|_| MarkingError::BadText(t))).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_and_back() {
        let mut set = SecuritySet::new(Classification::Secret, 7, "//NLD", 12);
        set.set(tag::RELEASING_INSTRUCTIONS, b"NLD USA  GBR".to_vec());
        set.set(tag::SCI_SHI, b"//HCS/SI".to_vec());
        set.set(tag::CAVEATS, b"FOUO, LIMDIS".to_vec());
        let marking = SecurityMarking::try_from(&set).unwrap();
        assert_eq!(marking.classification, Classification::Secret);
        assert_eq!(marking.classifying_country, "NLD");
        assert_eq!(marking.releasable_to, ["NLD", "USA", "GBR"]);
        assert_eq!(marking.caveats, ["HCS", "SI", "FOUO", "LIMDIS"]);
        let again = SecurityMarking::try_from(&marking.to_security_set()).unwrap();
        assert_eq!(again, marking);
    }

    #[test]
    fn country_normalisation_is_idempotent() {
        // Found by the fmv_klv fuzz target: `/ /NL` once read back as `/NL`, and an SCI/SHI item `,` vanished.
        let mut set = SecuritySet::new(Classification::Secret, 2, "/ /NL", 12);
        set.set(tag::CAVEATS, vec![0]);
        set.set(tag::SCI_SHI, b",/X".to_vec());
        let marking = SecurityMarking::try_from(&set).unwrap();
        assert_eq!(marking.classifying_country, "NL");
        assert_eq!(SecurityMarking::try_from(&marking.to_security_set()).unwrap(), marking);
    }

    #[test]
    fn fails_closed() {
        assert_eq!(
            SecurityMarking::try_from(&SecuritySet::default()),
            Err(MarkingError::MissingClassification)
        );
        let bad = SecuritySet::parse_nested(&[0x01, 0x01, 0x09]).unwrap();
        assert_eq!(SecurityMarking::try_from(&bad), Err(MarkingError::UndefinedClassification(9)));
        let no_country = SecuritySet::parse_nested(&[0x01, 0x01, 0x04]).unwrap();
        assert_eq!(SecurityMarking::try_from(&no_country), Err(MarkingError::MissingClassifyingCountry));
    }
}

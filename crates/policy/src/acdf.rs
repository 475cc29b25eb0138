//! The label half of the decision: the STANAG 4774 ACDF (ADatP-4774.1 §3.11.4, in the label crate) on the
//! resource label and the subject's clearance, and the classification ranks the Cedar policies see.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, RwLock};

use redoubt_label::{BoundClearance, Clearance, Decision as LabelDecision, Label, Spif};

/// The outcome of the ACDF for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub permit: bool,
    /// `acdf: permit`, or `acdf: <rule>: <explanation>` (the label crate's words).
    pub reason: String,
}

/// Runs the ACDF. A label or clearance that does not resolve under the SPIF denies (fail closed).
///
/// The fast path binds the label and takes the clearance's binding from `cache`; anything that does not bind
/// goes through [`Spif::decide`], which decides exactly the same way and puts the failure into words.
pub(crate) fn evaluate(
    spif: &Spif,
    cache: &BoundClearances,
    label: &Label,
    clearance: &Clearance,
) -> Outcome {
    let decision = match (spif.bind_label(label), cache.bound(spif, clearance)) {
        (Ok(l), Some(c)) => spif.decide_bound(&l, &c),
        _ => spif.decide(label, clearance),
    };
    match decision {
        LabelDecision::Permit => Outcome { permit: true, reason: "acdf: permit".to_owned() },
        LabelDecision::Deny(d) => Outcome { permit: false, reason: format!("acdf: {}", spif.explain(&d)) },
    }
}

/// How many bound clearances [`BoundClearances`] keeps before it starts again from empty.
const MAX_CACHED: usize = 65_536;

/// A deterministic hasher (no OS randomness in this crate). The keys are clearances built by the node from
/// identity records and verified tokens, not free attacker input, and the map is bounded.
type FixedState = BuildHasherDefault<FxHasher>;

/// The multiply-rotate hash of rustc (FxHash): hashing a clearance with SipHash cost as much as binding it.
#[derive(Debug, Default, Clone, Copy)]
struct FxHasher(u64);

impl FxHasher {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0_u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let mut w = [0_u8; 8];
        let rest = chunks.remainder();
        if let Some(dst) = w.get_mut(..rest.len()) {
            dst.copy_from_slice(rest);
        }
        self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 56));
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Bound clearances by value: binding a clearance (name look-ups for every held category) costs more than the
/// rest of the ACDF, and the same identities come back all the time. Keyed by the whole [`Clearance`], so a
/// changed clearance is a new entry and never sees a stale binding; bounded, cleared wholesale when full. A
/// poisoned lock only disables the cache.
#[derive(Debug, Default)]
pub(crate) struct BoundClearances {
    map: RwLock<HashMap<Clearance, Arc<BoundClearance>, FixedState>>,
}

impl BoundClearances {
    /// The binding of `clearance` under `spif`; `None` when it does not bind.
    fn bound(&self, spif: &Spif, clearance: &Clearance) -> Option<Arc<BoundClearance>> {
        if let Some(b) = self.map.read().ok().and_then(|m| m.get(clearance).cloned()) {
            return Some(b);
        }
        let b = Arc::new(spif.bind_clearance(clearance).ok()?);
        if let Ok(mut m) = self.map.write() {
            if m.len() >= MAX_CACHED {
                m.clear();
            }
            m.insert(clearance.clone(), Arc::clone(&b));
        }
        Some(b)
    }
}

/// The classifications of a SPIF with their ranks: 1 for the lowest, counting up in hierarchy order. For the
/// NATO SPIF (hierarchy 1..5) the rank is the SPIF `hierarchy` itself; the label crate does not expose raw
/// hierarchy numbers, and only the order matters to a policy.
#[derive(Debug, Clone)]
pub(crate) struct Ranks {
    /// Lowest first.
    names: Vec<String>,
}

/// The classification whose rank becomes `secret_rank` in the Cedar context.
const SECRET: &str = "SECRET";

impl Ranks {
    pub fn new(spif: &Spif) -> Self {
        Ranks { names: spif.classifications().into_iter().map(str::to_owned).collect() }
    }

    /// The SPIF spelling and rank of `classification` (ASCII case ignored), if the SPIF defines it.
    pub fn of(&self, classification: &str) -> Option<(&str, i64)> {
        self.names
            .iter()
            .zip(1_i64..)
            .find(|(n, _)| n.eq_ignore_ascii_case(classification))
            .map(|(n, r)| (n.as_str(), r))
    }

    /// The rank of SECRET; 1 when the SPIF has no SECRET, so that posture rules written "SECRET and above"
    /// apply to every labelled object rather than to none (fail closed).
    pub fn secret(&self) -> i64 {
        self.of(SECRET).map_or(1, |(_, r)| r)
    }
}

#[cfg(test)]
mod tests {
    use redoubt_label::{Category, CategoryType, Mode};

    use super::*;

    /// The cached fast path decides and explains exactly as [`Spif::decide`] does.
    #[test]
    fn fast_path_agrees_with_the_label_crate() {
        let xml =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/nato-spif.xml")).unwrap();
        let spif = Spif::from_xml(&xml, Mode::Strict).unwrap();
        let cache = BoundClearances::default();
        let mut labels = Vec::new();
        for class in ["UNCLASSIFIED", "SECRET", "TOP SECRET", "BOGUS"] {
            for (tag, kind, values) in [
                ("Releasable To", CategoryType::Permissive, &["FRA", "DEU"][..]),
                ("Additional Sensitivity", CategoryType::Restrictive, &["ATOMAL"][..]),
                ("Context", CategoryType::Permissive, &["NATO"][..]),
                ("Nope", CategoryType::Permissive, &["X"][..]),
            ] {
                let mut l = Label::new(spif.policy_id(), class);
                l.categories.push(Category {
                    tag_name: tag.into(),
                    kind,
                    uri: None,
                    values: values.iter().map(|v| v.to_string()).collect(),
                });
                labels.push(l);
            }
        }
        let mut clearances = Vec::new();
        for level in ["UNCLASSIFIED", "SECRET", "TOP SECRET"] {
            for nat in [None, Some("FRA"), Some("ITA")] {
                for cois in [vec![], vec!["NATO".to_owned(), "ATOMAL".to_owned()]] {
                    clearances.push(crate::clearance_for(&spif, level, nat, &cois).unwrap());
                }
            }
        }
        let mut other = clearances[0].clone();
        other.policy.uri = Some("urn:oid:1.2.3".into());
        clearances.push(other);
        for round in 0..2 {
            for l in &labels {
                for c in &clearances {
                    let expected = match spif.decide(l, c) {
                        LabelDecision::Permit => "acdf: permit".to_owned(),
                        LabelDecision::Deny(d) => format!("acdf: {}", spif.explain(&d)),
                    };
                    assert_eq!(evaluate(&spif, &cache, l, c).reason, expected, "round {round}");
                }
            }
        }
    }
}

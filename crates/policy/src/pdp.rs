//! The policy decision point: one request in, one explained decision out, combining the label ACDF and the
//! Cedar policy set.
//!
//! Order of evaluation: a label-bound action without a label denies at once; otherwise the ACDF runs when there
//! is a label, then Cedar (with the ACDF result in its context), then the fail-closed rule that `read` and
//! `write` need an ACDF permit whatever the policies say.

use redoubt_label::{Label, Spif};

use crate::acdf::{self, BoundClearances, Ranks};
use crate::action::Action;
use crate::cedar::{self, Engine};
use crate::decision::Decision;
use crate::error::PolicyError;
use crate::subject::Subject;

/// The shipped default policy set (`policies/default.cedar`).
pub const DEFAULT_POLICIES: &str = include_str!("../../../policies/default.cedar");

/// The default maximum age of a device posture report, in seconds (one day).
pub const DEFAULT_POSTURE_MAX_AGE_SECS: i64 = 86_400;

/// What a request is about: a bucket, optionally a key, and the object's label (for `write`, the label being
/// written).
#[derive(Debug, Clone, Copy)]
pub struct Resource<'a> {
    /// The bucket.
    pub bucket: &'a str,
    /// The key, for object actions.
    pub key: Option<&'a str>,
    /// The label of the object (or being written).
    pub label: Option<&'a Label>,
}

/// One request to decide. Time is passed in: this crate never reads a clock.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Who asks.
    pub subject: &'a Subject,
    /// What for.
    pub action: Action,
    /// On what.
    pub resource: Resource<'a>,
    /// Now, in Unix seconds (for posture freshness).
    pub now_unix: i64,
}

/// The policy decision point of one security domain: its SPIF and its Cedar policy set, loaded and validated
/// once; [`Pdp::decide`] is pure and allocation-light, and the PDP is shared across threads (`Send + Sync`).
#[derive(Debug)]
pub struct Pdp {
    spif: Spif,
    engine: Engine,
    ranks: Ranks,
    /// Bound clearances, so that the hot path binds only the label.
    bound: BoundClearances,
    posture_max_age_secs: i64,
}

impl Pdp {
    /// A PDP for `spif` with the Cedar policies in `cedar_policies`. Each policy needs `@id("…")` (unique) and
    /// `@reason("…")`; the set is validated against the schema in strict mode. Errors name the policy and line.
    pub fn new(spif: Spif, cedar_policies: &str) -> Result<Pdp, PolicyError> {
        let engine = Engine::new(cedar_policies)?;
        let ranks = Ranks::new(&spif);
        Ok(Pdp {
            spif,
            engine,
            ranks,
            bound: BoundClearances::default(),
            posture_max_age_secs: DEFAULT_POSTURE_MAX_AGE_SECS,
        })
    }

    /// A PDP for `spif` with the shipped default policies ([`DEFAULT_POLICIES`]).
    pub fn with_defaults(spif: Spif) -> Result<Pdp, PolicyError> {
        Pdp::new(spif, DEFAULT_POLICIES)
    }

    /// The same PDP with another maximum posture age (seconds; negative values are treated as 0).
    pub fn with_posture_max_age_secs(mut self, secs: i64) -> Pdp {
        self.posture_max_age_secs = secs.max(0);
        self
    }

    /// The domain's SPIF.
    pub fn spif(&self) -> &Spif {
        &self.spif
    }

    /// How old a device posture report may be and still count as fresh (86 400 s unless changed).
    pub fn posture_max_age_secs(&self) -> i64 {
        self.posture_max_age_secs
    }

    /// Decides one request. Never fails and never permits on an error: every failure is a deny with a reason.
    pub fn decide(&self, req: &Request<'_>) -> Decision {
        let subject = req.subject;
        let action = req.action;
        let label = req.resource.label;
        if action.needs_label() && label.is_none() {
            return Decision::deny(format!("no label: `{action}` needs a labelled object"));
        }
        let mut reasons = Vec::with_capacity(3);
        let mut policy_ids = Vec::with_capacity(2);
        let acdf = label.map(|l| acdf::evaluate(&self.spif, &self.bound, l, &subject.clearance));
        let acdf_permit = acdf.as_ref().is_some_and(|a| a.permit);
        if let Some(a) = acdf {
            reasons.push(a.reason);
            policy_ids.push("acdf".to_owned());
        }
        // A classification the SPIF does not know ranks above everything (fail closed for rank-based rules).
        let (classification, classification_rank) = match label {
            Some(l) => self.ranks.of(&l.classification).unwrap_or(("", i64::MAX)),
            None => ("", 0),
        };
        let posture_fresh =
            subject.posture.as_ref().is_some_and(|p| p.is_fresh(req.now_unix, self.posture_max_age_secs));
        let outcome = self.engine.evaluate(&cedar::Input {
            subject,
            action,
            bucket: req.resource.bucket,
            key: req.resource.key.unwrap_or(""),
            classification,
            classification_rank,
            secret_rank: self.ranks.secret(),
            acdf_permit,
            has_label: label.is_some(),
            posture_fresh,
        });
        for e in &outcome.errors {
            reasons.push(format!("cedar error (fails closed): {e}"));
        }
        for (effect, id, reason) in outcome.determining.iter() {
            let effect = match effect {
                cedar_policy::Effect::Permit => "permit",
                cedar_policy::Effect::Forbid => "forbid",
            };
            reasons.push(format!("cedar {effect} {id}: {reason}"));
            policy_ids.push(id.clone());
        }
        if !outcome.allow && outcome.determining.is_empty() && outcome.errors.is_empty() {
            reasons.push(format!("no policy permits {action} for role {}", subject.role));
        }
        let mut permit = outcome.allow;
        if permit && action.needs_acdf_permit() && !acdf_permit {
            permit = false;
            reasons.push(format!(
                "acdf: `{action}` needs the label decision to permit, whatever the policies say"
            ));
        }
        Decision { permit, reasons, policy_ids }
    }
}

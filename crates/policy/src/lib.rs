//! The policy decision point (PDP) of the object service: decides whether a subject may do an action on a
//! resource, combining the STANAG 4774 label access decision (ACDF, in `redoubt-label`) with a Cedar policy set,
//! and explains every decision.
//!
//! This crate owns the subject of a request ([`Subject`]: identity, [`Role`], clearance, device [`Posture`]),
//! the building of clearances from identity records ([`clearance_for`]), the decision ([`Pdp::decide`] →
//! [`Decision`]) and its explanation (reasons in words, ids of the rules that determined it), the Cedar schema
//! (`policies/schema.cedarschema`) and the shipped default policies ([`DEFAULT_POLICIES`]).
//!
//! It must never do I/O, read a clock (time is passed in), use randomness or log, and it must never permit on
//! an error: whatever cannot be evaluated denies, with the error as a reason.
//!
//! # The decision
//! * `read`, `write` (of the label being written) and `read_label` need a label: without one they deny
//!   (`no label`). When a label is present the ACDF runs and its outcome is a reason (`acdf: rule 2
//!   (classification): …`) and goes into the Cedar context (`acdf_permit`).
//! * Cedar decides next: deny by default, forbid overrides permit. Entities are built per request (principal and
//!   resource only), so the number of identities costs nothing. Every policy has an `@id` (its name in
//!   decisions) and a `@reason` (its words). A deny that no policy determined says `no policy permits <action>
//!   for role <role>`.
//! * `read` and `write` need the ACDF to permit whatever the policies say (a writer may not label above what it
//!   could read). `read_label` is permitted by the default policies when the ACDF permits or to officers.
//! * Device posture: the Cedar principal carries `posture_fresh` (report at most [`Pdp::posture_max_age_secs`]
//!   old, at most [`subject::POSTURE_CLOCK_SKEW_SECS`] in the future); the context carries `secret_rank`, the
//!   rank of SECRET in the SPIF, so that the default posture rule is written without a SPIF-specific literal.
//!
//! Classification ranks are 1 for the lowest classification of the SPIF, counting up in hierarchy order (for
//! the NATO SPIF they equal its `hierarchy` values 1..5); an object without a label has rank 0, a label whose
//! classification the SPIF does not know ranks highest.

mod acdf;
mod action;
mod cedar;
mod clearance;
mod decision;
mod error;
mod pdp;
pub mod subject;

pub use action::Action;
pub use cedar::SCHEMA;
pub use clearance::clearance_for;
pub use decision::Decision;
pub use error::PolicyError;
pub use pdp::{DEFAULT_POLICIES, DEFAULT_POSTURE_MAX_AGE_SECS, Pdp, Request, Resource};
pub use subject::{Posture, Role, Subject};

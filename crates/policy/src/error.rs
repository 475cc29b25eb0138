//! The crate's error type. Every error here is a startup or configuration error ("the caller misused the API" or
//! "the policy text is wrong"); a decision never fails with an error: it denies, with reasons.

/// Why a decision point or a clearance could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The Cedar policy text does not parse.
    #[error("cedar policy `{policy}` (line {line}, column {column}) does not parse: {detail}")]
    Parse {
        /// The `@id` of the policy around the error (the nearest `@id` before it), or `?`.
        policy: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser said.
        detail: String,
    },
    /// A policy lacks a mandatory annotation, repeats an id, or is a template.
    #[error("cedar policy {policy}: {problem}")]
    Annotation {
        /// Which policy: its `@id`, or its position and first line when it has none.
        policy: String,
        /// What is wrong and what to do.
        problem: String,
    },
    /// A policy does not validate against the schema (strict mode).
    #[error("cedar policy `{policy}` (line {line}) does not validate against the schema: {detail}")]
    Invalid {
        /// The policy's `@id`.
        policy: String,
        /// 1-based line of the fault (0 when the validator gave no location).
        line: usize,
        /// What the validator said, and its hint when it gave one.
        detail: String,
    },
    /// The Cedar schema shipped with the crate does not load (a build defect, caught at startup).
    #[error("the cedar schema does not load: {0}")]
    Schema(String),
    /// A role name that is not one of the six roles.
    #[error("unknown role `{0}`: use reader, writer, officer, operator, auditor or administrator")]
    UnknownRole(String),
    /// An action name that is not one of the actions.
    #[error(
        "unknown action `{0}`: use read, write, delete, read_label, list, create_bucket, delete_bucket, \
         read_audit, manage_identities, manage_keys or approve_key_destruction"
    )]
    UnknownAction(String),
    /// A clearance level that the SPIF does not define.
    #[error("unknown clearance level `{level}` in policy `{policy}`: use one of {valid}")]
    UnknownLevel {
        /// The level as given.
        level: String,
        /// The SPIF's policy name.
        policy: String,
        /// The SPIF's classifications, lowest first.
        valid: String,
    },
    /// A nationality that no permissive tag set of the SPIF holds.
    #[error(
        "nationality `{nationality}` is not a value of any releasability tag set of policy `{policy}`: \
         use an ISO 3166 alpha-3 code the SPIF defines, e.g. {examples}"
    )]
    UnknownNationality {
        /// The nationality as given.
        nationality: String,
        /// The SPIF's policy name.
        policy: String,
        /// A few valid codes.
        examples: String,
    },
    /// A community of interest that no tag set of the SPIF defines.
    #[error(
        "unknown community of interest `{coi}` in policy `{policy}`: no tag set of the SPIF has this value; \
         valid ones include {examples}"
    )]
    UnknownCoi {
        /// The COI as given.
        coi: String,
        /// The SPIF's policy name.
        policy: String,
        /// A few valid values.
        examples: String,
    },
    /// The label crate refused a value (a clearance that does not bind to the SPIF, an ambiguous name).
    #[error(transparent)]
    Label(#[from] redoubt_label::Error),
}

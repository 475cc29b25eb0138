//! Placeholder: the policy decision point.

//! The bounds every parser of untrusted input enforces. Do not raise them without a reason recorded here: they
//! are what keeps a hostile label from costing more than a few hundred microseconds and kilobytes.

use crate::xml::Limits;

/// A label or clearance, in any form: 64 KiB is far above any real label (the largest ADatP-4774 examples are
/// under 2 KiB) and small enough to parse on every request.
pub const MAX_LABEL_BYTES: usize = 64 * 1024;
/// A SPIF: the NATO SPIF is 87 KiB; national policies with large country lists stay well under 4 MiB.
pub const MAX_SPIF_BYTES: usize = 4 * 1024 * 1024;
/// Categories (Category elements, or tags in the other forms) in one label or clearance.
pub const MAX_CATEGORIES: usize = 256;
/// Values in one label or clearance, over all its categories.
pub const MAX_VALUES: usize = 4096;
/// Labels given to one dominant-label computation.
pub const MAX_AGGREGATE: usize = 10_000;

pub(crate) const LABEL_XML: Limits =
    Limits { max_bytes: MAX_LABEL_BYTES, max_depth: 16, max_elements: 8192, max_attributes: 32 };
pub(crate) const SPIF_XML: Limits =
    Limits { max_bytes: MAX_SPIF_BYTES, max_depth: 32, max_elements: 200_000, max_attributes: 64 };

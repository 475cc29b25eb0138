//! Placeholder: the embedded object store (metadata index and blob files).

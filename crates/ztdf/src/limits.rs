//! Bounds the reader enforces on untrusted containers, so a hostile file is refused with an error before it
//! can make the reader allocate or loop without bound.

/// Limits applied when opening a container. The defaults accept every file the reference SDKs write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Largest manifest accepted, in bytes (the reference SDKs' limit is 10 MB).
    pub max_manifest_bytes: u64,
    /// Largest stored (encrypted) segment accepted, in bytes: the reader holds a few segments in memory.
    pub max_segment_bytes: u64,
    /// Most segments accepted.
    pub max_segments: usize,
    /// Most key access objects accepted.
    pub max_key_access: usize,
    /// Most assertions accepted.
    pub max_assertions: usize,
    /// Most ZIP entries accepted in the central directory.
    pub max_zip_entries: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            max_manifest_bytes: 10 * 1024 * 1024,
            // Legacy writers used segments up to 100 MiB; the writer here never exceeds 4 MiB.
            max_segment_bytes: 128 * 1024 * 1024,
            // 64 GiB (the reference SDKs' input limit) in 16 KiB segments.
            max_segments: 4 * 1024 * 1024,
            max_key_access: 256,
            max_assertions: 256,
            max_zip_entries: 64,
        }
    }
}

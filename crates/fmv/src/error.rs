//! The crate's error types, one per layer: TS packets, PSI tables, PES packets, KLV. All of them mean "the peer
//! sent malformed bytes"; none is a bug or a misuse of the API. Messages are lower-case and say what was wrong.

/// A 188-byte transport stream packet is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TsError {
    /// The packet does not start with 0x47.
    #[error("sync byte is {0:#04x}, expected 0x47: the input is not aligned MPEG-TS")]
    BadSync(u8),
    /// The packet is not 188 bytes.
    #[error("packet is {0} bytes, expected 188")]
    BadLength(usize),
    /// The adaptation field claims more bytes than the packet has.
    #[error("adaptation field length {0} does not fit in the packet")]
    AdaptationFieldTooLong(u8),
    /// An adaptation field's optional parts (PCR, OPCR, splice countdown) run past its declared length.
    #[error("adaptation field is shorter than its flags require")]
    AdaptationFieldTruncated,
    /// `adaptation_field_control` is 00, a reserved value.
    #[error("adaptation_field_control is the reserved value 00")]
    ReservedAdaptationControl,
}

/// A PSI section (PAT, PMT) is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PsiError {
    /// The section ends before a field it declares.
    #[error("section is truncated at {0}")]
    Truncated(&'static str),
    /// The section's CRC-32 does not match its bytes.
    #[error("section CRC-32 is {stored:#010x}, computed {computed:#010x}: the section is corrupt")]
    CrcMismatch {
        /// The CRC carried in the section.
        stored: u32,
        /// The CRC computed over the section.
        computed: u32,
    },
    /// The section is not the table the caller expected.
    #[error("table_id is {found:#04x}, expected {expected:#04x}")]
    UnexpectedTable {
        /// The expected table id.
        expected: u8,
        /// The table id found.
        found: u8,
    },
    /// The section_syntax_indicator is 0 on a table that requires the long form.
    #[error("section_syntax_indicator is 0 on a table that requires it")]
    ShortSyntax,
    /// The declared section length exceeds the limit for the table (1021 bytes for PAT/PMT).
    #[error("section_length {0} exceeds the 1021-byte limit")]
    TooLong(usize),
    /// Bytes were left over inside a loop whose length was declared.
    #[error("{0} has trailing bytes")]
    Trailing(&'static str),
    /// A section did not complete before the next one started (lost packets).
    #[error("section is incomplete: a packet was lost")]
    Incomplete,
}

/// A PES packet is malformed, truncated or too large.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PesError {
    /// The payload unit does not start with 00 00 01.
    #[error("PES start code is missing")]
    BadStartCode,
    /// The PES header ends before a field it declares.
    #[error("PES header is truncated at {0}")]
    Truncated(&'static str),
    /// The PES ended (new unit start or lost packet) before its declared length.
    #[error("PES packet is truncated: {got} of {declared} bytes arrived")]
    Incomplete {
        /// The declared length of the PES packet (from the start code).
        declared: usize,
        /// The bytes that arrived.
        got: usize,
    },
    /// The PES packet grew past the configured bound and was dropped.
    #[error("PES packet exceeds the {limit}-byte bound and was dropped")]
    TooLarge {
        /// The configured bound.
        limit: usize,
    },
    /// A continuity error broke the PES packet being assembled.
    #[error("PES packet lost bytes to a continuity error")]
    Discontinuity,
}

/// KLV bytes are malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KlvError {
    /// The bytes end before a field.
    #[error("KLV is truncated at {0}")]
    Truncated(&'static str),
    /// A BER long-form length uses more than 4 bytes, or the indefinite form (0x80).
    #[error("BER length uses {0} length bytes; at most 4 are allowed")]
    BerLengthTooLong(u8),
    /// A BER length claims more bytes than are left.
    #[error("BER length {length} runs past the end ({remaining} bytes left)")]
    LengthPastEnd {
        /// The declared length.
        length: usize,
        /// The bytes left in the buffer.
        remaining: usize,
    },
    /// A BER-OID tag is longer than 4 bytes or not minimally encoded.
    #[error("BER-OID tag is longer than 4 bytes or not minimally encoded")]
    BadTag,
    /// The universal key is not the one this decoder handles.
    #[error("universal key is not {0}")]
    WrongKey(&'static str),
    /// Bytes follow the last KLV item of a buffer that must be consumed whole.
    #[error("{0} trailing bytes after the KLV packet")]
    Trailing(usize),
    /// The checksum item does not have length 2.
    #[error("checksum item has length {0}, expected 2")]
    BadChecksumLength(usize),
    /// The bytes do not start with an SMPTE universal key (`06 0E 2B 34`).
    #[error("bytes do not start with an SMPTE universal key")]
    NoKey,
    /// A metadata AU cell header (synchronous carriage) is malformed.
    #[error("metadata AU cell is malformed: {0}")]
    BadAuCell(&'static str),
}

/// Anything the demultiplexer found malformed, by layer. Reported in [`crate::ts::Event::Malformed`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DemuxError {
    /// A TS packet.
    #[error(transparent)]
    Ts(#[from] TsError),
    /// A PSI section.
    #[error(transparent)]
    Psi(#[from] PsiError),
    /// A PES packet.
    #[error(transparent)]
    Pes(#[from] PesError),
    /// KLV inside a metadata PES.
    #[error(transparent)]
    Klv(#[from] KlvError),
}

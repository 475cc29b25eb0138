//! Local-set items: BER-OID tag, BER length, value — the body of ST 0601 and ST 0102 sets.

use crate::error::KlvError;
use crate::klv::ber;
use crate::reader::Reader;

/// One item of a local set, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalItem<'a> {
    /// The BER-OID tag.
    pub tag: u32,
    /// The value bytes.
    pub value: &'a [u8],
}

/// Parses every item of a local set body. The whole body must be items: a length past the end is an error.
pub fn local_items(body: &[u8]) -> Result<Vec<LocalItem<'_>>, KlvError> {
    let mut r = Reader::new(body);
    // INVARIANT: each item takes at least 2 bytes, so this bound is never exceeded by a valid body.
    let mut items = Vec::with_capacity(body.len() / 2);
    while !r.is_empty() {
        let tag = ber::read_tag(&mut r)?;
        let value = ber::read_value(&mut r)?;
        items.push(LocalItem { tag, value });
    }
    Ok(items)
}

/// Builds a local-set body item by item.
#[derive(Debug, Clone, Default)]
pub struct LocalSetWriter {
    body: Vec<u8>,
}

impl LocalSetWriter {
    /// An empty set body.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one item.
    pub fn item(&mut self, tag: u32, value: &[u8]) -> &mut Self {
        ber::write_tag(tag, &mut self.body);
        ber::write_length(value.len(), &mut self.body);
        self.body.extend_from_slice(value);
        self
    }

    /// The body written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.body
    }

    /// The finished body.
    pub fn into_bytes(self) -> Vec<u8> {
        self.body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip() {
        let mut w = LocalSetWriter::new();
        w.item(2, &[1; 8]).item(141, &[]).item(3, b"Mission");
        let items = local_items(w.as_bytes()).unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[1], LocalItem { tag: 141, value: &[] });
        assert_eq!(items[2].value, b"Mission");
    }

    #[test]
    fn length_past_the_end() {
        assert_eq!(
            local_items(&[0x02, 0x08, 0x00]),
            Err(KlvError::LengthPastEnd { length: 8, remaining: 1 })
        );
    }
}

//! The fast path of the 4774 XML label reader: fills a [`Label`] in one pass over the bytes, without quick-xml's
//! events or the generic tree of `xml.rs` (parse + validate of a 1 KiB label: 62 400 → 27 800 instructions).
//!
//! It reads only a clean label, in a small subset of XML: an optional XML declaration, start and end tags of
//! the plain form `<name attr="value">` / `</name>`, character data without references; the 4774 namespace as
//! the default namespace of the document element; exact element and attribute names; each element where and as
//! often as ADatP-4774 allows it; dates as `xs:dateTime`; no `SuccessionHandling`. On anything else — a defect,
//! a limit, an XML error or merely something it does not handle (a comment, CDATA, an entity, `<a/>`) — it
//! returns `None` and the caller reads the input with the tree reader, which produces the error or the repairs
//! with their exact messages. So the fast path has no error messages of its own, and whenever it returns a label
//! the tree reader returns the same label without repairs, in either mode (the differential tests below check
//! this on the vendored labels and on mutations of them).

use crate::format::nato_xml::{NS_LABEL, is_xs_date_time};
use crate::label::{Category, CategoryType, Label, LabelKind, OriginatorId, PolicyId};
use crate::limits::{LABEL_XML, MAX_CATEGORIES, MAX_VALUES};
use crate::xml::slice_of;

/// The elements with text content the fast path reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leaf {
    Policy,
    Classification,
    PrivacyMark,
    Value,
    Originator,
    Creation,
}

impl Leaf {
    fn name(self) -> &'static [u8] {
        match self {
            Leaf::Policy => b"PolicyIdentifier",
            Leaf::Classification => b"Classification",
            Leaf::PrivacyMark => b"PrivacyMark",
            Leaf::Value => b"GenericValue",
            Leaf::Originator => b"OriginatorID",
            Leaf::Creation => b"CreationDateTime",
        }
    }
}

/// Where the reader is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Prolog,
    Root,
    Info,
    Category,
    Leaf(Leaf),
    Epilog,
}

/// The parts of a label read so far.
#[derive(Default)]
struct Parts {
    id: Option<String>,
    review: Option<String>,
    info_seen: bool,
    policy: Option<PolicyId>,
    classification: Option<String>,
    privacy_mark: Option<Option<String>>,
    categories: Vec<Category>,
    category: Option<Category>,
    values: usize,
    originator: Option<OriginatorId>,
    creation: Option<String>,
    /// Attribute values of the leaf being read (`URI` of `PolicyIdentifier`, `IDType` of `OriginatorID`).
    leaf_attr: Option<String>,
    leaf_text: Option<String>,
    elements: usize,
}

/// XML white space (not form feed, which `u8::is_ascii_whitespace` also counts).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// A byte of an attribute name the fast path reads (every other is left to the tree reader).
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-' | b'.')
}

/// The attributes of a start tag: at most three (no element of the fast path has more).
struct Attrs<'i> {
    list: [(&'i [u8], &'i str); 3],
    n: usize,
}

/// Reads the start tag whose text `tag` begins (just after its `<`): its name, its attributes, and the input after
/// its `>`. `None` on anything but the plain form `<name S attr="value" S attr='value'>` with unescaped values, on
/// a duplicate or a fourth attribute, and on an empty-element tag. This is a subset of what quick-xml reads, with
/// the same names, values and end of tag.
fn start_tag<'i>(doc: &'i str, tag: &'i [u8]) -> Option<(&'i [u8], Attrs<'i>, &'i [u8])> {
    let name_len = tag.iter().position(|&b| is_space(b) || b == b'>' || b == b'/')?;
    let (name, mut rest) = tag.split_at(name_len);
    let mut attrs = Attrs { list: [(b"", ""); 3], n: 0 };
    loop {
        let skip = rest.iter().position(|&b| !is_space(b))?;
        let next = rest.get(skip..)?;
        if next.first() == Some(&b'>') {
            return Some((name, attrs, next.get(1..)?));
        }
        let key_len = next.iter().position(|&b| !is_name_byte(b))?;
        let (key, tail) = next.split_at(key_len);
        let [b'=', quote @ (b'"' | b'\''), tail @ ..] = tail else { return None };
        // A reference would need unescaping, and `<` is not well-formed: both left to the tree reader.
        let len = tail.iter().position(|&b| b == *quote || b == b'&' || b == b'<')?;
        let (value, tail) = tail.split_at(len);
        if skip == 0 || key.is_empty() || tail.first() != Some(quote) || attrs.get(key).is_some() {
            return None;
        }
        *attrs.list.get_mut(attrs.n)? = (key, slice_of(doc, value)?);
        attrs.n += 1;
        rest = tail.get(1..)?;
    }
}

impl<'i> Attrs<'i> {
    fn iter(&self) -> impl Iterator<Item = &(&'i [u8], &'i str)> {
        self.list.iter().take(self.n)
    }

    fn get(&self, key: &[u8]) -> Option<&'i str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

/// Calls `f` with each attribute; `None` when `f` refuses one.
fn attributes<'i>(attrs: &Attrs<'i>, mut f: impl FnMut(&[u8], &'i str) -> Option<()>) -> Option<()> {
    attrs.iter().try_for_each(|(k, v)| f(k, v))
}

/// Character data `t` (without markup or references) read at `at`.
fn text(doc: &str, p: &mut Parts, at: At, t: &[u8]) -> Option<()> {
    match at {
        At::Leaf(_) => {
            if p.leaf_text.is_some() {
                return None;
            }
            // The tree reader normalises line ends before trimming: a carriage return in the leading or trailing
            // white space is trimmed either way, one inside the text is left to it.
            let value = slice_of(doc, t)?.trim();
            if value.bytes().any(|b| b == b'\r') {
                return None;
            }
            p.leaf_text = Some(value.to_owned());
        }
        // Text between the elements of a label is never read (the tree reader keeps and ignores it); the input is
        // UTF-8, so it cannot fail to decode either.
        At::Root | At::Info | At::Category => {}
        At::Prolog | At::Epilog if t.iter().all(u8::is_ascii_whitespace) => {}
        At::Prolog | At::Epilog => return None,
    }
    Some(())
}

/// Reads a clean 4774 XML label (see the module comment), or `None` to have the tree reader read it.
pub(crate) fn parse(input: &[u8]) -> Option<Label> {
    if input.len() > LABEL_XML.max_bytes {
        return None;
    }
    // Checked once, so that every part kept is a slice of it (compared and copied, never decoded again).
    let doc = std::str::from_utf8(input).ok()?;
    let mut at = At::Prolog;
    let mut kind = LabelKind::Originator;
    let mut p = Parts::default();
    let mut rest = input;
    // An XML declaration (only at the very start, where it is one) is skipped, as the tree reader does.
    if rest.starts_with(b"<?xml ") {
        let end = rest.windows(2).position(|w| w == b"?>")?;
        rest = rest.get(end + 2..)?;
    }
    loop {
        // Character data up to the next markup. A reference (`&`) needs resolving: left to the tree reader.
        let lt = rest.iter().position(|&b| b == b'<' || b == b'&');
        let (t, markup) = rest.split_at(lt.unwrap_or(rest.len()));
        if !t.is_empty() {
            text(doc, &mut p, at, t)?;
        }
        let Some((&first, after)) = markup.split_first() else { break };
        if first != b'<' {
            return None;
        }
        match after.first() {
            Some(b'/') => {
                let gt = after.iter().position(|&b| b == b'>')?;
                at = close(&mut p, at, after.get(1..gt)?, kind)?;
                rest = after.get(gt + 1..)?;
            }
            // Comments, CDATA, DTDs and processing instructions: left to the tree reader.
            Some(b'!' | b'?') | None => return None,
            Some(_) => {
                let (name, attrs, after) = start_tag(doc, after)?;
                p.elements += 1;
                if p.elements > LABEL_XML.max_elements {
                    return None;
                }
                at = open(&mut p, at, name, &attrs, &mut kind)?;
                rest = after;
            }
        }
    }
    if at != At::Epilog {
        return None;
    }
    let review = p.review?;
    if !is_xs_date_time(&review) {
        return None;
    }
    let creation = p.creation?;
    if !is_xs_date_time(&creation) || !p.info_seen {
        return None;
    }
    Some(Label {
        kind,
        id: p.id,
        review_date_time: Some(review),
        policy: p.policy?,
        classification: p.classification?,
        privacy_mark: p.privacy_mark.flatten(),
        categories: p.categories,
        originator_id: p.originator,
        creation_date_time: Some(creation),
        succession: None,
    })
}

fn open(p: &mut Parts, at: At, name: &[u8], attrs: &Attrs<'_>, kind: &mut LabelKind) -> Option<At> {
    let next = match at {
        At::Prolog => {
            *kind = [LabelKind::Originator, LabelKind::Alternative, LabelKind::Metadata, LabelKind::Legacy]
                .into_iter()
                .find(|k| k.element().as_bytes() == name)?;
            let mut ns = false;
            attributes(attrs, |key, value| {
                match key {
                    b"xmlns" if value == NS_LABEL => ns = true,
                    b"Id" => p.id = Some(value.to_owned()),
                    b"ReviewDateTime" => p.review = Some(value.trim().to_owned()),
                    _ => return None,
                }
                Some(())
            })?;
            return ns.then_some(At::Root);
        }
        At::Root => match name {
            b"ConfidentialityInformation" if !p.info_seen => {
                p.info_seen = true;
                At::Info
            }
            b"OriginatorID" if p.originator.is_none() => At::Leaf(Leaf::Originator),
            b"CreationDateTime" if p.creation.is_none() => At::Leaf(Leaf::Creation),
            _ => return None,
        },
        At::Info => match name {
            b"PolicyIdentifier" if p.policy.is_none() => At::Leaf(Leaf::Policy),
            b"Classification" if p.classification.is_none() => At::Leaf(Leaf::Classification),
            b"PrivacyMark" if p.privacy_mark.is_none() => At::Leaf(Leaf::PrivacyMark),
            b"Category" if p.categories.len() < MAX_CATEGORIES => {
                let (mut tag_name, mut kind, mut uri) = (None, None, None);
                attributes(attrs, |key, value| {
                    match key {
                        b"TagName" => tag_name = Some(value.trim().to_owned()),
                        b"Type" => kind = Some(CategoryType::parse(value.trim(), false)?),
                        b"URI" => uri = Some(value.trim().to_owned()),
                        _ => return None,
                    }
                    Some(())
                })?;
                p.category = Some(Category { tag_name: tag_name?, kind: kind?, uri, values: Vec::new() });
                return Some(At::Category);
            }
            _ => return None,
        },
        At::Category if name == b"GenericValue" => {
            p.values += 1;
            if p.values > MAX_VALUES {
                return None;
            }
            At::Leaf(Leaf::Value)
        }
        At::Category | At::Leaf(_) | At::Epilog => return None,
    };
    // A leaf: only `PolicyIdentifier@URI` and `OriginatorID@IDType` are read, any other attribute is left to the
    // tree reader.
    let allowed: &[u8] = match next {
        At::Leaf(Leaf::Policy) => b"URI",
        At::Leaf(Leaf::Originator) => b"IDType",
        _ => b"",
    };
    p.leaf_attr = None;
    p.leaf_text = None;
    attributes(attrs, |key, value| {
        if allowed.is_empty() || key != allowed {
            return None;
        }
        p.leaf_attr = Some(match next {
            At::Leaf(Leaf::Policy) => value.trim().to_owned(),
            _ => value.to_owned(),
        });
        Some(())
    })?;
    Some(next)
}

fn close(p: &mut Parts, at: At, name: &[u8], kind: LabelKind) -> Option<At> {
    Some(match at {
        At::Root if name == kind.element().as_bytes() => At::Epilog,
        At::Info if name == b"ConfidentialityInformation" => At::Root,
        At::Category if name == b"Category" => {
            let category = p.category.take()?;
            if category.values.is_empty() {
                return None;
            }
            p.categories.push(category);
            At::Info
        }
        At::Leaf(leaf) if name == leaf.name() => {
            let value = p.leaf_text.take().unwrap_or_default();
            match leaf {
                Leaf::Policy if !value.is_empty() => {
                    p.policy = Some(PolicyId { name: value, uri: p.leaf_attr.take() });
                    At::Info
                }
                Leaf::Classification if !value.is_empty() => {
                    p.classification = Some(value);
                    At::Info
                }
                Leaf::PrivacyMark => {
                    p.privacy_mark = Some(Some(value));
                    At::Info
                }
                Leaf::Value if !value.is_empty() => {
                    p.category.as_mut()?.values.push(value);
                    At::Category
                }
                Leaf::Originator => {
                    p.originator = Some(OriginatorId { id_type: p.leaf_attr.take()?, value });
                    At::Root
                }
                Leaf::Creation => {
                    p.creation = Some(value);
                    At::Root
                }
                _ => return None,
            }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::parse;
    use crate::Mode;
    use crate::format::nato_xml::parse_tree;

    /// The vendored 4774 labels (`.nato`, most of them with defects the lenient reader repairs), the same labels
    /// repaired and written back as clean 4774 XML, and variants of the benchmark label.
    fn corpus() -> Vec<Vec<u8>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let mut vendored: Vec<Vec<u8>> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "nato"))
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        vendored.sort();
        assert!(vendored.len() >= 6, "vendored labels not found in {}", dir.display());
        let bench = include_str!("../../tests/data/bench-label.xml");
        let mut out = vendored.clone();
        for input in &vendored {
            let (mut label, _) = parse_tree(input, Mode::Lenient).unwrap();
            label.review_date_time.get_or_insert_with(|| "2031-05-06T07:08:09Z".to_owned());
            label.creation_date_time.get_or_insert_with(|| "2024-05-06T07:08:09.5+02:00".to_owned());
            out.push(crate::format::nato_xml::write(&label).into_bytes());
            label.privacy_mark = Some("  for  review ".to_owned());
            label.id = Some(" id-1 ".to_owned());
            label.kind = crate::LabelKind::Alternative;
            out.push(crate::format::nato_xml::write(&label).into_bytes());
        }
        out.push(bench.as_bytes().to_vec());
        out.push(bench.replace('"', "'").into_bytes());
        out.push(bench.replace("originatorConfidentialityLabel", "ConfidentialityLabel").into_bytes());
        out.push(
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\n{bench}<?pi x?>\n").into_bytes(),
        );
        out.push(format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{bench}\n").into_bytes());
        out.push(bench.replace(">NATO<", "> NATO\u{a0}<").into_bytes());
        out.push(bench.replace('\n', "\r\n").replace(">NATO<", ">\r\n NATO\r<").into_bytes());
        out.push(bench.replace(">FRA<", ">F\r\nRA<").into_bytes());
        out
    }

    /// Whenever the fast path reads a label, the tree reader reads the same label without repairs, in both modes.
    fn agree(input: &[u8]) -> bool {
        let Some(fast) = parse(input) else { return false };
        for mode in [Mode::Strict, Mode::Lenient] {
            let tree = parse_tree(input, mode);
            assert!(
                matches!(&tree, Ok((l, r)) if *l == fast && r.is_empty()),
                "fast path and tree reader differ ({mode:?}) on {:?}: fast {fast:?}, tree {tree:?}",
                String::from_utf8_lossy(input)
            );
        }
        true
    }

    #[test]
    fn fast_path_reads_the_clean_vendored_labels_like_the_tree_reader() {
        let corpus = corpus();
        let fast: Vec<bool> = corpus.iter().map(|l| agree(l)).collect();
        // The repaired vendored labels written back and the benchmark label variants take the fast path.
        assert!(fast.iter().filter(|f| **f).count() >= 18, "fast path taken: {fast:?}");
        assert!(agree(include_bytes!("../../tests/data/bench-label.xml")));
    }

    #[test]
    fn fast_path_declines_what_the_tree_reader_refuses_or_repairs() {
        let clean = include_str!("../../tests/data/bench-label.xml");
        for (from, to) in [
            ("SECRET", ""),
            ("2025-01-01T09:00:00Z", "2025-01-01 09:00:00"),
            ("Type=\"PERMISSIVE\"", "Type=\"permissive\""),
            ("TagName=", "tagName="),
            ("<Classification>", "<Classification URI=\"x\">"),
            ("confidentialitymetadatalabel:1:0", "confidentialitymetadatalabel:2:0"),
            ("<CreationDateTime>2025-01-01T09:00:00Z</CreationDateTime>", ""),
            ("<GenericValue>ATOMAL</GenericValue>", "<GenericValue> </GenericValue>"),
            ("</Classification>", "</Classification><Classification>TOP SECRET</Classification>"),
            ("</CreationDateTime>", "</CreationDataTime>"),
            ("NATO</PolicyIdentifier>", "N&amp;TO</PolicyIdentifier>"),
            ("IDType=\"rfc822Name\"", ""),
        ] {
            let bad = clean.replacen(from, to, 1);
            assert_ne!(bad, clean);
            assert!(parse(bad.as_bytes()).is_none(), "fast path read {bad}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Mutated labels (bytes replaced, deleted or inserted, from the XML alphabet): whenever the fast path
        /// reads one, the tree reader reads the same label; otherwise the caller uses the tree reader anyway.
        #[test]
        fn fast_path_agrees_with_tree_reader_on_mutations(
            which in any::<prop::sample::Index>(),
            edits in prop::collection::vec(
                (any::<prop::sample::Index>(), 0u8..3, prop::sample::select(
                    b"<>/=\"' \r\n\t&;:#xAaZz0-TClassificationGenericValue".to_vec()
                )),
                1..4,
            ),
        ) {
            let corpus = corpus();
            let mut input = which.get(&corpus).clone();
            for (at, op, byte) in edits {
                let i = at.index(input.len() + 1);
                match op {
                    0 if i < input.len() => input[i] = byte,
                    1 if i < input.len() => { input.remove(i); }
                    _ => input.insert(i, byte),
                }
            }
            agree(&input);
        }

        /// Tag-level mutations: drop or duplicate one element line, or rename an element.
        #[test]
        fn fast_path_agrees_with_tree_reader_on_structural_mutations(
            which in any::<prop::sample::Index>(),
            line in any::<prop::sample::Index>(),
            op in 0u8..3,
        ) {
            let corpus = corpus();
            let text = String::from_utf8_lossy(which.get(&corpus).as_slice()).into_owned();
            let mut lines: Vec<&str> = text.lines().collect();
            let i = line.index(lines.len().max(1)).min(lines.len().saturating_sub(1));
            let renamed;
            match op {
                0 => { lines.remove(i); }
                1 => { let l = lines[i]; lines.insert(i, l); }
                _ => { renamed = lines[i].replacen("Category", "category", 1).replacen("Value", "Values", 1); lines[i] = &renamed; }
            }
            agree(lines.join("\n").as_bytes());
        }
    }
}

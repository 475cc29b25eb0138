//! A small, bounded XML tree reader over quick-xml, shared by every XML format of this crate.
//!
//! It owns the limits that make untrusted XML safe to read: input size, element depth, element count, attribute
//! count and text size, all checked while reading (never after). It refuses DTDs (so no entity expansion), resolves
//! only the predefined entities and character references, resolves namespaces, and records the line:column of
//! every element so that the format parsers can name the place of a defect. Mismatched end tags are an error in
//! strict mode and a reported repair in lenient mode (real SPIFs in the wild contain them).
//!
//! Names, attribute values and text borrow from the input whenever they need no unescaping (the common case), so
//! reading a label allocates little more than the child lists: a 1 KiB label is read many times per request path.

use std::borrow::Cow;
use std::fmt;
use std::rc::Rc;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::error::Error;
use crate::{Mode, Repair};

/// Namespace of the `xml:` prefix (fixed by the XML namespaces recommendation).
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Bounds applied while reading one XML document.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_elements: usize,
    pub max_attributes: usize,
}

/// A line:column position in the input (both 1-based; columns count bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column in bytes, from 1.
    pub column: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One attribute: its name as written (`xml:lang`, `URI`) and its unescaped value.
#[derive(Debug, Clone)]
pub(crate) struct Attr<'i> {
    pub name: Cow<'i, str>,
    pub value: Cow<'i, str>,
}

/// One element of the tree.
#[derive(Debug, Clone, Default)]
pub(crate) struct Element<'i> {
    /// Local name (without prefix).
    pub name: Cow<'i, str>,
    /// Resolved namespace URI, if any (shared: every element of a document usually has the same one).
    pub ns: Option<Rc<str>>,
    pub attrs: Vec<Attr<'i>>,
    pub children: Vec<Element<'i>>,
    /// Character data directly inside this element, concatenated, leading white space dropped (every reader
    /// trims element text).
    pub text: Cow<'i, str>,
    pub pos: Pos,
}

impl<'i> Element<'i> {
    /// The value of the attribute written `name` (exact match).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|a| a.name == name).map(|a| &*a.value)
    }

    /// The value of the attribute whose name matches `name` ignoring ASCII case, with its name as written.
    pub fn attr_ignore_case(&self, name: &str) -> Option<(&str, &str)> {
        self.attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name)).map(|a| (&*a.name, &*a.value))
    }

    /// Child elements with local name `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element<'i>> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first child element with local name `name`.
    pub fn child(&self, name: &str) -> Option<&Element<'i>> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Text content with surrounding white space removed.
    pub fn trimmed_text(&self) -> &str {
        self.text.trim()
    }
}

/// Reads `input` into a tree, enforcing `limits`. Returns the root element and the repairs made (lenient only).
pub(crate) fn parse(input: &[u8], limits: Limits, mode: Mode) -> Result<(Element<'_>, Vec<Repair>), Error> {
    if input.len() > limits.max_bytes {
        return Err(Error::TooLarge { size: input.len(), limit: limits.max_bytes });
    }
    if input.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::Empty);
    }
    let mut reader = Reader::from_reader(input);
    {
        let config = reader.config_mut();
        config.check_end_names = false;
        config.expand_empty_elements = false;
        config.check_comments = true;
        config.trim_text(false);
    }
    let mut tree = TreeBuilder {
        input,
        doc: std::str::from_utf8(input).ok(),
        limits,
        mode,
        stack: Vec::new(),
        root: None,
        repairs: Vec::new(),
        lines: LineIndex::default(),
        elements: 0,
        ns: Vec::new(),
        xml_ns: Rc::from(XML_NS),
    };
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(err) => {
                let at = usize::try_from(reader.error_position()).unwrap_or(0);
                let pos = tree.lines.pos(input, at);
                return Err(Error::Xml { pos, detail: err.to_string() });
            }
        };
        match event {
            Event::Start(start) => tree.open(&start, before, false)?,
            Event::Empty(start) => tree.open(&start, before, true)?,
            Event::End(end) => tree.close(end.name().as_ref(), before)?,
            // White space between elements is never kept (see `text`): skip it before decoding.
            Event::Text(text) if tree.drops_blank() && text.iter().all(u8::is_ascii_whitespace) => {}
            Event::Text(text) => {
                let text = text.xml10_content().map_err(|e| tree.xml_error(before, e.to_string()))?;
                tree.text(text, before)?;
            }
            Event::CData(data) => {
                let text = data.xml10_content().map_err(|e| tree.xml_error(before, e.to_string()))?;
                tree.text(text, before)?;
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = reference.decode().map_err(|e| tree.xml_error(before, e.to_string()))?;
                        match &*name {
                            "lt" => "<".to_owned(),
                            "gt" => ">".to_owned(),
                            "amp" => "&".to_owned(),
                            "apos" => "'".to_owned(),
                            "quot" => "\"".to_owned(),
                            other => {
                                return Err(tree.xml_error(
                                    before,
                                    format!("unknown entity `&{other};`: only the five predefined entities are allowed"),
                                ));
                            }
                        }
                    }
                    Err(e) => return Err(tree.xml_error(before, e.to_string())),
                };
                tree.text(Cow::Owned(resolved), before)?;
            }
            Event::DocType(_) => {
                return Err(
                    tree.xml_error(before, "a DTD is not allowed: remove the <!DOCTYPE> declaration".into())
                );
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = tree.stack.last() {
        let pos = open.pos;
        let name = open.name.clone();
        return Err(Error::Xml { pos, detail: format!("element `{name}` is never closed") });
    }
    match tree.root {
        Some(root) => Ok((root, tree.repairs)),
        None => Err(Error::Empty),
    }
}

/// Incremental byte-offset → line:column conversion (inputs are read front to back, so this is linear overall).
#[derive(Debug, Default)]
struct LineIndex {
    offset: usize,
    line: u32,
    column: u32,
}

impl LineIndex {
    fn pos(&mut self, input: &[u8], at: usize) -> Pos {
        if self.line == 0 || at < self.offset {
            *self = LineIndex { offset: 0, line: 1, column: 1 };
        }
        let end = at.min(input.len());
        let span = input.get(self.offset..end).unwrap_or_default();
        // Counting in two simple passes (both vectorise) instead of a branch per byte.
        let lines = span.iter().fold(0u32, |n, &b| n.wrapping_add(u32::from(b == b'\n')));
        match span.iter().rposition(|&b| b == b'\n') {
            Some(last) => {
                self.line = self.line.saturating_add(lines);
                self.column = u32::try_from(span.len() - last).unwrap_or(u32::MAX);
            }
            None => self.column = self.column.saturating_add(u32::try_from(span.len()).unwrap_or(u32::MAX)),
        }
        self.offset = end;
        Pos { line: self.line, column: self.column }
    }
}

struct TreeBuilder<'i> {
    input: &'i [u8],
    /// The input as text when it is valid UTF-8 (always, for a well-formed document): what names and values
    /// borrow from.
    doc: Option<&'i str>,
    limits: Limits,
    mode: Mode,
    stack: Vec<Element<'i>>,
    root: Option<Element<'i>>,
    repairs: Vec<Repair>,
    lines: LineIndex,
    elements: usize,
    /// Namespace bindings in scope: (depth at which declared, prefix or "" for default, uri).
    ns: Vec<(usize, String, Rc<str>)>,
    xml_ns: Rc<str>,
}

impl<'i> TreeBuilder<'i> {
    /// `part` (a name, value or text the reader returned) as a borrow of the input when it is a slice of it,
    /// else as an owned copy (it was unescaped or normalised).
    fn borrow(&self, part: &str) -> Cow<'i, str> {
        match self.doc.and_then(|doc| slice_of(doc, part.as_bytes())) {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(part.to_owned()),
        }
    }

    /// Like [`Self::borrow`], for bytes that are UTF-8 when the input is (names); invalid UTF-8 is replaced.
    fn borrow_bytes(&self, part: &[u8]) -> Cow<'i, str> {
        match self.doc.and_then(|doc| slice_of(doc, part)) {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(String::from_utf8_lossy(part).into_owned()),
        }
    }

    fn xml_error(&mut self, at: usize, detail: String) -> Error {
        let pos = self.lines.pos(self.input, at);
        Error::Xml { pos, detail }
    }

    fn open(&mut self, start: &BytesStart<'_>, at: usize, empty: bool) -> Result<(), Error> {
        let pos = self.lines.pos(self.input, at);
        let qname = self.borrow_bytes(start.name().as_ref());
        if self.root.is_some() {
            return Err(Error::Xml {
                pos,
                detail: format!("element `{qname}` after the end of the document element"),
            });
        }
        let depth = self.stack.len() + 1;
        if depth > self.limits.max_depth {
            return Err(Error::Limit { what: "element depth", limit: self.limits.max_depth, pos: Some(pos) });
        }
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            return Err(Error::Limit {
                what: "element count",
                limit: self.limits.max_elements,
                pos: Some(pos),
            });
        }
        let mut attrs = Vec::new();
        // Duplicate names are checked below, without the per-element allocation quick-xml's own check makes.
        for attr in start.attributes().with_checks(false) {
            let attr = attr.map_err(|e| Error::Xml { pos, detail: e.to_string() })?;
            if attrs.len() >= self.limits.max_attributes {
                return Err(Error::Limit {
                    what: "attributes per element",
                    limit: self.limits.max_attributes,
                    pos: Some(pos),
                });
            }
            let name = self.borrow_bytes(attr.key.as_ref());
            if attrs.iter().any(|a: &Attr<'_>| a.name == name) {
                return Err(Error::Xml { pos, detail: format!("attribute `{name}` appears twice") });
            }
            // Without `&` there is nothing to unescape: the value is the input slice itself.
            let raw = (!attr.value.contains(&b'&'))
                .then(|| self.doc.and_then(|d| slice_of(d, &attr.value)))
                .flatten();
            let value = match raw {
                Some(v) => Cow::Borrowed(v),
                None => match attr.unescape_value().map_err(|e| Error::Xml { pos, detail: e.to_string() })? {
                    Cow::Borrowed(v) => self.borrow(v),
                    Cow::Owned(v) => Cow::Owned(v),
                },
            };
            if name == "xmlns" {
                self.ns.push((depth, String::new(), Rc::from(&*value)));
            } else if let Some(prefix) = name.strip_prefix("xmlns:") {
                self.ns.push((depth, prefix.to_owned(), Rc::from(&*value)));
            }
            attrs.push(Attr { name, value });
        }
        let (prefix, local) = match qname.split_once(':') {
            Some((p, l)) => (p, l),
            None => ("", &*qname),
        };
        let ns = if prefix == "xml" {
            Some(self.xml_ns.clone())
        } else {
            self.ns
                .iter()
                .rev()
                .find(|(_, p, _)| p == prefix)
                .map(|(_, _, uri)| uri.clone())
                .filter(|u| !u.is_empty())
        };
        if ns.is_none() && !prefix.is_empty() {
            return Err(Error::Xml {
                pos,
                detail: format!("namespace prefix `{prefix}` of element `{qname}` is not declared"),
            });
        }
        let name = match &qname {
            // `local` is a suffix of `qname`: take the same suffix of the borrowed input.
            Cow::Borrowed(q) => Cow::Borrowed(q.get(q.len() - local.len()..).unwrap_or_default()),
            Cow::Owned(_) => Cow::Owned(local.to_owned()),
        };
        let element = Element { name, ns, attrs, children: Vec::new(), text: Cow::Borrowed(""), pos };
        self.stack.push(element);
        if empty {
            self.finish_top(depth);
        }
        Ok(())
    }

    fn close(&mut self, qname: &[u8], at: usize) -> Result<(), Error> {
        let depth = self.stack.len();
        let Some(open) = self.stack.last() else {
            let pos = self.lines.pos(self.input, at);
            let qname = String::from_utf8_lossy(qname);
            return Err(Error::Xml {
                pos,
                detail: format!("end tag `</{qname}>` without a matching start tag"),
            });
        };
        let local =
            qname.iter().rposition(|&b| b == b':').map_or(qname, |i| qname.get(i + 1..).unwrap_or_default());
        if local != open.name.as_bytes() {
            let pos = self.lines.pos(self.input, at);
            let qname = String::from_utf8_lossy(qname);
            let detail = format!(
                "end tag `</{qname}>` does not match start tag `{}` opened at {}",
                open.name, open.pos
            );
            match self.mode {
                Mode::Strict => return Err(Error::Xml { pos, detail }),
                Mode::Lenient => {
                    self.repairs.push(Repair { pos: Some(pos), what: format!("{detail}; read as its end") })
                }
            }
        }
        self.finish_top(depth);
        Ok(())
    }

    /// Pops the top element and attaches it to its parent (or makes it the root).
    fn finish_top(&mut self, depth: usize) {
        self.ns.retain(|(d, _, _)| *d < depth);
        if let Some(done) = self.stack.pop() {
            match self.stack.last_mut() {
                Some(parent) => parent.children.push(done),
                None => self.root = Some(done),
            }
        }
    }

    /// True when white space read now would be dropped: outside the root, or before any text of the element.
    fn drops_blank(&self) -> bool {
        self.stack.last().is_none_or(|top| top.text.is_empty())
    }

    fn text(&mut self, text: Cow<'_, str>, at: usize) -> Result<(), Error> {
        let borrowed = match &text {
            Cow::Borrowed(t) => Some(self.borrow(t)),
            Cow::Owned(_) => None,
        };
        match self.stack.last_mut() {
            Some(top) => {
                // Leading white space is never kept (readers trim), and skipping it saves an allocation per
                // indented element.
                if top.text.is_empty() {
                    if !text.bytes().all(|b| b.is_ascii_whitespace()) {
                        top.text = borrowed.unwrap_or_else(|| Cow::Owned(text.into_owned()));
                    }
                } else {
                    top.text.to_mut().push_str(&text);
                }
                Ok(())
            }
            None if text.trim().is_empty() => Ok(()),
            None => Err(self.xml_error(at, "text outside the document element".into())),
        }
    }
}

/// Escapes text for element content or a double-quoted attribute value. White space other than the space is
/// written as character references, so that end-of-line and attribute normalisation cannot change a value on
/// the way back in.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

/// `part` as a slice of `doc` when it lies inside it (compared by address, so no unsafe code and no copy).
pub(crate) fn slice_of<'i>(doc: &'i str, part: &[u8]) -> Option<&'i str> {
    let start = (part.as_ptr() as usize).checked_sub(doc.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    doc.get(start..end).filter(|s| s.as_ptr() == part.as_ptr())
}

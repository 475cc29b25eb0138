//! The NATO STANAG 4774 XML form of a label (namespace `urn:nato:stanag:4774:confidentialitymetadatalabel:1:0`):
//! strict reader, lenient reader with a repair report, and writer.
//!
//! Strict follows ADatP-4774 Ed A: the namespace, the element and attribute names and cardinalities, `@URI` not on
//! `Classification`, `ReviewDateTime` unless `SuccessionHandling`, `CreationDateTime` present, dates as
//! `xs:dateTime`. Lenient accepts the defects common in real files (no or another namespace, names in another
//! case such as `tagName`, `URL=` for `URI=`, `CreationDataTime`, missing dates, unknown elements) and reports
//! each repair with its position. Both refuse anything over the limits in `limits.rs`.

use crate::error::Error;
use crate::format::cx::{Cx, check_ns, child_is, once, unexpected};
use crate::label::{Category, CategoryType, Label, LabelKind, OriginatorId, PolicyId, Succession};
use crate::limits::{LABEL_XML, MAX_CATEGORIES, MAX_VALUES};
use crate::xml::{self, Element, escape};
use crate::{Mode, Repair};

/// The 4774 label namespace. Do not change: it is the wire identity of the format.
pub const NS_LABEL: &str = "urn:nato:stanag:4774:confidentialitymetadatalabel:1:0";

/// How deep `SuccessorConfidentialityLabel` may nest (a successor of a successor).
const MAX_SUCCESSION_DEPTH: usize = 2;

/// Reads a 4774 XML label.
///
/// A clean label is read by the streaming fast path (`nato_stream`); anything else, including every input that
/// is an error or needs a repair, by the tree reader below, which owns every message.
pub(crate) fn parse(input: &[u8], mode: Mode) -> Result<(Label, Vec<Repair>), Error> {
    if let Some(label) = super::nato_stream::parse(input) {
        return Ok((label, Vec::new()));
    }
    parse_tree(input, mode)
}

/// Reads a 4774 XML label through the generic tree reader.
pub(crate) fn parse_tree(input: &[u8], mode: Mode) -> Result<(Label, Vec<Repair>), Error> {
    let (root, mut repairs) = xml::parse(input, LABEL_XML, mode)?;
    let mut cx = Cx::new(mode);
    let kind = match LabelKind::from_element(&root.name) {
        Some(kind) => kind,
        None => match [LabelKind::Originator, LabelKind::Alternative, LabelKind::Metadata, LabelKind::Legacy]
            .into_iter()
            .find(|k| k.element().eq_ignore_ascii_case(&root.name))
        {
            Some(kind) if mode == Mode::Lenient => {
                cx.repair(&root, format!("read element `{}` as `{}`", root.name, kind.element()));
                kind
            }
            _ => {
                return Err(Error::invalid(
                    &root.name,
                    Some(root.pos),
                    "not a 4774 label: expected `originatorConfidentialityLabel`, `alternativeConfidentialityLabel`, \
                     `metadataConfidentialityLabel` or `ConfidentialityLabel`",
                ));
            }
        },
    };
    check_ns(&mut cx, &root, &[NS_LABEL])?;
    let label = read_label_type(&mut cx, &root, kind, 0)?;
    repairs.append(&mut cx.repairs);
    Ok((label, repairs))
}

/// Writes a label as 4774 XML (default namespace, two-space indentation, UTF-8, no XML declaration).
pub(crate) fn write(label: &Label) -> String {
    let mut out = String::with_capacity(512);
    write_label_type(&mut out, label, label.kind.element(), true, 0);
    out
}

pub(crate) fn read_label_type(
    cx: &mut Cx,
    el: &Element,
    kind: LabelKind,
    depth: usize,
) -> Result<Label, Error> {
    let mut info = None;
    let mut originator = None;
    let mut creation = None;
    let mut succession = None;
    for child in &el.children {
        check_ns(cx, child, &[NS_LABEL])?;
        if child_is(cx, child, "ConfidentialityInformation", &[])? {
            once(cx, &mut info, child)?;
        } else if child_is(cx, child, "OriginatorID", &[])? {
            once(cx, &mut originator, child)?;
        } else if child_is(cx, child, "CreationDateTime", &["CreationDataTime", "CreationTime"])? {
            once(cx, &mut creation, child)?;
        } else if child_is(cx, child, "SuccessionHandling", &[])? {
            once(cx, &mut succession, child)?;
        } else {
            unexpected(cx, el, child)?;
        }
    }
    let Some(info) = info else {
        return Err(Error::invalid(
            &el.name,
            Some(el.pos),
            "missing `ConfidentialityInformation`: a label needs a policy and a classification",
        ));
    };
    let mut label = read_info(cx, info, kind)?;
    label.id = cx.attr(el, "Id", &[])?.map(str::to_owned);
    label.review_date_time = cx.attr(el, "ReviewDateTime", &[])?.map(str::trim).map(str::to_owned);
    if let Some(review) = &label.review_date_time {
        check_date(cx, el, "ReviewDateTime", review)?;
    }
    if let Some(o) = originator {
        let id_type = match cx.attr(o, "IDType", &[])? {
            Some(t) => t.to_owned(),
            None => {
                cx.defect(o, "missing attribute `IDType`".into(), "assumed `uniformResourceIdentifier`")?;
                "uniformResourceIdentifier".to_owned()
            }
        };
        label.originator_id = Some(OriginatorId { id_type, value: o.trimmed_text().to_owned() });
    }
    match creation {
        Some(c) => {
            let value = c.trimmed_text().to_owned();
            check_date(cx, c, "CreationDateTime", &value)?;
            label.creation_date_time = Some(value);
        }
        None => cx.defect(el, "missing `CreationDateTime`".into(), "left unset")?,
    }
    if let Some(s) = succession {
        if depth >= MAX_SUCCESSION_DEPTH {
            return Err(Error::Limit {
                what: "succession depth",
                limit: MAX_SUCCESSION_DEPTH,
                pos: Some(s.pos),
            });
        }
        label.succession = Some(read_succession(cx, s, depth)?);
    }
    if label.review_date_time.is_none() && label.succession.is_none() {
        cx.defect(
            el,
            "missing attribute `ReviewDateTime` (required when there is no `SuccessionHandling`)".into(),
            "left unset",
        )?;
    }
    Ok(label)
}

fn read_succession(cx: &mut Cx, el: &Element, depth: usize) -> Result<Succession, Error> {
    let mut date = None;
    let mut successor = None;
    for child in &el.children {
        check_ns(cx, child, &[NS_LABEL])?;
        if child_is(cx, child, "SuccessionDateTime", &[])? {
            once(cx, &mut date, child)?;
        } else if child_is(cx, child, "SuccessorConfidentialityLabel", &[])? {
            once(cx, &mut successor, child)?;
        } else {
            unexpected(cx, el, child)?;
        }
    }
    let (Some(date), Some(successor)) = (date, successor) else {
        return Err(Error::invalid(
            &el.name,
            Some(el.pos),
            "needs `SuccessionDateTime` and `SuccessorConfidentialityLabel`",
        ));
    };
    let date_time = date.trimmed_text().to_owned();
    check_date(cx, date, "SuccessionDateTime", &date_time)?;
    let successor = read_label_type(cx, successor, LabelKind::Originator, depth + 1)?;
    Ok(Succession { date_time, successor: Box::new(successor) })
}

fn read_info(cx: &mut Cx, info: &Element, kind: LabelKind) -> Result<Label, Error> {
    let mut policy = None;
    let mut class = None;
    let mut privacy = None;
    let mut categories = Vec::new();
    for child in &info.children {
        check_ns(cx, child, &[NS_LABEL])?;
        if child_is(cx, child, "PolicyIdentifier", &[])? {
            once(cx, &mut policy, child)?;
        } else if child_is(cx, child, "Classification", &[])? {
            once(cx, &mut class, child)?;
        } else if child_is(cx, child, "PrivacyMark", &[])? {
            once(cx, &mut privacy, child)?;
        } else if child_is(cx, child, "Category", &[])? {
            if categories.len() >= MAX_CATEGORIES {
                return Err(Error::Limit {
                    what: "category count",
                    limit: MAX_CATEGORIES,
                    pos: Some(child.pos),
                });
            }
            if let Some(cat) = read_category(cx, child)? {
                categories.push(cat);
            }
        } else {
            unexpected(cx, info, child)?;
        }
    }
    let Some(policy) = policy else {
        return Err(Error::invalid(
            &info.name,
            Some(info.pos),
            "missing `PolicyIdentifier`: name the security policy, e.g. `NATO`",
        ));
    };
    let Some(class) = class else {
        return Err(Error::invalid(&info.name, Some(info.pos), "missing `Classification`"));
    };
    let name = policy.trimmed_text();
    if name.is_empty() {
        return Err(Error::invalid(
            &policy.name,
            Some(policy.pos),
            "empty policy name: write the policy name, e.g. `NATO`",
        ));
    }
    let uri = cx.attr(policy, "URI", &["URL"])?.map(str::trim).map(str::to_owned);
    let classification = class.trimmed_text();
    if classification.is_empty() {
        return Err(Error::invalid(&class.name, Some(class.pos), "empty classification"));
    }
    if class.attr_ignore_case("URI").is_some() {
        cx.defect(class, "attribute `URI` shall not be used on `Classification`".into(), "ignored")?;
    }
    Ok(Label {
        kind,
        policy: PolicyId { name: name.to_owned(), uri },
        classification: classification.to_owned(),
        privacy_mark: privacy.map(|p| p.trimmed_text().to_owned()),
        categories,
        ..Label::default()
    })
}

pub(crate) fn read_category(cx: &mut Cx, el: &Element) -> Result<Option<Category>, Error> {
    let Some(tag_name) = cx.attr(el, "TagName", &[])? else {
        return Err(Error::invalid(
            &el.name,
            Some(el.pos),
            "missing attribute `TagName`: name the SPIF tag set, e.g. `Releasable To`",
        ));
    };
    let tag_name = tag_name.trim().to_owned();
    let Some(kind_s) = cx.attr(el, "Type", &[])? else {
        return Err(Error::invalid(
            &el.name,
            Some(el.pos),
            format!(
                "category `{tag_name}`: missing attribute `Type` (RESTRICTIVE, PERMISSIVE or INFORMATIVE)"
            ),
        ));
    };
    let kind = match CategoryType::parse(kind_s.trim(), false) {
        Some(k) => k,
        None => match CategoryType::parse(kind_s.trim(), true) {
            Some(k) => {
                cx.defect(
                    el,
                    format!("category type `{kind_s}` should be `{}`", k.as_str()),
                    "read as such",
                )?;
                k
            }
            None => {
                return Err(Error::invalid(
                    &el.name,
                    Some(el.pos),
                    format!(
                        "category `{tag_name}`: unknown type `{kind_s}`: use RESTRICTIVE, PERMISSIVE or INFORMATIVE"
                    ),
                ));
            }
        },
    };
    let uri = cx.attr(el, "URI", &["URL"])?.map(str::trim).map(str::to_owned);
    let mut values = Vec::new();
    for child in &el.children {
        check_ns(cx, child, &[NS_LABEL])?;
        if child_is(cx, child, "GenericValue", &[])? {
            cx.values += 1;
            if cx.values > MAX_VALUES {
                return Err(Error::Limit {
                    what: "category value count",
                    limit: MAX_VALUES,
                    pos: Some(child.pos),
                });
            }
            let v = child.trimmed_text();
            if v.is_empty() {
                cx.defect(child, format!("empty `GenericValue` in category `{tag_name}`"), "ignored")?;
                continue;
            }
            values.push(v.to_owned());
        } else if child.name == "IntegerValue" || child.name == "BitStringValue" {
            return Err(Error::invalid(
                &child.name,
                Some(child.pos),
                format!("`{}` shall not be used: write the value name as a `GenericValue`", child.name),
            ));
        } else {
            unexpected(cx, el, child)?;
        }
    }
    if values.is_empty() {
        cx.defect(el, format!("category `{tag_name}` has no `GenericValue`"), "dropped")?;
        return Ok(None);
    }
    Ok(Some(Category { tag_name, kind, uri, values }))
}

pub(crate) fn check_date(cx: &mut Cx, el: &Element, what: &str, value: &str) -> Result<(), Error> {
    if is_xs_date_time(value) {
        return Ok(());
    }
    cx.defect(
        el,
        format!("`{what}` value `{value}` is not an xs:dateTime such as `2025-01-01T09:00:00Z`"),
        "kept as written",
    )
}

/// `YYYY-MM-DDThh:mm:ss(.s+)?(Z|(+|-)hh:mm)?` — the lexical space of xs:dateTime (years of four digits).
pub(crate) fn is_xs_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(digits(0..4) && at(4, b'-') && digits(5..7) && at(7, b'-') && digits(8..10) && at(10, b'T')) {
        return false;
    }
    if !(digits(11..13) && at(13, b':') && digits(14..16) && at(16, b':') && digits(17..19)) {
        return false;
    }
    let mut i = 19;
    if at(i, b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        None => true,
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            digits(i + 1..i + 3) && at(i + 3, b':') && digits(i + 4..i + 6) && i + 6 == b.len()
        }
        Some(_) => false,
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn write_label_type(out: &mut String, label: &Label, element: &str, root: bool, depth: usize) {
    indent(out, depth);
    out.push('<');
    out.push_str(element);
    if root {
        out.push_str(" xmlns=\"");
        out.push_str(NS_LABEL);
        out.push('"');
    }
    if let Some(id) = &label.id {
        out.push_str(&format!(" Id=\"{}\"", escape(id)));
    }
    if let Some(review) = &label.review_date_time {
        out.push_str(&format!(" ReviewDateTime=\"{}\"", escape(review)));
    }
    out.push_str(">\n");
    indent(out, depth + 1);
    out.push_str("<ConfidentialityInformation>\n");
    indent(out, depth + 2);
    match &label.policy.uri {
        Some(uri) => out.push_str(&format!("<PolicyIdentifier URI=\"{}\">", escape(uri))),
        None => out.push_str("<PolicyIdentifier>"),
    }
    out.push_str(&escape(&label.policy.name));
    out.push_str("</PolicyIdentifier>\n");
    indent(out, depth + 2);
    out.push_str(&format!("<Classification>{}</Classification>\n", escape(&label.classification)));
    if let Some(pm) = &label.privacy_mark {
        indent(out, depth + 2);
        out.push_str(&format!("<PrivacyMark>{}</PrivacyMark>\n", escape(pm)));
    }
    for cat in &label.categories {
        indent(out, depth + 2);
        out.push_str(&format!(
            "<Category TagName=\"{}\" Type=\"{}\"",
            escape(&cat.tag_name),
            cat.kind.as_str()
        ));
        if let Some(uri) = &cat.uri {
            out.push_str(&format!(" URI=\"{}\"", escape(uri)));
        }
        out.push_str(">\n");
        for v in &cat.values {
            indent(out, depth + 3);
            out.push_str(&format!("<GenericValue>{}</GenericValue>\n", escape(v)));
        }
        indent(out, depth + 2);
        out.push_str("</Category>\n");
    }
    indent(out, depth + 1);
    out.push_str("</ConfidentialityInformation>\n");
    if let Some(o) = &label.originator_id {
        indent(out, depth + 1);
        out.push_str(&format!(
            "<OriginatorID IDType=\"{}\">{}</OriginatorID>\n",
            escape(&o.id_type),
            escape(&o.value)
        ));
    }
    if let Some(c) = &label.creation_date_time {
        indent(out, depth + 1);
        out.push_str(&format!("<CreationDateTime>{}</CreationDateTime>\n", escape(c)));
    }
    if let Some(s) = &label.succession {
        indent(out, depth + 1);
        out.push_str("<SuccessionHandling>\n");
        indent(out, depth + 2);
        out.push_str(&format!("<SuccessionDateTime>{}</SuccessionDateTime>\n", escape(&s.date_time)));
        write_label_type(out, &s.successor, "SuccessorConfidentialityLabel", false, depth + 2);
        indent(out, depth + 1);
        out.push_str("</SuccessionHandling>\n");
    }
    indent(out, depth);
    out.push_str(&format!("</{element}>\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times() {
        assert!(is_xs_date_time("2025-01-01T09:00:00Z"));
        assert!(is_xs_date_time("2015-08-02T14:06:20.9873126Z"));
        assert!(is_xs_date_time("2015-08-02T14:06:20+01:00"));
        assert!(is_xs_date_time("2015-08-02T14:06:20"));
        assert!(!is_xs_date_time("2015-08-02 14:06:20"));
        assert!(!is_xs_date_time("2015-08-02T14:06:20.Z"));
        assert!(!is_xs_date_time("2015-08-02T14:06:20Zjunk"));
    }
}

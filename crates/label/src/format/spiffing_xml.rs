//! spiffing's XML label and clearance form (namespace `http://surevine.com/xmlns/spiffy`), used by the
//! spiffing conformance files: references by policy OID, tag set OID and LACV, so reading it needs the SPIF.
//!
//! `<label><policy id=OID/><classification lacv=N/><tag type=T id=OID lacv=N/>*</label>` and
//! `<clearance><policy id=OID/><classification lacv=N/>*<tag …/>*</clearance>`; element text is ignored.

use crate::error::Error;
use crate::limits::{LABEL_XML, MAX_VALUES};
use crate::spif::bind::{RawClearance, RawLabel, RawTag};
use crate::spif::model::TagType;
use crate::xml::{self, Element, escape};
use crate::{Mode, Repair};

/// spiffing's namespace. Do not change: it identifies the form.
pub const NS_SPIFFING: &str = "http://surevine.com/xmlns/spiffy";

/// Reads a spiffing label (`label`) into its numeric form.
pub(crate) fn parse_label(input: &[u8], mode: Mode) -> Result<(RawLabel, Vec<Repair>), Error> {
    let (root, repairs) = xml::parse(input, LABEL_XML, mode)?;
    let (policy_id, classes, tags) = read(&root, "label")?;
    if classes.len() > 1 {
        return Err(Error::invalid("label", Some(root.pos), "more than one `classification`"));
    }
    let privacy_mark = root.child("privacyMark").map(|p| p.trimmed_text().to_owned());
    Ok((RawLabel { policy_id, class_lacv: classes.first().copied(), privacy_mark, tags }, repairs))
}

/// Reads a spiffing clearance (`clearance`) into its numeric form.
pub(crate) fn parse_clearance(input: &[u8], mode: Mode) -> Result<(RawClearance, Vec<Repair>), Error> {
    let (root, repairs) = xml::parse(input, LABEL_XML, mode)?;
    let (policy_id, classes, tags) = read(&root, "clearance")?;
    Ok((RawClearance { policy_id, classes, tags }, repairs))
}

fn attr<'e>(el: &'e Element, name: &str) -> Result<&'e str, Error> {
    el.attr(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::invalid(&el.name, Some(el.pos), format!("missing attribute `{name}`")))
}

fn lacv(el: &Element) -> Result<u64, Error> {
    let v = attr(el, "lacv")?;
    v.parse().map_err(|_| {
        Error::invalid(&el.name, Some(el.pos), format!("`lacv` is `{v}`: expected a non-negative integer"))
    })
}

fn read(root: &Element, what: &str) -> Result<(String, Vec<u64>, Vec<RawTag>), Error> {
    if root.name != what || root.ns.as_deref() != Some(NS_SPIFFING) {
        return Err(Error::invalid(
            &root.name,
            Some(root.pos),
            format!("not a spiffing {what}: expected `{what}` in namespace `{NS_SPIFFING}`"),
        ));
    }
    let mut policy = None;
    let mut classes = Vec::new();
    let mut tags = Vec::new();
    for child in &root.children {
        match &*child.name {
            "policy" if policy.is_none() => policy = Some(attr(child, "id")?.to_owned()),
            "policy" => return Err(Error::invalid("policy", Some(child.pos), "more than one `policy`")),
            "classification" => classes.push(lacv(child)?),
            "privacyMark" if what == "label" => {}
            "tag" => {
                if tags.len() >= MAX_VALUES {
                    return Err(Error::Limit { what: "tag count", limit: MAX_VALUES, pos: Some(child.pos) });
                }
                let t = attr(child, "type")?;
                let Some(kind) = TagType::from_spiffing_name(t) else {
                    return Err(Error::invalid(
                        "tag",
                        Some(child.pos),
                        format!(
                            "unsupported tag type `{t}`: use restrictive, permissive, enumeratedRestrictive, enumeratedPermissive or informative"
                        ),
                    ));
                };
                tags.push(RawTag { tag_set_id: attr(child, "id")?.to_owned(), kind, lacv: lacv(child)? });
            }
            other => {
                return Err(Error::invalid(
                    other,
                    Some(child.pos),
                    format!("unexpected element in `{what}`"),
                ));
            }
        }
    }
    let Some(policy) = policy else {
        return Err(Error::invalid(
            what,
            Some(root.pos),
            "missing `policy`: give the policy OID as `<policy id=\"…\"/>`",
        ));
    };
    Ok((policy, classes, tags))
}

/// Writes a label in spiffing's form.
pub(crate) fn write_label(raw: &RawLabel) -> String {
    let mut out = format!("<label xmlns=\"{NS_SPIFFING}\">\n  <policy id=\"{}\"/>\n", escape(&raw.policy_id));
    if let Some(l) = raw.class_lacv {
        out.push_str(&format!("  <classification lacv=\"{l}\"/>\n"));
    }
    if let Some(pm) = &raw.privacy_mark {
        out.push_str(&format!("  <privacyMark>{}</privacyMark>\n", escape(pm)));
    }
    for t in &raw.tags {
        out.push_str(&format!(
            "  <tag type=\"{}\" id=\"{}\" lacv=\"{}\"/>\n",
            t.kind.spiffing_name(),
            escape(&t.tag_set_id),
            t.lacv
        ));
    }
    out.push_str("</label>\n");
    out
}

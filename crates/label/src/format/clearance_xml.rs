//! The NATO 4774 clearance XML form (namespace `urn:nato:stanag:4774:confidentialityclearance:1:0`): reader
//! (strict or lenient, as for labels) and writer.
//!
//! `ConfidentialityClearance` = `PolicyIdentifier`, `ClassificationList` (`Classification`+), `Category`*. The
//! child elements are accepted in the clearance namespace or in the label namespace (the schema borrows the label
//! types; spiffing writes them in the label namespace, and so does the writer here). The list means exactly the
//! listed levels ([`Levels::Listed`]).

use crate::clearance::{Clearance, Levels};
use crate::error::Error;
use crate::format::cx::{Cx, check_ns, child_is, once, unexpected};
use crate::format::nato_xml::{NS_LABEL, read_category};
use crate::label::PolicyId;
use crate::limits::{LABEL_XML, MAX_CATEGORIES, MAX_VALUES};
use crate::xml::{self, escape};
use crate::{Mode, Repair};

/// The 4774 clearance namespace. Do not change: it is the wire identity of the format.
pub const NS_CLEARANCE: &str = "urn:nato:stanag:4774:confidentialityclearance:1:0";

const BOTH: &[&str] = &[NS_CLEARANCE, NS_LABEL];

/// Reads a 4774 XML clearance.
pub(crate) fn parse(input: &[u8], mode: Mode) -> Result<(Clearance, Vec<Repair>), Error> {
    let (root, mut repairs) = xml::parse(input, LABEL_XML, mode)?;
    let mut cx = Cx::new(mode);
    if !child_is(&mut cx, &root, "ConfidentialityClearance", &[])? {
        return Err(Error::invalid(
            &root.name,
            Some(root.pos),
            "not a 4774 clearance: expected `ConfidentialityClearance`",
        ));
    }
    check_ns(&mut cx, &root, &[NS_CLEARANCE])?;
    let mut policy = None;
    let mut list = None;
    let mut categories = Vec::new();
    for child in &root.children {
        check_ns(&mut cx, child, BOTH)?;
        if child_is(&mut cx, child, "PolicyIdentifier", &[])? {
            once(&mut cx, &mut policy, child)?;
        } else if child_is(&mut cx, child, "ClassificationList", &[])? {
            once(&mut cx, &mut list, child)?;
        } else if child_is(&mut cx, child, "Category", &[])? {
            if categories.len() >= MAX_CATEGORIES {
                return Err(Error::Limit {
                    what: "category count",
                    limit: MAX_CATEGORIES,
                    pos: Some(child.pos),
                });
            }
            if let Some(cat) = read_category(&mut cx, child)? {
                categories.push(cat);
            }
        } else {
            unexpected(&mut cx, &root, child)?;
        }
    }
    let Some(policy) = policy else {
        return Err(Error::invalid(
            &root.name,
            Some(root.pos),
            "missing `PolicyIdentifier`: name the security policy, e.g. `NATO`",
        ));
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
    let Some(list) = list else {
        return Err(Error::invalid(
            &root.name,
            Some(root.pos),
            "missing `ClassificationList`: list every classification the holder is cleared for",
        ));
    };
    let mut classifications = Vec::new();
    for c in &list.children {
        check_ns(&mut cx, c, BOTH)?;
        if child_is(&mut cx, c, "Classification", &[])? {
            cx.values += 1;
            if cx.values > MAX_VALUES {
                return Err(Error::Limit {
                    what: "classification count",
                    limit: MAX_VALUES,
                    pos: Some(c.pos),
                });
            }
            let v = c.trimmed_text();
            if v.is_empty() {
                cx.defect(c, "empty `Classification`".into(), "ignored")?;
            } else {
                classifications.push(v.to_owned());
            }
        } else {
            unexpected(&mut cx, list, c)?;
        }
    }
    if classifications.is_empty() {
        return Err(Error::invalid(
            &list.name,
            Some(list.pos),
            "no `Classification`: a clearance lists at least one",
        ));
    }
    repairs.append(&mut cx.repairs);
    let clearance = Clearance {
        policy: PolicyId { name: name.to_owned(), uri },
        classifications,
        levels: Levels::Listed,
        categories,
    };
    Ok((clearance, repairs))
}

/// Writes a clearance as 4774 clearance XML. A [`Levels::Dominance`] clearance must be expanded by the SPIF first
/// (`Spif::expand_levels`): this form can only say "exactly these levels".
pub(crate) fn write(clearance: &Clearance) -> String {
    let mut out = String::with_capacity(512);
    out.push_str(&format!("<ConfidentialityClearance xmlns=\"{NS_CLEARANCE}\" xmlns:slab=\"{NS_LABEL}\">\n"));
    match &clearance.policy.uri {
        Some(uri) => out.push_str(&format!("  <slab:PolicyIdentifier URI=\"{}\">", escape(uri))),
        None => out.push_str("  <slab:PolicyIdentifier>"),
    }
    out.push_str(&escape(&clearance.policy.name));
    out.push_str("</slab:PolicyIdentifier>\n  <ClassificationList>\n");
    for c in &clearance.classifications {
        out.push_str(&format!("    <slab:Classification>{}</slab:Classification>\n", escape(c)));
    }
    out.push_str("  </ClassificationList>\n");
    for cat in &clearance.categories {
        out.push_str(&format!(
            "  <slab:Category TagName=\"{}\" Type=\"{}\"",
            escape(&cat.tag_name),
            cat.kind.as_str()
        ));
        if let Some(uri) = &cat.uri {
            out.push_str(&format!(" URI=\"{}\"", escape(uri)));
        }
        out.push_str(">\n");
        for v in &cat.values {
            out.push_str(&format!("    <slab:GenericValue>{}</slab:GenericValue>\n", escape(v)));
        }
        out.push_str("  </slab:Category>\n");
    }
    out.push_str("</ConfidentialityClearance>\n");
    out
}

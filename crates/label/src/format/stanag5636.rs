//! The STANAG 5636 JSON rendering a ZTDF assertion may carry (format `json+stanag5636`, schema
//! `urn:nato:stanag:5636:A:1:elements:json`):
//! `{"ocl":{"pol":…,"cls":…,"catl":[{"type":"P","name":"Releasable To","vals":[…]}],"dcr":…},"context":{"@base":…}}`.
//!
//! `pol` is the policy identifier as text (name, or `urn:oid:` URI), `cls` the classification, `catl` the
//! categories (`type` `P`, `R` or `I`), `dcr` the creation date-time. It carries no review date, privacy mark
//! or originator: writing drops them (the form is lossy; keep the XML form where those matter). Unknown fields
//! are ignored on reading (this form is produced by other implementations).

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::format::json::{check_size, kind_letter, kind_of_letter};
use crate::label::{Category, Label, PolicyId};
use crate::limits::{MAX_CATEGORIES, MAX_VALUES};

/// `context/@base`. Do not change: it identifies the form.
pub const BASE_5636: &str = "urn:nato:stanag:5636:A:1:elements:json";

#[derive(Serialize, Deserialize)]
struct Cat {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    vals: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Ocl {
    pol: String,
    cls: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    catl: Vec<Cat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dcr: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Context {
    #[serde(rename = "@base")]
    base: String,
}

#[derive(Serialize, Deserialize)]
struct Doc {
    ocl: Ocl,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    context: Option<Context>,
}

fn err(detail: impl Into<String>) -> Error {
    Error::Json { form: "STANAG 5636", detail: detail.into() }
}

pub(crate) fn parse(input: &str) -> Result<Label, Error> {
    check_size(input, "STANAG 5636")?;
    let d: Doc = serde_json::from_str(input).map_err(|e| err(e.to_string()))?;
    if let Some(c) = &d.context
        && c.base != BASE_5636
    {
        return Err(err(format!("context `@base` is `{}`, expected `{BASE_5636}`", c.base)));
    }
    if d.ocl.catl.len() > MAX_CATEGORIES
        || d.ocl.catl.iter().map(|c| c.vals.len()).sum::<usize>() > MAX_VALUES
    {
        return Err(Error::Limit { what: "category count", limit: MAX_CATEGORIES, pos: None });
    }
    let categories = d
        .ocl
        .catl
        .into_iter()
        .map(|c| {
            let kind = kind_of_letter(&c.kind)
                .ok_or_else(|| err(format!("category `{}` has type `{}`: use P, R or I", c.name, c.kind)))?;
            if c.vals.is_empty() {
                return Err(err(format!("category `{}` has no value", c.name)));
            }
            Ok(Category { tag_name: c.name, kind, uri: None, values: c.vals })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let policy = match d.ocl.pol.strip_prefix("urn:oid:") {
        Some(_) => PolicyId { name: d.ocl.pol.clone(), uri: Some(d.ocl.pol) },
        None => PolicyId { name: d.ocl.pol, uri: None },
    };
    if policy.name.trim().is_empty() || d.ocl.cls.trim().is_empty() {
        return Err(err("`pol` and `cls` must not be empty"));
    }
    Ok(Label {
        policy,
        classification: d.ocl.cls,
        categories,
        creation_date_time: d.ocl.dcr,
        ..Label::default()
    })
}

pub(crate) fn write(label: &Label) -> Result<String, Error> {
    let d = Doc {
        ocl: Ocl {
            pol: label.policy.name.clone(),
            cls: label.classification.clone(),
            catl: label
                .categories
                .iter()
                .map(|c| Cat {
                    kind: kind_letter(c.kind).to_owned(),
                    name: c.tag_name.clone(),
                    vals: c.values.clone(),
                })
                .collect(),
            dcr: label.creation_date_time.clone(),
        },
        context: Some(Context { base: BASE_5636.to_owned() }),
    };
    serde_json::to_string(&d).map_err(|e| err(e.to_string()))
}

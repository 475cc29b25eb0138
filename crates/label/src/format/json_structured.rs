//! The `json-structured` JSON rendering of a 4774 label used by the ZTDF specification's example:
//! `{"Xmlns":"urn:nato:stanag:4774:confidentialitymetadatalabel:1:0","CreationTime":…,
//! "ConfidentialityInformation":{"PolicyIdentifier":"NATO","Classification":"SECRET",
//! "Category":{"Type":"PERMISSIVE","TagName":"Releasable To","GenericValues":["FRA"]}}}`.
//!
//! `Category` is an object for one category and an array otherwise (both are read). Optional extras, written
//! when present: `ReviewDateTime`, `ConfidentialityInformation.PrivacyMark`, `ConfidentialityInformation.PolicyURI`.
//! Type names are read ignoring case. Unknown fields are ignored on reading.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::format::json::check_size;
use crate::format::nato_xml::NS_LABEL;
use crate::label::{Category, CategoryType, Label, PolicyId};
use crate::limits::{MAX_CATEGORIES, MAX_VALUES};

#[derive(Serialize, Deserialize)]
struct Cat {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "TagName")]
    tag_name: String,
    #[serde(rename = "GenericValues")]
    values: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Cats {
    One(Cat),
    Many(Vec<Cat>),
}

#[derive(Serialize, Deserialize)]
struct Info {
    #[serde(rename = "PolicyIdentifier")]
    policy: String,
    #[serde(rename = "PolicyURI", default, skip_serializing_if = "Option::is_none")]
    policy_uri: Option<String>,
    #[serde(rename = "Classification")]
    classification: String,
    #[serde(rename = "PrivacyMark", default, skip_serializing_if = "Option::is_none")]
    privacy_mark: Option<String>,
    #[serde(rename = "Category", default, skip_serializing_if = "Option::is_none")]
    category: Option<Cats>,
}

#[derive(Serialize, Deserialize)]
struct Doc {
    #[serde(rename = "Xmlns", default, skip_serializing_if = "Option::is_none")]
    xmlns: Option<String>,
    #[serde(rename = "CreationTime", default, skip_serializing_if = "Option::is_none")]
    creation: Option<String>,
    #[serde(rename = "ReviewDateTime", default, skip_serializing_if = "Option::is_none")]
    review: Option<String>,
    #[serde(rename = "ConfidentialityInformation")]
    info: Info,
}

fn err(detail: impl Into<String>) -> Error {
    Error::Json { form: "json-structured 4774", detail: detail.into() }
}

pub(crate) fn parse(input: &str) -> Result<Label, Error> {
    check_size(input, "json-structured")?;
    let d: Doc = serde_json::from_str(input).map_err(|e| err(e.to_string()))?;
    if let Some(ns) = &d.xmlns
        && ns != NS_LABEL
    {
        return Err(err(format!("`Xmlns` is `{ns}`, expected `{NS_LABEL}`")));
    }
    let cats = match d.info.category {
        None => Vec::new(),
        Some(Cats::One(c)) => vec![c],
        Some(Cats::Many(v)) => v,
    };
    if cats.len() > MAX_CATEGORIES || cats.iter().map(|c| c.values.len()).sum::<usize>() > MAX_VALUES {
        return Err(Error::Limit { what: "category count", limit: MAX_CATEGORIES, pos: None });
    }
    let categories = cats
        .into_iter()
        .map(|c| {
            let kind = CategoryType::parse(&c.kind, true).ok_or_else(|| {
                err(format!(
                    "category `{}` has type `{}`: use RESTRICTIVE, PERMISSIVE or INFORMATIVE",
                    c.tag_name, c.kind
                ))
            })?;
            if c.values.is_empty() {
                return Err(err(format!("category `{}` has no value", c.tag_name)));
            }
            Ok(Category { tag_name: c.tag_name, kind, uri: None, values: c.values })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if d.info.policy.trim().is_empty() || d.info.classification.trim().is_empty() {
        return Err(err("`PolicyIdentifier` and `Classification` must not be empty"));
    }
    Ok(Label {
        policy: PolicyId { name: d.info.policy, uri: d.info.policy_uri },
        classification: d.info.classification,
        privacy_mark: d.info.privacy_mark,
        categories,
        creation_date_time: d.creation,
        review_date_time: d.review,
        ..Label::default()
    })
}

pub(crate) fn write(label: &Label) -> Result<String, Error> {
    let mut cats: Vec<Cat> = label
        .categories
        .iter()
        .map(|c| Cat {
            kind: c.kind.as_str().to_owned(),
            tag_name: c.tag_name.clone(),
            values: c.values.clone(),
        })
        .collect();
    let category = match cats.len() {
        0 => None,
        1 => cats.pop().map(Cats::One),
        _ => Some(Cats::Many(cats)),
    };
    let d = Doc {
        xmlns: Some(NS_LABEL.to_owned()),
        creation: label.creation_date_time.clone(),
        review: label.review_date_time.clone(),
        info: Info {
            policy: label.policy.name.clone(),
            policy_uri: label.policy.uri.clone(),
            classification: label.classification.clone(),
            privacy_mark: label.privacy_mark.clone(),
            category,
        },
    };
    serde_json::to_string(&d).map_err(|e| err(e.to_string()))
}

//! Redoubt's compact JSON form of labels and clearances, for HTTP headers and token claims. Versioned (`v`: 1)
//! from day one; unknown fields are refused so that a typo is never read as "no restriction".
//!
//! Label: `{"v":1,"pol":"NATO","puri":"urn:oid:1.3.26.1.3.1","cls":"SECRET","cats":[{"t":"Releasable To",
//! "k":"P","v":["FRA","ITA"]}]}` with optional `pm` (privacy mark), `kind` (`originator` (default), `alternative`,
//! `metadata`, `legacy`), `id`, `rev` (ReviewDateTime), `cre` (CreationDateTime), `orig` (`{"t":IDType,"v":id}`),
//! and per category an optional `u` (URI). `k` is `R`, `P` or `I`.
//! Clearance: `{"v":1,"pol":"NATO","puri":…,"cls":["UNCLASSIFIED","SECRET"],"lvl":"listed","cats":[…]}` where
//! `lvl` is `listed` (default: exactly these levels) or `dominance` (these and every lower level).
//! `SuccessionHandling` has no compact form: writing a label that has one is an error (use the XML form).

use serde::{Deserialize, Serialize};

use crate::clearance::{Clearance, Levels};
use crate::error::Error;
use crate::label::{Category, CategoryType, Label, LabelKind, OriginatorId, PolicyId};
use crate::limits::{MAX_CATEGORIES, MAX_LABEL_BYTES, MAX_VALUES};

/// Version of the compact form. Do not change without a new reader for the old one.
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JCat {
    t: String,
    k: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    u: Option<String>,
    v: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JOrig {
    t: String,
    v: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JLabel {
    v: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    pol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    puri: Option<String>,
    cls: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pm: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    cats: Vec<JCat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    orig: Option<JOrig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cre: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rev: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JClearance {
    v: u32,
    pol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    puri: Option<String>,
    cls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lvl: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    cats: Vec<JCat>,
}

fn err(detail: impl Into<String>) -> Error {
    Error::Json { form: "compact", detail: detail.into() }
}

pub(crate) fn kind_letter(k: CategoryType) -> &'static str {
    match k {
        CategoryType::Restrictive => "R",
        CategoryType::Permissive => "P",
        CategoryType::Informative => "I",
    }
}

pub(crate) fn kind_of_letter(s: &str) -> Option<CategoryType> {
    match s {
        "R" => Some(CategoryType::Restrictive),
        "P" => Some(CategoryType::Permissive),
        "I" => Some(CategoryType::Informative),
        _ => None,
    }
}

fn cats_in(cats: Vec<JCat>) -> Result<Vec<Category>, Error> {
    if cats.len() > MAX_CATEGORIES {
        return Err(Error::Limit { what: "category count", limit: MAX_CATEGORIES, pos: None });
    }
    if cats.iter().map(|c| c.v.len()).sum::<usize>() > MAX_VALUES {
        return Err(Error::Limit { what: "category value count", limit: MAX_VALUES, pos: None });
    }
    cats.into_iter()
        .map(|c| {
            let kind = kind_of_letter(&c.k)
                .ok_or_else(|| err(format!("category `{}` has type `{}`: use R, P or I", c.t, c.k)))?;
            if c.v.is_empty() || c.v.iter().any(|v| v.trim().is_empty()) {
                return Err(err(format!("category `{}` needs at least one non-empty value", c.t)));
            }
            Ok(Category { tag_name: c.t, kind, uri: c.u, values: c.v })
        })
        .collect()
}

fn cats_out(cats: &[Category]) -> Vec<JCat> {
    cats.iter()
        .map(|c| JCat {
            t: c.tag_name.clone(),
            k: kind_letter(c.kind).to_owned(),
            u: c.uri.clone(),
            v: c.values.clone(),
        })
        .collect()
}

pub(crate) fn check_size(input: &str, form: &'static str) -> Result<(), Error> {
    if input.trim().is_empty() {
        return Err(Error::Empty);
    }
    if input.len() > MAX_LABEL_BYTES {
        return Err(Error::TooLarge { size: input.len(), limit: MAX_LABEL_BYTES });
    }
    let _ = form;
    Ok(())
}

fn kind_name(k: LabelKind) -> &'static str {
    match k {
        LabelKind::Originator => "originator",
        LabelKind::Alternative => "alternative",
        LabelKind::Metadata => "metadata",
        LabelKind::Legacy => "legacy",
    }
}

pub(crate) fn parse_label(input: &str) -> Result<Label, Error> {
    check_size(input, "compact")?;
    let j: JLabel = serde_json::from_str(input).map_err(|e| err(e.to_string()))?;
    if j.v != VERSION {
        return Err(err(format!("version {} is not supported: this reader reads version {VERSION}", j.v)));
    }
    let kind = match j.kind.as_deref() {
        None | Some("originator") => LabelKind::Originator,
        Some("alternative") => LabelKind::Alternative,
        Some("metadata") => LabelKind::Metadata,
        Some("legacy") => LabelKind::Legacy,
        Some(other) => {
            return Err(err(format!("`kind` is `{other}`: use originator, alternative, metadata or legacy")));
        }
    };
    if j.pol.trim().is_empty() || j.cls.trim().is_empty() {
        return Err(err("`pol` and `cls` must not be empty"));
    }
    Ok(Label {
        kind,
        id: j.id,
        review_date_time: j.rev,
        policy: PolicyId { name: j.pol, uri: j.puri },
        classification: j.cls,
        privacy_mark: j.pm,
        categories: cats_in(j.cats)?,
        originator_id: j.orig.map(|o| OriginatorId { id_type: o.t, value: o.v }),
        creation_date_time: j.cre,
        succession: None,
    })
}

pub(crate) fn write_label(label: &Label) -> Result<String, Error> {
    if label.succession.is_some() {
        return Err(err("a label with SuccessionHandling has no compact form: use the 4774 XML form"));
    }
    let j = JLabel {
        v: VERSION,
        kind: (label.kind != LabelKind::Originator).then(|| kind_name(label.kind).to_owned()),
        id: label.id.clone(),
        pol: label.policy.name.clone(),
        puri: label.policy.uri.clone(),
        cls: label.classification.clone(),
        pm: label.privacy_mark.clone(),
        cats: cats_out(&label.categories),
        orig: label.originator_id.as_ref().map(|o| JOrig { t: o.id_type.clone(), v: o.value.clone() }),
        cre: label.creation_date_time.clone(),
        rev: label.review_date_time.clone(),
    };
    serde_json::to_string(&j).map_err(|e| err(e.to_string()))
}

pub(crate) fn parse_clearance(input: &str) -> Result<Clearance, Error> {
    check_size(input, "compact")?;
    let j: JClearance = serde_json::from_str(input).map_err(|e| err(e.to_string()))?;
    if j.v != VERSION {
        return Err(err(format!("version {} is not supported: this reader reads version {VERSION}", j.v)));
    }
    let levels = match j.lvl.as_deref() {
        None | Some("listed") => Levels::Listed,
        Some("dominance") => Levels::Dominance,
        Some(other) => return Err(err(format!("`lvl` is `{other}`: use listed or dominance"))),
    };
    if j.cls.is_empty() || j.cls.len() > MAX_VALUES {
        return Err(err("`cls` must list between 1 and 4096 classifications"));
    }
    Ok(Clearance {
        policy: PolicyId { name: j.pol, uri: j.puri },
        classifications: j.cls,
        levels,
        categories: cats_in(j.cats)?,
    })
}

pub(crate) fn write_clearance(c: &Clearance) -> Result<String, Error> {
    let j = JClearance {
        v: VERSION,
        pol: c.policy.name.clone(),
        puri: c.policy.uri.clone(),
        cls: c.classifications.clone(),
        lvl: (c.levels == Levels::Dominance).then(|| c.levels.as_str().to_owned()),
        cats: cats_out(&c.categories),
    };
    serde_json::to_string(&j).map_err(|e| err(e.to_string()))
}

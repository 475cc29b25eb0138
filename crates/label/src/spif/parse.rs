//! Reads Open XML SPIF (schema 2.0/2.1, namespace `http://www.xmlspif.org/spif`) into the compiled model.
//!
//! Every reference is resolved here, once: excluded classes, required and excluded categories (against this
//! policy), equivalent-policy names to ids. Invariants the format states but does not enforce are checked and
//! refused with the element's position: duplicate LACVs or names, duplicate excluded classes, references to
//! undefined classifications, tag sets, categories or equivalent policies. Requirements attached to an equivalence
//! refer to the *target* policy and stay unresolved until a translation.

use crate::error::Error;
use crate::spif::marking::{Markings, Phrase, Qualifier, QualifierCode, code_bits};
use crate::spif::model::{
    Cat, Class, Data, EquivCat, EquivClass, EquivPolicy, Group, Op, RawData, RawGroup, Tag, TagSet, TagType,
};
use crate::spif::{Spif, Tables};
use crate::xml::{self, Element};
use crate::{Mode, Repair, limits};

/// The SPIF namespace. Do not change: it is the wire identity of the format.
pub const NS_SPIF: &str = "http://www.xmlspif.org/spif";

pub(crate) fn parse(input: &[u8], mode: Mode) -> Result<(Spif, Vec<Repair>), Error> {
    let (root, mut repairs) = xml::parse(input, limits::SPIF_XML, mode)?;
    if root.name != "SPIF" {
        return Err(Error::invalid(
            &root.name,
            Some(root.pos),
            "not a SPIF: the document element must be `SPIF`",
        ));
    }
    match root.ns.as_deref() {
        Some(NS_SPIF) => {}
        other => {
            let problem = match other {
                None => format!("element `SPIF` has no namespace (expected `{NS_SPIF}`)"),
                Some(ns) => format!("element `SPIF` is in namespace `{ns}`, expected `{NS_SPIF}`"),
            };
            match mode {
                Mode::Strict => return Err(Error::invalid("SPIF", Some(root.pos), problem)),
                Mode::Lenient => {
                    repairs.push(Repair { pos: Some(root.pos), what: format!("{problem}; accepted") })
                }
            }
        }
    }
    let Some(pid) = root.child("securityPolicyId") else {
        return Err(Error::invalid(
            "SPIF",
            Some(root.pos),
            "missing `securityPolicyId`: the policy needs a name and an id",
        ));
    };
    let name = req_attr(pid, "name")?.to_owned();
    let oid = req_attr(pid, "id")?.to_owned();

    let mut equivalents = Vec::new();
    if let Some(eps) = root.child("equivalentPolicies") {
        for ep in eps.children_named("equivalentPolicy") {
            let required =
                ep.children_named("requiredCategory").map(raw_group).collect::<Result<Vec<_>, _>>()?;
            let e = EquivPolicy {
                name: req_attr(ep, "name")?.to_owned(),
                id: req_attr(ep, "id")?.to_owned(),
                required,
            };
            if equivalents.iter().any(|o: &EquivPolicy| o.name == e.name) {
                return Err(spif_at(ep, format!("duplicate equivalent policy name `{}`", e.name)));
            }
            equivalents.push(e);
        }
    }
    let policy_ref = |el: &Element| -> Result<String, Error> {
        let r = req_attr(el, "policyRef")?;
        equivalents.iter().find(|e| e.name == r).map(|e| e.id.clone()).ok_or_else(|| {
            spif_at(
                el,
                format!("policyRef `{r}` is not declared in `equivalentPolicies`: declare it with its id"),
            )
        })
    };

    // Classifications (their category requirements are resolved once the tag sets are known).
    let Some(classes_el) = root.child("securityClassifications") else {
        return Err(Error::invalid(
            "SPIF",
            Some(root.pos),
            "missing `securityClassifications`: a policy needs at least one classification",
        ));
    };
    let mut classes = Vec::new();
    let mut class_reqs = Vec::new();
    for c in classes_el.children_named("securityClassification") {
        let cname = req_attr(c, "name")?.to_owned();
        let lacv = lacv_attr(c, "lacv")?;
        let hierarchy = number(c, "hierarchy", req_attr(c, "hierarchy")?)?;
        if classes.iter().any(|o: &Class| o.lacv == lacv) {
            return Err(spif_at(c, format!("duplicate classification LACV {lacv} (`{cname}`)")));
        }
        if classes.iter().any(|o: &Class| o.name.eq_ignore_ascii_case(&cname)) {
            return Err(spif_at(c, format!("duplicate classification name `{cname}`")));
        }
        let mut equivs = Vec::new();
        for e in c.children_named("equivalentClassification") {
            let applied = req_attr(e, "applied")?;
            // `decrypt`-only equivalences describe the reverse direction, which the target policy's SPIF owns.
            let encrypt = match applied {
                "encrypt" | "both" => true,
                "decrypt" => false,
                other => {
                    return Err(spif_at(e, format!("`applied` is `{other}`: use encrypt, decrypt or both")));
                }
            };
            let required =
                e.children_named("requiredCategory").map(raw_group).collect::<Result<Vec<_>, _>>()?;
            equivs.push(EquivClass {
                policy_id: policy_ref(e)?,
                lacv: lacv_attr(e, "lacv")?,
                required,
                encrypt,
            });
        }
        class_reqs.push(c.children_named("requiredCategory").map(raw_group).collect::<Result<Vec<_>, _>>()?);
        classes.push(Class {
            name: cname,
            lacv,
            hierarchy,
            color: c.attr("color").map(str::to_owned),
            obsolete: c.attr("obsolete") == Some("true"),
            required: Vec::new(),
            equivs,
            markings: markings(c)?,
        });
    }
    if classes.is_empty() {
        return Err(Error::invalid(
            "securityClassifications",
            Some(classes_el.pos),
            "no `securityClassification`: define at least one",
        ));
    }

    // Tag sets, tags and categories, in document order.
    let mut tag_sets = Vec::new();
    let mut tags = Vec::new();
    let mut cats: Vec<Cat> = Vec::new();
    let mut cat_raw = Vec::new();
    if let Some(sets) = root.child("securityCategoryTagSets") {
        for ts in sets.children_named("securityCategoryTagSet") {
            let ts_idx = tag_sets.len();
            let set = TagSet {
                name: req_attr(ts, "name")?.to_owned(),
                id: req_attr(ts, "id")?.to_owned(),
                markings: markings(ts)?,
            };
            if tag_sets.iter().any(|o: &TagSet| o.id == set.id) {
                return Err(spif_at(ts, format!("duplicate tag set id `{}`", set.id)));
            }
            if tag_sets.iter().any(|o: &TagSet| o.name.eq_ignore_ascii_case(&set.name)) {
                return Err(spif_at(ts, format!("duplicate tag set name `{}`", set.name)));
            }
            tag_sets.push(set);
            for t in ts.children_named("securityCategoryTag") {
                let tag_idx = tags.len();
                let kind = tag_type(t)?;
                tags.push(Tag {
                    name: req_attr(t, "name")?.to_owned(),
                    single: t.attr("singleSelection") == Some("true"),
                    markings: markings(t)?,
                });
                for tc in t.children_named("tagCategory") {
                    let cname = req_attr(tc, "name")?.to_owned();
                    let lacv = lacv_attr(tc, "lacv")?;
                    let ctype = kind.category_type();
                    if let Some(o) =
                        cats.iter().find(|o| o.tag_set == ts_idx && o.kind == kind && o.lacv == lacv)
                    {
                        return Err(spif_at(
                            tc,
                            format!(
                                "duplicate LACV {lacv} in tag set `{}` (`{}` and `{cname}`)",
                                tag_sets.get(ts_idx).map_or("", |s| s.name.as_str()),
                                o.name
                            ),
                        ));
                    }
                    if let Some(o) = cats.iter().find(|o| {
                        o.tag_set == ts_idx
                            && o.kind.category_type() == ctype
                            && o.name.eq_ignore_ascii_case(&cname)
                    }) {
                        return Err(spif_at(
                            tc,
                            format!(
                                "duplicate {} value name `{cname}` in tag set (LACVs {} and {lacv})",
                                ctype.as_str().to_ascii_lowercase(),
                                o.lacv
                            ),
                        ));
                    }
                    let mut excluded_classes = Vec::new();
                    for ex in tc.children_named("excludedClass") {
                        let cn = ex.trimmed_text();
                        if cn.is_empty() {
                            return Err(spif_at(ex, "empty `excludedClass`".into()));
                        }
                        let Some(ci) = classes.iter().position(|c| c.name == cn) else {
                            return Err(spif_at(
                                ex,
                                format!(
                                    "unknown classification `{cn}` in `excludedClass` of category `{cname}`"
                                ),
                            ));
                        };
                        if excluded_classes.contains(&ci) {
                            return Err(spif_at(
                                ex,
                                format!(
                                    "duplicate excluded classification in category: `{cn}` is listed twice in `{cname}`"
                                ),
                            ));
                        }
                        excluded_classes.push(ci);
                    }
                    let mut equivs = Vec::new();
                    for e in tc.children_named("equivalentSecCategoryTag") {
                        let policy_id = policy_ref(e)?;
                        match e.attr("applied") {
                            None | Some("encrypt" | "both") => {}
                            Some("decrypt") => continue,
                            Some(other) => {
                                return Err(spif_at(
                                    e,
                                    format!("`applied` is `{other}`: use encrypt, decrypt or both"),
                                ));
                            }
                        }
                        let target = if e.attr("action") == Some("discard") {
                            None
                        } else {
                            Some((req_attr(e, "tagSetId")?.to_owned(), tag_type(e)?, lacv_attr(e, "lacv")?))
                        };
                        equivs.push(EquivCat { policy_id, target });
                    }
                    let required = tc
                        .children_named("requiredCategory")
                        .map(raw_group)
                        .collect::<Result<Vec<_>, _>>()?;
                    let excluded =
                        tc.children_named("excludedCategory").map(raw_data).collect::<Result<Vec<_>, _>>()?;
                    cat_raw.push((required, excluded, tc.pos));
                    cats.push(Cat {
                        tag: tag_idx,
                        tag_set: ts_idx,
                        kind,
                        name: cname,
                        lacv,
                        obsolete: tc.attr("obsolete") == Some("true"),
                        excluded_classes,
                        excluded: Vec::new(),
                        required: Vec::new(),
                        equivs,
                        markings: markings(tc)?,
                    });
                }
            }
        }
    }

    let mut spif = Spif {
        uid: crate::spif::next_uid(),
        name,
        oid,
        classes,
        tag_sets,
        tags,
        cats,
        equivalents,
        markings: markings(&root)?,
        tables: Tables::default(),
    };
    spif.tables = Tables::build(&spif);
    // Resolve the category rules against this policy.
    let mut resolved_classes = Vec::with_capacity(class_reqs.len());
    for reqs in &class_reqs {
        resolved_classes.push(reqs.iter().map(|g| spif.resolve_group(g)).collect::<Result<Vec<_>, _>>()?);
    }
    for (class, reqs) in spif.classes.iter_mut().zip(resolved_classes) {
        class.required = reqs;
    }
    let mut resolved_cats = Vec::with_capacity(cat_raw.len());
    for (required, excluded, pos) in &cat_raw {
        let req = required.iter().map(|g| spif.resolve_group(g)).collect::<Result<Vec<_>, _>>();
        let exc = excluded.iter().map(|d| spif.resolve_data(d)).collect::<Result<Vec<_>, _>>();
        match (req, exc) {
            (Ok(r), Ok(e)) => resolved_cats.push((r, e)),
            (Err(err), _) | (_, Err(err)) => return Err(Error::Spif(format!("{pos}: {}", strip(&err)))),
        }
    }
    for (cat, (req, exc)) in spif.cats.iter_mut().zip(resolved_cats) {
        cat.required = req;
        cat.excluded = exc;
    }
    Ok((spif, repairs))
}

fn strip(err: &Error) -> String {
    match err {
        Error::Spif(s) => s.clone(),
        other => other.to_string(),
    }
}

fn spif_at(el: &Element, msg: String) -> Error {
    Error::Spif(format!("{}: {msg}", el.pos))
}

fn req_attr<'e>(el: &'e Element, name: &str) -> Result<&'e str, Error> {
    match el.attr(name) {
        Some(v) if !v.trim().is_empty() => Ok(v.trim()),
        _ => Err(Error::invalid(&el.name, Some(el.pos), format!("missing or empty attribute `{name}`"))),
    }
}

fn number(el: &Element, name: &str, v: &str) -> Result<u64, Error> {
    v.trim().parse::<u64>().map_err(|_| {
        Error::invalid(
            &el.name,
            Some(el.pos),
            format!("attribute `{name}` is `{v}`: expected a non-negative integer"),
        )
    })
}

fn lacv_attr(el: &Element, name: &str) -> Result<u64, Error> {
    number(el, name, req_attr(el, name)?)
}

fn tag_type(el: &Element) -> Result<TagType, Error> {
    match req_attr(el, "tagType")? {
        "restrictive" => Ok(TagType::Restrictive),
        "permissive" => Ok(TagType::Permissive),
        "tagType7" => Ok(TagType::Informative),
        "enumerated" => match req_attr(el, "enumType")? {
            "permissive" => Ok(TagType::EnumPermissive),
            "restrictive" => Ok(TagType::EnumRestrictive),
            other => Err(Error::invalid(
                &el.name,
                Some(el.pos),
                format!("`enumType` is `{other}`: use permissive or restrictive"),
            )),
        },
        other => Err(Error::invalid(
            &el.name,
            Some(el.pos),
            format!("`tagType` is `{other}`: use restrictive, permissive, enumerated or tagType7"),
        )),
    }
}

/// A `categoryGroup` or `excludedCategory`: without `lacv` (or with `all="true"`) it means every value of that
/// tag type in the tag set.
fn raw_data(el: &Element) -> Result<RawData, Error> {
    let tag_set = req_attr(el, "tagSetRef")?.to_owned();
    let kind = tag_type(el)?;
    let lacv = match el.attr("lacv") {
        Some(v) if !v.trim().is_empty() => Some(number(el, "lacv", v)?),
        _ => None,
    };
    Ok(RawData { tag_set, kind, lacv })
}

fn raw_group(el: &Element) -> Result<RawGroup, Error> {
    let op = match req_attr(el, "operation")? {
        "onlyOne" => Op::OnlyOne,
        "oneOrMore" => Op::OneOrMore,
        "all" => Op::All,
        other => {
            return Err(Error::invalid(
                &el.name,
                Some(el.pos),
                format!("`operation` is `{other}`: use onlyOne, oneOrMore or all"),
            ));
        }
    };
    let members = el.children_named("categoryGroup").map(raw_data).collect::<Result<Vec<_>, _>>()?;
    if members.is_empty() {
        return Err(Error::invalid(&el.name, Some(el.pos), "no `categoryGroup`"));
    }
    Ok(RawGroup { op, members })
}

fn lang(el: &Element) -> String {
    el.attr("xml:lang").unwrap_or_default().to_owned()
}

/// The `markingQualifier` and `markingData` children of `holder`.
fn markings(holder: &Element) -> Result<Markings, Error> {
    let mut m = Markings::default();
    for mq in holder.children_named("markingQualifier") {
        let outer = lang(mq);
        for q in mq.children_named("qualifier") {
            let code = match req_attr(q, "qualifierCode")? {
                "prefix" => QualifierCode::Prefix,
                "suffix" => QualifierCode::Suffix,
                "separator" => QualifierCode::Separator,
                other => {
                    return Err(Error::invalid(
                        "qualifier",
                        Some(q.pos),
                        format!("`qualifierCode` is `{other}`: use prefix, suffix or separator"),
                    ));
                }
            };
            let Some(text) = q.attr("markingQualifier") else {
                return Err(Error::invalid("qualifier", Some(q.pos), "missing attribute `markingQualifier`"));
            };
            let l = q.attr("xml:lang").map_or_else(|| outer.clone(), str::to_owned);
            m.qualifiers.push(Qualifier { lang: l, code, text: text.to_owned() });
        }
    }
    for md in holder.children_named("markingData") {
        let mut codes = 0;
        for c in md.children_named("code") {
            codes |=
                code_bits(c.trimmed_text()).map_err(|e| Error::Spif(format!("{}: {}", c.pos, strip(&e))))?;
        }
        m.phrases.push(Phrase::new(lang(md), codes, md.attr("phrase").map(str::to_owned)));
    }
    Ok(m)
}

impl Spif {
    /// Resolves a `categoryGroup`/`excludedCategory` against this policy.
    pub(crate) fn resolve_data(&self, d: &RawData) -> Result<Data, Error> {
        let Some(ts) = self.tag_set_by_name(&d.tag_set) else {
            return Err(Error::Spif(format!(
                "unknown tag set `{}` referenced in policy `{}`",
                d.tag_set, self.name
            )));
        };
        let cats: Vec<usize> = match d.lacv {
            Some(lacv) => match self.cat_by_lacv(ts, d.kind, lacv) {
                Some(c) => vec![c],
                None => {
                    return Err(Error::Spif(format!(
                        "no {} category with LACV {lacv} in tag set `{}` of policy `{}`",
                        d.kind.spiffing_name(),
                        d.tag_set,
                        self.name
                    )));
                }
            },
            None => self
                .cats
                .iter()
                .enumerate()
                .filter(|(_, c)| c.tag_set == ts && c.kind == d.kind)
                .map(|(i, _)| i)
                .collect(),
        };
        Ok(Data { raw: d.clone(), cats })
    }

    pub(crate) fn resolve_group(&self, g: &RawGroup) -> Result<Group, Error> {
        Ok(Group {
            op: g.op,
            members: g.members.iter().map(|d| self.resolve_data(d)).collect::<Result<_, _>>()?,
        })
    }
}

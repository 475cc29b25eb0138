//! Display markings of bound labels and clearances (the algorithm is described in `marking.rs`).

use crate::spif::Spif;
use crate::spif::bind::{BoundClearance, BoundLabel};
use crate::spif::marking::{MarkingLocation, Resolved};

impl Spif {
    /// The display marking of a bound label in `lang` at `loc`.
    pub fn marking_bound(&self, label: &BoundLabel, lang: &str, loc: MarkingLocation) -> String {
        let loc = loc.bit();
        let policy = self.markings.resolve(lang);
        let class = self.class(label.class);
        let class_name = class.map_or("", |c| c.name.as_str());
        let class_marking = class.and_then(|c| c.markings.resolve(lang));
        let cat_marking = |ci: usize| self.cat(ci).and_then(|c| c.markings.resolve(lang));

        let suppress = label.cats.iter().any(|&c| cat_marking(c).is_some_and(|m| m.suppresses_class(loc)));
        let sep = policy.map(|m| m.separator()).filter(|s| !s.is_empty()).unwrap_or(" ");

        let mut out = String::new();
        if let Some(m) = policy.filter(|m| m.replaces_policy(loc)) {
            out.push_str(m.policy_phrase(loc, &self.name));
        } else if let Some(m) = class_marking.filter(|m| m.replaces_policy(loc)) {
            out.push_str(m.policy_phrase(loc, class_name));
        } else {
            let replaced = label.cats.iter().find_map(|&c| {
                let cat = self.cat(c)?;
                cat_marking(c).filter(|m| m.replaces_policy(loc)).map(|m| m.policy_phrase(loc, &cat.name))
            });
            out.push_str(replaced.unwrap_or(&self.name));
        }
        if !suppress {
            if !out.is_empty() {
                out.push_str(sep);
            }
            let phrase = match (class_marking, policy) {
                (Some(m), _) | (None, Some(m)) => m.phrase(loc, class_name),
                (None, None) => class_name,
            };
            out.push_str(phrase);
        }
        self.category_markings(&mut out, &label.cats, lang, loc, sep);
        match policy {
            Some(m) => format!("{}{out}{}", m.prefix(), m.suffix()),
            None => out,
        }
    }

    /// The display marking of a bound clearance: `{A|B}` for the classifications (lowest first), then the held
    /// categories as in a label marking.
    pub fn clearance_marking_bound(&self, clearance: &BoundClearance, lang: &str) -> String {
        let policy = self.markings.resolve(lang);
        let sep = policy.map(|m| m.separator()).filter(|s| !s.is_empty()).unwrap_or(" ");
        let mut out = String::new();
        if let Some(m) = policy {
            out.push_str(m.prefix());
        }
        let mut classes: Vec<usize> = clearance.classes.iter().collect();
        classes.sort_by_key(|&c| self.class(c).map_or(0, |c| c.hierarchy));
        let names: Vec<&str> =
            classes.iter().filter_map(|&c| self.class(c)).map(|c| c.name.as_str()).collect();
        out.push('{');
        out.push_str(&names.join("|"));
        out.push('}');
        let cats: Vec<usize> = clearance.cats.iter().collect();
        self.category_markings(&mut out, &cats, lang, MarkingLocation::PageBottom.bit(), sep);
        if let Some(m) = policy {
            out.push_str(m.suffix());
        }
        out
    }

    /// Appends the categories' phrases, grouped by tag with the tag's prefix, separator (default `/`) and suffix.
    fn category_markings(&self, out: &mut String, cats: &[usize], lang: &str, loc: u16, sep: &str) {
        let mut current_tag = None;
        let mut tag_suffix = "";
        let mut tag_sep = "/";
        for &ci in cats {
            let Some(cat) = self.cat(ci) else { continue };
            let tag = self.tag(cat.tag);
            let tag_marking: Option<Resolved<'_>> = tag.and_then(|t| t.markings.resolve(lang));
            let phrase = match cat.markings.resolve(lang).or(tag_marking) {
                Some(m) => m.phrase(loc, &cat.name),
                None => &cat.name,
            };
            if phrase.is_empty() {
                continue;
            }
            if current_tag != Some(cat.tag) {
                current_tag = Some(cat.tag);
                out.push_str(tag_suffix);
                if !out.is_empty() {
                    out.push_str(sep);
                }
                match tag_marking {
                    Some(m) => {
                        tag_suffix = m.suffix();
                        tag_sep = Some(m.separator()).filter(|s| !s.is_empty()).unwrap_or("/");
                        out.push_str(m.prefix());
                    }
                    None => {
                        tag_suffix = "";
                        tag_sep = "/";
                    }
                }
            } else {
                out.push_str(tag_sep);
            }
            out.push_str(phrase);
        }
        out.push_str(tag_suffix);
    }
}

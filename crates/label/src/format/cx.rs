//! Strict-or-lenient reading helpers shared by the XML label and clearance readers: each defect is an error in
//! strict mode and a recorded [`Repair`] in lenient mode, so both modes walk the same code.

use crate::error::Error;
use crate::xml::Element;
use crate::{Mode, Repair};

pub(crate) struct Cx {
    pub mode: Mode,
    pub repairs: Vec<Repair>,
    pub values: usize,
    ns_reported: bool,
}

impl Cx {
    pub(crate) fn new(mode: Mode) -> Self {
        Cx { mode, repairs: Vec::new(), values: 0, ns_reported: false }
    }

    pub(crate) fn repair(&mut self, el: &Element, what: String) {
        self.repairs.push(Repair { pos: Some(el.pos), what });
    }

    /// A defect that strict mode refuses and lenient mode repairs with `what`.
    pub(crate) fn defect(&mut self, el: &Element, problem: String, what: &str) -> Result<(), Error> {
        match self.mode {
            Mode::Strict => Err(Error::invalid(&el.name, Some(el.pos), problem)),
            Mode::Lenient => {
                self.repair(el, format!("{problem}; {what}"));
                Ok(())
            }
        }
    }

    /// Finds an attribute: exact name, else (lenient) another case or one of `aliases`.
    pub(crate) fn attr<'e>(
        &mut self,
        el: &'e Element,
        name: &str,
        aliases: &[&str],
    ) -> Result<Option<&'e str>, Error> {
        if let Some(v) = el.attr(name) {
            return Ok(Some(v));
        }
        let found = el.attrs.iter().find(|a| {
            a.name.eq_ignore_ascii_case(name) || aliases.iter().any(|al| a.name.eq_ignore_ascii_case(al))
        });
        match found {
            None => Ok(None),
            Some(a) => {
                let problem = format!("attribute `{}` should be `{name}`", a.name);
                self.defect(el, problem, "read as such")?;
                Ok(Some(&*a.value))
            }
        }
    }
}

/// Checks that `el` is in one of the `expected` namespaces (the first is the one named in messages). Lenient mode
/// reports the first namespace defect of a document only: the rest are the same defect.
pub(crate) fn check_ns(cx: &mut Cx, el: &Element, expected: &[&str]) -> Result<(), Error> {
    let want = expected.first().copied().unwrap_or_default();
    let problem = match el.ns.as_deref() {
        Some(ns) if expected.contains(&ns) => return Ok(()),
        None => format!("element `{}` has no namespace (expected `{want}`)", el.name),
        Some(other) => format!("element `{}` is in namespace `{other}`, expected `{want}`", el.name),
    };
    if cx.ns_reported {
        return Ok(());
    }
    cx.ns_reported = true;
    cx.defect(el, problem, "accepted")
}

/// Matches a child element name: exact, else (lenient) another case or an alias.
pub(crate) fn child_is(cx: &mut Cx, child: &Element, name: &str, aliases: &[&str]) -> Result<bool, Error> {
    if child.name == name {
        return Ok(true);
    }
    if child.name.eq_ignore_ascii_case(name) || aliases.iter().any(|a| child.name.eq_ignore_ascii_case(a)) {
        let problem = format!("element `{}` should be `{name}`", child.name);
        cx.defect(child, problem, "read as such")?;
        return Ok(true);
    }
    Ok(false)
}

pub(crate) fn unexpected(cx: &mut Cx, parent: &Element, child: &Element) -> Result<(), Error> {
    let problem = format!("unexpected element `{}` in `{}`", child.name, parent.name);
    cx.defect(child, problem, "ignored")
}

pub(crate) fn once<'e, 'i>(
    cx: &mut Cx,
    slot: &mut Option<&'e Element<'i>>,
    child: &'e Element<'i>,
) -> Result<(), Error> {
    if slot.is_some() {
        let problem = format!("element `{}` appears more than once", child.name);
        cx.defect(child, problem, "kept the first")?;
        return Ok(());
    }
    *slot = Some(child);
    Ok(())
}

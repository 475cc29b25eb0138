//! SPIF marking data (`markingData`, `markingQualifier`, per `xml:lang`) and the display-marking algorithm.
//!
//! Language resolution: a request for `fr-CA` uses entries tagged `fr-CA`, else `fr`, else untagged ones; prefix,
//! suffix and separator resolve one by one (a French prefix with the default separator), phrases resolve as a list.
//! Codes without a location apply to `pageBottom`, the location of the default display marking. The rendering
//! follows the Open XML SPIF model as implemented by spiffing, so that its conformance suite passes unchanged:
//! policy name (or a `replacePolicy` phrase), classification (unless a category says `suppressClassName`), then the
//! categories in SPIF order, grouped by tag with the tag's prefix, separator and suffix, all wrapped in the policy's
//! own prefix and suffix.

use crate::error::Error;

/// Where a marking is displayed (`markingData/code`). The default display marking is [`MarkingLocation::PageBottom`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MarkingLocation {
    /// `pageTop`.
    PageTop,
    /// `pageBottom` (the default).
    #[default]
    PageBottom,
    /// `documentStart`.
    DocumentStart,
    /// `documentEnd`.
    DocumentEnd,
}

impl MarkingLocation {
    pub(crate) fn bit(self) -> u16 {
        match self {
            MarkingLocation::PageTop => PAGE_TOP,
            MarkingLocation::PageBottom => PAGE_BOTTOM,
            MarkingLocation::DocumentStart => DOCUMENT_START,
            MarkingLocation::DocumentEnd => DOCUMENT_END,
        }
    }
}

const PAGE_TOP: u16 = 1;
const PAGE_BOTTOM: u16 = 2;
const NO_MARKING_DISPLAY: u16 = 4;
const NO_NAME_DISPLAY: u16 = 8;
const SUPPRESS_CLASS_NAME: u16 = 16;
const REPLACE_POLICY: u16 = 32;
const DOCUMENT_START: u16 = 64;
const DOCUMENT_END: u16 = 128;
const LOCATIONS: u16 = PAGE_TOP | PAGE_BOTTOM | NO_MARKING_DISPLAY | DOCUMENT_START | DOCUMENT_END;

/// Parses one `code` value into its bits.
pub(crate) fn code_bits(code: &str) -> Result<u16, Error> {
    Ok(match code {
        "pageTop" => PAGE_TOP,
        "pageBottom" => PAGE_BOTTOM,
        "pageTopBottom" => PAGE_TOP | PAGE_BOTTOM,
        "noMarkingDisplay" => NO_MARKING_DISPLAY,
        "noNameDisplay" => NO_NAME_DISPLAY,
        "suppressClassName" => SUPPRESS_CLASS_NAME,
        "replacePolicy" => REPLACE_POLICY,
        "documentStart" => DOCUMENT_START,
        "documentEnd" => DOCUMENT_END,
        other => {
            return Err(Error::Spif(format!(
                "unknown marking code `{other}`: use pageTop, pageBottom, pageTopBottom, documentStart, documentEnd, \
                 noMarkingDisplay, noNameDisplay, suppressClassName or replacePolicy"
            )));
        }
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QualifierCode {
    Prefix,
    Suffix,
    Separator,
}

#[derive(Debug, Clone)]
pub(crate) struct Qualifier {
    pub lang: String,
    pub code: QualifierCode,
    pub text: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Phrase {
    pub lang: String,
    pub codes: u16,
    pub text: Option<String>,
}

impl Phrase {
    pub fn new(lang: String, mut codes: u16, text: Option<String>) -> Self {
        if codes & LOCATIONS == 0 {
            codes |= PAGE_BOTTOM;
        }
        Phrase { lang, codes, text }
    }
}

/// The marking data of one SPIF element (policy, classification, tag set, tag or category).
#[derive(Debug, Clone, Default)]
pub(crate) struct Markings {
    pub qualifiers: Vec<Qualifier>,
    pub phrases: Vec<Phrase>,
}

/// Markings resolved for one language.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolved<'a> {
    markings: &'a Markings,
    phrase_lang: Option<&'a str>,
    lang: &'a str,
}

/// The best of `candidates` for `lang`: exact, then primary subtag, then untagged.
fn best<'a>(candidates: impl Iterator<Item = &'a str> + Clone, lang: &str) -> Option<&'a str> {
    let primary = lang.split(['-', '_']).next().unwrap_or_default();
    let mut found = None;
    for (rank, want) in [lang, primary, ""].into_iter().enumerate() {
        if let Some(c) = candidates.clone().find(|c| c.eq_ignore_ascii_case(want)) {
            found = Some((rank, c));
            break;
        }
    }
    found.map(|(_, c)| c)
}

impl Markings {
    /// Every language tag used here.
    pub fn languages(&self) -> impl Iterator<Item = &str> + Clone {
        self.qualifiers.iter().map(|q| q.lang.as_str()).chain(self.phrases.iter().map(|p| p.lang.as_str()))
    }

    /// The markings for `lang`, or `None` when nothing here applies to it.
    pub fn resolve<'a>(&'a self, lang: &'a str) -> Option<Resolved<'a>> {
        best(self.languages(), lang)?;
        let phrase_lang = best(self.phrases.iter().map(|p| p.lang.as_str()), lang);
        Some(Resolved { markings: self, phrase_lang, lang })
    }
}

impl<'a> Resolved<'a> {
    fn qualifier(&self, code: QualifierCode) -> &'a str {
        let of_code = self.markings.qualifiers.iter().filter(|q| q.code == code);
        match best(of_code.clone().map(|q| q.lang.as_str()), self.lang) {
            Some(l) => of_code.filter(|q| q.lang == l).map(|q| q.text.as_str()).next().unwrap_or_default(),
            None => "",
        }
    }

    pub fn prefix(&self) -> &'a str {
        self.qualifier(QualifierCode::Prefix)
    }

    pub fn suffix(&self) -> &'a str {
        self.qualifier(QualifierCode::Suffix)
    }

    pub fn separator(&self) -> &'a str {
        self.qualifier(QualifierCode::Separator)
    }

    fn phrases(&self) -> impl Iterator<Item = &'a Phrase> + 'a {
        let lang = self.phrase_lang;
        self.markings.phrases.iter().filter(move |p| Some(p.lang.as_str()) == lang)
    }

    /// The first phrase entry that applies at `loc`.
    fn at(&self, loc: u16) -> Option<&'a Phrase> {
        self.phrases().find(|p| p.codes & loc != 0)
    }

    /// The text shown for `name` at `loc`: nothing (`noNameDisplay`), the phrase, or the name itself.
    pub fn phrase<'n>(&self, loc: u16, name: &'n str) -> &'n str
    where
        'a: 'n,
    {
        match self.at(loc) {
            Some(p) if p.codes & NO_NAME_DISPLAY != 0 => "",
            Some(p) if p.codes & REPLACE_POLICY != 0 => name,
            Some(Phrase { text: Some(t), .. }) => t,
            _ => name,
        }
    }

    /// The text that replaces the policy name, for an entry marked `replacePolicy`.
    pub fn policy_phrase<'n>(&self, loc: u16, name: &'n str) -> &'n str
    where
        'a: 'n,
    {
        match self.phrases().find(|p| p.codes & (loc | REPLACE_POLICY) != 0) {
            Some(Phrase { text: Some(t), .. }) => t,
            _ => name,
        }
    }

    pub fn suppresses_class(&self, loc: u16) -> bool {
        self.at(loc).is_some_and(|p| p.codes & SUPPRESS_CLASS_NAME != 0)
    }

    pub fn replaces_policy(&self, loc: u16) -> bool {
        self.at(loc).is_some_and(|p| p.codes & REPLACE_POLICY != 0)
    }
}

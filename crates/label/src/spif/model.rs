//! The compiled form of an Open XML SPIF: classifications, tag sets, tags and categories in flat vectors indexed by
//! position, with every cross reference resolved at load time and sorted lookup tables for names and LACVs.
//!
//! INVARIANT: category indexes follow document order, and the categories of one tag are contiguous; the ACDF and
//! the markings rely on "sorted by index" meaning "in SPIF order, grouped by tag".

use std::cmp::Ordering;

use crate::label::CategoryType;
use crate::spif::marking::Markings;

/// The five tag types of the SPIF (`enumerated` split by its `enumType`; `tagType7` is informative).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum TagType {
    Restrictive,
    Permissive,
    EnumRestrictive,
    EnumPermissive,
    Informative,
}

impl TagType {
    pub fn category_type(self) -> CategoryType {
        match self {
            TagType::Restrictive | TagType::EnumRestrictive => CategoryType::Restrictive,
            TagType::Permissive | TagType::EnumPermissive => CategoryType::Permissive,
            TagType::Informative => CategoryType::Informative,
        }
    }

    /// The spelling of spiffing's XML label form (`enumeratedPermissive`…).
    pub fn spiffing_name(self) -> &'static str {
        match self {
            TagType::Restrictive => "restrictive",
            TagType::Permissive => "permissive",
            TagType::EnumRestrictive => "enumeratedRestrictive",
            TagType::EnumPermissive => "enumeratedPermissive",
            TagType::Informative => "informative",
        }
    }

    pub fn from_spiffing_name(s: &str) -> Option<Self> {
        [
            TagType::Restrictive,
            TagType::Permissive,
            TagType::EnumRestrictive,
            TagType::EnumPermissive,
            TagType::Informative,
        ]
        .into_iter()
        .find(|t| t.spiffing_name() == s)
    }
}

/// `requiredCategory/@operation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    OnlyOne,
    OneOrMore,
    All,
}

impl Op {
    pub fn describe(self) -> &'static str {
        match self {
            Op::OnlyOne => "exactly one of",
            Op::OneOrMore => "one or more of",
            Op::All => "all of",
        }
    }
}

/// A `categoryGroup` / `excludedCategory` as written: a tag set name, a tag type and one LACV or all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawData {
    pub tag_set: String,
    pub kind: TagType,
    pub lacv: Option<u64>,
}

/// A `requiredCategory` as written (resolved later, against the policy it refers to).
#[derive(Debug, Clone)]
pub(crate) struct RawGroup {
    pub op: Op,
    pub members: Vec<RawData>,
}

/// A [`RawData`] resolved to the categories it matches (any of them).
#[derive(Debug, Clone)]
pub(crate) struct Data {
    pub raw: RawData,
    pub cats: Vec<usize>,
}

/// A [`RawGroup`] resolved in this SPIF.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub op: Op,
    pub members: Vec<Data>,
}

#[derive(Debug, Clone)]
pub(crate) struct EquivClass {
    pub policy_id: String,
    pub lacv: u64,
    pub required: Vec<RawGroup>,
    pub encrypt: bool,
}

/// `equivalentSecCategoryTag`: `target` is `None` for `action="discard"`.
#[derive(Debug, Clone)]
pub(crate) struct EquivCat {
    pub policy_id: String,
    pub target: Option<(String, TagType, u64)>,
}

#[derive(Debug, Clone)]
pub(crate) struct EquivPolicy {
    pub name: String,
    pub id: String,
    pub required: Vec<RawGroup>,
}

#[derive(Debug, Clone)]
pub(crate) struct Class {
    pub name: String,
    pub lacv: u64,
    pub hierarchy: u64,
    pub color: Option<String>,
    pub obsolete: bool,
    pub required: Vec<Group>,
    pub equivs: Vec<EquivClass>,
    pub markings: Markings,
}

#[derive(Debug, Clone)]
pub(crate) struct TagSet {
    pub name: String,
    pub id: String,
    pub markings: Markings,
}

#[derive(Debug, Clone)]
pub(crate) struct Tag {
    pub name: String,
    pub single: bool,
    pub markings: Markings,
}

#[derive(Debug, Clone)]
pub(crate) struct Cat {
    pub tag: usize,
    pub tag_set: usize,
    pub kind: TagType,
    pub name: String,
    pub lacv: u64,
    pub obsolete: bool,
    pub excluded_classes: Vec<usize>,
    pub excluded: Vec<Data>,
    pub required: Vec<Group>,
    pub equivs: Vec<EquivCat>,
    pub markings: Markings,
}

/// ASCII-case-insensitive ordering, without allocating (policy values are case-insensitive, ADatP-4774).
pub(crate) fn ci_cmp(a: &str, b: &str) -> Ordering {
    a.bytes().map(|c| c.to_ascii_lowercase()).cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// A small fixed-size bit set over indexes (classifications or categories).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub(crate) struct Bits(Vec<u64>);

impl Bits {
    pub fn with_len(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }

    pub fn set(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }

    #[inline]
    pub fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0
            .iter()
            .enumerate()
            .flat_map(|(wi, &w)| (0..64).filter(move |b| w & (1 << b) != 0).map(move |b| wi * 64 + b))
    }
}

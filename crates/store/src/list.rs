//! ListObjectsV2 over the object index.
//!
//! With a delimiter, every key whose rest after the prefix contains the delimiter rolls up into the common prefix
//! ending at the first delimiter. A listing is then a sequence of entries (keys and common prefixes) in byte order
//! of their names; this order matches key order because the keys under a common prefix are exactly the keys
//! starting with it, a contiguous range. `start_after` returns the entries whose NAME is greater than it, so
//! a page's `next_token` is simply the name of its last entry: continuing after a common prefix skips every key
//! under it. (A client's own StartAfter is read the same way: `a/b` skips the key `a/c` rolled into `a/`.)
//!
//! Cost: one B-tree seek per common prefix plus one step per key returned, never a scan of the keys rolled up.

use std::ops::Bound;

use redb::ReadableTable;

use crate::tables::{bucket_prefix, decode, prefix_end};
use crate::{ListPage, StoreError};

/// The most entries a page holds, whatever the caller asks for.
pub const MAX_KEYS: usize = 1000;

pub(crate) fn list(
    objects: &impl ReadableTable<&'static [u8], &'static [u8]>,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    start_after: Option<&str>,
    max_keys: usize,
) -> Result<ListPage, StoreError> {
    let max = max_keys.min(MAX_KEYS);
    let mut page = ListPage::default();
    if max == 0 {
        return Ok(page);
    }
    let delimiter = delimiter.filter(|d| !d.is_empty());
    let base = bucket_prefix(bucket);
    let full = |name: &str| [base.as_slice(), name.as_bytes()].concat();
    let lowest = full(prefix);
    // INVARIANT: `base` ends with NUL, so a prefix of it has an end.
    let end = prefix_end(&lowest);
    let mut from = match start_after.map(full) {
        Some(after) if after >= lowest => Bound::Excluded(after),
        _ => Bound::Included(lowest),
    };
    let mut count = 0usize;
    let mut last: Option<String> = None;
    'seek: loop {
        let upper = match &end {
            Some(end) => Bound::Excluded(end.as_slice()),
            None => Bound::Unbounded,
        };
        let lower = match &from {
            Bound::Included(k) => Bound::Included(k.as_slice()),
            Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
            Bound::Unbounded => Bound::Unbounded,
        };
        // Never ask for an inverted range (a start after the prefix's last possible key).
        if let (Bound::Included(from) | Bound::Excluded(from), Some(end)) = (lower, &end)
            && from >= end.as_slice()
        {
            break;
        }
        for entry in objects.range::<&[u8]>((lower, upper))? {
            let (k, v) = entry?;
            let key =
                k.value().get(base.len()..).and_then(|b| std::str::from_utf8(b).ok()).ok_or_else(|| {
                    StoreError::Corrupt(format!("an object key in bucket `{bucket}` is not UTF-8"))
                })?;
            let rest = key.get(prefix.len()..).ok_or_else(|| {
                StoreError::Corrupt(format!("object key `{key}` is out of place in the index"))
            })?;
            let rolled = delimiter.and_then(|d| rest.find(d).map(|at| prefix.len() + at + d.len()));
            if let Some(cut) = rolled {
                let common = key.get(..cut).ok_or_else(|| {
                    StoreError::Corrupt(format!("object key `{key}` is out of place in the index"))
                })?;
                let seen = start_after.is_some_and(|after| common <= after);
                if !seen {
                    if count == max {
                        page.truncated = true;
                        break 'seek;
                    }
                    page.common_prefixes.push(common.to_owned());
                    count += 1;
                    last = Some(common.to_owned());
                }
                // Seek past every key under this common prefix.
                match prefix_end(&full(common)) {
                    Some(next) => from = Bound::Included(next),
                    None => break 'seek,
                }
                continue 'seek;
            }
            if count == max {
                page.truncated = true;
                break 'seek;
            }
            page.objects.push((key.to_owned(), decode("object", v.value())?));
            count += 1;
            last = Some(key.to_owned());
        }
        break;
    }
    if page.truncated {
        page.next_token = last;
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;
    use redb::backends::InMemoryBackend;
    use redb::{Database, ReadableDatabase};

    use super::*;
    use crate::ObjectMeta;
    use crate::tables::{OBJECTS, encode, object_key};

    fn meta(i: usize) -> ObjectMeta {
        ObjectMeta {
            blob: format!("{i:032x}"),
            size: i as u64,
            stored_size: i as u64,
            etag: format!("e{i}"),
            last_modified_unix_ms: 0,
            content_type: None,
            user_metadata: BTreeMap::new(),
            label: "{}".into(),
            label_marking: String::new(),
            client_ztdf: false,
            parts: 0,
            owner: "o".into(),
        }
    }

    fn db_with(buckets: &[(&str, &BTreeSet<String>)]) -> Database {
        let db = Database::builder().create_with_backend(InMemoryBackend::new()).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table(OBJECTS).unwrap();
            for (bucket, keys) in buckets {
                for (i, key) in keys.iter().enumerate() {
                    t.insert(
                        object_key(bucket, key).as_slice(),
                        encode("object", &meta(i)).unwrap().as_slice(),
                    )
                    .unwrap();
                }
            }
        }
        txn.commit().unwrap();
        db
    }

    /// The naive model: every entry name (key or common prefix), sorted and deduplicated.
    fn model(keys: &BTreeSet<String>, prefix: &str, delimiter: Option<&str>) -> Vec<(String, bool)> {
        let mut entries = BTreeMap::new();
        for key in keys.iter().filter(|k| k.starts_with(prefix)) {
            let rest = &key[prefix.len()..];
            match delimiter.filter(|d| !d.is_empty()).and_then(|d| rest.find(d).map(|at| (at, d))) {
                Some((at, d)) => entries.insert(key[..prefix.len() + at + d.len()].to_owned(), true),
                None => entries.insert(key.clone(), false),
            };
        }
        entries.into_iter().collect()
    }

    fn names(page: &ListPage) -> Vec<(String, bool)> {
        let mut all: Vec<(String, bool)> = page.objects.iter().map(|(k, _)| (k.clone(), false)).collect();
        all.extend(page.common_prefixes.iter().map(|p| (p.clone(), true)));
        all.sort();
        all
    }

    fn key_strategy() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![Just("a"), Just("b"), Just("/"), Just("é"), Just("\u{0}")],
            1..6,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Paging through with any page size yields exactly the model's entries, each page is the model's slice
        /// after its start, and a neighbouring bucket never leaks in.
        #[test]
        fn pages_match_the_model(
            keys in proptest::collection::btree_set(key_strategy(), 0..40),
            other in proptest::collection::btree_set(key_strategy(), 0..5),
            prefix in prop_oneof![Just(""), Just("a"), Just("a/"), Just("b"), Just("é")],
            delimiter in prop_oneof![Just(None), Just(Some("/")), Just(Some("ab")), Just(Some(""))],
            start in proptest::option::of(key_strategy()),
            max_keys in 0usize..7,
        ) {
            let db = db_with(&[("bk", &keys), ("bk\u{1}", &other), ("b", &other)]);
            let txn = db.begin_read().unwrap();
            let table = txn.open_table(OBJECTS).unwrap();
            let expected = model(&keys, prefix, delimiter);

            // One page from an arbitrary start.
            let page = list(&table, "bk", prefix, delimiter, start.as_deref(), max_keys).unwrap();
            let after: Vec<_> = expected.iter().filter(|(n, _)| start.as_deref().is_none_or(|s| n.as_str() > s)).cloned().collect();
            let want: Vec<_> = after.iter().take(max_keys).cloned().collect();
            prop_assert_eq!(names(&page), want.clone());
            let truncated = max_keys > 0 && after.len() > max_keys;
            prop_assert_eq!(page.truncated, truncated);
            prop_assert_eq!(page.next_token.clone(), if truncated { want.last().map(|(n, _)| n.clone()) } else { None });

            // Paging from the start.
            if max_keys > 0 {
                let mut got = Vec::new();
                let mut token: Option<String> = None;
                loop {
                    let page = list(&table, "bk", prefix, delimiter, token.as_deref(), max_keys).unwrap();
                    prop_assert!(page.objects.len() + page.common_prefixes.len() <= max_keys);
                    got.extend(names(&page));
                    if !page.truncated { break; }
                    token = page.next_token.clone();
                    prop_assert!(token.is_some());
                }
                prop_assert_eq!(got, expected);
            }
        }
    }

    #[test]
    fn max_keys_is_capped() {
        let keys: BTreeSet<String> = (0..1500).map(|i| format!("k{i:05}")).collect();
        let db = db_with(&[("b", &keys)]);
        let txn = db.begin_read().unwrap();
        let table = txn.open_table(OBJECTS).unwrap();
        let page = list(&table, "b", "", None, None, usize::MAX).unwrap();
        assert_eq!(page.objects.len(), MAX_KEYS);
        assert!(page.truncated);
        assert_eq!(page.next_token.as_deref(), Some("k00999"));
    }
}

//! `params`: the query/form decoding, the duplicate rule and the `Prefix.N.Field`
//! flattening of [`secgroup_rpc::ParamCursor`].
//!
//! Input: a query string, then (after the first `\0`) a form body.
//!
//! Properties: nothing panics; every value a key maps to is the first one sent; a key sent
//! twice is reported; and every list entry a cursor hands out is the value of exactly the
//! key it names (`Prefix.N.Field` with N in its canonical spelling), so that no two keys can
//! land on one entry and silently drop a value — unless `check_indices` refuses the request.

use std::collections::{BTreeMap, BTreeSet};

use secgroup_rpc::Params;

pub fn fuzz(data: &[u8]) {
    let (query, body) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let query = String::from_utf8_lossy(query);
    let params = Params::from_query_and_form(&query, body);

    // The reference: every pair in arrival order, query first.
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let query_len = pairs.len();
    if let Some(body) = body {
        pairs.extend(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())));
    }
    let mut first: BTreeMap<&str, &str> = BTreeMap::new();
    let mut duplicate = None;
    for (k, v) in &pairs {
        if first.contains_key(k.as_str()) {
            duplicate.get_or_insert(k.as_str());
        } else {
            first.insert(k, v);
        }
    }
    assert_eq!(params.duplicate(), duplicate);
    assert_eq!(params.len(), first.len());
    for (k, v) in &first {
        assert_eq!(params.get(k), Some(*v), "{k:?}");
    }
    assert_eq!(params.query_pairs().count(), query_len);
    for (k, _) in params.clone().into_business().iter() {
        assert!(!secgroup_rpc::params::is_protocol_param(k));
    }

    // Every prefix a key could be a list of.
    let mut prefixes = BTreeSet::new();
    for (k, _) in params.iter() {
        for (i, _) in k.match_indices('.') {
            prefixes.insert(&k[..i]);
        }
    }
    let mut cursor = params.cursor();
    let mut lists = Vec::new();
    for prefix in prefixes.iter().take(16) {
        let objects = cursor.object_list(prefix);
        let strings = cursor.string_list(prefix);
        assert!(
            cursor.has_list(prefix),
            "{prefix:?}: keys have a dot after it"
        );
        lists.push((*prefix, objects, strings));
    }
    if cursor.check_indices().is_err() {
        return;
    }
    for (prefix, objects, strings) in &lists {
        let mut last = None;
        for (index, fields) in objects {
            assert!(last < Some(*index), "{prefix:?}: indices in order");
            last = Some(*index);
            for (field, value) in fields {
                let key = format!("{prefix}.{index}.{field}");
                assert_eq!(
                    params.get(&key),
                    Some(*value),
                    "{key:?} is not what was read"
                );
            }
        }
        let expected: Vec<&str> = {
            let mut by_index: BTreeMap<u32, &str> = BTreeMap::new();
            for (k, v) in params.iter() {
                if let Some(n) = k
                    .strip_prefix(prefix)
                    .and_then(|r| r.strip_prefix('.'))
                    .and_then(|n| n.parse::<u32>().ok().filter(|i| i.to_string() == n))
                {
                    by_index.insert(n, v);
                }
            }
            by_index.into_values().collect()
        };
        assert_eq!(strings, &expected, "{prefix:?}: string list");
    }
    // Whatever was not read is reported, and only that.
    let unread: BTreeSet<&str> = cursor.unread().into_iter().collect();
    for (k, _) in params.iter() {
        let listed = prefixes.iter().take(16).any(|p| {
            k.strip_prefix(p)
                .and_then(|r| r.strip_prefix('.'))
                .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        });
        if listed {
            continue;
        }
        let ignored = secgroup_rpc::params::is_protocol_param(k)
            || secgroup_rpc::params::is_ignored_owner_param(k);
        assert_eq!(unread.contains(k), !ignored, "{k:?}");
    }
}

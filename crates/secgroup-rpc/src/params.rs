//! The request's parameters: the union of the URL query and a form body, and a cursor
//! that lets a decoder account for every parameter it reads.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use crate::RpcError;

/// Parameters of one request. Keys are case-sensitive. A key that appears more than once
/// (query and body, or repeated) keeps its first value here and is reported by
/// [`Params::duplicate`]: the server refuses such a request, so that what a signature covers
/// and what runs can never differ.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    /// The operation's own parameters.
    map: BTreeMap<String, String>,
    /// The protocol's ([`is_protocol_param`]), apart so that handing the operation its
    /// parameters drops them instead of removing each from `map` (BENCHMARKS.md).
    protocol: BTreeMap<String, String>,
    /// The URL query as it arrived (V3 signs its pairs, not the body's); kept whole and
    /// decoded again only when asked, so that a V1 request does not copy every pair twice.
    query: String,
    /// The first key that arrived twice.
    duplicate: Option<String>,
}

impl Params {
    /// Decodes `query` and, when given, a form-encoded `body` (`+` is a space in both).
    pub fn from_query_and_form(query: &str, form_body: Option<&[u8]>) -> Params {
        let mut params = Params {
            query: query.to_owned(),
            ..Params::default()
        };
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            params.insert(k.into_owned(), v.into_owned());
        }
        if let Some(body) = form_body {
            for (k, v) in form_urlencoded::parse(body) {
                params.insert(k.into_owned(), v.into_owned());
            }
        }
        params
    }

    /// Keeps the first value of a key and remembers the first key seen twice.
    fn insert(&mut self, key: String, value: String) {
        let map = if is_protocol_param(&key) {
            &mut self.protocol
        } else {
            &mut self.map
        };
        match map.entry(key) {
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(value);
            }
            std::collections::btree_map::Entry::Occupied(seen) => {
                if self.duplicate.is_none() {
                    self.duplicate = Some(seen.key().clone());
                }
            }
        }
    }

    /// The first parameter that arrived more than once, if any.
    pub fn duplicate(&self) -> Option<&str> {
        self.duplicate.as_deref()
    }

    /// Builds parameters from pairs (tests and in-process callers).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Params {
        let mut params = Params::default();
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            let (k, v) = (k.into(), v.into());
            query.append_pair(&k, &v);
            params.insert(k, v);
        }
        params.query = query.finish();
        params
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        let map = if is_protocol_param(key) {
            &self.protocol
        } else {
            &self.map
        };
        map.get(key).map(String::as_str)
    }

    /// Every parameter: the operation's in key order, then the protocol's in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map
            .iter()
            .chain(&self.protocol)
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The pairs of the URL query only, as they arrived.
    pub fn query_pairs(&self) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
        form_urlencoded::parse(self.query.as_bytes())
    }

    pub fn len(&self) -> usize {
        self.map.len() + self.protocol.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty() && self.protocol.is_empty()
    }

    /// The parameters a product sees: everything except the protocol's own
    /// (signature, timestamp, format, ...), which the server has already consumed.
    /// The operation's parameters alone, without a copy (copying every key and value cost a
    /// Describe some 3,000 instructions, removing the protocol's one by one 1,400).
    pub fn into_business(mut self) -> Params {
        self.protocol = BTreeMap::new();
        self.query = String::new();
        self.duplicate = None;
        self
    }

    pub fn cursor(&self) -> ParamCursor<'_> {
        ParamCursor {
            params: self,
            read: BTreeSet::new(),
            bad_index: None,
        }
    }
}

/// Parameters that belong to the transport and signature, never to an operation.
pub fn is_protocol_param(key: &str) -> bool {
    matches!(
        key,
        "Action"
            | "Version"
            | "AccessKeyId"
            | "Signature"
            | "SignatureMethod"
            | "SignatureVersion"
            | "SignatureNonce"
            | "SignatureType"
            | "Timestamp"
            | "Format"
            | "SecurityToken"
            | "BearerToken"
    )
}

/// Parameters accepted by every operation and ignored (docs/protocol.md §2.2).
pub fn is_ignored_owner_param(key: &str) -> bool {
    matches!(
        key,
        "OwnerId" | "OwnerAccount" | "ResourceOwnerId" | "ResourceOwnerAccount" | "callerParentId"
    )
}

/// A read-tracking view over [`Params`]. Every accessor marks what it read, so that
/// [`ParamCursor::unread`] can name any parameter the decoder never looked at.
pub struct ParamCursor<'a> {
    params: &'a Params,
    read: BTreeSet<String>,
    /// The first `Prefix.N…` key read whose N is no list index (past `u32`).
    bad_index: Option<String>,
}

impl<'a> ParamCursor<'a> {
    /// The value of `name`, if present (an empty string counts as present).
    pub fn optional(&mut self, name: &str) -> Option<&'a str> {
        self.read.insert(name.to_string());
        self.params.get(name)
    }

    /// The value of `name`, treating an empty string as absent.
    pub fn non_empty(&mut self, name: &str) -> Option<&'a str> {
        self.optional(name).filter(|v| !v.is_empty())
    }

    /// The value of `name`, which must be present and non-empty
    /// ([`RpcError::missing`] otherwise).
    pub fn required(&mut self, name: &str) -> Result<&'a str, RpcError> {
        self.non_empty(name).ok_or_else(|| RpcError::missing(name))
    }

    /// `Prefix.N` string lists, sorted by N (gaps ignored).
    pub fn string_list(&mut self, prefix: &str) -> Vec<&'a str> {
        self.indexed(prefix)
            .into_iter()
            .filter(|(_, rest, _)| rest.is_empty())
            .map(|(_, _, v)| v)
            .collect()
    }

    /// `Prefix.N.Field` object lists: one map of field → value per N, sorted by N.
    pub fn object_list(&mut self, prefix: &str) -> Vec<(u32, BTreeMap<&'a str, &'a str>)> {
        let mut out: BTreeMap<u32, BTreeMap<&'a str, &'a str>> = BTreeMap::new();
        for (index, rest, value) in self.indexed(prefix) {
            if let Some(field) = rest.strip_prefix('.') {
                out.entry(index).or_default().insert(field, value);
            }
        }
        out.into_iter().collect()
    }

    /// Every `Prefix.N[...]` key: (N, text after the index, value), sorted by N.
    fn indexed(&mut self, prefix: &str) -> Vec<(u32, &'a str, &'a str)> {
        let dotted = format!("{prefix}.");
        let mut found = Vec::new();
        for (key, value) in self.params.map.range(dotted.clone()..) {
            let Some(after) = key.strip_prefix(&dotted) else {
                break;
            };
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            let rest = &after[digits..];
            if digits == 0 || (!rest.is_empty() && !rest.starts_with('.')) {
                continue;
            }
            let canonical = digits == 1 || !after.starts_with('0');
            let (true, Ok(index)) = (canonical, after[..digits].parse::<u32>()) else {
                // Digits, but too many to be an index, or with a leading zero (`Tag.01.Key`
                // and `Tag.1.Key` would be one entry, one value silently lost): refused by
                // `check_indices`, never dropped (nor wrapped onto another entry).
                self.read.insert(key.clone());
                self.bad_index.get_or_insert_with(|| key.clone());
                continue;
            };
            self.read.insert(key.clone());
            found.push((index, rest, value.as_str()));
        }
        found.sort_by_key(|(i, _, _)| *i);
        found
    }

    /// Refuses a request whose list parameters named an index that is no `u32` (e.g.
    /// `Permissions.4294967296.IpProtocol`) or has a leading zero (`Permissions.01.…`):
    /// `InvalidParameter` naming that parameter (docs/protocol.md §2.4).
    pub fn check_indices(&self) -> Result<(), RpcError> {
        match &self.bad_index {
            None => Ok(()),
            Some(key) => Err(RpcError::new(
                400,
                "InvalidParameter",
                format!(
                    "The specified parameter \"{key}\" is not valid: its index is not a number from 0 to 4294967295 without leading zeros."
                ),
            )),
        }
    }

    /// Whether any `Prefix.N…` key is present.
    pub fn has_list(&self, prefix: &str) -> bool {
        let dotted = format!("{prefix}.");
        self.params
            .map
            .range(dotted.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&dotted))
    }

    /// Parameters present but never read, ignoring the owner parameters every operation accepts.
    pub fn unread(&self) -> Vec<&'a str> {
        self.params
            .map
            .keys()
            .filter(|k| {
                !self.read.contains(k.as_str())
                    && !is_protocol_param(k)
                    && !is_ignored_owner_param(k)
            })
            .map(String::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_form_are_merged_and_plus_is_space() {
        let p = Params::from_query_and_form("A=1&B=x+y", Some(b"C=3&A=ignored"));
        assert_eq!(p.get("A"), Some("1"));
        assert_eq!(p.get("B"), Some("x y"));
        assert_eq!(p.get("C"), Some("3"));
        assert_eq!(p.query_pairs().count(), 2);
        assert_eq!(p.duplicate(), Some("A"));
        let unique = Params::from_query_and_form("A=1&B=2", Some(b"C=3"));
        assert_eq!(unique.duplicate(), None);
        let repeated = Params::from_query_and_form("B=1&A=2&B=1", None);
        assert_eq!(repeated.duplicate(), Some("B"));
    }

    #[test]
    fn lists_sort_numerically_and_ignore_gaps() {
        let p = Params::from_pairs([
            ("Tag.10.Key", "ten"),
            ("Tag.2.Key", "two"),
            ("Tag.2.Value", "v2"),
            ("TagKey.3", "c"),
            ("TagKey.1", "a"),
            ("Tagx", "no"),
        ]);
        let mut c = p.cursor();
        let tags = c.object_list("Tag");
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[0].0, 2);
        assert_eq!(tags[0].1.get("Value"), Some(&"v2"));
        assert_eq!(tags[1].1.get("Key"), Some(&"ten"));
        assert_eq!(c.string_list("TagKey"), vec!["a", "c"]);
        assert_eq!(c.unread(), vec!["Tagx"]);
        assert!(c.check_indices().is_ok());
    }

    #[test]
    fn an_index_past_u32_is_refused_by_name() {
        let p = Params::from_pairs([
            ("Permissions.1.IpProtocol", "TCP"),
            ("Permissions.4294967296.IpProtocol", "UDP"),
        ]);
        let mut c = p.cursor();
        let list = c.object_list("Permissions");
        assert_eq!(list.len(), 1);
        let err = c.check_indices().expect_err("refused");
        assert_eq!(err.code, "InvalidParameter");
        assert!(
            err.message.contains("Permissions.4294967296.IpProtocol"),
            "{}",
            err.message
        );
        assert!(c.unread().is_empty(), "read, then refused");
    }

    /// Found by the `params` fuzz target: `Tag.01.Key` and `Tag.1.Key` were one entry, and
    /// one of the two values was silently dropped.
    #[test]
    fn an_index_with_a_leading_zero_is_refused_by_name() {
        let p = Params::from_pairs([("Tag.1.Key", "a"), ("Tag.01.Key", "b"), ("Tag.0.Key", "z")]);
        let mut c = p.cursor();
        let tags = c.object_list("Tag");
        assert_eq!(tags.len(), 2, "index 0 and 1");
        let err = c.check_indices().expect_err("refused");
        assert!(err.message.contains("\"Tag.01.Key\""), "{}", err.message);
        let p = Params::from_pairs([
            ("SecurityGroupIds.1", "sg-1"),
            ("SecurityGroupIds.00", "sg-2"),
        ]);
        let mut c = p.cursor();
        assert_eq!(c.string_list("SecurityGroupIds"), ["sg-1"]);
        assert!(c.check_indices().is_err());
    }
}

//! [`Input`]: an action's parameters, read through a cursor that accounts for every one,
//! with the decoders all products share. Each decoder returns the documented error for
//! each way a value can be wrong, mapped for the action being decoded.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut, RangeInclusive};

use secgroup_domain::ops::idempotency::ClientToken;
use secgroup_domain::{DomainError, Tag};
use secgroup_rpc::{CallContext, ParamCursor, Params, RpcError};

use crate::config::ProductConfig;
use crate::errors::invalid;

/// The parameters of one call, as its action decodes them. Dereferences to the wire
/// crate's [`ParamCursor`] (`required`, `optional`, `non_empty`, lists).
pub struct Input<'a> {
    cursor: ParamCursor<'a>,
    params: &'a Params,
    action: &'a str,
    config: &'a ProductConfig,
    map: fn(DomainError) -> RpcError,
    dry_run: bool,
    client_token: Option<ClientToken>,
}

impl<'a> Deref for Input<'a> {
    type Target = ParamCursor<'a>;
    fn deref(&self) -> &Self::Target {
        &self.cursor
    }
}

impl DerefMut for Input<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.cursor
    }
}

impl<'a> Input<'a> {
    /// The input of `action` over `params`; `map` words domain errors for that action.
    pub fn new(
        params: &'a Params,
        action: &'a str,
        config: &'a ProductConfig,
        map: fn(DomainError) -> RpcError,
    ) -> Self {
        Input {
            cursor: params.cursor(),
            params,
            action,
            config,
            map,
            dry_run: false,
            client_token: None,
        }
    }

    /// Logs what the action never read, and hands `DryRun` and `ClientToken` (when the
    /// action read them) to the framework.
    pub(crate) fn finish(
        self,
        call: &CallContext,
    ) -> Result<(bool, Option<ClientToken>), RpcError> {
        self.cursor.check_indices()?;
        call.note_unread(&self.cursor);
        Ok((self.dry_run, self.client_token))
    }

    pub fn config(&self) -> &'a ProductConfig {
        self.config
    }

    /// A domain error as the action being decoded reports it.
    pub fn error(&self, err: DomainError) -> RpcError {
        (self.map)(err)
    }

    // ---- region ----

    /// A required `RegionId` this server offers (`Missing RegionId` when absent).
    pub fn region(&mut self) -> Result<String, RpcError> {
        self.region_or(|| RpcError::missing("RegionId"))
    }

    /// A required `RegionId`, with the action's own refusal when it is absent.
    pub fn region_or(&mut self, missing: impl FnOnce() -> RpcError) -> Result<String, RpcError> {
        match self.optional_region()? {
            Some(id) => Ok(id),
            None => Err(missing()),
        }
    }

    /// An optional `RegionId`; when given, one this server offers.
    pub fn optional_region(&mut self) -> Result<Option<String>, RpcError> {
        let Some(id) = self.cursor.non_empty("RegionId") else {
            return Ok(None);
        };
        if !self.config.regions.contains(id) {
            return Err(self.error(DomainError::RegionNotFound(id.to_string())));
        }
        Ok(Some(id.to_string()))
    }

    // ---- scalars ----

    /// `true`/`false` in any case (the Python Tea SDK sends `True`).
    pub fn bool(&mut self, name: &str) -> Result<Option<bool>, RpcError> {
        match self.cursor.non_empty(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(invalid(name)),
        }
    }

    /// A decimal integer (`InvalidParameter` naming it otherwise).
    pub fn int(&mut self, name: &str) -> Result<Option<i64>, RpcError> {
        self.int_or(name, || invalid(name))
    }

    /// A decimal integer, or the action's own refusal.
    pub fn int_or(
        &mut self,
        name: &str,
        err: impl FnOnce() -> RpcError,
    ) -> Result<Option<i64>, RpcError> {
        match self.cursor.non_empty(name) {
            None => Ok(None),
            // Plain decimal: a sign other than `-`, or a space, is refused as ECS does.
            Some(v) => secgroup_domain::rules::decimal(v).map(Some).ok_or_else(err),
        }
    }

    /// A JSON array of strings, as the SDKs send lists of ids (`["i-a","i-b"]`), with at
    /// most `max` entries; anything else is `err`. The array is read element by element
    /// and refused at entry `max + 1`: a request of a million ids costs no more than one
    /// of `max + 1`. `None` when the parameter is absent or empty.
    pub fn json_strings(
        &mut self,
        name: &str,
        max: usize,
        err: impl Fn() -> RpcError,
    ) -> Result<Option<Vec<String>>, RpcError> {
        let Some(text) = self.cursor.non_empty(name) else {
            return Ok(None);
        };
        let mut reader = serde_json::Deserializer::from_str(text);
        let list = serde::de::DeserializeSeed::deserialize(AtMost(max), &mut reader)
            .and_then(|list| reader.end().map(|()| list))
            .map_err(|_| err())?;
        Ok(Some(list))
    }

    /// An integer within `range`, or the action's own refusal.
    pub fn int_in(
        &mut self,
        name: &str,
        range: RangeInclusive<i64>,
        err: impl Fn() -> RpcError,
    ) -> Result<Option<i64>, RpcError> {
        match self.int_or(name, &err)? {
            Some(n) if !range.contains(&n) => Err(err()),
            n => Ok(n),
        }
    }

    // ---- DryRun and ClientToken: decoded here, honoured by the framework ----

    /// `DryRun` (absent: `false`). When `true`, the framework rolls back every write and
    /// answers `DryRunOperation` once the action has checked everything.
    pub fn dry_run(&mut self) -> Result<bool, RpcError> {
        self.dry_run = self.bool("DryRun")?.unwrap_or(false);
        Ok(self.dry_run)
    }

    /// `ClientToken` as ECS reads it: present means validated (an empty one is refused).
    /// The framework then runs the action's write once per token.
    pub fn client_token(&mut self) -> Result<(), RpcError> {
        let token = self.cursor.optional("ClientToken");
        self.set_client_token(token)
    }

    /// `ClientToken` as VPC reads it: an empty one counts as absent.
    pub fn client_token_if_given(&mut self) -> Result<(), RpcError> {
        let token = self.cursor.non_empty("ClientToken");
        self.set_client_token(token)
    }

    fn set_client_token(&mut self, token: Option<&str>) -> Result<(), RpcError> {
        let Some(token) = token else {
            return Ok(());
        };
        // The fingerprint covers the action and every business parameter.
        let fingerprint = self.params.iter().chain([("Action", self.action)]);
        let token = ClientToken::new(token, fingerprint).map_err(self.map)?;
        self.client_token = Some(token);
        Ok(())
    }

    // ---- tags ----

    /// `Tag.N.Key` / `Tag.N.Value` to set (also the deprecated lower-case `key`/`value`);
    /// a tag without a key is `TagKeyMalformed`.
    pub fn tags(&mut self) -> Result<Vec<Tag>, RpcError> {
        let mut out = Vec::new();
        for (_, fields) in self.cursor.object_list("Tag") {
            let key = tag_field(&fields, "Key", "key").unwrap_or("");
            if key.is_empty() {
                return Err(self.error(DomainError::TagKeyMalformed));
            }
            out.push(Tag {
                key: key.to_string(),
                value: tag_field(&fields, "Value", "value")
                    .unwrap_or("")
                    .to_string(),
            });
        }
        Ok(out)
    }

    /// `Tag.N.Key` with an optional `Tag.N.Value`, as filters: (key, the value when one
    /// is given). A value without a key is `value_without_key`; an entry with neither (an
    /// empty value is none) is skipped.
    pub fn tag_filters(
        &mut self,
        value_without_key: impl Fn() -> RpcError,
    ) -> Result<Vec<(String, Option<String>)>, RpcError> {
        self.filters_of_tags(false, value_without_key)
    }

    /// [`Input::tag_filters`] as ECS reads them: a `Tag.N.Value` without its key is
    /// refused even when it is empty.
    pub fn tag_filters_strict(
        &mut self,
        value_without_key: impl Fn() -> RpcError,
    ) -> Result<Vec<(String, Option<String>)>, RpcError> {
        self.filters_of_tags(true, value_without_key)
    }

    fn filters_of_tags(
        &mut self,
        empty_value_counts: bool,
        value_without_key: impl Fn() -> RpcError,
    ) -> Result<Vec<(String, Option<String>)>, RpcError> {
        let mut out = Vec::new();
        for (_, fields) in self.cursor.object_list("Tag") {
            let key = tag_field(&fields, "Key", "key").unwrap_or("");
            let value = tag_field(&fields, "Value", "value");
            if key.is_empty() {
                if value.is_some_and(|v| empty_value_counts || !v.is_empty()) {
                    return Err(value_without_key());
                }
                continue;
            }
            out.push((
                key.to_string(),
                value.filter(|v| !v.is_empty()).map(str::to_string),
            ));
        }
        Ok(out)
    }
}

/// Deserializes a JSON array of at most `.0` strings, failing at the first one too many.
struct AtMost(usize);

impl<'de> serde::de::DeserializeSeed<'de> for AtMost {
    type Value = Vec<String>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<String>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for AtMost {
    type Value = Vec<String>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an array of at most {} strings", self.0)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.0));
        while let Some(item) = seq.next_element::<String>()? {
            if out.len() == self.0 {
                return Err(serde::de::Error::invalid_length(out.len() + 1, &self));
            }
            out.push(item);
        }
        Ok(out)
    }
}

/// A tag field by its name, or by the deprecated lower-case alias.
fn tag_field<'a>(fields: &BTreeMap<&str, &'a str>, name: &str, alias: &str) -> Option<&'a str> {
    fields.get(name).or_else(|| fields.get(alias)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input_of<'a>(params: &'a Params, config: &'a ProductConfig) -> Input<'a> {
        Input::new(params, "DescribeThings", config, crate::errors::domain)
    }

    #[test]
    fn region_bools_and_integers() {
        let config = ProductConfig::default();
        let params = Params::from_pairs([
            ("RegionId", "cn-hangzhou"),
            ("A", "True"),
            ("B", "no"),
            ("N", "42"),
            ("Spaced", " 1"),
            ("Signed", "+1"),
            ("M", "x"),
        ]);
        let mut input = input_of(&params, &config);
        assert_eq!(input.region().expect("known"), "cn-hangzhou");
        assert_eq!(input.bool("A").expect("bool"), Some(true));
        assert_eq!(
            input.bool("B").expect_err("not a bool").code,
            "InvalidParameter"
        );
        assert_eq!(input.bool("Absent").expect("absent"), None);
        assert_eq!(input.int("N").expect("int"), Some(42));
        assert_eq!(
            input.int("M").expect_err("not an int").code,
            "InvalidParameter"
        );
        let err = input
            .int_in("N", 1..=10, || RpcError::new(400, "TooBig", "too big"))
            .expect_err("out of range");
        assert_eq!(err.code, "TooBig");

        let params = Params::from_pairs([("RegionId", "mars-1")]);
        let mut input = input_of(&params, &config);
        let err = input.region().expect_err("unknown");
        assert_eq!(
            (err.status.as_u16(), err.code.as_ref()),
            (404, "InvalidRegionId.NotFound")
        );
        let params = Params::from_pairs([("Other", "x")]);
        let mut input = input_of(&params, &config);
        assert_eq!(input.region().expect_err("missing").code, "MissingRegionId");
        assert_eq!(input.optional_region().expect("absent"), None);
    }

    #[test]
    fn json_string_arrays() {
        let config = ProductConfig::default();
        let bad = || RpcError::new(400, "Bad", "bad");
        let params = Params::from_pairs([
            ("Ids", r#"["a","b","a"]"#),
            ("Empty", ""),
            ("Numbers", "[1]"),
            ("Bare", "a"),
        ]);
        let mut input = input_of(&params, &config);
        assert_eq!(
            input.json_strings("Ids", 3, bad).expect("array"),
            Some(vec!["a".into(), "b".into(), "a".into()])
        );
        assert_eq!(input.json_strings("Empty", 3, bad).expect("absent"), None);
        assert_eq!(input.json_strings("Absent", 3, bad).expect("absent"), None);
        for name in ["Numbers", "Bare"] {
            assert_eq!(
                input
                    .json_strings(name, 3, bad)
                    .expect_err("malformed")
                    .code,
                "Bad"
            );
        }
        // One too many is refused before the rest is read, and trailing text too.
        let huge = format!("[{}]", vec!["\"x\""; 100_000].join(","));
        let params = Params::from_pairs([("Huge", huge.as_str()), ("Trailing", r#"["a"] x"#)]);
        let mut input = input_of(&params, &config);
        assert_eq!(
            input
                .json_strings("Huge", 100, bad)
                .expect_err("capped")
                .code,
            "Bad"
        );
        assert_eq!(
            input
                .json_strings("Trailing", 100, bad)
                .expect_err("trailing")
                .code,
            "Bad"
        );
        assert!(input.unread().is_empty());
    }

    #[test]
    fn tags_and_filters() {
        let config = ProductConfig::default();
        let params = Params::from_pairs([
            ("Tag.1.Key", "a"),
            ("Tag.1.Value", "1"),
            ("Tag.2.key", "b"),
            ("Tag.3.Key", "c"),
        ]);
        let mut input = input_of(&params, &config);
        let tags = input.tags().expect("tags");
        assert_eq!(
            tags.iter()
                .map(|t| (t.key.as_str(), t.value.as_str()))
                .collect::<Vec<_>>(),
            [("a", "1"), ("b", ""), ("c", "")]
        );
        let mut input = input_of(&params, &config);
        let filters = input
            .tag_filters(|| RpcError::new(400, "NoKey", "no key"))
            .expect("filters");
        assert_eq!(filters[0], ("a".into(), Some("1".into())));
        assert_eq!(filters[1], ("b".into(), None));

        // An empty value without a key: nothing to VPC, a refusal to ECS.
        let params = Params::from_pairs([("Tag.1.Key", ""), ("Tag.1.Value", "")]);
        let mut input = input_of(&params, &config);
        assert_eq!(input.tag_filters(|| invalid("Tag")).expect("skipped"), []);
        let mut input = input_of(&params, &config);
        let err = input
            .tag_filters_strict(|| RpcError::new(400, "NoKey", "no key"))
            .expect_err("strict");
        assert_eq!(err.code, "NoKey");

        let params = Params::from_pairs([("Tag.1.Value", "orphan")]);
        let mut input = input_of(&params, &config);
        assert_eq!(
            input.tags().expect_err("no key").code,
            "InvalidTagKey.Malformed"
        );
        let mut input = input_of(&params, &config);
        let err = input
            .tag_filters(|| RpcError::new(400, "NoKey", "no key"))
            .expect_err("value without key");
        assert_eq!(err.code, "NoKey");
    }

    #[test]
    fn json_string_lists() {
        let config = ProductConfig::default();
        let params = Params::from_pairs([
            ("Ids", r#"["i-a","i-b"]"#),
            ("Bad", "i-a"),
            ("Numbers", "[1]"),
            ("Empty", "[]"),
        ]);
        let refuse = || RpcError::new(400, "Bad", "bad");
        let mut input = input_of(&params, &config);
        assert_eq!(
            input.json_strings("Ids", 2, refuse).expect("list"),
            Some(vec!["i-a".to_string(), "i-b".to_string()])
        );
        assert_eq!(
            input.json_strings("Ids", 1, refuse).expect_err("long").code,
            "Bad"
        );
        assert!(input.json_strings("Bad", 9, refuse).is_err());
        assert!(input.json_strings("Numbers", 9, refuse).is_err());
        assert_eq!(
            input.json_strings("Empty", 9, refuse).expect("empty"),
            Some(Vec::new())
        );
        assert_eq!(
            input.json_strings("Absent", 9, refuse).expect("absent"),
            None
        );
    }

    #[test]
    fn dry_run_and_client_tokens_reach_the_framework() {
        let config = ProductConfig::default();
        let call = CallContext {
            request_id: "R".into(),
            account_id: "A".into(),
            access_key_id: "K".into(),
            action: "DescribeThings".into(),
            version: "v".into(),
            source_ip: String::new(),
        };
        let params = Params::from_pairs([("DryRun", "true"), ("ClientToken", "t-1")]);
        let mut input = input_of(&params, &config);
        assert!(input.dry_run().expect("bool"));
        input.client_token().expect("valid");
        let (dry_run, token) = input.finish(&call).expect("finished");
        assert!(dry_run && token.is_some());

        let params = Params::from_pairs([("ClientToken", "")]);
        let mut input = input_of(&params, &config);
        let err = input.client_token().expect_err("empty");
        assert_eq!(err.code, "InvalidClientToken.ValueNotSupported");
        let mut input = input_of(&params, &config);
        input.client_token_if_given().expect("empty is absent");
        assert!(input.finish(&call).expect("finished").1.is_none());
    }
}

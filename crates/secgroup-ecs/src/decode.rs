//! Decoding helpers shared by the handlers: typed reads of the parameter cursor with the
//! documented error for each way a value can be wrong.

use std::collections::BTreeMap;

use secgroup_domain::regions::RegionCatalog;
use secgroup_domain::{DomainError, Tag};
use secgroup_rpc::{ParamCursor, RpcError};

use crate::errors::{from_domain, invalid, missing};

/// How an operation documents a missing `RegionId`.
pub fn missing_region(action: &str) -> RpcError {
    match action {
        "ModifySecurityGroupPolicy" => RpcError::new(400, "MissingParamter.RegionId", "The RegionId should not be null."),
        "DeleteSecurityGroup" => RpcError::new(400, "MissingParameter.RegionId", "The parameter \"RegionId\" should not be null."),
        "DescribeSecurityGroupAttribute" => RpcError::new(400, "MissingParameter.RegionId", "The parameter RegionId is missing."),
        "DescribeSecurityGroups" => RpcError::new(
            400,
            "MissingParameter.RegionId",
            "The input parameter RegionId that is mandatory for processing this request is not supplied.",
        ),
        "TagResources" | "UntagResources" | "ListTagResources" => crate::errors::tag_missing("RegionId"),
        _ => missing("RegionId"),
    }
}

/// The required `RegionId`, which must be one this server offers.
pub fn region(
    p: &mut ParamCursor<'_>,
    action: &str,
    regions: &RegionCatalog,
) -> Result<String, RpcError> {
    let id = p
        .non_empty("RegionId")
        .ok_or_else(|| missing_region(action))?;
    if !regions.contains(id) {
        return Err(from_domain(DomainError::RegionNotFound(id.to_string())));
    }
    Ok(id.to_string())
}

/// `true`/`false` in any case (the Python Tea SDK sends `True`).
pub fn bool(p: &mut ParamCursor<'_>, name: &str) -> Result<Option<bool>, RpcError> {
    match p.non_empty(name) {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(invalid(name)),
    }
}

/// An integer within `range`, or the error `err`.
pub fn int_in(
    p: &mut ParamCursor<'_>,
    name: &str,
    range: std::ops::RangeInclusive<i64>,
    err: impl Fn() -> RpcError,
) -> Result<Option<i64>, RpcError> {
    match p.non_empty(name) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| range.contains(n))
            .map(Some)
            .ok_or_else(err),
    }
}

/// `Tag.N.Key` / `Tag.N.Value` (also the deprecated lower-case `key`/`value`).
pub fn tags(p: &mut ParamCursor<'_>) -> Result<Vec<Tag>, RpcError> {
    p.object_list("Tag")
        .into_iter()
        .map(|(_, fields)| tag(&fields))
        .collect::<Result<Vec<_>, _>>()
        .map_err(from_domain)
}

fn tag(fields: &BTreeMap<&str, &str>) -> Result<Tag, DomainError> {
    let key = fields
        .get("Key")
        .or_else(|| fields.get("key"))
        .copied()
        .unwrap_or("");
    let value = fields
        .get("Value")
        .or_else(|| fields.get("value"))
        .copied()
        .unwrap_or("");
    if key.is_empty() {
        return Err(DomainError::TagKeyMalformed);
    }
    Ok(Tag {
        key: key.to_string(),
        value: value.to_string(),
    })
}

/// `Tag.N.Key` with optional `Tag.N.Value` as filters: (key, Some(value) when a value is given).
pub fn tag_filters(
    p: &mut ParamCursor<'_>,
    value_without_key: impl Fn() -> RpcError,
) -> Result<Vec<(String, Option<String>)>, RpcError> {
    let mut out = Vec::new();
    for (_, fields) in p.object_list("Tag") {
        let key = fields
            .get("Key")
            .or_else(|| fields.get("key"))
            .copied()
            .unwrap_or("");
        let value = fields.get("Value").or_else(|| fields.get("value")).copied();
        if key.is_empty() {
            if value.is_some() {
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

/// Offset-based opaque `NextToken`s.
pub mod next_token {
    /// A token for the item at `offset`.
    pub fn encode(offset: usize) -> String {
        format!("{:016x}", (offset as u64) ^ SALT)
    }
    /// The offset a token stands for; `None` when it is not one of ours.
    pub fn decode(token: &str) -> Option<usize> {
        if token.len() != 16 {
            return None;
        }
        u64::from_str_radix(token, 16)
            .ok()
            .map(|v| (v ^ SALT) as usize)
    }
    /// Keeps tokens from looking like plain counters.
    const SALT: u64 = 0x5ec9_a0b1_7e57_1d00;

    #[cfg(test)]
    mod tests {
        #[test]
        fn round_trip() {
            assert_eq!(super::decode(&super::encode(42)), Some(42));
            assert_eq!(super::decode("zz"), None);
        }
    }
}

//! Typed reads of the parameter cursor, with the error for each way a value can be wrong.

use secgroup_domain::ops::idempotency::ClientToken;
use secgroup_domain::ops::vpcs::Page;
use secgroup_domain::regions::RegionCatalog;
use secgroup_domain::{validate, DomainError, Tag};
use secgroup_rpc::{CallContext, ParamCursor, Params, RpcError};

use crate::errors::{invalid, region_not_found};

fn known(id: &str, regions: &RegionCatalog) -> Result<String, RpcError> {
    if regions.contains(id) {
        Ok(id.to_string())
    } else {
        Err(region_not_found())
    }
}

/// A required `RegionId` that this server offers.
pub fn region(p: &mut ParamCursor<'_>, regions: &RegionCatalog) -> Result<String, RpcError> {
    known(p.required("RegionId")?, regions)
}

/// An optional `RegionId`; when given, one this server offers.
pub fn optional_region(
    p: &mut ParamCursor<'_>,
    regions: &RegionCatalog,
) -> Result<Option<String>, RpcError> {
    p.non_empty("RegionId")
        .map(|id| known(id, regions))
        .transpose()
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

/// `DryRun`, absent meaning `false`.
pub fn dry_run(p: &mut ParamCursor<'_>) -> Result<bool, RpcError> {
    Ok(bool(p, "DryRun")?.unwrap_or(false))
}

pub fn int(p: &mut ParamCursor<'_>, name: &str) -> Result<Option<i64>, RpcError> {
    p.non_empty(name)
        .map(|v| v.trim().parse::<i64>().map_err(|_| invalid(name)))
        .transpose()
}

/// `PageNumber` (from 1, default 1) and `PageSize` (1–50, default 10).
pub fn page(p: &mut ParamCursor<'_>) -> Result<Page, RpcError> {
    let number = int(p, "PageNumber")?.unwrap_or(1);
    let size = int(p, "PageSize")?.unwrap_or(10);
    let number = usize::try_from(number)
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| invalid("PageNumber"))?;
    let size = usize::try_from(size)
        .ok()
        .filter(|n| (1..=50).contains(n))
        .ok_or_else(|| invalid("PageSize"))?;
    Ok(Page { number, size })
}

/// `Tag.N.Key` / `Tag.N.Value` to set.
pub fn tags(p: &mut ParamCursor<'_>) -> Result<Vec<Tag>, RpcError> {
    let mut out = Vec::new();
    for (_, fields) in p.object_list("Tag") {
        let key = fields.get("Key").copied().unwrap_or("");
        if key.is_empty() {
            return Err(secgroup_ecs::errors::from_domain(
                DomainError::TagKeyMalformed,
            ));
        }
        out.push(Tag {
            key: key.to_string(),
            value: fields.get("Value").copied().unwrap_or("").to_string(),
        });
    }
    Ok(out)
}

/// `Tag.N.Key` with an optional `Tag.N.Value` as filters: (key, the value when one is given).
pub fn tag_filters(p: &mut ParamCursor<'_>) -> Result<Vec<(String, Option<String>)>, RpcError> {
    let mut out = Vec::new();
    for (_, fields) in p.object_list("Tag") {
        let key = fields.get("Key").copied().unwrap_or("");
        let value = fields.get("Value").copied().filter(|v| !v.is_empty());
        if key.is_empty() {
            if value.is_some() {
                return Err(secgroup_ecs::errors::from_domain(
                    DomainError::TagKeyMalformed,
                ));
            }
            continue;
        }
        out.push((key.to_string(), value.map(str::to_string)));
    }
    if out.len() > validate::MAX_TAGS_PER_REQUEST {
        return Err(secgroup_ecs::errors::from_domain(DomainError::TooManyTags(
            validate::MAX_TAGS_PER_REQUEST,
        )));
    }
    Ok(out)
}

/// The `ClientToken` of a request, fingerprinted with its action and business parameters.
pub fn client_token(
    ctx: &CallContext,
    params: &Params,
    p: &mut ParamCursor<'_>,
) -> Result<Option<ClientToken>, RpcError> {
    p.non_empty("ClientToken")
        .map(|t| ClientToken::new(t, params.iter().chain([("Action", ctx.action.as_str())])))
        .transpose()
        .map_err(secgroup_ecs::errors::from_domain)
}

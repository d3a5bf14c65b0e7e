//! `DescribeInstances` and `DescribeInstanceAttribute` (docs/ecs.md §7.5, §7.6).

use chrono::{DateTime, NaiveDateTime, Utc};
use secgroup_domain::network::InstanceStatus;
use secgroup_domain::ops::instances::query::{self as ops, InstanceFilter};
use secgroup_domain::{validate, Store};
use secgroup_rpc::{CallContext, Node, ParamCursor, Params, RpcError};

use super::{dry_run, instance_id, view};
use crate::decode::{self, next_token};
use crate::errors::{dry_run_passed, invalid};
use crate::Ecs;

/// At most this many ids or addresses in one JSON-array filter.
const MAX_LIST_FILTER: usize = 100;

/// A JSON-array string filter (`InstanceIds=["i-a","i-b"]`).
fn json_list(
    p: &mut ParamCursor<'_>,
    name: &str,
    err: impl Fn() -> RpcError,
) -> Result<Option<Vec<String>>, RpcError> {
    let Some(text) = p.non_empty(name) else {
        return Ok(None);
    };
    let list: Vec<String> = serde_json::from_str(text).map_err(|_| err())?;
    if list.len() > MAX_LIST_FILTER {
        return Err(err());
    }
    Ok(Some(list))
}

/// One of `allowed`, or the 404 `code`/`message` the operation documents.
fn one_of(
    p: &mut ParamCursor<'_>,
    name: &str,
    allowed: &[&str],
    code: &'static str,
    message: &'static str,
) -> Result<Option<String>, RpcError> {
    match p.non_empty(name) {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
        Some(_) => Err(RpcError::new(404, code, message)),
    }
}

/// `Filter.N.Key` (`CreationStartTime`/`CreationEndTime`) with `Filter.N.Value`
/// (`yyyy-MM-ddTHH:mmZ`).
fn creation_filters(p: &mut ParamCursor<'_>, filter: &mut InstanceFilter) -> Result<(), RpcError> {
    for (n, fields) in p.object_list("Filter") {
        let key = fields.get("Key").copied().unwrap_or("");
        let value = fields.get("Value").copied().unwrap_or("");
        if key.is_empty() && value.is_empty() {
            continue;
        }
        let time = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%MZ")
            .map(|t| DateTime::<Utc>::from_naive_utc_and_offset(t, Utc))
            .map_err(|_| invalid(&format!("Filter.{n}.Value")))?;
        match key {
            "CreationStartTime" => filter.created_from = Some(time),
            "CreationEndTime" => filter.created_to = Some(time),
            _ => {
                return Err(RpcError::new(
                    404,
                    "InvalidFilterKey.NotFound",
                    "The specified filter key is not found.",
                ))
            }
        }
    }
    Ok(())
}

fn filter(p: &mut ParamCursor<'_>) -> Result<InstanceFilter, RpcError> {
    let mut f = InstanceFilter {
        ids: json_list(p, "InstanceIds", || {
            RpcError::new(
                400,
                "InvalidInstanceIds.Malformed",
                "The specified parameter InstanceIds is not valid.",
            )
        })?,
        vpc_id: p.non_empty("VpcId").map(str::to_string),
        vswitch_id: p.non_empty("VSwitchId").map(str::to_string),
        security_group_id: p.non_empty("SecurityGroupId").map(str::to_string),
        zone_id: p.non_empty("ZoneId").map(str::to_string),
        name: p.non_empty("InstanceName").map(str::to_string),
        private_ips: json_list(p, "PrivateIpAddresses", || invalid("PrivateIpAddresses"))?,
        public_ips: json_list(p, "PublicIpAddresses", || invalid("PublicIpAddresses"))?,
        instance_type: p.non_empty("InstanceType").map(str::to_string),
        image_id: p.non_empty("ImageId").map(str::to_string),
        resource_group_id: p.non_empty("ResourceGroupId").map(str::to_string),
        key_pair_name: p.non_empty("KeyPairName").map(str::to_string),
        ..InstanceFilter::default()
    };
    f.status = match p.non_empty("Status") {
        None => None,
        Some(s) => Some(InstanceStatus::parse(s).ok_or_else(|| {
            RpcError::new(
                404,
                "InvalidStatus.NotFound",
                "The specified Status is not found",
            )
        })?),
    };
    let network = one_of(
        p,
        "InstanceNetworkType",
        &["vpc", "classic"],
        "InvalidNetworkType.NotFound",
        "The specified InstanceNetworkType is not found",
    )?;
    let lock = one_of(
        p,
        "LockReason",
        &[
            "financial",
            "security",
            "recycling",
            "dedicatedhostfinancial",
            "refunded",
        ],
        "InvalidLockReason.NotFound",
        "The specified LockReason is not found",
    )?;
    // Every instance is a VPC instance without locks, classic (inner) addresses or EIPs.
    let inner = json_list(p, "InnerIpAddresses", || invalid("InnerIpAddresses"))?;
    let eips = json_list(p, "EipAddresses", || invalid("EipAddresses"))?;
    f.nothing = network.as_deref() == Some("classic")
        || lock.is_some()
        || inner.is_some_and(|l| !l.is_empty())
        || eips.is_some_and(|l| !l.is_empty());
    f.instance_charge_type = one_of(
        p,
        "InstanceChargeType",
        &["PostPaid", "PrePaid"],
        "InvalidInstanceChargeType.NotFound",
        "The InstanceChargeType does not exist in our records",
    )?;
    f.internet_charge_type = one_of(
        p,
        "InternetChargeType",
        &["PayByTraffic", "PayByBandwidth"],
        "InvalidInternetChargeType.ValueNotSupported",
        "The specified InternetChargeType is not valid",
    )?;
    f.tags = decode::tag_filters(p, || {
        RpcError::new(
            400,
            "InvalidTag.Mismatch",
            "The specified Tag.n.Key and Tag.n.Value are not match.",
        )
    })?;
    if f.tags.len() > validate::MAX_TAGS_PER_REQUEST {
        return Err(RpcError::new(
            400,
            "InvalidTagCount",
            "The specified tags are beyond the permitted range.",
        ));
    }
    creation_filters(p, &mut f)?;
    p.string_list("AdditionalAttributes");
    Ok(f)
}

/// Page numbers (deprecated: `PageNumber`/`PageSize`, size 1–100, default 10) or tokens
/// once `MaxResults`/`NextToken` appear (`MaxResults` clamped into 10–100).
enum Paging {
    Pages { number: usize, size: usize },
    Tokens { offset: usize, max: usize },
}

fn paging(p: &mut ParamCursor<'_>) -> Result<Paging, RpcError> {
    let max = decode::int_in(p, "MaxResults", i64::MIN..=i64::MAX, || {
        invalid("MaxResults")
    })?;
    let token = p.non_empty("NextToken");
    if max.is_some() || token.is_some() {
        let offset = match token {
            None => 0,
            Some(t) => next_token::decode(t).ok_or_else(|| invalid("NextToken"))?,
        };
        let max = max.unwrap_or(10).clamp(10, 100) as usize;
        return Ok(Paging::Tokens { offset, max });
    }
    let number = decode::int_in(p, "PageNumber", 1..=i64::from(u32::MAX), || {
        invalid("PageNumber")
    })?
    .unwrap_or(1) as usize;
    let size =
        decode::int_in(p, "PageSize", 1..=100, || invalid("PageSize"))?.unwrap_or(10) as usize;
    Ok(Paging::Pages { number, size })
}

pub async fn describe<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let filter = filter(&mut p)?;
    let paging = paging(&mut p)?;
    let dry_run = dry_run(&mut p)?;
    ctx.note_unread(&p);
    if dry_run {
        return Err(dry_run_passed());
    }
    let window = match paging {
        Paging::Pages { number, size } => ((number - 1).saturating_mul(size), size),
        Paging::Tokens { offset, max } => (offset, max),
    };
    let account = ctx.account_id.clone();
    let timings = ecs.config.instance_timings;
    let (total, page) = ecs
        .read(move |tx| {
            ops::list(
                tx,
                &account,
                &region_id,
                &filter,
                window,
                &timings,
                Utc::now(),
            )
        })
        .await?;
    let end = window.0.saturating_add(page.len());
    let node = Node::object().int("TotalCount", total as i64);
    let node = match paging {
        Paging::Pages { number, size } => node
            .int("PageNumber", number as i64)
            .int("PageSize", size as i64)
            .str("NextToken", ""),
        Paging::Tokens { max, .. } => {
            let token = if end < total {
                next_token::encode(end)
            } else {
                String::new()
            };
            node.int("PageSize", max as i64).str("NextToken", token)
        }
    };
    Ok(node
        .field(
            "Instances",
            Node::list("Instance", page.iter().map(view::instance)),
        )
        .build())
}

pub async fn describe_attribute<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let id = instance_id(&mut p)?;
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    let timings = ecs.config.instance_timings;
    let v = ecs
        .read(move |tx| ops::attribute(tx, &account, &id, &timings, Utc::now()))
        .await?;
    Ok(view::attribute(&v))
}

//! `RunInstances` and `CreateInstance` (docs/ecs.md §7.3, §7.4).

use std::collections::BTreeMap;

use chrono::Utc;
use secgroup_domain::ops::idempotency;
use secgroup_domain::ops::instances::launch::{self as ops, Launched, NewInstances};
use secgroup_domain::ops::instances::InstanceAttributes;
use secgroup_domain::{DomainError, Store};
use secgroup_rpc::{CallContext, Node, ParamCursor, Params, RpcError};

use super::{count, dry_run, int};
use crate::decode;
use crate::errors::from_domain;
use crate::security_groups::client_token;
use crate::Ecs;

/// The network of the primary interface: from `NetworkInterface.N` (`InstanceType=Primary`)
/// when there is one, else from the top-level parameters.
struct Network {
    vswitch_id: Option<String>,
    security_group_ids: Vec<String>,
    private_ip: Option<String>,
}

fn combination(what: &'static str) -> RpcError {
    from_domain(DomainError::InstanceParameterCombination(what))
}

fn interface_error(what: &'static str) -> RpcError {
    from_domain(DomainError::NetworkInterfaceInvalid(what))
}

/// `SecurityGroupId` xor `SecurityGroupIds.N` (or the interface's `.SecurityGroupId` /
/// `.SecurityGroupIds.M`).
fn groups(single: Option<&str>, list: Vec<&str>) -> Result<Vec<String>, RpcError> {
    let list: Vec<String> = list
        .into_iter()
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect();
    match (single, list.is_empty()) {
        (Some(_), false) => Err(combination(
            "The parameters SecurityGroupId and SecurityGroupIds cannot be specified at the same time.",
        )),
        (Some(g), true) => Ok(vec![g.to_string()]),
        (None, _) => Ok(list),
    }
}

/// The `.SecurityGroupIds.M` fields of one `NetworkInterface.N` entry, by M.
fn nested_groups<'a>(fields: &BTreeMap<&'a str, &'a str>) -> Vec<&'a str> {
    let mut nested: Vec<(u32, &str)> = fields
        .iter()
        .filter_map(|(k, v)| {
            let m = k.strip_prefix("SecurityGroupIds.")?.parse::<u32>().ok()?;
            Some((m, *v))
        })
        .collect();
    nested.sort_by_key(|(m, _)| *m);
    nested.into_iter().map(|(_, v)| v).collect()
}

fn network(p: &mut ParamCursor<'_>, with_interfaces: bool) -> Result<Network, RpcError> {
    let top_group = p.non_empty("SecurityGroupId");
    let top_groups = if with_interfaces {
        p.string_list("SecurityGroupIds")
    } else {
        Vec::new()
    };
    let top = Network {
        vswitch_id: p.non_empty("VSwitchId").map(str::to_string),
        security_group_ids: groups(top_group, top_groups)?,
        private_ip: p.non_empty("PrivateIpAddress").map(str::to_string),
    };
    if !with_interfaces {
        return Ok(top);
    }
    let interfaces = p.object_list("NetworkInterface");
    let mut primary = None;
    for (_, fields) in &interfaces {
        match fields.get("InstanceType").copied() {
            Some(t) if t.eq_ignore_ascii_case("Primary") => {
                if primary.replace(fields).is_some() {
                    return Err(interface_error(
                        "Only one primary network interface can be specified.",
                    ));
                }
            }
            _ => {
                return Err(interface_error(
                    "Secondary network interfaces are not supported: specify only the primary one (NetworkInterface.N.InstanceType=Primary).",
                ))
            }
        }
    }
    let Some(fields) = primary else {
        return Ok(top);
    };
    if !top.security_group_ids.is_empty() {
        return Err(combination(
            "SecurityGroupId and SecurityGroupIds cannot be given with a primary NetworkInterface.",
        ));
    }
    let pick = |own: Option<&&str>, top: Option<String>| -> Result<Option<String>, RpcError> {
        match (own.filter(|v| !v.is_empty()), top) {
            (Some(a), Some(b)) if **a != b => Err(combination(
                "The primary NetworkInterface and the top-level parameters disagree.",
            )),
            (Some(a), _) => Ok(Some(a.to_string())),
            (None, b) => Ok(b),
        }
    };
    Ok(Network {
        vswitch_id: pick(fields.get("VSwitchId"), top.vswitch_id)?,
        security_group_ids: groups(
            fields
                .get("SecurityGroupId")
                .copied()
                .filter(|g| !g.is_empty()),
            nested_groups(fields),
        )?,
        private_ip: pick(fields.get("PrimaryIpAddress"), top.private_ip)?,
    })
}

/// The echoed, unsimulated parameters.
fn attributes(p: &mut ParamCursor<'_>, run: bool) -> Result<InstanceAttributes, RpcError> {
    let text = |p: &mut ParamCursor<'_>, name: &str, default: &str| {
        p.non_empty(name).unwrap_or(default).to_string()
    };
    let out = int(p, "InternetMaxBandwidthOut")?.unwrap_or(0);
    Ok(InstanceAttributes {
        instance_charge_type: text(p, "InstanceChargeType", "PostPaid"),
        internet_charge_type: text(p, "InternetChargeType", "PayByTraffic"),
        internet_max_bandwidth_in: int(p, "InternetMaxBandwidthIn")?.unwrap_or(100),
        internet_max_bandwidth_out: if run { out } else { 0 },
        spot_strategy: text(p, "SpotStrategy", "NoSpot"),
        resource_group_id: text(p, "ResourceGroupId", ""),
        key_pair_name: text(p, "KeyPairName", ""),
        deletion_protection: decode::bool(p, "DeletionProtection")?.unwrap_or(false),
        auto_release_time: text(p, "AutoReleaseTime", ""),
        credit_specification: text(p, "CreditSpecification", ""),
        deployment_set_id: text(p, "DeploymentSetId", ""),
        hpc_cluster_id: text(p, "HpcClusterId", ""),
        system_disk_category: text(p, "SystemDisk.Category", "cloud_essd"),
        ..InstanceAttributes::default()
    })
}

/// Everything both launches share; `run`: RunInstances (several, auto-started).
fn decode_launch(
    ecs_regions: &secgroup_domain::regions::RegionCatalog,
    ctx: &CallContext,
    p: &mut ParamCursor<'_>,
    run: bool,
) -> Result<NewInstances, RpcError> {
    let region_id = decode::region(p, &ctx.action, ecs_regions)?;
    let image_id = if run {
        p.required("ImageId")?
    } else {
        p.non_empty("ImageId").unwrap_or("")
    };
    let instance_type = p.required("InstanceType")?;
    let net = network(p, run)?;
    let vswitch_id = net
        .vswitch_id
        .ok_or_else(|| RpcError::missing_parameter("VSwitchId"))?;
    if net.security_group_ids.is_empty() {
        return Err(RpcError::missing_parameter("SecurityGroupId"));
    }
    let (amount, min_amount) = if run {
        (
            count(p, "Amount", DomainError::InstanceAmountInvalid)?.unwrap_or(1),
            count(p, "MinAmount", DomainError::MinAmountInvalid)?,
        )
    } else {
        (1, None)
    };
    Ok(NewInstances {
        region_id,
        zone_id: p.non_empty("ZoneId").map(str::to_string),
        vswitch_id,
        security_group_ids: net.security_group_ids,
        private_ip: net.private_ip,
        amount,
        min_amount,
        name: p.non_empty("InstanceName").map(str::to_string),
        host_name: p.non_empty("HostName").map(str::to_string),
        host_names: if run {
            p.string_list("HostNames")
                .into_iter()
                .map(str::to_string)
                .collect()
        } else {
            Vec::new()
        },
        unique_suffix: run && decode::bool(p, "UniqueSuffix")?.unwrap_or(false),
        description: p.optional("Description").unwrap_or("").to_string(),
        instance_type: instance_type.to_string(),
        image_id: image_id.to_string(),
        tags: decode::tags(p)?,
        auto_start: run,
        attributes: attributes(p, run)?,
    })
}

async fn launch<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
    run: bool,
) -> Result<Launched, RpcError> {
    let mut p = params.cursor();
    let new = decode_launch(&ecs.config.regions, ctx, &mut p, run)?;
    let dry_run = dry_run(&mut p)?;
    let token = client_token(ctx, params, p.optional("ClientToken"))?;
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    let limits = ecs.config.limits.clone();
    ecs.write(move |tx| {
        let now = Utc::now();
        if dry_run {
            return ops::launch(tx, &account, &new, &limits, true, now);
        }
        idempotency::once(tx, &account, token.as_ref(), now, |tx| {
            ops::launch(tx, &account, &new, &limits, false, now)
        })
    })
    .await
}

pub async fn run<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let launched = launch(ecs, ctx, params, true).await?;
    Ok(Node::object()
        .field(
            "InstanceIdSets",
            Node::list(
                "InstanceIdSet",
                launched.instance_ids.into_iter().map(Node::Str),
            ),
        )
        .build())
}

pub async fn create<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let launched = launch(ecs, ctx, params, false).await?;
    let id = launched.instance_ids.into_iter().next().unwrap_or_default();
    Ok(Node::object().str("InstanceId", id).build())
}

//! `RunInstances` and `CreateInstance` (docs/ecs.md §7.3, §7.4), two typed actions over one
//! decoder.

use std::collections::BTreeMap;

use secgroup_api::{Action, Cx, Input};
use secgroup_domain::ids::InstanceId;
use secgroup_domain::ids::{SecurityGroupId, VSwitchId};
use secgroup_domain::ops::instances::launch::{self as ops, Launched, NewInstances};
use secgroup_domain::ops::instances::InstanceAttributes;
use secgroup_domain::ops::placement;
use secgroup_domain::{DomainError, Store};
use secgroup_rpc::{Node, RpcError};

use super::{count, int};
use crate::errors::{combination, network_interface};
use crate::Ecs;

/// The network of the primary interface: from `NetworkInterface.N` (`InstanceType=Primary`)
/// when there is one, else from the top-level parameters.
#[derive(Debug, PartialEq, Eq)]
struct Network {
    vswitch_id: Option<String>,
    security_group_ids: Vec<String>,
    private_ip: Option<String>,
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

fn network(p: &mut Input<'_>, with_interfaces: bool) -> Result<Network, RpcError> {
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
                    return Err(network_interface(
                        "Only one primary network interface can be specified.",
                    ));
                }
            }
            _ => {
                return Err(network_interface(
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
fn attributes(p: &mut Input<'_>, run: bool) -> Result<InstanceAttributes, RpcError> {
    let text = |p: &mut Input<'_>, name: &str, default: &str| {
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
        deletion_protection: p.bool("DeletionProtection")?.unwrap_or(false),
        auto_release_time: text(p, "AutoReleaseTime", ""),
        credit_specification: text(p, "CreditSpecification", ""),
        deployment_set_id: text(p, "DeploymentSetId", ""),
        hpc_cluster_id: text(p, "HpcClusterId", ""),
        system_disk_category: text(p, "SystemDisk.Category", "cloud_essd"),
        ..InstanceAttributes::default()
    })
}

/// Everything both launches read; `run`: RunInstances (several, auto-started), else
/// CreateInstance (one, `SecurityGroupId` only, left `Stopped`).
fn decode_launch(p: &mut Input<'_>, run: bool) -> Result<NewInstances, RpcError> {
    let region_id = p.region()?;
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
    let new = NewInstances {
        region_id,
        zone_id: p.non_empty("ZoneId").map(str::to_string),
        vswitch_id: VSwitchId::from(vswitch_id),
        security_group_ids: net
            .security_group_ids
            .into_iter()
            .map(SecurityGroupId::from)
            .collect(),
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
        unique_suffix: run && p.bool("UniqueSuffix")?.unwrap_or(false),
        description: p.optional("Description").unwrap_or("").to_string(),
        instance_type: instance_type.to_string(),
        image_id: image_id.to_string(),
        tags: p.tags()?,
        auto_start: run,
        attributes: attributes(p, run)?,
        system_disk: crate::compute::system_disk(p)?,
        data_disks: crate::compute::data_disks(p)?,
        user_data: crate::compute::user_data(p)?,
    };
    p.dry_run()?;
    p.client_token()?;
    Ok(new)
}

/// Launches in one write (rolled back by a dry run, once per `ClientToken`).
async fn launch<S: Store>(cx: &Cx<'_, Ecs<S>>, new: NewInstances) -> Result<Launched, RpcError> {
    let config = cx.config();
    crate::catalogue::check_launch(
        &config.catalogue,
        config.strict_catalogue,
        &new.image_id,
        &new.instance_type,
    )?;
    cx.write(move |tx, scope| {
        let config = scope.config();
        let launched = ops::launch(tx, scope.account(), &new, &config.limits, scope.now())?;
        // RunInstances' instances start: each goes on a live host in this same write
        // (README "Data plane"); CreateInstance's stay unplaced until StartInstance.
        if new.auto_start {
            let ids: Vec<InstanceId> = launched.instance_ids.iter().map(InstanceId::from).collect();
            placement::place(
                tx,
                scope.account(),
                &ids,
                &config.instance_timings,
                &config.placement,
                scope.now(),
            )?;
        }
        Ok(launched)
    })
    .await
}

#[derive(Debug)]
pub struct RunInstances(NewInstances);

impl<S: Store> Action<Ecs<S>> for RunInstances {
    const NAME: &'static str = "RunInstances";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        decode_launch(p, true).map(RunInstances)
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let launched = launch(cx, self.0).await?;
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
}

#[derive(Debug)]
pub struct CreateInstance(NewInstances);

impl<S: Store> Action<Ecs<S>> for CreateInstance {
    const NAME: &'static str = "CreateInstance";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        decode_launch(p, false).map(CreateInstance)
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let launched = launch(cx, self.0).await?;
        let id = launched.instance_ids.into_iter().next().unwrap_or_default();
        Ok(Node::object().str("InstanceId", id).build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode;

    const BASE: [(&str, &str); 3] = [
        ("RegionId", "cn-hangzhou"),
        ("ImageId", "img"),
        ("InstanceType", "ecs.g5.large"),
    ];

    fn run(extra: &[(&'static str, &'static str)]) -> Result<NewInstances, RpcError> {
        let mut pairs = BASE.to_vec();
        pairs.extend_from_slice(extra);
        decode::<RunInstances>(&pairs).map(|r| r.0)
    }

    fn refusal(extra: &[(&'static str, &'static str)]) -> (u16, String, String) {
        let e = run(extra).expect_err("refused");
        (
            e.status.as_u16(),
            e.code.into_owned(),
            e.message.into_owned(),
        )
    }

    #[test]
    fn the_primary_interface_supplies_the_network() {
        let new = run(&[
            ("NetworkInterface.1.InstanceType", "primary"),
            ("NetworkInterface.1.VSwitchId", "vsw-a"),
            ("NetworkInterface.1.SecurityGroupIds.2", "sg-b"),
            ("NetworkInterface.1.SecurityGroupIds.1", "sg-a"),
            ("NetworkInterface.1.PrimaryIpAddress", "10.0.0.9"),
        ])
        .expect("primary");
        assert_eq!(new.vswitch_id, "vsw-a");
        assert_eq!(new.security_group_ids, ["sg-a", "sg-b"]);
        assert_eq!(new.private_ip.as_deref(), Some("10.0.0.9"));

        // The top level may repeat what the interface says, and fill what it leaves out.
        let new = run(&[
            ("VSwitchId", "vsw-a"),
            ("PrivateIpAddress", "10.0.0.9"),
            ("NetworkInterface.1.InstanceType", "Primary"),
            ("NetworkInterface.1.VSwitchId", "vsw-a"),
            ("NetworkInterface.1.SecurityGroupId", "sg-a"),
        ])
        .expect("agreeing");
        assert_eq!(
            (new.vswitch_id.as_str(), new.private_ip.as_deref()),
            ("vsw-a", Some("10.0.0.9"))
        );
        assert_eq!(new.security_group_ids, ["sg-a"]);

        // No interface: the top-level parameters.
        let new = run(&[
            ("VSwitchId", "vsw-t"),
            ("SecurityGroupIds.1", "sg-t"),
            ("SecurityGroupIds.2", ""),
        ])
        .expect("top level");
        assert_eq!(
            (new.vswitch_id.as_str(), new.security_group_ids.as_slice()),
            ("vsw-t", [SecurityGroupId::from("sg-t")].as_slice())
        );
    }

    #[rustfmt::skip]
    #[test]
    fn primary_interface_refusals() {
        let combination = |m: &str| (403, "InvalidParameter.Combination".to_string(), m.to_string());
        let interface = |m: &str| (403, "InvalidParameter.NetworkInterface".to_string(), m.to_string());
        assert_eq!(
            refusal(&[("VSwitchId", "vsw-a"), ("SecurityGroupId", "sg-a"), ("SecurityGroupIds.1", "sg-b")]),
            combination("The parameters SecurityGroupId and SecurityGroupIds cannot be specified at the same time.")
        );
        assert_eq!(
            refusal(&[("NetworkInterface.1.InstanceType", "Secondary"), ("NetworkInterface.1.SecurityGroupId", "sg-a")]),
            interface("Secondary network interfaces are not supported: specify only the primary one (NetworkInterface.N.InstanceType=Primary).")
        );
        assert_eq!(
            refusal(&[("NetworkInterface.1.VSwitchId", "vsw-a")]),
            interface("Secondary network interfaces are not supported: specify only the primary one (NetworkInterface.N.InstanceType=Primary).")
        );
        assert_eq!(
            refusal(&[("NetworkInterface.1.InstanceType", "Primary"), ("NetworkInterface.2.InstanceType", "Primary")]),
            interface("Only one primary network interface can be specified.")
        );
        assert_eq!(
            refusal(&[("SecurityGroupId", "sg-a"), ("NetworkInterface.1.InstanceType", "Primary"), ("NetworkInterface.1.SecurityGroupId", "sg-a")]),
            combination("SecurityGroupId and SecurityGroupIds cannot be given with a primary NetworkInterface.")
        );
        assert_eq!(
            refusal(&[("VSwitchId", "vsw-a"), ("NetworkInterface.1.InstanceType", "Primary"), ("NetworkInterface.1.VSwitchId", "vsw-b"), ("NetworkInterface.1.SecurityGroupId", "sg-a")]),
            combination("The primary NetworkInterface and the top-level parameters disagree.")
        );
        assert_eq!(
            refusal(&[("NetworkInterface.1.InstanceType", "Primary"), ("NetworkInterface.1.SecurityGroupId", "sg-a"), ("NetworkInterface.1.SecurityGroupIds.1", "sg-b")]),
            combination("The parameters SecurityGroupId and SecurityGroupIds cannot be specified at the same time.")
        );
        // An interface without a vSwitch or groups: the gateway's MissingParameter.
        assert_eq!(
            refusal(&[("NetworkInterface.1.InstanceType", "Primary"), ("NetworkInterface.1.SecurityGroupId", "sg-a")]).1,
            "MissingParameter"
        );
        assert_eq!(
            refusal(&[("NetworkInterface.1.InstanceType", "Primary"), ("NetworkInterface.1.VSwitchId", "vsw-a")]),
            (400, "MissingParameter".into(), "The input parameter \"SecurityGroupId\" that is mandatory for processing this request is not supplied.".into())
        );
    }

    #[test]
    fn create_instance_reads_no_interfaces_nor_group_lists() {
        let pairs = [
            ("RegionId", "cn-hangzhou"),
            ("InstanceType", "ecs.g5.large"),
            ("VSwitchId", "vsw-a"),
            ("SecurityGroupId", "sg-a"),
            ("SecurityGroupIds.1", "sg-b"),
            ("NetworkInterface.1.InstanceType", "Secondary"),
            ("Amount", "5"),
            ("InternetMaxBandwidthOut", "10"),
        ];
        let new = decode::<CreateInstance>(&pairs).expect("create").0;
        assert_eq!(new.security_group_ids, ["sg-a"]);
        assert_eq!((new.amount, new.auto_start), (1, false));
        assert_eq!(new.attributes.internet_max_bandwidth_out, 0);
        assert_eq!(new.image_id, "");
    }

    #[test]
    fn counts_are_refused_with_their_own_codes() {
        let net = [("VSwitchId", "vsw-a"), ("SecurityGroupId", "sg-a")];
        let with = |extra: (&'static str, &'static str)| {
            let mut pairs = net.to_vec();
            pairs.push(extra);
            pairs
        };
        assert_eq!(refusal(&with(("Amount", "two"))).1, "InvalidParam.Amount");
        assert_eq!(
            refusal(&with(("MinAmount", "-1"))).1,
            "InvalidMinAmount.Malformed"
        );
        assert_eq!(run(&with(("Amount", " 3"))).expect("three").amount, 3);
    }
}

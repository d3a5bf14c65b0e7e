//! Writing an export: an [`AccountImage`] as the Describe responses the official SDKs and
//! the `aliyun` CLI print (docs/review.md §2), one directory per region:
//!
//! ```text
//! PATH/cn-hangzhou/DescribeVpcs.json
//! PATH/cn-hangzhou/DescribeVSwitches.json
//! PATH/cn-hangzhou/DescribeSecurityGroups.json
//! PATH/cn-hangzhou/DescribeSecurityGroupAttribute/sg-….json
//! PATH/cn-hangzhou/DescribeInstances.json
//! PATH/cn-hangzhou/DescribePrefixLists.json
//! PATH/cn-hangzhou/DescribePrefixListAttributes/pl-….json
//! ```
//!
//! Each listing is one page holding every record, in listing order; no `RequestId` (so
//! the same account always exports to the same bytes). [`crate::import`] reads it back.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use secgroup_domain::network::Instance;
use secgroup_domain::ops::import::AccountImage;
use secgroup_domain::ops::instances::InstanceAttributes;
use secgroup_domain::rules::{Direction, Family, Peer, Rule};
use secgroup_domain::{ResourceType, Tag};
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}: exists and is not an empty directory; export into a new one")]
    NotEmpty(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("instance {0}: {1}")]
    Instance(String, String),
}

fn time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn minute(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%MZ").to_string()
}

/// The files of `image`, by path relative to the export's root, as pretty JSON.
pub fn render(image: &AccountImage) -> Result<BTreeMap<PathBuf, String>, ExportError> {
    let mut tags: HashMap<(&str, &str), &[Tag]> = HashMap::new();
    for t in &image.tags {
        tags.insert((t.resource_type.as_str(), t.resource_id.as_str()), &t.tags);
    }
    let tags_of = |kind: ResourceType, id: &str, ecs: bool| -> Value {
        let list: Vec<Value> = tags
            .get(&(kind.as_str(), id))
            .map(|t| t.iter())
            .into_iter()
            .flatten()
            .map(|t| {
                if ecs {
                    json!({"TagKey": t.key, "TagValue": t.value})
                } else {
                    json!({"Key": t.key, "Value": t.value})
                }
            })
            .collect();
        json!({ "Tag": list })
    };
    let mut regions: Vec<&str> = Vec::new();
    for r in image
        .vpcs
        .iter()
        .map(|v| v.region_id.as_str())
        .chain(image.groups.iter().map(|g| g.region_id.as_str()))
        .chain(image.prefix_lists.iter().map(|p| p.region_id.as_str()))
        .chain(image.instances.iter().map(|i| i.region_id.as_str()))
    {
        if !regions.contains(&r) {
            regions.push(r);
        }
    }
    let mut rules_by_group: HashMap<&str, Vec<&Rule>> = HashMap::new();
    for r in &image.rules {
        rules_by_group
            .entry(r.security_group_id.as_str())
            .or_default()
            .push(r);
    }
    let mut list_uses: HashMap<&str, usize> = HashMap::new();
    for r in &image.rules {
        if let Peer::PrefixList(id) = &r.spec.peer {
            *list_uses.entry(id.as_str()).or_default() += 1;
        }
    }
    let mut files = BTreeMap::new();
    let mut put = |path: PathBuf, value: Value| {
        let text = serde_json::to_string_pretty(&value).unwrap_or_default() + "\n";
        files.insert(path, text);
    };
    for region in regions {
        let dir = PathBuf::from(region);
        let vpcs: Vec<Value> = image
            .vpcs
            .iter()
            .filter(|v| v.region_id == region)
            .map(|v| {
                let vswitches: Vec<&str> = image
                    .vswitches
                    .iter()
                    .filter(|s| s.vpc_id == v.id)
                    .map(|s| s.id.as_str())
                    .collect();
                json!({
                    "VpcId": v.id,
                    "VpcName": v.name,
                    "Description": v.description,
                    "RegionId": v.region_id,
                    "Status": "Available",
                    "IsDefault": false,
                    "CidrBlock": v.cidr_block,
                    "Ipv6CidrBlock": v.ipv6_cidr_block,
                    "EnabledIpv6": v.enable_ipv6,
                    "CreationTime": time(&v.creation_time),
                    "VRouterId": v.vrouter_id,
                    "ResourceGroupId": v.resource_group_id,
                    "VSwitchIds": {"VSwitchId": vswitches},
                    "UserCidrs": {"UserCidr": v.user_cidrs},
                    "RouterTableIds": {"RouterTableIds": [v.route_table_id]},
                    "Tags": tags_of(ResourceType::Vpc, &v.id, false),
                    "DnsHostnameStatus": if v.enable_dns_hostname { "ENABLED" } else { "DISABLED" },
                })
            })
            .collect();
        let vswitches: Vec<Value> = image
            .vswitches
            .iter()
            .filter(|s| s.region_id == region)
            .map(|s| {
                json!({
                    "VSwitchId": s.id,
                    "VSwitchName": s.name,
                    "Description": s.description,
                    "VpcId": s.vpc_id,
                    "ZoneId": s.zone_id,
                    "CidrBlock": s.cidr_block,
                    "Status": "Available",
                    "CreationTime": time(&s.creation_time),
                    "Tags": tags_of(ResourceType::VSwitch, &s.id, false),
                })
            })
            .collect();
        let groups: Vec<&secgroup_domain::SecurityGroup> = image
            .groups
            .iter()
            .filter(|g| g.region_id == region)
            .collect();
        let summaries: Vec<Value> = groups
            .iter()
            .map(|g| {
                let rules = rules_by_group
                    .get(g.id.as_str())
                    .map_or(&[][..], Vec::as_slice);
                let group_rules = rules
                    .iter()
                    .filter(|r| matches!(r.spec.peer, Peer::Group { .. }))
                    .count();
                json!({
                    "SecurityGroupId": g.id,
                    "SecurityGroupName": g.name,
                    "Description": g.description,
                    "SecurityGroupType": g.group_type.as_str(),
                    "VpcId": g.vpc_id,
                    "CreationTime": time(&g.creation_time),
                    "ResourceGroupId": g.resource_group_id,
                    "ServiceManaged": false,
                    "RuleCount": rules.len(),
                    "GroupToGroupRuleCount": group_rules,
                    "Tags": tags_of(ResourceType::SecurityGroup, &g.id, true),
                })
            })
            .collect();
        for g in &groups {
            let rules = rules_by_group
                .get(g.id.as_str())
                .map_or(&[][..], Vec::as_slice);
            let permissions: Vec<Value> = rules.iter().map(|r| permission(r)).collect();
            put(
                dir.join("DescribeSecurityGroupAttribute")
                    .join(format!("{}.json", g.id)),
                json!({
                    "RegionId": g.region_id,
                    "SecurityGroupId": g.id,
                    "SecurityGroupName": g.name,
                    "Description": g.description,
                    "VpcId": g.vpc_id,
                    "InnerAccessPolicy": g.inner_access_policy.as_str(),
                    "NextToken": "",
                    "Permissions": {"Permission": permissions},
                }),
            );
        }
        let mut instances = Vec::new();
        for i in image.instances.iter().filter(|i| i.region_id == region) {
            instances.push(instance(i, tags_of(ResourceType::Instance, &i.id, true))?);
        }
        let lists: Vec<&secgroup_domain::PrefixList> = image
            .prefix_lists
            .iter()
            .filter(|p| p.region_id == region)
            .collect();
        let list_summaries: Vec<Value> = lists
            .iter()
            .map(|p| {
                json!({
                    "PrefixListId": p.id,
                    "PrefixListName": p.name,
                    "Description": p.description,
                    "AddressFamily": p.address_family.as_str(),
                    "MaxEntries": p.max_entries,
                    "AssociationCount": list_uses.get(p.id.as_str()).copied().unwrap_or(0),
                    "CreationTime": time(&p.creation_time),
                    "ResourceGroupId": p.resource_group_id,
                    "Tags": tags_of(ResourceType::PrefixList, &p.id, true),
                })
            })
            .collect();
        for p in &lists {
            let entries: Vec<Value> = p
                .entries
                .iter()
                .map(|e| json!({"Cidr": e.cidr, "Description": e.description}))
                .collect();
            put(
                dir.join("DescribePrefixListAttributes")
                    .join(format!("{}.json", p.id)),
                json!({
                    "PrefixListId": p.id,
                    "PrefixListName": p.name,
                    "Description": p.description,
                    "AddressFamily": p.address_family.as_str(),
                    "MaxEntries": p.max_entries,
                    "CreationTime": time(&p.creation_time),
                    "Entries": {"Entry": entries},
                }),
            );
        }
        let page = |n: usize| json!({"TotalCount": n, "PageNumber": 1, "PageSize": n.max(1)});
        let with = |mut base: Value, key: &str, item: &str, list: Vec<Value>| {
            if let Value::Object(m) = &mut base {
                m.insert(key.to_string(), json!({ item: list }));
            }
            base
        };
        let mut listing = |name: &str, key: &str, item: &str, list: Vec<Value>, region_field| {
            let mut base = json!({});
            if let (Value::Object(m), true) = (&mut base, region_field) {
                m.insert("RegionId".into(), json!(region));
            }
            if let (Value::Object(m), Value::Object(p)) = (&mut base, page(list.len())) {
                m.extend(p);
            }
            put(
                dir.join(format!("{name}.json")),
                with(base, key, item, list),
            );
        };
        listing("DescribeVpcs", "Vpcs", "Vpc", vpcs, false);
        listing(
            "DescribeVSwitches",
            "VSwitches",
            "VSwitch",
            vswitches,
            false,
        );
        listing(
            "DescribeSecurityGroups",
            "SecurityGroups",
            "SecurityGroup",
            summaries,
            true,
        );
        listing(
            "DescribeInstances",
            "Instances",
            "Instance",
            instances,
            false,
        );
        put(
            dir.join("DescribePrefixLists.json"),
            json!({"NextToken": "", "PrefixLists": {"PrefixList": list_summaries}}),
        );
    }
    Ok(files)
}

/// One `Permissions.Permission[]` entry, as DescribeSecurityGroupAttribute renders it.
fn permission(rule: &Rule) -> Value {
    let s = &rule.spec;
    #[derive(Default)]
    struct Side<'a> {
        cidr: &'a str,
        ipv6: &'a str,
        group: &'a str,
        owner: &'a str,
        list: &'a str,
    }
    let mut peer = Side::default();
    match &s.peer {
        Peer::Cidr(c) if c.family() == Family::V4 => peer.cidr = c.as_str(),
        Peer::Cidr(c) => peer.ipv6 = c.as_str(),
        Peer::Group {
            group_id,
            owner_account,
        } => {
            peer.group = group_id;
            peer.owner = owner_account;
        }
        Peer::PrefixList(id) => peer.list = id,
    }
    let mut local = Side::default();
    match &s.local_cidr {
        Some(c) if c.family() == Family::V4 => local.cidr = c.as_str(),
        Some(c) => local.ipv6 = c.as_str(),
        None => {}
    }
    let (source, dest) = match s.direction {
        Direction::Ingress => (peer, local),
        Direction::Egress => (local, peer),
    };
    json!({
        "SecurityGroupRuleId": rule.id,
        "Direction": s.direction.as_str(),
        "Policy": s.policy.as_str(),
        "Priority": s.priority.to_string(),
        "IpProtocol": s.protocol.as_str(),
        "PortRange": s.port_range.to_string(),
        "SourcePortRange": s.source_port_range.map(|p| p.to_string()).unwrap_or_default(),
        "NicType": "intranet",
        "SourceCidrIp": source.cidr,
        "Ipv6SourceCidrIp": source.ipv6,
        "DestCidrIp": dest.cidr,
        "Ipv6DestCidrIp": dest.ipv6,
        "SourceGroupId": source.group,
        "SourceGroupOwnerAccount": source.owner,
        "DestGroupId": dest.group,
        "DestGroupOwnerAccount": dest.owner,
        "SourcePrefixListId": source.list,
        "DestPrefixListId": dest.list,
        "Description": s.description,
        "CreateTime": time(&rule.create_time),
    })
}

/// One `Instances.Instance[]` entry with its primary network interface.
fn instance(i: &Instance, tags: Value) -> Result<Value, ExportError> {
    let a = InstanceAttributes::parse(&i.attributes)
        .map_err(|e| ExportError::Instance(i.id.clone(), e.to_string()))?;
    let running = i.status == secgroup_domain::network::InstanceStatus::Running;
    let start = a
        .start_time
        .filter(|_| running)
        .map(|t| minute(&t))
        .unwrap_or_default();
    let public: Vec<&str> = Some(a.public_ip.as_str())
        .filter(|p| !p.is_empty())
        .into_iter()
        .collect();
    Ok(json!({
        "InstanceId": i.id,
        "InstanceName": i.name,
        "Description": i.description,
        "HostName": i.host_name,
        "RegionId": i.region_id,
        "ZoneId": i.zone_id,
        "Status": i.status.as_str(),
        "InstanceNetworkType": "vpc",
        "InstanceType": i.instance_type,
        "ImageId": i.image_id,
        "CreationTime": minute(&i.creation_time),
        "StartTime": start,
        "AutoReleaseTime": a.auto_release_time,
        "InstanceChargeType": a.instance_charge_type,
        "InternetChargeType": a.internet_charge_type,
        "InternetMaxBandwidthIn": a.internet_max_bandwidth_in,
        "InternetMaxBandwidthOut": a.internet_max_bandwidth_out,
        "SpotStrategy": a.spot_strategy,
        "StoppedMode": if a.stopped_mode.is_empty() { "Not-applicable" } else { a.stopped_mode.as_str() },
        "SecurityGroupIds": {"SecurityGroupId": i.security_group_ids},
        "VpcAttributes": {
            "VpcId": i.vpc_id,
            "VSwitchId": i.vswitch_id,
            "NatIpAddress": "",
            "PrivateIpAddress": {"IpAddress": [i.private_ip]},
        },
        "NetworkInterfaces": {"NetworkInterface": [{
            "NetworkInterfaceId": i.network_interface_id,
            "Type": "Primary",
            "MacAddress": i.mac_address,
            "PrimaryIpAddress": i.private_ip,
        }]},
        "PublicIpAddress": {"IpAddress": public},
        "Tags": tags,
        "ResourceGroupId": a.resource_group_id,
        "KeyPairName": a.key_pair_name,
        "DeploymentSetId": a.deployment_set_id,
        "HpcClusterId": a.hpc_cluster_id,
        "SerialNumber": a.serial_number,
        "CreditSpecification": a.credit_specification,
        "DeletionProtection": a.deletion_protection,
    }))
}

/// Writes `image` under `root`, which must not exist or be an empty directory; returns
/// how many files it wrote.
pub fn write(root: &Path, image: &AccountImage) -> Result<usize, ExportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Io { path, source }
    };
    if root.exists() {
        let mut entries = std::fs::read_dir(root).map_err(io(root))?;
        if entries.next().is_some() {
            return Err(ExportError::NotEmpty(root.to_path_buf()));
        }
    }
    let files = render(image)?;
    for (relative, text) in &files {
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    Ok(files.len())
}

//! Domain values for tests, shared by this crate's tests and by the data plane's
//! (`secgroup-dataplane`), which probes real packets against the engine on the same random
//! topologies: terse constructors for groups, rules, instances and lists, and a seeded random
//! topology generator ([`topology`]). Built only with the `testkit` feature.

pub mod topology;

use chrono::{TimeZone, Utc};
use secgroup_domain::network::{Instance, InstanceStatus, InterfaceKind, NetworkInterface};
use secgroup_domain::rules::{
    Cidr, Direction, IpProtocol, Peer, PortRange, Rule, RulePolicy, RuleSpec,
};
use secgroup_domain::{
    AddressFamily, InnerAccessPolicy, PrefixList, PrefixListEntry, SecurityGroup, SecurityGroupType,
};

pub fn group(
    id: &str,
    vpc: &str,
    kind: SecurityGroupType,
    policy: InnerAccessPolicy,
) -> SecurityGroup {
    SecurityGroup {
        id: id.into(),
        account_id: "1".into(),
        region_id: "cn-hangzhou".into(),
        name: id.into(),
        description: String::new(),
        group_type: kind,
        inner_access_policy: policy,
        vpc_id: vpc.into(),
        resource_group_id: String::new(),
        creation_time: Utc.timestamp_opt(0, 0).single().unwrap_or_default(),
    }
}

/// A Running instance in `vsw-1` with the MAC `00:16:3e:00:00:00` (set `vswitch_id`,
/// `mac_address` or `status` on the result where they matter).
pub fn instance(id: &str, vpc: &str, ip: &str, groups: &[&str]) -> Instance {
    let t = Utc.timestamp_opt(0, 0).single().unwrap_or_default();
    Instance {
        id: id.into(),
        account_id: "1".into(),
        region_id: "cn-hangzhou".into(),
        zone_id: "cn-hangzhou-a".into(),
        vpc_id: vpc.into(),
        vswitch_id: "vsw-1".into(),
        name: id.into(),
        description: String::new(),
        host_name: id.into(),
        instance_type: "ecs.g7.large".into(),
        image_id: "img".into(),
        status: InstanceStatus::Running,
        status_since: t,
        creation_time: t,
        network_interface_id: format!("eni-{id}"),
        mac_address: "00:16:3e:00:00:00".into(),
        private_ip: ip.into(),
        security_group_ids: groups.iter().map(|g| g.to_string()).collect(),
        attributes: "{}".into(),
    }
}

/// `instance`'s primary interface as the store shows it, with `secondary_ips`.
pub fn primary_interface(instance: &Instance, secondary_ips: &[&str]) -> NetworkInterface {
    secgroup_domain::ops::network_interfaces::primary(
        instance,
        secondary_ips.iter().map(|a| a.to_string()).collect(),
        &secgroup_domain::ops::instances::InstanceAttributes::default(),
    )
}

/// A secondary interface in `instance`'s VPC, vSwitch and zone, attached to it at
/// `device_index` (detach it by emptying `instance_id`).
pub fn secondary_interface(
    id: &str,
    instance: &Instance,
    device_index: u32,
    ips: &[&str],
    groups: &[&str],
) -> NetworkInterface {
    let t = Utc.timestamp_opt(0, 0).single().unwrap_or_default();
    NetworkInterface {
        id: id.into(),
        account_id: instance.account_id.clone(),
        region_id: instance.region_id.clone(),
        zone_id: instance.zone_id.clone(),
        vpc_id: instance.vpc_id.clone(),
        vswitch_id: instance.vswitch_id.clone(),
        kind: InterfaceKind::Secondary,
        name: String::new(),
        description: String::new(),
        resource_group_id: String::new(),
        instance_id: instance.id.clone(),
        device_index,
        mac_address: format!("00:16:3e:00:02:{device_index:02x}"),
        primary_ip: ips.first().map(|a| a.to_string()).unwrap_or_default(),
        secondary_ips: ips.iter().skip(1).map(|a| a.to_string()).collect(),
        security_group_ids: groups.iter().map(|g| g.to_string()).collect(),
        creation_time: t,
    }
}

pub fn prefix_list(id: &str, cidrs: &[&str]) -> PrefixList {
    PrefixList {
        id: id.into(),
        account_id: "1".into(),
        region_id: "cn-hangzhou".into(),
        name: id.into(),
        description: String::new(),
        address_family: AddressFamily::IPv4,
        max_entries: 200,
        resource_group_id: String::new(),
        creation_time: Utc.timestamp_opt(0, 0).single().unwrap_or_default(),
        entries: cidrs
            .iter()
            .map(|c| PrefixListEntry {
                cidr: c.to_string(),
                description: String::new(),
            })
            .collect(),
    }
}

pub fn cidr(text: &str) -> Peer {
    Peer::Cidr(Cidr::parse_any(text).expect("valid test CIDR"))
}

pub fn group_peer(id: &str) -> Peer {
    Peer::Group {
        group_id: id.into(),
        owner_account: String::new(),
    }
}

/// A rule with every optional field empty; tweak the returned value for quintuple fields.
#[allow(clippy::too_many_arguments)]
pub fn rule(
    id: &str,
    group: &str,
    direction: Direction,
    protocol: IpProtocol,
    ports: (i32, i32),
    policy: RulePolicy,
    priority: u8,
    peer: Peer,
) -> Rule {
    Rule {
        id: id.into(),
        security_group_id: group.into(),
        spec: RuleSpec {
            direction,
            protocol,
            port_range: PortRange {
                from: ports.0,
                to: ports.1,
            },
            source_port_range: None,
            policy,
            priority,
            peer,
            local_cidr: None,
            description: String::new(),
        },
        create_time: Utc.timestamp_opt(0, 0).single().unwrap_or_default(),
    }
}

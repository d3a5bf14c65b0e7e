//! The network that security groups protect: VPCs, vSwitches and instances with their
//! primary network interface (docs/vpc.md; docs/ecs.md §7; docs/semantics.md §1).

use crate::ids::{SecurityGroupId, VSwitchId, VpcId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A virtual private cloud.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vpc {
    /// `vpc-…`
    pub id: String,
    pub account_id: String,
    pub region_id: String,
    /// The primary IPv4 block, canonical (`172.16.0.0/12`).
    pub cidr_block: String,
    pub name: String,
    pub description: String,
    pub resource_group_id: String,
    /// `vrt-…`, created with the VPC.
    pub vrouter_id: String,
    /// `vtb-…`, the system route table created with the VPC.
    pub route_table_id: String,
    /// Up to three user CIDRs.
    pub user_cidrs: Vec<String>,
    pub enable_ipv6: bool,
    pub ipv6_cidr_block: String,
    /// `EnableDnsHostname`, reported as `DnsHostnameStatus` `ENABLED`/`DISABLED`.
    pub enable_dns_hostname: bool,
    pub creation_time: DateTime<Utc>,
}

/// A subnet of a VPC in one zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VSwitch {
    /// `vsw-…`
    pub id: String,
    pub account_id: String,
    pub region_id: String,
    pub vpc_id: String,
    pub zone_id: String,
    /// Canonical IPv4 block inside the VPC's.
    pub cidr_block: String,
    pub name: String,
    pub description: String,
    pub creation_time: DateTime<Utc>,
}

/// An instance's state (docs/ecs.md §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InstanceStatus {
    Pending,
    Starting,
    Running,
    Stopping,
    Stopped,
}

impl InstanceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceStatus::Pending => "Pending",
            InstanceStatus::Starting => "Starting",
            InstanceStatus::Running => "Running",
            InstanceStatus::Stopping => "Stopping",
            InstanceStatus::Stopped => "Stopped",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "Pending" => InstanceStatus::Pending,
            "Starting" => InstanceStatus::Starting,
            "Running" => InstanceStatus::Running,
            "Stopping" => InstanceStatus::Stopping,
            "Stopped" => InstanceStatus::Stopped,
            _ => return None,
        })
    }
}

/// An ECS instance and its primary network interface (one private IPv4 address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    /// `i-…`
    pub id: String,
    pub account_id: String,
    pub region_id: String,
    pub zone_id: String,
    pub vpc_id: String,
    pub vswitch_id: String,
    pub name: String,
    pub description: String,
    pub host_name: String,
    pub instance_type: String,
    pub image_id: String,
    /// The state as last written; transient states settle with time (the domain computes
    /// the state a reader sees from this and `status_since`).
    pub status: InstanceStatus,
    pub status_since: DateTime<Utc>,
    pub creation_time: DateTime<Utc>,
    /// `eni-…` of the primary network interface.
    pub network_interface_id: String,
    /// `00:16:3e:xx:xx:xx`
    pub mac_address: String,
    /// The primary private IPv4 address, unique within the vSwitch.
    pub private_ip: String,
    /// The groups of the primary interface, in the order they were joined (1..=5).
    pub security_group_ids: Vec<String>,
    /// Accepted-and-echoed attributes that are not simulated (charge types, bandwidth, ...),
    /// as a JSON object.
    pub attributes: String,
}

/// The host an instance is placed on (docs/ecs.md §7.5, README "Data plane"): one row per instance, written
/// by the control plane when the instance starts ([`crate::ops::placement`]). A stopped
/// instance keeps its row as the preferred host of its next start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub instance_id: String,
    /// An agent's host name (`secgroup agent --host`).
    pub host: String,
    pub placed_at: DateTime<Utc>,
}

/// A placement with what the control plane needs of its instance: whose it is, where,
/// and its stored state (settled by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedInstance {
    pub placement: Placement,
    pub account_id: String,
    pub region_id: String,
    pub vpc_id: String,
    pub status: InstanceStatus,
    pub status_since: DateTime<Utc>,
    /// The instance's attributes as stored (JSON text; `auto_start` settles the state).
    pub attributes: String,
}

/// An elastic network interface's kind: the one created with its instance, or one
/// created on its own and attached later (docs/ecs.md §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InterfaceKind {
    Primary,
    Secondary,
}

impl InterfaceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InterfaceKind::Primary => "Primary",
            InterfaceKind::Secondary => "Secondary",
        }
    }
}

/// An elastic network interface. A secondary one is stored on its own; the primary one is
/// the interface fields of its [`Instance`] plus its secondary addresses
/// ([`crate::ops::network_state::interfaces`] shows both kinds alike). Security groups
/// belong to interfaces: each one is a member of its own groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInterface {
    /// `eni-…`
    pub id: String,
    pub account_id: String,
    pub region_id: String,
    pub zone_id: String,
    pub vpc_id: String,
    pub vswitch_id: String,
    pub kind: InterfaceKind,
    pub name: String,
    pub description: String,
    pub resource_group_id: String,
    /// The instance it is attached to; empty while `Available`.
    pub instance_id: String,
    /// Its slot on the instance (`eth{device_index}`; the primary one is 0).
    pub device_index: u32,
    /// `00:16:3e:xx:xx:xx`
    pub mac_address: String,
    /// The primary private IPv4 address, unique within the vSwitch.
    pub primary_ip: String,
    /// Secondary private IPv4 addresses, in the order they were assigned.
    pub secondary_ips: Vec<String>,
    /// Its groups, in the order they were joined (1..=5).
    pub security_group_ids: Vec<String>,
    pub creation_time: DateTime<Utc>,
}

impl NetworkInterface {
    /// `InUse` when attached, `Available` otherwise (docs/ecs.md §10.1).
    pub fn status(&self) -> &'static str {
        if self.instance_id.is_empty() {
            "Available"
        } else {
            "InUse"
        }
    }

    /// Every private address, the primary one first.
    pub fn addresses(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.primary_ip.as_str())
            .chain(self.secondary_ips.iter().map(String::as_str))
    }
}

/// What an instance listing may be narrowed to by the store (all given ones must match).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceQuery {
    pub ids: Option<Vec<String>>,
    pub vpc_id: Option<String>,
    pub vswitch_id: Option<String>,
    pub security_group_id: Option<String>,
    /// `(offset, limit)`: only this window of the (oldest first) matches.
    pub page: Option<(usize, usize)>,
}

/// Where instances are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceScope<'a> {
    Vpc(&'a VpcId),
    VSwitch(&'a VSwitchId),
    SecurityGroup(&'a SecurityGroupId),
}

/// Everything one account has in one region that decides which traffic its security groups
/// allow: the input of the reachability engine, read in one transaction
/// ([`crate::ops::network_state::load`]).
#[derive(Debug, Clone, Default)]
pub struct NetworkState {
    pub groups: Vec<crate::SecurityGroup>,
    pub rules: Vec<crate::rules::Rule>,
    pub instances: Vec<Instance>,
    /// Every network interface of the account in the region, primary ones included
    /// (empty when only the instances are known: then each instance is its primary
    /// interface with its one address).
    pub interfaces: Vec<NetworkInterface>,
    pub prefix_lists: Vec<crate::PrefixList>,
    pub vpcs: Vec<Vpc>,
}

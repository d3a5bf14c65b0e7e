//! The things the API manages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `normal` (basic) or `enterprise` (advanced).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecurityGroupType {
    Normal,
    Enterprise,
}

impl SecurityGroupType {
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityGroupType::Normal => "normal",
            SecurityGroupType::Enterprise => "enterprise",
        }
    }
    /// Exact, lower-case wire values only.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "normal" => Some(SecurityGroupType::Normal),
            "enterprise" => Some(SecurityGroupType::Enterprise),
            _ => None,
        }
    }
    /// A new group's internal access policy: basic groups connect their members, advanced isolate them.
    pub fn default_inner_access_policy(self) -> InnerAccessPolicy {
        match self {
            SecurityGroupType::Normal => InnerAccessPolicy::Accept,
            SecurityGroupType::Enterprise => InnerAccessPolicy::Drop,
        }
    }
}

/// Whether members of a group reach each other without a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InnerAccessPolicy {
    Accept,
    Drop,
}

impl InnerAccessPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            InnerAccessPolicy::Accept => "Accept",
            InnerAccessPolicy::Drop => "Drop",
        }
    }
    /// Case-insensitive, as the API documents.
    pub fn parse(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("accept") {
            Some(InnerAccessPolicy::Accept)
        } else if s.eq_ignore_ascii_case("drop") {
            Some(InnerAccessPolicy::Drop)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// Kinds of taggable resources, by their wire name (`ResourceType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceType {
    SecurityGroup,
    PrefixList,
    Instance,
    /// An elastic network interface.
    Eni,
    Vpc,
    VSwitch,
    NetworkPath,
    NetworkReachableAnalysis,
}

impl ResourceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::SecurityGroup => "securitygroup",
            ResourceType::PrefixList => "prefixlist",
            ResourceType::Instance => "instance",
            ResourceType::Eni => "eni",
            ResourceType::Vpc => "VPC",
            ResourceType::VSwitch => "VSWITCH",
            ResourceType::NetworkPath => "NetworkPath",
            ResourceType::NetworkReachableAnalysis => "NetworkReachableAnalysis",
        }
    }
    /// The types ECS's own tag operations take (VPC resources are tagged through the VPC API).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "securitygroup" => Some(ResourceType::SecurityGroup),
            "prefixlist" => Some(ResourceType::PrefixList),
            "instance" => Some(ResourceType::Instance),
            "eni" => Some(ResourceType::Eni),
            _ => None,
        }
    }
}

/// A security group as stored. Tags are kept apart (see [`crate::TagsTx::tags`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroup {
    pub id: String,
    pub account_id: String,
    pub region_id: String,
    pub name: String,
    pub description: String,
    pub group_type: SecurityGroupType,
    pub inner_access_policy: InnerAccessPolicy,
    pub vpc_id: String,
    pub resource_group_id: String,
    /// Whole seconds, UTC.
    pub creation_time: DateTime<Utc>,
}

/// An AccessKey and the account it acts for.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    pub access_key_id: String,
    pub secret: String,
    pub account_id: String,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for AccessKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeyRecord")
            .field("access_key_id", &self.access_key_id)
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

/// The remembered outcome of a request that carried a `ClientToken`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientTokenRecord {
    pub account_id: String,
    pub token: String,
    /// Hash of the action and its business parameters.
    pub fingerprint: String,
    /// The operation's result, JSON.
    pub result: String,
    pub created_at: DateTime<Utc>,
}

/// IPv4 or IPv6, as a prefix list states it (`IPv4` / `IPv6`, exact case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AddressFamily {
    IPv4,
    IPv6,
}

impl AddressFamily {
    pub fn as_str(self) -> &'static str {
        match self {
            AddressFamily::IPv4 => "IPv4",
            AddressFamily::IPv6 => "IPv6",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "IPv4" => Some(AddressFamily::IPv4),
            "IPv6" => Some(AddressFamily::IPv6),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefixListEntry {
    /// Normalised block: a bare IPv4 address gets `/32`, IPv6 is compressed lower case.
    pub cidr: String,
    pub description: String,
}

/// A named set of address blocks that rules can refer to (docs/ecs.md §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefixList {
    /// `pl-…`
    pub id: String,
    pub account_id: String,
    pub region_id: String,
    pub name: String,
    pub description: String,
    pub address_family: AddressFamily,
    pub max_entries: u32,
    pub resource_group_id: String,
    pub creation_time: DateTime<Utc>,
    /// In the order they were added.
    pub entries: Vec<PrefixListEntry>,
}

/// What one data-plane agent (`secgroup agent`) last reported: which revision it enforces,
/// since when, how many Running instances of each account it enforces, and its last
/// failure. Recorded with [`Store::record_agent_status`](crate::Store::record_agent_status),
/// which is not a change of state: it does not increase the revision (the agent waits on
/// the revision, and would otherwise wake itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentStatus {
    /// The agent's own name (one row per agent; a restarted agent keeps its id).
    pub agent_id: String,
    /// The machine it runs on.
    pub host: String,
    /// The host's underlay (VXLAN tunnel) address, `secgroup agent --underlay-address`;
    /// empty when none was given.
    pub underlay_address: String,
    /// The change revision whose state is enforced (0: nothing applied yet).
    pub applied_revision: u64,
    /// When that revision was applied; `None` before the first apply.
    pub last_applied_time: Option<DateTime<Utc>>,
    /// Running instances enforced, per account id (accounts with none are left out).
    pub instance_counts: std::collections::BTreeMap<String, u64>,
    /// Why the last apply failed, or empty when it succeeded.
    pub last_error: String,
    /// When this report was recorded.
    pub updated_at: DateTime<Utc>,
}

/// What an agent records with [`Store::record_agent_status`](crate::Store::record_agent_status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentReport {
    /// Its current status, replacing the one before.
    Status(AgentStatus),
    /// It stopped and removed what it enforced: its row goes.
    Stopped { agent_id: String },
}

impl AgentReport {
    /// Runs the report in `tx` (what a backend's `record_agent_status` does in its
    /// revision-free transaction).
    pub fn apply(&self, tx: &mut dyn crate::Tx) -> Result<(), crate::StoreError> {
        match self {
            AgentReport::Status(status) => tx.put_agent_status(status),
            AgentReport::Stopped { agent_id } => tx.delete_agent_status(agent_id).map(drop),
        }
    }
}

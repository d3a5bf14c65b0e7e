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
}

impl ResourceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::SecurityGroup => "securitygroup",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "securitygroup" => Some(ResourceType::SecurityGroup),
            _ => None,
        }
    }
}

/// A security group as stored. Tags are kept apart (see [`crate::Tx::tags`]).
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

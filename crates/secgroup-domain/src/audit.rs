//! The audit trail: one event per call that changed state (in the same transaction as
//! the change) or was refused (written after the rollback), never for a read. Read
//! through ActionTrail's `LookupEvents` (docs/actiontrail.md).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::AccountId;

/// One resource an event touched: its id and its ActionTrail type
/// (`ACS::ECS::SecurityGroup`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditResource {
    pub id: String,
    pub resource_type: String,
}

/// One recorded call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Assigned by the store when the event is recorded: increasing in recording order,
    /// the cursor of a lookup. Ignored on insert.
    pub seq: i64,
    /// The event's id (unique).
    pub event_id: String,
    pub account_id: AccountId,
    /// When the call was answered (microseconds are kept).
    pub time: DateTime<Utc>,
    pub access_key_id: String,
    /// The caller's address; empty when unknown.
    pub source_ip: String,
    /// The product code (`Ecs`, `Vpc`, ...), its API version and the action.
    pub product: String,
    pub version: String,
    pub action: String,
    /// The `RegionId` the call named, empty if none.
    pub region_id: String,
    pub request_id: String,
    /// The request's business parameters as a JSON object (never a signature or secret).
    pub parameters: String,
    /// The resources the call named or made, in the order first seen.
    pub resources: Vec<AuditResource>,
    /// The Alibaba error code of a refused call, `None` when it succeeded.
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// Which events a lookup wants, newest first. Every filter given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Events at or after this time.
    pub start: Option<DateTime<Utc>>,
    /// Events at or before this time.
    pub end: Option<DateTime<Utc>>,
    /// The action's name.
    pub event_name: Option<String>,
    /// A resource the event touched, by id.
    pub resource_id: Option<String>,
    /// A type of resource the event touched.
    pub resource_type: Option<String>,
    pub access_key_id: Option<String>,
    /// Only events recorded before this one (`seq` below it): the next page.
    pub before_seq: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

/// The ActionTrail type of a resource id, by its prefix; `None` for what is no resource.
pub fn resource_type_of(id: &str) -> Option<&'static str> {
    const TYPES: &[(&str, &str)] = &[
        ("sgr-", "ACS::ECS::SecurityGroupRule"),
        ("sg-", "ACS::ECS::SecurityGroup"),
        ("i-", "ACS::ECS::Instance"),
        ("eni-", "ACS::ECS::NetworkInterface"),
        ("pl-", "ACS::ECS::PrefixList"),
        ("vpc-", "ACS::VPC::VPC"),
        ("vsw-", "ACS::VPC::VSwitch"),
        ("vrt-", "ACS::VPC::VRouter"),
        ("vtb-", "ACS::VPC::RouteTable"),
        ("np-", "ACS::NIS::NetworkPath"),
        ("nra-", "ACS::NIS::NetworkReachableAnalysis"),
    ];
    let (prefix, kind) = TYPES.iter().find(|(p, _)| id.starts_with(p))?;
    let tail = &id[prefix.len()..];
    let plausible = !tail.is_empty()
        && tail.len() <= 64
        && tail
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    plausible.then_some(*kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_types_by_prefix() {
        assert_eq!(resource_type_of("sg-abc"), Some("ACS::ECS::SecurityGroup"));
        assert_eq!(
            resource_type_of("sgr-abc"),
            Some("ACS::ECS::SecurityGroupRule")
        );
        assert_eq!(resource_type_of("vsw-1"), Some("ACS::VPC::VSwitch"));
        assert_eq!(resource_type_of("i-"), None);
        assert_eq!(resource_type_of("cn-hangzhou"), None);
        assert_eq!(resource_type_of("sg-has space"), None);
    }
}

//! Everything the domain can refuse. The ECS crate maps each variant to an Alibaba code once.

use crate::rules::Direction;
use crate::store::{StoreError, TxError};

/// Which side of a rule a field is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Dest,
}

/// Why a rule's fields do not make a valid rule (ecs-api.md §5.3, §6.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleInvalid {
    ProtocolNotSupported,
    PortRangeMissing,
    PortRangeMalformed,
    ProtocolPortMismatch,
    PortRangeListNotFound,
    SourcePortRangeMalformed,
    PolicyMalformed,
    PriorityMalformed,
    PriorityOutOfRange,
    NicTypeNotSupported,
    DescriptionMalformed,
    CidrMalformed(Side),
    Ipv6CidrMalformed(Side),
    BothFamilies(Side),
    PeerMissing(Direction),
    Ipv4ProtocolWithIpv6,
    Ipv6ProtocolWithIpv4,
    FamiliesMixed,
    SameSourceAndDest,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    // ---- lookups ----
    #[error("region {0} does not exist")]
    RegionNotFound(String),
    #[error("security group {0} does not exist")]
    SecurityGroupNotFound(String),
    #[error("resource {0} does not exist")]
    ResourceNotFound(String),

    // ---- malformed values ----
    #[error("security group id is malformed")]
    SecurityGroupIdMalformed,
    #[error("security group name is malformed")]
    SecurityGroupNameMalformed,
    #[error("security group description is malformed")]
    SecurityGroupDescriptionMalformed,
    #[error("security group type is not valid")]
    SecurityGroupTypeInvalid,
    #[error("inner access policy is not Accept or Drop")]
    PolicyMalformed,
    #[error("tag key is malformed")]
    TagKeyMalformed,
    #[error("tag value is malformed")]
    TagValueMalformed,
    #[error("tag keys are duplicated")]
    TagKeyDuplicate,
    #[error("too many tags in one request (max {0})")]
    TooManyTags(usize),
    #[error("too many resource ids in one request (max {0})")]
    TooManyResources(usize),
    #[error("client token is malformed")]
    ClientTokenMalformed,

    // ---- rules of the domain ----
    #[error("an enterprise security group needs a VPC")]
    EnterpriseNeedsVpc,
    #[error("the inner access policy of an enterprise security group cannot be modified")]
    EnterprisePolicyImmutable,
    #[error("security group quota reached")]
    SecurityGroupQuotaExceeded,
    #[error("tag quota of a resource reached")]
    TagQuotaExceeded,
    #[error("client token reused with other parameters")]
    IdempotentParameterMismatch,

    // ---- rules ----
    #[error("invalid rule: {0:?}")]
    Rule(RuleInvalid),
    #[error("Permissions cannot be combined with the flat rule parameters")]
    PermissionsWithFlatParams,
    #[error("duplicate permissions in one request")]
    DuplicatePermissions,
    #[error("too many permissions in one request (max {0})")]
    TooManyPermissions(usize),
    #[error("rule quota of the group reached")]
    RuleQuotaExceeded,
    #[error("group-reference rule quota of the group reached")]
    GroupRuleQuotaExceeded,
    #[error("enterprise groups cannot have group or drop rules")]
    EnterpriseRuleDenied,
    #[error("a basic group cannot authorize an enterprise group")]
    AuthorizeEnterpriseGroup,
    #[error("peer group {1} does not exist ({0:?})")]
    PeerGroupNotFound(Direction, String),
    #[error("peer group is in another VPC ({0:?})")]
    PeerGroupVpcMismatch(Direction),
    #[error("prefix list {0} does not exist")]
    PrefixListNotFound(String),
    #[error("prefix list address family does not match the rule")]
    PrefixListFamilyMismatch,
    #[error("rule {1} does not exist ({0:?})")]
    RuleIdNotFound(Direction, String),
    #[error("a rule id is repeated")]
    RuleIdRepeated,
    #[error("rule ids cannot be combined with Permissions")]
    RuleIdsWithPermissions,
    #[error("no rule matches ({0:?})")]
    RuleNotFoundByParams(Direction),
    #[error("a rule's peer type cannot change")]
    ModifyChangesPeerType,
    #[error("a rule's NicType cannot change")]
    ModifyNicType,
    #[error("the modify request is not valid")]
    ModifyRequestInvalid,
    #[error("the modified rule duplicates another")]
    RuleDuplicate,
    #[error("another group's rule references this group")]
    GroupReferenced,
    #[error("too many security group ids (max {0})")]
    TooManySecurityGroupIds(usize),

    // ---- prefix lists ----
    #[error("prefix list name is malformed")]
    PrefixListNameMalformed,
    #[error("prefix list description is malformed")]
    PrefixListDescriptionMalformed,
    #[error("address family must be IPv4 or IPv6")]
    AddressFamilyInvalid,
    #[error("MaxEntries must be 1..=200")]
    MaxEntriesInvalid,
    #[error("CIDR {0} is malformed")]
    PrefixListCidrMalformed(String),
    #[error("CIDR {0} is duplicated")]
    PrefixListCidrDuplicated(String),
    #[error("entry description is malformed")]
    PrefixListEntryDescriptionMalformed,
    #[error("too many entries added or removed in one request")]
    TooManyEntriesInRequest,
    #[error("entries would exceed MaxEntries")]
    MaxEntriesExceeded,
    #[error("prefix list quota of the region reached")]
    PrefixListQuotaExceeded,
    #[error("prefix list is associated with security groups")]
    PrefixListInUse,
    #[error("too many prefix list ids (max {0})")]
    TooManyPrefixListIds(usize),

    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TxError for DomainError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            DomainError::Store(e) => Some(e),
            _ => None,
        }
    }
}

//! Everything the domain can refuse, as facts. The products choose the code and message
//! (the base map of the product base, and each product's and action's own wording), so two
//! actions that document different codes for one fact share one variant.

use crate::rules::Direction;
use crate::store::{StoreError, TxError};

/// Which side of a rule a field is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Dest,
}

/// Why a rule's fields do not make a valid rule (docs/ecs.md §2.3).
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

/// Why the endpoints, protocol or ports of a network path do not make a path
/// (docs/nis.md §2, §3.1); each carries the value the message quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathInvalid {
    SourceType(String),
    TargetType(String),
    Protocol(String),
    SourcePort(String),
    TargetPort(String),
    /// No such resource of the account (or a type this emulator has none of).
    SourceId(String),
    TargetId(String),
    /// The id does not have the form of its type.
    TypeAndIdMismatch(String),
    SourceIp(String),
    TargetIp(String),
    /// An `internetIp` end that is not an address.
    Ip(String),
    /// An `internetIp` end that is a private (or otherwise non-public) address.
    NotInternetIp(String),
    BothInternetIp,
    SourceEqualsTarget,
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
    #[error("a security group needs a VpcId")]
    VpcIdRequired,
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

    // ---- VPCs ----
    #[error("VPC {0} does not exist")]
    VpcNotFound(String),
    #[error("vSwitch {0} does not exist")]
    VSwitchNotFound(String),
    /// Not a zone of the region (`CreateVSwitch`, or a launch's `ZoneId`).
    #[error("zone {0} does not exist")]
    ZoneNotFound(String),
    #[error("VPC name is malformed")]
    VpcNameMalformed,
    #[error("VPC description is malformed")]
    VpcDescriptionMalformed,
    #[error("vSwitch name is malformed")]
    VSwitchNameMalformed,
    #[error("vSwitch description is malformed")]
    VSwitchDescriptionMalformed,
    /// Not `a.b.c.d/n` with zero host bits.
    #[error("CIDR block is malformed")]
    CidrBlockMalformed,
    /// A VPC block with a mask outside /8–/28 or in a reserved range, or a resize that
    /// leaves a vSwitch outside.
    #[error("VPC CIDR block is not allowed")]
    VpcCidrInvalid,
    #[error("vSwitch mask length must be /16 to /29")]
    VSwitchMaskLength,
    #[error("vSwitch CIDR block is not inside its VPC")]
    VSwitchCidrOutsideVpc,
    #[error("vSwitch CIDR block overlaps another vSwitch")]
    VSwitchCidrOverlapped,
    #[error("a vSwitch spans its whole VPC, which then holds only that one")]
    VSwitchSpansVpc,
    #[error("a user CIDR is malformed")]
    UserCidrMalformed,
    #[error("a user CIDR mask is not allowed")]
    UserCidrMaskInvalid,
    #[error("more than three user CIDRs")]
    UserCidrQuotaExceeded,
    #[error("a user CIDR overlaps 100.64.0.0/10")]
    UserCidrReserved,
    #[error("VPC quota of the region reached")]
    VpcQuotaExceeded,
    #[error("vSwitch quota of the VPC reached")]
    VSwitchQuotaExceeded,
    #[error("the VPC still holds vSwitches")]
    VpcHasVSwitches,
    #[error("the VPC still holds security groups")]
    VpcHasSecurityGroups,
    #[error("the VPC still holds instances")]
    VpcHasInstances,
    #[error("the vSwitch still holds instances")]
    VSwitchHasInstances,

    // ---- instances ----
    #[error("instance {0} does not exist")]
    InstanceNotFound(String),
    #[error("instance id is malformed")]
    InstanceIdMalformed,
    #[error("network interface {0} does not exist")]
    NetworkInterfaceNotFound(String),
    /// Deleting or attaching an interface that is attached, detaching one that is not
    /// attached to the named instance.
    #[error("the network interface's state does not allow this operation")]
    NetworkInterfaceStateInvalid,
    /// Detaching or deleting an instance's primary interface.
    #[error("a primary network interface stays with its instance")]
    PrimaryNetworkInterface,
    /// An interface and an instance in different VPCs or zones.
    #[error("the network interface and the instance are not in the same VPC and zone")]
    NetworkInterfaceInstanceMismatch,
    /// More interfaces than the instance type takes (the primary one included).
    #[error("the instance takes at most {0} network interfaces")]
    NetworkInterfaceLimitExceeded(u32),
    /// More private addresses on one interface than its instance type allows.
    #[error("a network interface takes at most {0} private IP addresses")]
    PrivateIpLimitExceeded(u32),
    /// `UnassignPrivateIpAddresses` of an address that is not a secondary address of the
    /// interface.
    #[error("private IP address {0} is not a secondary address of the interface")]
    PrivateIpNotAssigned(String),
    /// Both `PrivateIpAddress.N` and `SecondaryPrivateIpAddressCount`, or neither.
    #[error("give either addresses or a count")]
    PrivateIpAssignmentAmbiguous,
    #[error("network interface name is malformed")]
    NetworkInterfaceNameMalformed,
    /// The state table of docs/ecs.md §7.1 refuses the operation.
    #[error("the instance's status does not allow this operation")]
    IncorrectInstanceStatus,
    /// A delete of a `Pending` instance.
    #[error("the instance is still being created")]
    InstanceInitializing,
    #[error("the instance is protected from deletion")]
    InstanceDeletionProtected,
    #[error("the vSwitch is not in the given zone")]
    VSwitchZoneMismatch,
    /// A group outside the instance's VPC (a launch's vSwitch's VPC), classic groups
    /// included: a launch, `JoinSecurityGroup`, `ModifyInstanceAttribute`.
    #[error("the security group is not in the instance's VPC")]
    SecurityGroupVpcMismatch,
    /// `ModifyInstanceAttribute`: a group without VPC (classic network).
    #[error("a classic security group cannot hold a VPC instance")]
    SecurityGroupClassic,
    #[error("a security group id is repeated")]
    SecurityGroupIdRepeated,
    /// Basic and advanced groups together on one instance.
    #[error("basic and advanced security groups cannot be mixed on one instance")]
    SecurityGroupTypesMixed,
    /// More groups than an instance may have.
    #[error("too many security groups for one instance (max {0})")]
    InstanceSecurityGroupLimitExceeded(usize),
    /// The group holds the most instances it can.
    #[error("security group {0} holds the most instances it can")]
    SecurityGroupInstanceLimitExceeded(String),
    #[error("the instance is already in the security group")]
    InstanceAlreadyInSecurityGroup,
    #[error("the instance is not in the security group")]
    InstanceNotInSecurityGroup,
    #[error("the security group is the instance's last")]
    InstanceLastSecurityGroup,
    /// `DeleteSecurityGroup` while instances are members.
    #[error("the security group still has instances")]
    SecurityGroupHasInstances,
    #[error("private IP address is malformed")]
    PrivateIpMalformed,
    /// Outside the vSwitch block, or one of its reserved addresses.
    #[error("private IP address is not a usable address of the vSwitch")]
    PrivateIpNotInVSwitch,
    #[error("private IP address {0} is in use")]
    PrivateIpInUse(String),
    #[error("the vSwitch has no free private IP address left")]
    PrivateIpExhausted,
    #[error("Amount must be 1..=100")]
    InstanceAmountInvalid,
    #[error("MinAmount must be 1..=Amount")]
    MinAmountInvalid,
    #[error("instance name is malformed")]
    InstanceNameMalformed,
    #[error("instance description is malformed")]
    InstanceDescriptionMalformed,
    #[error("host name is malformed")]
    HostNameMalformed,
    #[error("too many instance ids (max {0})")]
    TooManyInstanceIds(usize),
    #[error("the instances are in several regions")]
    InstancesCrossRegion,

    // ---- NIS network paths and analyses ----
    #[error("invalid network path: {0:?}")]
    PathInvalid(PathInvalid),
    #[error("network path name is malformed")]
    NetworkPathNameMalformed,
    #[error("network path description is malformed")]
    NetworkPathDescriptionMalformed,
    #[error("network path quota exceeded ({usage}/{quota})")]
    NetworkPathQuotaExceeded { usage: u64, quota: u64 },
    /// An identical path exists: its id.
    #[error("an identical network path exists: {0}")]
    NetworkPathExists(String),
    #[error("network path {0} does not exist")]
    NetworkPathNotFound(String),
    #[error("too many stored reachability analyses")]
    AnalysisQuotaExceeded,
    #[error("reachability analysis {0} does not exist")]
    AnalysisNotFound(String),

    // ---- key pairs ----
    #[error("key pair {0} does not exist")]
    KeyPairNotFound(String),
    #[error("key pair {0} already exists")]
    KeyPairExists(String),
    #[error("key pair name is malformed")]
    KeyPairNameMalformed,
    #[error("the public key is not an OpenSSH public key")]
    PublicKeyMalformed,
    #[error("generating a key pair failed: {0}")]
    KeyGenerationFailed(String),

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

//! The one map from domain and storage failures to Alibaba error codes: each fact's
//! default code, status and message. A product (and, within it, an action) may word a fact
//! its own way through its `wording` hook; everything else comes from here. Parameter
//! errors that every product shares (not a number, DryRun passed, ...) are built here too.

use std::borrow::Cow;

use secgroup_domain::error::{PathInvalid, RuleInvalid, Side};
use secgroup_domain::rules::Direction;
use secgroup_domain::{DomainError, StoreError};
use secgroup_rpc::RpcError;

/// Maps a domain failure to its documented code, status and message.
pub fn domain(err: DomainError) -> RpcError {
    use DomainError as D;
    let (status, code, message): (u16, &'static str, String) = match err {
        D::RegionNotFound(_) => (404, "InvalidRegionId.NotFound", "The specified RegionId does not exist.".into()),
        D::SecurityGroupNotFound(_) => (404, "InvalidSecurityGroupId.NotFound", "The specified SecurityGroupId does not exist.".into()),
        D::ResourceNotFound(_) => (404, "InvalidResourceId.NotFound", "The specified ResourceIds are not found in our records.".into()),
        D::SecurityGroupIdMalformed => return security_group_id_malformed(
            "The SecurityGroupId is invalid. Only letters, numbers and underscores are supported. Maximum length is 100 characters.",
        ),
        D::SecurityGroupNameMalformed => (400, "InvalidSecurityGroupName.Malformed", "The specified parameter SecurityGroupName is not valid.".into()),
        D::SecurityGroupDescriptionMalformed => (
            400,
            "InvalidSecurityGroupDiscription.Malformed",
            "Specified security group description is not valid.".into(),
        ),
        D::SecurityGroupTypeInvalid => (400, "InvalidParams.GroupType", "The specified security group type is not valid.".into()),
        D::PolicyMalformed => (400, "InvalidPolicy.Malformed", "The Policy is invalid. Only 'Accept' and 'Drop' are supported. Ignore case.".into()),
        D::TagKeyMalformed => (400, "InvalidTagKey.Malformed", "The specified Tag.n.Key is not valid.".into()),
        D::TagValueMalformed => (400, "InvalidTagValue.Malformed", "The specified Tag.n.Value is not valid.".into()),
        D::TagKeyDuplicate => (400, "Duplicate.TagKey", "The Tag.N.Key contain duplicate key.".into()),
        D::TooManyTags(max) => (400, "NumberExceed.Tags", format!("The Tags parameter's number is exceed , Valid : {max}.")),
        D::TooManyResources(max) => (400, "NumberExceed.ResourceIds", format!("The ResourceIds parameter's number is exceed , Valid : {max}.")),
        D::ClientTokenMalformed => (400, "InvalidClientToken.ValueNotSupported", "The ClientToken provided is invalid.".into()),
        D::EnterpriseNeedsVpc => (400, "InvalidParams.VpcIdGroupType", "Only VPC instance supports enterprise level security group.".into()),
        D::EnterprisePolicyImmutable => (
            404,
            "InvalidParameter.InnerAccessPolicy",
            "The InnerAccessPolicy attribute of enterprise level security group can't be modified.".into(),
        ),
        D::SecurityGroupQuotaExceeded => (403, "QuotaExceed.SecurityGroup", "The maximum number of security groups is reached.".into()),
        D::TagQuotaExceeded => (400, "OperationDenied.QuotaExceed", "The quota of tags on resource is beyond permitted range.".into()),
        D::IdempotentParameterMismatch => (400, "IdempotentParameterMismatch", "The request is retried with updated parameters.".into()),
        D::Rule(invalid) => return from_rule(invalid),
        D::PermissionsWithFlatParams => (400, "InvalidParam.Permissions", "The specified parameter Permissions cannot coexist with other parameters.".into()),
        D::DuplicatePermissions => (400, "InvalidParam.DuplicatePermissions", "There are duplicate permissions in the specified parameter Permissions.".into()),
        D::TooManyPermissions(max) => (400, "InvalidParam.Permissions", format!("The number of Permissions exceeds the limit of {max}.")),
        D::RuleQuotaExceeded => (403, "AuthorizationLimitExceed", "The limit of authorization records in the security group reaches.".into()),
        D::GroupRuleQuotaExceeded => (
            400,
            "AuthorizedGroupRule.LimitExceed",
            "You have reached the limit on the number of group authorization rules that you can add to a security group.When authorization object of rule is security group, the limit is 20.".into(),
        ),
        D::EnterpriseRuleDenied => (
            400,
            "InvalidGroupParameter.OperationDenied",
            "The attributes Policy, SourceGroupId, DestGroupId of enterprise level security groups are not allowed to be set or modified.".into(),
        ),
        D::AuthorizeEnterpriseGroup => (400, "InvalidGroupAuthParameter.OperationDenied", "The security group can not authorize to enterprise level security group.".into()),
        D::PeerGroupNotFound(Direction::Ingress, _) => (404, "InvalidSourceGroupId.NotFound", "The SourceGroupId provided does not exist in our records.".into()),
        D::PeerGroupNotFound(Direction::Egress, _) => (404, "InvalidDestGroupId.NotFound", "The DestGroupId provided does not exist in our records.".into()),
        D::PeerGroupVpcMismatch(Direction::Ingress) => (400, "InvalidSourceGroupId.Mismatch", "Specified security group and source group are not in the same VPC.".into()),
        D::PeerGroupVpcMismatch(Direction::Egress) => (400, "InvalidDestGroupId.Mismatch", "Specified security group and destination group are not in the same VPC.".into()),
        D::PrefixListNotFound(_) => (404, "InvalidPrefixListId.NotFound", "The specified prefix list was not found.".into()),
        D::PrefixListFamilyMismatch => (
            400,
            "InvalidParam.PrefixListAddressFamilyMismatch",
            "The address family of the specified prefix list does not match the specified CidrIp.".into(),
        ),
        // Since 2024-07-08 unknown rule ids are errors; the two directions document different codes.
        D::RuleIdNotFound(Direction::Ingress, _) => (404, "InvalidSecurityGroupRuleId.NotFound", "The specified SecurityGroupRuleId is not exists.".into()),
        D::RuleIdNotFound(Direction::Egress, _) => (400, "InvalidSecurityGroupRule.RuleNotExist", "The specified rule does not exist.".into()),
        D::RuleIdRepeated => (400, "InvalidParam.SecurityGroupRuleIdRepeated", "The specified parameter SecurityGroupRuleId is repeated.".into()),
        D::RuleIdsWithPermissions => (400, "InvalidParam.Permissions", "The specified parameter Permissions cannot coexist with other parameters.".into()),
        D::RuleNotFoundByParams(Direction::Ingress) => (404, "SecurityGroupRule.NotFound", "The target security group rule not exist.".into()),
        D::RuleNotFoundByParams(Direction::Egress) => (404, "SecurityGroupRule.NotFound", "The target security group rule do not exist.".into()),
        D::ModifyChangesPeerType => (400, "InvalidOperation.ModifySgRuleEntityType", "The authorization object type of a security group rule cannot be modified.".into()),
        D::ModifyNicType => (400, "InvalidOperation.ModifyNicType", "The NicType of a security group rule cannot be modified.".into()),
        D::ModifyRequestInvalid => (400, "InvalidParam.InvalidModifyRuleRequest", "The request parameters are illegal.".into()),
        D::RuleDuplicate => (400, "InvalidOperation.RuleDuplicate", "The modified security group rule duplicates an existing rule.".into()),
        D::GroupReferenced => (403, "DependencyViolation", "The specified security group has been authorized in another one.".into()),
        D::TooManySecurityGroupIds(_) => return security_group_id_malformed(
            "The specified parameter SecurityGroupId is essential and size should less than 10",
        ),
        D::PrefixListNameMalformed => (400, "InvalidParameter.PrefixListName", "The parameter PrefixListName is not valid.".into()),
        D::PrefixListDescriptionMalformed | D::PrefixListEntryDescriptionMalformed => {
            (400, "InvalidDescription.Malformed", "The specified Description is wrongly formed.".into())
        }
        D::AddressFamilyInvalid => (400, "InvalidParameter.AddressFamily", "The parameter AddressFamily should be IPv4 or IPv6.".into()),
        D::MaxEntriesInvalid => (400, "InvalidParameter", "The parameter MaxEntries should be an integer from 1 to 200.".into()),
        D::PrefixListCidrMalformed(cidr) => (400, "InvalidParameter.CidrMalformed", format!("The specified CIDR block {cidr} is malformed.")),
        D::PrefixListCidrDuplicated(cidr) => (400, "InvalidParameter.CidrDuplicated", format!("The specified CIDR block {cidr} is duplicated.")),
        D::TooManyEntriesInRequest => (400, "LimitExceed.Entry", "The number of entries added or removed exceeds the limit.".into()),
        D::MaxEntriesExceeded => (400, "LimitExceed.MaxEntries", "The number of entries exceeds the MaxEntries of the specified prefix list.".into()),
        D::PrefixListQuotaExceeded => (404, "LimitExceed.PrefixListPerRegion", "The number of prefix lists in the region exceeds the limit.".into()),
        D::PrefixListInUse => (400, "NotAllowed.AssociationExist", "The specified prefix list has associated resources.".into()),
        D::TooManyPrefixListIds(_) => (400, "LimitExceed.PrefixListId", "The specified number of PrefixListId exceeds the limit.".into()),
        // ---- VPCs (docs/vpc.md) ----
        D::VpcIdRequired => (403, "InvalidVpcId.NotFound", "The VpcId must not empty when only support vpc vm.".into()),
        D::VpcNotFound(_) => (404, "InvalidVpcId.NotFound", "Specified VPC does not exist.".into()),
        D::VSwitchNotFound(_) => (404, "InvalidVSwitchId.NotFound", "Specified virtual switch does not exist.".into()),
        // VPC's wording; ECS words a launch's unknown zone its own way (docs/ecs.md §7.3).
        D::ZoneNotFound(_) => (404, "InvalidZoneId.NotFound", "Specified zone does not exist.".into()),
        D::VpcNameMalformed => (400, "InvalidVpcName.Malformed", "Specified VPC name is not valid.".into()),
        D::VpcDescriptionMalformed => (400, "InvalidVpcDiscription.Malformed", "Specified VPC description is not valid.".into()),
        D::VSwitchNameMalformed => (400, "InvalidVSwitchName.Malformed", "Specified virtual switch name is not valid.".into()),
        D::VSwitchDescriptionMalformed => (
            400,
            "InvalidVSwitchDiscription.Malformed",
            "Specified virtual switch description is not valid.".into(),
        ),
        D::CidrBlockMalformed => (400, "InvalidCidrBlock.Malformed", "Specified CIDR block is not valid.".into()),
        D::VpcCidrInvalid => (400, "InvalidParameter", "Specified CIDR block is not valid".into()),
        D::VSwitchMaskLength => (400, "InvalidCirdrBlock.MaskLength", "Specified CIDR block is not valid .".into()),
        D::VSwitchCidrOutsideVpc => (400, "InvalidParameter", "Specified CIDR block is not valid in VPC.".into()),
        D::VSwitchCidrOverlapped => (400, "InvalidCidrBlock.Overlapped", "Specified CIDR block overlapped with other subnets.".into()),
        D::VSwitchSpansVpc => (
            403,
            "OperationDenied",
            "If the network segment of the vswitch is the same as that of its VPC. Therefore, the VPC cannot create other vswitchs across the region.".into(),
        ),
        D::UserCidrMalformed => (400, "InvalidParameter", "Specified UserCidr invalid format.".into()),
        D::UserCidrMaskInvalid => (400, "InvalidParameter", "Specified UserCidr Subnet mask is not valid .".into()),
        D::UserCidrQuotaExceeded => (400, "InvalidUserCidr.Quota", "Specified UserCidr number is greater than 3.".into()),
        D::UserCidrReserved => (400, "InvalidUserCidr.Malformed", "Specified UserCidr overlapping in of 100.64.0.0/10.".into()),
        D::VpcQuotaExceeded => (400, "QuotaExceeded.Vpc", "VPC quota exceeded.".into()),
        D::VSwitchQuotaExceeded => (400, "QuotaExceeded.VSwitch", "Virtual switch quota exceeded.".into()),
        D::VpcHasVSwitches => (400, "DependencyViolation.VSwitch", "Specified object has dependent resources".into()),
        D::VpcHasSecurityGroups => (400, "DependencyViolation.SecurityGroup", "Specified object has dependent resources SecurityGroup.".into()),
        D::VpcHasInstances => (400, "DependencyViolation.Instance", "Specified object has dependent resources".into()),
        D::VSwitchHasInstances => (400, "DependencyViolation", "Specified object has dependent resources.".into()),
        // ---- instances (docs/ecs.md §7, §3.2) ----
        D::InstanceNotFound(_) => (404, "InvalidInstanceId.NotFound", "The specified InstanceId does not exist.".into()),
        // ---- key pairs (docs/ecs.md §9.8) ----
        D::KeyPairNotFound(_) => (404, "InvalidKeyPairName.NotFound", "The specified KeyPairName does not exist.".into()),
        D::KeyPairExists(_) => (400, "KeyPair.AlreadyExist", "The key pair already exist.".into()),
        D::KeyPairNameMalformed => (400, "InvalidKeyPairName.Malformed", "Specified Key Pair name is not valid.".into()),
        D::PublicKeyMalformed => (400, "InvalidPublicKeyBody.Malformed", "The specified parameter PublicKeyBody is not valid.".into()),
        D::KeyGenerationFailed(_) => (500, "InternalError", "The request processing has failed due to some unknown error.".into()),
        D::InstanceIdMalformed => (400, "InvalidInstanceId.Malformed", "The specified parameter \"InstanceId\" is not valid.".into()),
        D::NetworkInterfaceNotFound(id) => (404, "InvalidEniId.NotFound", format!("The specified NetworkInterfaceId {id} does not exist.")),
        D::NetworkInterfaceStateInvalid => (403, "InvalidOperation.InvalidEniState", "The operation is not allowed in the current ENI state.".into()),
        D::PrimaryNetworkInterface => (403, "InvalidOperation.DetachPrimaryEniNotAllowed", "Detaching or deleting the primary ENI of an instance is not allowed.".into()),
        D::NetworkInterfaceInstanceMismatch => (
            403,
            "InvalidOperation.InvalidEniInstanceMismatch",
            "The specified ENI and instance are not in the same VPC and zone.".into(),
        ),
        D::NetworkInterfaceLimitExceeded(max) => (
            403,
            "InvalidOperation.EniCountExceeded",
            format!("The maximum number of ENIs on the instance is exceeded, the limit of its instance type is {max}."),
        ),
        D::PrivateIpLimitExceeded(max) => (
            403,
            "InvalidOperation.Ipv4CountExceeded",
            format!("The maximum number of private IPv4 addresses on the ENI is exceeded, the limit is {max}."),
        ),
        D::PrivateIpNotAssigned(ip) => (403, "InvalidIp.IpUnassigned", format!("The specified IP {ip} is not assigned on this ENI.")),
        D::PrivateIpAssignmentAmbiguous => (
            400,
            "InvalidParam.IpAssign",
            "Specify either PrivateIpAddress.N or SecondaryPrivateIpAddressCount.".into(),
        ),
        D::NetworkInterfaceNameMalformed => (400, "InvalidNetworkInterfaceName.Malformed", "The specified parameter NetworkInterfaceName is not valid.".into()),
        D::IncorrectInstanceStatus => (403, "IncorrectInstanceStatus", "The current status of the resource does not support this operation.".into()),
        D::InstanceInitializing => (
            403,
            "IncorrectInstanceStatus.Initializing",
            "The specified instance status does not support this operation.".into(),
        ),
        D::InstanceDeletionProtected => (403, "InvalidOperation.DeletionProtection", "The operation is not allowed due to deletion protection.".into()),
        D::VSwitchZoneMismatch => (400, "InvalidParameter.Mismatch", "Specified virtual switch is not in the specified zone.".into()),
        // Each fact below has the wording of the launch (docs/ecs.md §7.3); JoinSecurityGroup
        // and ModifyInstanceAttribute document their own codes (docs/ecs.md §7.9, §7.10).
        D::SecurityGroupVpcMismatch => (
            400,
            "InvalidParameter.Mismatch",
            "Specified security group and virtual switch are not in the same VPC.".into(),
        ),
        D::SecurityGroupClassic => (404, "InvalidSecurityGroupType.NotSupportClassic", "The specified SecurityGroupIds have classic group type.".into()),
        D::SecurityGroupIdRepeated => (404, "InvalidParameter.SecurityGroupIdRepeated", "The specified security group ids has repeated.".into()),
        D::SecurityGroupTypesMixed => (403, "EnterpriseGroupLimited.MutliGroupType", "The specified instance can't join multi SecurityGroup types.".into()),
        D::InstanceSecurityGroupLimitExceeded(_) => (
            400,
            "InstanceSecurityGroupLimitExceeded",
            "Exceeding the allowed amount of security groups that an instance can be in.".into(),
        ),
        D::SecurityGroupInstanceLimitExceeded(_) => (
            403,
            "SecurityGroupInstanceLimitExceed",
            "Exceeding the allowed amount of instances of a security group.".into(),
        ),
        D::InstanceAlreadyInSecurityGroup => (403, "InvalidInstanceId.AlreadyExists", "The specified instance already exists in the specified security group.".into()),
        D::InstanceNotInSecurityGroup => (
            400,
            "InvalidSecurityGroupAssociation.NotFound",
            "The specified instance is not in the specified security group.".into(),
        ),
        D::InstanceLastSecurityGroup => (403, "InstanceLastSecurityGroup", "The specified security group is the last security group for the instance.".into()),
        D::SecurityGroupHasInstances => (403, "DependencyViolation", "There is still instance(s) in the specified security group.".into()),
        D::PrivateIpMalformed => (400, "InvalidPrivateIpAddress.Malformed", "Specified private IP address is malformed.".into()),
        D::PrivateIpNotInVSwitch => (
            400,
            "InvalidPrivateIpAddress",
            "Specified private IP address is not in the CIDR block of virtual switch.".into(),
        ),
        D::PrivateIpInUse(_) => (400, "InvalidPrivateIpAddress.Duplicated", "The specified private IP address is already in use.".into()),
        D::PrivateIpExhausted => (400, "QuotaExceeded.PrivateIpAddress", "Don't have enough private IPs in this switch.".into()),
        D::InstanceAmountInvalid => (403, "InvalidParam.Amount", "The specified parameter Amount is not valid: it must be from 1 to 100.".into()),
        D::MinAmountInvalid => (400, "InvalidMinAmount.Malformed", "The specified parameter MinAmount is not valid.".into()),
        D::InstanceNameMalformed => (400, "InvalidInstanceName.Malformed", "The specified parameter \"InstanceName\" is not valid.".into()),
        D::InstanceDescriptionMalformed => (400, "InvalidDescription.Malformed", "The specified parameter \"Description\" is not valid.".into()),
        D::HostNameMalformed => (400, "InvalidHostName.Malformed", "The specified parameter \"HostName\" is not valid.".into()),
        D::TooManyInstanceIds(_) => (403, "InvalidParameter.TooManyInstanceIds", "Instance ids cannot be more than 100.".into()),
        D::InstancesCrossRegion => (400, "InvalidParameter.CrossRegionNotSupport", "Instances of multiple regions not support.".into()),
        D::PathInvalid(why) => return path_invalid(why),
        D::NetworkPathNameMalformed => (400, "IllegalParam.NetworkPathName", "The specified NetworkPathName is invalid.".into()),
        D::NetworkPathDescriptionMalformed => (400, "IllegalParam.NetworkPathDescription", "The specified NetworkPathDescription is invalid.".into()),
        D::NetworkPathQuotaExceeded { usage, quota } => (
            400,
            "QuotaExceeded.NetworkPath",
            format!("The quota of NetworkPath is exceeded, usage {usage}/{quota}."),
        ),
        D::NetworkPathExists(id) => (400, "ResourceAlreadyExist.NetworkPath", format!("The specified resource of {id} already exists.")),
        D::NetworkPathNotFound(id) => (404, "ResourceNotFound.NetworkPath", format!("The specified resource of {id} is not found.")),
        D::AnalysisQuotaExceeded => (
            400,
            "QuotaExceeded.MaxNraCount",
            "The maximum number of reachability analysis task is exceeded.".into(),
        ),
        D::AnalysisNotFound(id) => (404, "ResourceNotFound.NetworkReachableAnalysisId", format!("The instance resource ({id}) does not exist.")),
        D::Store(e) => return store(e),
    };
    RpcError::new(status, code, message)
}

/// Rule field errors; the side decides between the `Source` and `Dest` spelling.
fn from_rule(invalid: RuleInvalid) -> RpcError {
    use RuleInvalid as R;
    let (status, code, message): (u16, &'static str, &'static str) = match invalid {
        R::ProtocolNotSupported => (
            400,
            "InvalidIpProtocol.ValueNotSupported",
            "The parameter IpProtocol must be specified with case insensitive TCP, UDP, ICMP, GRE or All.",
        ),
        R::PortRangeMissing => (400, "InvalidPortRange.Malformed", "The specified parameter PortRange must set."),
        R::PortRangeMalformed => (
            400,
            "InvalidParam.PortRange",
            "The specified parameter PortRange is not valid. It should be two integers less than 65535 in ?/? format.",
        ),
        R::ProtocolPortMismatch => (400, "OperationDenied", "The specified IpProtocol does not exist or IpProtocol and PortRange do not match."),
        R::PortRangeListNotFound => (400, "InvalidPortRangeListId.NotFound", "The specified port range list does not exist."),
        R::SourcePortRangeMalformed => (400, "InvalidSourcePortRange.Malformed", "The specified parameter SourcePortRange is not valid."),
        R::PolicyMalformed => (400, "InvalidPolicy.Malformed", "The specified parameter Policy is not valid."),
        R::PriorityMalformed => (400, "InvalidPriority.Malformed", "The parameter Priority is invalid."),
        R::PriorityOutOfRange => (400, "InvalidPriority.ValueNotSupported", "The specified parameter Priority is invalid."),
        R::NicTypeNotSupported => (400, "InvalidNicType.ValueNotSupported", "The specified NicType does not exist."),
        R::DescriptionMalformed => (
            400,
            "InvalidSecurityGroupDiscription.Malformed",
            "The specified security group rule description parameter Description is not valid.",
        ),
        R::CidrMalformed(Side::Source) => (400, "InvalidSourceCidrIp.Malformed", "The specified parameter \"SourceCidrIp\" is not valid."),
        R::CidrMalformed(Side::Dest) => (400, "InvalidDestCidrIp.Malformed", "The specified parameter DestCidrIp is not valid."),
        R::Ipv6CidrMalformed(Side::Source) => (400, "InvalidParam.Ipv6SourceCidrIp", "The specified parameter Ipv6SourceCidrIp is not valid."),
        R::Ipv6CidrMalformed(Side::Dest) => (400, "InvalidParam.Ipv6DestCidrIp", "The specified parameter Ipv6DestCidrIp is not valid."),
        R::BothFamilies(Side::Source) => (
            400,
            "InvalidParam.SourceIp",
            "The Parameters SourceCidrIp and Ipv6SourceCidrIp in Permissions cannot be set at the same time.",
        ),
        R::BothFamilies(Side::Dest) => (
            400,
            "InvalidParam.DestIp",
            "The Parameters DestCidrIp and Ipv6DestCidrIp in Permissions cannot be set at the same time.",
        ),
        R::PeerMissing(Direction::Ingress) => (
            400,
            "MissingParameter.Source",
            "One of the parameters SourceCidrIp, Ipv6SourceCidrIp, SourceGroupId or SourcePrefixListId in Permissions must be specified.",
        ),
        R::PeerMissing(Direction::Egress) => (
            400,
            "MissingParameter.Dest",
            "One of the parameters DestCidrIp, Ipv6DestCidrIp, DestGroupId or DestPrefixListId in Permissions must be specified.",
        ),
        R::Ipv4ProtocolWithIpv6 => (400, "InvalidParam.Ipv4ProtocolConflictWithIpv6Address", "IPv6 address cannot be specified for IPv4-specific protocol."),
        R::Ipv6ProtocolWithIpv4 => (400, "InvalidParam.Ipv6ProtocolConflictWithIpv4Address", "IPv4 address cannot be specified for IPv6-specific protocol."),
        R::FamiliesMixed => (400, "InvalidParameter.Conflict", "IPv6 and IPv4 addresses cannot exist at the same time."),
        R::SameSourceAndDest => (400, "InvalidParamter.Conflict", "The specified SourceCidrIp should be different from the DestCidrIp."),
    };
    RpcError::new(status, code, message)
}

pub fn store(err: StoreError) -> RpcError {
    match err {
        StoreError::Unavailable(detail) => {
            tracing::warn!(%detail, "storage unavailable");
            RpcError::service_unavailable()
        }
        // Still conflicting after the store's retries (many writers on one hot row):
        // nothing was written, and the same request may well succeed a moment later.
        StoreError::Conflict(detail) => {
            tracing::warn!(%detail, "storage conflict persisted through every retry");
            RpcError::service_unavailable()
        }
        // No wildcard: a new kind of storage failure gets its answer here, and a row in the
        // table of the tests below.
        other @ (StoreError::Duplicate(_) | StoreError::Other(_)) => {
            tracing::error!(error = %other, "storage failure");
            RpcError::internal()
        }
    }
}

// ---- wire-level parameter errors ----

/// `Missing<Name>` (the gateway form, docs/protocol.md §4.3) for a required parameter.
pub fn missing(name: &str) -> RpcError {
    RpcError::missing(name)
}

/// A value that is not of the parameter's type or range, with no more specific code.
pub fn invalid(name: &str) -> RpcError {
    RpcError::new(
        400,
        "InvalidParameter",
        format!("The specified parameter \"{name}\" is not valid."),
    )
}

/// `InvalidSecurityGroupId.Malformed` (400), the one spelling of the code; the message is
/// the operation's (each documents its own).
pub fn security_group_id_malformed(message: impl Into<Cow<'static, str>>) -> RpcError {
    RpcError::new(400, "InvalidSecurityGroupId.Malformed", message)
}

/// The answer to a dry run that passed every check (docs/ecs.md §2.10).
pub fn dry_run_passed() -> RpcError {
    RpcError::new(
        400,
        "DryRunOperation",
        "Request validation has been passed with DryRun flag set.",
    )
}

/// NIS's refusals of a path's endpoints, protocol and ports (docs/nis.md §3.1).
#[rustfmt::skip]
fn path_invalid(why: PathInvalid) -> RpcError {
    use PathInvalid as P;
    let (code, message) = match why {
        P::SourceType(v) => ("IllegalParam.SourceType", format!("The specified source type ({v}) is invalid.")),
        P::TargetType(v) => ("IllegalParam.TargetType", format!("The specified target type ({v}) is invalid.")),
        P::Protocol(v) => ("IllegalParam.Protocol", format!("The specified Protocol({v}) is invalid.")),
        P::SourcePort(v) => (
            "IllegalParam.SourcePort",
            format!("The specified SourcePort({v}) value is invalid. The value must be within the range of (0,65536]."),
        ),
        P::TargetPort(v) => (
            "IllegalParam.TargetPort",
            format!("The specified TargetPort({v}) value is invalid. The value must be within the range of (0,65536]."),
        ),
        P::SourceId(v) => ("IllegalParam.SourceId", format!("The specified SourceId({v}) may be not exist.")),
        P::TargetId(v) => ("IllegalParam.TargetId", format!("The specified TargetId({v}) may be not exist.")),
        P::TypeAndIdMismatch(v) => ("IllegalParam.TypeAndIdMismatch", format!("The specified instanceId ({v}) and type do not match.")),
        P::SourceIp(_) => ("IllegalParam.SourceIp", "Please enter a valid source IP.".into()),
        P::TargetIp(v) => ("IllegalParam.TargetIp", format!("The specified target ip ({v}) is invalid.")),
        P::Ip(v) => ("IllegalParam.IP", format!("The specified IP address ({v}) is invalid.")),
        P::NotInternetIp(v) => ("IllegalParam.InternetIP", format!("The specified IP address ({v}) is not an internet IP address.")),
        P::BothInternetIp => (
            "IllegalParam.SourceAndTargetInternetIp",
            "Both source ID and target ID are IP addresses, but are not Internet IP addresses. Reachability Analyzer does not support the scenario.".into(),
        ),
        P::SourceEqualsTarget => (
            "IllegalParam.SourceEqualTarget",
            "The specified source and destination are identical, which is not supported for analysis.".into(),
        ),
    };
    RpcError::new(400, code, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secgroup_domain::error::PathInvalid as P;
    use secgroup_domain::error::RuleInvalid as R;
    use secgroup_domain::DomainError as D;

    /// Builds the table of the base wording: `arm` matches every fact with no wildcard (a new
    /// `DomainError`, `RuleInvalid` or `PathInvalid` variant does not compile until it has a
    /// row), and `rows` holds each row's example with its exact status, code and message.
    macro_rules! base_table {
        ($($pattern:pat => $example:expr, $status:literal, $code:literal, $message:expr;)*) => {
            fn arm(e: &DomainError) -> &'static str {
                match e {
                    $($pattern => stringify!($pattern),)*
                }
            }
            fn rows() -> Vec<(&'static str, DomainError, u16, &'static str, String)> {
                vec![$((stringify!($pattern), $example, $status, $code, $message.to_string()),)*]
            }
        };
    }

    #[rustfmt::skip]
    base_table! {
        D::RegionNotFound(_) => D::RegionNotFound("x".into()), 404, "InvalidRegionId.NotFound", "The specified RegionId does not exist.";
        D::SecurityGroupNotFound(_) => D::SecurityGroupNotFound("x".into()), 404, "InvalidSecurityGroupId.NotFound", "The specified SecurityGroupId does not exist.";
        D::ResourceNotFound(_) => D::ResourceNotFound("x".into()), 404, "InvalidResourceId.NotFound", "The specified ResourceIds are not found in our records.";
        D::SecurityGroupIdMalformed => D::SecurityGroupIdMalformed, 400, "InvalidSecurityGroupId.Malformed", "The SecurityGroupId is invalid. Only letters, numbers and underscores are supported. Maximum length is 100 characters.";
        D::SecurityGroupNameMalformed => D::SecurityGroupNameMalformed, 400, "InvalidSecurityGroupName.Malformed", "The specified parameter SecurityGroupName is not valid.";
        D::SecurityGroupDescriptionMalformed => D::SecurityGroupDescriptionMalformed, 400, "InvalidSecurityGroupDiscription.Malformed", "Specified security group description is not valid.";
        D::SecurityGroupTypeInvalid => D::SecurityGroupTypeInvalid, 400, "InvalidParams.GroupType", "The specified security group type is not valid.";
        D::PolicyMalformed => D::PolicyMalformed, 400, "InvalidPolicy.Malformed", "The Policy is invalid. Only 'Accept' and 'Drop' are supported. Ignore case.";
        D::TagKeyMalformed => D::TagKeyMalformed, 400, "InvalidTagKey.Malformed", "The specified Tag.n.Key is not valid.";
        D::TagValueMalformed => D::TagValueMalformed, 400, "InvalidTagValue.Malformed", "The specified Tag.n.Value is not valid.";
        D::TagKeyDuplicate => D::TagKeyDuplicate, 400, "Duplicate.TagKey", "The Tag.N.Key contain duplicate key.";
        D::TooManyTags(_) => D::TooManyTags(20), 400, "NumberExceed.Tags", "The Tags parameter's number is exceed , Valid : 20.";
        D::TooManyResources(_) => D::TooManyResources(50), 400, "NumberExceed.ResourceIds", "The ResourceIds parameter's number is exceed , Valid : 50.";
        D::ClientTokenMalformed => D::ClientTokenMalformed, 400, "InvalidClientToken.ValueNotSupported", "The ClientToken provided is invalid.";
        D::EnterpriseNeedsVpc => D::EnterpriseNeedsVpc, 400, "InvalidParams.VpcIdGroupType", "Only VPC instance supports enterprise level security group.";
        D::VpcIdRequired => D::VpcIdRequired, 403, "InvalidVpcId.NotFound", "The VpcId must not empty when only support vpc vm.";
        D::EnterprisePolicyImmutable => D::EnterprisePolicyImmutable, 404, "InvalidParameter.InnerAccessPolicy", "The InnerAccessPolicy attribute of enterprise level security group can't be modified.";
        D::SecurityGroupQuotaExceeded => D::SecurityGroupQuotaExceeded, 403, "QuotaExceed.SecurityGroup", "The maximum number of security groups is reached.";
        D::TagQuotaExceeded => D::TagQuotaExceeded, 400, "OperationDenied.QuotaExceed", "The quota of tags on resource is beyond permitted range.";
        D::IdempotentParameterMismatch => D::IdempotentParameterMismatch, 400, "IdempotentParameterMismatch", "The request is retried with updated parameters.";
        // ---- rule fields ----
        D::Rule(R::ProtocolNotSupported) => D::Rule(R::ProtocolNotSupported), 400, "InvalidIpProtocol.ValueNotSupported", "The parameter IpProtocol must be specified with case insensitive TCP, UDP, ICMP, GRE or All.";
        D::Rule(R::PortRangeMissing) => D::Rule(R::PortRangeMissing), 400, "InvalidPortRange.Malformed", "The specified parameter PortRange must set.";
        D::Rule(R::PortRangeMalformed) => D::Rule(R::PortRangeMalformed), 400, "InvalidParam.PortRange", "The specified parameter PortRange is not valid. It should be two integers less than 65535 in ?/? format.";
        D::Rule(R::ProtocolPortMismatch) => D::Rule(R::ProtocolPortMismatch), 400, "OperationDenied", "The specified IpProtocol does not exist or IpProtocol and PortRange do not match.";
        D::Rule(R::PortRangeListNotFound) => D::Rule(R::PortRangeListNotFound), 400, "InvalidPortRangeListId.NotFound", "The specified port range list does not exist.";
        D::Rule(R::SourcePortRangeMalformed) => D::Rule(R::SourcePortRangeMalformed), 400, "InvalidSourcePortRange.Malformed", "The specified parameter SourcePortRange is not valid.";
        D::Rule(R::PolicyMalformed) => D::Rule(R::PolicyMalformed), 400, "InvalidPolicy.Malformed", "The specified parameter Policy is not valid.";
        D::Rule(R::PriorityMalformed) => D::Rule(R::PriorityMalformed), 400, "InvalidPriority.Malformed", "The parameter Priority is invalid.";
        D::Rule(R::PriorityOutOfRange) => D::Rule(R::PriorityOutOfRange), 400, "InvalidPriority.ValueNotSupported", "The specified parameter Priority is invalid.";
        D::Rule(R::NicTypeNotSupported) => D::Rule(R::NicTypeNotSupported), 400, "InvalidNicType.ValueNotSupported", "The specified NicType does not exist.";
        D::Rule(R::DescriptionMalformed) => D::Rule(R::DescriptionMalformed), 400, "InvalidSecurityGroupDiscription.Malformed", "The specified security group rule description parameter Description is not valid.";
        D::Rule(R::CidrMalformed(Side::Source)) => D::Rule(R::CidrMalformed(Side::Source)), 400, "InvalidSourceCidrIp.Malformed", "The specified parameter \"SourceCidrIp\" is not valid.";
        D::Rule(R::CidrMalformed(Side::Dest)) => D::Rule(R::CidrMalformed(Side::Dest)), 400, "InvalidDestCidrIp.Malformed", "The specified parameter DestCidrIp is not valid.";
        D::Rule(R::Ipv6CidrMalformed(Side::Source)) => D::Rule(R::Ipv6CidrMalformed(Side::Source)), 400, "InvalidParam.Ipv6SourceCidrIp", "The specified parameter Ipv6SourceCidrIp is not valid.";
        D::Rule(R::Ipv6CidrMalformed(Side::Dest)) => D::Rule(R::Ipv6CidrMalformed(Side::Dest)), 400, "InvalidParam.Ipv6DestCidrIp", "The specified parameter Ipv6DestCidrIp is not valid.";
        D::Rule(R::BothFamilies(Side::Source)) => D::Rule(R::BothFamilies(Side::Source)), 400, "InvalidParam.SourceIp", "The Parameters SourceCidrIp and Ipv6SourceCidrIp in Permissions cannot be set at the same time.";
        D::Rule(R::BothFamilies(Side::Dest)) => D::Rule(R::BothFamilies(Side::Dest)), 400, "InvalidParam.DestIp", "The Parameters DestCidrIp and Ipv6DestCidrIp in Permissions cannot be set at the same time.";
        D::Rule(R::PeerMissing(Direction::Ingress)) => D::Rule(R::PeerMissing(Direction::Ingress)), 400, "MissingParameter.Source", "One of the parameters SourceCidrIp, Ipv6SourceCidrIp, SourceGroupId or SourcePrefixListId in Permissions must be specified.";
        D::Rule(R::PeerMissing(Direction::Egress)) => D::Rule(R::PeerMissing(Direction::Egress)), 400, "MissingParameter.Dest", "One of the parameters DestCidrIp, Ipv6DestCidrIp, DestGroupId or DestPrefixListId in Permissions must be specified.";
        D::Rule(R::Ipv4ProtocolWithIpv6) => D::Rule(R::Ipv4ProtocolWithIpv6), 400, "InvalidParam.Ipv4ProtocolConflictWithIpv6Address", "IPv6 address cannot be specified for IPv4-specific protocol.";
        D::Rule(R::Ipv6ProtocolWithIpv4) => D::Rule(R::Ipv6ProtocolWithIpv4), 400, "InvalidParam.Ipv6ProtocolConflictWithIpv4Address", "IPv4 address cannot be specified for IPv6-specific protocol.";
        D::Rule(R::FamiliesMixed) => D::Rule(R::FamiliesMixed), 400, "InvalidParameter.Conflict", "IPv6 and IPv4 addresses cannot exist at the same time.";
        D::Rule(R::SameSourceAndDest) => D::Rule(R::SameSourceAndDest), 400, "InvalidParamter.Conflict", "The specified SourceCidrIp should be different from the DestCidrIp.";
        // ---- rules ----
        D::PermissionsWithFlatParams => D::PermissionsWithFlatParams, 400, "InvalidParam.Permissions", "The specified parameter Permissions cannot coexist with other parameters.";
        D::DuplicatePermissions => D::DuplicatePermissions, 400, "InvalidParam.DuplicatePermissions", "There are duplicate permissions in the specified parameter Permissions.";
        D::TooManyPermissions(_) => D::TooManyPermissions(100), 400, "InvalidParam.Permissions", "The number of Permissions exceeds the limit of 100.";
        D::RuleQuotaExceeded => D::RuleQuotaExceeded, 403, "AuthorizationLimitExceed", "The limit of authorization records in the security group reaches.";
        D::GroupRuleQuotaExceeded => D::GroupRuleQuotaExceeded, 400, "AuthorizedGroupRule.LimitExceed", "You have reached the limit on the number of group authorization rules that you can add to a security group.When authorization object of rule is security group, the limit is 20.";
        D::EnterpriseRuleDenied => D::EnterpriseRuleDenied, 400, "InvalidGroupParameter.OperationDenied", "The attributes Policy, SourceGroupId, DestGroupId of enterprise level security groups are not allowed to be set or modified.";
        D::AuthorizeEnterpriseGroup => D::AuthorizeEnterpriseGroup, 400, "InvalidGroupAuthParameter.OperationDenied", "The security group can not authorize to enterprise level security group.";
        D::PeerGroupNotFound(Direction::Ingress, _) => D::PeerGroupNotFound(Direction::Ingress, "sg-x".into()), 404, "InvalidSourceGroupId.NotFound", "The SourceGroupId provided does not exist in our records.";
        D::PeerGroupNotFound(Direction::Egress, _) => D::PeerGroupNotFound(Direction::Egress, "sg-x".into()), 404, "InvalidDestGroupId.NotFound", "The DestGroupId provided does not exist in our records.";
        D::PeerGroupVpcMismatch(Direction::Ingress) => D::PeerGroupVpcMismatch(Direction::Ingress), 400, "InvalidSourceGroupId.Mismatch", "Specified security group and source group are not in the same VPC.";
        D::PeerGroupVpcMismatch(Direction::Egress) => D::PeerGroupVpcMismatch(Direction::Egress), 400, "InvalidDestGroupId.Mismatch", "Specified security group and destination group are not in the same VPC.";
        D::PrefixListNotFound(_) => D::PrefixListNotFound("pl-x".into()), 404, "InvalidPrefixListId.NotFound", "The specified prefix list was not found.";
        D::PrefixListFamilyMismatch => D::PrefixListFamilyMismatch, 400, "InvalidParam.PrefixListAddressFamilyMismatch", "The address family of the specified prefix list does not match the specified CidrIp.";
        D::RuleIdNotFound(Direction::Ingress, _) => D::RuleIdNotFound(Direction::Ingress, "sgr-x".into()), 404, "InvalidSecurityGroupRuleId.NotFound", "The specified SecurityGroupRuleId is not exists.";
        D::RuleIdNotFound(Direction::Egress, _) => D::RuleIdNotFound(Direction::Egress, "sgr-x".into()), 400, "InvalidSecurityGroupRule.RuleNotExist", "The specified rule does not exist.";
        D::RuleIdRepeated => D::RuleIdRepeated, 400, "InvalidParam.SecurityGroupRuleIdRepeated", "The specified parameter SecurityGroupRuleId is repeated.";
        D::RuleIdsWithPermissions => D::RuleIdsWithPermissions, 400, "InvalidParam.Permissions", "The specified parameter Permissions cannot coexist with other parameters.";
        D::RuleNotFoundByParams(Direction::Ingress) => D::RuleNotFoundByParams(Direction::Ingress), 404, "SecurityGroupRule.NotFound", "The target security group rule not exist.";
        D::RuleNotFoundByParams(Direction::Egress) => D::RuleNotFoundByParams(Direction::Egress), 404, "SecurityGroupRule.NotFound", "The target security group rule do not exist.";
        D::ModifyChangesPeerType => D::ModifyChangesPeerType, 400, "InvalidOperation.ModifySgRuleEntityType", "The authorization object type of a security group rule cannot be modified.";
        D::ModifyNicType => D::ModifyNicType, 400, "InvalidOperation.ModifyNicType", "The NicType of a security group rule cannot be modified.";
        D::ModifyRequestInvalid => D::ModifyRequestInvalid, 400, "InvalidParam.InvalidModifyRuleRequest", "The request parameters are illegal.";
        D::RuleDuplicate => D::RuleDuplicate, 400, "InvalidOperation.RuleDuplicate", "The modified security group rule duplicates an existing rule.";
        D::GroupReferenced => D::GroupReferenced, 403, "DependencyViolation", "The specified security group has been authorized in another one.";
        D::TooManySecurityGroupIds(_) => D::TooManySecurityGroupIds(10), 400, "InvalidSecurityGroupId.Malformed", "The specified parameter SecurityGroupId is essential and size should less than 10";
        // ---- prefix lists ----
        D::PrefixListNameMalformed => D::PrefixListNameMalformed, 400, "InvalidParameter.PrefixListName", "The parameter PrefixListName is not valid.";
        D::PrefixListDescriptionMalformed => D::PrefixListDescriptionMalformed, 400, "InvalidDescription.Malformed", "The specified Description is wrongly formed.";
        D::AddressFamilyInvalid => D::AddressFamilyInvalid, 400, "InvalidParameter.AddressFamily", "The parameter AddressFamily should be IPv4 or IPv6.";
        D::MaxEntriesInvalid => D::MaxEntriesInvalid, 400, "InvalidParameter", "The parameter MaxEntries should be an integer from 1 to 200.";
        D::PrefixListCidrMalformed(_) => D::PrefixListCidrMalformed("10.0.0.0/33".into()), 400, "InvalidParameter.CidrMalformed", "The specified CIDR block 10.0.0.0/33 is malformed.";
        D::PrefixListCidrDuplicated(_) => D::PrefixListCidrDuplicated("10.0.0.0/8".into()), 400, "InvalidParameter.CidrDuplicated", "The specified CIDR block 10.0.0.0/8 is duplicated.";
        D::PrefixListEntryDescriptionMalformed => D::PrefixListEntryDescriptionMalformed, 400, "InvalidDescription.Malformed", "The specified Description is wrongly formed.";
        D::TooManyEntriesInRequest => D::TooManyEntriesInRequest, 400, "LimitExceed.Entry", "The number of entries added or removed exceeds the limit.";
        D::MaxEntriesExceeded => D::MaxEntriesExceeded, 400, "LimitExceed.MaxEntries", "The number of entries exceeds the MaxEntries of the specified prefix list.";
        D::PrefixListQuotaExceeded => D::PrefixListQuotaExceeded, 404, "LimitExceed.PrefixListPerRegion", "The number of prefix lists in the region exceeds the limit.";
        D::PrefixListInUse => D::PrefixListInUse, 400, "NotAllowed.AssociationExist", "The specified prefix list has associated resources.";
        D::TooManyPrefixListIds(_) => D::TooManyPrefixListIds(5), 400, "LimitExceed.PrefixListId", "The specified number of PrefixListId exceeds the limit.";
        // ---- VPCs ----
        D::VpcNotFound(_) => D::VpcNotFound("vpc-x".into()), 404, "InvalidVpcId.NotFound", "Specified VPC does not exist.";
        D::VSwitchNotFound(_) => D::VSwitchNotFound("vsw-x".into()), 404, "InvalidVSwitchId.NotFound", "Specified virtual switch does not exist.";
        D::ZoneNotFound(_) => D::ZoneNotFound("x".into()), 404, "InvalidZoneId.NotFound", "Specified zone does not exist.";
        D::VpcNameMalformed => D::VpcNameMalformed, 400, "InvalidVpcName.Malformed", "Specified VPC name is not valid.";
        D::VpcDescriptionMalformed => D::VpcDescriptionMalformed, 400, "InvalidVpcDiscription.Malformed", "Specified VPC description is not valid.";
        D::VSwitchNameMalformed => D::VSwitchNameMalformed, 400, "InvalidVSwitchName.Malformed", "Specified virtual switch name is not valid.";
        D::VSwitchDescriptionMalformed => D::VSwitchDescriptionMalformed, 400, "InvalidVSwitchDiscription.Malformed", "Specified virtual switch description is not valid.";
        D::CidrBlockMalformed => D::CidrBlockMalformed, 400, "InvalidCidrBlock.Malformed", "Specified CIDR block is not valid.";
        D::VpcCidrInvalid => D::VpcCidrInvalid, 400, "InvalidParameter", "Specified CIDR block is not valid";
        D::VSwitchMaskLength => D::VSwitchMaskLength, 400, "InvalidCirdrBlock.MaskLength", "Specified CIDR block is not valid .";
        D::VSwitchCidrOutsideVpc => D::VSwitchCidrOutsideVpc, 400, "InvalidParameter", "Specified CIDR block is not valid in VPC.";
        D::VSwitchCidrOverlapped => D::VSwitchCidrOverlapped, 400, "InvalidCidrBlock.Overlapped", "Specified CIDR block overlapped with other subnets.";
        D::VSwitchSpansVpc => D::VSwitchSpansVpc, 403, "OperationDenied", "If the network segment of the vswitch is the same as that of its VPC. Therefore, the VPC cannot create other vswitchs across the region.";
        D::UserCidrMalformed => D::UserCidrMalformed, 400, "InvalidParameter", "Specified UserCidr invalid format.";
        D::UserCidrMaskInvalid => D::UserCidrMaskInvalid, 400, "InvalidParameter", "Specified UserCidr Subnet mask is not valid .";
        D::UserCidrQuotaExceeded => D::UserCidrQuotaExceeded, 400, "InvalidUserCidr.Quota", "Specified UserCidr number is greater than 3.";
        D::UserCidrReserved => D::UserCidrReserved, 400, "InvalidUserCidr.Malformed", "Specified UserCidr overlapping in of 100.64.0.0/10.";
        D::VpcQuotaExceeded => D::VpcQuotaExceeded, 400, "QuotaExceeded.Vpc", "VPC quota exceeded.";
        D::VSwitchQuotaExceeded => D::VSwitchQuotaExceeded, 400, "QuotaExceeded.VSwitch", "Virtual switch quota exceeded.";
        D::VpcHasVSwitches => D::VpcHasVSwitches, 400, "DependencyViolation.VSwitch", "Specified object has dependent resources";
        D::VpcHasSecurityGroups => D::VpcHasSecurityGroups, 400, "DependencyViolation.SecurityGroup", "Specified object has dependent resources SecurityGroup.";
        D::VpcHasInstances => D::VpcHasInstances, 400, "DependencyViolation.Instance", "Specified object has dependent resources";
        D::VSwitchHasInstances => D::VSwitchHasInstances, 400, "DependencyViolation", "Specified object has dependent resources.";
        // ---- instances ----
        D::InstanceNotFound(_) => D::InstanceNotFound("i-x".into()), 404, "InvalidInstanceId.NotFound", "The specified InstanceId does not exist.";
        D::KeyPairNotFound(_) => D::KeyPairNotFound("k".into()), 404, "InvalidKeyPairName.NotFound", "The specified KeyPairName does not exist.";
        D::KeyPairExists(_) => D::KeyPairExists("k".into()), 400, "KeyPair.AlreadyExist", "The key pair already exist.";
        D::KeyPairNameMalformed => D::KeyPairNameMalformed, 400, "InvalidKeyPairName.Malformed", "Specified Key Pair name is not valid.";
        D::PublicKeyMalformed => D::PublicKeyMalformed, 400, "InvalidPublicKeyBody.Malformed", "The specified parameter PublicKeyBody is not valid.";
        D::KeyGenerationFailed(_) => D::KeyGenerationFailed("rng".into()), 500, "InternalError", "The request processing has failed due to some unknown error.";
        D::InstanceIdMalformed => D::InstanceIdMalformed, 400, "InvalidInstanceId.Malformed", "The specified parameter \"InstanceId\" is not valid.";
        D::NetworkInterfaceNotFound(_) => D::NetworkInterfaceNotFound("eni-x".into()), 404, "InvalidEniId.NotFound", "The specified NetworkInterfaceId eni-x does not exist.";
        D::NetworkInterfaceStateInvalid => D::NetworkInterfaceStateInvalid, 403, "InvalidOperation.InvalidEniState", "The operation is not allowed in the current ENI state.";
        D::PrimaryNetworkInterface => D::PrimaryNetworkInterface, 403, "InvalidOperation.DetachPrimaryEniNotAllowed", "Detaching or deleting the primary ENI of an instance is not allowed.";
        D::NetworkInterfaceInstanceMismatch => D::NetworkInterfaceInstanceMismatch, 403, "InvalidOperation.InvalidEniInstanceMismatch", "The specified ENI and instance are not in the same VPC and zone.";
        D::NetworkInterfaceLimitExceeded(_) => D::NetworkInterfaceLimitExceeded(2), 403, "InvalidOperation.EniCountExceeded", "The maximum number of ENIs on the instance is exceeded, the limit of its instance type is 2.";
        D::PrivateIpLimitExceeded(_) => D::PrivateIpLimitExceeded(6), 403, "InvalidOperation.Ipv4CountExceeded", "The maximum number of private IPv4 addresses on the ENI is exceeded, the limit is 6.";
        D::PrivateIpNotAssigned(_) => D::PrivateIpNotAssigned("10.0.0.9".into()), 403, "InvalidIp.IpUnassigned", "The specified IP 10.0.0.9 is not assigned on this ENI.";
        D::PrivateIpAssignmentAmbiguous => D::PrivateIpAssignmentAmbiguous, 400, "InvalidParam.IpAssign", "Specify either PrivateIpAddress.N or SecondaryPrivateIpAddressCount.";
        D::NetworkInterfaceNameMalformed => D::NetworkInterfaceNameMalformed, 400, "InvalidNetworkInterfaceName.Malformed", "The specified parameter NetworkInterfaceName is not valid.";
        D::IncorrectInstanceStatus => D::IncorrectInstanceStatus, 403, "IncorrectInstanceStatus", "The current status of the resource does not support this operation.";
        D::InstanceInitializing => D::InstanceInitializing, 403, "IncorrectInstanceStatus.Initializing", "The specified instance status does not support this operation.";
        D::InstanceDeletionProtected => D::InstanceDeletionProtected, 403, "InvalidOperation.DeletionProtection", "The operation is not allowed due to deletion protection.";
        D::VSwitchZoneMismatch => D::VSwitchZoneMismatch, 400, "InvalidParameter.Mismatch", "Specified virtual switch is not in the specified zone.";
        D::SecurityGroupVpcMismatch => D::SecurityGroupVpcMismatch, 400, "InvalidParameter.Mismatch", "Specified security group and virtual switch are not in the same VPC.";
        D::SecurityGroupClassic => D::SecurityGroupClassic, 404, "InvalidSecurityGroupType.NotSupportClassic", "The specified SecurityGroupIds have classic group type.";
        D::SecurityGroupIdRepeated => D::SecurityGroupIdRepeated, 404, "InvalidParameter.SecurityGroupIdRepeated", "The specified security group ids has repeated.";
        D::SecurityGroupTypesMixed => D::SecurityGroupTypesMixed, 403, "EnterpriseGroupLimited.MutliGroupType", "The specified instance can't join multi SecurityGroup types.";
        D::InstanceSecurityGroupLimitExceeded(_) => D::InstanceSecurityGroupLimitExceeded(5), 400, "InstanceSecurityGroupLimitExceeded", "Exceeding the allowed amount of security groups that an instance can be in.";
        D::SecurityGroupInstanceLimitExceeded(_) => D::SecurityGroupInstanceLimitExceeded("sg-x".into()), 403, "SecurityGroupInstanceLimitExceed", "Exceeding the allowed amount of instances of a security group.";
        D::InstanceAlreadyInSecurityGroup => D::InstanceAlreadyInSecurityGroup, 403, "InvalidInstanceId.AlreadyExists", "The specified instance already exists in the specified security group.";
        D::InstanceNotInSecurityGroup => D::InstanceNotInSecurityGroup, 400, "InvalidSecurityGroupAssociation.NotFound", "The specified instance is not in the specified security group.";
        D::InstanceLastSecurityGroup => D::InstanceLastSecurityGroup, 403, "InstanceLastSecurityGroup", "The specified security group is the last security group for the instance.";
        D::SecurityGroupHasInstances => D::SecurityGroupHasInstances, 403, "DependencyViolation", "There is still instance(s) in the specified security group.";
        D::PrivateIpMalformed => D::PrivateIpMalformed, 400, "InvalidPrivateIpAddress.Malformed", "Specified private IP address is malformed.";
        D::PrivateIpNotInVSwitch => D::PrivateIpNotInVSwitch, 400, "InvalidPrivateIpAddress", "Specified private IP address is not in the CIDR block of virtual switch.";
        D::PrivateIpInUse(_) => D::PrivateIpInUse("10.0.0.1".into()), 400, "InvalidPrivateIpAddress.Duplicated", "The specified private IP address is already in use.";
        D::PrivateIpExhausted => D::PrivateIpExhausted, 400, "QuotaExceeded.PrivateIpAddress", "Don't have enough private IPs in this switch.";
        D::InstanceAmountInvalid => D::InstanceAmountInvalid, 403, "InvalidParam.Amount", "The specified parameter Amount is not valid: it must be from 1 to 100.";
        D::MinAmountInvalid => D::MinAmountInvalid, 400, "InvalidMinAmount.Malformed", "The specified parameter MinAmount is not valid.";
        D::InstanceNameMalformed => D::InstanceNameMalformed, 400, "InvalidInstanceName.Malformed", "The specified parameter \"InstanceName\" is not valid.";
        D::InstanceDescriptionMalformed => D::InstanceDescriptionMalformed, 400, "InvalidDescription.Malformed", "The specified parameter \"Description\" is not valid.";
        D::HostNameMalformed => D::HostNameMalformed, 400, "InvalidHostName.Malformed", "The specified parameter \"HostName\" is not valid.";
        D::TooManyInstanceIds(_) => D::TooManyInstanceIds(100), 403, "InvalidParameter.TooManyInstanceIds", "Instance ids cannot be more than 100.";
        D::InstancesCrossRegion => D::InstancesCrossRegion, 400, "InvalidParameter.CrossRegionNotSupport", "Instances of multiple regions not support.";
        // ---- NIS paths and analyses ----
        D::PathInvalid(P::SourceType(_)) => D::PathInvalid(P::SourceType("x".into())), 400, "IllegalParam.SourceType", "The specified source type (x) is invalid.";
        D::PathInvalid(P::TargetType(_)) => D::PathInvalid(P::TargetType("x".into())), 400, "IllegalParam.TargetType", "The specified target type (x) is invalid.";
        D::PathInvalid(P::Protocol(_)) => D::PathInvalid(P::Protocol("x".into())), 400, "IllegalParam.Protocol", "The specified Protocol(x) is invalid.";
        D::PathInvalid(P::SourcePort(_)) => D::PathInvalid(P::SourcePort("0".into())), 400, "IllegalParam.SourcePort", "The specified SourcePort(0) value is invalid. The value must be within the range of (0,65536].";
        D::PathInvalid(P::TargetPort(_)) => D::PathInvalid(P::TargetPort("0".into())), 400, "IllegalParam.TargetPort", "The specified TargetPort(0) value is invalid. The value must be within the range of (0,65536].";
        D::PathInvalid(P::SourceId(_)) => D::PathInvalid(P::SourceId("i-x".into())), 400, "IllegalParam.SourceId", "The specified SourceId(i-x) may be not exist.";
        D::PathInvalid(P::TargetId(_)) => D::PathInvalid(P::TargetId("i-x".into())), 400, "IllegalParam.TargetId", "The specified TargetId(i-x) may be not exist.";
        D::PathInvalid(P::TypeAndIdMismatch(_)) => D::PathInvalid(P::TypeAndIdMismatch("x".into())), 400, "IllegalParam.TypeAndIdMismatch", "The specified instanceId (x) and type do not match.";
        D::PathInvalid(P::SourceIp(_)) => D::PathInvalid(P::SourceIp("x".into())), 400, "IllegalParam.SourceIp", "Please enter a valid source IP.";
        D::PathInvalid(P::TargetIp(_)) => D::PathInvalid(P::TargetIp("x".into())), 400, "IllegalParam.TargetIp", "The specified target ip (x) is invalid.";
        D::PathInvalid(P::Ip(_)) => D::PathInvalid(P::Ip("x".into())), 400, "IllegalParam.IP", "The specified IP address (x) is invalid.";
        D::PathInvalid(P::NotInternetIp(_)) => D::PathInvalid(P::NotInternetIp("10.0.0.1".into())), 400, "IllegalParam.InternetIP", "The specified IP address (10.0.0.1) is not an internet IP address.";
        D::PathInvalid(P::BothInternetIp) => D::PathInvalid(P::BothInternetIp), 400, "IllegalParam.SourceAndTargetInternetIp", "Both source ID and target ID are IP addresses, but are not Internet IP addresses. Reachability Analyzer does not support the scenario.";
        D::PathInvalid(P::SourceEqualsTarget) => D::PathInvalid(P::SourceEqualsTarget), 400, "IllegalParam.SourceEqualTarget", "The specified source and destination are identical, which is not supported for analysis.";
        D::NetworkPathNameMalformed => D::NetworkPathNameMalformed, 400, "IllegalParam.NetworkPathName", "The specified NetworkPathName is invalid.";
        D::NetworkPathDescriptionMalformed => D::NetworkPathDescriptionMalformed, 400, "IllegalParam.NetworkPathDescription", "The specified NetworkPathDescription is invalid.";
        D::NetworkPathQuotaExceeded { .. } => D::NetworkPathQuotaExceeded { usage: 100, quota: 100 }, 400, "QuotaExceeded.NetworkPath", "The quota of NetworkPath is exceeded, usage 100/100.";
        D::NetworkPathExists(_) => D::NetworkPathExists("np-x".into()), 400, "ResourceAlreadyExist.NetworkPath", "The specified resource of np-x already exists.";
        D::NetworkPathNotFound(_) => D::NetworkPathNotFound("np-x".into()), 404, "ResourceNotFound.NetworkPath", "The specified resource of np-x is not found.";
        D::AnalysisQuotaExceeded => D::AnalysisQuotaExceeded, 400, "QuotaExceeded.MaxNraCount", "The maximum number of reachability analysis task is exceeded.";
        D::AnalysisNotFound(_) => D::AnalysisNotFound("nra-x".into()), 404, "ResourceNotFound.NetworkReachableAnalysisId", "The instance resource (nra-x) does not exist.";
        // ---- storage: retryable failures are 503, anything else the store reports 500 ----
        D::Store(StoreError::Unavailable(_)) => D::Store(StoreError::Unavailable("down".into())), 503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.";
        D::Store(StoreError::Conflict(_)) => D::Store(StoreError::Conflict("busy".into())), 503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.";
        D::Store(StoreError::Duplicate(_)) => D::Store(StoreError::Duplicate("k".into())), 500, "InternalError", "The request processing has failed due to some unknown error.";
        D::Store(StoreError::Other(_)) => D::Store(StoreError::Other("x".into())), 500, "InternalError", "The request processing has failed due to some unknown error.";
    }

    /// The exact base wording of every fact: each row's example is its own arm's, and the
    /// base map answers exactly the row. Every refusal is a 4xx, every storage failure (and a
    /// failed key generation, docs/ecs.md §9.8) a 5xx.
    #[test]
    fn every_domain_error_has_a_client_status() {
        let rows = rows();
        for (pattern, example, status, code, message) in rows {
            assert_eq!(arm(&example), pattern, "the example of {pattern}");
            let r = domain(example.clone());
            assert_eq!(
                (r.status.as_u16(), r.code.as_ref(), r.message.as_ref()),
                (status, code, message.as_str()),
                "{example:?}"
            );
            let server_side = matches!(example, D::Store(_) | D::KeyGenerationFailed(_));
            assert_eq!(r.status.is_client_error(), !server_side, "{example:?}");
        }
    }

    /// [`store`] (which products call on a bare [`StoreError`]) answers exactly the table's
    /// row of the same failure as a [`DomainError::Store`].
    #[test]
    fn a_store_error_answers_its_row_either_way() {
        let mut seen = 0;
        for (pattern, example, status, code, message) in rows() {
            let D::Store(e) = example else { continue };
            let r = store(e.clone());
            assert_eq!(
                (r.status.as_u16(), r.code.as_ref(), r.message.as_ref()),
                (status, code, message.as_str()),
                "{pattern}"
            );
            seen += 1;
        }
        assert_eq!(seen, 4, "one row per StoreError variant");
    }

    #[test]
    fn one_spelling_of_a_malformed_group_id() {
        let e = security_group_id_malformed("why");
        assert_eq!(
            (e.status.as_u16(), e.code.as_ref(), e.message.as_ref()),
            (400, "InvalidSecurityGroupId.Malformed", "why")
        );
    }
}

//! The single place where domain and storage failures become Alibaba error codes.
//! Parameter errors that belong to the wire (missing, not a number, ...) are built here too.

use secgroup_domain::error::{PathInvalid, RuleInvalid, Side};
use secgroup_domain::rules::Direction;
use secgroup_domain::{DomainError, StoreError};
use secgroup_rpc::RpcError;

/// Maps a domain failure to its documented code, status and message.
pub fn from_domain(err: DomainError) -> RpcError {
    use DomainError as D;
    let (status, code, message): (u16, &'static str, String) = match err {
        D::RegionNotFound(_) => (404, "InvalidRegionId.NotFound", "The specified RegionId does not exist.".into()),
        D::SecurityGroupNotFound(_) => (404, "InvalidSecurityGroupId.NotFound", "The specified SecurityGroupId does not exist.".into()),
        D::ResourceNotFound(_) => (404, "InvalidResourceId.NotFound", "The specified ResourceIds are not found in our records.".into()),
        D::SecurityGroupIdMalformed => (
            400,
            "InvalidSecurityGroupId.Malformed",
            "The SecurityGroupId is invalid. Only letters, numbers and underscores are supported. Maximum length is 100 characters.".into(),
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
        D::TooManySecurityGroupIds(_) => (
            400,
            "InvalidSecurityGroupId.Malformed",
            "The specified parameter SecurityGroupId is essential and size should less than 10".into(),
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
        D::ZoneNotFound(_) => (404, "InvalidZoneId.NotFound", "Specified zone does not exist.".into()),
        D::DryRunOperation => return dry_run_passed(),
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
        D::InstanceIdMalformed => (400, "InvalidInstanceId.Malformed", "The specified parameter \"InstanceId\" is not valid.".into()),
        D::NetworkInterfaceNotFound(id) => (404, "InvalidEniId.NotFound", format!("The specified NetworkInterfaceId {id} does not exist.")),
        D::IncorrectInstanceStatus => (403, "IncorrectInstanceStatus", "The current status of the resource does not support this operation.".into()),
        D::InstanceInitializing => (
            403,
            "IncorrectInstanceStatus.Initializing",
            "The specified instance status does not support this operation.".into(),
        ),
        D::InstanceDeletionProtected => (403, "InvalidOperation.DeletionProtection", "The operation is not allowed due to deletion protection.".into()),
        D::InstanceZoneNotFound(_) => (404, "InvalidZoneId.NotFound", "The ZoneId provided does not exist in our records.".into()),
        D::VSwitchZoneMismatch => (400, "InvalidParameter.Mismatch", "Specified virtual switch is not in the specified zone.".into()),
        D::SecurityGroupVSwitchMismatch => (
            400,
            "InvalidParameter.Mismatch",
            "Specified security group and virtual switch are not in the same VPC.".into(),
        ),
        D::InstanceSecurityGroupVpcMismatch => (400, "InvalidInstanceId.Mismatch", "Specified instance and security group are not in the same VPC.".into()),
        D::SecurityGroupsNotInOneVpc => (404, "InvalidSecurityGroupVpc.NotBelongToOneVpc", "The specified SecurityGroupIds are belong to different vpc.".into()),
        D::SecurityGroupClassic => (404, "InvalidSecurityGroupType.NotSupportClassic", "The specified SecurityGroupIds have classic group type.".into()),
        D::SecurityGroupIdRepeated => (404, "InvalidParameter.SecurityGroupIdRepeated", "The specified security group ids has repeated.".into()),
        D::SecurityGroupTypesMixed => (403, "EnterpriseGroupLimited.MutliGroupType", "The specified instance can't join multi SecurityGroup types.".into()),
        D::JoinSecurityGroupTypeMismatch => (400, "InvalidOperation.MultiGroupType", "The specified instance can't join different types of security group.".into()),
        D::InstanceSecurityGroupLimitExceeded(_) => (
            400,
            "InstanceSecurityGroupLimitExceeded",
            "Exceeding the allowed amount of security groups that an instance can be in.".into(),
        ),
        D::JoinedGroupLimitExceeded(max) => (
            400,
            "JoinedGroupLimitExceed",
            format!("The number of security groups that the instance joins exceeds the limit of {max}."),
        ),
        D::SecurityGroupInstanceLimitExceeded(_) => (
            403,
            "SecurityGroupInstanceLimitExceed",
            "Exceeding the allowed amount of instances of a security group.".into(),
        ),
        D::JoinSecurityGroupInstanceLimitExceeded(_) => (
            403,
            "SecurityGroupInstanceLimitExceeded",
            "The maximum number of instances in a security group is exceeded.".into(),
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
        D::InstanceParameterCombination(what) => (403, "InvalidParameter.Combination", what.into()),
        D::NetworkInterfaceInvalid(what) => (403, "InvalidParameter.NetworkInterface", what.into()),
        D::InstanceNameMalformed => (400, "InvalidInstanceName.Malformed", "The specified parameter \"InstanceName\" is not valid.".into()),
        D::InstanceDescriptionMalformed => (400, "InvalidDescription.Malformed", "The specified parameter \"Description\" is not valid.".into()),
        D::HostNameMalformed => (400, "InvalidHostName.Malformed", "The specified parameter \"HostName\" is not valid.".into()),
        D::TooManyInstanceIds(_) => (403, "InvalidParameter.TooManyInstanceIds", "Instance ids cannot be more than 100.".into()),
        D::InstancesCrossRegion => (400, "InvalidParameter.CrossRegionNotSupport", "Instances of multiple regions not support.".into()),
        D::PathInvalid(why) => return path_invalid(why),
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
        D::Store(e) => return from_store(e),
        other @ (D::NetworkPathNameMalformed | D::NetworkPathDescriptionMalformed) => {
            return secgroup_api::errors::domain(other)
        }
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

pub fn from_store(err: StoreError) -> RpcError {
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
        other => {
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

/// Tag APIs document their missing parameters as 404 `MissingParameter.<X>`.
pub fn tag_missing(name: &str) -> RpcError {
    RpcError::new(
        404,
        format!("MissingParameter.{name}"),
        format!("The parameter - {name} should not be null."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every domain refusal maps to a 4xx with a documented-looking code.
    #[test]
    fn every_domain_error_has_a_client_status() {
        let all = [
            DomainError::RegionNotFound("x".into()),
            DomainError::SecurityGroupNotFound("x".into()),
            DomainError::ResourceNotFound("x".into()),
            DomainError::SecurityGroupIdMalformed,
            DomainError::SecurityGroupNameMalformed,
            DomainError::SecurityGroupDescriptionMalformed,
            DomainError::SecurityGroupTypeInvalid,
            DomainError::PolicyMalformed,
            DomainError::TagKeyMalformed,
            DomainError::TagValueMalformed,
            DomainError::TagKeyDuplicate,
            DomainError::TooManyTags(20),
            DomainError::TooManyResources(50),
            DomainError::ClientTokenMalformed,
            DomainError::EnterpriseNeedsVpc,
            DomainError::EnterprisePolicyImmutable,
            DomainError::SecurityGroupQuotaExceeded,
            DomainError::TagQuotaExceeded,
            DomainError::IdempotentParameterMismatch,
            DomainError::VpcIdRequired,
            DomainError::VpcNotFound("x".into()),
            DomainError::VSwitchNotFound("x".into()),
            DomainError::ZoneNotFound("x".into()),
            DomainError::DryRunOperation,
            DomainError::VpcNameMalformed,
            DomainError::VpcDescriptionMalformed,
            DomainError::VSwitchNameMalformed,
            DomainError::VSwitchDescriptionMalformed,
            DomainError::CidrBlockMalformed,
            DomainError::VpcCidrInvalid,
            DomainError::VSwitchMaskLength,
            DomainError::VSwitchCidrOutsideVpc,
            DomainError::VSwitchCidrOverlapped,
            DomainError::VSwitchSpansVpc,
            DomainError::UserCidrMalformed,
            DomainError::UserCidrMaskInvalid,
            DomainError::UserCidrQuotaExceeded,
            DomainError::UserCidrReserved,
            DomainError::VpcQuotaExceeded,
            DomainError::VSwitchQuotaExceeded,
            DomainError::VpcHasVSwitches,
            DomainError::VpcHasSecurityGroups,
            DomainError::VpcHasInstances,
            DomainError::VSwitchHasInstances,
            DomainError::InstanceNotFound("i-x".into()),
            DomainError::InstanceIdMalformed,
            DomainError::NetworkInterfaceNotFound("eni-x".into()),
            DomainError::IncorrectInstanceStatus,
            DomainError::InstanceInitializing,
            DomainError::InstanceDeletionProtected,
            DomainError::InstanceZoneNotFound("x".into()),
            DomainError::VSwitchZoneMismatch,
            DomainError::SecurityGroupVSwitchMismatch,
            DomainError::InstanceSecurityGroupVpcMismatch,
            DomainError::SecurityGroupsNotInOneVpc,
            DomainError::SecurityGroupClassic,
            DomainError::SecurityGroupIdRepeated,
            DomainError::SecurityGroupTypesMixed,
            DomainError::JoinSecurityGroupTypeMismatch,
            DomainError::InstanceSecurityGroupLimitExceeded(5),
            DomainError::JoinedGroupLimitExceeded(5),
            DomainError::SecurityGroupInstanceLimitExceeded("sg-x".into()),
            DomainError::JoinSecurityGroupInstanceLimitExceeded("sg-x".into()),
            DomainError::InstanceAlreadyInSecurityGroup,
            DomainError::InstanceNotInSecurityGroup,
            DomainError::InstanceLastSecurityGroup,
            DomainError::SecurityGroupHasInstances,
            DomainError::PrivateIpMalformed,
            DomainError::PrivateIpNotInVSwitch,
            DomainError::PrivateIpInUse("10.0.0.1".into()),
            DomainError::PrivateIpExhausted,
            DomainError::InstanceAmountInvalid,
            DomainError::MinAmountInvalid,
            DomainError::InstanceParameterCombination("x"),
            DomainError::NetworkInterfaceInvalid("x"),
            DomainError::InstanceNameMalformed,
            DomainError::InstanceDescriptionMalformed,
            DomainError::HostNameMalformed,
            DomainError::TooManyInstanceIds(100),
            DomainError::InstancesCrossRegion,
            DomainError::PathInvalid(PathInvalid::SourceEqualsTarget),
            DomainError::PathInvalid(PathInvalid::TargetPort("0".into())),
            DomainError::NetworkPathQuotaExceeded {
                usage: 100,
                quota: 100,
            },
            DomainError::NetworkPathExists("np-x".into()),
            DomainError::NetworkPathNotFound("np-x".into()),
            DomainError::AnalysisQuotaExceeded,
            DomainError::AnalysisNotFound("nra-x".into()),
        ];
        for e in all {
            let r = from_domain(e.clone());
            assert!(r.status.is_client_error(), "{e:?} -> {r:?}");
            assert!(r.code.contains(|c: char| c.is_ascii_uppercase()), "{e:?}");
            assert!(!r.message.is_empty());
        }
        assert_eq!(
            from_domain(DomainError::Store(StoreError::Unavailable("down".into())))
                .status
                .as_u16(),
            503
        );
        assert_eq!(
            from_domain(DomainError::Store(StoreError::Conflict("busy".into())))
                .status
                .as_u16(),
            503
        );
        assert_eq!(
            from_domain(DomainError::Store(StoreError::Other("x".into())))
                .status
                .as_u16(),
            500
        );
    }
}

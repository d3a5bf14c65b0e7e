//! ECS's wording, where it differs from the base map of [`secgroup_api::errors`], and the
//! refusals only ECS makes. An action whose documentation words a fact its own way says so
//! in its own `wording` hook: `JoinSecurityGroup` and `ModifyInstanceAttribute` (the
//! instance facts they share with the launch, docs/ecs.md §7.9, §7.10) and
//! `DescribeSecurityGroupReferences` (docs/ecs.md §3.13).

use secgroup_domain::DomainError;
use secgroup_rpc::RpcError;

pub use secgroup_api::errors::{invalid, security_group_id_malformed};

/// ECS's wording of a domain error, where it differs from the base map.
pub fn wording(err: &DomainError) -> Option<RpcError> {
    match err {
        // The base is VPC's CreateVSwitch wording; ECS's launches say it so (docs/ecs.md §7.3).
        DomainError::ZoneNotFound(_) => Some(RpcError::new(
            404,
            "InvalidZoneId.NotFound",
            "The ZoneId provided does not exist in our records.",
        )),
        _ => None,
    }
}

/// The tag APIs document their missing parameters as 404 `MissingParameter.<X>`
/// (docs/ecs.md §4).
pub fn tag_missing(name: &str) -> RpcError {
    RpcError::new(
        404,
        format!("MissingParameter.{name}"),
        format!("The parameter - {name} should not be null."),
    )
}

/// `InvalidSecurityGroupId.Malformed` as the rule operations and `DescribeSecurityGroups`
/// word it.
pub fn group_id_not_valid() -> RpcError {
    security_group_id_malformed("The specified parameter SecurityGroupId is not valid.")
}

/// Launch parameters that exclude each other (docs/ecs.md §7.3).
pub fn combination(what: &'static str) -> RpcError {
    RpcError::new(403, "InvalidParameter.Combination", what)
}

/// An unusable `NetworkInterface.N` combination of a launch (docs/ecs.md §7.3).
pub fn network_interface(what: &'static str) -> RpcError {
    RpcError::new(403, "InvalidParameter.NetworkInterface", what)
}

/// `DeleteInstances`' answer to a passed dry run (docs/ecs.md §2.10).
pub fn dry_run_success() -> RpcError {
    RpcError::new(
        400,
        "DRYRUN.SUCCESS",
        "This request is a dryrun request with successful result.",
    )
}

#[cfg(test)]
mod tests {
    use secgroup_api::action::map_error;
    use secgroup_domain::DomainError as D;
    use secgroup_rpc::RpcError;
    use secgroup_store_sqlite::SqliteStore;

    use crate::instances::{
        CreateInstance, DeleteInstances, JoinSecurityGroup, LeaveSecurityGroup,
        ModifyInstanceAttribute, RunInstances,
    };
    use crate::rules::DescribeSecurityGroupReferences;
    use crate::security_groups::DeleteSecurityGroup;
    use crate::Ecs;

    type P = Ecs<SqliteStore>;

    fn outcome(e: RpcError) -> (u16, String, String) {
        (
            e.status.as_u16(),
            e.code.into_owned(),
            e.message.into_owned(),
        )
    }

    /// One fact, the codes of the actions that answer it: each action's wording, else
    /// ECS's, else the base map.
    #[rustfmt::skip]
    #[test]
    fn which_action_answers_which_code_for_a_merged_fact() {
        let vpc = || D::SecurityGroupVpcMismatch;
        let full = || D::SecurityGroupInstanceLimitExceeded("sg-x".into());
        let too_many = || D::InstanceSecurityGroupLimitExceeded(5);
        let mixed = || D::SecurityGroupTypesMixed;
        let zone = || D::ZoneNotFound("cn-hangzhou-z".into());
        let missing = || D::SecurityGroupNotFound("sg-x".into());
        let rows: Vec<(&str, RpcError, u16, &str, &str)> = vec![
            ("RunInstances", map_error::<P, RunInstances>(vpc()), 400, "InvalidParameter.Mismatch", "Specified security group and virtual switch are not in the same VPC."),
            ("CreateInstance", map_error::<P, CreateInstance>(vpc()), 400, "InvalidParameter.Mismatch", "Specified security group and virtual switch are not in the same VPC."),
            ("JoinSecurityGroup", map_error::<P, JoinSecurityGroup>(vpc()), 400, "InvalidInstanceId.Mismatch", "Specified instance and security group are not in the same VPC."),
            ("ModifyInstanceAttribute", map_error::<P, ModifyInstanceAttribute>(vpc()), 404, "InvalidSecurityGroupVpc.NotBelongToOneVpc", "The specified SecurityGroupIds are belong to different vpc."),

            ("RunInstances", map_error::<P, RunInstances>(full()), 403, "SecurityGroupInstanceLimitExceed", "Exceeding the allowed amount of instances of a security group."),
            ("ModifyInstanceAttribute", map_error::<P, ModifyInstanceAttribute>(full()), 403, "SecurityGroupInstanceLimitExceed", "Exceeding the allowed amount of instances of a security group."),
            ("JoinSecurityGroup", map_error::<P, JoinSecurityGroup>(full()), 403, "SecurityGroupInstanceLimitExceeded", "The maximum number of instances in a security group is exceeded."),

            ("RunInstances", map_error::<P, RunInstances>(too_many()), 400, "InstanceSecurityGroupLimitExceeded", "Exceeding the allowed amount of security groups that an instance can be in."),
            ("JoinSecurityGroup", map_error::<P, JoinSecurityGroup>(too_many()), 400, "InstanceSecurityGroupLimitExceeded", "Exceeding the allowed amount of security groups that an instance can be in."),
            ("ModifyInstanceAttribute", map_error::<P, ModifyInstanceAttribute>(too_many()), 400, "JoinedGroupLimitExceed", "The number of security groups that the instance joins exceeds the limit of 5."),

            ("RunInstances", map_error::<P, RunInstances>(mixed()), 403, "EnterpriseGroupLimited.MutliGroupType", "The specified instance can't join multi SecurityGroup types."),
            ("ModifyInstanceAttribute", map_error::<P, ModifyInstanceAttribute>(mixed()), 403, "EnterpriseGroupLimited.MutliGroupType", "The specified instance can't join multi SecurityGroup types."),
            ("JoinSecurityGroup", map_error::<P, JoinSecurityGroup>(mixed()), 400, "InvalidOperation.MultiGroupType", "The specified instance can't join different types of security group."),

            // ECS's own wording of a fact whose base wording is VPC's.
            ("RunInstances", map_error::<P, RunInstances>(zone()), 404, "InvalidZoneId.NotFound", "The ZoneId provided does not exist in our records."),
            ("CreateVSwitch (base)", secgroup_api::errors::domain(zone()), 404, "InvalidZoneId.NotFound", "Specified zone does not exist."),

            ("DescribeSecurityGroupReferences", map_error::<P, DescribeSecurityGroupReferences>(missing()), 404, "InvalidSecurityGroupId.NotFound", "The SecurityGroupId provided does not exist in our records."),
            ("DeleteSecurityGroup", map_error::<P, DeleteSecurityGroup>(missing()), 404, "InvalidSecurityGroupId.NotFound", "The specified SecurityGroupId does not exist."),
            ("LeaveSecurityGroup", map_error::<P, LeaveSecurityGroup>(missing()), 404, "InvalidSecurityGroupId.NotFound", "The specified SecurityGroupId does not exist."),
        ];
        for (action, err, status, code, message) in rows {
            assert_eq!(outcome(err), (status, code.to_string(), message.to_string()), "{action}");
        }
    }

    /// What an action answers to a dry run that passed (docs/ecs.md §2.10).
    #[test]
    fn dry_run_answers() {
        use secgroup_api::Action;
        assert_eq!(
            <DeleteInstances as Action<P>>::dry_run_passed().code,
            "DRYRUN.SUCCESS"
        );
        assert_eq!(
            <RunInstances as Action<P>>::dry_run_passed().code,
            "DryRunOperation"
        );
    }
}

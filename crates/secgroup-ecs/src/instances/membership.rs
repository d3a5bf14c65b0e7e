//! `JoinSecurityGroup` and `LeaveSecurityGroup` (docs/ecs.md §7.10, §7.11), two typed
//! actions over one decoder: by `InstanceId`, or by the instance's primary
//! `NetworkInterfaceId` (which needs `RegionId`).

use secgroup_api::{Action, Cx, Input};
use secgroup_domain::ids::{InstanceId, SecurityGroupId};
use secgroup_domain::ops::instances::membership::{self as ops, Change, Member};
use secgroup_domain::{DomainError, Store};
use secgroup_rpc::{Node, RpcError};

use crate::Ecs;

/// Who joins or leaves which group.
#[derive(Debug)]
struct Membership {
    member: Member,
    group_id: SecurityGroupId,
}

impl Membership {
    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region = p.optional_region()?;
        let group_id = SecurityGroupId::new(p.required("SecurityGroupId")?);
        let member = match (p.non_empty("InstanceId"), p.non_empty("NetworkInterfaceId")) {
            (Some(_), Some(_)) => {
                return Err(RpcError::new(
                    403,
                    "InvalidParam.EniIdAndInstanceId.Conflict",
                    "The parameters InstanceId and NetworkInterfaceId cannot be specified at the same time.",
                ))
            }
            (Some(id), None) => Member::Instance(InstanceId::new(id)),
            (None, Some(id)) => Member::NetworkInterface {
                id: id.to_string(),
                region_id: region.ok_or_else(|| {
                    RpcError::new(
                        400,
                        "MissingParameter.RegionId",
                        "The specified RegionId should not be null.",
                    )
                })?,
            },
            (None, None) => return Err(RpcError::missing("InstanceId")),
        };
        Ok(Membership { member, group_id })
    }

    /// Joins (`true`) or leaves the group, in one write.
    async fn change<S: Store>(self, cx: &Cx<'_, Ecs<S>>, joining: bool) -> Result<Node, RpcError> {
        cx.write(move |tx, scope| {
            let config = scope.config();
            let c = Change {
                account_id: scope.account(),
                member: &self.member,
                group_id: &self.group_id,
                limits: &config.limits,
                timings: &config.instance_timings,
            };
            if joining {
                ops::join(tx, &c, scope.now())
            } else {
                ops::leave(tx, &c, scope.now())
            }
        })
        .await?;
        Ok(Node::object().build())
    }
}

#[derive(Debug)]
pub struct JoinSecurityGroup(Membership);

impl<S: Store> Action<Ecs<S>> for JoinSecurityGroup {
    const NAME: &'static str = "JoinSecurityGroup";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Membership::decode(p).map(JoinSecurityGroup)
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        self.0.change(cx, true).await
    }

    /// Joining documents its own codes for the facts it shares with a launch
    /// (docs/ecs.md §7.10).
    fn wording(err: &DomainError) -> Option<RpcError> {
        match err {
            DomainError::SecurityGroupVpcMismatch => Some(RpcError::new(
                400,
                "InvalidInstanceId.Mismatch",
                "Specified instance and security group are not in the same VPC.",
            )),
            DomainError::SecurityGroupTypesMixed => Some(RpcError::new(
                400,
                "InvalidOperation.MultiGroupType",
                "The specified instance can't join different types of security group.",
            )),
            DomainError::SecurityGroupInstanceLimitExceeded(_) => Some(RpcError::new(
                403,
                "SecurityGroupInstanceLimitExceeded",
                "The maximum number of instances in a security group is exceeded.",
            )),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub struct LeaveSecurityGroup(Membership);

impl<S: Store> Action<Ecs<S>> for LeaveSecurityGroup {
    const NAME: &'static str = "LeaveSecurityGroup";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Membership::decode(p).map(LeaveSecurityGroup)
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        self.0.change(cx, false).await
    }
}

//! The operations, written once against [`crate::Tx`] so every storage backend shares them.
//! Each runs inside one transaction: it either completes or changes nothing.
//!
//! The operations take typed ids ([`crate::ids::AccountId`], [`crate::ids::SecurityGroupId`]
//! …) for the resource they act on, as the storage seam does: the products make them where
//! they decode a request (the calling account once, in `secgroup-api`'s `Cx`), and an
//! operation hands them to [`crate::Tx`] as they are. What an operation still wraps is an id
//! it read from a model struct (whose id fields are `String`, see [`crate::ids`]), or one
//! whose kind is known only at run time (the resources of `TagResources`, a NIS endpoint).

pub mod accounts;
pub mod compute;
pub mod dataplane;
pub mod idempotency;
pub mod import;
pub mod instances;
pub mod network_interfaces;
pub mod network_state;
pub mod nis;
pub mod placement;
pub mod prefix_lists;
pub mod rule_draft;
pub mod rules;
pub mod security_groups;
pub mod tags;
pub mod vpcs;

/// Which slice of a listing to return (products decode page numbers or tokens into it):
/// `limit` items from `offset`, in the listing's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub offset: usize,
    pub limit: usize,
}

impl Window {
    /// The items of this window out of `all`, and how many there were in all.
    pub fn cut<T>(self, all: Vec<T>) -> (usize, Vec<T>) {
        let total = all.len();
        (
            total,
            all.into_iter().skip(self.offset).take(self.limit).collect(),
        )
    }
}

/// Limits an operator can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Security groups per account and region (`QuotaExceed.SecurityGroup`).
    pub security_groups_per_region: u64,
    /// Rules (ingress and egress together) per group (`AuthorizationLimitExceed`).
    pub rules_per_group: usize,
    /// Rules whose peer is a security group, per group (`AuthorizedGroupRule.LimitExceed`).
    pub group_rules_per_group: usize,
    /// Prefix lists per account and region (`LimitExceed.PrefixListPerRegion`).
    pub prefix_lists_per_region: u64,
    /// VPCs per account and region (`QuotaExceeded.Vpc`).
    pub vpcs_per_region: u64,
    /// vSwitches per VPC (`QuotaExceeded.VSwitch`).
    pub vswitches_per_vpc: u64,
    /// Security groups one instance (its primary interface) belongs to
    /// (`InstanceSecurityGroupLimitExceeded`, `JoinedGroupLimitExceed`).
    pub security_groups_per_instance: usize,
    /// Instances per basic security group (`SecurityGroupInstanceLimitExceed(ed)`).
    pub instances_per_group: u64,
    /// Instances per advanced (enterprise) security group.
    pub instances_per_enterprise_group: u64,
    /// NIS network paths per account (`QuotaExceeded.NetworkPath`).
    pub network_paths_per_account: u64,
    /// Stored NIS reachability analyses per account (`QuotaExceeded.MaxNraCount`).
    pub analyses_per_account: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            security_groups_per_region: 100,
            rules_per_group: 200,
            group_rules_per_group: 20,
            prefix_lists_per_region: 100,
            vpcs_per_region: 10,
            vswitches_per_vpc: 150,
            security_groups_per_instance: 5,
            instances_per_group: 6000,
            instances_per_enterprise_group: 65536,
            network_paths_per_account: 100,
            analyses_per_account: 1000,
        }
    }
}

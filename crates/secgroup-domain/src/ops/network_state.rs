//! One consistent read of everything the reachability engine needs.

use chrono::{DateTime, Utc};

use super::instances::{observe, InstanceAttributes, InstanceTimings};
use crate::error::DomainError;
use crate::ids::{AccountId, SecurityGroupId};
use crate::network::{InstanceQuery, NetworkState};
use crate::store::Tx;
use crate::StoreError;

/// The account's groups with their rules, instances, prefix lists and VPCs in the region,
/// all read in the caller's one transaction, so the picture is of one moment.
pub fn load(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
) -> Result<NetworkState, StoreError> {
    let groups = tx.security_groups(account_id, region_id)?;
    let mut rules = Vec::new();
    for group in &groups {
        rules.extend(tx.rules(account_id, &SecurityGroupId::from(&group.id))?);
    }
    let instances = tx.instances(account_id, region_id, &InstanceQuery::default())?;
    let interfaces = super::network_interfaces::compose(
        &instances,
        tx.network_interfaces(account_id, region_id)?,
        tx.secondary_private_ips(account_id, region_id)?,
    );
    Ok(NetworkState {
        rules,
        instances,
        interfaces,
        prefix_lists: tx.prefix_lists(account_id, region_id)?,
        vpcs: tx.vpcs(account_id, region_id)?,
        groups,
    })
}

/// Moves every instance to the state a reader sees at `now` (transient states last as
/// `timings` say), so that "is it running?" is answered as DescribeInstances would.
pub fn settle_statuses(
    state: &mut NetworkState,
    timings: &InstanceTimings,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    for instance in &mut state.instances {
        let auto_start = InstanceAttributes::parse(&instance.attributes)?.auto_start;
        (instance.status, instance.status_since) = observe(
            instance.status,
            instance.status_since,
            auto_start,
            timings,
            now,
        );
    }
    Ok(())
}

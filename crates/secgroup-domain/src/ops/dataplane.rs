//! What the data plane reads: every account's network, in one transaction, at one revision.

use crate::ids::AccountId;
use crate::network::{NetworkState, VSwitch};
use crate::store::Tx;
use crate::StoreError;

/// One account's network in one region, as [`super::network_state::load`] reads it, and
/// the region's vSwitches (where the instances' addresses and gateways come from).
#[derive(Debug, Clone, Default)]
pub struct RegionNetwork {
    pub account_id: AccountId,
    pub region_id: String,
    pub state: NetworkState,
    pub vswitches: Vec<VSwitch>,
}

/// Everything the data plane enforces, read in the caller's one transaction: the revision
/// it is at, and the network of every (account, region) that holds an instance. Statuses
/// are as stored; the caller settles them
/// ([`super::network_state::settle_statuses`]) at the moment it plans.
pub fn load_all(tx: &mut dyn Tx) -> Result<(u64, Vec<RegionNetwork>), StoreError> {
    let revision = tx.revision()?;
    let mut networks = Vec::new();
    for (account_id, region_id) in tx.instance_regions()? {
        let state = super::network_state::load(tx, &account_id, &region_id)?;
        let vswitches = tx.vswitches(&account_id, &region_id)?;
        networks.push(RegionNetwork {
            account_id,
            region_id,
            state,
            vswitches,
        });
    }
    Ok((revision, networks))
}

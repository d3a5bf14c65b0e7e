//! What the data plane reads: every account's network, in one transaction, at one revision,
//! with where each instance is placed, each VPC's VNI and the agents' reports.

use std::collections::BTreeMap;

use crate::error::DomainError;
use crate::ids::AccountId;
use crate::model::AgentStatus;
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
    /// Instance id → host, for the region's instances that have a placement (a stopped
    /// instance keeps its row; settle the statuses before reading it as "runs there").
    pub placements: BTreeMap<String, String>,
    /// VPC id → VNI, for the region's VPCs that have one.
    pub vnis: BTreeMap<String, u32>,
}

/// What [`load_all`] reads in one transaction.
#[derive(Debug, Clone, Default)]
pub struct DataplaneSnapshot {
    /// The revision of the state read.
    pub revision: u64,
    pub regions: Vec<RegionNetwork>,
    /// Every agent's last report (of every host), by agent id.
    pub agents: Vec<AgentStatus>,
}

/// Everything the data plane enforces, read in the caller's one transaction: the revision
/// it is at, the network of every (account, region) that holds an instance with its
/// placements and VNIs, and the agents' reports. Statuses are as stored; the caller
/// settles them ([`super::network_state::settle_statuses`]) at the moment it plans.
pub fn load_all(tx: &mut dyn Tx) -> Result<DataplaneSnapshot, StoreError> {
    let revision = tx.revision()?;
    let mut placements: BTreeMap<(String, String), BTreeMap<String, String>> = BTreeMap::new();
    for p in tx.placed_instances(None)? {
        placements
            .entry((p.account_id, p.region_id))
            .or_default()
            .insert(p.placement.instance_id, p.placement.host);
    }
    let vnis = tx.vpc_vnis()?;
    let mut regions = Vec::new();
    for (account_id, region_id) in tx.instance_regions()? {
        let state = super::network_state::load(tx, &account_id, &region_id)?;
        let vswitches = tx.vswitches(&account_id, &region_id)?;
        let region_vnis = state
            .vpcs
            .iter()
            .filter_map(|v| vnis.get(&v.id).map(|vni| (v.id.clone(), *vni)))
            .collect();
        let region_placements = placements
            .remove(&(account_id.to_string(), region_id.clone()))
            .unwrap_or_default();
        regions.push(RegionNetwork {
            account_id,
            region_id,
            state,
            vswitches,
            placements: region_placements,
            vnis: region_vnis,
        });
    }
    Ok(DataplaneSnapshot {
        revision,
        regions,
        agents: tx.agent_statuses()?,
    })
}

/// The host each instance of the account is shown on ([`super::placement::shown_host`]
/// applies the status), by instance id, read in one query.
pub fn account_placements(
    tx: &mut dyn Tx,
    account_id: &AccountId,
) -> Result<BTreeMap<String, String>, DomainError> {
    Ok(tx
        .placed_instances(Some(account_id))?
        .into_iter()
        .map(|p| (p.placement.instance_id, p.placement.host))
        .collect())
}

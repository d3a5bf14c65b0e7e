//! The domain: security groups, accounts and regions, their rules of validity, the storage
//! traits they are kept behind, and the operations. Knows nothing of HTTP or SQL.
#![forbid(unsafe_code)]

pub mod audit;
pub mod catalogue;
pub mod compute;
pub mod error;
pub mod ids;
pub mod model;
pub mod network;
pub mod nis;
pub mod ops;
pub mod regions;
pub mod rules;
pub mod store;
pub mod validate;

#[cfg(feature = "testkit")]
pub mod contract;

pub use error::DomainError;
pub use model::*;
pub use store::{
    AccountsTx, AuditTx, ClientTokensTx, DataplaneTx, DisksTx, InstancesTx, KeyPairsTx,
    NetworkInterfacesTx, NisTx, PlacementsTx, PrefixListsTx, RevisionTx, RulesTx, SecurityGroupsTx,
    Store, StoreError, TagsTx, Tx, TxError, VpcsTx,
};

/// [`store_contract!`] lists the contract's cases by hand (a macro cannot find them): this
/// compares that list with the cases defined, from the sources, so it does not need the
/// `testkit` feature to run.
#[cfg(test)]
mod contract_list {
    use std::collections::BTreeSet;

    const CASE_FILES: &[&str] = &[
        include_str!("contract/accounts.rs"),
        include_str!("contract/dataplane.rs"),
        include_str!("contract/compute.rs"),
        include_str!("contract/audit.rs"),
        include_str!("contract/groups.rs"),
        include_str!("contract/instances.rs"),
        include_str!("contract/network_interfaces.rs"),
        include_str!("contract/nis.rs"),
        include_str!("contract/placements.rs"),
        include_str!("contract/prefix_lists.rs"),
        include_str!("contract/revision.rs"),
        include_str!("contract/rules.rs"),
        include_str!("contract/tags.rs"),
        include_str!("contract/transactions.rs"),
        include_str!("contract/vpcs.rs"),
    ];

    #[test]
    fn every_contract_case_is_emitted() {
        let defined: BTreeSet<&str> = CASE_FILES
            .iter()
            .flat_map(|file| file.lines())
            .filter_map(|line| line.strip_prefix("pub async fn "))
            .filter_map(|rest| rest.split(['<', '(']).next())
            .collect();
        let macro_text = include_str!("contract.rs");
        let (_, list) = macro_text
            .split_once("@cases #[$test] $fresh;")
            .expect("the list of cases");
        let (list, _) = list.split_once(");").expect("the end of the list");
        let mut emitted: BTreeSet<&str> = list
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .collect();
        assert!(macro_text.contains("$crate::contract::revision_survives_reopening(open)"));
        emitted.insert("revision_survives_reopening");
        assert_eq!(emitted, defined);
        assert_eq!(defined.len(), 53);
    }
}

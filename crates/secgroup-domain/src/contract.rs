//! The storage contract: cases every [`Store`] backend must pass, written only against the
//! traits. A backend's tests invoke [`store_contract!`](crate::store_contract), which emits
//! one test per case, each on a fresh, empty store of its own (and
//! [`revision_survives_reopening`] on a database it opens again). Failures panic, as test
//! assertions do.

mod accounts;
mod audit;
mod compute;
mod dataplane;
mod groups;
mod instances;
mod network_interfaces;
mod nis;
mod placements;
mod prefix_lists;
mod revision;
mod rules;
mod tags;
mod transactions;
mod vpcs;

use chrono::{DateTime, Utc};

use crate::ids::{AccountId, SecurityGroupId};
use crate::model::{
    AccessKeyRecord, InnerAccessPolicy, ResourceType, SecurityGroup, SecurityGroupType, Tag,
};
use crate::store::{Store, StoreError, Tx};

pub use accounts::{accounts_and_keys, default_account, nonce_claims, nonces};
pub use audit::{audit_events, audit_records_leave_the_revision};
pub use compute::{disks_and_user_data_round_trip, key_pairs_round_trip};
pub use dataplane::{agent_statuses_round_trip, instance_regions_span_accounts};
pub use groups::{
    account_isolation, groups_delete_removes_tags, groups_insert_get_list, groups_update,
};
pub use instances::{
    instance, instance_addresses_are_unique, instance_counts, instances_account_isolation,
    instances_insert_get_list, instances_update_delete,
};
pub use network_interfaces::{
    interface_addresses_are_unique, interface_counts_and_isolation, network_interfaces_round_trip,
};
pub use nis::{analyses_round_trip, network_paths_round_trip, nis_account_isolation};
pub use placements::{placements_round_trip, vpc_vnis_are_unique};
pub use prefix_lists::{
    prefix_lists_account_isolation, prefix_lists_delete_removes_entries_and_tags,
    prefix_lists_insert_get_list, prefix_lists_update,
};
pub use revision::{
    revision_bumps_on_commit, revision_concurrent_writers_each_bump_once,
    revision_ignores_nonce_claims, revision_survives_reopening, revision_unchanged_on_rollback,
};
pub use rules::{
    groups_delete_removes_rules, rule_counts_and_references, rules_account_isolation,
    rules_insert_list_round_trip, rules_update_delete,
};
pub use tags::{client_token_retention, client_tokens, tags_order_and_replace};
pub use transactions::{
    concurrent_writes, conflicts_are_retried, failed_write_leaves_nothing, panics_become_errors,
};
pub use vpcs::{
    security_groups_in_vpc, vpc, vpcs_account_isolation, vpcs_delete_removes_tags,
    vpcs_insert_get_list_update, vswitch, vswitches_insert_get_list_update,
};

const SG: ResourceType = ResourceType::SecurityGroup;

/// Emits one test per contract case, so each case passes, fails or is skipped on its own
/// and a failure names its case. Invoke it once per backend (or per kind of store of one
/// backend, each in a module of its own) in that backend's integration tests:
///
/// ```ignore
/// secgroup_domain::store_contract! {
///     #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
///     fresh = fresh_store,
///     reopen = reopenable_store,
/// }
/// ```
///
/// Every generated test carries the attribute given (the caller's test runtime). `fresh`
/// is called with the case's name and returns `Some((guard, store))`, a fresh, empty store
/// and whatever must outlive it (a temporary directory, a database to drop), or `None`
/// when the test is to be skipped (it has then said so itself, and failed instead if it
/// may not skip). `reopen`, optional, is called the same way and returns a guard and a
/// function that opens one and the same database each time it is called, for
/// [`revision_survives_reopening`] (a store that cannot be reopened leaves it out).
///
/// Every public case of this module is listed here: a new case goes in this list too (a
/// unit test of this crate, `every_contract_case_is_emitted`, checks it).
#[macro_export]
macro_rules! store_contract {
    (#[$test:meta] fresh = $fresh:expr, reopen = $reopen:expr $(,)?) => {
        $crate::store_contract!(#[$test] fresh = $fresh);

        #[$test]
        async fn revision_survives_reopening() {
            let Some((_keep, open)) = ($reopen)("revision_survives_reopening") else {
                return;
            };
            $crate::contract::revision_survives_reopening(open).await;
        }
    };
    (#[$test:meta] fresh = $fresh:expr $(,)?) => {
        $crate::store_contract!(@cases #[$test] $fresh;
            accounts_and_keys,
            default_account,
            nonces,
            nonce_claims,
            groups_insert_get_list,
            groups_update,
            groups_delete_removes_tags,
            account_isolation,
            rules_insert_list_round_trip,
            rules_update_delete,
            rule_counts_and_references,
            groups_delete_removes_rules,
            rules_account_isolation,
            prefix_lists_insert_get_list,
            prefix_lists_update,
            prefix_lists_delete_removes_entries_and_tags,
            prefix_lists_account_isolation,
            tags_order_and_replace,
            client_tokens,
            client_token_retention,
            vpcs_insert_get_list_update,
            vswitches_insert_get_list_update,
            vpcs_delete_removes_tags,
            security_groups_in_vpc,
            vpcs_account_isolation,
            instances_insert_get_list,
            instances_update_delete,
            instance_addresses_are_unique,
            instance_counts,
            instances_account_isolation,
            network_interfaces_round_trip,
            interface_addresses_are_unique,
            interface_counts_and_isolation,
            network_paths_round_trip,
            analyses_round_trip,
            nis_account_isolation,
            key_pairs_round_trip,
            disks_and_user_data_round_trip,
            failed_write_leaves_nothing,
            conflicts_are_retried,
            panics_become_errors,
            concurrent_writes,
            revision_bumps_on_commit,
            revision_unchanged_on_rollback,
            revision_ignores_nonce_claims,
            revision_concurrent_writers_each_bump_once,
            agent_statuses_round_trip,
            instance_regions_span_accounts,
            placements_round_trip,
            vpc_vnis_are_unique,
            audit_events,
            audit_records_leave_the_revision,
        );
    };
    (@cases #[$test:meta] $fresh:expr; $($case:ident),* $(,)?) => {
        $(
            #[$test]
            async fn $case() {
                let Some((_keep, store)) = ($fresh)(stringify!($case)) else {
                    return;
                };
                $crate::contract::$case(store).await;
            }
        )*
    };
}

// ---- helpers ----

/// A fixed instant, `secs` after 2023-11-14T22:13:20Z, with `micros` (portable precision).
pub fn at(secs: i64, micros: u32) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + secs, micros * 1_000).expect("time in range")
}

/// A basic group whose other fields derive from its id, created `secs` after [`at`]'s epoch.
pub fn group(account: &str, region: &str, id: &str, secs: i64) -> SecurityGroup {
    SecurityGroup {
        id: id.to_owned(),
        account_id: account.to_owned(),
        region_id: region.to_owned(),
        name: format!("name-{id}"),
        description: format!("about {id}"),
        group_type: SecurityGroupType::Normal,
        inner_access_policy: InnerAccessPolicy::Accept,
        vpc_id: format!("vpc-{id}"),
        resource_group_id: String::new(),
        creation_time: at(secs, 0),
    }
}

/// A tag, briefly.
pub fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

/// Runs `f` in a write transaction; panics if it fails.
pub(super) async fn write<S: Store, T: Send + 'static>(
    store: &S,
    f: impl FnMut(&mut dyn Tx) -> Result<T, StoreError> + Send + 'static,
) -> T {
    store.write(f).await.expect("write transaction failed")
}

/// Runs `f` in a read transaction; panics if it fails.
pub(super) async fn read<S: Store, T: Send + 'static>(
    store: &S,
    f: impl FnMut(&mut dyn Tx) -> Result<T, StoreError> + Send + 'static,
) -> T {
    store.read(f).await.expect("read transaction failed")
}

pub(super) async fn insert_group<S: Store>(store: &S, g: &SecurityGroup) {
    let g = g.clone();
    write(store, move |tx| tx.insert_security_group(&g)).await;
}

pub(super) async fn get_group<S: Store>(
    store: &S,
    account: &str,
    id: &str,
) -> Option<SecurityGroup> {
    let (account, id) = (account.to_owned(), id.to_owned());
    read(store, move |tx| {
        tx.security_group(&AccountId::from(&account), &SecurityGroupId::from(&id))
    })
    .await
}

pub(super) async fn list_ids<S: Store>(store: &S, account: &str, region: &str) -> Vec<String> {
    let (account, region) = (account.to_owned(), region.to_owned());
    let groups = read(store, move |tx| {
        tx.security_groups(&AccountId::from(&account), &region)
    })
    .await;
    groups.into_iter().map(|g| g.id).collect()
}

pub(super) async fn get_tags<S: Store>(store: &S, account: &str, id: &str) -> Vec<Tag> {
    let (account, id) = (account.to_owned(), id.to_owned());
    read(store, move |tx| {
        tx.tags(&AccountId::from(&account), SG, &id)
    })
    .await
}

pub(super) async fn put_tags<S: Store>(store: &S, account: &str, id: &str, tags: &[Tag]) {
    let (account, id, tags) = (account.to_owned(), id.to_owned(), tags.to_vec());
    write(store, move |tx| {
        tx.set_tags(&AccountId::from(&account), SG, &id, &tags)
    })
    .await;
}

pub(super) fn key(id: &str, account: &str, secs: i64) -> AccessKeyRecord {
    AccessKeyRecord {
        access_key_id: id.to_owned(),
        secret: format!("secret-of-{id}"),
        account_id: account.to_owned(),
        created_at: at(secs, 250_001),
    }
}

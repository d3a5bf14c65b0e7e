//! The storage contract: cases every [`Store`] backend must pass, written only against the
//! traits. A backend's tests call [`run_all`] (or single cases) with a factory that makes
//! a fresh, empty store for each case, and [`revision_survives_reopening`] with one that
//! opens the same database again. Failures panic, as test assertions do.

mod accounts;
mod groups;
mod instances;
mod nis;
mod prefix_lists;
mod revision;
mod rules;
mod tags;
mod transactions;
mod vpcs;

use chrono::{DateTime, Utc};

use crate::model::{
    AccessKeyRecord, InnerAccessPolicy, ResourceType, SecurityGroup, SecurityGroupType, Tag,
};
use crate::store::{Store, StoreError, Tx};

pub use accounts::{accounts_and_keys, default_account, nonce_claims, nonces};
pub use groups::{
    account_isolation, groups_delete_removes_tags, groups_insert_get_list, groups_update,
};
pub use instances::{
    instance, instance_addresses_are_unique, instance_counts, instances_account_isolation,
    instances_insert_get_list, instances_update_delete,
};
pub use nis::{analyses_round_trip, network_paths_round_trip, nis_account_isolation};
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
pub use tags::{client_tokens, tags_order_and_replace};
pub use transactions::{
    concurrent_writes, conflicts_are_retried, failed_write_leaves_nothing, panics_become_errors,
};
pub use vpcs::{
    security_groups_in_vpc, vpc, vpcs_account_isolation, vpcs_delete_removes_tags,
    vpcs_insert_get_list_update, vswitch, vswitches_insert_get_list_update,
};

const SG: ResourceType = ResourceType::SecurityGroup;

/// Runs every case, each on a store of its own from `make`.
pub async fn run_all<S: Store>(make: impl Fn() -> S) {
    accounts_and_keys(make()).await;
    default_account(make()).await;
    nonces(make()).await;
    nonce_claims(make()).await;
    groups_insert_get_list(make()).await;
    groups_update(make()).await;
    groups_delete_removes_tags(make()).await;
    account_isolation(make()).await;
    rules_insert_list_round_trip(make()).await;
    rules_update_delete(make()).await;
    rule_counts_and_references(make()).await;
    groups_delete_removes_rules(make()).await;
    rules_account_isolation(make()).await;
    prefix_lists_insert_get_list(make()).await;
    prefix_lists_update(make()).await;
    prefix_lists_delete_removes_entries_and_tags(make()).await;
    prefix_lists_account_isolation(make()).await;
    tags_order_and_replace(make()).await;
    client_tokens(make()).await;
    vpcs_insert_get_list_update(make()).await;
    vswitches_insert_get_list_update(make()).await;
    vpcs_delete_removes_tags(make()).await;
    security_groups_in_vpc(make()).await;
    vpcs_account_isolation(make()).await;
    instances_insert_get_list(make()).await;
    instances_update_delete(make()).await;
    instance_addresses_are_unique(make()).await;
    instance_counts(make()).await;
    instances_account_isolation(make()).await;
    network_paths_round_trip(make()).await;
    analyses_round_trip(make()).await;
    nis_account_isolation(make()).await;
    failed_write_leaves_nothing(make()).await;
    conflicts_are_retried(make()).await;
    panics_become_errors(make()).await;
    concurrent_writes(make()).await;
    revision_bumps_on_commit(make()).await;
    revision_unchanged_on_rollback(make()).await;
    revision_ignores_nonce_claims(make()).await;
    revision_concurrent_writers_each_bump_once(make()).await;
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
    read(store, move |tx| tx.security_group(&account, &id)).await
}

pub(super) async fn list_ids<S: Store>(store: &S, account: &str, region: &str) -> Vec<String> {
    let (account, region) = (account.to_owned(), region.to_owned());
    let groups = read(store, move |tx| tx.security_groups(&account, &region)).await;
    groups.into_iter().map(|g| g.id).collect()
}

pub(super) async fn get_tags<S: Store>(store: &S, account: &str, id: &str) -> Vec<Tag> {
    let (account, id) = (account.to_owned(), id.to_owned());
    read(store, move |tx| tx.tags(&account, SG, &id)).await
}

pub(super) async fn put_tags<S: Store>(store: &S, account: &str, id: &str, tags: &[Tag]) {
    let (account, id, tags) = (account.to_owned(), id.to_owned(), tags.to_vec());
    write(store, move |tx| tx.set_tags(&account, SG, &id, &tags)).await;
}

pub(super) fn key(id: &str, account: &str, secs: i64) -> AccessKeyRecord {
    AccessKeyRecord {
        access_key_id: id.to_owned(),
        secret: format!("secret-of-{id}"),
        account_id: account.to_owned(),
        created_at: at(secs, 250_001),
    }
}

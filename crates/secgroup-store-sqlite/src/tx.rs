//! [`Tx`] over a connection inside a begun transaction. The queries live in one module
//! per topic; this one only routes to them and holds the timestamp encoding.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Connection;
use secgroup_domain::network::{Instance, InstanceQuery, InstanceScope, VSwitch, Vpc};
use secgroup_domain::nis::{NetworkPath, ReachabilityAnalysis};
use secgroup_domain::rules::Rule;
use secgroup_domain::{
    AccessKeyRecord, ClientTokenRecord, PrefixList, ResourceType, SecurityGroup, StoreError, Tag,
    Tx,
};

use crate::error::corrupt;
use crate::{accounts, groups, instances, nis, prefix_lists, revision, rules, tags, tokens, vpcs};

/// Borrows a connection on which the store has begun a transaction (a
/// `rusqlite::Transaction` derefs to one); the store commits or rolls it back.
pub(crate) struct SqliteTx<'c> {
    conn: &'c Connection,
}

impl<'c> SqliteTx<'c> {
    pub(crate) fn new(conn: &'c Connection) -> SqliteTx<'c> {
        SqliteTx { conn }
    }
}

impl Tx for SqliteTx<'_> {
    fn insert_account(
        &mut self,
        account_id: &str,
        is_default: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        accounts::insert_account(self.conn, account_id, is_default, now)
    }

    fn default_account(&mut self) -> Result<Option<String>, StoreError> {
        accounts::default_account(self.conn)
    }

    fn insert_access_key(&mut self, key: &AccessKeyRecord) -> Result<(), StoreError> {
        accounts::insert_access_key(self.conn, key)
    }

    fn access_key(&mut self, access_key_id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
        accounts::access_key(self.conn, access_key_id)
    }

    fn count_access_keys(&mut self) -> Result<u64, StoreError> {
        accounts::count_access_keys(self.conn)
    }

    fn claim_nonce(
        &mut self,
        access_key_id: &str,
        nonce: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        accounts::claim_nonce(self.conn, access_key_id, nonce, expires_at, now)
    }

    fn insert_security_group(&mut self, group: &SecurityGroup) -> Result<(), StoreError> {
        groups::insert(self.conn, group)
    }

    fn security_group(
        &mut self,
        account_id: &str,
        id: &str,
    ) -> Result<Option<SecurityGroup>, StoreError> {
        groups::get(self.conn, account_id, id)
    }

    fn security_groups(
        &mut self,
        account_id: &str,
        region_id: &str,
    ) -> Result<Vec<SecurityGroup>, StoreError> {
        groups::list(self.conn, account_id, region_id)
    }

    fn update_security_group(&mut self, group: &SecurityGroup) -> Result<(), StoreError> {
        groups::update(self.conn, group)
    }

    fn delete_security_group(&mut self, account_id: &str, id: &str) -> Result<bool, StoreError> {
        groups::delete(self.conn, account_id, id)
    }

    fn count_security_groups(
        &mut self,
        account_id: &str,
        region_id: &str,
    ) -> Result<u64, StoreError> {
        groups::count(self.conn, account_id, region_id)
    }

    fn insert_rule(&mut self, account_id: &str, rule: &Rule) -> Result<(), StoreError> {
        rules::insert(self.conn, account_id, rule)
    }

    fn rules(
        &mut self,
        account_id: &str,
        security_group_id: &str,
    ) -> Result<Vec<Rule>, StoreError> {
        rules::list(self.conn, account_id, security_group_id)
    }

    fn update_rule(&mut self, account_id: &str, rule: &Rule) -> Result<bool, StoreError> {
        rules::update(self.conn, account_id, rule)
    }

    fn delete_rules(
        &mut self,
        account_id: &str,
        security_group_id: &str,
        rule_ids: &[String],
    ) -> Result<usize, StoreError> {
        rules::delete(self.conn, account_id, security_group_id, rule_ids)
    }

    fn rule_counts(
        &mut self,
        account_id: &str,
        region_id: &str,
    ) -> Result<HashMap<String, (u64, u64)>, StoreError> {
        rules::counts(self.conn, account_id, region_id)
    }

    fn groups_referencing_group(
        &mut self,
        security_group_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        rules::groups_referencing_group(self.conn, security_group_id)
    }

    fn groups_referencing_prefix_list(
        &mut self,
        account_id: &str,
        prefix_list_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        rules::groups_referencing_prefix_list(self.conn, account_id, prefix_list_id)
    }

    fn insert_prefix_list(&mut self, list: &PrefixList) -> Result<(), StoreError> {
        prefix_lists::insert(self.conn, list)
    }

    fn prefix_list(
        &mut self,
        account_id: &str,
        id: &str,
    ) -> Result<Option<PrefixList>, StoreError> {
        prefix_lists::get(self.conn, account_id, id)
    }

    fn prefix_lists(
        &mut self,
        account_id: &str,
        region_id: &str,
    ) -> Result<Vec<PrefixList>, StoreError> {
        prefix_lists::list(self.conn, account_id, region_id)
    }

    fn update_prefix_list(&mut self, list: &PrefixList) -> Result<bool, StoreError> {
        prefix_lists::update(self.conn, list)
    }

    fn delete_prefix_list(&mut self, account_id: &str, id: &str) -> Result<bool, StoreError> {
        prefix_lists::delete(self.conn, account_id, id)
    }

    fn count_prefix_lists(&mut self, account_id: &str, region_id: &str) -> Result<u64, StoreError> {
        prefix_lists::count(self.conn, account_id, region_id)
    }

    fn insert_vpc(&mut self, vpc: &Vpc) -> Result<(), StoreError> {
        vpcs::insert_vpc(self.conn, vpc)
    }

    fn vpc(&mut self, account_id: &str, id: &str) -> Result<Option<Vpc>, StoreError> {
        vpcs::vpc(self.conn, account_id, id)
    }

    fn vpcs(&mut self, account_id: &str, region_id: &str) -> Result<Vec<Vpc>, StoreError> {
        vpcs::vpcs(self.conn, account_id, region_id)
    }

    fn update_vpc(&mut self, vpc: &Vpc) -> Result<bool, StoreError> {
        vpcs::update_vpc(self.conn, vpc)
    }

    fn delete_vpc(&mut self, account_id: &str, id: &str) -> Result<bool, StoreError> {
        vpcs::delete_vpc(self.conn, account_id, id)
    }

    fn insert_vswitch(&mut self, vswitch: &VSwitch) -> Result<(), StoreError> {
        vpcs::insert_vswitch(self.conn, vswitch)
    }

    fn vswitch(&mut self, account_id: &str, id: &str) -> Result<Option<VSwitch>, StoreError> {
        vpcs::vswitch(self.conn, account_id, id)
    }

    fn vswitches(&mut self, account_id: &str, region_id: &str) -> Result<Vec<VSwitch>, StoreError> {
        vpcs::vswitches(self.conn, account_id, region_id)
    }

    fn update_vswitch(&mut self, vswitch: &VSwitch) -> Result<bool, StoreError> {
        vpcs::update_vswitch(self.conn, vswitch)
    }

    fn delete_vswitch(&mut self, account_id: &str, id: &str) -> Result<bool, StoreError> {
        vpcs::delete_vswitch(self.conn, account_id, id)
    }

    fn count_security_groups_in_vpc(
        &mut self,
        account_id: &str,
        vpc_id: &str,
    ) -> Result<u64, StoreError> {
        vpcs::count_security_groups_in_vpc(self.conn, account_id, vpc_id)
    }

    fn insert_instance(&mut self, instance: &Instance) -> Result<(), StoreError> {
        instances::insert(self.conn, instance)
    }

    fn instance(&mut self, account_id: &str, id: &str) -> Result<Option<Instance>, StoreError> {
        instances::get(self.conn, account_id, id)
    }

    fn instances(
        &mut self,
        account_id: &str,
        region_id: &str,
        query: &InstanceQuery,
    ) -> Result<Vec<Instance>, StoreError> {
        instances::list(self.conn, account_id, region_id, query)
    }

    fn count_matching_instances(
        &mut self,
        account_id: &str,
        region_id: &str,
        query: &InstanceQuery,
    ) -> Result<u64, StoreError> {
        instances::count_matching(self.conn, account_id, region_id, query)
    }

    fn update_instance(&mut self, instance: &Instance) -> Result<bool, StoreError> {
        instances::update(self.conn, instance)
    }

    fn delete_instance(&mut self, account_id: &str, id: &str) -> Result<bool, StoreError> {
        instances::delete(self.conn, account_id, id)
    }

    fn used_private_ips(&mut self, vswitch_id: &str) -> Result<Vec<String>, StoreError> {
        instances::used_private_ips(self.conn, vswitch_id)
    }

    fn count_instances(
        &mut self,
        account_id: &str,
        scope: InstanceScope<'_>,
    ) -> Result<u64, StoreError> {
        instances::count(self.conn, account_id, scope)
    }

    fn member_counts(
        &mut self,
        account_id: &str,
        region_id: &str,
    ) -> Result<HashMap<String, u64>, StoreError> {
        instances::member_counts(self.conn, account_id, region_id)
    }

    fn tags(
        &mut self,
        account_id: &str,
        resource_type: ResourceType,
        resource_id: &str,
    ) -> Result<Vec<Tag>, StoreError> {
        tags::tags(self.conn, account_id, resource_type, resource_id)
    }

    fn set_tags(
        &mut self,
        account_id: &str,
        resource_type: ResourceType,
        resource_id: &str,
        tags: &[Tag],
    ) -> Result<(), StoreError> {
        tags::set_tags(self.conn, account_id, resource_type, resource_id, tags)
    }

    fn all_tags(
        &mut self,
        account_id: &str,
        resource_type: ResourceType,
    ) -> Result<HashMap<String, Vec<Tag>>, StoreError> {
        tags::all_tags(self.conn, account_id, resource_type)
    }

    fn insert_network_path(&mut self, path: &NetworkPath) -> Result<(), StoreError> {
        nis::insert_path(self.conn, path)
    }

    fn network_path(
        &mut self,
        account_id: &str,
        id: &str,
    ) -> Result<Option<NetworkPath>, StoreError> {
        nis::path(self.conn, account_id, id)
    }

    fn network_paths(&mut self, account_id: &str) -> Result<Vec<NetworkPath>, StoreError> {
        nis::paths(self.conn, account_id)
    }

    fn delete_network_path(&mut self, account_id: &str, id: &str) -> Result<bool, StoreError> {
        nis::delete_path(self.conn, account_id, id)
    }

    fn insert_analysis(&mut self, analysis: &ReachabilityAnalysis) -> Result<(), StoreError> {
        nis::insert_analysis(self.conn, analysis)
    }

    fn analysis(
        &mut self,
        account_id: &str,
        id: &str,
    ) -> Result<Option<ReachabilityAnalysis>, StoreError> {
        nis::analysis(self.conn, account_id, id)
    }

    fn count_analyses(&mut self, account_id: &str) -> Result<u64, StoreError> {
        nis::count_analyses(self.conn, account_id)
    }

    fn delete_analysis(&mut self, account_id: &str, id: &str) -> Result<bool, StoreError> {
        nis::delete_analysis(self.conn, account_id, id)
    }

    fn client_token(
        &mut self,
        account_id: &str,
        token: &str,
    ) -> Result<Option<ClientTokenRecord>, StoreError> {
        tokens::client_token(self.conn, account_id, token)
    }

    fn insert_client_token(&mut self, record: &ClientTokenRecord) -> Result<(), StoreError> {
        tokens::insert_client_token(self.conn, record)
    }

    fn revision(&mut self) -> Result<u64, StoreError> {
        revision::revision(self.conn)
    }
}

/// RFC 3339 in UTC with as many fractional digits as needed: whole seconds stay
/// `2024-01-02T03:04:05Z`, and any value reads back exactly.
pub(crate) fn encode_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub(crate) fn decode_time(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| corrupt("timestamp", s))
}

/// Every row of the cached statement `sql` with `params`, each mapped by `row`.
pub(crate) fn query_all<T, P: rusqlite::Params>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: P,
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut st| st.query_map(params, row)?.collect())
        .map_err(crate::error::map_err)
}

/// A counter read from SQLite (always an i64 >= 0) as the trait's u64.
pub(crate) fn to_count(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| corrupt("count", &n.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_exactly() {
        for (secs, nanos, text) in [
            (1_700_000_000, 0, "2023-11-14T22:13:20Z"),
            (1_700_000_000, 5_000_000, "2023-11-14T22:13:20.005Z"),
            (1_700_000_000, 123_456_789, "2023-11-14T22:13:20.123456789Z"),
        ] {
            let t = DateTime::from_timestamp(secs, nanos).expect("valid");
            assert_eq!(encode_time(t), text);
            assert_eq!(decode_time(text).expect("decode"), t);
        }
        assert!(decode_time("yesterday").is_err());
    }
}

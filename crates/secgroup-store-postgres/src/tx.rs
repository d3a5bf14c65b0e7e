//! [`Tx`] over a connection on which the store has begun a transaction. The queries live
//! in one module per topic; this one only routes to them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use secgroup_domain::network::{Instance, InstanceQuery, InstanceScope, VSwitch, Vpc};
use secgroup_domain::nis::{NetworkPath, ReachabilityAnalysis};
use secgroup_domain::rules::Rule;
use secgroup_domain::{
    AccessKeyRecord, ClientTokenRecord, PrefixList, ResourceType, SecurityGroup, StoreError, Tag,
    Tx,
};

use crate::sql::Conn;
use crate::{accounts, groups, instances, nis, prefix_lists, revision, vpcs};

/// Borrows a client inside `BEGIN … `; the store commits or rolls it back.
pub(crate) struct PgTx<'c> {
    pub(crate) c: &'c mut Conn,
}

impl Tx for PgTx<'_> {
    fn insert_account(
        &mut self,
        account_id: &str,
        is_default: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        accounts::insert_account(self.c, account_id, is_default, now)
    }

    fn default_account(&mut self) -> Result<Option<String>, StoreError> {
        accounts::default_account(self.c)
    }

    fn insert_access_key(&mut self, key: &AccessKeyRecord) -> Result<(), StoreError> {
        accounts::insert_access_key(self.c, key)
    }

    fn access_key(&mut self, access_key_id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
        accounts::access_key(self.c, access_key_id)
    }

    fn count_access_keys(&mut self) -> Result<u64, StoreError> {
        accounts::count_access_keys(self.c)
    }

    fn claim_nonce(
        &mut self,
        access_key_id: &str,
        nonce: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        accounts::claim_nonce(self.c, access_key_id, nonce, expires_at, now)
    }

    fn insert_security_group(&mut self, group: &SecurityGroup) -> Result<(), StoreError> {
        groups::insert(self.c, group)
    }

    fn security_group(
        &mut self,
        account_id: &str,
        id: &str,
    ) -> Result<Option<SecurityGroup>, StoreError> {
        groups::get_group(self.c, account_id, id)
    }

    fn security_groups(
        &mut self,
        account_id: &str,
        region_id: &str,
    ) -> Result<Vec<SecurityGroup>, StoreError> {
        groups::list(self.c, account_id, region_id)
    }

    fn update_security_group(&mut self, group: &SecurityGroup) -> Result<(), StoreError> {
        groups::update(self.c, group)
    }

    fn delete_security_group(&mut self, account_id: &str, id: &str) -> Result<bool, StoreError> {
        groups::delete(self.c, account_id, id)
    }

    fn count_security_groups(
        &mut self,
        account_id: &str,
        region_id: &str,
    ) -> Result<u64, StoreError> {
        groups::count_groups(self.c, account_id, region_id)
    }

    fn insert_rule(&mut self, account_id: &str, rule: &Rule) -> Result<(), StoreError> {
        groups::insert_rule(self.c, account_id, rule)
    }

    fn rules(
        &mut self,
        account_id: &str,
        security_group_id: &str,
    ) -> Result<Vec<Rule>, StoreError> {
        groups::rules(self.c, account_id, security_group_id)
    }

    fn update_rule(&mut self, account_id: &str, rule: &Rule) -> Result<bool, StoreError> {
        groups::update_rule(self.c, account_id, rule)
    }

    fn delete_rules(
        &mut self,
        account_id: &str,
        security_group_id: &str,
        rule_ids: &[String],
    ) -> Result<usize, StoreError> {
        groups::delete_rules(self.c, account_id, security_group_id, rule_ids)
    }

    fn rule_counts(
        &mut self,
        account_id: &str,
        region_id: &str,
    ) -> Result<HashMap<String, (u64, u64)>, StoreError> {
        groups::rule_counts(self.c, account_id, region_id)
    }

    fn groups_referencing_group(
        &mut self,
        security_group_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        groups::groups_referencing_group(self.c, security_group_id)
    }

    fn groups_referencing_prefix_list(
        &mut self,
        account_id: &str,
        prefix_list_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        groups::groups_referencing_prefix_list(self.c, account_id, prefix_list_id)
    }

    fn insert_prefix_list(&mut self, list: &PrefixList) -> Result<(), StoreError> {
        prefix_lists::insert(self.c, list)
    }

    fn prefix_list(
        &mut self,
        account_id: &str,
        id: &str,
    ) -> Result<Option<PrefixList>, StoreError> {
        prefix_lists::get_list(self.c, account_id, id)
    }

    fn prefix_lists(
        &mut self,
        account_id: &str,
        region_id: &str,
    ) -> Result<Vec<PrefixList>, StoreError> {
        prefix_lists::list(self.c, account_id, region_id)
    }

    fn update_prefix_list(&mut self, list: &PrefixList) -> Result<bool, StoreError> {
        prefix_lists::update(self.c, list)
    }

    fn delete_prefix_list(&mut self, account_id: &str, id: &str) -> Result<bool, StoreError> {
        prefix_lists::delete(self.c, account_id, id)
    }

    fn count_prefix_lists(&mut self, account_id: &str, region_id: &str) -> Result<u64, StoreError> {
        prefix_lists::count_lists(self.c, account_id, region_id)
    }

    fn insert_vpc(&mut self, vpc: &Vpc) -> Result<(), StoreError> {
        vpcs::insert_vpc(self.c, vpc)
    }

    fn vpc(&mut self, account_id: &str, id: &str) -> Result<Option<Vpc>, StoreError> {
        vpcs::vpc(self.c, account_id, id)
    }

    fn vpcs(&mut self, account_id: &str, region_id: &str) -> Result<Vec<Vpc>, StoreError> {
        vpcs::vpcs(self.c, account_id, region_id)
    }

    fn update_vpc(&mut self, vpc: &Vpc) -> Result<bool, StoreError> {
        vpcs::update_vpc(self.c, vpc)
    }

    fn delete_vpc(&mut self, account_id: &str, id: &str) -> Result<bool, StoreError> {
        vpcs::delete_vpc(self.c, account_id, id)
    }

    fn insert_vswitch(&mut self, vswitch: &VSwitch) -> Result<(), StoreError> {
        vpcs::insert_vswitch(self.c, vswitch)
    }

    fn vswitch(&mut self, account_id: &str, id: &str) -> Result<Option<VSwitch>, StoreError> {
        vpcs::vswitch(self.c, account_id, id)
    }

    fn vswitches(&mut self, account_id: &str, region_id: &str) -> Result<Vec<VSwitch>, StoreError> {
        vpcs::vswitches(self.c, account_id, region_id)
    }

    fn update_vswitch(&mut self, vswitch: &VSwitch) -> Result<bool, StoreError> {
        vpcs::update_vswitch(self.c, vswitch)
    }

    fn delete_vswitch(&mut self, account_id: &str, id: &str) -> Result<bool, StoreError> {
        vpcs::delete_vswitch(self.c, account_id, id)
    }

    fn count_security_groups_in_vpc(
        &mut self,
        account_id: &str,
        vpc_id: &str,
    ) -> Result<u64, StoreError> {
        vpcs::count_security_groups_in_vpc(self.c, account_id, vpc_id)
    }

    fn insert_instance(&mut self, instance: &Instance) -> Result<(), StoreError> {
        instances::insert(self.c, instance)
    }

    fn instance(&mut self, account_id: &str, id: &str) -> Result<Option<Instance>, StoreError> {
        instances::get_instance(self.c, account_id, id)
    }

    fn instances(
        &mut self,
        account_id: &str,
        region_id: &str,
        query: &InstanceQuery,
    ) -> Result<Vec<Instance>, StoreError> {
        instances::list(self.c, account_id, region_id, query)
    }

    fn count_matching_instances(
        &mut self,
        account_id: &str,
        region_id: &str,
        query: &InstanceQuery,
    ) -> Result<u64, StoreError> {
        instances::count_matching(self.c, account_id, region_id, query)
    }

    fn update_instance(&mut self, instance: &Instance) -> Result<bool, StoreError> {
        instances::update(self.c, instance)
    }

    fn delete_instance(&mut self, account_id: &str, id: &str) -> Result<bool, StoreError> {
        instances::delete(self.c, account_id, id)
    }

    fn used_private_ips(&mut self, vswitch_id: &str) -> Result<Vec<String>, StoreError> {
        instances::used_private_ips(self.c, vswitch_id)
    }

    fn count_instances(
        &mut self,
        account_id: &str,
        scope: InstanceScope<'_>,
    ) -> Result<u64, StoreError> {
        instances::count_in(self.c, account_id, scope)
    }

    fn member_counts(
        &mut self,
        account_id: &str,
        region_id: &str,
    ) -> Result<HashMap<String, u64>, StoreError> {
        instances::member_counts(self.c, account_id, region_id)
    }

    fn tags(
        &mut self,
        account_id: &str,
        resource_type: ResourceType,
        resource_id: &str,
    ) -> Result<Vec<Tag>, StoreError> {
        accounts::tags(self.c, account_id, resource_type, resource_id)
    }

    fn set_tags(
        &mut self,
        account_id: &str,
        resource_type: ResourceType,
        resource_id: &str,
        tags: &[Tag],
    ) -> Result<(), StoreError> {
        accounts::set_tags(self.c, account_id, resource_type, resource_id, tags)
    }

    fn all_tags(
        &mut self,
        account_id: &str,
        resource_type: ResourceType,
    ) -> Result<HashMap<String, Vec<Tag>>, StoreError> {
        accounts::all_tags(self.c, account_id, resource_type)
    }

    fn insert_network_path(&mut self, path: &NetworkPath) -> Result<(), StoreError> {
        nis::insert_path(self.c, path)
    }

    fn network_path(
        &mut self,
        account_id: &str,
        id: &str,
    ) -> Result<Option<NetworkPath>, StoreError> {
        nis::path(self.c, account_id, id)
    }

    fn network_paths(&mut self, account_id: &str) -> Result<Vec<NetworkPath>, StoreError> {
        nis::paths(self.c, account_id)
    }

    fn delete_network_path(&mut self, account_id: &str, id: &str) -> Result<bool, StoreError> {
        nis::delete_path(self.c, account_id, id)
    }

    fn insert_analysis(&mut self, analysis: &ReachabilityAnalysis) -> Result<(), StoreError> {
        nis::insert_analysis(self.c, analysis)
    }

    fn analysis(
        &mut self,
        account_id: &str,
        id: &str,
    ) -> Result<Option<ReachabilityAnalysis>, StoreError> {
        nis::analysis(self.c, account_id, id)
    }

    fn count_analyses(&mut self, account_id: &str) -> Result<u64, StoreError> {
        nis::count_analyses(self.c, account_id)
    }

    fn delete_analysis(&mut self, account_id: &str, id: &str) -> Result<bool, StoreError> {
        nis::delete_analysis(self.c, account_id, id)
    }

    fn client_token(
        &mut self,
        account_id: &str,
        token: &str,
    ) -> Result<Option<ClientTokenRecord>, StoreError> {
        accounts::client_token(self.c, account_id, token)
    }

    fn insert_client_token(&mut self, record: &ClientTokenRecord) -> Result<(), StoreError> {
        accounts::insert_client_token(self.c, record)
    }

    fn revision(&mut self) -> Result<u64, StoreError> {
        revision::revision(self.c)
    }
}

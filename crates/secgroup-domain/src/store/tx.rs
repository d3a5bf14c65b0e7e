//! The topic traits that together make [`Tx`]: one per kind of data, each implemented by
//! a backend's module of that name. Every method is scoped by account where the data
//! belongs to one: a row of another account is never returned or changed.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::StoreError;
use crate::audit::{AuditEvent, AuditQuery};
use crate::compute::{Disk, KeyPair};
use crate::ids::{AccountId, InstanceId, PrefixListId, RuleId, SecurityGroupId, VSwitchId, VpcId};
use crate::model::{
    AccessKeyRecord, AgentStatus, ClientTokenRecord, PrefixList, ResourceType, SecurityGroup, Tag,
};
use crate::network::{
    Instance, InstanceQuery, InstanceScope, NetworkInterface, PlacedInstance, Placement, VSwitch,
    Vpc,
};
use crate::nis::{NetworkPath, ReachabilityAnalysis};
use crate::rules::Rule;

/// Reads and writes inside one transaction: every topic trait at once, which every type
/// implementing them all is (a blanket implementation), so `&mut dyn Tx` reaches every
/// method without importing the topic traits.
pub trait Tx:
    AccountsTx
    + SecurityGroupsTx
    + RulesTx
    + PrefixListsTx
    + VpcsTx
    + InstancesTx
    + NetworkInterfacesTx
    + NisTx
    + TagsTx
    + ClientTokensTx
    + AuditTx
    + RevisionTx
    + DataplaneTx
    + PlacementsTx
    + KeyPairsTx
    + DisksTx
{
}

impl<T> Tx for T where
    T: ?Sized
        + AccountsTx
        + SecurityGroupsTx
        + RulesTx
        + PrefixListsTx
        + VpcsTx
        + InstancesTx
        + NetworkInterfacesTx
        + NisTx
        + TagsTx
        + ClientTokensTx
        + AuditTx
        + RevisionTx
        + DataplaneTx
        + PlacementsTx
        + KeyPairsTx
        + DisksTx
{
}

/// Accounts, their AccessKeys, and the nonces of signed requests.
pub trait AccountsTx {
    fn insert_account(
        &mut self,
        account_id: &AccountId,
        is_default: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    fn default_account(&mut self) -> Result<Option<AccountId>, StoreError>;
    fn insert_access_key(&mut self, key: &AccessKeyRecord) -> Result<(), StoreError>;
    fn access_key(&mut self, access_key_id: &str) -> Result<Option<AccessKeyRecord>, StoreError>;
    fn count_access_keys(&mut self) -> Result<u64, StoreError>;
    /// Records a nonce; `false` if the same (key, nonce) is recorded and not yet expired at
    /// `now`. May purge expired nonces.
    fn claim_nonce(
        &mut self,
        access_key_id: &str,
        nonce: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// How many nonces recorded through [`Self::claim_nonce`] are still live at `now`
    /// (expire after it), of every key.
    fn count_live_nonces(&mut self, now: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// Security groups (their rules: [`RulesTx`]).
pub trait SecurityGroupsTx {
    fn insert_security_group(&mut self, group: &SecurityGroup) -> Result<(), StoreError>;
    fn security_group(
        &mut self,
        account_id: &AccountId,
        id: &SecurityGroupId,
    ) -> Result<Option<SecurityGroup>, StoreError>;
    /// All groups of an account in a region, oldest first (creation order).
    fn security_groups(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<Vec<SecurityGroup>, StoreError>;
    /// Overwrites the mutable fields (name, description, policy, resource group) of an existing group.
    fn update_security_group(&mut self, group: &SecurityGroup) -> Result<(), StoreError>;
    /// Deletes the group, its rules and its tags; `false` if there was none.
    fn delete_security_group(
        &mut self,
        account_id: &AccountId,
        id: &SecurityGroupId,
    ) -> Result<bool, StoreError>;
    fn count_security_groups(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<u64, StoreError>;
}

/// The rules of security groups, and who references whom.
pub trait RulesTx {
    /// Adds a rule to a group of this account.
    fn insert_rule(&mut self, account_id: &AccountId, rule: &Rule) -> Result<(), StoreError>;
    /// The rules of one group, oldest first (creation order).
    fn rules(
        &mut self,
        account_id: &AccountId,
        security_group_id: &SecurityGroupId,
    ) -> Result<Vec<Rule>, StoreError>;
    /// Overwrites a rule (matched by id within the account); `false` if there is none.
    fn update_rule(&mut self, account_id: &AccountId, rule: &Rule) -> Result<bool, StoreError>;
    /// Deletes these rules of one group; returns how many existed.
    fn delete_rules(
        &mut self,
        account_id: &AccountId,
        security_group_id: &SecurityGroupId,
        rule_ids: &[RuleId],
    ) -> Result<usize, StoreError>;
    /// Per group of the account in the region: (all rules, rules whose peer is a group).
    fn rule_counts(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<HashMap<SecurityGroupId, (u64, u64)>, StoreError>;
    /// Groups, of any account, with at least one rule whose peer is the group `security_group_id`:
    /// distinct `(group id, account id)` pairs, the group itself included if it names itself.
    fn groups_referencing_group(
        &mut self,
        security_group_id: &SecurityGroupId,
    ) -> Result<Vec<(SecurityGroupId, AccountId)>, StoreError>;
    /// Groups of the account with at least one rule whose peer is this prefix list (distinct ids).
    fn groups_referencing_prefix_list(
        &mut self,
        account_id: &AccountId,
        prefix_list_id: &PrefixListId,
    ) -> Result<Vec<SecurityGroupId>, StoreError>;
}

/// Prefix lists with their entries.
pub trait PrefixListsTx {
    /// Inserts a list with its entries.
    fn insert_prefix_list(&mut self, list: &PrefixList) -> Result<(), StoreError>;
    /// A list with its entries (in insertion order).
    fn prefix_list(
        &mut self,
        account_id: &AccountId,
        id: &PrefixListId,
    ) -> Result<Option<PrefixList>, StoreError>;
    /// Every list of the account in the region, oldest first, with entries.
    fn prefix_lists(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<Vec<PrefixList>, StoreError>;
    /// Overwrites name, description and the whole entry list (order as given); `false` if none.
    fn update_prefix_list(&mut self, list: &PrefixList) -> Result<bool, StoreError>;
    /// Deletes the list, its entries and its tags; `false` if there was none.
    fn delete_prefix_list(
        &mut self,
        account_id: &AccountId,
        id: &PrefixListId,
    ) -> Result<bool, StoreError>;
    fn count_prefix_lists(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<u64, StoreError>;
}

/// VPCs and their vSwitches.
pub trait VpcsTx {
    fn insert_vpc(&mut self, vpc: &Vpc) -> Result<(), StoreError>;
    fn vpc(&mut self, account_id: &AccountId, id: &VpcId) -> Result<Option<Vpc>, StoreError>;
    /// Every VPC of the account in the region, oldest first.
    fn vpcs(&mut self, account_id: &AccountId, region_id: &str) -> Result<Vec<Vpc>, StoreError>;
    /// Overwrites the mutable fields (block, name, description, resource group, user
    /// CIDRs, IPv6 and DNS hostname settings); `false` if there is none.
    fn update_vpc(&mut self, vpc: &Vpc) -> Result<bool, StoreError>;
    /// Deletes the VPC and its tags; `false` if there was none.
    fn delete_vpc(&mut self, account_id: &AccountId, id: &VpcId) -> Result<bool, StoreError>;
    fn insert_vswitch(&mut self, vswitch: &VSwitch) -> Result<(), StoreError>;
    fn vswitch(
        &mut self,
        account_id: &AccountId,
        id: &VSwitchId,
    ) -> Result<Option<VSwitch>, StoreError>;
    /// Every vSwitch of the account in the region, oldest first.
    fn vswitches(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<Vec<VSwitch>, StoreError>;
    /// Overwrites the mutable fields (name, description); `false` if there is none.
    fn update_vswitch(&mut self, vswitch: &VSwitch) -> Result<bool, StoreError>;
    /// Deletes the vSwitch and its tags; `false` if there was none.
    fn delete_vswitch(
        &mut self,
        account_id: &AccountId,
        id: &VSwitchId,
    ) -> Result<bool, StoreError>;
    /// Security groups of the account whose `vpc_id` is this VPC.
    fn count_security_groups_in_vpc(
        &mut self,
        account_id: &AccountId,
        vpc_id: &VpcId,
    ) -> Result<u64, StoreError>;
}

/// Instances, their interface, address and group memberships.
pub trait InstancesTx {
    /// Inserts an instance with its interface, its primary address and memberships (in the
    /// order given). An id, interface id or private address (within the vSwitch, of any
    /// interface) already in use is a
    /// [`StoreError::Duplicate`]: the schema enforces it, whatever races the domain loses.
    fn insert_instance(&mut self, instance: &Instance) -> Result<(), StoreError>;
    fn instance(
        &mut self,
        account_id: &AccountId,
        id: &InstanceId,
    ) -> Result<Option<Instance>, StoreError>;
    /// Instances of the account in the region narrowed by `query`, oldest first.
    fn instances(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
        query: &InstanceQuery,
    ) -> Result<Vec<Instance>, StoreError>;
    /// How many instances `instances` would return without the query's `page`.
    fn count_matching_instances(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
        query: &InstanceQuery,
    ) -> Result<u64, StoreError>;
    /// Overwrites the mutable fields (name, description, host name, type, image, status,
    /// status time, attributes) and replaces the group memberships; identity, placement,
    /// interface and address stay. `false` if there is none.
    fn update_instance(&mut self, instance: &Instance) -> Result<bool, StoreError>;
    /// Deletes the instance, its memberships, its primary interface's addresses (secondary
    /// ones included) and its tags; `false` if none.
    fn delete_instance(
        &mut self,
        account_id: &AccountId,
        id: &InstanceId,
    ) -> Result<bool, StoreError>;
    /// Private addresses in use in a vSwitch, by any interface (primary and secondary
    /// addresses, of primary and secondary interfaces).
    fn used_private_ips(&mut self, vswitch_id: &VSwitchId) -> Result<Vec<String>, StoreError>;
    /// Instances of the account in a VPC, a vSwitch or a security group.
    fn count_instances(
        &mut self,
        account_id: &AccountId,
        scope: InstanceScope<'_>,
    ) -> Result<u64, StoreError>;
    /// Members per security group of the account in the region (groups without members may be absent).
    fn member_counts(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<HashMap<SecurityGroupId, u64>, StoreError>;
}

/// Secondary network interfaces (created on their own), their memberships, and the
/// private addresses of every interface: one table of addresses per vSwitch, primary
/// interfaces' included, so that no address is handed out twice whatever races the
/// domain loses.
pub trait NetworkInterfacesTx {
    /// Inserts a secondary interface with its memberships (in order) and its addresses. An
    /// id or an address (within the vSwitch) already in use is a [`StoreError::Duplicate`].
    fn insert_network_interface(&mut self, eni: &NetworkInterface) -> Result<(), StoreError>;
    /// A secondary interface with its secondary addresses and groups.
    fn network_interface(
        &mut self,
        account_id: &AccountId,
        id: &str,
    ) -> Result<Option<NetworkInterface>, StoreError>;
    /// Every secondary interface of the account in the region, oldest first.
    fn network_interfaces(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<Vec<NetworkInterface>, StoreError>;
    /// Overwrites name, description, attachment (instance, device index) and replaces the
    /// memberships; identity, placement and addresses stay. `false` if there is none.
    fn update_network_interface(&mut self, eni: &NetworkInterface) -> Result<bool, StoreError>;
    /// Deletes the interface, its memberships, its addresses and its tags; `false` if none.
    fn delete_network_interface(
        &mut self,
        account_id: &AccountId,
        id: &str,
    ) -> Result<bool, StoreError>;
    /// Adds secondary addresses to an interface (primary or secondary) in `vswitch_id`, in
    /// order; one already in use in the vSwitch is a [`StoreError::Duplicate`].
    fn add_private_ips(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
        vswitch_id: &VSwitchId,
        interface_id: &str,
        ips: &[String],
    ) -> Result<(), StoreError>;
    /// Removes these secondary addresses of the interface (never its primary one); returns
    /// how many it had.
    fn remove_private_ips(
        &mut self,
        account_id: &AccountId,
        interface_id: &str,
        ips: &[String],
    ) -> Result<usize, StoreError>;
    /// The secondary addresses of every interface of the account in the region that has
    /// any, in assignment order.
    fn secondary_private_ips(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<HashMap<String, Vec<String>>, StoreError>;
    /// Secondary interfaces of the account in a VPC, a vSwitch or a security group.
    fn count_network_interfaces(
        &mut self,
        account_id: &AccountId,
        scope: InstanceScope<'_>,
    ) -> Result<u64, StoreError>;
}

/// NIS network paths and reachability analyses.
pub trait NisTx {
    /// Inserts a path; an id, or parameters equal to another path's of the account, already
    /// stored is a [`StoreError::Duplicate`].
    fn insert_network_path(&mut self, path: &NetworkPath) -> Result<(), StoreError>;
    fn network_path(
        &mut self,
        account_id: &AccountId,
        id: &str,
    ) -> Result<Option<NetworkPath>, StoreError>;
    /// Every path of the account (all regions), oldest first.
    fn network_paths(&mut self, account_id: &AccountId) -> Result<Vec<NetworkPath>, StoreError>;
    /// Deletes the path and its tags (its analyses stay readable); `false` if there was none.
    fn delete_network_path(&mut self, account_id: &AccountId, id: &str)
        -> Result<bool, StoreError>;
    fn insert_analysis(&mut self, analysis: &ReachabilityAnalysis) -> Result<(), StoreError>;
    fn analysis(
        &mut self,
        account_id: &AccountId,
        id: &str,
    ) -> Result<Option<ReachabilityAnalysis>, StoreError>;
    /// Stored analyses of the account (all regions).
    fn count_analyses(&mut self, account_id: &AccountId) -> Result<u64, StoreError>;
    /// Deletes the analysis and its tags; `false` if there was none.
    fn delete_analysis(&mut self, account_id: &AccountId, id: &str) -> Result<bool, StoreError>;
}

/// Tags of every kind of resource.
pub trait TagsTx {
    /// Tags of one resource, in the order they were first set.
    fn tags(
        &mut self,
        account_id: &AccountId,
        resource_type: ResourceType,
        resource_id: &str,
    ) -> Result<Vec<Tag>, StoreError>;
    /// Replaces all tags of one resource.
    fn set_tags(
        &mut self,
        account_id: &AccountId,
        resource_type: ResourceType,
        resource_id: &str,
        tags: &[Tag],
    ) -> Result<(), StoreError>;
    /// Tags of every resource of a type in an account, by resource id.
    fn all_tags(
        &mut self,
        account_id: &AccountId,
        resource_type: ResourceType,
    ) -> Result<HashMap<String, Vec<Tag>>, StoreError>;
}

/// Client tokens: the remembered outcomes of idempotent requests.
pub trait ClientTokensTx {
    fn client_token(
        &mut self,
        account_id: &AccountId,
        token: &str,
    ) -> Result<Option<ClientTokenRecord>, StoreError>;
    /// Fails with [`StoreError::Duplicate`] (or a conflict) if the token is already recorded.
    fn insert_client_token(&mut self, record: &ClientTokenRecord) -> Result<(), StoreError>;
    /// Forgets one token of the account (an expired one, about to be recorded anew).
    fn delete_client_token(
        &mut self,
        account_id: &AccountId,
        token: &str,
    ) -> Result<(), StoreError>;
    /// Forgets every token recorded before `cutoff` (compared to the second), of every
    /// account; returns how many went.
    fn purge_client_tokens(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;
    /// How many tokens are recorded, of every account.
    fn count_client_tokens(&mut self) -> Result<u64, StoreError>;
}

/// The audit trail (see [`crate::audit`]). Events are appended, read by account, and
/// purged by age; never changed.
pub trait AuditTx {
    /// Records an event (its `seq` is ignored: the store assigns the next one).
    fn insert_audit_event(&mut self, event: &AuditEvent) -> Result<(), StoreError>;
    /// The account's events that match `query`, newest (highest `seq`) first.
    fn audit_events(
        &mut self,
        account_id: &AccountId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEvent>, StoreError>;
    /// Forgets every event of every account older than `cutoff`; returns how many went.
    fn purge_audit_events(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;
    /// How many events are recorded, of every account.
    fn count_audit_events(&mut self) -> Result<u64, StoreError>;
}

/// The change revision (see [`Store::revision`](super::Store::revision)).
pub trait RevisionTx {
    /// The change revision as of this transaction's snapshot: in a read, the revision of
    /// the state it reads; in a write, the revision of the state it started from (its own
    /// bump happens when it commits, after the closure returns: if it commits, its state
    /// is this revision plus one).
    fn revision(&mut self) -> Result<u64, StoreError>;
}

/// What the data plane reads across accounts, and its agents' reports.
pub trait DataplaneTx {
    /// Every (account, region) that holds at least one instance, of every account, sorted.
    fn instance_regions(&mut self) -> Result<Vec<(AccountId, String)>, StoreError>;
    /// Records `status`, replacing the agent's earlier report. Called by
    /// [`Store::record_agent_status`](super::Store::record_agent_status), which does not
    /// increase the revision; inside a write closure it is an ordinary write.
    fn put_agent_status(&mut self, status: &AgentStatus) -> Result<(), StoreError>;
    /// Every agent's last report, by agent id.
    fn agent_statuses(&mut self) -> Result<Vec<AgentStatus>, StoreError>;
    /// Forgets an agent's report (it stopped and removed what it enforced); `false` if
    /// there was none.
    fn delete_agent_status(&mut self, agent_id: &str) -> Result<bool, StoreError>;
}

/// Where instances run, and each VPC's VXLAN network identifier (docs/ecs.md §7.5, README "Data plane"):
/// read and written across accounts, by the control plane ([`crate::ops::placement`]).
pub trait PlacementsTx {
    /// The placement of one instance (instance ids are unique across accounts).
    fn placement(&mut self, instance_id: &InstanceId) -> Result<Option<Placement>, StoreError>;
    /// Every placement whose instance exists, with that instance, of one account or (with
    /// `None`) of every account, by instance id.
    fn placed_instances(
        &mut self,
        account_id: Option<&AccountId>,
    ) -> Result<Vec<PlacedInstance>, StoreError>;
    /// Places the instance, replacing its earlier placement.
    fn put_placement(&mut self, placement: &Placement) -> Result<(), StoreError>;
    /// `false` if the instance had none.
    fn delete_placement(&mut self, instance_id: &InstanceId) -> Result<bool, StoreError>;
    /// Every VPC's VNI, of every account.
    fn vpc_vnis(&mut self) -> Result<BTreeMap<String, u32>, StoreError>;
    /// Gives the VPC its VNI; a VPC that has one, or a VNI another VPC has, is a
    /// [`StoreError::Duplicate`] (the schema enforces both).
    fn insert_vpc_vni(&mut self, vpc_id: &VpcId, vni: u32) -> Result<(), StoreError>;
    /// The VPC went: its VNI is free again. `false` if it had none.
    fn delete_vpc_vni(&mut self, vpc_id: &VpcId) -> Result<bool, StoreError>;
}

/// SSH key pairs (docs/ecs.md §9.8), by (account, region, name).
pub trait KeyPairsTx {
    /// A name the account already uses in the region is a [`StoreError::Duplicate`].
    fn insert_key_pair(&mut self, key_pair: &KeyPair) -> Result<(), StoreError>;
    /// Every key pair of the account in the region, oldest first.
    fn key_pairs(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<Vec<KeyPair>, StoreError>;
    /// `false` if there was none of that name.
    fn delete_key_pair(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
        name: &str,
    ) -> Result<bool, StoreError>;
}

/// Instances' disks and user data (docs/ecs.md §9.6, §9.7).
pub trait DisksTx {
    /// A disk id already stored is a [`StoreError::Duplicate`].
    fn insert_disk(&mut self, disk: &Disk) -> Result<(), StoreError>;
    /// Every disk of the account in the region, oldest first (a launch's in device order).
    fn disks(&mut self, account_id: &AccountId, region_id: &str) -> Result<Vec<Disk>, StoreError>;
    /// The instance is going: its disks marked `delete_with_instance` go, the others are
    /// detached (their `instance_id` emptied); its user data goes. Returns how many disks
    /// went.
    fn release_instance_disks(
        &mut self,
        account_id: &AccountId,
        instance_id: &InstanceId,
    ) -> Result<u64, StoreError>;
    /// Sets (replaces) the instance's user data, as given (base64 text).
    fn set_user_data(
        &mut self,
        account_id: &AccountId,
        instance_id: &InstanceId,
        user_data: &str,
    ) -> Result<(), StoreError>;
    fn user_data(
        &mut self,
        account_id: &AccountId,
        instance_id: &InstanceId,
    ) -> Result<Option<String>, StoreError>;
}

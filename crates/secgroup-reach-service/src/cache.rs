//! The compiled networks kept between questions, one per (account, region), each stamped
//! with the change revision it was read at.
//!
//! - **Fresh**: an entry answers a question that saw revision `r` when it was read at `r` or
//!   later. Every write bumps the store's revision in the transaction of its change, so an
//!   entry older than what a request saw may miss a change that returned before the
//!   request began; it is then compiled again and replaces the old one.
//! - **Bounded**: at most [`CacheLimits::max_entries`] entries and
//!   [`CacheLimits::max_weight`] records (instances, rules, groups, ...) in all; past either,
//!   the least recently used entries go. A network heavier than the whole budget is still
//!   kept, alone: it is what its account asks about.
//! - **One build at a time per key**: requests that miss together wait on the entry's gate,
//!   and all but the first find the network the first one compiled.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::network::Network;
use secgroup_domain::ids::AccountId;

/// How much the cache may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// (Account, region) pairs kept.
    pub max_entries: usize,
    /// Records kept in all ([`Network`] counts its instances, rules, groups, VPCs,
    /// vSwitches and prefix-list entries); a compiled record costs on the order of 1 KB.
    pub max_weight: usize,
}

impl Default for CacheLimits {
    /// 32 networks, 60,000 records (about 60 MB at most; the 1,000-instance, 2,000-rule
    /// network of the benchmarks weighs 3,000).
    fn default() -> Self {
        CacheLimits {
            max_entries: 32,
            max_weight: 60_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) account_id: AccountId,
    pub(crate) region_id: String,
}

impl Key {
    pub(crate) fn new(account_id: &AccountId, region_id: &str) -> Key {
        Key {
            account_id: account_id.clone(),
            region_id: region_id.to_string(),
        }
    }
}

/// Serialises the builds of one key.
pub(crate) type Gate = Arc<tokio::sync::Mutex<()>>;

struct Compiled {
    revision: u64,
    network: Arc<Network>,
    weight: usize,
}

struct Entry {
    compiled: Option<Compiled>,
    /// The clock of the last use, for least-recently-used eviction.
    used: u64,
    gate: Gate,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    clock: u64,
}

pub(crate) struct Cache {
    limits: CacheLimits,
    inner: Mutex<Inner>,
}

impl Cache {
    pub(crate) fn new(limits: CacheLimits) -> Cache {
        Cache {
            limits,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every critical section leaves the map consistent, so a panic elsewhere while it
        // was held does not make it unusable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The network of `key` if it was read at revision `seen` or later.
    pub(crate) fn fresh(&self, key: &Key, seen: u64) -> Option<Arc<Network>> {
        let mut inner = self.lock();
        inner.clock += 1;
        let clock = inner.clock;
        let entry = inner.entries.get_mut(key)?;
        let compiled = entry.compiled.as_ref().filter(|c| c.revision >= seen)?;
        entry.used = clock;
        Some(compiled.network.clone())
    }

    /// The gate a build of `key` holds.
    pub(crate) fn gate(&self, key: &Key) -> Gate {
        let mut inner = self.lock();
        inner.clock += 1;
        let clock = inner.clock;
        let gate = inner
            .entries
            .entry(key.clone())
            .or_insert_with(|| Entry {
                compiled: None,
                used: clock,
                gate: Gate::default(),
            })
            .gate
            .clone();
        self.evict(&mut inner, key);
        gate
    }

    /// Drops the network of `key` if it was read before `seen`: a later write may be
    /// missing from it, so only a question that saw an older revision could still use it,
    /// and a build about to replace it need not hold both in memory.
    pub(crate) fn discard_older(&self, key: &Key, seen: u64) {
        let mut inner = self.lock();
        if let Some(entry) = inner.entries.get_mut(key) {
            if entry.compiled.as_ref().is_some_and(|c| c.revision < seen) {
                entry.compiled = None;
            }
        }
    }

    /// Keeps `network`, read at `revision`, for `key`, unless a network read later is kept.
    pub(crate) fn insert(&self, key: &Key, revision: u64, network: Arc<Network>) {
        let mut inner = self.lock();
        inner.clock += 1;
        let clock = inner.clock;
        let entry = inner.entries.entry(key.clone()).or_insert_with(|| Entry {
            compiled: None,
            used: clock,
            gate: Gate::default(),
        });
        entry.used = clock;
        if entry
            .compiled
            .as_ref()
            .is_some_and(|c| c.revision >= revision)
        {
            return;
        }
        let weight = network.weight();
        entry.compiled = Some(Compiled {
            revision,
            network,
            weight,
        });
        self.evict(&mut inner, key);
    }

    /// Restamps the network of `key` read at `from` as read at `to`: the writes between
    /// changed nothing it holds. Any other entry is left as it is.
    pub(crate) fn advance(&self, key: &Key, from: u64, to: u64) {
        let mut inner = self.lock();
        let compiled = inner
            .entries
            .get_mut(key)
            .and_then(|e| e.compiled.as_mut())
            .filter(|c| c.revision == from);
        if let Some(compiled) = compiled {
            compiled.revision = compiled.revision.max(to);
        }
    }

    /// Drops least recently used entries other than `keep` until both limits hold.
    fn evict(&self, inner: &mut Inner, keep: &Key) {
        loop {
            let weight: usize = inner
                .entries
                .values()
                .filter_map(|e| e.compiled.as_ref().map(|c| c.weight))
                .sum();
            let over = inner.entries.len() > self.limits.max_entries.max(1)
                || weight > self.limits.max_weight;
            if !over {
                return;
            }
            let oldest = inner
                .entries
                .iter()
                .filter(|(k, _)| *k != keep)
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    inner.entries.remove(&k);
                }
                None => return,
            }
        }
    }

    /// The keys kept and the revisions they were read at (tests).
    #[cfg(test)]
    pub(crate) fn contents(&self) -> Vec<(Key, Option<u64>)> {
        let inner = self.lock();
        let mut out: Vec<_> = inner
            .entries
            .iter()
            .map(|(k, e)| (k.clone(), e.compiled.as_ref().map(|c| c.revision)))
            .collect();
        out.sort_by(|a, b| {
            (&a.0.account_id, &a.0.region_id).cmp(&(&b.0.account_id, &b.0.region_id))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use secgroup_domain::network::{Instance, InstanceStatus, NetworkState};
    use secgroup_domain::ops::instances::InstanceTimings;

    use super::*;

    fn instance(n: usize) -> Instance {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        Instance {
            id: format!("i-{n}"),
            account_id: "1".into(),
            region_id: "cn-hangzhou".into(),
            zone_id: "cn-hangzhou-b".into(),
            vpc_id: "vpc-1".into(),
            vswitch_id: "vsw-1".into(),
            name: String::new(),
            description: String::new(),
            host_name: String::new(),
            instance_type: "ecs.g5.large".into(),
            image_id: "img".into(),
            status: InstanceStatus::Running,
            status_since: t,
            creation_time: t,
            network_interface_id: format!("eni-{n}"),
            mac_address: "00:16:3e:00:00:00".into(),
            private_ip: format!("10.0.0.{n}"),
            security_group_ids: vec!["sg-1".into()],
            attributes: String::new(),
        }
    }

    /// A compiled network that weighs `1 + instances`.
    fn network(instances: usize) -> Arc<Network> {
        let state = NetworkState {
            instances: (0..instances).map(instance).collect(),
            ..NetworkState::default()
        };
        let compiled = Network::compile(state, Vec::new(), InstanceTimings::default());
        Arc::new(compiled.expect("compiles"))
    }

    fn key(account: &str) -> Key {
        Key::new(&AccountId::from(account), "cn-hangzhou")
    }

    #[test]
    fn a_network_answers_what_was_seen_at_its_revision_or_before() {
        let cache = Cache::new(CacheLimits::default());
        assert!(cache.fresh(&key("a"), 0).is_none());
        cache.insert(&key("a"), 5, network(1));
        assert!(cache.fresh(&key("a"), 4).is_some());
        assert!(cache.fresh(&key("a"), 5).is_some());
        assert!(
            cache.fresh(&key("a"), 6).is_none(),
            "a later write may be missing"
        );
        assert!(cache.fresh(&key("b"), 0).is_none(), "per account");
        assert!(
            cache
                .fresh(&Key::new(&AccountId::from("a"), "cn-beijing"), 0)
                .is_none(),
            "per region"
        );

        // A slower build that read earlier never replaces what a later one kept.
        cache.insert(&key("a"), 3, network(2));
        assert_eq!(cache.contents(), [(key("a"), Some(5))]);
        let kept = cache.fresh(&key("a"), 5).expect("kept");
        assert_eq!(kept.instances().len(), 1);
        cache.insert(&key("a"), 7, network(2));
        assert_eq!(cache.contents(), [(key("a"), Some(7))]);

        // A build for a later revision first lets the old network go.
        cache.discard_older(&key("a"), 7);
        assert_eq!(cache.contents(), [(key("a"), Some(7))], "not older");
        cache.discard_older(&key("a"), 8);
        assert_eq!(cache.contents(), [(key("a"), None)]);
    }

    #[test]
    fn the_least_recently_used_networks_go_past_either_limit() {
        let cache = Cache::new(CacheLimits {
            max_entries: 2,
            max_weight: 1_000,
        });
        cache.insert(&key("a"), 1, network(0));
        cache.insert(&key("b"), 1, network(0));
        assert!(
            cache.fresh(&key("a"), 1).is_some(),
            "a is now the most recent"
        );
        cache.insert(&key("c"), 1, network(0));
        assert_eq!(cache.contents(), [(key("a"), Some(1)), (key("c"), Some(1))]);

        let cache = Cache::new(CacheLimits {
            max_entries: 10,
            max_weight: 10,
        });
        cache.insert(&key("a"), 1, network(4));
        cache.insert(&key("b"), 1, network(4));
        assert_eq!(cache.contents().len(), 2, "weight 10 in all");
        cache.insert(&key("c"), 1, network(0));
        assert_eq!(cache.contents(), [(key("b"), Some(1)), (key("c"), Some(1))]);
        // Heavier than the whole budget: kept, alone.
        cache.insert(&key("d"), 1, network(20));
        assert_eq!(cache.contents(), [(key("d"), Some(1))]);
    }

    #[tokio::test]
    async fn one_build_at_a_time_per_key() {
        let cache = Cache::new(CacheLimits::default());
        let gate = cache.gate(&key("a"));
        let held = gate.lock().await;
        let same = cache.gate(&key("a"));
        assert!(same.try_lock().is_err(), "the second builder waits");
        assert!(
            cache.gate(&key("b")).try_lock().is_ok(),
            "other keys do not"
        );
        drop(held);
        assert!(same.try_lock().is_ok());
    }
}

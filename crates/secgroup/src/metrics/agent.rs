//! The agent's metrics (`agent --metrics-listen ADDR`): how long each sync pass took, the
//! `nft` transactions committed and refused, the chains, rules and set elements in place,
//! and how far the applied revision is behind the store's (read at each scrape). Labels:
//! only a pass's outcome (`ok`, `error`); no id, no account, no address.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use secgroup_agent::{AgentObserver, DataplaneStats};
use secgroup_domain::{Store, StoreError};

use super::{encoded, registry, Exposition, HistogramFamily};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    /// `ok` (everything applied) or `error`.
    outcome: &'static str,
}

/// A pass is a read, a plan and an apply: 1 ms to about 24 s.
fn sync_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.5, 12))
}

fn gauge_value(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Every metric the agent keeps.
pub struct AgentMetrics {
    registry: Registry,
    syncs: HistogramFamily<OutcomeLabels>,
    nft_transactions: Counter,
    nft_failures: Counter,
    chains: Gauge,
    rules: Gauge,
    set_elements: Gauge,
    applied_revision: Gauge,
    revision_lag: Gauge,
    /// The data plane's counters at the last pass: counters move by what each pass added.
    counted: Mutex<(u64, u64)>,
    applied: AtomicU64,
}

impl std::fmt::Debug for AgentMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentMetrics").finish_non_exhaustive()
    }
}

impl Default for AgentMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl AgentMetrics {
    pub fn new() -> AgentMetrics {
        let mut registry = registry();
        let syncs: HistogramFamily<OutcomeLabels> = Family::new_with_constructor(sync_histogram);
        registry.register(
            "secgroup_agent_sync_duration_seconds",
            "Duration of the agent's sync passes (read, plan, apply), by outcome",
            syncs.clone(),
        );
        let nft_transactions = Counter::default();
        registry.register(
            "secgroup_agent_nft_transactions",
            "nft transactions committed",
            nft_transactions.clone(),
        );
        let nft_failures = Counter::default();
        registry.register(
            "secgroup_agent_nft_transaction_failures",
            "nft transactions refused (the router keeps its last good ruleset)",
            nft_failures.clone(),
        );
        let chains = Gauge::default();
        registry.register(
            "secgroup_agent_chains",
            "Regular nftables chains applied, over every router",
            chains.clone(),
        );
        let rules = Gauge::default();
        registry.register(
            "secgroup_agent_rules",
            "nftables rules applied in those chains",
            rules.clone(),
        );
        let set_elements = Gauge::default();
        registry.register(
            "secgroup_agent_set_elements",
            "nftables set and map elements applied",
            set_elements.clone(),
        );
        let applied_revision = Gauge::default();
        registry.register(
            "secgroup_agent_applied_revision",
            "The change revision the agent last applied",
            applied_revision.clone(),
        );
        let revision_lag = Gauge::default();
        registry.register(
            "secgroup_agent_revision_lag",
            "The store's change revision minus the applied one, read at scrape time",
            revision_lag.clone(),
        );
        AgentMetrics {
            registry,
            syncs,
            nft_transactions,
            nft_failures,
            chains,
            rules,
            set_elements,
            applied_revision,
            revision_lag,
            counted: Mutex::new((0, 0)),
            applied: AtomicU64::new(0),
        }
    }

    /// The exposition, with the revision lag against `current`.
    fn render_at(&self, current: u64) -> Result<String, StoreError> {
        let applied = self.applied.load(Ordering::Relaxed);
        self.revision_lag
            .set(gauge_value(current.saturating_sub(applied)));
        encoded(&self.registry)
    }
}

impl AgentObserver for AgentMetrics {
    fn pass(&self, ok: bool, elapsed: Duration, stats: &DataplaneStats, applied_revision: u64) {
        let outcome = if ok { "ok" } else { "error" };
        self.syncs
            .get_or_create(&OutcomeLabels { outcome })
            .observe(elapsed.as_secs_f64());
        {
            let mut counted = self.counted.lock().unwrap_or_else(PoisonError::into_inner);
            self.nft_transactions
                .inc_by(stats.nft_transactions.saturating_sub(counted.0));
            self.nft_failures
                .inc_by(stats.nft_failures.saturating_sub(counted.1));
            *counted = (stats.nft_transactions, stats.nft_failures);
        }
        self.chains.set(gauge_value(stats.applied.chains));
        self.rules.set(gauge_value(stats.applied.rules));
        self.set_elements
            .set(gauge_value(stats.applied.set_elements));
        self.applied.store(applied_revision, Ordering::Relaxed);
        self.applied_revision.set(gauge_value(applied_revision));
    }
}

/// The agent's metrics and the store whose revision each scrape reads.
pub struct AgentExposition<S> {
    pub metrics: Arc<AgentMetrics>,
    pub store: Arc<S>,
}

impl<S: Store> Exposition for AgentExposition<S> {
    fn render(&self) -> impl Future<Output = Result<String, StoreError>> + Send {
        let metrics = self.metrics.clone();
        let store = self.store.clone();
        async move {
            let current = store.revision().await?;
            metrics.render_at(current)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secgroup_agent::RulesetSize;

    fn value<'a>(text: &'a str, name: &str) -> Option<&'a str> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
    }

    #[test]
    fn counters_move_by_what_each_pass_added_and_lag_is_current_minus_applied() {
        let metrics = AgentMetrics::new();
        let mut stats = DataplaneStats {
            nft_transactions: 3,
            nft_failures: 1,
            applied: RulesetSize {
                chains: 4,
                rules: 20,
                set_elements: 7,
            },
        };
        metrics.pass(true, Duration::from_millis(12), &stats, 5);
        stats.nft_transactions = 5;
        metrics.pass(false, Duration::from_millis(30), &stats, 5);
        let text = metrics.render_at(9).expect("render");
        assert_eq!(
            value(&text, "secgroup_agent_nft_transactions_total"),
            Some("5"),
            "{text}"
        );
        assert_eq!(
            value(&text, "secgroup_agent_nft_transaction_failures_total"),
            Some("1")
        );
        assert_eq!(value(&text, "secgroup_agent_rules"), Some("20"));
        assert_eq!(value(&text, "secgroup_agent_revision_lag"), Some("4"));
        assert_eq!(
            value(
                &text,
                "secgroup_agent_sync_duration_seconds_count{outcome=\"error\"}"
            ),
            Some("1"),
            "{text}"
        );
        assert!(text.contains("# TYPE secgroup_agent_sync_duration_seconds histogram"));
        assert!(
            text.contains("# TYPE process_start_time_seconds gauge"),
            "{text}"
        );
    }
}

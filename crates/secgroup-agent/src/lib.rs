//! `secgroup agent`: keeps this machine's data plane ([`secgroup_dataplane`]) at the store's
//! change revision.
//!
//! The loop: read every account's network at one revision in one read transaction
//! ([`secgroup_domain::ops::dataplane::load_all`]), settle instance statuses at this moment
//! (as the API would answer them), plan ([`secgroup_dataplane::Topology`]), apply (only
//! what differs), record the agent's status ([`Store::record_agent_status`], which does not
//! move the revision), then wait for the next revision. Waiting: the store's revision is
//! read at most every [`Wakeups::poll`] (10 ms on SQLite), and a PostgreSQL `NOTIFY` on
//! `secgroup_revision` wakes the loop at once (the poll stays as the fallback), so a change
//! seen late is never lost: every pass reads the whole picture again. While an instance is
//! in a transient state the loop also wakes every [`TRANSIENT_RECHECK`], since it becomes
//! Running (or stops) with time alone, no write behind it.
//!
//! A failed apply keeps the last good ruleset (the data plane applies router by router),
//! is logged, shows in `LastError`, and is retried with back-off ([`RETRY`]). On shutdown
//! the agent removes everything it made (or, with `keep`, leaves it for a later agent,
//! which adopts it: every start adopts what it finds).
#![forbid(unsafe_code)]

pub mod preflight;

pub use secgroup_dataplane::{DataplaneStats, RulesetSize};

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use secgroup_dataplane::{
    AccountNetwork, Dataplane, DataplaneOptions, HostPlan, LayoutCache, PlanOptions, Topology,
};
use secgroup_domain::network::InstanceStatus;
use secgroup_domain::ops::dataplane::{load_all, DataplaneSnapshot};
use secgroup_domain::ops::instances::InstanceTimings;
use secgroup_domain::ops::network_state::settle_statuses;
use secgroup_domain::ops::placement::{place_unplaced, PlacementPolicy};
use secgroup_domain::store::backoff::Backoff;
use secgroup_domain::{AgentReport, AgentStatus, DomainError, Store, StoreError};
use tokio::sync::Notify;

/// Back-off between failed passes (a read or an apply): 100 ms doubling to 5 s.
pub const RETRY: Backoff = Backoff {
    first: Duration::from_millis(100),
    cap: Duration::from_secs(5),
    jitter: false,
};

/// How often the picture is planned again while an instance is in a transient state.
pub const TRANSIENT_RECHECK: Duration = Duration::from_millis(100);

/// How the agent runs.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// Its id in `DescribeDataplaneStatus` (one status row per id).
    pub agent_id: String,
    /// The host it enforces: the instances placed on it (`agent --host`).
    pub host: String,
    /// This host's underlay address (`--underlay-address`): the overlay's local end.
    pub underlay: Option<Ipv4Addr>,
    /// As the server's (`--host-timeout-secs`): which hosts are live when this agent
    /// places instances that have no host.
    pub placement: PlacementPolicy,
    /// Prefix of its own namespaces (`secgroup-`).
    pub prefix: String,
    /// As the server's (`--instance-transition-secs`), so "Running" means the same.
    pub timings: InstanceTimings,
    /// On shutdown, leave everything in place for a later agent.
    pub keep: bool,
    /// Longest time between two status reports, also when nothing changes: a host whose
    /// agent has not reported within the host timeout is away ([`heartbeat_for`]).
    pub heartbeat: Duration,
}

/// The heartbeat for a host timeout: a third of it (so that two reports may be lost before
/// a host counts as away), at most 5 s.
pub fn heartbeat_for(host_timeout: Duration) -> Duration {
    (host_timeout / 3).min(Duration::from_secs(5))
}

/// Told what each pass did, for metrics (`agent --metrics-listen`); the agent itself knows
/// nothing of how they are exposed.
pub trait AgentObserver: Send + Sync {
    /// One pass (read, plan, apply) ended after `elapsed`; `ok` when it applied everything.
    /// `stats` is the data plane's after the pass, `applied_revision` the agent's.
    fn pass(&self, ok: bool, elapsed: Duration, stats: &DataplaneStats, applied_revision: u64);
}

/// Observes nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unobserved;

impl AgentObserver for Unobserved {
    fn pass(&self, _: bool, _: Duration, _: &DataplaneStats, _: u64) {}
}

/// What wakes the loop to look at the revision again.
#[derive(Debug, Clone)]
pub struct Wakeups {
    /// Longest wait between two reads of the revision.
    pub poll: Duration,
    /// Notified when a change is announced (PostgreSQL `LISTEN`); may never be.
    pub notify: Arc<Notify>,
}

impl Wakeups {
    /// Polling only, every `poll`.
    pub fn polling(poll: Duration) -> Wakeups {
        Wakeups {
            poll,
            notify: Arc::new(Notify::new()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("namespace prefix {0:?} is not a plain name (letters, digits, '-', '_', '.')")]
    BadPrefix(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("data plane: {0}")]
    Dataplane(#[from] secgroup_dataplane::Error),
    #[error("{0}")]
    Domain(String),
    #[error("data plane task failed: {0}")]
    Task(String),
}

/// One pass's picture: the networks as the planner takes them, who is Running, and where
/// the other hosts are.
struct Picture {
    revision: u64,
    networks: Vec<AccountNetwork>,
    /// Running instance id → its account.
    running: HashMap<String, String>,
    transient: bool,
    /// Instances on their way to Running that no host has been chosen for.
    unplaced: bool,
    /// Every other host that reported an underlay address → the latest one. A host that
    /// went away keeps its routes: its instances stay placed there until they start again.
    peers: BTreeMap<String, Ipv4Addr>,
}

fn settle(
    snapshot: DataplaneSnapshot,
    timings: &InstanceTimings,
    own_host: &str,
) -> Result<Picture, AgentError> {
    let now = Utc::now();
    let mut running = HashMap::new();
    let mut transient = false;
    let mut unplaced = false;
    let mut networks = Vec::with_capacity(snapshot.regions.len());
    for mut region in snapshot.regions {
        settle_statuses(&mut region.state, timings, now)
            .map_err(|e| AgentError::Domain(e.to_string()))?;
        for i in &region.state.instances {
            match i.status {
                InstanceStatus::Running => {
                    running.insert(i.id.clone(), i.account_id.clone());
                }
                InstanceStatus::Stopped => {}
                _ => transient = true,
            }
            // Running or Starting only: what `place_unplaced` surely places (this host is
            // live), so that the write it costs is never made for nothing, over and over.
            unplaced |= matches!(i.status, InstanceStatus::Running | InstanceStatus::Starting)
                && !region.placements.contains_key(&i.id);
        }
        networks.push(AccountNetwork {
            state: region.state,
            vswitches: region.vswitches,
            placements: region.placements,
            vnis: region.vnis,
        });
    }
    let mut agents = snapshot.agents;
    agents.sort_by_key(|a| a.updated_at);
    let peers = agents
        .iter()
        .filter(|a| a.host != own_host)
        .filter_map(|a| Some((a.host.clone(), a.underlay_address.parse().ok()?)))
        .collect();
    Ok(Picture {
        revision: snapshot.revision,
        networks,
        running,
        transient,
        unplaced,
        peers,
    })
}

/// Runs the agent until `shutdown` resolves, then removes what it made (unless `keep`).
/// Startup adopts whatever an earlier agent with the same prefix left.
pub async fn run<S: Store>(
    store: Arc<S>,
    options: AgentOptions,
    wakeups: Wakeups,
    observer: Arc<dyn AgentObserver>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AgentError> {
    if !secgroup_dataplane::names::is_safe_namespace(&format!("{}outside", options.prefix)) {
        return Err(AgentError::BadPrefix(options.prefix.clone()));
    }
    let dp_options = DataplaneOptions {
        prefix: options.prefix.clone(),
        ..DataplaneOptions::default()
    };
    let dataplane =
        blocking(move || Dataplane::adopt(dp_options).map_err(AgentError::from)).await??;
    tracing::info!(
        adopted = dataplane.instances().len(),
        prefix = %options.prefix,
        "secgroup agent started"
    );
    let mut dataplane = Some(dataplane);
    // Chain layouts of the last pass: a pass lays out again only chains whose rules changed.
    let mut layouts = LayoutCache::default();
    let mut status = AgentStatus {
        agent_id: options.agent_id.clone(),
        host: options.host.clone(),
        underlay_address: options.underlay.map(|a| a.to_string()).unwrap_or_default(),
        applied_revision: 0,
        last_applied_time: None,
        instance_counts: BTreeMap::new(),
        last_error: String::new(),
        updated_at: Utc::now(),
    };
    // Reported before the first pass: this host is live (and can be chosen) by the time
    // the pass places instances that have none, and other hosts learn its underlay address.
    report(&store, &mut status).await;
    tokio::pin!(shutdown);
    let mut failures: u32 = 0;
    let result = 'passes: loop {
        let started = Instant::now();
        let pass = one_pass(&store, &options, &mut dataplane, &mut layouts, &mut status).await;
        if let Some(dp) = &dataplane {
            observer.pass(
                pass.is_ok(),
                started.elapsed(),
                &dp.stats(),
                status.applied_revision,
            );
        }
        let (seen, transient) = match pass {
            Ok((seen, transient)) => {
                failures = 0;
                (Some(seen), transient)
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, attempt = failures, "data plane pass failed; retrying");
                status.last_error = e.to_string();
                (None, false)
            }
        };
        report(&store, &mut status).await;
        if dataplane.is_none() {
            break Err(AgentError::Task("the data plane was lost".into()));
        }
        // Wait for a reason to look again, reporting that this host is alive meanwhile.
        let retry_after = (failures > 0).then(|| RETRY.delay(failures));
        let look_by = match (retry_after, transient) {
            (Some(d), _) => Some(tokio::time::Instant::now() + d),
            (None, true) => Some(tokio::time::Instant::now() + TRANSIENT_RECHECK),
            (None, false) => None,
        };
        loop {
            let heartbeat_at = tokio::time::Instant::now() + options.heartbeat;
            match wait(&store, &wakeups, seen, look_by, heartbeat_at, &mut shutdown).await {
                Wake::Shutdown => break 'passes Ok(()),
                Wake::Look => break,
                Wake::Heartbeat => report(&store, &mut status).await,
            }
        }
    };
    let Some(mut dataplane) = dataplane else {
        return result;
    };
    if options.keep {
        tracing::info!("shutting down; --keep: namespaces and rules stay for the next agent");
        return result;
    }
    tracing::info!("shutting down; removing the data plane");
    let cleaned = blocking(move || dataplane.cleanup()).await?;
    let forgotten = store
        .record_agent_status(AgentReport::Stopped {
            agent_id: options.agent_id.clone(),
        })
        .await;
    cleaned?;
    forgotten?;
    result
}

/// Reads, plans and applies once; `Ok((revision read, any instance transient))` when the
/// apply succeeded. `status` is updated either way.
async fn one_pass<S: Store>(
    store: &Arc<S>,
    options: &AgentOptions,
    dataplane: &mut Option<Dataplane>,
    layouts: &mut LayoutCache,
    status: &mut AgentStatus,
) -> Result<(u64, bool), AgentError> {
    let started = Instant::now();
    let mut placed_unplaced = false;
    let picture = loop {
        let snapshot = store.read(load_all).await?;
        let picture = settle(snapshot, &options.timings, &options.host)?;
        if !picture.unplaced || placed_unplaced {
            break picture;
        }
        // Started while no host was live: placed now (on the least loaded live host, this
        // one included, since it has reported), then read again. Planning the picture read
        // before the placement would report its revision applied while its Running
        // instances are enforced nowhere.
        let (timings, policy, now) = (options.timings, options.placement, Utc::now());
        let placed = store
            .write(move |tx| place_unplaced(tx, &timings, &policy, now))
            .await
            .map_err(|e: DomainError| AgentError::Domain(e.to_string()))?;
        tracing::info!(placed, "placed instances that had no host");
        placed_unplaced = true;
    };
    let read = started.elapsed();
    let plan_options = PlanOptions {
        prefix: options.prefix.clone(),
        host: Some(HostPlan {
            name: options.host.clone(),
            underlay: options.underlay,
            peers: picture.peers.clone(),
        }),
    };
    let Some(mut dp) = dataplane.take() else {
        return Err(AgentError::Task("the data plane was lost".into()));
    };
    let networks = picture.networks;
    let mut cache = std::mem::take(layouts);
    let (dp, cache, applied, issues, planned) = blocking(move || {
        let started = Instant::now();
        let desired = Topology::from(&networks).plan_with(&plan_options, &mut cache);
        let planned = started.elapsed();
        let applied = dp.apply(&desired);
        (dp, cache, applied, desired.issues, planned)
    })
    .await?;
    *layouts = cache;
    // What is in place now counts, whether the apply succeeded or not.
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for (id, _) in dp.instances() {
        if let Some(account) = picture.running.get(&id) {
            *counts.entry(account.clone()).or_default() += 1;
        }
    }
    *dataplane = Some(dp);
    status.instance_counts = counts;
    for issue in &issues {
        tracing::warn!(instance = %issue.instance_id, reason = %issue.reason, "instance not planned");
    }
    match applied {
        Ok(report) => {
            // Where a pass's time goes (the read, the plan, the apply), for profiling.
            tracing::debug!(
                revision = picture.revision,
                read_ms = read.as_secs_f64() * 1e3,
                plan_ms = planned.as_secs_f64() * 1e3,
                apply_ms = report.duration.as_secs_f64() * 1e3,
                ?report,
                "applied"
            );
            status.applied_revision = status.applied_revision.max(picture.revision);
            status.last_applied_time = Some(Utc::now());
            status.last_error = String::new();
            Ok((picture.revision, picture.transient))
        }
        Err(e) => Err(AgentError::Dataplane(e)),
    }
}

/// Records the agent's status as of now. A database that cannot be reached is logged: the
/// data plane keeps what it applied, and the next report after it is back says what
/// happened meanwhile (`LastError` of the pass that failed, or empty once one succeeded).
async fn report<S: Store>(store: &Arc<S>, status: &mut AgentStatus) {
    status.updated_at = Utc::now();
    if let Err(e) = store
        .record_agent_status(AgentReport::Status(status.clone()))
        .await
    {
        tracing::warn!(error = %e, "could not record the agent's status");
    }
}

/// Why [`wait`] returned.
enum Wake {
    Shutdown,
    /// Plan again: the revision moved, a transient instance may have settled, or a failed
    /// pass is due for a retry.
    Look,
    /// Nothing to plan, but a report is due.
    Heartbeat,
}

/// Waits until the revision differs from `seen` (`None`: it could not be read), `look_by`
/// passes, `heartbeat_at` passes, or shutdown.
async fn wait<S: Store>(
    store: &Arc<S>,
    wakeups: &Wakeups,
    seen: Option<u64>,
    look_by: Option<tokio::time::Instant>,
    heartbeat_at: tokio::time::Instant,
    shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
) -> Wake {
    loop {
        let tick = wakeups.poll;
        tokio::select! {
            _ = shutdown.as_mut() => return Wake::Shutdown,
            _ = wakeups.notify.notified() => {},
            _ = tokio::time::sleep(tick) => {},
        }
        let now = tokio::time::Instant::now();
        if look_by.is_some_and(|d| now >= d) {
            return Wake::Look;
        }
        if now >= heartbeat_at {
            return Wake::Heartbeat;
        }
        if let Some(seen) = seen {
            match store.revision().await {
                Ok(now) if now != seen => return Wake::Look,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not read the revision"),
            }
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AgentError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AgentError::Task(e.to_string()))
}

/// This machine's host name (`/proc/sys/kernel/hostname`), or `localhost`.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

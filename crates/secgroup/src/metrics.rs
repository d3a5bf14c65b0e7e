//! Prometheus metrics (`serve --metrics-listen ADDR`): the gateway's requests, the store's
//! transactions, the sizes of the nonce and client-token stores, and the process, in the
//! OpenMetrics text format of the `prometheus-client` crate (see the README's "Metrics").
//! The agent's (`agent --metrics-listen ADDR`) are in [`agent`]; both are served by
//! [`app`], with the process's metrics from one collector.
//!
//! Every label value is bounded: products are the product codes, actions the actions a
//! product answers (anything else is `other`), statuses HTTP statuses, error codes
//! Alibaba's codes (at most [`MAX_ERROR_CODES`] distinct ones, then `other`); no id, no
//! account and no address is ever a label.

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use secgroup_domain::{Store, StoreError, Tx, TxError};
use secgroup_rpc::RequestObserver;

pub mod agent;

/// OpenTelemetry's explicit bucket boundaries for `http.server.request.duration`, in
/// seconds (HTTP semantic conventions).
pub const HTTP_DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Distinct error codes labelled by name; more are counted under `other`.
pub const MAX_ERROR_CODES: usize = 256;

/// The content type of the exposition.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    product: &'static str,
    action: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActiveLabels {
    product: &'static str,
    action: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    product: &'static str,
    action: &'static str,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TxLabels {
    /// `read` or `write`.
    mode: &'static str,
    /// `ok` (committed, or read) or `error`.
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModeLabels {
    mode: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn http_histogram() -> Histogram {
    Histogram::new(HTTP_DURATION_BUCKETS)
}

/// Transactions are mostly far below the HTTP buckets: 50 µs to about 3 s.
fn tx_histogram() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.000_05, 3.0, 11,
    ))
}

/// Every metric the server keeps, and the registry they are exposed through.
pub struct Metrics {
    registry: Registry,
    requests: HistogramFamily<RequestLabels>,
    active: Family<ActiveLabels, Gauge>,
    errors: Family<ErrorLabels, Counter>,
    transactions: HistogramFamily<TxLabels>,
    conflicts: Family<ModeLabels, Counter>,
    retries: Family<ModeLabels, Counter>,
    nonces: Gauge,
    client_tokens: Gauge,
    /// The error codes labelled so far (bounded by [`MAX_ERROR_CODES`]).
    codes: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = registry();
        let requests: HistogramFamily<RequestLabels> = Family::new_with_constructor(http_histogram);
        registry.register(
            "http_server_request_duration_seconds",
            "Duration of HTTP server requests, by product, action and status",
            requests.clone(),
        );
        let active = Family::<ActiveLabels, Gauge>::default();
        registry.register(
            "http_server_active_requests",
            "Number of HTTP server requests being answered, by product and action",
            active.clone(),
        );
        let errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "secgroup_request_errors",
            "Requests answered with an error, by product, action and Alibaba error code",
            errors.clone(),
        );
        let transactions: HistogramFamily<TxLabels> = Family::new_with_constructor(tx_histogram);
        registry.register(
            "secgroup_store_transaction_duration_seconds",
            "Duration of store transactions (every attempt and wait included), by mode and outcome",
            transactions.clone(),
        );
        let conflicts = Family::<ModeLabels, Counter>::default();
        registry.register(
            "secgroup_store_transaction_conflicts",
            "Transaction attempts that ended in a conflict, by mode",
            conflicts.clone(),
        );
        let retries = Family::<ModeLabels, Counter>::default();
        registry.register(
            "secgroup_store_transaction_retries",
            "Transaction attempts run again after a conflict, by mode",
            retries.clone(),
        );
        let nonces = Gauge::default();
        registry.register(
            "secgroup_nonces",
            "Signature nonces remembered (live) against replays",
            nonces.clone(),
        );
        let client_tokens = Gauge::default();
        registry.register(
            "secgroup_client_tokens",
            "ClientTokens remembered for idempotent requests",
            client_tokens.clone(),
        );
        Metrics {
            registry,
            requests,
            active,
            errors,
            transactions,
            conflicts,
            retries,
            nonces,
            client_tokens,
            codes: Mutex::new(HashSet::new()),
        }
    }

    /// The code as a label value: itself while fewer than [`MAX_ERROR_CODES`] codes were
    /// seen (or if it was seen), else `other`.
    fn code_label(&self, code: &str) -> String {
        let mut codes = self.codes.lock().unwrap_or_else(PoisonError::into_inner);
        if codes.contains(code) {
            return code.to_string();
        }
        if codes.len() < MAX_ERROR_CODES {
            codes.insert(code.to_string());
            return code.to_string();
        }
        "other".to_string()
    }

    fn transaction(
        &self,
        mode: &'static str,
        ok: bool,
        attempts: u32,
        conflicted_last: bool,
        elapsed: Duration,
    ) {
        let outcome = if ok { "ok" } else { "error" };
        self.transactions
            .get_or_create(&TxLabels { mode, outcome })
            .observe(elapsed.as_secs_f64());
        let retries = u64::from(attempts.saturating_sub(1));
        let labels = ModeLabels { mode };
        if retries > 0 {
            self.retries.get_or_create(&labels).inc_by(retries);
        }
        // Every attempt but the last ended in a conflict (that is why it ran again), and
        // the last did too if the transaction gave up on one.
        let conflicts = retries + u64::from(conflicted_last);
        if conflicts > 0 {
            self.conflicts.get_or_create(&labels).inc_by(conflicts);
        }
    }

    /// The exposition, with the store sizes read now.
    pub async fn render<S: Store>(&self, store: &S) -> Result<String, StoreError> {
        let now = Utc::now();
        let tokens = store.read(|tx| tx.count_client_tokens()).await?;
        let nonces = store.count_nonces(now).await?;
        self.client_tokens
            .set(i64::try_from(tokens).unwrap_or(i64::MAX));
        self.nonces.set(i64::try_from(nonces).unwrap_or(i64::MAX));
        encoded(&self.registry)
    }
}

impl RequestObserver for Metrics {
    fn started(&self, product: &'static str, action: &'static str) {
        self.active
            .get_or_create(&ActiveLabels { product, action })
            .inc();
    }

    fn stopped(&self, product: &'static str, action: &'static str) {
        self.active
            .get_or_create(&ActiveLabels { product, action })
            .dec();
    }

    fn answered(
        &self,
        product: &'static str,
        action: &'static str,
        status: u16,
        code: Option<&str>,
        elapsed: Duration,
    ) {
        self.requests
            .get_or_create(&RequestLabels {
                product,
                action,
                status,
            })
            .observe(elapsed.as_secs_f64());
        if let Some(code) = code {
            let code = self.code_label(code);
            self.errors
                .get_or_create(&ErrorLabels {
                    product,
                    action,
                    code,
                })
                .inc();
        }
    }
}

/// A store whose transactions are measured: how long each took (its attempts and waits
/// included), how many attempts ran again after a conflict, and how many ended in one.
/// Every attempt of a transaction is one run of its closure, so the wrapper sees them
/// without the backend's help.
pub struct ObservedStore<S> {
    inner: Arc<S>,
    metrics: Arc<Metrics>,
}

impl<S> ObservedStore<S> {
    pub fn new(inner: Arc<S>, metrics: Arc<Metrics>) -> Self {
        ObservedStore { inner, metrics }
    }
}

impl<S: Store> ObservedStore<S> {
    fn observed<T, E, F, Fut>(
        &self,
        mode: &'static str,
        mut f: F,
        run: impl FnOnce(Arc<S>, Box<dyn FnMut(&mut dyn Tx) -> Result<T, E> + Send>) -> Fut,
    ) -> impl Future<Output = Result<T, E>> + Send
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send,
    {
        let attempts = Arc::new(AtomicU32::new(0));
        let counted = attempts.clone();
        let metrics = self.metrics.clone();
        let started = Instant::now();
        let done = run(
            self.inner.clone(),
            Box::new(move |tx: &mut dyn Tx| {
                counted.fetch_add(1, Ordering::Relaxed);
                f(tx)
            }),
        );
        async move {
            let result = done.await;
            let conflicted = result.as_ref().err().is_some_and(TxError::is_conflict);
            metrics.transaction(
                mode,
                result.is_ok(),
                attempts.load(Ordering::Relaxed),
                conflicted,
                started.elapsed(),
            );
            result
        }
    }
}

impl<S: Store> Store for ObservedStore<S> {
    fn write<T, E, F>(&self, f: F) -> impl Future<Output = Result<T, E>> + Send
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.observed("write", f, |store, f| async move { store.write(f).await })
    }

    fn write_unrevised<T, E, F>(&self, f: F) -> impl Future<Output = Result<T, E>> + Send
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.observed("write", f, |store, f| async move {
            store.write_unrevised(f).await
        })
    }

    fn read<T, E, F>(&self, f: F) -> impl Future<Output = Result<T, E>> + Send
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.observed("read", f, |store, f| async move { store.read(f).await })
    }

    fn claim_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        self.inner
            .claim_nonce(access_key_id, nonce, expires_at, now)
    }

    fn count_nonces(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.inner.count_nonces(now)
    }

    fn record_agent_status(
        &self,
        report: secgroup_domain::AgentReport,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.inner.record_agent_status(report)
    }

    fn revision(&self) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.inner.revision()
    }
}

/// A registry holding the process's metrics, for the others to be registered in.
fn registry() -> Registry {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(ProcessCollector::new()));
    registry
}

/// The registry's text, as a scrape answers it.
fn encoded(registry: &Registry) -> Result<String, StoreError> {
    let mut text = String::new();
    encode(&mut text, registry).map_err(|e| StoreError::Other(format!("encoding metrics: {e}")))?;
    Ok(text)
}

/// What a metrics listener answers at `/metrics`: the server's metrics or the agent's.
pub trait Exposition: Send + Sync + 'static {
    /// The exposition, with what a scrape reads (from the store) read now.
    fn render(&self) -> impl Future<Output = Result<String, StoreError>> + Send;
}

/// The server's metrics and the store whose sizes each scrape reads.
pub struct ServerExposition<S> {
    pub metrics: Arc<Metrics>,
    pub store: Arc<S>,
}

impl<S: Store> Exposition for ServerExposition<S> {
    fn render(&self) -> impl Future<Output = Result<String, StoreError>> + Send {
        self.metrics.render(self.store.as_ref())
    }
}

/// The `/metrics` application of a metrics listener.
pub fn app<E: Exposition>(exposition: Arc<E>) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(scrape::<E>))
        .with_state(exposition)
}

async fn scrape<E: Exposition>(State(exposition): State<Arc<E>>) -> Response {
    match exposition.render().await {
        Ok(text) => ([(header::CONTENT_TYPE, OPENMETRICS)], text).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "metrics scrape failed");
            (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response()
        }
    }
}

/// The process's own metrics, read from `/proc/self` at each scrape (Linux; elsewhere
/// only the start time is known). Names as Prometheus's client libraries give them.
#[derive(Debug)]
struct ProcessCollector {
    started: f64,
}

/// Clock ticks per second of `/proc/self/stat`'s times: `USER_HZ`, 100 on every Linux ABI.
const USER_HZ: f64 = 100.0;

impl ProcessCollector {
    fn new() -> Self {
        let started = process_start_time().unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64())
        });
        ProcessCollector { started }
    }
}

/// `/proc/self/stat`'s fields after the command name (field 3 is index 0).
fn stat_fields() -> Option<Vec<String>> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_string).collect())
}

fn process_start_time() -> Option<f64> {
    let fields = stat_fields()?;
    let ticks: f64 = fields.get(19)?.parse().ok()?;
    let boot = std::fs::read_to_string("/proc/stat").ok()?;
    let btime: f64 = boot
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    Some(btime + ticks / USER_HZ)
}

/// `VmRSS` of `/proc/self/status`, in bytes.
fn resident_bytes() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024.0)
}

fn open_fds() -> Option<f64> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count() as f64)
}

fn max_fds() -> Option<f64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: Option<f64>,
) -> Result<(), std::fmt::Error> {
    if let Some(value) = value {
        let metric = ConstGauge::new(value);
        metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)?;
    }
    Ok(())
}

impl prometheus_client::collector::Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let fields = stat_fields();
        let field = |i: usize| -> Option<f64> { fields.as_ref()?.get(i)?.parse().ok() };
        if let (Some(user), Some(system)) = (field(11), field(12)) {
            let cpu = ConstCounter::new((user + system) / USER_HZ);
            cpu.encode(encoder.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds",
                None,
                cpu.metric_type(),
            )?)?;
        }
        gauge(
            &mut encoder,
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
            resident_bytes(),
        )?;
        gauge(
            &mut encoder,
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes",
            field(20),
        )?;
        gauge(
            &mut encoder,
            "process_threads",
            "Number of OS threads in the process",
            field(17),
        )?;
        gauge(
            &mut encoder,
            "process_open_fds",
            "Number of open file descriptors",
            open_fds(),
        )?;
        gauge(
            &mut encoder,
            "process_max_fds",
            "Maximum number of open file descriptors",
            max_fds(),
        )?;
        gauge(
            &mut encoder,
            "process_start_time_seconds",
            "Start time of the process since the unix epoch in seconds",
            Some(self.started),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secgroup_store_sqlite::SqliteStore;

    fn line<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
        text.lines().find(|l| l.starts_with(prefix))
    }

    #[tokio::test]
    async fn conflicts_and_retries_are_counted_per_attempt() {
        let metrics = Arc::new(Metrics::new());
        let sqlite = Arc::new(SqliteStore::open_in_memory().expect("store"));
        let store = ObservedStore::new(sqlite.clone(), metrics.clone());
        let mut tries = 0;
        store
            .write(move |tx| {
                tries += 1;
                if tries < 3 {
                    return Err(StoreError::Conflict("made up".into()));
                }
                tx.revision()
            })
            .await
            .expect("third attempt commits");
        store
            .read(|_| Err::<(), _>(StoreError::Other("refused".into())))
            .await
            .expect_err("fails");
        let text = metrics.render(sqlite.as_ref()).await.expect("render");
        assert_eq!(
            line(
                &text,
                "secgroup_store_transaction_retries_total{mode=\"write\"}"
            ),
            Some("secgroup_store_transaction_retries_total{mode=\"write\"} 2"),
            "{text}"
        );
        assert_eq!(
            line(
                &text,
                "secgroup_store_transaction_conflicts_total{mode=\"write\"}"
            ),
            Some("secgroup_store_transaction_conflicts_total{mode=\"write\"} 2"),
        );
        assert!(line(&text, "secgroup_store_transaction_duration_seconds_count{mode=\"write\",outcome=\"ok\"} 1").is_some(), "{text}");
        assert!(line(&text, "secgroup_store_transaction_duration_seconds_count{mode=\"read\",outcome=\"error\"} 1").is_some(), "{text}");
    }

    #[test]
    fn error_codes_are_bounded() {
        let metrics = Metrics::new();
        for n in 0..MAX_ERROR_CODES {
            assert_eq!(metrics.code_label(&format!("Code{n}")), format!("Code{n}"));
        }
        assert_eq!(metrics.code_label("OneTooMany"), "other");
        assert_eq!(
            metrics.code_label("Code0"),
            "Code0",
            "seen codes keep their label"
        );
    }
}

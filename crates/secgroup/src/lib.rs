//! Wiring: the store, the products and the wire protocol, served on a listener.
#![forbid(unsafe_code)]

pub mod cli;
mod credentials;
pub mod database;
pub mod metrics;
#[cfg(feature = "testkit")]
pub mod testkit;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use secgroup_actiontrail::Actiontrail;
use secgroup_api::ProductConfig;
use secgroup_console::Console;
use secgroup_domain::Store;
use secgroup_ecs::Ecs;
use secgroup_ext::Ext;
use secgroup_nis::Nis;
use secgroup_reach_service::Reachability;
use secgroup_rpc::{RequestObserver, Router, ServerConfig};
use secgroup_vpc::Vpc;
use tokio::net::TcpListener;

pub use credentials::StoreCredentials;
use metrics::{Metrics, ObservedStore};

/// Everything `serve` needs besides the listener.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub server: ServerConfig,
    /// What every product reads: regions, quotas, instance timings, matrix size.
    pub products: ProductConfig,
    /// Where requests and transactions are measured, when metrics are served.
    pub metrics: Option<Arc<Metrics>>,
}

/// The HTTP application over `store`.
pub fn app<S: Store>(store: Arc<S>, settings: Settings) -> axum::Router {
    match settings.metrics.clone() {
        Some(metrics) => {
            let observed = Arc::new(ObservedStore::new(store, metrics.clone()));
            let observer: Arc<dyn RequestObserver> = metrics;
            products_app(observed, settings, Some(observer))
        }
        None => products_app(store, settings, None),
    }
}

fn products_app<S: Store>(
    store: Arc<S>,
    settings: Settings,
    observer: Option<Arc<dyn RequestObserver>>,
) -> axum::Router {
    let products = Arc::new(settings.products);
    // One service for NIS and the extension: they ask about the same networks, and share
    // what it has compiled.
    let reachability = Arc::new(Reachability::new(store.clone(), products.instance_timings));
    let credentials = Arc::new(StoreCredentials::new(store.clone()));
    // The console signs in against the very credential store the signatures are checked
    // with, and asks the same reachability service (docs/console.md).
    let console = Arc::new(Console::new(
        store.clone(),
        credentials.clone(),
        reachability.clone(),
        products.clone(),
    ));
    let router = Router::new()
        .with(Arc::new(Ecs::new(store.clone(), products.clone())))
        .with(Arc::new(Vpc::new(store.clone(), products.clone())))
        .with(Arc::new(Nis::new(
            store.clone(),
            products.clone(),
            reachability.clone(),
        )))
        .with(Arc::new(Ext::new(
            store.clone(),
            products.clone(),
            reachability,
        )))
        .with(Arc::new(Actiontrail::new(store.clone(), products)))
        .mount(secgroup_console::PREFIX, console);
    secgroup_rpc::server::observed_app(router, credentials, settings.server, observer)
}

/// Binds `addr` and serves `exposition` at `/metrics` there (a listener apart from the
/// API's) until the process ends; what `serve` and `agent` do with `--metrics-listen`.
pub async fn spawn_metrics_listener<E: metrics::Exposition>(
    addr: std::net::SocketAddr,
    exposition: Arc<E>,
) -> std::io::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tracing::info!(metrics_listen = %bound, "serving metrics at /metrics");
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, metrics::app(exposition)).await {
            tracing::warn!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(bound)
}

/// How long in-flight requests may take to finish after shutdown is asked for.
pub const DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// Serves until `shutdown` resolves, then stops accepting and lets in-flight requests
/// finish (up to [`DRAIN_DEADLINE`]). Connection hygiene (timeouts, the connection cap,
/// load shedding, head limits) is the wire crate's ([`secgroup_rpc::serve`]).
pub async fn serve<S: Store>(
    listener: TcpListener,
    store: Arc<S>,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let server = settings.server.clone();
    let app = app(store, settings);
    secgroup_rpc::serve(listener, app, &server, shutdown, DRAIN_DEADLINE).await
}

//! `secgroup`: the ECS security-group API server and its operator commands.
#![forbid(unsafe_code)]

mod logging;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use clap::{Args, Parser, Subcommand};
use secgroup::cli::{matrix, reach, review};
use secgroup::{database, Settings};
use secgroup_domain::catalogue::Catalogue;
use secgroup_domain::ops::accounts::{self, Bootstrap};
use secgroup_domain::ops::instances::InstanceTimings;
use secgroup_domain::ops::Limits;
use secgroup_domain::regions::RegionCatalog;
use secgroup_domain::{Store, StoreError};
use secgroup_rpc::ServerConfig;

#[derive(Parser)]
#[command(
    name = "secgroup",
    version,
    about = "Alibaba Cloud ECS security groups, as software you run yourself"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server.
    Serve(ServeArgs),
    /// Manage accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Ask a running server whether one endpoint can reach another, and why.
    Reach(reach::ReachArgs),
    /// Ask a running server who reaches whom in a VPC or among some groups' members.
    Matrix(matrix::MatrixArgs),
    /// Import an account's Describe JSON (from the official SDKs or the aliyun CLI).
    Import(review::ImportArgs),
    /// Export an account as the Describe JSON `import` reads.
    Export(review::ExportArgs),
    /// Review an account: exposure, dead rules, hygiene, reachability differences.
    Review(review::ReviewArgs),
    /// Enforce the security groups on real packets: every Running instance becomes a network
    /// namespace on this machine (Linux, as root; see README "Data plane").
    Agent(AgentArgs),
}

#[derive(Args)]
struct AgentArgs {
    #[command(flatten)]
    db: DatabaseArg,
    /// On SIGTERM/SIGINT leave the namespaces and rules in place; a later agent adopts them.
    #[arg(long)]
    keep: bool,
    /// This agent's id in DescribeDataplaneStatus (default: its --host).
    #[arg(long, env = "SECGROUP_AGENT_ID")]
    agent_id: Option<String>,
    /// The host this agent enforces: instances placed on it get their namespaces here
    /// (default: the machine's host name).
    #[arg(long = "host", env = "SECGROUP_AGENT_HOST")]
    host: Option<String>,
    /// This host's address on the network between hosts: the overlay's local end, which
    /// other hosts' agents send this host's instances' traffic to (none: instances on other
    /// hosts are out of reach from this one).
    #[arg(long, env = "SECGROUP_AGENT_UNDERLAY_ADDRESS")]
    underlay_address: Option<std::net::Ipv4Addr>,
    /// As the server's: seconds a host may go without a report and still be live. The agent
    /// reports at least every third of it (at most every 5 s).
    #[arg(long, env = "SECGROUP_HOST_TIMEOUT_SECS", default_value_t = secgroup_domain::ops::placement::DEFAULT_HOST_TIMEOUT.as_secs())]
    host_timeout_secs: u64,
    /// Prefix of the agent's own namespaces (routers, outside); another prefix lets two agents
    /// (or tests) share a machine without touching each other's.
    #[arg(long, env = "SECGROUP_NAMESPACE_PREFIX", default_value = "secgroup-")]
    namespace_prefix: String,
    /// Seconds an instance stays in each transient state: the same as the server's.
    #[arg(long, env = "SECGROUP_INSTANCE_TRANSITION_SECS", default_value_t = 0.0)]
    instance_transition_secs: f64,
    /// Address to serve the agent's Prometheus metrics on, at /metrics (off unless given).
    #[arg(long, env = "SECGROUP_AGENT_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
}

#[derive(Args)]
struct DatabaseArg {
    /// Database URL: sqlite://PATH, or postgres://USER:PASSWORD@HOST:PORT/DB for several nodes.
    #[arg(long, env = "SECGROUP_DATABASE", default_value = database::DEFAULT_DATABASE)]
    database: String,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SECGROUP_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    db: DatabaseArg,
    /// Comma-separated region ids to offer (default: every public Alibaba Cloud region).
    #[arg(long, env = "SECGROUP_REGIONS", value_delimiter = ',')]
    regions: Vec<String>,
    /// Security groups per account and region.
    #[arg(long, env = "SECGROUP_MAX_SECURITY_GROUPS", default_value_t = Limits::default().security_groups_per_region)]
    max_security_groups: u64,
    /// Rules (ingress and egress together) per security group.
    #[arg(long, env = "SECGROUP_MAX_RULES_PER_GROUP", default_value_t = Limits::default().rules_per_group)]
    max_rules_per_group: usize,
    /// Rules whose peer is another security group, per security group.
    #[arg(long, env = "SECGROUP_MAX_GROUP_RULES_PER_GROUP", default_value_t = Limits::default().group_rules_per_group)]
    max_group_rules_per_group: usize,
    /// Prefix lists per account and region.
    #[arg(long, env = "SECGROUP_MAX_PREFIX_LISTS", default_value_t = Limits::default().prefix_lists_per_region)]
    max_prefix_lists: u64,
    /// VPCs per account and region.
    #[arg(long, env = "SECGROUP_MAX_VPCS", default_value_t = Limits::default().vpcs_per_region)]
    max_vpcs: u64,
    /// vSwitches per VPC.
    #[arg(long, env = "SECGROUP_MAX_VSWITCHES_PER_VPC", default_value_t = Limits::default().vswitches_per_vpc)]
    max_vswitches_per_vpc: u64,
    /// Security groups one instance may be in.
    #[arg(long, env = "SECGROUP_MAX_SECURITY_GROUPS_PER_INSTANCE", default_value_t = Limits::default().security_groups_per_instance)]
    max_security_groups_per_instance: usize,
    /// Instances per basic security group (advanced groups hold 65,536).
    #[arg(long, env = "SECGROUP_MAX_INSTANCES_PER_GROUP", default_value_t = Limits::default().instances_per_group)]
    max_instances_per_group: u64,
    /// NIS network paths per account.
    #[arg(long, env = "SECGROUP_MAX_NETWORK_PATHS", default_value_t = Limits::default().network_paths_per_account)]
    max_network_paths: u64,
    /// Stored NIS reachability analyses per account.
    #[arg(long, env = "SECGROUP_MAX_ANALYSES", default_value_t = Limits::default().analyses_per_account)]
    max_analyses: u64,
    /// Seconds an instance stays in each transient state (Pending, Starting, Stopping).
    #[arg(long, env = "SECGROUP_INSTANCE_TRANSITION_SECS", default_value_t = 0.0)]
    instance_transition_secs: f64,
    /// Seconds a data-plane host may go without a report and still get placements (see Data plane).
    #[arg(long, env = "SECGROUP_HOST_TIMEOUT_SECS", default_value_t = secgroup_domain::ops::placement::DEFAULT_HOST_TIMEOUT.as_secs())]
    host_timeout_secs: u64,
    /// Largest request accepted, in bytes.
    #[arg(long, env = "SECGROUP_MAX_REQUEST_BYTES", default_value_t = 1024 * 1024)]
    max_request_bytes: usize,
    /// Most instances one reachability matrix may cover.
    #[arg(long, env = "SECGROUP_MAX_MATRIX_INSTANCES", default_value_t = secgroup_api::config::DEFAULT_MAX_MATRIX_INSTANCES)]
    max_matrix_instances: usize,
    /// Hours a ClientToken is remembered; after that the same token is a new request.
    #[arg(
        long,
        env = "SECGROUP_CLIENT_TOKEN_RETENTION_HOURS",
        default_value_t = 24.0
    )]
    client_token_retention_hours: f64,
    /// A catalogue file (JSON, docs/ecs.md §9.1) merged over the built-in catalogue of zones,
    /// instance types and images.
    #[arg(long, env = "SECGROUP_CATALOGUE")]
    catalogue: Option<std::path::PathBuf>,
    /// Refuse launches whose image id or instance type the catalogue lacks.
    #[arg(long, env = "SECGROUP_STRICT_CATALOGUE")]
    strict_catalogue: bool,
    /// Days audit events are kept; writes purge older ones; 0: no audit trail is written
    /// (docs/actiontrail.md §1.4).
    #[arg(long, env = "SECGROUP_AUDIT_RETENTION_DAYS", default_value_t = secgroup_api::audit::DEFAULT_RETENTION.num_days() as u32)]
    audit_retention_days: u32,
    /// Address to serve Prometheus metrics on, at /metrics (off unless given).
    #[arg(long, env = "SECGROUP_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    #[command(flatten)]
    gateway: GatewayArgs,
}

/// Connection hygiene, load shedding and throttling (the gateway's own limits).
#[derive(Args)]
struct GatewayArgs {
    /// Seconds a request's head may take once its first byte arrived; then the connection closes.
    #[arg(
        long,
        env = "SECGROUP_HEADER_READ_TIMEOUT_SECS",
        default_value_t = 10.0
    )]
    header_read_timeout_secs: f64,
    /// Seconds a request's body may take once its head arrived (408 RequestTimeout after).
    #[arg(long, env = "SECGROUP_BODY_READ_TIMEOUT_SECS", default_value_t = 30.0)]
    body_read_timeout_secs: f64,
    /// Seconds a keep-alive connection may stay idle between requests before it is closed.
    #[arg(long, env = "SECGROUP_IDLE_TIMEOUT_SECS", default_value_t = 60.0)]
    idle_timeout_secs: f64,
    /// Connections served at once; more are answered 503 ServiceUnavailable and closed.
    #[arg(long, env = "SECGROUP_MAX_CONNECTIONS", default_value_t = ServerConfig::default().max_connections)]
    max_connections: usize,
    /// Requests handled at once; more are answered 503 ServiceUnavailable at once.
    #[arg(long, env = "SECGROUP_MAX_IN_FLIGHT", default_value_t = ServerConfig::default().max_in_flight)]
    max_in_flight: usize,
    /// Longest request line (method, path, query) in bytes (414 RequestURITooLong past it).
    #[arg(long, env = "SECGROUP_MAX_REQUEST_LINE_BYTES", default_value_t = ServerConfig::default().max_request_line_bytes)]
    max_request_line_bytes: usize,
    /// Largest request head in bytes (431 RequestHeaderFieldsTooLarge past it).
    #[arg(long, env = "SECGROUP_MAX_HEADER_BYTES", default_value_t = ServerConfig::default().max_header_bytes)]
    max_header_bytes: usize,
    /// Calls allowed per account, action and region per minute (Throttling.User past it); off by default.
    #[arg(long, env = "SECGROUP_THROTTLE_PER_MINUTE")]
    throttle_per_minute: Option<u32>,
    /// Per-action limits, ACTION=N, comma-separated (e.g. RunInstances=10); they apply even without --throttle-per-minute.
    #[arg(long, env = "SECGROUP_THROTTLE_ACTIONS", value_delimiter = ',', value_parser = parse_action_limit)]
    throttle_action: Vec<(String, u32)>,
}

/// `ACTION=N`.
fn parse_action_limit(text: &str) -> Result<(String, u32), String> {
    let (action, limit) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not ACTION=N"))?;
    let limit = limit
        .trim()
        .parse::<u32>()
        .map_err(|e| format!("{text:?}: {e}"))?;
    if action.trim().is_empty() {
        return Err(format!("{text:?} names no action"));
    }
    Ok((action.trim().to_string(), limit))
}

/// Seconds from a flag, as a duration.
fn seconds(value: f64, flag: &str) -> anyhow::Result<std::time::Duration> {
    std::time::Duration::try_from_secs_f64(value)
        .with_context(|| format!("--{flag} must be a non-negative number of seconds"))
}

/// `--client-token-retention-hours`: a positive number of hours (a zero retention would
/// make every retry a new request).
fn token_retention(hours: f64) -> anyhow::Result<chrono::Duration> {
    let refused =
        || anyhow::anyhow!("--client-token-retention-hours must be a positive number of hours");
    let span = std::time::Duration::try_from_secs_f64(hours * 3600.0).map_err(|_| refused())?;
    match chrono::Duration::from_std(span) {
        Ok(retention) if !retention.is_zero() => Ok(retention),
        _ => Err(refused()),
    }
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account with a new AccessKey and print it as JSON; with --account, give
    /// that account (made when missing, e.g. one `import --account ID` filled) a new key.
    Create(CreateAccountArgs),
}

#[derive(Args)]
struct CreateAccountArgs {
    /// The account id to make or give a key (default: a new account).
    #[arg(long)]
    account: Option<String>,
    #[command(flatten)]
    db: DatabaseArg,
}

/// The client commands' exit statuses beside 0 (see `secgroup reach --help`).
const EXIT_DENIED: u8 = 1;
const EXIT_CLIENT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => operator_outcome(serve(args).await),
            Command::Account(AccountCommand::Create(args)) => {
                operator_outcome(create_account(args).await)
            }
            Command::Reach(args) => match reach::run(&args).await {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(EXIT_DENIED),
                Err(e) => client_failure(&e),
            },
            Command::Matrix(args) => match matrix::run(&args).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => client_failure(&e),
            },
            Command::Import(args) => review_outcome(review::import(&args).await),
            Command::Export(args) => review_outcome(review::export(&args).await),
            Command::Review(args) => match review::review(&args).await {
                Ok(false) => ExitCode::SUCCESS,
                Ok(true) => ExitCode::from(review::EXIT_FINDINGS),
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(review::EXIT_ERROR)
                }
            },
            Command::Agent(args) => {
                // Before anything is opened or changed.
                if let Err(refusal) = secgroup_agent::preflight::check(
                    &secgroup_agent::preflight::Environment::current(),
                ) {
                    eprintln!("secgroup agent: {refusal}");
                    return ExitCode::from(EXIT_CLIENT_ERROR);
                }
                operator_outcome(agent(args).await)
            }
        }
    })
}

/// As `anyhow` reports an error returned from `main`: the chain, and status 1.
fn operator_outcome(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:?}");
            ExitCode::FAILURE
        }
    }
}

/// `import`, `export`: 0, or 2 with the message.
fn review_outcome(result: Result<(), review::ReviewCliError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(review::EXIT_ERROR)
        }
    }
}

fn client_failure(e: &secgroup::cli::CliError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(EXIT_CLIENT_ERROR)
}

async fn create_account(args: CreateAccountArgs) -> anyhow::Result<()> {
    let store = database::open(&args.db.database)?;
    let key = match args.account {
        None => {
            store
                .write(|tx| accounts::create_account(tx, false, Utc::now()))
                .await?
        }
        Some(id) => {
            let account =
                secgroup_review::store::resolve_account(store.as_ref(), Some(&id), true).await?;
            store
                .write(move |tx| accounts::new_access_key(tx, &account, Utc::now()))
                .await?
        }
    };
    let out = serde_json::json!({
        "AccountId": key.account_id,
        "AccessKeyId": key.access_key_id,
        "AccessKeySecret": key.secret,
    });
    println!("{out}");
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // Flushes the log lines still queued when `serve` ends, however it ends.
    let _log_guard = init_logging();
    let store = database::open(&args.db.database)?;
    bootstrap_key(store.as_ref()).await?;

    let mut settings = Settings::default();
    if !args.regions.is_empty() {
        settings.products.regions =
            RegionCatalog::from_ids(args.regions.iter().map(String::as_str));
    }
    settings.products.limits.security_groups_per_region = args.max_security_groups;
    settings.products.limits.rules_per_group = args.max_rules_per_group;
    settings.products.limits.group_rules_per_group = args.max_group_rules_per_group;
    settings.products.limits.prefix_lists_per_region = args.max_prefix_lists;
    settings.products.limits.vpcs_per_region = args.max_vpcs;
    settings.products.limits.vswitches_per_vpc = args.max_vswitches_per_vpc;
    settings.products.limits.security_groups_per_instance = args.max_security_groups_per_instance;
    settings.products.limits.instances_per_group = args.max_instances_per_group;
    settings.products.limits.network_paths_per_account = args.max_network_paths;
    settings.products.limits.analyses_per_account = args.max_analyses;
    settings.products.instance_timings = InstanceTimings::uniform(
        std::time::Duration::try_from_secs_f64(args.instance_transition_secs)
            .context("--instance-transition-secs must be a non-negative number of seconds")?,
    );
    settings.products.placement =
        secgroup_domain::ops::placement::PlacementPolicy::from_secs(args.host_timeout_secs)
            .map_err(|e| anyhow::anyhow!("--host-timeout-secs: {e}"))?;
    settings.server.max_body_bytes = args.max_request_bytes;
    let gateway = &args.gateway;
    settings.server.header_read_timeout =
        seconds(gateway.header_read_timeout_secs, "header-read-timeout-secs")?;
    settings.server.body_read_timeout =
        seconds(gateway.body_read_timeout_secs, "body-read-timeout-secs")?;
    settings.server.idle_timeout = seconds(gateway.idle_timeout_secs, "idle-timeout-secs")?;
    settings.server.max_connections = gateway.max_connections.max(1);
    settings.server.max_in_flight = gateway.max_in_flight.max(1);
    settings.server.max_request_line_bytes = gateway.max_request_line_bytes;
    settings.server.max_header_bytes = gateway.max_header_bytes;
    settings.server.throttle.per_minute = gateway.throttle_per_minute;
    settings.server.throttle.per_action = gateway.throttle_action.iter().cloned().collect();
    settings.products.max_matrix_instances = args.max_matrix_instances;
    settings.products.client_token_retention = token_retention(args.client_token_retention_hours)?;
    if let Some(path) = &args.catalogue {
        settings.products.catalogue = std::sync::Arc::new(load_catalogue(path)?);
    }
    settings.products.strict_catalogue = args.strict_catalogue;
    settings.products.audit_retention = (args.audit_retention_days > 0)
        .then(|| chrono::Duration::days(i64::from(args.audit_retention_days)));

    if let Some(addr) = args.metrics_listen {
        let metrics = Arc::new(secgroup::metrics::Metrics::new());
        let exposition = secgroup::metrics::ServerExposition {
            metrics: metrics.clone(),
            store: store.clone(),
        };
        secgroup::spawn_metrics_listener(addr, Arc::new(exposition))
            .await
            .with_context(|| format!("binding the metrics listener {addr}"))?;
        settings.metrics = Some(metrics);
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    tracing::info!(listen = %listener.local_addr()?, database = %database::redact(&args.db.database), "secgroup serving");
    secgroup::serve(listener, store, settings, shutdown_signal()).await?;
    tracing::info!("secgroup stopped");
    Ok(())
}

async fn agent(args: AgentArgs) -> anyhow::Result<()> {
    // Registered first: a SIGTERM that arrives while the agent starts still ends it cleanly.
    let shutdown = registered_shutdown_signal()?;
    let _log_guard = init_logging();
    let timings = InstanceTimings::uniform(
        std::time::Duration::try_from_secs_f64(args.instance_transition_secs)
            .context("--instance-transition-secs must be a non-negative number of seconds")?,
    );
    let store = database::open(&args.db.database)?;
    let placement =
        secgroup_domain::ops::placement::PlacementPolicy::from_secs(args.host_timeout_secs)
            .map_err(|e| anyhow::anyhow!("--host-timeout-secs: {e}"))?;
    let host = args.host.unwrap_or_else(secgroup_agent::host_name);
    let options = secgroup_agent::AgentOptions {
        agent_id: args.agent_id.unwrap_or_else(|| host.clone()),
        host,
        underlay: args.underlay_address,
        prefix: args.namespace_prefix,
        timings,
        keep: args.keep,
        heartbeat: secgroup_agent::heartbeat_for(placement.host_timeout),
        placement,
    };
    // SQLite: one row read every 10 ms (SQLite has no notifications; the read is one page
    // of a file the page cache holds, so the wait, not the read, is what a change pays).
    // PostgreSQL: LISTEN/NOTIFY, and a poll every second in case a notification was
    // missed (a lost connection).
    let wakeups = if secgroup_store_postgres::is_postgres_url(&args.db.database) {
        let wakeups = secgroup_agent::Wakeups::polling(std::time::Duration::from_secs(1));
        let notify = wakeups.notify.clone();
        secgroup_store_postgres::listen_revisions(&args.db.database, move |_| notify.notify_one());
        wakeups
    } else {
        secgroup_agent::Wakeups::polling(std::time::Duration::from_millis(10))
    };
    let observer: Arc<dyn secgroup_agent::AgentObserver> = match args.metrics_listen {
        Some(addr) => {
            let metrics = Arc::new(secgroup::metrics::agent::AgentMetrics::new());
            let exposition = secgroup::metrics::agent::AgentExposition {
                metrics: metrics.clone(),
                store: store.clone(),
            };
            secgroup::spawn_metrics_listener(addr, Arc::new(exposition))
                .await
                .with_context(|| format!("binding the metrics listener {addr}"))?;
            metrics
        }
        None => Arc::new(secgroup_agent::Unobserved),
    };
    tracing::info!(database = %database::redact(&args.db.database), agent_id = %options.agent_id, "secgroup agent starting");
    secgroup_agent::run(store, options, wakeups, observer, shutdown).await?;
    tracing::info!("secgroup agent stopped");
    Ok(())
}

/// The built-in catalogue with the file at `path` merged over it.
fn load_catalogue(path: &std::path::Path) -> anyhow::Result<Catalogue> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the catalogue {}", path.display()))?;
    Catalogue::parse(&text)
        .and_then(|file| Catalogue::builtin().merged(file))
        .with_context(|| format!("the catalogue {}", path.display()))
}

/// One line per request on stderr, written in batches ([`logging`]), so a request never
/// waits on the terminal, file or pipe behind stderr, nor wakes a thread. Lines still
/// pending are written when the returned guard drops.
fn init_logging() -> Option<logging::LogGuard> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SECGROUP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour codes only for a person at a terminal, never in a log file or pipe.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    match logging::batched(Box::new(std::io::stderr())) {
        Ok((writer, guard)) => {
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(writer)
                .with_ansi(ansi)
                .init();
            Some(guard)
        }
        // No thread for the flusher: write each line directly.
        Err(_) => {
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .with_ansi(ansi)
                .init();
            None
        }
    }
}

/// Makes the configured key exist, or generates one when the database holds none.
async fn bootstrap_key<S: Store>(store: &S) -> anyhow::Result<()> {
    let configured = match (
        std::env::var("SECGROUP_ACCESS_KEY_ID"),
        std::env::var("SECGROUP_ACCESS_KEY_SECRET"),
    ) {
        (Ok(id), Ok(secret)) if !id.is_empty() && !secret.is_empty() => Some((id, secret)),
        _ => None,
    };
    let outcome = store
        .write(move |tx| {
            let configured = configured
                .as_ref()
                .map(|(id, secret)| (id.as_str(), secret.as_str()));
            accounts::bootstrap_keys(tx, configured, Utc::now())
        })
        .await
        .map_err(|e: StoreError| anyhow::anyhow!(e))?;
    match outcome {
        Bootstrap::Generated(key) => {
            // Printed once, on stdout, so it can be captured; never logged.
            println!(
                "{}",
                serde_json::json!({"AccountId": key.account_id, "AccessKeyId": key.access_key_id, "AccessKeySecret": key.secret})
            );
            tracing::info!(access_key_id = %key.access_key_id, "generated the first AccessKey (printed above)");
        }
        Bootstrap::ConfiguredConflict => {
            tracing::warn!(
                "SECGROUP_ACCESS_KEY_ID exists with another secret or account; left unchanged"
            )
        }
        Bootstrap::Configured | Bootstrap::Existing => {}
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM, both handled from the moment this returns.
#[cfg(unix)]
fn registered_shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("handling SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("handling SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        tracing::info!("shutdown requested");
    })
}

#[cfg(not(unix))]
fn registered_shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    Ok(shutdown_signal())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::token_retention;

    #[test]
    fn client_token_retention_is_a_positive_number_of_hours() {
        assert_eq!(
            token_retention(24.0).ok(),
            Some(chrono::Duration::hours(24))
        );
        assert_eq!(
            token_retention(0.5).ok(),
            Some(chrono::Duration::minutes(30))
        );
        for refused in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e30] {
            assert!(token_retention(refused).is_err(), "{refused} refused");
        }
    }
}

//! `secgroup`: the ECS security-group API server and its operator commands.
#![forbid(unsafe_code)]

use std::net::SocketAddr;

use anyhow::Context;
use chrono::Utc;
use clap::{Args, Parser, Subcommand};
use secgroup::{database, Settings};
use secgroup_domain::ops::accounts::{self, Bootstrap};
use secgroup_domain::ops::Limits;
use secgroup_domain::regions::RegionCatalog;
use secgroup_domain::{Store, StoreError};

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
}

#[derive(Args)]
struct DatabaseArg {
    /// Database URL: sqlite://PATH.
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
    /// Largest request accepted, in bytes.
    #[arg(long, env = "SECGROUP_MAX_REQUEST_BYTES", default_value_t = 1024 * 1024)]
    max_request_bytes: usize,
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account with a new AccessKey and print it as JSON.
    Create(DatabaseArg),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Account(AccountCommand::Create(db)) => create_account(db).await,
        }
    })
}

async fn create_account(db: DatabaseArg) -> anyhow::Result<()> {
    let store = database::open(&db.database)?;
    let key = store
        .write(|tx| accounts::create_account(tx, false, Utc::now()))
        .await?;
    let out = serde_json::json!({
        "AccountId": key.account_id,
        "AccessKeyId": key.access_key_id,
        "AccessKeySecret": key.secret,
    });
    println!("{out}");
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SECGROUP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let store = database::open(&args.db.database)?;
    bootstrap_key(store.as_ref()).await?;

    let mut settings = Settings::default();
    if !args.regions.is_empty() {
        settings.ecs.regions = RegionCatalog::from_ids(args.regions.iter().map(String::as_str));
    }
    settings.ecs.limits.security_groups_per_region = args.max_security_groups;
    settings.ecs.limits.rules_per_group = args.max_rules_per_group;
    settings.ecs.limits.group_rules_per_group = args.max_group_rules_per_group;
    settings.ecs.limits.prefix_lists_per_region = args.max_prefix_lists;
    settings.server.max_body_bytes = args.max_request_bytes;

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    tracing::info!(listen = %listener.local_addr()?, database = %args.db.database, "secgroup serving");
    secgroup::serve(listener, store, settings, shutdown_signal()).await?;
    tracing::info!("secgroup stopped");
    Ok(())
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

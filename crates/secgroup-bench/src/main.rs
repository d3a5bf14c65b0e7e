//! `secgroup-bench`: starts a bare axum server and the real `secgroup` server as child
//! processes on loopback, drives V1-signed requests at both, and prints req/s, p50/p99,
//! errors, the ratio to the bare server and the idle RSS, with PASS/MISS targets.
//!
//! ```text
//! scripts/bench.sh                                  # release build + every scenario, 10 s each
//! secgroup-bench --duration-secs 3 --json out.json  # shorter, figures also as JSON
//! secgroup-bench --scenario bare,describe --connections 64 --workdir /dev/shm
//! secgroup-bench --database postgres://u@db/fresh --nodes 2   # two nodes, one database
//! ```
//! The process fails only when it cannot measure (a server does not start, setup fails);
//! missed targets and errored requests are reported, not fatal.
#![forbid(unsafe_code)]

mod child;
mod client;
mod cpu;
mod dataplane;
mod hello;
mod hosts;
mod instance_scenarios;
mod instructions;
mod load;
mod reach_scenarios;
mod report;
mod scenario;
mod signing;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use crate::child::{free_loopback_addr, ServerProcess};
use crate::client::ApiClient;
use crate::cpu::CpuSnapshot;
use crate::load::LoadConfig;
use crate::report::{Environment, Report, Row, Rss};
use crate::scenario::{Scenario, SetupCtx, Target};
use crate::signing::Signer;

const ACCESS_KEY_ID: &str = "benchid";
const ACCESS_KEY_SECRET: &str = "benchsecret";

#[derive(Parser, Debug)]
#[command(name = "secgroup-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    bench: BenchArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The bare baseline server (started by the benchmark itself).
    #[command(hide = true)]
    HelloServer {
        #[arg(long)]
        listen: SocketAddr,
    },
    /// Server instructions per request under valgrind's callgrind, this server against a
    /// baseline binary (repeatable on a busy machine; see BENCHMARKS.md).
    Instructions(instructions::InstructionArgs),
    /// The data plane's figures (root only): `secgroup serve` and `secgroup agent` on one
    /// SQLite file; see BENCHMARKS.md.
    Dataplane(dataplane::DataplaneArgs),
    /// The data plane across hosts (root only): one `secgroup serve`, one `secgroup agent`
    /// per host namespace, an underlay between them; see BENCHMARKS.md.
    Hosts(hosts::HostsArgs),
}

#[derive(clap::Args, Debug)]
struct BenchArgs {
    /// Concurrent keep-alive connections (one task each).
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 10.0)]
    duration_secs: f64,
    /// Unmeasured seconds before each scenario.
    #[arg(long, default_value_t = 2.0)]
    warmup_secs: f64,
    /// The secgroup server binary (default: `secgroup` next to this executable).
    #[arg(long)]
    secgroup_bin: Option<PathBuf>,
    /// Also write the figures to this JSON file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Scenarios to run, by name (default: all): bare, describe, modify.
    #[arg(long = "scenario", value_delimiter = ',')]
    scenarios: Vec<String>,
    /// RegionId of every request.
    #[arg(long, default_value = "cn-hangzhou")]
    region_id: String,
    /// Where the temporary directory with the database and server logs goes (default: the
    /// system's temp dir). E.g. /dev/shm to take the disk's fsync out of the figures.
    #[arg(long)]
    workdir: Option<PathBuf>,
    /// How long the servers may take to accept connections.
    #[arg(long, default_value_t = 30.0)]
    startup_timeout_secs: f64,
    /// The database of the secgroup server(s), passed to `serve --database` (default: a
    /// new SQLite file in the work directory). A PostgreSQL database should be empty: the
    /// setup creates groups, and the group quota is 1,000.
    #[arg(long)]
    database: Option<String>,
    /// secgroup servers to start, all on `--database` (which must then be PostgreSQL when
    /// more than one); the load generator's connections go to them in turn.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::HelloServer { listen }) => hello::serve(listen).await,
        Some(Command::Instructions(args)) => {
            let signer = Signer {
                access_key_id: ACCESS_KEY_ID.into(),
                access_key_secret: ACCESS_KEY_SECRET.into(),
                region_id: cli.bench.region_id.clone(),
            };
            let serve = instructions::ServeArgs {
                args: serve_args,
                envs: SERVE_ENVS.to_vec(),
            };
            instructions::run(args, signer, serve).await
        }
        Some(Command::Dataplane(args)) => dataplane::run(args).await,
        Some(Command::Hosts(args)) => hosts::run(args).await,
        None => bench(cli.bench).await,
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("secgroup-bench: error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The server's environment: the benchmark's AccessKey.
const SERVE_ENVS: [(&str, &str); 2] = [
    ("SECGROUP_ACCESS_KEY_ID", ACCESS_KEY_ID),
    ("SECGROUP_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET),
];

/// `secgroup serve` on `addr` over `database`, with the quotas the scenarios need.
fn serve_args(addr: SocketAddr, database: &str) -> Vec<String> {
    [
        "serve",
        "--listen",
        &addr.to_string(),
        "--database",
        database,
        // The rule scenarios keep groups of 1,000 rules, above the default quota.
        "--max-rules-per-group",
        "5000",
        // RunInstances with Amount=100 fills groups far past the default 6,000.
        "--max-instances-per-group",
        "100000000",
        "--max-security-groups",
        "1000",
        // Every NIS analysis is stored: far more than the default 1,000 per account.
        "--max-analyses",
        "100000000",
    ]
    .map(String::from)
    .to_vec()
}

fn selected(args: &BenchArgs) -> Result<Vec<Scenario>> {
    let all = scenario::all();
    if args.scenarios.is_empty() {
        return Ok(all);
    }
    for name in &args.scenarios {
        if !all.iter().any(|s| s.name == name) {
            let known: Vec<_> = all.iter().map(|s| s.name).collect();
            bail!("unknown scenario {name:?}; known: {}", known.join(", "));
        }
    }
    Ok(all
        .into_iter()
        .filter(|s| args.scenarios.iter().any(|n| n == s.name))
        .collect())
}

fn secs(value: f64, flag: &str) -> Result<Duration> {
    Duration::try_from_secs_f64(value)
        .with_context(|| format!("{flag} must be a non-negative number of seconds"))
}

/// CPU time of all these processes together (`None` if one cannot be read).
fn cpu_time(servers: &[ServerProcess]) -> Option<Duration> {
    servers.iter().map(ServerProcess::cpu_time).sum()
}

fn mib(bytes: Option<u64>) -> Option<f64> {
    bytes.map(|b| b as f64 / (1024.0 * 1024.0))
}

async fn bench(args: BenchArgs) -> Result<()> {
    if args.connections == 0 {
        bail!("--connections must be at least 1");
    }
    if args.nodes == 0 {
        bail!("--nodes must be at least 1");
    }
    let postgres = args
        .database
        .as_deref()
        .is_some_and(|d| d.starts_with("postgres://") || d.starts_with("postgresql://"));
    if args.nodes > 1 && !postgres {
        bail!("--nodes above 1 needs --database postgres://… (nodes share a PostgreSQL database)");
    }
    let config = LoadConfig {
        connections: args.connections,
        warmup: secs(args.warmup_secs, "--warmup-secs")?,
        duration: secs(args.duration_secs, "--duration-secs")?,
    };
    if config.duration.is_zero() {
        bail!("--duration-secs must be positive");
    }
    let startup_timeout = secs(args.startup_timeout_secs, "--startup-timeout-secs")?;
    let scenarios = selected(&args)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix("secgroup-bench-");
    let workdir = match &args.workdir {
        Some(dir) => builder.tempdir_in(dir),
        None => builder.tempdir(),
    }
    .context("creating the work directory")?;
    let this_exe = std::env::current_exe().context("locating the current executable")?;
    let signer = Arc::new(Signer {
        access_key_id: ACCESS_KEY_ID.into(),
        access_key_secret: ACCESS_KEY_SECRET.into(),
        region_id: args.region_id.clone(),
    });

    // The real server(s) first, so that the idle RSS is taken before any load.
    let mut rss = Rss::default();
    let mut secgroup: Vec<ServerProcess> = Vec::new();
    if scenarios.iter().any(|s| s.target == Target::Secgroup) {
        let bin = match &args.secgroup_bin {
            Some(bin) => bin.clone(),
            None => this_exe.with_file_name("secgroup"),
        };
        if !bin.exists() {
            bail!(
                "no secgroup server at {} (build it: cargo build --release -p secgroup; \
                 or pass --secgroup-bin PATH, or run only --scenario bare)",
                bin.display()
            );
        }
        let database = match &args.database {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", workdir.path().join("bench.sqlite").display()),
        };
        for node in 0..args.nodes {
            let addr = free_loopback_addr()?;
            let serve_args = serve_args(addr, &database);
            let envs = SERVE_ENVS;
            // Node 0 keeps the names of a one-node run.
            let (name, log) = match node {
                0 => ("secgroup".to_string(), "secgroup.log".to_string()),
                n => (format!("secgroup-{n}"), format!("secgroup-{n}.log")),
            };
            let log = workdir.path().join(log);
            eprintln!("starting {} serve --listen {addr}", bin.display());
            let server =
                ServerProcess::spawn(&name, &bin, &serve_args, &envs, addr, log, startup_timeout)
                    .await?;
            secgroup.push(server);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        // Of the first node (every node holds the same).
        rss.secgroup_startup_mb = mib(secgroup[0].rss_bytes());
    }
    let mut bare: Vec<ServerProcess> = Vec::new();
    if scenarios.iter().any(|s| s.target == Target::Bare) {
        let addr = free_loopback_addr()?;
        let hello_args = [
            "hello-server".to_string(),
            "--listen".into(),
            addr.to_string(),
        ];
        let log = workdir.path().join("hello.log");
        bare.push(
            ServerProcess::spawn(
                "hello-server",
                &this_exe,
                &hello_args,
                &[],
                addr,
                log,
                startup_timeout,
            )
            .await?,
        );
    }

    let api = match secgroup.first() {
        Some(server) => Some(ApiClient::connect(server.addr, (*signer).clone()).await?),
        None => None,
    };
    let mut ctx = SetupCtx::new(api, args.region_id.clone());
    if !secgroup.is_empty() {
        ctx.security_group_id = ctx
            .create_security_group("secgroup-bench")
            .await
            .context("setup: CreateSecurityGroup")?;
        eprintln!("setup: created {}", ctx.security_group_id);
    }

    let mut rows = Vec::new();
    for scenario in scenarios {
        let servers: &mut [ServerProcess] = match scenario.target {
            Target::Bare => bare.as_mut_slice(),
            Target::Secgroup => secgroup.as_mut_slice(),
        };
        if servers.is_empty() {
            bail!("the scenario's server was not started");
        }
        let gen = (scenario.setup)(&mut ctx)
            .await
            .with_context(|| format!("setup of scenario {}", scenario.name))?;
        let names: Vec<&str> = servers.iter().map(|s| s.name.as_str()).collect();
        eprintln!(
            "running {} against {} ({}s warmup + {}s)...",
            scenario.label,
            names.join(" + "),
            args.warmup_secs,
            args.duration_secs
        );
        let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr).collect();
        let (before, started) = (CpuSnapshot::take(cpu_time(servers)), Instant::now());
        let connections = scenario.connections.unwrap_or(config.connections);
        let scenario_config = LoadConfig {
            connections,
            ..config
        };
        let result = load::run(&addrs, signer.clone(), gen, scenario_config).await?;
        let cpu = before.usage_until(&CpuSnapshot::take(cpu_time(servers)), started.elapsed());
        for server in servers.iter_mut() {
            server.check_alive()?;
        }
        eprintln!(
            "  {:.0} req/s, p99 {:.2} ms, {} errors",
            result.requests_per_sec(),
            result.percentile_ms(99.0),
            result.errors
        );
        rows.push(Row {
            name: scenario.name,
            label: scenario.label,
            target: scenario.target,
            min_ratio_to_bare: scenario.min_ratio_to_bare,
            max_p50_ms: scenario.max_p50_ms,
            connections,
            result,
            cpu,
        });
    }

    // Let the servers settle (keep-alive connections closed, tasks gone) before the RSS.
    drop(ctx);
    tokio::time::sleep(Duration::from_secs(1)).await;
    rss.secgroup_after_mb = secgroup.first().and_then(|s| mib(s.rss_bytes()));
    rss.bare_after_mb = bare.first().and_then(|s| mib(s.rss_bytes()));
    for server in secgroup.into_iter().chain(bare) {
        server.stop().await;
    }

    let report = Report {
        env: Environment {
            nproc: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            cpu_model: report::cpu_model(),
            connections: args.connections,
            warmup_secs: args.warmup_secs,
            duration_secs: args.duration_secs,
            database: if postgres { "postgresql" } else { "sqlite" },
            nodes: args.nodes,
        },
        rows,
        rss,
    };
    report.print();
    if let Some(path) = &args.json {
        report.write_json(path)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

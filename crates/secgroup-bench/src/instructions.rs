//! `secgroup-bench instructions`: the server's CPU instructions per request, counted by
//! valgrind's callgrind, for the current server and a baseline binary in the same run.
//!
//! Seconds on a shared machine move by tens of percent with what else runs; instruction
//! counts of the same binary on the same requests repeat to a fraction of a percent, so a
//! "within 5 %" question is answered here. Each (binary, scenario) runs twice on a fresh
//! server under callgrind: set-up, warm-up and N requests, then the same with 2N; the
//! difference of the two totals over N is what one request costs, with start-up, set-up
//! and warm-up cancelled out. Requests go one at a time over one keep-alive connection,
//! paced (`--pace-ms`): the server's timer-driven work (the writer holding back nonce
//! records for a few milliseconds to commit them together, the request log's flusher) then
//! runs the same number of times per request in every run and in both binaries, instead of
//! as often as the wall time of a request slowed down some 50 times by callgrind allows.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use hyper::StatusCode;

use crate::child::{free_loopback_addr, ServerProcess};
use crate::client::{ApiClient, Connection};
use crate::scenario::{self, Scenario, SetupCtx, Target};
use crate::signing::Signer;

#[derive(clap::Args, Debug)]
pub struct InstructionArgs {
    /// The baseline secgroup server binary (for example a release build of an earlier commit).
    #[arg(long)]
    pub baseline_bin: PathBuf,
    /// The secgroup server binary to compare (default: `secgroup` next to this executable).
    #[arg(long)]
    pub secgroup_bin: Option<PathBuf>,
    /// Scenarios to count, by name (secgroup scenarios only).
    #[arg(
        long = "scenario",
        value_delimiter = ',',
        default_value = "describe,modify,describe1000"
    )]
    pub scenarios: Vec<String>,
    /// Measured requests N (the second run of each pair sends 2N).
    #[arg(long, default_value_t = 300)]
    pub requests: u64,
    /// Requests before the measured ones (both runs of a pair send them).
    #[arg(long, default_value_t = 50)]
    pub warmup_requests: u64,
    /// How long a server under valgrind may take to accept connections.
    #[arg(long, default_value_t = 120.0)]
    pub startup_timeout_secs: f64,
    /// Milliseconds between one answer and the next request (0: none). Longer than the
    /// writer's hold-back of nonce records (10 ms), so that each request's record commits on
    /// its own in both binaries.
    #[arg(long, default_value_t = 30)]
    pub pace_ms: u64,
    /// Also write the figures to this JSON file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Keep the servers' callgrind files (and databases, logs) in this directory, to read
    /// with `callgrind_annotate` (default: a temporary directory, removed at the end).
    #[arg(long)]
    pub keep_in: Option<PathBuf>,
}

/// One scenario's figures: instructions per request of each binary.
struct Counted {
    scenario: &'static str,
    label: &'static str,
    baseline: f64,
    current: f64,
}

pub async fn run(args: InstructionArgs, signer: Signer, serve_args: ServeArgs) -> Result<()> {
    if args.requests == 0 {
        bail!("--requests must be at least 1");
    }
    let valgrind = which("valgrind").context(
        "valgrind is not on the PATH (Debian package valgrind: apt-get install valgrind)",
    )?;
    let current = match &args.secgroup_bin {
        Some(bin) => bin.clone(),
        None => std::env::current_exe()?.with_file_name("secgroup"),
    };
    for bin in [&args.baseline_bin, &current] {
        if !bin.exists() {
            bail!("no secgroup server at {}", bin.display());
        }
    }
    let startup = Duration::try_from_secs_f64(args.startup_timeout_secs)
        .context("--startup-timeout-secs must be a non-negative number of seconds")?;
    let all = scenario::all();
    let mut chosen = Vec::new();
    for name in &args.scenarios {
        match all.iter().find(|s| s.name == name) {
            Some(s) if s.target == Target::Secgroup => chosen.push(s),
            Some(_) => bail!("scenario {name:?} does not target the secgroup server"),
            None => bail!("unknown scenario {name:?}"),
        }
    }
    let temporary;
    let workdir = match &args.keep_in {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            dir.clone()
        }
        None => {
            temporary = tempfile::Builder::new()
                .prefix("secgroup-bench-instructions-")
                .tempdir()
                .context("creating the work directory")?;
            temporary.path().to_path_buf()
        }
    };
    let counter = Counter {
        valgrind,
        workdir,
        signer: Arc::new(signer),
        serve_args,
        startup,
        warmup: args.warmup_requests,
        requests: args.requests,
        pace: Duration::from_millis(args.pace_ms),
    };
    let mut rows = Vec::new();
    for scenario in chosen {
        let baseline = counter.per_request(&args.baseline_bin, scenario).await?;
        let current = counter.per_request(&current, scenario).await?;
        eprintln!(
            "  {}: baseline {baseline:.0}, current {current:.0} instructions per request",
            scenario.name
        );
        rows.push(Counted {
            scenario: scenario.name,
            label: scenario.label,
            baseline,
            current,
        });
    }
    print(&rows, &args, &current);
    if let Some(path) = &args.json {
        let json: Vec<_> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "scenario": r.scenario,
                    "baseline_instructions_per_request": r.baseline,
                    "current_instructions_per_request": r.current,
                    "ratio": r.current / r.baseline,
                })
            })
            .collect();
        std::fs::write(path, serde_json::to_string_pretty(&json)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn print(rows: &[Counted], args: &InstructionArgs, current: &Path) {
    println!(
        "server instructions per request (callgrind; {} measured after {} warm-up, one connection, \
         {} ms between requests; the SQLite checkpoint thread left out)",
        args.requests, args.warmup_requests, args.pace_ms
    );
    println!("baseline: {}", args.baseline_bin.display());
    println!("current:  {}", current.display());
    println!(
        "{:<34} {:>14} {:>14} {:>8}",
        "scenario", "baseline", "current", "ratio"
    );
    for r in rows {
        println!(
            "{:<34} {:>14.0} {:>14.0} {:>7.1}%",
            r.label,
            r.baseline,
            r.current,
            100.0 * r.current / r.baseline
        );
    }
}

/// The `serve` arguments and environment the benchmark starts servers with.
pub struct ServeArgs {
    pub args: fn(std::net::SocketAddr, &str) -> Vec<String>,
    pub envs: Vec<(&'static str, &'static str)>,
}

struct Counter {
    valgrind: PathBuf,
    workdir: PathBuf,
    signer: Arc<Signer>,
    serve_args: ServeArgs,
    startup: Duration,
    warmup: u64,
    requests: u64,
    pace: Duration,
}

impl Counter {
    /// Instructions per measured request of `bin` on `scenario`: (total with 2N − total
    /// with N) / N.
    async fn per_request(&self, bin: &Path, scenario: &Scenario) -> Result<f64> {
        let once = self.total(bin, scenario, self.requests).await?;
        let twice = self.total(bin, scenario, 2 * self.requests).await?;
        if twice <= once {
            bail!(
                "{}: {twice} instructions with {} requests, not more than {once} with {}",
                scenario.name,
                2 * self.requests,
                self.requests
            );
        }
        Ok((twice - once) as f64 / self.requests as f64)
    }

    /// Every instruction a fresh server under callgrind runs from start to exit, serving
    /// the scenario's set-up, the warm-up and `measured` requests.
    async fn total(&self, bin: &Path, scenario: &Scenario, measured: u64) -> Result<u64> {
        let addr = free_loopback_addr()?;
        let binary = bin
            .file_name()
            .map_or("bin".into(), |n| n.to_string_lossy());
        let run = format!("{}-{binary}-{measured}-{}", scenario.name, run_number());
        let database = format!(
            "sqlite://{}",
            self.workdir.join(format!("{run}.db")).display()
        );
        let out = self.workdir.join(format!("{run}.callgrind"));
        let mut args = vec![
            "--tool=callgrind".to_string(),
            format!("--callgrind-out-file={}", out.display()),
            bin.display().to_string(),
        ];
        args.extend((self.serve_args.args)(addr, &database));
        let log = self.workdir.join(format!("{run}.log"));
        eprintln!(
            "{}: {} under callgrind, {measured} requests",
            scenario.name,
            bin.display()
        );
        let server = ServerProcess::spawn(
            "secgroup (callgrind)",
            &self.valgrind,
            &args,
            &self.serve_args.envs,
            addr,
            log,
            self.startup,
        )
        .await?;
        let api = ApiClient::connect(addr, (*self.signer).clone()).await?;
        let mut ctx = SetupCtx::new(Some(api), self.signer.region_id.clone());
        ctx.security_group_id = ctx.create_security_group("secgroup-bench").await?;
        let gen = (scenario.setup)(&mut ctx)
            .await
            .with_context(|| format!("setup of scenario {}", scenario.name))?;
        drop(ctx);
        let mut conn = Connection::open(addr).await?;
        for seq in 0..self.warmup + measured {
            let (status, body) = conn.post(&self.signer.signed_path(&gen(seq))).await?;
            if status != StatusCode::OK {
                bail!(
                    "{}: HTTP {status}: {}",
                    scenario.name,
                    String::from_utf8_lossy(&body)
                );
            }
            if !self.pace.is_zero() {
                tokio::time::sleep(self.pace).await;
            }
        }
        drop(conn);
        let status = server.terminate(Duration::from_secs(120)).await?;
        if !status.success() {
            bail!("{}: the server exited with {status}", scenario.name);
        }
        let text = std::fs::read_to_string(&out)
            .with_context(|| format!("reading callgrind's {}", out.display()))?;
        let total =
            callgrind_total(&text).with_context(|| format!("no total in {}", out.display()))?;
        Ok(total.saturating_sub(checkpoint_thread(&out)?))
    }
}

/// The run's instruction total: callgrind's `summary:` line (or `totals:`).
fn callgrind_total(text: &str) -> Option<u64> {
    let line = text
        .lines()
        .find(|l| l.starts_with("summary:"))
        .or_else(|| text.lines().find(|l| l.starts_with("totals:")))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// What the SQLite store's checkpoint thread ran (the inclusive cost of its loop, read with
/// `callgrind_annotate`). It checkpoints at most every 100 ms of wall time, whatever the
/// request rate, so under callgrind (some 50 times slower) it would be charged to each
/// request some 50 times over, and by how busy the machine is: it is left out.
fn checkpoint_thread(out: &Path) -> Result<u64> {
    let annotated = std::process::Command::new("callgrind_annotate")
        .args(["--inclusive=yes", "--threshold=100"])
        .arg(out)
        .output()
        .context("running callgrind_annotate (Debian package valgrind)")?;
    if !annotated.status.success() {
        bail!("callgrind_annotate failed on {}", out.display());
    }
    Ok(inclusive_cost(
        &String::from_utf8_lossy(&annotated.stdout),
        CHECKPOINT_LOOP,
    ))
}

/// The checkpoint thread's function, as callgrind names it.
const CHECKPOINT_LOOP: &str = "secgroup_store_sqlite::checkpoint::run";

/// The inclusive cost `callgrind_annotate --inclusive=yes` gives `function` (0 if absent):
/// lines read `  1,234 (12.3%)  file:function [object]`.
fn inclusive_cost(annotated: &str, function: &str) -> u64 {
    annotated
        .lines()
        .filter(|line| {
            line.split_once(':')
                .is_some_and(|(_, f)| f.split(" [").next() == Some(function))
        })
        .filter_map(|line| line.split_whitespace().next())
        .filter_map(|count| count.replace(',', "").parse::<u64>().ok())
        .max()
        .unwrap_or(0)
}

/// A short name unique within one benchmark run.
fn run_number() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_callgrinds_total() {
        let text = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nfl=x\n1 5\nsummary: 123456\ntotals: 123456\n";
        assert_eq!(callgrind_total(text), Some(123456));
        assert_eq!(callgrind_total("events: Ir\ntotals: 42\n"), Some(42));
        assert_eq!(callgrind_total("events: Ir\n"), None);
    }

    #[test]
    fn reads_a_functions_inclusive_cost() {
        let annotated = "\
   9,876,543 (100.0%)  PROGRAM TOTALS
   1,234,567 (12.50%)  crates/secgroup-store-sqlite/src/checkpoint.rs:secgroup_store_sqlite::checkpoint::run [/x/secgroup]
       5,000 ( 0.05%)  crates/secgroup-store-sqlite/src/checkpoint.rs:secgroup_store_sqlite::checkpoint::run_once [/x/secgroup]
";
        assert_eq!(inclusive_cost(annotated, CHECKPOINT_LOOP), 1_234_567);
        assert_eq!(inclusive_cost(annotated, "main"), 0);
    }
}

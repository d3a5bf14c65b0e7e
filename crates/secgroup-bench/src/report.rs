//! The figures: a table with targets (PASS/MISS, never a failing exit) and a JSON file.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use crate::cpu::CpuUsage;
use crate::load::LoadResult;
use crate::scenario::Target;

/// p99 target for secgroup scenarios, in milliseconds (defined at 32 connections).
pub const P99_TARGET_MS: f64 = 10.0;
/// Idle RSS target for the secgroup server, in MiB.
pub const RSS_TARGET_MB: f64 = 30.0;
/// Above this much CPU used by other processes, a scenario's figures are flagged.
const OTHER_CPU_WARN_PCT: f64 = 20.0;

pub struct Row {
    pub name: &'static str,
    pub label: &'static str,
    pub target: Target,
    pub min_ratio_to_bare: Option<f64>,
    /// Median latency target of the scenario itself, if it has one.
    pub max_p50_ms: Option<f64>,
    /// Connections this scenario ran with.
    pub connections: usize,
    pub result: LoadResult,
    /// CPU of the server, this load generator and the rest of the machine over warmup +
    /// duration, in % of one core (on a small machine they all share the same cores).
    pub cpu: CpuUsage,
}

pub struct Environment {
    pub nproc: usize,
    pub cpu_model: String,
    pub connections: usize,
    pub warmup_secs: f64,
    pub duration_secs: f64,
    /// The secgroup servers' database kind (`sqlite` or `postgresql`), and how many
    /// servers shared it (the load spread over them in turn).
    pub database: &'static str,
    pub nodes: usize,
}

#[derive(Default)]
pub struct Rss {
    pub secgroup_startup_mb: Option<f64>,
    pub secgroup_after_mb: Option<f64>,
    pub bare_after_mb: Option<f64>,
}

pub struct Check {
    pub what: String,
    pub target: String,
    pub actual: String,
    pub pass: bool,
}

pub struct Report {
    pub env: Environment,
    pub rows: Vec<Row>,
    pub rss: Rss,
}

impl Report {
    fn bare_rps(&self) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.target == Target::Bare)
            .map(|r| r.result.requests_per_sec())
    }

    fn ratio(&self, row: &Row) -> Option<f64> {
        let bare = self.bare_rps()?;
        (row.target != Target::Bare && bare > 0.0).then(|| row.result.requests_per_sec() / bare)
    }

    pub fn checks(&self) -> Vec<Check> {
        let mut checks = Vec::new();
        for row in &self.rows {
            if let (Some(min), Some(ratio)) = (row.min_ratio_to_bare, self.ratio(row)) {
                checks.push(Check {
                    what: format!("{} req/s vs bare", row.label),
                    target: format!(">= {:.0} %", min * 100.0),
                    actual: format!("{:.1} %", ratio * 100.0),
                    pass: ratio >= min,
                });
            }
            // The p99 target belongs to the throughput scenarios (those compared with bare).
            if row.target == Target::Secgroup && row.min_ratio_to_bare.is_some() {
                let p99 = row.result.percentile_ms(99.0);
                let at = if row.connections == 32 {
                    String::new()
                } else {
                    format!(" (target is for 32 conns, ran {})", row.connections)
                };
                checks.push(Check {
                    what: format!("{} p99", row.label),
                    target: format!("< {P99_TARGET_MS} ms{at}"),
                    actual: format!("{p99:.2} ms"),
                    pass: p99 < P99_TARGET_MS,
                });
            }
            if let Some(max) = row.max_p50_ms {
                let p50 = row.result.percentile_ms(50.0);
                checks.push(Check {
                    what: format!("{} p50", row.label),
                    target: format!("< {max} ms"),
                    actual: format!("{p50:.2} ms"),
                    pass: p50 < max,
                });
            }
            checks.push(Check {
                what: format!("{} errors", row.label),
                target: "0".into(),
                actual: row.result.errors.to_string(),
                pass: row.result.errors == 0 && row.result.requests > 0,
            });
        }
        for (what, mb) in [
            (
                "secgroup idle RSS after startup",
                self.rss.secgroup_startup_mb,
            ),
            ("secgroup idle RSS after run", self.rss.secgroup_after_mb),
        ] {
            if let Some(mb) = mb {
                checks.push(Check {
                    what: what.into(),
                    target: format!("< {RSS_TARGET_MB} MB"),
                    actual: format!("{mb:.1} MB"),
                    pass: mb < RSS_TARGET_MB,
                });
            }
        }
        checks
    }

    pub fn print(&self) {
        let e = &self.env;
        println!();
        println!(
            "secgroup-bench: {} connections, {}s warmup + {}s per scenario, {} CPUs ({})",
            e.connections, e.warmup_secs, e.duration_secs, e.nproc, e.cpu_model
        );
        println!(
            "secgroup: {} node(s) on {} (\"srv CPU\" is theirs together; a database server's \
             CPU is in \"other\")",
            e.nodes, e.database
        );
        println!();
        println!(
            "{:<32} {:>10} {:>9} {:>9} {:>9} {:>8} {:>9} {:>8} {:>8} {:>8}",
            "scenario",
            "req/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "errors",
            "vs bare",
            "srv CPU",
            "gen CPU",
            "other"
        );
        println!("{}", "-".repeat(119));
        for row in &self.rows {
            let r = &row.result;
            let ratio = self
                .ratio(row)
                .map(|x| format!("{:.1} %", x * 100.0))
                .unwrap_or_else(|| "-".into());
            let max_ms = r.latencies_us.last().copied().unwrap_or(0) as f64 / 1000.0;
            let pct = |p: Option<f64>| p.map(|p| format!("{p:.0} %")).unwrap_or_else(|| "-".into());
            println!(
                "{:<32} {:>10.0} {:>9.3} {:>9.3} {:>9.2} {:>8} {:>9} {:>8} {:>8} {:>8}",
                row.label,
                r.requests_per_sec(),
                r.percentile_ms(50.0),
                r.percentile_ms(99.0),
                max_ms,
                r.errors,
                ratio,
                pct(row.cpu.server_pct),
                pct(row.cpu.client_pct),
                pct(row.cpu.other_pct)
            );
        }
        println!(
            "(CPU: % of one core over warmup + run; \"other\": the rest of the machine, ~0 when quiet)"
        );
        for row in &self.rows {
            if let Some(other) = row.cpu.other_pct.filter(|p| *p > OTHER_CPU_WARN_PCT) {
                println!(
                    "!! other processes used {other:.0} % CPU during {}: its figures are disturbed",
                    row.label
                );
            }
        }
        println!();
        let mb = |m: Option<f64>| {
            m.map(|m| format!("{m:.1} MB"))
                .unwrap_or_else(|| "n/a".into())
        };
        println!(
            "idle RSS: secgroup {} after startup, {} after run; bare server {} after run",
            mb(self.rss.secgroup_startup_mb),
            mb(self.rss.secgroup_after_mb),
            mb(self.rss.bare_after_mb)
        );
        for row in self.rows.iter().filter(|r| r.result.errors > 0) {
            let r = &row.result;
            println!();
            println!(
                "!!!!! ERRORS in scenario {}: {} of {} requests failed !!!!!",
                row.label, r.errors, r.requests
            );
            println!(
                "!!!!! by status: {:?}, transport: {}",
                r.error_statuses, r.transport_errors
            );
            if let Some(first) = &r.first_error {
                println!("!!!!! first: {first}");
            }
        }
        println!();
        println!("targets:");
        for c in self.checks() {
            let verdict = if c.pass { "PASS" } else { "MISS" };
            println!(
                "  [{verdict}] {:<48} target {:<40} actual {}",
                c.what, c.target, c.actual
            );
        }
    }

    pub fn to_json(&self) -> Value {
        let scenarios: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let r = &row.result;
                let target = match row.target {
                    Target::Bare => "bare",
                    Target::Secgroup => "secgroup",
                };
                let statuses: serde_json::Map<String, Value> = r
                    .error_statuses
                    .iter()
                    .map(|(code, n)| (code.to_string(), json!(n)))
                    .collect();
                json!({
                    "name": row.name,
                    "label": row.label,
                    "target": target,
                    "requests": r.requests,
                    "requests_per_sec": r.requests_per_sec(),
                    "p50_ms": r.percentile_ms(50.0),
                    "p90_ms": r.percentile_ms(90.0),
                    "p99_ms": r.percentile_ms(99.0),
                    "max_ms": r.latencies_us.last().copied().unwrap_or(0) as f64 / 1000.0,
                    "errors": r.errors,
                    "error_statuses": statuses,
                    "transport_errors": r.transport_errors,
                    "first_error": r.first_error,
                    "ratio_to_bare": self.ratio(row),
                    "min_ratio_to_bare": row.min_ratio_to_bare,
                    "max_p50_ms": row.max_p50_ms,
                    "server_cpu_pct": row.cpu.server_pct,
                    "loadgen_cpu_pct": row.cpu.client_pct,
                    "other_cpu_pct": row.cpu.other_pct,
                })
            })
            .collect();
        let checks: Vec<Value> = self
            .checks()
            .into_iter()
            .map(
                |c| json!({"what": c.what, "target": c.target, "actual": c.actual, "pass": c.pass}),
            )
            .collect();
        json!({
            "environment": {
                "nproc": self.env.nproc,
                "cpu_model": self.env.cpu_model,
                "connections": self.env.connections,
                "warmup_secs": self.env.warmup_secs,
                "duration_secs": self.env.duration_secs,
                "database": self.env.database,
                "nodes": self.env.nodes,
            },
            "scenarios": scenarios,
            "idle_rss_mb": {
                "secgroup_after_startup": self.rss.secgroup_startup_mb,
                "secgroup_after_run": self.rss.secgroup_after_mb,
                "bare_after_run": self.rss.bare_after_mb,
            },
            "targets": checks,
        })
    }

    pub fn write_json(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(&self.to_json())?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
    }
}

/// The CPU model from /proc/cpuinfo (`model name`), or "unknown".
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

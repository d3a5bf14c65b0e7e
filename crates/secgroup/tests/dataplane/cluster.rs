//! Several hosts on one machine, as a platform team runs them: one PostgreSQL server of the
//! test's own, two `secgroup serve` nodes on it (loopback), and one `secgroup agent` per
//! host, each started inside its host's network namespace (`nsenter --net`), with its own
//! `--host`, `--underlay-address` and namespace prefix. The hosts are joined by the
//! underlay the test creates ([`Underlay`]); an agent reaches the database through the
//! server's Unix socket (its namespace has no route to the machine's loopback), by a
//! directory of its own that links to the socket's, so that one host can be cut off from
//! the database while the others and the API nodes keep it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::TestClient;
use crate::pg::{Databases, Node, ThrowawayPostgres, BIN};
pub use secgroup_dataplane::testkit::*;

pub const VERSION: &str = "x-secgroup-2026-11-01";

/// How long a host may stay silent before it is away, on the nodes and agents of a
/// cluster: short, so that tests of a host that went away do not wait long.
pub const HOST_TIMEOUT_SECS: &str = "4";

pub struct Cluster {
    pub underlay: Underlay,
    pub nodes: Vec<Node>,
    pub clients: Vec<TestClient>,
    /// The nodes' database URL (TCP on loopback).
    pub database: String,
    agents: Vec<Option<Child>>,
    /// Per host: the directory its agent's URL names, a link to the socket's directory.
    socket_links: Vec<PathBuf>,
    port: u16,
    db_name: String,
    prefix: String,
    logs: tempfile::TempDir,
    _dbs: Databases,
    pub postgres: ThrowawayPostgres,
}

impl Cluster {
    /// `hosts` hosts and two API nodes, every agent started and reporting; `None` (after a
    /// message) when the machine has no PostgreSQL.
    pub async fn start(test: &str, prefix: &str, hosts: u8) -> Option<Cluster> {
        let postgres = ThrowawayPostgres::start(test).await?;
        let dbs = Databases::new(postgres.url.clone());
        let database = dbs.create();
        let db_name = database
            .rsplit('/')
            .next()
            .expect("a database name")
            .to_owned();
        let port: u16 = postgres
            .url
            .rsplit(':')
            .next()
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .expect("a port in the server's URL");
        let args = ["--host-timeout-secs", HOST_TIMEOUT_SECS];
        let nodes = vec![
            Node::start(&database, &args).await,
            Node::start(&database, &args).await,
        ];
        let clients = nodes.iter().map(Node::client).collect();
        let logs = tempfile::tempdir().expect("tempdir");
        let underlay = Underlay::create(prefix, hosts);
        let socket_links = (1..=hosts)
            .map(|n| logs.path().join(format!("pg-h{n}")))
            .collect();
        let mut cluster = Cluster {
            underlay,
            nodes,
            clients,
            database,
            agents: (0..hosts).map(|_| None).collect(),
            socket_links,
            port,
            db_name,
            prefix: prefix.to_owned(),
            logs,
            _dbs: dbs,
            postgres,
        };
        for n in 0..usize::from(hosts) {
            cluster.reconnect(n);
            cluster.start_agent(n);
        }
        for n in 0..usize::from(hosts) {
            cluster.wait_for_report(n).await;
        }
        Some(cluster)
    }

    pub fn hosts(&self) -> usize {
        self.agents.len()
    }

    /// `host1`, `host2`, ...
    pub fn host_name(n: usize) -> String {
        format!("host{}", n + 1)
    }

    pub fn agent_id(n: usize) -> String {
        format!("agent-{}", Self::host_name(n))
    }

    /// The namespace prefix of host `n`'s agent.
    pub fn prefix_of(&self, n: usize) -> String {
        format!("{}{}-", self.prefix, n + 1)
    }

    /// The outside namespace of host `n`.
    pub fn outside_of(&self, n: usize) -> String {
        format!("{}outside", self.prefix_of(n))
    }

    fn agent_url(&self, n: usize) -> String {
        let dir = self.socket_links[n]
            .display()
            .to_string()
            .replace('/', "%2F");
        format!(
            "postgres://secgroup@{dir}:{}/{}?application_name={}",
            self.port,
            self.db_name,
            Self::agent_id(n)
        )
    }

    /// Starts host `n`'s agent (inside the host's namespace).
    pub fn start_agent(&mut self, n: usize) {
        assert!(self.agents[n].is_none(), "host {n}'s agent runs already");
        let (host_ns, underlay) = self.underlay.host(n);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.logs.path().join(format!("agent-h{}.log", n + 1)))
            .expect("agent log");
        // `nsenter --net`, not `ip netns exec`: the latter gives the process a mount
        // namespace of its own, where the namespaces the agent names would stay.
        let child = Command::new("nsenter")
            .arg(format!("--net=/run/netns/{host_ns}"))
            .args([BIN, "agent"])
            .args(["--database", &self.agent_url(n)])
            .args(["--host", &Self::host_name(n)])
            .args(["--underlay-address", &underlay.to_string()])
            .args(["--namespace-prefix", &self.prefix_of(n)])
            .args(["--agent-id", &Self::agent_id(n)])
            .args(["--host-timeout-secs", HOST_TIMEOUT_SECS])
            .env(
                "SECGROUP_LOG",
                std::env::var("SECGROUP_E2E_AGENT_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn secgroup agent");
        self.agents[n] = Some(child);
    }

    /// Sends `sig` (`-TERM`, `-KILL`) to host `n`'s agent and waits for it to exit.
    pub fn stop_agent(&mut self, n: usize, sig: &str) {
        if let Some(child) = self.agents[n].take() {
            crate::harness::signal_and_wait(child, sig);
        }
    }

    /// Cuts host `n` off from the database: its socket link leads nowhere, and its agent's
    /// open connections are ended by the server. The API nodes keep theirs.
    pub async fn disconnect(&self, n: usize) {
        let nowhere = self.logs.path().join(format!("nowhere-h{}", n + 1));
        std::fs::create_dir_all(&nowhere).expect("dir");
        relink(&self.socket_links[n], &nowhere);
        let url = self.postgres.url.clone();
        let app = Self::agent_id(n);
        tokio::task::spawn_blocking(move || {
            let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("admin");
            admin
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE application_name = $1",
                    &[&app],
                )
                .expect("terminate");
        })
        .await
        .expect("admin task");
    }

    /// Lets host `n` reach the database again.
    pub fn reconnect(&self, n: usize) {
        relink(&self.socket_links[n], self.postgres.socket_dir());
    }

    /// The data-plane status (JSON), from node `node`.
    pub async fn status(&self, node: usize) -> Value {
        let r = self.clients[node]
            .call_version(VERSION, "DescribeDataplaneStatus", &[])
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    }

    /// Host `n`'s agent row (`Null` while it has reported nothing).
    pub fn agent_row(status: &Value, n: usize) -> Value {
        status["Agents"]["Agent"]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .find(|a| a["AgentId"] == Self::agent_id(n).as_str())
            })
            .cloned()
            .unwrap_or(Value::Null)
    }

    async fn wait_for_report(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let row = Self::agent_row(&self.status(0).await, n);
            if row["Alive"] == true && row["LastAppliedTime"] != "" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "host {n}'s agent did not report: {row}\n{}",
                self.agent_log(n)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until every running agent in `hosts` applied `revision`.
    pub async fn applied_on(&self, hosts: &[usize], revision: u64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let status = self.status(0).await;
            let behind: Vec<usize> = hosts
                .iter()
                .copied()
                .filter(|&n| {
                    Self::agent_row(&status, n)["AppliedRevision"]
                        .as_u64()
                        .unwrap_or(0)
                        < revision
                })
                .collect();
            if behind.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "hosts {behind:?} did not apply revision {revision}: {status}\n{}",
                behind
                    .iter()
                    .map(|&n| self.agent_log(n))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until every running agent applied the revision current now (on node 0).
    pub async fn settled(&self) {
        let current = self.status(0).await["CurrentRevision"]
            .as_u64()
            .expect("revision");
        let running: Vec<usize> = (0..self.hosts())
            .filter(|&n| self.agents[n].is_some())
            .collect();
        self.applied_on(&running, current).await;
    }

    /// The host (0-based) an instance is placed on, from DescribeInstances' ManagedHostId.
    pub async fn host_of(&self, instance: &str) -> Option<usize> {
        let ids = format!("[\"{instance}\"]");
        let r = self.clients[0]
            .call("DescribeInstances", &[("InstanceIds", &ids)])
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let host = r.json()["Instances"]["Instance"][0]["AdditionalInfo"]["ManagedHostId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        (0..self.hosts()).find(|&n| Self::host_name(n) == host)
    }

    /// `action` through node `node`, which must answer 200.
    pub async fn ok_on(&self, node: usize, action: &str, params: &[(&str, &str)]) -> Value {
        let r = self.clients[node].call(action, params).await;
        assert_eq!(r.status, 200, "{action} {params:?}: {}", r.body);
        r.json()
    }

    /// The last lines of host `n`'s agent log.
    pub fn agent_log(&self, n: usize) -> String {
        let text = std::fs::read_to_string(self.logs.path().join(format!("agent-h{}.log", n + 1)))
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!(
            "--- host{} agent log ---\n{}",
            n + 1,
            lines[lines.len().saturating_sub(20)..].join("\n")
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Every agent cleans up what it made (SIGTERM), so no namespace is left.
        for n in 0..self.hosts() {
            self.reconnect(n);
            if let Some(mut agent) = self.agents[n].take() {
                let _ = Command::new("kill")
                    .args(["-TERM", &agent.id().to_string()])
                    .status();
                let _ = agent.wait();
            }
        }
        if std::thread::panicking() {
            for n in 0..self.hosts() {
                eprintln!("{}", self.agent_log(n));
            }
        }
    }
}

/// Points the symbolic link `link` at `target`, replacing what it pointed at in one step.
fn relink(link: &std::path::Path, target: &std::path::Path) {
    let fresh = link.with_extension("new");
    let _ = std::fs::remove_file(&fresh);
    std::os::unix::fs::symlink(target, &fresh).expect("symlink");
    std::fs::rename(&fresh, link).expect("rename");
}

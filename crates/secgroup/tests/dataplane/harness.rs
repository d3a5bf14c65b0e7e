//! The real processes: `secgroup serve` and `secgroup agent` on one temporary database,
//! the signing client, waiting on `DescribeDataplaneStatus`, and probes from
//! `secgroup_dataplane::testkit`.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::TestClient;
pub use secgroup_dataplane::testkit::*;

pub const BIN: &str = env!("CARGO_BIN_EXE_secgroup");
pub const VERSION: &str = "x-secgroup-2026-11-01";
const KEY_ID: &str = "LTAIdataplanee2e00001";
const SECRET: &str = "dataplane-e2e-secret-0000000001";

static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One test at a time builds namespaces (the machine has few cores).
pub async fn lock() -> tokio::sync::MutexGuard<'static, ()> {
    LOCK.lock().await
}

pub fn free_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

/// A server and an agent on one database; the agent's namespaces use `prefix`.
pub struct Harness {
    pub client: TestClient,
    pub database: String,
    pub prefix: String,
    pub agent_id: String,
    server: Child,
    pub agent: Option<Child>,

    _dir: Option<tempfile::TempDir>,
}

impl Harness {
    /// On a new SQLite file.
    pub fn start(prefix: &str) -> Harness {
        Self::start_with(prefix, &[])
    }

    /// On a new SQLite file, the agent started with `agent_args` besides the usual ones.
    pub fn start_with(prefix: &str, agent_args: &[&str]) -> Harness {
        Self::start_with_env(prefix, agent_args, &[])
    }

    /// On a new SQLite file, the agent started with `agent_args` and these environment
    /// variables besides the usual ones (a `PATH` with a wrapped `nft`, say).
    pub fn start_with_env(
        prefix: &str,
        agent_args: &[&str],
        agent_env: &[(&str, &str)],
    ) -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let database = format!("sqlite://{}", dir.path().join("db.sqlite").display());
        Self::start_on_with(prefix, database, Some(dir), agent_args, agent_env)
    }

    pub fn start_on(prefix: &str, database: String, dir: Option<tempfile::TempDir>) -> Harness {
        Self::start_on_with(prefix, database, dir, &[], &[])
    }

    fn start_on_with(
        prefix: &str,
        database: String,
        dir: Option<tempfile::TempDir>,
        agent_args: &[&str],
        agent_env: &[(&str, &str)],
    ) -> Harness {
        let addr = free_port();
        let server = Command::new(BIN)
            .args([
                "serve",
                "--listen",
                &addr.to_string(),
                "--database",
                &database,
            ])
            .env("SECGROUP_ACCESS_KEY_ID", KEY_ID)
            .env("SECGROUP_ACCESS_KEY_SECRET", SECRET)
            .env("SECGROUP_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn secgroup serve");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut h = Harness {
            client: TestClient::new(addr, KEY_ID, SECRET),
            database,
            prefix: prefix.to_owned(),
            agent_id: format!("agent-{prefix}"),
            server,
            agent: None,
            _dir: dir,
        };
        h.start_agent_with_env(agent_args, agent_env);
        h
    }

    pub fn start_agent(&mut self, extra: &[&str]) {
        self.start_agent_with_env(extra, &[]);
    }

    pub fn start_agent_with_env(&mut self, extra: &[&str], env: &[(&str, &str)]) {
        self.forget_report();
        let mut args = vec![
            "agent",
            "--database",
            &self.database,
            "--namespace-prefix",
            &self.prefix,
            "--agent-id",
            &self.agent_id,
        ];
        args.extend_from_slice(extra);
        let child = Command::new(BIN)
            .args(&args)
            .env(
                "SECGROUP_LOG",
                std::env::var("SECGROUP_E2E_AGENT_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn secgroup agent");
        self.agent = Some(child);
    }

    /// Sends `sig` to the agent and waits for it to exit; its exit code.
    pub fn stop_agent(&mut self, sig: &str) -> Option<i32> {
        signal_and_wait(self.agent.take()?, sig)
    }

    /// The data-plane status (JSON).
    pub async fn status(&self) -> Value {
        let r = self
            .client
            .call_version(VERSION, "DescribeDataplaneStatus", &[])
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    }

    /// `CurrentRevision` now, and our agent's row (`Null` while it has reported nothing).
    pub async fn agent_row(&self) -> (u64, Value) {
        let status = self.status().await;
        let current = status["CurrentRevision"].as_u64().expect("revision");
        let agent = status["Agents"]["Agent"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["AgentId"] == self.agent_id.as_str()))
            .cloned()
            .unwrap_or(Value::Null);
        (current, agent)
    }

    /// Waits until our agent's AppliedRevision ≥ CurrentRevision (read now); its row.
    pub async fn settled(&self) -> Value {
        let (current, _) = self.agent_row().await;
        self.applied(current).await
    }

    /// Waits until our agent's AppliedRevision ≥ `revision` (a write's, read after its 200);
    /// its row.
    pub async fn applied(&self, revision: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (_, agent) = self.agent_row().await;
            if agent["AppliedRevision"].as_u64().unwrap_or(0) >= revision {
                return agent;
            }
            assert!(
                Instant::now() < deadline,
                "the agent did not apply revision {revision}: {agent}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Forgets the report a killed or kept agent left (in the database file directly),
    /// so that [`Harness::settled`] waits for the next agent's own.
    fn forget_report(&self) {
        let Some(path) = self.database.strip_prefix("sqlite://") else {
            return;
        };
        let conn = rusqlite::Connection::open(path).expect("open the database");
        conn.busy_timeout(Duration::from_secs(5))
            .expect("busy timeout");
        conn.execute(
            "DELETE FROM dataplane_agents WHERE agent_id = ?1",
            [&self.agent_id],
        )
        .expect("forget the report");
    }

    pub async fn ok(&self, action: &str, params: &[(&str, &str)]) -> Value {
        let r = self.client.call(action, params).await;
        assert_eq!(r.status, 200, "{action} {params:?}: {}", r.body);
        r.json()
    }

    pub fn outside(&self) -> String {
        format!("{}outside", self.prefix)
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(mut agent) = self.agent.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &agent.id().to_string()])
                .status();
            let _ = agent.wait();
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// Sends `sig` (`-TERM`, `-KILL`, ...) to an agent process and waits for it to exit, at
/// most 10 s; its exit code.
pub fn signal_and_wait(mut child: Child, sig: &str) -> Option<i32> {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code();
        }
        assert!(
            Instant::now() < deadline,
            "the agent did not exit within 10 s of {sig}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs probes on the blocking pool (they enter namespaces on threads of their own).
pub async fn probes(list: Vec<(String, Ipv4Addr, Probe)>) -> Vec<bool> {
    tokio::task::spawn_blocking(move || probe_all(&list))
        .await
        .expect("probes")
}

impl crate::truth_tables::Lab for Harness {
    fn client(&self) -> &TestClient {
        &self.client
    }
    async fn ok(&self, action: &str, params: &[(&str, &str)]) -> Value {
        Harness::ok(self, action, params).await
    }
    async fn settled(&self) {
        Harness::settled(self).await;
    }
    async fn outside_for(&self, _instance: &str) -> String {
        self.outside()
    }
}

/// The address of an instance (DescribeInstances).
pub async fn address(c: &TestClient, id: &str) -> Ipv4Addr {
    let filter = format!("[\"{id}\"]");
    let r = c
        .call("DescribeInstances", &[("InstanceIds", &filter)])
        .await;
    r.json()["Instances"]["Instance"][0]["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0]
        .as_str()
        .expect("ip")
        .parse()
        .expect("ipv4")
}

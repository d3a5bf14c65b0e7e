//! Real `secgroup serve` processes on PostgreSQL, for the several-node tests: fresh
//! databases on the server of `SECGROUP_TEST_POSTGRES_URL`, a throwaway PostgreSQL server
//! of a test's own (`scripts/postgres-for-tests.sh`), and server processes. Every process,
//! directory and server is stopped and removed when its guard drops, also when a test fails.
#![allow(dead_code)] // each test file uses its own subset

#[path = "../../../secgroup-store-postgres/tests/common/mod.rs"]
mod databases;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[allow(unused_imports)] // not every test file uses them
pub use databases::{server_url, Databases};

use crate::common::TestClient;

pub const BIN: &str = env!("CARGO_BIN_EXE_secgroup");
/// The AccessKey every node is started with (`SECGROUP_ACCESS_KEY_ID`/`_SECRET`).
pub const KEY_ID: &str = "LTAInodetests";
pub const KEY_SECRET: &str = "nodetestsecret";

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scripts/postgres-for-tests.sh"
);

/// How long a node may take to accept connections (it applies the migrations first).
const STARTUP: Duration = Duration::from_secs(30);

/// One `secgroup serve` process on its own loopback port, killed when dropped. Its log
/// (stderr) is kept in a temporary directory and printed when a test fails.
pub struct Node {
    pub addr: SocketAddr,
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Node {
    /// Starts `secgroup serve --database URL ARGS…` with the test key, and waits until it
    /// accepts connections.
    pub async fn start(database: &str, args: &[&str]) -> Node {
        // The free port is found by binding and releasing it: another process may take it
        // first, in which case the node exits at once and is started on another port.
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("tempdir");
            let log = dir.path().join("secgroup.log");
            let addr = free_port();
            let file = std::fs::File::create(&log).expect("log file");
            let child = Command::new(BIN)
                .args([
                    "serve",
                    "--listen",
                    &addr.to_string(),
                    "--database",
                    database,
                ])
                .args(args)
                .env("SECGROUP_ACCESS_KEY_ID", KEY_ID)
                .env("SECGROUP_ACCESS_KEY_SECRET", KEY_SECRET)
                .env("SECGROUP_LOG", "warn")
                .env_remove("SECGROUP_DATABASE")
                .env_remove("SECGROUP_LISTEN")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::from(file))
                .spawn()
                .expect("spawn secgroup");
            let mut node = Node {
                addr,
                child,
                log,
                _dir: dir,
            };
            let deadline = Instant::now() + STARTUP;
            loop {
                if let Some(status) = node.child.try_wait().expect("try_wait") {
                    let log = node.log_text();
                    if log.contains("binding") {
                        break; // the port was taken: try another
                    }
                    panic!("secgroup exited during startup ({status}):\n{log}");
                }
                if tokio::net::TcpStream::connect(addr).await.is_ok() {
                    return node;
                }
                assert!(
                    Instant::now() < deadline,
                    "secgroup did not accept connections within {STARTUP:?}:\n{}",
                    node.log_text()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        panic!("no free port for secgroup after 3 attempts");
    }

    /// A client with the nodes' key.
    pub fn client(&self) -> TestClient {
        TestClient::new(self.addr, KEY_ID, KEY_SECRET)
    }

    /// Fails the test if the process has exited (a crash, a panic that ended it).
    pub fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().expect("try_wait") {
            panic!("secgroup exited ({status}):\n{}", self.log_text());
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log_text();
            let lines: Vec<&str> = log.lines().collect();
            eprintln!(
                "--- last lines of the log of the node on {} ---\n{}",
                self.addr,
                lines[lines.len().saturating_sub(40)..].join("\n")
            );
        }
    }
}

fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

/// A PostgreSQL server of the test's own (`scripts/postgres-for-tests.sh`), which the test
/// may stop and start again; stopped and its directory removed when dropped.
pub struct ThrowawayPostgres {
    pub url: String,
    dir: tempfile::TempDir,
}

impl ThrowawayPostgres {
    /// Starts one, or returns `None` (after a clear message) when the machine has no
    /// PostgreSQL binaries (found as the script finds them).
    pub async fn start(test: &str) -> Option<ThrowawayPostgres> {
        let available = Command::new(SCRIPT)
            .arg("available")
            .status()
            .expect("run postgres-for-tests.sh");
        if !available.success() {
            databases::skip(
                test,
                "no PostgreSQL binaries (initdb) found \
                 (scripts/test installs them when run as root)",
            );
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("secgroup-pg-")
            .tempdir()
            .expect("tempdir");
        // From here on the guard stops the server, whatever happens.
        let mut pg = ThrowawayPostgres {
            url: String::new(),
            dir,
        };
        let out = script("start", pg.dir.path()).await;
        pg.url = String::from_utf8(out).expect("UTF-8 URL").trim().to_owned();
        assert!(pg.url.starts_with("postgres://"), "URL {:?}", pg.url);
        Some(pg)
    }

    /// The directory of the server's Unix socket (`.s.PGSQL.<port>`): processes in other
    /// network namespaces, which cannot reach its loopback address, connect through it.
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops the server (a fast shutdown: committed work is kept), keeping its data.
    pub async fn stop_server(&self) {
        script("stop-server", self.dir.path()).await;
    }

    /// Starts it again on the same port, and waits until it accepts connections.
    pub async fn start_server(&self) {
        script("start-server", self.dir.path()).await;
    }
}

impl Drop for ThrowawayPostgres {
    fn drop(&mut self) {
        let _ = Command::new(SCRIPT)
            .arg("stop")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .status();
    }
}

async fn script(cmd: &str, dir: &Path) -> Vec<u8> {
    let out = tokio::process::Command::new(SCRIPT)
        .arg(cmd)
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run postgres-for-tests.sh");
    assert!(
        out.status.success(),
        "postgres-for-tests.sh {cmd} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

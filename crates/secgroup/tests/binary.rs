//! The real `secgroup` binary: start-up keys, `account create`, durability across a clean
//! restart and a `kill -9`, and graceful shutdown.

mod common;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{create_group, TestClient};

const BIN: &str = env!("CARGO_BIN_EXE_secgroup");

fn free_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

fn start(db: &str, addr: SocketAddr, key: Option<(&str, &str)>) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", &addr.to_string(), "--database", db])
        .env_remove("SECGROUP_ACCESS_KEY_ID")
        .env_remove("SECGROUP_ACCESS_KEY_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some((id, secret)) = key {
        cmd.env("SECGROUP_ACCESS_KEY_ID", id)
            .env("SECGROUP_ACCESS_KEY_SECRET", secret);
    }
    let child = cmd.spawn().expect("spawn secgroup");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[tokio::test]
async fn state_survives_restart_and_kill_dash_nine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("data/secgroup.db").display());
    let addr = free_port();
    let key = Some(("LTAItestkey", "testsecret"));
    let mut server = start(&db, addr, key);
    let c = TestClient::new(addr, "LTAItestkey", "testsecret");
    let sg = create_group(&c, &[("SecurityGroupName", "durable")]).await;
    let r = c
        .call(
            "ModifySecurityGroupPolicy",
            &[("SecurityGroupId", &sg), ("InnerAccessPolicy", "Drop")],
        )
        .await;
    assert_eq!(r.status, 200);

    // kill -9 right after the acknowledgement: nothing acknowledged may be lost.
    signal(&server, "-9");
    server.wait().expect("wait");
    let mut server = start(&db, addr, key);
    // A fresh client: the old one's pooled connection died with the server.
    let c = TestClient::new(addr, "LTAItestkey", "testsecret");
    let attr = c
        .call(
            "DescribeSecurityGroupAttribute",
            &[("SecurityGroupId", &sg)],
        )
        .await
        .json();
    assert_eq!(attr["InnerAccessPolicy"], "Drop", "{attr}");
    assert_eq!(attr["SecurityGroupName"], "durable");

    // A clean stop (SIGTERM) exits 0 and also keeps everything.
    signal(&server, "-TERM");
    let status = server.wait().expect("wait");
    assert!(status.success(), "SIGTERM exits cleanly: {status:?}");
    let mut server = start(&db, addr, key);
    // A fresh client: the old one's pooled connection died with the server.
    let c = TestClient::new(addr, "LTAItestkey", "testsecret");
    let attr = c
        .call(
            "DescribeSecurityGroupAttribute",
            &[("SecurityGroupId", &sg)],
        )
        .await
        .json();
    assert_eq!(attr["InnerAccessPolicy"], "Drop");
    signal(&server, "-INT");
    assert!(
        server.wait().expect("wait").success(),
        "SIGINT exits cleanly"
    );
}

#[tokio::test]
async fn first_start_prints_a_generated_key_once_and_account_create_prints_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let addr = free_port();
    let mut server = start(&db, addr, None);
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    let printed: serde_json::Value = serde_json::from_str(&line).expect("one JSON object");
    let (id, secret) = (
        printed["AccessKeyId"].as_str().expect("id"),
        printed["AccessKeySecret"].as_str().expect("secret"),
    );
    let c = TestClient::new(addr, id, secret);
    assert_eq!(
        c.call("DescribeRegions", &[]).await.status,
        200,
        "the printed key works"
    );
    signal(&server, "-TERM");
    server.wait().expect("wait");

    // Second start: a key exists, nothing is printed.
    let server = start(&db, addr, None);
    signal(&server, "-TERM");
    let out = server.wait_with_output().expect("output");
    assert!(
        out.stdout.is_empty(),
        "printed again: {}",
        String::from_utf8_lossy(&out.stdout)
    );

    // `account create` while nothing runs, then use the new key.
    let out = Command::new(BIN)
        .args(["account", "create", "--database", &db])
        .output()
        .expect("account create");
    assert!(out.status.success());
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    for field in ["AccountId", "AccessKeyId", "AccessKeySecret"] {
        assert!(
            created[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field} in {created}"
        );
    }
    let mut server = start(&db, addr, None);
    let c = TestClient::new(addr, id, secret);
    let other = TestClient::new(
        addr,
        created["AccessKeyId"].as_str().unwrap_or(""),
        created["AccessKeySecret"].as_str().unwrap_or(""),
    );
    let sg = create_group(&c, &[]).await;
    let r = other
        .call(
            "DescribeSecurityGroupAttribute",
            &[("SecurityGroupId", &sg)],
        )
        .await;
    assert_eq!(
        r.code(),
        "InvalidSecurityGroupId.NotFound",
        "a new account sees nothing of the default one"
    );
    signal(&server, "-TERM");
    server.wait().expect("wait");
}

#[tokio::test]
async fn configured_key_is_idempotent_across_starts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let addr = free_port();
    for _ in 0..2 {
        let server = start(&db, addr, Some(("LTAIsame", "samesecret")));
        let c = TestClient::new(addr, "LTAIsame", "samesecret");
        assert_eq!(c.call("DescribeRegions", &[]).await.status, 200);
        signal(&server, "-TERM");
        let out = server.wait_with_output().expect("output");
        assert!(out.status.success());
        assert!(
            out.stdout.is_empty(),
            "no key generated when one is configured"
        );
    }
}

#[tokio::test]
async fn serve_reads_a_catalogue_file_and_refuses_a_bad_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let file = dir.path().join("catalogue.json");
    std::fs::write(&file, r#"{"zones": {"cn-hangzhou": ["cn-hangzhou-q"]}}"#).expect("write");
    let addr = free_port();
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", &addr.to_string(), "--database", &db])
        .arg("--catalogue")
        .arg(&file)
        .arg("--strict-catalogue")
        .env("SECGROUP_ACCESS_KEY_ID", "LTAIcatalogue")
        .env("SECGROUP_ACCESS_KEY_SECRET", "secret")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut server = cmd.spawn().expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let c = TestClient::new(addr, "LTAIcatalogue", "secret");
    let zones = c.call("DescribeZones", &[]).await.json();
    assert_eq!(
        zones["Zones"]["Zone"][0]["ZoneId"], "cn-hangzhou-q",
        "{zones}"
    );
    let r = c
        .call(
            "RunInstances",
            &[
                ("ImageId", "img"),
                ("InstanceType", "ecs.g7.large"),
                ("VSwitchId", "vsw-x"),
                ("SecurityGroupId", "sg-x"),
            ],
        )
        .await;
    assert_eq!(r.code(), "InvalidImageId.NotFound", "{}", r.body);
    signal(&server, "-TERM");
    server.wait().expect("wait");

    std::fs::write(&file, r#"{"zones": {"cn-hangzhou": ["cn-beijing-a"]}}"#).expect("write");
    let out = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &free_port().to_string(),
            "--database",
            &db,
        ])
        .arg("--catalogue")
        .arg(&file)
        .env("SECGROUP_ACCESS_KEY_ID", "LTAIcatalogue")
        .env("SECGROUP_ACCESS_KEY_SECRET", "secret")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cn-beijing-a"), "{err}");
}

#[test]
fn serve_refuses_a_zero_host_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    for (flag, env) in [(Some("0"), None), (None, Some("0")), (Some("-3"), None)] {
        let mut cmd = Command::new(BIN);
        cmd.args([
            "serve",
            "--listen",
            &free_port().to_string(),
            "--database",
            &db,
        ])
        .env("SECGROUP_ACCESS_KEY_ID", "LTAIhosttimeout")
        .env("SECGROUP_ACCESS_KEY_SECRET", "secret");
        if let Some(value) = flag {
            cmd.arg(format!("--host-timeout-secs={value}"));
        }
        if let Some(value) = env {
            cmd.env("SECGROUP_HOST_TIMEOUT_SECS", value);
        }
        let out = cmd.output().expect("run");
        assert!(!out.status.success(), "{flag:?} {env:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("host-timeout-secs"), "{flag:?} {env:?}: {err}");
    }
}

//! `secgroup reach` and `secgroup matrix`: the built binary as a client of an in-process
//! server — text and JSON output, exit statuses (0 allowed, 1 denied, 2 error), the SVG file.

mod common;
#[path = "reachability/topology.rs"]
mod topology;

use std::process::Output;

use chrono::Utc;
use common::{TestClient, TestServer};
use secgroup_domain::ops::accounts;
use secgroup_domain::Store;
use topology::{rule_id, Topology};

const BIN: &str = env!("CARGO_BIN_EXE_secgroup");

/// A server, a topology in a fresh account, and that account's key for the binary.
struct Fixture {
    server: TestServer,
    t: Topology,
    client: TestClient,
    key: (String, String),
}

impl Fixture {
    async fn new() -> Fixture {
        let server = TestServer::start().await;
        let key = server
            .store
            .write(|tx| accounts::create_account(tx, false, Utc::now()))
            .await
            .expect("account");
        let client = TestClient::new(server.addr, &key.access_key_id, &key.secret);
        let t = Topology::build(&client).await;
        Fixture {
            server,
            t,
            client,
            key: (key.access_key_id, key.secret),
        }
    }

    /// Runs the binary against this server (endpoint and key from the environment).
    async fn run(&self, args: &[&str]) -> Output {
        run_with_env(
            args,
            &[
                ("SECGROUP_ENDPOINT", &format!("http://{}", self.server.addr)),
                ("SECGROUP_ACCESS_KEY_ID", &self.key.0),
                ("SECGROUP_ACCESS_KEY_SECRET", &self.key.1),
            ],
        )
        .await
    }
}

async fn run_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args);
    for name in [
        "SECGROUP_ENDPOINT",
        "SECGROUP_ACCESS_KEY_ID",
        "SECGROUP_ACCESS_KEY_SECRET",
        "SECGROUP_REGION",
    ] {
        cmd.env_remove(name);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().await.expect("run secgroup")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test]
async fn reach_prints_the_verdict_and_why_and_exits_by_it() {
    let f = Fixture::new().await;
    let t = &f.t;
    let ssh_rule = rule_id(&f.client, &t.sg_db, "22/22").await;

    let o = f
        .run(&[
            "reach",
            "--from",
            &t.web,
            "--to",
            &t.db,
            "--protocol",
            "tcp",
            "--port",
            "22",
        ])
        .await;
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    let first = out.lines().next().unwrap_or("");
    assert!(first.starts_with("ALLOWED: "), "{out}");
    assert!(
        first.contains(&t.web) && first.contains(&t.db) && first.contains("TCP/22"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("decided by:") && l.contains(&ssh_rule)),
        "{out}"
    );

    // Denied, from the db's address: exit 1 and every blocking element on its own line.
    let o = f
        .run(&[
            "reach", "--from", &t.db_ip, "--to", &t.web, "--port", "3306",
        ])
        .await;
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(out.starts_with("DENIED: "), "{out}");
    let blocked: Vec<&str> = out.lines().filter(|l| l.contains("blocked by:")).collect();
    assert_eq!(blocked.len(), 2, "{out}");
    assert!(
        blocked[0].contains("Drop") && blocked[1].contains("default denies"),
        "{out}"
    );

    // A stopped destination: denied, and the word is there.
    let r = f
        .client
        .call("StopInstance", &[("InstanceId", &t.batch)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let o = f
        .run(&["reach", "--from", &t.web, "--to", &t.batch, "--port", "22"])
        .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("Stopped"), "{}", stdout(&o));

    // JSON: the server's answer.
    let o = f
        .run(&[
            "reach",
            "--from",
            &t.app,
            "--to",
            &t.web,
            "--protocol",
            "ICMP",
            "--output",
            "json",
        ])
        .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let answer: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(answer["Reachable"], true);
    assert_eq!(answer["DecidingSteps"]["Step"][0]["Kind"], "inner-access");
    assert!(answer["RequestId"].is_string());
}

#[tokio::test]
async fn errors_exit_2_with_the_reason_on_stderr() {
    let f = Fixture::new().await;
    let o = f
        .run(&[
            "reach",
            "--from",
            "i-doesnotexist",
            "--to",
            &f.t.db,
            "--port",
            "22",
        ])
        .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("InvalidInstanceId.NotFound"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty());

    let o = f.run(&["reach", "--from", &f.t.web, "--to", &f.t.db]).await;
    assert_eq!(o.status.code(), Some(2), "tcp without a port");
    assert!(stderr(&o).contains("MissingPort"), "{}", stderr(&o));

    let o = f
        .run(&["matrix", "--vpc", "vpc-doesnotexist", "--port", "22"])
        .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("InvalidVpcId.NotFound"),
        "{}",
        stderr(&o)
    );

    // A wrong secret: the server's refusal, still status 2.
    let endpoint = format!("http://{}", f.server.addr);
    let o = run_with_env(
        &["reach", "--from", &f.t.web, "--to", &f.t.db, "--port", "22"],
        &[
            ("SECGROUP_ENDPOINT", &endpoint),
            ("SECGROUP_ACCESS_KEY_ID", &f.key.0),
            ("SECGROUP_ACCESS_KEY_SECRET", "wrong"),
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("SignatureDoesNotMatch"),
        "{}",
        stderr(&o)
    );

    // Nobody listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port");
    let o = run_with_env(
        &[
            "reach",
            "--endpoint",
            &format!("http://{closed}"),
            "--access-key-id",
            "k",
            "--access-key-secret",
            "s",
            "--from",
            "i-a",
            "--to",
            "i-b",
            "--port",
            "22",
        ],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot reach"), "{}", stderr(&o));

    // No key at all: refused before any call.
    let o = run_with_env(
        &["reach", "--from", "i-a", "--to", "i-b", "--port", "22"],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(2));

    let o = run_with_env(&["reach", "--help"], &[]).await;
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("Exit status: 0 when the flow is allowed, 1 when it is denied"));
}

#[tokio::test]
async fn matrix_prints_a_table_and_draws_an_svg() {
    let f = Fixture::new().await;
    let t = &f.t;
    let dir = tempfile::tempdir().expect("tempdir");
    let svg_path = dir.path().join("matrix.svg");
    let svg_arg = svg_path.display().to_string();
    let o = f
        .run(&[
            "matrix",
            "--vpc",
            &t.vpc,
            "--protocol",
            "tcp",
            "--port",
            "22",
            "--svg",
            &svg_arg,
        ])
        .await;
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with(&format!("TCP/22 in {}: 4 instances, ", t.vpc)),
        "{out}"
    );
    // One row per instance, named, in the server's order; web reaches db (the SSH rule).
    let rows: Vec<&str> = lines.iter().skip(3).copied().collect();
    assert_eq!(rows.len(), 4, "{out}");
    for (row, (name, id)) in rows.iter().zip([
        ("web", &t.web),
        ("app", &t.app),
        ("db", &t.db),
        ("batch", &t.batch),
    ]) {
        assert!(row.contains(&format!("{name} ({id})")), "{row}");
    }
    let cells = |row: &str| -> Vec<char> {
        row.chars()
            .rev()
            .step_by(2)
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect()
    };
    assert_eq!(cells(rows[0])[2], '✔', "web -> db: {out}");
    assert_eq!(cells(rows[2])[0], '·', "db -> web: {out}");

    let svg = std::fs::read_to_string(&svg_path).expect("svg written");
    assert_well_formed_xml(&svg);
    assert!(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    for (name, id) in [("web", &t.web), ("db", &t.db)] {
        let label = format!(">{name} ({id})</text>");
        assert_eq!(svg.matches(&label).count(), 2, "{label} on both axes");
    }
    let fills: std::collections::BTreeSet<&str> = svg
        .split("fill=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|f| *f != "#ffffff")
        .collect();
    assert_eq!(fills.len(), 2, "allowed and denied: {fills:?}");
    assert!(svg.contains("TCP/22"), "legend names the traffic");

    // By groups, as JSON.
    let groups = format!("{},{}", t.sg_db, t.sg_web);
    let o = f
        .run(&[
            "matrix",
            "--security-groups",
            &groups,
            "--port",
            "22",
            "--output",
            "json",
        ])
        .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let answer: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(answer["InstanceCount"], 4);
    assert_eq!(answer["Rows"]["Row"].as_array().map(Vec::len), Some(4));

    // Exactly one scope.
    let o = f.run(&["matrix", "--port", "22"]).await;
    assert_eq!(o.status.code(), Some(2));
}

/// Well-formed XML, checked by hand: one root, every element closed in order, attribute
/// values quoted, only the five predefined entities or character references.
fn assert_well_formed_xml(text: &str) {
    let body = match text.strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .map(|(_, b)| b)
            .expect("prolog closed"),
        None => text,
    };
    let check_text = |t: &str| {
        for (i, _) in t.match_indices('&') {
            let entity = &t[i..t[i..].find(';').map(|e| i + e + 1).expect("entity ends")];
            let named = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].contains(&entity);
            let numeric = entity.starts_with("&#")
                && entity[2..entity.len() - 1]
                    .chars()
                    .all(|c| c.is_ascii_digit());
            assert!(named || numeric, "bad entity {entity}");
        }
    };
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        let (before, after) = rest.split_at(open);
        assert!(
            !stack.is_empty() || before.trim().is_empty(),
            "text outside the root: {before:?}"
        );
        check_text(before);
        let close = after.find('>').expect("tag closed");
        let tag = &after[1..close];
        assert!(!tag.contains('<'), "'<' inside a tag: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "mismatched </{name}>"
            );
        } else {
            let self_closing = tag.ends_with('/');
            let inner = tag.trim_end_matches('/');
            let name = inner.split_whitespace().next().expect("tag name");
            assert_eq!(
                inner.matches('"').count() % 2,
                0,
                "unbalanced quotes: {tag}"
            );
            check_text(inner);
            if stack.is_empty() {
                roots += 1;
            }
            if !self_closing {
                stack.push(name.to_string());
            }
        }
        rest = &after[close + 1..];
    }
    assert!(rest.trim().is_empty(), "text after the root");
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    assert_eq!(roots, 1, "one root element");
}

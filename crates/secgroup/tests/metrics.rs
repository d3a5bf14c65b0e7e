//! `serve --metrics-listen`: the real binary's `/metrics`, parsed strictly as OpenMetrics
//! text, before and after known calls.

mod common;
#[path = "metrics/openmetrics.rs"]
mod openmetrics;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TestClient;
use openmetrics::{get, scrape, sum};

const BIN: &str = env!("CARGO_BIN_EXE_secgroup");

fn free_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "{addr} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn start(db: &str, api: SocketAddr, metrics: Option<SocketAddr>) -> Server {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", &api.to_string(), "--database", db])
        .env("SECGROUP_ACCESS_KEY_ID", "LTAImetrics")
        .env("SECGROUP_ACCESS_KEY_SECRET", "metricssecret")
        .env_remove("SECGROUP_METRICS_LISTEN")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(metrics) = metrics {
        cmd.env("SECGROUP_METRICS_LISTEN", metrics.to_string());
    }
    let server = Server(cmd.spawn().expect("spawn secgroup"));
    wait_for(api);
    if let Some(metrics) = metrics {
        wait_for(metrics);
    }
    server
}

#[tokio::test]
async fn metrics_count_known_calls_with_bounded_labels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let (api, metrics) = (free_port(), free_port());
    let _server = start(&db, api, Some(metrics));
    let c = TestClient::new(api, "LTAImetrics", "metricssecret");

    // Families without a sample yet are not shown; the sizes and the process are.
    let (before, types) = scrape(metrics);
    assert_eq!(types["secgroup_nonces"], "gauge");
    assert_eq!(types["secgroup_client_tokens"], "gauge");
    for process in [
        "process_cpu_seconds",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_start_time_seconds",
    ] {
        assert!(types.contains_key(process), "{process} missing");
    }
    assert!(get(&before, "process_resident_memory_bytes", &[]) > 0.0);
    assert_eq!(get(&before, "secgroup_client_tokens", &[]), 0.0);
    let nonces_before = get(&before, "secgroup_nonces", &[]);

    let vpc = c
        .call_vpc(
            "CreateVpc",
            &[("CidrBlock", "10.0.0.0/8"), ("ClientToken", "tok-1")],
        )
        .await;
    assert_eq!(vpc.status, 200, "{}", vpc.body);
    let vpc_id = vpc.json()["VpcId"].as_str().expect("VpcId").to_string();
    for _ in 0..2 {
        let r = c.call("DescribeSecurityGroups", &[]).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let missing = c
        .call(
            "DeleteSecurityGroup",
            &[("SecurityGroupId", "sg-doesnotexist")],
        )
        .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    let missing_code = missing.code();
    let unknown = c.call("NoSuchAction", &[]).await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    let (after, types) = scrape(metrics);
    assert_eq!(types["http_server_request_duration_seconds"], "histogram");
    assert_eq!(types["http_server_active_requests"], "gauge");
    assert_eq!(types["secgroup_request_errors"], "counter");
    assert_eq!(
        types["secgroup_store_transaction_duration_seconds"],
        "histogram"
    );
    for conflicts in [
        "secgroup_store_transaction_conflicts",
        "secgroup_store_transaction_retries",
    ] {
        // Only once a conflict happened, which one client's calls do not make.
        assert!(types.get(conflicts).is_none_or(|t| t == "counter"));
    }
    let count = |product: &str, action: &str, status: &str| {
        get(
            &after,
            "http_server_request_duration_seconds_count",
            &[("product", product), ("action", action), ("status", status)],
        ) - get(
            &before,
            "http_server_request_duration_seconds_count",
            &[("product", product), ("action", action), ("status", status)],
        )
    };
    assert_eq!(count("Vpc", "CreateVpc", "200"), 1.0);
    assert_eq!(count("Ecs", "DescribeSecurityGroups", "200"), 2.0);
    assert_eq!(count("Ecs", "DeleteSecurityGroup", "404"), 1.0);
    assert_eq!(
        count("Ecs", "other", "404"),
        1.0,
        "unknown actions collapse"
    );
    assert_eq!(
        get(
            &after,
            "secgroup_request_errors_total",
            &[
                ("product", "Ecs"),
                ("action", "DeleteSecurityGroup"),
                ("code", &missing_code)
            ]
        ),
        1.0
    );
    // OpenTelemetry's buckets, exactly, and cumulative.
    let les: Vec<String> = after
        .keys()
        .filter(|(n, l)| {
            n == "http_server_request_duration_seconds_bucket"
                && l.get("action").map(String::as_str) == Some("CreateVpc")
        })
        .map(|(_, l)| l["le"].clone())
        .collect();
    let mut les: Vec<f64> = les
        .iter()
        .map(|le| {
            if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().expect("le")
            }
        })
        .collect();
    les.sort_by(f64::total_cmp);
    let mut want = secgroup::metrics::HTTP_DURATION_BUCKETS.to_vec();
    want.push(f64::INFINITY);
    assert_eq!(les, want);
    assert_eq!(
        get(
            &after,
            "http_server_request_duration_seconds_bucket",
            &[
                ("product", "Vpc"),
                ("action", "CreateVpc"),
                ("status", "200"),
                ("le", "+Inf")
            ]
        ),
        1.0
    );
    // Nothing is in flight between requests (the scrape is not an API request).
    assert_eq!(sum(&after, "http_server_active_requests", &[]), 0.0);
    // Transactions: the writes and reads above, measured.
    assert!(
        sum(
            &after,
            "secgroup_store_transaction_duration_seconds_count",
            &[("mode", "write"), ("outcome", "ok")]
        ) > sum(
            &before,
            "secgroup_store_transaction_duration_seconds_count",
            &[("mode", "write"), ("outcome", "ok")]
        )
    );
    assert!(
        sum(
            &after,
            "secgroup_store_transaction_duration_seconds_count",
            &[("mode", "read")]
        ) >= 2.0
    );
    // Sizes: the one ClientToken, and one nonce per authenticated call (the unknown
    // action is refused before its signature is checked).
    assert_eq!(get(&after, "secgroup_client_tokens", &[]), 1.0);
    assert!(get(&after, "secgroup_nonces", &[]) >= nonces_before + 4.0);
    // No id is ever a label value.
    for (name, labels) in after.keys() {
        for value in labels.values() {
            assert!(
                !value.contains(&vpc_id) && !value.starts_with("sg-") && !value.contains("LTAI"),
                "{name} has an unbounded label {value}"
            );
        }
    }
}

#[test]
fn metrics_are_off_by_default() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let api = free_port();
    let _server = start(&db, api, None);
    // The API answers; no other port was opened by it, and /metrics is not on the API's.
    let mut stream = TcpStream::connect(api).expect("connect");
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {api}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("response");
    assert!(
        !raw.contains("http_server_request_duration_seconds"),
        "{raw}"
    );
}

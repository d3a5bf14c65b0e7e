//! `serve --metrics-listen`: the real binary's `/metrics`, parsed strictly as OpenMetrics
//! text, before and after known calls.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TestClient;

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

/// One sample: metric name and its labels, sorted.
type Key = (String, BTreeMap<String, String>);

/// GET /metrics, and the exposition parsed line by line: every line is a `# HELP`,
/// `# TYPE` or `# UNIT` comment of a declared family, a sample of the family declared
/// last, or the final `# EOF`; anything else fails the test.
fn scrape(addr: SocketAddr) -> (BTreeMap<Key, f64>, BTreeMap<String, String>) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("response");
    let (head, body) = raw.split_once("\r\n\r\n").expect("head and body");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text"),
        "{head}"
    );
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    parse(&body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").expect("chunk size");
        let size = usize::from_str_radix(size.trim(), 16).expect("hex size");
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
}

fn parse(body: &str) -> (BTreeMap<Key, f64>, BTreeMap<String, String>) {
    let mut samples = BTreeMap::new();
    let mut types = BTreeMap::new();
    let mut family: Option<(String, String)> = None;
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "ends with # EOF");
    for line in &lines[..lines.len() - 1] {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kind, name) = (parts.next().expect("kind"), parts.next().expect("name"));
            assert!(valid_name(name), "family name {name:?}");
            match kind {
                "TYPE" => {
                    let t = parts.next().expect("type");
                    assert!(
                        ["counter", "gauge", "histogram", "info", "unknown"].contains(&t),
                        "{line}"
                    );
                    types.insert(name.to_string(), t.to_string());
                    family = Some((name.to_string(), t.to_string()));
                }
                "HELP" | "UNIT" => {}
                _ => panic!("unexpected comment {line:?}"),
            }
            continue;
        }
        let (name, labels, value) = sample(line);
        let (fam, kind) = family.as_ref().expect("a sample before any # TYPE");
        let suffixes: &[&str] = match kind.as_str() {
            "counter" => &["_total", "_created"],
            "histogram" => &["_bucket", "_count", "_sum", "_created"],
            _ => &[""],
        };
        assert!(
            suffixes.iter().any(|s| name == format!("{fam}{s}")),
            "sample {name} outside its family {fam} ({kind})"
        );
        assert!(
            samples.insert((name, labels), value).is_none(),
            "duplicate sample {line}"
        );
    }
    (samples, types)
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `name{a="x",b="y"} value`, strictly.
fn sample(line: &str) -> (String, BTreeMap<String, String>, f64) {
    let (series, value) = line.rsplit_once(' ').expect("name and value");
    let value: f64 = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().unwrap_or_else(|_| panic!("value of {line:?}")),
    };
    let mut labels = BTreeMap::new();
    let name = match series.split_once('{') {
        None => series,
        Some((name, rest)) => {
            let mut rest = rest.strip_suffix('}').expect("closing brace");
            while !rest.is_empty() {
                let (key, after) = rest.split_once("=\"").expect("key=\"");
                assert!(valid_name(key), "label {key:?} in {line:?}");
                let end = after.find('"').expect("closing quote");
                let val = &after[..end];
                assert!(!val.contains('\\'), "no escapes expected in {line:?}");
                labels.insert(key.to_string(), val.to_string());
                rest = after[end + 1..]
                    .strip_prefix(',')
                    .unwrap_or(&after[end + 1..]);
            }
            name
        }
    };
    assert!(valid_name(name), "name {name:?}");
    (name.to_string(), labels, value)
}

fn get(samples: &BTreeMap<Key, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    samples
        .get(&(name.to_string(), want))
        .copied()
        .unwrap_or(0.0)
}

/// Sums every sample of `name` whose labels include `labels`.
fn sum(samples: &BTreeMap<Key, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|((n, l), _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, v)| v)
        .sum()
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

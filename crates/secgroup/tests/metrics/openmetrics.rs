//! Scraping `/metrics` over plain HTTP/1.1 and reading the exposition strictly as
//! OpenMetrics text: shared by the server's and the agent's metrics tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

/// One sample: metric name and its labels, sorted.
pub type Key = (String, BTreeMap<String, String>);

/// GET /metrics, and the exposition parsed line by line: every line is a `# HELP`,
/// `# TYPE` or `# UNIT` comment of a declared family, a sample of the family declared
/// last, or the final `# EOF`; anything else fails the test.
pub fn scrape(addr: SocketAddr) -> (BTreeMap<Key, f64>, BTreeMap<String, String>) {
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

pub fn dechunk(mut body: &str) -> String {
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

pub fn parse(body: &str) -> (BTreeMap<Key, f64>, BTreeMap<String, String>) {
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

pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `name{a="x",b="y"} value`, strictly.
pub fn sample(line: &str) -> (String, BTreeMap<String, String>, f64) {
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

pub fn get(samples: &BTreeMap<Key, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
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
pub fn sum(samples: &BTreeMap<Key, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
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

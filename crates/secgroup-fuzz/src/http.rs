//! `http`: raw bytes as an HTTP request through the whole server — the listener's head
//! guard and hyper ([`secgroup_rpc::listener::serve_connection`], the code `serve` runs for
//! every connection), the gateway, and the real products over a temporary SQLite store
//! ([`secgroup::app`]), shared by all runs of one process.
//!
//! Input: the bytes a client sends, after which it closes its side. An input starting with
//! `!` is re-signed first: the rest's request-line query gets a fresh V1 signature (fresh
//! `Timestamp` and `SignatureNonce`) with the harness's own key, so that the fuzzer reaches
//! the products and not only the signature check.
//!
//! Properties: nothing panics; the server closes the connection once the client is done;
//! every answer is one well-formed HTTP response with a status other than 5xx (503
//! aside), the Alibaba content type and a body in that format that is the success shape or
//! the five-field error envelope (docs/protocol.md §4.1, §5) — or, for a path under
//! `/console/`, one of the web console's pages; and a complete head gets an answer.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::Utc;
use secgroup_domain::ops::accounts;
use secgroup_domain::Store;
use secgroup_rpc::client::{encode_pairs, sign_v1_with, V1Call, V1Key};
use secgroup_rpc::ServerConfig;
use secgroup_store_sqlite::SqliteStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Harness {
    runtime: tokio::runtime::Runtime,
    app: axum::Router,
    config: ServerConfig,
    key_id: String,
    secret: String,
    _dir: tempfile::TempDir,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let store =
            Arc::new(SqliteStore::open(&dir.path().join("fuzz.sqlite")).expect("open store"));
        let key = runtime
            .block_on(store.write(|tx| accounts::create_account(tx, false, Utc::now())))
            .expect("account");
        // Short timeouts: a client that stops sending is cut quickly.
        let config = ServerConfig {
            header_read_timeout: Duration::from_secs(2),
            body_read_timeout: Duration::from_secs(2),
            idle_timeout: Duration::from_secs(2),
            ..ServerConfig::default()
        };
        let settings = secgroup::Settings {
            server: config.clone(),
            ..secgroup::Settings::default()
        };
        let app = secgroup::app(store, settings);
        Harness {
            runtime,
            app,
            config,
            key_id: key.access_key_id,
            secret: key.secret,
            _dir: dir,
        }
    })
}

pub fn fuzz(data: &[u8]) {
    let h = harness();
    let request = match data.strip_prefix(b"!") {
        Some(rest) => resign(h, rest),
        None => data.to_vec(),
    };
    let answer = h.runtime.block_on(exchange(h, &request));
    check(&request, &answer);
}

/// Sends `request` on a fresh connection, closes the client's side, and reads everything
/// the server writes until it closes.
async fn exchange(h: &'static Harness, request: &[u8]) -> Vec<u8> {
    let (mut client, server) = tokio::io::duplex(request.len() + (1 << 20));
    let peer: SocketAddr = ([127, 0, 0, 1], 40000).into();
    let served = tokio::spawn(secgroup_rpc::listener::serve_connection(
        server,
        peer,
        h.app.clone(),
        &h.config,
    ));
    client.write_all(request).await.expect("write");
    client.shutdown().await.expect("shutdown");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), client.read_to_end(&mut answer))
        .await
        .expect("the server closes a connection whose client is done")
        .expect("read");
    served.await.expect("the connection task does not panic");
    answer
}

/// The request with its query signed afresh by the project's V1 signer.
fn resign(h: &Harness, raw: &[u8]) -> Vec<u8> {
    let Some(line_end) = raw.windows(2).position(|w| w == b"\r\n") else {
        return raw.to_vec();
    };
    let line = String::from_utf8_lossy(&raw[..line_end]);
    let mut parts = line.splitn(3, ' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return raw.to_vec();
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut action = "DescribeRegions".to_string();
    let mut api_version = "2014-05-26".to_string();
    let mut format = None;
    let mut params = Vec::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "Action" => action = v.into_owned(),
            "Version" => api_version = v.into_owned(),
            "Format" => format = Some(v.into_owned()),
            k if secgroup_rpc::params::is_protocol_param(k) => {}
            _ => params.push((k.into_owned(), v.into_owned())),
        }
    }
    let common: Vec<(&str, &str)> = format.iter().map(|f| ("Format", f.as_str())).collect();
    let signed = sign_v1_with(
        &V1Call {
            method,
            version: &api_version,
            action: &action,
            params: &params,
        },
        V1Key {
            access_key_id: &h.key_id,
            access_key_secret: &h.secret,
        },
        Utc::now(),
        &common,
    );
    let mut out = format!("{method} {path}?{} {version}", encode_pairs(&signed)).into_bytes();
    out.extend_from_slice(&raw[line_end..]);
    out
}

/// Every response in `answer` is well-formed and an Alibaba answer.
fn check(request: &[u8], answer: &[u8]) {
    let shown = || String::from_utf8_lossy(request).into_owned();
    let mut rest = answer;
    let mut answered = false;
    while !rest.is_empty() {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let head_len = match response.parse(rest) {
            Ok(httparse::Status::Complete(n)) => n,
            other => panic!(
                "not an HTTP response ({other:?}): {:?}\nrequest: {:?}",
                String::from_utf8_lossy(rest),
                shown()
            ),
        };
        let status = response.code.expect("status");
        let header = |name: &str| {
            response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).into_owned())
        };
        if (100..200).contains(&status) {
            // `100 Continue` before the real answer.
            rest = &rest[head_len..];
            continue;
        }
        answered = true;
        assert!(
            status < 500 || status == 503,
            "status {status}\nrequest: {:?}",
            shown()
        );
        let length: usize = header("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or_else(|| panic!("no content-length (status {status}): {:?}", shown()));
        let body = rest
            .get(head_len..head_len + length)
            .unwrap_or_else(|| panic!("truncated body: {:?}", shown()));
        rest = &rest[head_len + length..];
        assert!(
            header("x-acs-request-id").is_some(),
            "no request id: {:?}",
            shown()
        );
        let body = std::str::from_utf8(body).expect("UTF-8 body");
        if header("content-security-policy").is_some() {
            // The web console's answer (a path under /console/, docs/console.md §1): a page,
            // its stylesheet or a redirect, never the envelope.
            let content_type = header("content-type").unwrap_or_default();
            assert!(
                ["text/html;", "text/css;", "text/plain;"]
                    .iter()
                    .any(|t| content_type.starts_with(t)),
                "console content type {content_type:?}: {:?}",
                shown()
            );
            continue;
        }
        match header("content-type").as_deref() {
            Some("application/json;charset=utf-8") => json_answer(status, body, &shown),
            Some("text/xml;charset=utf-8") => xml_answer(status, body, &shown),
            other => panic!(
                "content type {other:?} (status {status}): {body:?}\nrequest: {:?}",
                shown()
            ),
        }
    }
    // Empty lines before the request line are skipped, as hyper's parser skips them: they
    // end no head (found by this target: `\n\n\r\n\r\n` alone is no request at all).
    let from = request
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(request.len());
    if request[from..].windows(4).any(|w| w == b"\r\n\r\n") {
        assert!(answered, "a complete head got no answer: {:?}", shown());
    }
}

fn json_answer(status: u16, body: &str, shown: &dyn Fn() -> String) {
    let value: serde_json::Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("JSON ({e}): {body:?}\nrequest: {:?}", shown()));
    assert!(value["RequestId"].is_string(), "{body}");
    if status != 200 {
        for field in ["HostId", "Code", "Message", "Recommend"] {
            assert!(value[field].is_string(), "{field} in {body}");
        }
    }
}

fn xml_answer(status: u16, body: &str, shown: &dyn Fn() -> String) {
    let doc = roxmltree::Document::parse(body)
        .unwrap_or_else(|e| panic!("XML ({e}): {body:?}\nrequest: {:?}", shown()));
    let root = doc.root_element();
    let names: Vec<&str> = root
        .children()
        .filter(roxmltree::Node::is_element)
        .map(|n| n.tag_name().name())
        .collect();
    if status == 200 {
        assert!(root.tag_name().name().ends_with("Response"), "{body}");
        assert_eq!(names.first(), Some(&"RequestId"), "{body}");
    } else {
        assert_eq!(root.tag_name().name(), "Error", "{body}");
        assert_eq!(
            names,
            ["RequestId", "HostId", "Code", "Message", "Recommend"],
            "{body}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `!` inputs really get past the signature: the products answer them.
    #[test]
    fn resigned_requests_reach_the_products() {
        let h = harness();
        for (query, expect) in [
            (
                "Action=DescribeRegions&Version=2014-05-26&Format=JSON",
                "\"Regions\"",
            ),
            (
                "Action=DescribeVpcs&Version=2016-04-28&RegionId=cn-hangzhou&Format=XML",
                "<DescribeVpcsResponse>",
            ),
        ] {
            let raw = format!("GET /?{query} HTTP/1.1\r\nHost: x\r\n\r\n");
            let request = resign(h, raw.as_bytes());
            let answer = h.runtime.block_on(exchange(h, &request));
            let text = String::from_utf8_lossy(&answer);
            assert!(text.starts_with("HTTP/1.1 200"), "{text}");
            assert!(text.contains(expect), "{text}");
            check(&request, &answer);
        }
    }
}

//! Connection hygiene, load shedding and throttling end to end, on raw sockets: what a
//! slow, idle, greedy or oversized client gets, and that the others keep being served.

mod common;

use std::time::{Duration, Instant};

use common::{TestClient, TestServer};
use secgroup::Settings;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Settings with short timeouts, so that the tests wait fractions of a second.
fn quick() -> Settings {
    let mut settings = Settings::default();
    settings.server.idle_timeout = Duration::from_millis(400);
    settings.server.header_read_timeout = Duration::from_millis(400);
    settings.server.body_read_timeout = Duration::from_millis(400);
    settings
}

/// The request line and headers of a signed V1 call, ready to write on a socket.
fn signed_head(c: &TestClient, action: &str, extra_headers: &str) -> String {
    let path = c.signed_path("GET", action, vec![], &[("Format", "JSON")]);
    format!(
        "GET {path} HTTP/1.1\r\nhost: {}\r\n{extra_headers}\r\n",
        c.addr()
    )
}

/// Reads one whole HTTP/1.1 response (with a content-length) from `stream`.
async fn read_response(stream: &mut TcpStream) -> (u16, String, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("a response within 5 s")
            .expect("read");
        assert!(
            n > 0,
            "connection closed before a full response: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        let Some(head_end) = text.find("\r\n\r\n") else {
            continue;
        };
        let head = &text[..head_end];
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        if buf.len() >= head_end + 4 + length {
            let status = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .expect("status");
            let body = text[head_end + 4..head_end + 4 + length].to_string();
            return (status, head.to_string(), body);
        }
    }
}

/// Whether the server closes `stream` within `within` (reads EOF or a reset).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut byte = [0u8; 1];
    match tokio::time::timeout(within, stream.read(&mut byte)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) => panic!("unexpected bytes from the server"),
        Err(_) => false,
    }
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// The envelope's five fields, with the code and a request id.
fn assert_envelope(body: &str, code: &str) {
    let v = json(body);
    assert_eq!(v["Code"], code, "{body}");
    for field in ["RequestId", "HostId", "Message", "Recommend"] {
        assert!(v.get(field).is_some(), "{field} missing: {body}");
    }
    assert!(
        v["RequestId"].as_str().is_some_and(|id| id.len() == 36),
        "{body}"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let server = TestServer::start_with(quick()).await;
    let c = server.new_account().await;
    let mut s = TcpStream::connect(server.addr).await.expect("connect");
    s.write_all(signed_head(&c, "DescribeRegions", "").as_bytes())
        .await
        .expect("write");
    let (status, _, _) = read_response(&mut s).await;
    assert_eq!(status, 200);
    // Kept alive for the next request…
    assert!(!closed_within(&mut s, Duration::from_millis(150)).await);
    // …but not forever.
    let started = Instant::now();
    assert!(closed_within(&mut s, Duration::from_secs(3)).await);
    assert!(started.elapsed() < Duration::from_secs(2));

    // A connection that never sends a byte is idle from the start.
    let mut silent = TcpStream::connect(server.addr).await.expect("connect");
    assert!(closed_within(&mut silent, Duration::from_secs(3)).await);
}

#[tokio::test]
async fn a_slow_head_is_cut_and_a_slow_body_answered_408() {
    let mut settings = quick();
    settings.server.idle_timeout = Duration::from_secs(30);
    let server = TestServer::start_with(settings).await;
    let c = server.new_account().await;

    // Half a head, then nothing: closed after the header-read timeout, not the idle one.
    let mut s = TcpStream::connect(server.addr).await.expect("connect");
    s.write_all(b"POST /?Action=DescribeRegions&Format=JSON HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    assert!(closed_within(&mut s, Duration::from_secs(5)).await);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // A whole head, then a body that stops short: 408 in the envelope, then closed.
    let mut s = TcpStream::connect(server.addr).await.expect("connect");
    let path = c.signed_path("POST", "DescribeRegions", vec![], &[("Format", "JSON")]);
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\nAcceptLanguage=en"
    );
    s.write_all(head.as_bytes()).await.expect("write");
    let (status, head, body) = read_response(&mut s).await;
    assert_eq!(status, 408, "{body}");
    assert_envelope(&body, "RequestTimeout");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    assert!(closed_within(&mut s, Duration::from_secs(3)).await);
}

#[tokio::test]
async fn past_the_connection_cap_new_connections_get_503_and_the_rest_keep_working() {
    let mut settings = quick();
    settings.server.max_connections = 4;
    settings.server.idle_timeout = Duration::from_secs(1);
    let server = TestServer::start_with(settings).await;
    let c = server.new_account().await;

    // A greedy client holds every slot with idle sockets.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(server.addr).await.expect("connect"));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut extra = TcpStream::connect(server.addr).await.expect("connect");
    let (status, head, body) = read_response(&mut extra).await;
    assert_eq!(status, 503, "{head}");
    assert_envelope(&body, "ServiceUnavailable");
    assert!(closed_within(&mut extra, Duration::from_secs(2)).await);

    // Freed slots serve again: one closed by the client, the rest by the idle timeout.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let r = c.call("DescribeRegions", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for s in &mut held {
        assert!(closed_within(s, Duration::from_millis(500)).await);
    }
    let r = c.call("DescribeRegions", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn past_the_in_flight_cap_a_request_is_shed_with_503_not_queued() {
    let mut settings = quick();
    settings.server.max_in_flight = 1;
    settings.server.body_read_timeout = Duration::from_secs(5);
    let server = TestServer::start_with(settings).await;
    let c = server.new_account().await;

    // One request holds the only slot while its body trickles in.
    let mut slow = TcpStream::connect(server.addr).await.expect("connect");
    let path = c.signed_path("POST", "DescribeRegions", vec![], &[("Format", "JSON")]);
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 21\r\n\r\n"
    );
    slow.write_all(head.as_bytes()).await.expect("write");
    tokio::time::sleep(Duration::from_millis(150)).await;

    let started = Instant::now();
    let shed = c.call("DescribeRegions", &[]).await;
    assert_eq!(shed.status, 503, "{}", shed.body);
    assert_envelope(&shed.body, "ServiceUnavailable");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "answered at once"
    );

    slow.write_all(b"AcceptLanguage=en-US&")
        .await
        .expect("write");
    let (status, _, body) = read_response(&mut slow).await;
    // The body's own parameter makes it differ from what was signed: it was read and used.
    assert_eq!(status, 400, "{body}");
    assert_envelope(&body, "SignatureDoesNotMatch");
    let again = c.call("DescribeRegions", &[]).await;
    assert_eq!(again.status, 200, "{}", again.body);
}

#[tokio::test]
async fn oversized_request_lines_and_heads_get_414_and_431_in_the_envelope() {
    let server = TestServer::start_with(quick()).await;

    // 414, JSON when the query asks for it.
    let long = "a".repeat(70 * 1024);
    let mut s = TcpStream::connect(server.addr).await.expect("connect");
    let request = format!("GET /?Format=JSON&Filler={long} HTTP/1.1\r\nhost: x\r\n\r\n");
    s.write_all(request.as_bytes()).await.expect("write");
    let (status, head, body) = read_response(&mut s).await;
    assert_eq!(status, 414, "{head}");
    assert_envelope(&body, "RequestURITooLong");
    assert!(closed_within(&mut s, Duration::from_secs(2)).await);

    // 414 in XML (the default format) past hyper's own URI limit as well.
    let mut s = TcpStream::connect(server.addr).await.expect("connect");
    let request = format!(
        "GET /?Filler={} HTTP/1.1\r\nhost: x\r\n\r\n",
        "b".repeat(200 * 1024)
    );
    let _ = s.write_all(request.as_bytes()).await;
    let (status, head, body) = read_response(&mut s).await;
    assert_eq!(status, 414, "{head}");
    assert!(head.contains("text/xml"), "{head}");
    assert!(
        body.contains("<Code>RequestURITooLong</Code>") && body.contains("<RequestId>"),
        "{body}"
    );

    // 431: one huge header, and too many headers.
    let mut s = TcpStream::connect(server.addr).await.expect("connect");
    let request = format!(
        "GET /?Format=JSON HTTP/1.1\r\nhost: x\r\nx-filler: {}\r\n\r\n",
        "c".repeat(200 * 1024)
    );
    let _ = s.write_all(request.as_bytes()).await;
    let (status, _, body) = read_response(&mut s).await;
    assert_eq!(status, 431);
    assert_envelope(&body, "RequestHeaderFieldsTooLarge");
    let mut s = TcpStream::connect(server.addr).await.expect("connect");
    let headers: String = (0..150).map(|i| format!("x-h{i}: v\r\n")).collect();
    let request = format!("GET /?Format=JSON HTTP/1.1\r\nhost: x\r\n{headers}\r\n");
    s.write_all(request.as_bytes()).await.expect("write");
    let (status, _, body) = read_response(&mut s).await;
    assert_eq!(status, 431);
    assert_envelope(&body, "RequestHeaderFieldsTooLarge");
}

/// A head that is no HTTP/1.1 request gets `MalformedRequest` (400) in the envelope, never
/// hyper's bare 400 (found by the `http` fuzz target; docs/protocol.md §1.4).
#[tokio::test]
async fn malformed_heads_get_400_malformed_request_in_the_envelope() {
    let server = TestServer::start_with(quick()).await;
    for request in [
        "GET /?Format=JSON HTTP/1.1\r\nBad Header\r\n\r\n",
        "GET /?Format=JSON HTTP/1.1\r\nhost: x\r\ncontent-length: +1\r\n\r\n",
        "GET /?Format=JSON HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
        "POST /?Format=JSON HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n",
        "POST /?Format=JSON HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n",
        "G@T /?Format=JSON HTTP/1.1\r\n\r\n",
    ] {
        let mut s = TcpStream::connect(server.addr).await.expect("connect");
        s.write_all(request.as_bytes()).await.expect("write");
        let (status, head, body) = read_response(&mut s).await;
        assert_eq!(status, 400, "{request:?}: {head}");
        assert_envelope(&body, "MalformedRequest");
        assert!(closed_within(&mut s, Duration::from_secs(2)).await);
    }
    // In XML when nothing asks for JSON; and a stream that ends inside a malformed head.
    let mut s = TcpStream::connect(server.addr).await.expect("connect");
    s.write_all(b"GET / HTTP/1.1\r\nBad Header\r\n")
        .await
        .expect("write");
    s.shutdown().await.expect("half-close");
    let (status, head, body) = read_response(&mut s).await;
    assert_eq!(status, 400, "{head}");
    assert!(head.contains("text/xml"), "{head}");
    assert!(body.contains("<Code>MalformedRequest</Code>"), "{body}");
}

/// A body whose framing breaks is malformed, not too large (docs/protocol.md §1.4): a bad
/// chunk size, and a body that ends before its Content-Length (the 413 branch is a unit test
/// of `read_limited` in secgroup-rpc).
#[tokio::test]
async fn broken_bodies_get_400_malformed_request_and_only_large_ones_413() {
    let server = TestServer::start_with(quick()).await;
    let head = "POST /?Format=JSON HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\n";
    for (framing, body, half_close) in [
        (
            "transfer-encoding: chunked\r\n",
            "zz\r\nAction=x\r\n0\r\n\r\n",
            false,
        ),
        ("content-length: 40\r\n", "Action=DescribeRegions", true),
    ] {
        let mut s = TcpStream::connect(server.addr).await.expect("connect");
        s.write_all(format!("{head}{framing}\r\n{body}").as_bytes())
            .await
            .expect("write");
        if half_close {
            s.shutdown().await.expect("half-close");
        }
        let (status, head, body) = read_response(&mut s).await;
        assert_eq!(status, 400, "{framing:?}: {head}");
        assert_envelope(&body, "MalformedRequest");
    }
}

/// A client that closes its sending side right after its request still gets the answer.
#[tokio::test]
async fn a_client_that_half_closes_after_its_request_is_answered() {
    let server = TestServer::start_with(quick()).await;
    let c = server.new_account().await;
    let mut s = TcpStream::connect(server.addr).await.expect("connect");
    let head = signed_head(&c, "DescribeRegions", "");
    s.write_all(head.as_bytes()).await.expect("write");
    s.shutdown().await.expect("half-close");
    let (status, _, body) = read_response(&mut s).await;
    assert_eq!(status, 200, "{body}");
    assert!(closed_within(&mut s, Duration::from_secs(2)).await);
}

#[tokio::test]
async fn throttling_counts_per_account_action_and_region() {
    let mut settings = Settings::default();
    settings.server.throttle.per_minute = Some(3);
    settings
        .server
        .throttle
        .per_action
        .insert("DescribeSecurityGroups".into(), 1);
    let server = TestServer::start_with(settings).await;
    let a = server.new_account().await;
    let b = server.new_account().await;
    for _ in 0..3 {
        let r = a.call("DescribeRegions", &[]).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = a.call("DescribeRegions", &[]).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "Throttling.User"),
        "{}",
        r.body
    );
    assert_eq!(
        r.json()["Message"],
        "Request was denied due to user flow control."
    );
    assert!(r.json()["RequestId"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));
    // Other accounts, regions and actions have their own counters.
    assert_eq!(b.call("DescribeRegions", &[]).await.status, 200);
    assert_eq!(
        a.call("DescribeRegions", &[("RegionId", "cn-beijing")])
            .await
            .status,
        200
    );
    let first = a.call("DescribeSecurityGroups", &[]).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let second = a.call("DescribeSecurityGroups", &[]).await;
    assert_eq!(second.code(), "Throttling.User");
}

#[tokio::test]
async fn no_retry_after_and_defaults_leave_throttling_off() {
    let mut settings = Settings::default();
    settings.server.throttle.per_minute = Some(1);
    let server = TestServer::start_with(settings).await;
    let c = server.new_account().await;
    let mut s = TcpStream::connect(server.addr).await.expect("connect");
    for expected in [200, 400] {
        s.write_all(signed_head(&c, "DescribeRegions", "").as_bytes())
            .await
            .expect("write");
        let (status, head, _) = read_response(&mut s).await;
        assert_eq!(status, expected);
        let head = head.to_ascii_lowercase();
        assert!(!head.contains("retry-after"), "{head}");
    }
    let server = TestServer::start().await;
    let c = server.new_account().await;
    for _ in 0..50 {
        assert_eq!(c.call("DescribeRegions", &[]).await.status, 200);
    }
}

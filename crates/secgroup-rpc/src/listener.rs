//! The accept loop and connection hygiene: what one client may hold, and for how long.
//!
//! - At most [`ServerConfig::max_connections`] connections are served at once; past that a
//!   new connection gets a `ServiceUnavailable` envelope (503) and is closed, instead of
//!   waiting in the kernel's backlog while open sockets eat the process's descriptors.
//! - A connection that sends nothing for [`ServerConfig::idle_timeout`] between requests, or
//!   takes longer than [`ServerConfig::header_read_timeout`] to send a request's head once
//!   it started, is closed. (The body has its own deadline, enforced by the handler.)
//! - A request line longer than [`ServerConfig::max_request_line_bytes`] is answered 414,
//!   and a head longer than [`ServerConfig::max_header_bytes`] 431, both in the Alibaba
//!   envelope: [`HeadGuard`] holds each head back until it is complete, so hyper's own
//!   (bodiless) answers to oversized heads are never reached.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use tower::ServiceExt;

use crate::error::{error_body, RpcError};
use crate::render::Format;
use crate::server::ServerConfig;

/// What the handler learns about the connection a request came on.
#[derive(Clone)]
pub struct ConnectionInfo {
    pub peer: SocketAddr,
    state: Arc<ConnState>,
}

impl ConnectionInfo {
    /// The refusal the head guard decided (414, 431 or 400) instead of passing a head on,
    /// and whether that head asked for JSON — only for the stand-in request that carries
    /// the connection's secret token (`headers`), never for a request the client sent
    /// before it (pipelined, still being answered).
    pub(crate) fn head_refusal(&self, headers: &http::HeaderMap) -> Option<(RpcError, Format)> {
        let token = headers.get(STAND_IN_TOKEN_HEADER)?;
        if token.as_bytes() != self.state.token.as_bytes() {
            return None;
        }
        let refusal = self
            .state
            .refusal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        refusal.map(|r| (r.error(), r.format))
    }

    /// Tells the connection that the handler read the whole request body: the next bytes
    /// from the client start the next request. (Without this call the connection is
    /// closed after the answer, so that an unread body is never taken for a head.)
    pub(crate) fn body_read(&self) {
        self.state.body_read.store(true, Ordering::Release);
    }
}

/// Why a head was not passed on.
#[derive(Debug, Clone, Copy)]
enum HeadRefusal {
    UriTooLong,
    HeaderTooLarge,
    /// A complete head that is no HTTP/1.x request hyper would take.
    Malformed,
}

#[derive(Debug, Clone)]
struct Refusal {
    kind: HeadRefusal,
    /// The limit that was broken, in bytes.
    limit: usize,
    format: Format,
}

impl Refusal {
    fn error(&self) -> RpcError {
        match self.kind {
            HeadRefusal::UriTooLong => RpcError::uri_too_long(self.limit),
            HeadRefusal::HeaderTooLarge => RpcError::header_too_large(self.limit),
            HeadRefusal::Malformed => RpcError::malformed_request(),
        }
    }
}

/// hyper refuses a URI over 65,534 bytes itself (without an envelope); a request line
/// this long holds a shorter URI whatever its method.
const MAX_LINE_BEFORE_HYPER: usize = 65_534 + 11;

/// Where a connection is in its request cycle; the watchdog's deadlines depend on it.
const IDLE: u8 = 0;
const READING_HEAD: u8 = 1;
const IN_REQUEST: u8 = 2;

/// Shared by a connection's I/O wrapper, its service and its watchdog.
struct ConnState {
    started: Instant,
    phase: AtomicU8,
    /// Milliseconds since `started` at which the current phase began.
    since_ms: AtomicU64,
    refusal: Mutex<Option<Refusal>>,
    /// Whether the current request's body was read whole.
    body_read: AtomicBool,
    /// Wakes the watchdog when a head starts: its deadline may be sooner than the idle one.
    head_started: Notify,
    /// Marks the stand-in request as the guard's (random: no client can send it).
    token: String,
}

impl ConnState {
    fn new() -> Self {
        ConnState {
            started: Instant::now(),
            phase: AtomicU8::new(IDLE),
            since_ms: AtomicU64::new(0),
            refusal: Mutex::new(None),
            body_read: AtomicBool::new(false),
            head_started: Notify::new(),
            token: uuid::Uuid::new_v4().simple().to_string(),
        }
    }
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
    fn enter(&self, phase: u8) {
        self.since_ms.store(self.now_ms(), Ordering::Release);
        self.phase.store(phase, Ordering::Release);
    }
}

/// Serves `app` on `listener` with the connection rules of `config` until `shutdown`
/// resolves; then stops accepting, asks every connection to finish its request in flight
/// and close, and returns when all have (or when `drain` has passed: the rest are cut).
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    config: &ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let graceful = GracefulShutdown::new();
    let builder = http1_builder(config);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors (EMFILE/ENFILE) or a connection reset before it
                    // was accepted: wait a moment instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tokio::spawn(refuse_connection(stream));
            continue;
        };
        let (conn, state) = connection(stream, peer, app.clone(), config, &builder);
        let conn = graceful.watch(conn);
        let limits = (config.idle_timeout, config.header_read_timeout);
        tokio::spawn(async move {
            tokio::select! {
                result = conn => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, %peer, "connection ended with an error");
                    }
                }
                () = watchdog(state, limits.0, limits.1) => {
                    tracing::debug!(%peer, "connection closed: timed out");
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(drain) => {
            tracing::warn!("drain deadline reached; closing remaining connections");
        }
    }
    Ok(())
}

/// hyper's HTTP/1 settings for [`serve`] and [`serve_connection`].
fn http1_builder(config: &ServerConfig) -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // The head guard enforces the real limits on heads first; hyper's own are the
        // backstop and are never reached (their answers carry no envelope).
        .max_buf_size(config.max_header_bytes.saturating_mul(2).max(8192))
        .header_read_timeout(None)
        // A client that closes its sending side after its request (`shutdown(SHUT_WR)`)
        // still gets its answer; hyper's default drops the request at that end of stream.
        .half_close(true);
    builder
}

/// One connection as [`serve`] runs it: the head guard around `io`, the service that hands
/// each request to `app`, and the shared state its watchdog reads. (The service's type is
/// a closure's, so it can only be written as `impl`, in full.)
#[allow(clippy::type_complexity)]
fn connection<T>(
    io: T,
    peer: SocketAddr,
    app: axum::Router,
    config: &ServerConfig,
    builder: &hyper::server::conn::http1::Builder,
) -> (
    hyper::server::conn::http1::Connection<
        TokioIo<HeadGuard<T>>,
        impl hyper::service::Service<
                hyper::Request<hyper::body::Incoming>,
                Response = axum::response::Response,
                Error = std::convert::Infallible,
                Future = impl Send,
            > + Send,
    >,
    Arc<ConnState>,
)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let state = Arc::new(ConnState::new());
    let info = ConnectionInfo {
        peer,
        state: Arc::clone(&state),
    };
    let io = TokioIo::new(HeadGuard::new(
        io,
        Arc::clone(&state),
        config.max_request_line_bytes.min(MAX_LINE_BEFORE_HYPER),
        config.max_header_bytes,
    ));
    let service_state = Arc::clone(&state);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
        request.extensions_mut().insert(info.clone());
        let app = app.clone();
        let state = Arc::clone(&service_state);
        async move {
            state.body_read.store(false, Ordering::Release);
            let request = request.map(axum::body::Body::new);
            let mut response = app.oneshot(request).await;
            if state.body_read.load(Ordering::Acquire) {
                // The answer is written next; what comes after it is the next request.
                state.enter(IDLE);
            } else if let Ok(response) = &mut response {
                response.headers_mut().insert(
                    http::header::CONNECTION,
                    http::HeaderValue::from_static("close"),
                );
            }
            response
        }
    });
    (builder.serve_connection(io, service), state)
}

/// Serves one already-accepted connection (any byte stream) exactly as [`serve`] serves
/// each of its connections — head guard, timeouts, the envelope for refused heads — until
/// the client is done or a timeout closes it. For in-process callers (the fuzzers) that
/// have no socket; [`serve`] adds the connection cap and graceful shutdown.
pub async fn serve_connection<T>(io: T, peer: SocketAddr, app: axum::Router, config: &ServerConfig)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let builder = http1_builder(config);
    let (conn, state) = connection(io, peer, app, config, &builder);
    tokio::select! {
        result = conn => {
            if let Err(e) = result {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        }
        () = watchdog(state, config.idle_timeout, config.header_read_timeout) => {
            tracing::debug!(%peer, "connection closed: timed out");
        }
    }
}

/// Resolves when the connection has been idle, or reading one head, for too long.
async fn watchdog(state: Arc<ConnState>, idle: Duration, head: Duration) {
    let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    loop {
        let phase = state.phase.load(Ordering::Acquire);
        let since = state.since_ms.load(Ordering::Acquire);
        let limit = match phase {
            IDLE => millis(idle),
            READING_HEAD => millis(head),
            // The handler bounds the body and the answer is written right after: look
            // again later.
            _ => {
                tokio::time::sleep(idle.min(head).max(Duration::from_millis(10))).await;
                continue;
            }
        };
        let deadline = since.saturating_add(limit);
        let now = state.now_ms();
        if now >= deadline {
            // Only if nothing moved on meanwhile (a new phase has a later `since`).
            if state.phase.load(Ordering::Acquire) == phase
                && state.since_ms.load(Ordering::Acquire) == since
            {
                return;
            }
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(deadline - now)) => {}
            () = state.head_started.notified() => {}
        }
    }
}

/// Answers a connection over the cap with a 503 envelope and closes it.
async fn refuse_connection(mut stream: TcpStream) {
    let body = error_body(
        Format::Json,
        &RpcError::service_unavailable(),
        &crate::server::new_request_id(),
        "",
        "Ecs",
    );
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        Format::Json.content_type(),
        body.len()
    );
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await
    };
    if tokio::time::timeout(Duration::from_secs(1), write)
        .await
        .is_err()
    {
        tracing::debug!("a refused connection did not take its answer in time");
    }
}

/// The request hyper sees in place of a head that was refused: small and complete, so
/// that the handler can answer it with the envelope (it finds the refusal in the
/// connection's state, which no client can set, when the stand-in carries the
/// connection's token).
fn stand_in_request(token: &str) -> Vec<u8> {
    format!(
        "GET / HTTP/1.1\r\nhost: refused\r\n{STAND_IN_TOKEN_HEADER}: {token}\r\nconnection: close\r\n\r\n"
    )
    .into_bytes()
}

const STAND_IN_TOKEN_HEADER: &str = "x-secgroup-refused";

/// What the guard expects next from the client: where one request ends is what lets it
/// check the next head too (pipelined requests), instead of leaving it to hyper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Head,
    /// This many body bytes (`Content-Length`).
    Body(u64),
    /// A chunked body, at this point of its framing.
    Chunked(Chunk),
    /// A body whose end the guard cannot tell (broken chunked framing): everything goes to
    /// hyper, which fails the body and closes the connection.
    Opaque,
}

/// Where a chunked body is (chunked transfer coding of HTTP/1.1, RFC 9112).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// In the hex size (`seen` digits so far, `size` their value).
    Size {
        size: u64,
        seen: bool,
    },
    /// After the size, up to the CR (extensions).
    Extension {
        size: u64,
    },
    /// The LF of the size line.
    SizeLf {
        size: u64,
    },
    Data {
        left: u64,
    },
    DataCr,
    DataLf,
    /// At the start of a trailer line (an empty one ends the body).
    TrailerStart,
    TrailerLine,
    TrailerLf,
    EndLf,
}

impl Chunk {
    /// The state after `b`; `None` when the framing is broken. `Some(None)` ends the body.
    fn step(self, b: u8) -> Option<Option<Chunk>> {
        let next = match self {
            Chunk::Size { size, seen } => match b {
                b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                    let digit = u64::from(char::from(b).to_digit(16)?);
                    Chunk::Size {
                        size: size.checked_mul(16)?.checked_add(digit)?,
                        seen: true,
                    }
                }
                b';' | b' ' | b'\t' if seen => Chunk::Extension { size },
                b'\r' if seen => Chunk::SizeLf { size },
                _ => return None,
            },
            Chunk::Extension { size } => match b {
                b'\r' => Chunk::SizeLf { size },
                b'\n' => return None,
                _ => Chunk::Extension { size },
            },
            Chunk::SizeLf { size } => match (b, size) {
                (b'\n', 0) => Chunk::TrailerStart,
                (b'\n', left) => Chunk::Data { left },
                _ => return None,
            },
            Chunk::Data { left } => match left {
                0 | 1 => Chunk::DataCr,
                left => Chunk::Data { left: left - 1 },
            },
            Chunk::DataCr => (b == b'\r').then_some(Chunk::DataLf)?,
            Chunk::DataLf => (b == b'\n').then_some(Chunk::Size {
                size: 0,
                seen: false,
            })?,
            Chunk::TrailerStart => match b {
                b'\r' => Chunk::EndLf,
                b'\n' => return None,
                _ => Chunk::TrailerLine,
            },
            Chunk::TrailerLine => match b {
                b'\r' => Chunk::TrailerLf,
                _ => Chunk::TrailerLine,
            },
            Chunk::TrailerLf => (b == b'\n').then_some(Chunk::TrailerStart)?,
            Chunk::EndLf => return (b == b'\n').then_some(None),
        };
        Some(Some(next))
    }
}

/// Wraps a connection's socket and holds each request head back until it is complete
/// (`\r\n\r\n`), so that its size and its time are checked before hyper parses it.
struct HeadGuard<T> {
    inner: T,
    state: Arc<ConnState>,
    max_line: usize,
    max_head: usize,
    /// The head read so far (while reading one).
    head: Vec<u8>,
    /// Bytes to hand to hyper before reading more: a complete head and whatever followed
    /// it in the same read, or the stand-in request.
    ready: Vec<u8>,
    ready_at: usize,
    /// After a refusal nothing more of the client's is read.
    refused: bool,
    scan: HeadScan,
    expect: Expect,
    /// Where the client's bytes are read before they are looked at: allocated (and zeroed)
    /// once per connection, not per read (zeroing 8 KiB on every poll cost Describe ~8 % of
    /// its instructions).
    chunk: Box<[u8]>,
}

/// The most bytes one read of a request head takes.
const HEAD_READ_CHUNK: usize = 8192;

impl<T> HeadGuard<T> {
    fn new(inner: T, state: Arc<ConnState>, max_line: usize, max_head: usize) -> Self {
        HeadGuard {
            inner,
            state,
            max_line,
            max_head,
            head: Vec::new(),
            ready: Vec::new(),
            ready_at: 0,
            refused: false,
            scan: HeadScan::default(),
            expect: Expect::Head,
            chunk: vec![0; HEAD_READ_CHUNK].into_boxed_slice(),
        }
    }

    /// Takes in bytes read from the client; bytes may become ready for hyper. Scans only
    /// the new bytes, so a head sent a byte at a time costs linear time.
    fn take_in(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && !self.refused {
            bytes = match self.expect {
                Expect::Head => {
                    // The head takes all the bytes in; what follows it comes back (at most
                    // one recursion per head in this read, each at least a request line).
                    let rest = self.take_head(bytes);
                    if !rest.is_empty() {
                        self.take_in(&rest);
                    }
                    return;
                }
                Expect::Opaque => {
                    self.ready.extend_from_slice(bytes);
                    &[]
                }
                Expect::Body(left) => {
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(bytes.len());
                    self.ready.extend_from_slice(&bytes[..n]);
                    let left = left - n as u64;
                    self.expect = if left == 0 {
                        Expect::Head
                    } else {
                        Expect::Body(left)
                    };
                    &bytes[n..]
                }
                Expect::Chunked(mut chunk) => {
                    let mut used = bytes.len();
                    let mut expect = Expect::Opaque;
                    for (i, &b) in bytes.iter().enumerate() {
                        match chunk.step(b) {
                            None => {
                                // Broken framing: hyper fails the body and closes.
                                expect = Expect::Opaque;
                                used = i;
                                break;
                            }
                            Some(None) => {
                                expect = Expect::Head;
                                used = i + 1;
                                break;
                            }
                            Some(Some(next)) => {
                                chunk = next;
                                expect = Expect::Chunked(chunk);
                            }
                        }
                    }
                    self.ready.extend_from_slice(&bytes[..used]);
                    self.expect = expect;
                    &bytes[used..]
                }
            };
        }
    }

    /// Takes in bytes of a head; returns what follows the head once it is complete.
    fn take_head(&mut self, bytes: &[u8]) -> Vec<u8> {
        if self.head.is_empty() {
            if self.state.phase.load(Ordering::Acquire) == IDLE {
                self.state.enter(READING_HEAD);
                self.state.head_started.notify_one();
            }
            self.scan = HeadScan::default();
        }
        let start = self.head.len();
        self.head.extend_from_slice(bytes);
        let mut end = None;
        // Line ends found with memchr: a byte-by-byte loop over the head cost Describe
        // some 3,500 instructions (BENCHMARKS.md).
        let mut from = start;
        while let Some(offset) = memchr::memchr(b'\n', &self.head[from..]) {
            let i = from + offset;
            from = i + 1;
            // A line ends at `i` (CRLF, or a bare LF, which hyper takes too).
            self.scan.lines += 1;
            let cr = i > 0 && self.head[i - 1] == b'\r';
            self.scan.line_end.get_or_insert(if cr { i - 1 } else { i });
            // An empty line ends the head where hyper would end it: `\r\n\r\n`, `\n\r\n`
            // or `\n\n` (found by the http fuzz target: the guard waited for `\r\n\r\n`
            // and passed the bytes between on unchecked). Empty lines before the request
            // line are skipped by the parser: the head is not over yet.
            let blank = (i >= 1 && self.head[i - 1] == b'\n')
                || (cr && i >= 2 && self.head[i - 2] == b'\n');
            if !blank {
                continue;
            }
            // One parse both tells whether the head is over and gives its framing (a
            // second parse of every head cost Describe some 1,200 instructions).
            match parse_head(&self.head[..=i]) {
                HeadParse::Partial => {}
                HeadParse::Malformed => {
                    end = Some((i + 1, None));
                    break;
                }
                HeadParse::Complete(expect, len) => {
                    end = Some((i + 1, Some((expect, len))));
                    break;
                }
            }
        }
        let head_len = end.as_ref().map_or(self.head.len(), |(end, _)| *end);
        let line_len = self.scan.line_end.unwrap_or(self.head.len());
        let framing = end.map(|(_, framing)| framing);
        let refusal = if line_len > self.max_line {
            Some((HeadRefusal::UriTooLong, self.max_line))
        } else if head_len > self.max_head || self.scan.lines > MAX_HEAD_LINES {
            Some((HeadRefusal::HeaderTooLarge, self.max_head))
        } else if framing.is_some_and(|f| f.is_none()) {
            Some((HeadRefusal::Malformed, 0))
        } else {
            None
        };
        if let Some((kind, limit)) = refusal {
            self.refuse(kind, limit);
            return Vec::new();
        }
        let Some(Some((framing, len))) = framing else {
            return Vec::new();
        };
        // The head ends where hyper ends it: at the first empty line, which may be a bare
        // `\n\n` before the CRLF one the scan found (found by the http fuzz target).
        // What follows is the body, and maybe more.
        let rest = self.head.split_off(len);
        self.ready.append(&mut self.head);
        self.state.enter(IN_REQUEST);
        self.expect = framing;
        rest
    }

    /// The client ended its stream with a head half sent. A head that can no longer become
    /// a request is refused with the envelope; hyper gets the rest, which it drops as an
    /// incomplete message (the client is gone), or answers when it is whole after all
    /// (hyper also ends a head at a bare `\n\n`).
    fn take_eof(&mut self) {
        match parse_head(&self.head) {
            HeadParse::Partial => self.ready.append(&mut self.head),
            HeadParse::Complete(..) => {
                // Whatever follows the head is checked as its body and the next head.
                let head = std::mem::take(&mut self.head);
                self.take_in(&head);
            }
            HeadParse::Malformed => self.refuse(HeadRefusal::Malformed, 0),
        }
    }

    /// Replaces the head by the stand-in request and records why.
    fn refuse(&mut self, kind: HeadRefusal, limit: usize) {
        let format = if contains_json(&self.head) {
            Format::Json
        } else {
            Format::Xml
        };
        *self
            .state
            .refusal
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Refusal {
            kind,
            limit,
            format,
        });
        self.head = Vec::new();
        self.ready.extend(stand_in_request(&self.state.token));
        self.refused = true;
        self.state.enter(IN_REQUEST);
    }
}

/// What hyper's request parser makes of the bytes of a head so far.
#[derive(Debug)]
enum HeadParse {
    /// Not a whole head yet.
    Partial,
    /// A head hyper would refuse with its own bare 400 (no envelope).
    Malformed,
    /// A head hyper parses into a request: its body's framing (`Content-Length`, chunked, or
    /// none) and the head's length as hyper reads it.
    Complete(Expect, usize),
}

/// The same checks as hyper's request parser, in its order: the request line and headers as
/// `httparse` reads them, the target as a URI, `Content-Length` values (digits only, equal
/// when repeated, unless a `Transfer-Encoding` came first), and `Transfer-Encoding` (HTTP/1.1
/// only, `chunked` last). docs/protocol.md §1.4.
fn parse_head(head: &[u8]) -> HeadParse {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEAD_LINES];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(head) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return HeadParse::Partial,
        Err(_) => return HeadParse::Malformed,
    };
    match framing(&request) {
        Some(expect) => HeadParse::Complete(expect, len),
        None => HeadParse::Malformed,
    }
}

/// The body's framing of a parsed head, or `None` when hyper would refuse the head.
fn framing(request: &httparse::Request<'_, '_>) -> Option<Expect> {
    let (Some(method), Some(path), Some(version)) = (request.method, request.path, request.version)
    else {
        return None;
    };
    if http::Method::from_bytes(method.as_bytes()).is_err() || !uri_parses(path.as_bytes()) {
        return None;
    }
    let (mut transfer_encoding, mut chunked, mut content_length) = (false, false, None::<u64>);
    for header in request.headers.iter() {
        if !header_name_parses(header.name.as_bytes()) {
            return None;
        }
        if header.name.eq_ignore_ascii_case("transfer-encoding") {
            if version != 1 {
                return None;
            }
            transfer_encoding = true;
            chunked = std::str::from_utf8(header.value).is_ok_and(|v| {
                v.rsplit(',')
                    .next()
                    .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
            });
        } else if header.name.eq_ignore_ascii_case("content-length") && !transfer_encoding {
            let length = plain_digits(header.value)?;
            if content_length.is_some_and(|seen| seen != length) {
                return None;
            }
            content_length = Some(length);
        }
    }
    Some(match (transfer_encoding, chunked, content_length) {
        (true, false, _) => return None,
        (true, true, _) => Expect::Chunked(Chunk::Size {
            size: 0,
            seen: false,
        }),
        (false, _, Some(n)) if n > 0 => Expect::Body(n),
        (false, _, _) => Expect::Head,
    })
}

/// Whether hyper takes `target` as a request URI. Building an `http::Uri` copies the target
/// into a buffer of its own (2,350 instructions of every Describe), so an origin-form target
/// of plain bytes, which is what clients send, is judged by its bytes; anything else gets
/// the real parse. The test `plain_targets_and_names_parse_as_http_does` holds the shortcut
/// to `http`'s own answer.
fn uri_parses(target: &[u8]) -> bool {
    let plain = target.first() == Some(&b'/')
        && target.len() <= MAX_TARGET
        && target.iter().all(|&b| plain_target_byte(b));
    plain || http::Uri::try_from(target).is_ok()
}

/// `http::Uri`'s longest target.
const MAX_TARGET: usize = u16::MAX as usize - 1;

/// Bytes that `http::Uri` accepts anywhere in a path and in a query: unreserved, sub-delims,
/// `:`, `@`, `/`, `?` and `%`. A table: a search of the list for every byte of a target cost
/// more than the parse it saves.
fn plain_target_byte(b: u8) -> bool {
    PLAIN_TARGET[usize::from(b)]
}

const PLAIN_TARGET: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let extra = b"-._~!$&'()*+,;=:@/?%";
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    table
};

/// Whether hyper takes `name` as a header name: letters, digits and `-` (every header a
/// client sends) are judged without building a `HeaderName`.
fn header_name_parses(name: &[u8]) -> bool {
    let plain = !name.is_empty()
        && name.len() <= MAX_HEADER_NAME
        && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-');
    plain || http::HeaderName::from_bytes(name).is_ok()
}

/// `http::HeaderName`'s longest name.
const MAX_HEADER_NAME: usize = (1 << 16) - 1;

/// A `Content-Length` as hyper reads one: ASCII digits only, at most `u64::MAX - 2`.
fn plain_digits(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    let mut n = 0u64;
    for &b in value {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    (n <= u64::MAX - 2).then_some(n)
}

/// What the scan of the current head found so far.
#[derive(Debug, Default)]
struct HeadScan {
    /// CRLFs seen (the request line, each header, the final empty line).
    lines: usize,
    /// Where the request line ends.
    line_end: Option<usize>,
}

/// More lines than hyper parses headers (100) would get hyper's own bodiless 431.
const MAX_HEAD_LINES: usize = 100;

/// Whether a head asks for JSON (`Format=JSON` in the query or `Accept: application/json`),
/// so that its refusal is rendered the way the client reads it.
fn contains_json(head: &[u8]) -> bool {
    head.windows(4).any(|w| w.eq_ignore_ascii_case(b"json"))
}

impl<T: AsyncRead + Unpin> AsyncRead for HeadGuard<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.ready_at < this.ready.len() {
                let n = buf.remaining().min(this.ready.len() - this.ready_at);
                buf.put_slice(&this.ready[this.ready_at..this.ready_at + n]);
                this.ready_at += n;
                if this.ready_at == this.ready.len() {
                    this.ready.clear();
                    this.ready_at = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.refused {
                // The stand-in is answered and the connection closed; read nothing more.
                return Poll::Pending;
            }
            let mut chunk = std::mem::take(&mut this.chunk);
            let mut chunk_buf = ReadBuf::new(&mut chunk);
            let read = Pin::new(&mut this.inner).poll_read(cx, &mut chunk_buf);
            let n = chunk_buf.filled().len();
            if let Poll::Ready(Ok(())) = read {
                if n > 0 {
                    this.take_in(&chunk[..n]);
                }
            }
            this.chunk = chunk;
            match read {
                Poll::Ready(Ok(())) if n == 0 => {
                    // End of stream with a head half sent.
                    if this.expect == Expect::Head && !this.head.is_empty() {
                        this.take_eof();
                        continue;
                    }
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Ok(())) => {}
                other => return other,
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for HeadGuard<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(max_line: usize, max_head: usize) -> HeadGuard<tokio::io::Empty> {
        HeadGuard::new(
            tokio::io::empty(),
            Arc::new(ConnState::new()),
            max_line,
            max_head,
        )
    }

    #[test]
    fn a_head_is_held_back_until_complete_then_passed_whole() {
        let mut g = guard(100, 1000);
        g.take_in(b"GET /?a=1 HTTP/1.1\r\nHost: x\r");
        assert!(g.ready.is_empty());
        assert_eq!(g.state.phase.load(Ordering::Acquire), READING_HEAD);
        g.take_in(b"\n\r\nbody");
        assert_eq!(g.ready, b"GET /?a=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(
            g.head, b"body",
            "no body declared: the start of the next head"
        );
        assert_eq!(g.state.phase.load(Ordering::Acquire), IN_REQUEST);
        let mut g = guard(100, 1000);
        g.take_in(b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nbody");
        g.take_in(b" more");
        assert!(g.ready.ends_with(b"\r\n\r\nbody more"));
        assert_eq!(g.expect, Expect::Head);
    }

    #[test]
    fn long_lines_and_heads_are_replaced_by_the_stand_in() {
        let mut g = guard(20, 1000);
        g.take_in(b"GET /?Format=JSON&aaaaaaaaaaaaaaaaaaaa");
        assert!(g.refused);
        assert_eq!(g.ready, stand_in_request(&g.state.token));
        let info = ConnectionInfo {
            peer: "127.0.0.1:1".parse().expect("addr"),
            state: Arc::clone(&g.state),
        };
        assert!(
            info.head_refusal(&http::HeaderMap::new()).is_none(),
            "only the stand-in"
        );
        let mut headers = http::HeaderMap::new();
        headers.insert(
            STAND_IN_TOKEN_HEADER,
            http::HeaderValue::from_str(&g.state.token).expect("token"),
        );
        let (err, format) = info.head_refusal(&headers).expect("refused");
        assert_eq!((err.status.as_u16(), format), (414, Format::Json));

        let mut g = guard(100, 40);
        g.take_in(b"GET / HTTP/1.1\r\nX: ");
        g.take_in(&[b'y'; 64]);
        assert!(g.refused);
        let refusal = g.state.refusal.lock().expect("lock").clone().expect("set");
        assert!(matches!(refusal.kind, HeadRefusal::HeaderTooLarge));
        assert_eq!(refusal.format, Format::Xml);
    }

    /// Heads hyper would answer with its own bare 400 are refused by the guard instead, so
    /// the handler answers `MalformedRequest` in the envelope (docs/protocol.md §1.4).
    #[test]
    fn malformed_heads_are_refused_with_the_stand_in() {
        for head in [
            &b"GET / HTTP/1.1\r\nBad Header\r\n\r\n"[..],
            b"GET /\x80 HTTP/1.1\r\n\r\n",
            b"GET / HTTP/2.0\r\n\r\n",
            b"G(T / HTTP/1.1\r\n\r\n",
            b"POST /?Format=JSON HTTP/1.1\r\nContent-Length: +1\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 18446744073709551614\r\n\r\n",
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        ] {
            let mut g = guard(1000, 1000);
            g.take_in(head);
            assert!(g.refused, "{:?}", String::from_utf8_lossy(head));
            let refusal = g.state.refusal.lock().expect("lock").clone().expect("set");
            assert!(matches!(refusal.kind, HeadRefusal::Malformed));
            assert_eq!(g.ready, stand_in_request(&g.state.token));
        }
        let mut g = guard(1000, 1000);
        g.take_in(b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert!(!g.refused);
        let mut g = guard(1000, 1000);
        g.take_in(b"GET /?a=%zz HTTP/1.0\r\nContent-Length: 0, 0\r\nx: \xff\r\n\r\n");
        assert!(g.refused, "a list in Content-Length is hyper's own 400 too");
        let mut g = guard(1000, 1000);
        g.take_in(b"GET /?a=%zz HTTP/1.0\r\nx: \xff\r\n\r\n");
        assert!(!g.refused, "well-formed HTTP, whatever the parameters say");
    }

    /// A stream that ends inside a head: refused when it can no longer be a request,
    /// passed on (and dropped by hyper) when it still could.
    #[test]
    fn a_head_cut_short_is_refused_only_when_already_malformed() {
        let mut g = guard(1000, 1000);
        g.take_in(b"GET / HTTP/1.1\r\nBad Header\r\n");
        g.take_eof();
        assert!(g.refused);
        let mut g = guard(1000, 1000);
        g.take_in(b"GET / HTTP/1.1\r\nHost: x\r\n");
        g.take_eof();
        assert!(!g.refused);
        assert_eq!(g.ready, b"GET / HTTP/1.1\r\nHost: x\r\n");
        let mut g = guard(1000, 1000);
        g.take_in(b"GET / HTTP/1.1\n\n");
        g.take_eof();
        assert!(!g.refused);
    }

    /// Found by the `http` fuzz target: a pipelined head after a complete request went to
    /// hyper unchecked, which answered a malformed one with its bare 400. The guard now
    /// follows each request's framing (`Content-Length`, chunked) to the next head.
    #[test]
    fn pipelined_heads_are_checked_after_each_body() {
        let mut g = guard(1000, 1000);
        g.take_in(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /?Format=JSON HTTP/1.1\rzHost: y\r\n\r\n");
        assert!(g.refused);
        assert!(g
            .ready
            .starts_with(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nhost: refused"));

        let mut g = guard(1000, 1000);
        g.take_in(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nA=1&B");
        g.take_in(b"GET / HTTP/1.1\r\nHost: y\r\n\r\n");
        assert!(!g.refused);
        assert!(g.ready.ends_with(b"A=1&BGET / HTTP/1.1\r\nHost: y\r\n\r\n"));

        let chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nA=1\r\nA\r\n&B=2222222\r\n0\r\nTrailer: t\r\n\r\n";
        let mut g = guard(1000, 1000);
        let mut all = chunked.to_vec();
        all.extend_from_slice(b"BAD\r\n\r\n");
        // Byte by byte, as a slow client sends it.
        for b in &all {
            g.take_in(std::slice::from_ref(b));
        }
        assert!(g.refused, "the head after the chunked body is checked");
        assert!(g.ready.starts_with(chunked));

        let mut g = guard(1000, 1000);
        g.take_in(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET");
        assert_eq!(
            g.expect,
            Expect::Opaque,
            "broken framing is hyper's to refuse"
        );
        assert!(!g.refused);
    }

    /// Found by the `http` fuzz target: hyper ends a head at a bare `\n\n`, so the bytes
    /// after it up to the CRLF the guard waited for are the next request, checked as such.
    #[test]
    fn a_head_ends_at_a_bare_blank_line_as_hyper_reads_it() {
        let mut g = guard(1000, 1000);
        g.take_in(b"GET / HTTP/1.1\r\nHost: x\n\nestiGET /x HTTP/1.0\r\nC: a\x00b\r\n\r\n");
        assert!(g.refused, "the rest is a malformed second head");
        assert!(g
            .ready
            .starts_with(b"GET / HTTP/1.1\r\nHost: x\n\nGET / HTTP/1.1\r\nhost: refused"));
        let mut g = guard(1000, 1000);
        g.take_in(b"GET / HTTP/1.1\nHost: x\n\nGET /y HTTP/1.1\r\n\r\n");
        assert!(!g.refused);
        assert_eq!(
            g.ready,
            b"GET / HTTP/1.1\nHost: x\n\nGET /y HTTP/1.1\r\n\r\n"
        );
    }

    /// Found by the `http` fuzz target: `\n\r\n` ends a head for hyper too, and at the end
    /// of the stream what follows a head is still checked.
    #[test]
    fn heads_end_at_any_empty_line_hyper_takes() {
        let mut g = guard(1000, 1000);
        g.take_in(b"GET /a HTTP/1.1\n\r\n");
        assert_eq!(
            g.ready, b"GET /a HTTP/1.1\n\r\n",
            "complete without waiting"
        );
        let mut g = guard(1000, 1000);
        g.take_in(b"\r\n\n\nGET /a HTTP/1.1\r\n\r\n");
        assert!(!g.refused, "leading empty lines are skipped");
        assert!(g.ready.ends_with(b"GET /a HTTP/1.1\r\n\r\n"));
        let mut g = guard(1000, 1000);
        g.take_in(b"GET /a HTTP/1.1\nx: y\n\r\n%2A~\x00 HTTP/1.1\n\r\n");
        assert!(g.refused);
        let mut g = guard(1000, 1000);
        g.take_in(b"GET /a HTTP/1.1\r\nx: y\n\r\n");
        assert!(!g.refused);
    }

    /// The shortcuts of `uri_parses` and `header_name_parses` never accept what `http`
    /// refuses: every plain byte is valid in a path and in a query (so any string of them
    /// after a `/` is), up to `http`'s own length limits.
    #[test]
    fn plain_targets_and_names_parse_as_http_does() {
        for b in (0..=u8::MAX).filter(|&b| plain_target_byte(b)) {
            let c = char::from(b);
            for target in [
                format!("/{c}"),
                format!("/a{c}b?x{c}y"),
                format!("/?{c}{c}"),
            ] {
                assert!(http::Uri::try_from(target.as_str()).is_ok(), "{target:?}");
                assert!(uri_parses(target.as_bytes()));
            }
        }
        for b in (0..=u8::MAX).filter(|b| b.is_ascii_alphanumeric() || *b == b'-') {
            assert!(http::HeaderName::from_bytes(&[b, b, b]).is_ok(), "{b}");
        }
        let longest = format!("/{}", "a".repeat(MAX_TARGET - 1));
        assert!(http::Uri::try_from(longest.as_str()).is_ok() && uri_parses(longest.as_bytes()));
        let too_long = format!("/{}", "a".repeat(MAX_TARGET));
        assert!(
            http::Uri::try_from(too_long.as_str()).is_err() && !uri_parses(too_long.as_bytes())
        );
        let name = vec![b'a'; MAX_HEADER_NAME];
        assert!(http::HeaderName::from_bytes(&name).is_ok() && header_name_parses(&name));
        let name = vec![b'a'; MAX_HEADER_NAME + 1];
        assert!(http::HeaderName::from_bytes(&name).is_err() && !header_name_parses(&name));
        // What the shortcut leaves to `http` still gets its answer.
        for target in ["/a b", "/a\"b", "http://h/x", "*", "/#f", "/a|b"] {
            assert_eq!(
                uri_parses(target.as_bytes()),
                http::Uri::try_from(target).is_ok(),
                "{target:?}"
            );
        }
        assert!(!header_name_parses(b""));
        assert!(!header_name_parses(b"a b") && header_name_parses(b"x_y"));
    }
}

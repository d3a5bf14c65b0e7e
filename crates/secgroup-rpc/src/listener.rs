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
    /// The refusal the head guard decided for this request (414 or 431) instead of
    /// passing it on, and whether the head asked for JSON.
    pub(crate) fn head_refusal(&self) -> Option<(RpcError, Format)> {
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
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // The head guard enforces the real limits on heads first; hyper's own are the
        // backstop and are never reached (their answers carry no envelope).
        .max_buf_size(config.max_header_bytes.saturating_mul(2).max(8192))
        .header_read_timeout(None);
    let builder = Arc::new(builder);
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
        let state = Arc::new(ConnState::new());
        let info = ConnectionInfo {
            peer,
            state: Arc::clone(&state),
        };
        let io = TokioIo::new(HeadGuard::new(
            stream,
            Arc::clone(&state),
            config.max_request_line_bytes.min(MAX_LINE_BEFORE_HYPER),
            config.max_header_bytes,
        ));
        let app = app.clone();
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
        let conn = graceful.watch(builder.serve_connection(io, service));
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

/// The request hyper sees in place of a head that broke a limit: small and complete, so
/// that the handler can answer it with the envelope (it finds the refusal in the
/// connection's state, which no client can set).
const STAND_IN_REQUEST: &[u8] = b"GET / HTTP/1.1\r\nhost: refused\r\nconnection: close\r\n\r\n";

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
    /// Where a head's bytes are read before they are looked at: allocated (and zeroed) once
    /// per connection, not per read (zeroing 8 KiB on every poll cost Describe ~9 % of its
    /// instructions).
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
            chunk: vec![0; HEAD_READ_CHUNK].into_boxed_slice(),
        }
    }

    /// Takes in bytes read from the client; bytes may become ready for hyper. Scans only
    /// the new bytes, so a head sent a byte at a time costs linear time.
    fn take_in(&mut self, bytes: &[u8]) {
        if self.state.phase.load(Ordering::Acquire) == IN_REQUEST {
            // A body (or a pipelined request, which hyper's own limits then guard).
            self.ready.extend_from_slice(bytes);
            return;
        }
        if self.state.phase.load(Ordering::Acquire) == IDLE {
            self.state.enter(READING_HEAD);
            self.state.head_started.notify_one();
            self.scan = HeadScan::default();
        }
        let start = self.head.len();
        self.head.extend_from_slice(bytes);
        let mut end = None;
        for i in start..self.head.len() {
            if self.head[i] != b'\n' || i == 0 || self.head[i - 1] != b'\r' {
                continue;
            }
            // A CRLF ends at `i`.
            self.scan.lines += 1;
            self.scan.line_end.get_or_insert(i - 1);
            if i >= 3 && self.head[i - 3..i - 1] == *b"\r\n" {
                end = Some(i + 1);
                break;
            }
        }
        let head_len = end.unwrap_or(self.head.len());
        let line_len = self.scan.line_end.unwrap_or(self.head.len());
        let refusal = if line_len > self.max_line {
            Some((HeadRefusal::UriTooLong, self.max_line))
        } else if head_len > self.max_head || self.scan.lines > MAX_HEAD_LINES {
            Some((HeadRefusal::HeaderTooLarge, self.max_head))
        } else {
            None
        };
        if let Some((kind, limit)) = refusal {
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
            self.ready.extend_from_slice(STAND_IN_REQUEST);
            self.refused = true;
            self.state.enter(IN_REQUEST);
            return;
        }
        if end.is_some() {
            self.ready.append(&mut self.head);
            self.state.enter(IN_REQUEST);
        }
    }
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
            if this.state.phase.load(Ordering::Acquire) == IN_REQUEST {
                // A body: straight into hyper's buffer.
                return Pin::new(&mut this.inner).poll_read(cx, buf);
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
                    // End of stream: pass on what a half-sent head holds, so hyper
                    // sees the same truncated request it would have seen unguarded.
                    if !this.head.is_empty() {
                        this.ready.append(&mut this.head);
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
        assert_eq!(g.ready, b"GET /?a=1 HTTP/1.1\r\nHost: x\r\n\r\nbody");
        assert_eq!(g.state.phase.load(Ordering::Acquire), IN_REQUEST);
        g.take_in(b" more body");
        assert!(g.ready.ends_with(b" more body"));
    }

    #[test]
    fn long_lines_and_heads_are_replaced_by_the_stand_in() {
        let mut g = guard(20, 1000);
        g.take_in(b"GET /?Format=JSON&aaaaaaaaaaaaaaaaaaaa");
        assert!(g.refused);
        assert_eq!(g.ready, STAND_IN_REQUEST);
        let info = ConnectionInfo {
            peer: "127.0.0.1:1".parse().expect("addr"),
            state: Arc::clone(&g.state),
        };
        let (err, format) = info.head_refusal().expect("refused");
        assert_eq!((err.status.as_u16(), format), (414, Format::Json));

        let mut g = guard(100, 40);
        g.take_in(b"GET / HTTP/1.1\r\nX: ");
        g.take_in(&[b'y'; 64]);
        assert!(g.refused);
        let refusal = g.state.refusal.lock().expect("lock").clone().expect("set");
        assert!(matches!(refusal.kind, HeadRefusal::HeaderTooLarge));
        assert_eq!(refusal.format, Format::Xml);
    }
}

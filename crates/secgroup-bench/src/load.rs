//! The load generator: N keep-alive connections, one task each issuing signed requests
//! back to back for warmup + duration. Only requests that start after the warmup and
//! finish before the deadline are measured.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hyper::StatusCode;

use crate::client::Connection;
use crate::signing::{ActionParams, Signer};

/// Produces the business parameters of request number `seq` (0, 1, 2, … across all
/// connections of one scenario run).
pub type RequestGen = Arc<dyn Fn(u64) -> ActionParams + Send + Sync>;

#[derive(Debug, Clone, Copy)]
pub struct LoadConfig {
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

/// What one scenario run measured.
#[derive(Debug, Default)]
pub struct LoadResult {
    /// Responses (any status) to measured requests, plus measured transport failures.
    pub requests: u64,
    /// Measured requests that did not get HTTP 200 (transport failures included).
    pub errors: u64,
    /// Non-200 answers by status code.
    pub error_statuses: BTreeMap<u16, u64>,
    pub transport_errors: u64,
    /// The first non-200 body or transport error seen, for diagnosis.
    pub first_error: Option<String>,
    /// Latency of every measured response, in microseconds, sorted.
    pub latencies_us: Vec<u32>,
    /// The measured window.
    pub window: Duration,
}

impl LoadResult {
    pub fn requests_per_sec(&self) -> f64 {
        let secs = self.window.as_secs_f64();
        if secs > 0.0 {
            self.requests as f64 / secs
        } else {
            0.0
        }
    }

    /// Nearest-rank percentile of the latency, in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        percentile_us(&self.latencies_us, p) as f64 / 1000.0
    }

    fn merge(&mut self, other: LoadResult) {
        self.requests += other.requests;
        self.errors += other.errors;
        for (status, n) in other.error_statuses {
            *self.error_statuses.entry(status).or_default() += n;
        }
        self.transport_errors += other.transport_errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.latencies_us.extend(other.latencies_us);
    }
}

/// Nearest-rank percentile of sorted samples (0 when there are none).
pub fn percentile_us(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Runs the load against `addrs` (connection `i` goes to `addrs[i % addrs.len()]`) and
/// returns the merged measurements.
pub async fn run(
    addrs: &[SocketAddr],
    signer: Arc<Signer>,
    gen: RequestGen,
    config: LoadConfig,
) -> Result<LoadResult> {
    let mut connections = Vec::with_capacity(config.connections);
    for i in 0..config.connections {
        let addr = *addrs
            .get(i % addrs.len().max(1))
            .context("no server address")?;
        let conn = Connection::open(addr)
            .await
            .with_context(|| format!("opening connection {i} of {}", config.connections))?;
        connections.push(conn);
    }
    let seq = Arc::new(AtomicU64::new(0));
    let warm_end = Instant::now() + config.warmup;
    let end = warm_end + config.duration;
    let mut tasks = Vec::with_capacity(connections.len());
    for conn in connections {
        let (signer, gen, seq) = (signer.clone(), gen.clone(), seq.clone());
        tasks.push(tokio::spawn(connection_loop(
            conn, signer, gen, seq, warm_end, end,
        )));
    }
    let mut total = LoadResult {
        window: config.duration,
        ..LoadResult::default()
    };
    for task in tasks {
        total.merge(task.await.context("load task panicked")?);
    }
    total.latencies_us.sort_unstable();
    Ok(total)
}

async fn connection_loop(
    mut conn: Connection,
    signer: Arc<Signer>,
    gen: RequestGen,
    seq: Arc<AtomicU64>,
    warm_end: Instant,
    end: Instant,
) -> LoadResult {
    let mut out = LoadResult::default();
    loop {
        if Instant::now() >= end {
            break;
        }
        let call = gen(seq.fetch_add(1, Ordering::Relaxed));
        let path = signer.signed_path(&call);
        let started = Instant::now();
        let answer = conn.post(&path).await;
        let finished = Instant::now();
        let measured = started >= warm_end && finished <= end;
        match answer {
            Ok((status, body)) => {
                if !measured {
                    continue;
                }
                out.requests += 1;
                let micros = finished.duration_since(started).as_micros();
                out.latencies_us
                    .push(u32::try_from(micros).unwrap_or(u32::MAX));
                if status != StatusCode::OK {
                    out.errors += 1;
                    *out.error_statuses.entry(status.as_u16()).or_default() += 1;
                    if out.first_error.is_none() {
                        let text = String::from_utf8_lossy(&body);
                        out.first_error = Some(format!("HTTP {status}: {}", truncate(&text, 400)));
                    }
                }
            }
            Err(err) => {
                if started >= warm_end {
                    out.requests += 1;
                    out.errors += 1;
                    out.transport_errors += 1;
                    if out.first_error.is_none() {
                        out.first_error = Some(format!("transport: {err:#}"));
                    }
                }
                // Reconnect; if the server is gone, stop rather than spin.
                match Connection::open(conn.addr()).await {
                    Ok(fresh) => conn = fresh,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        match Connection::open(conn.addr()).await {
                            Ok(fresh) => conn = fresh,
                            Err(_) => break,
                        }
                    }
                }
            }
        }
    }
    out
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile_us(&samples, 50.0), 50);
        assert_eq!(percentile_us(&samples, 99.0), 99);
        assert_eq!(percentile_us(&samples, 100.0), 100);
        assert_eq!(percentile_us(&[7], 99.0), 7);
        assert_eq!(percentile_us(&[], 50.0), 0);
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "hé");
        assert_eq!(truncate("hi", 10), "hi");
    }
}

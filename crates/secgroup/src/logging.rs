//! The request log on stderr, written in batches: a request appends its line to a shared
//! buffer (no system call, no thread to wake), and a flusher thread writes what has
//! gathered every [`FLUSH_INTERVAL`], or at once when the buffer passes [`EAGER_BYTES`].
//! Handing each line to a logging thread cost about a tenth of the server's CPU under
//! load (a wake-up per line); this costs a copy.
//!
//! Never lossy: past [`MAX_BUFFERED_BYTES`] the request writes the batch itself rather
//! than drop a line. Lines keep their order: whoever writes a batch takes it and writes it
//! under one lock. Dropping the [`LogGuard`] writes what is left.

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long a line may wait before it is written.
const FLUSH_INTERVAL: Duration = Duration::from_millis(50);
/// A batch this large wakes the flusher before its interval is up.
const EAGER_BYTES: usize = 64 * 1024;
/// A batch this large is written by the request that grows it past the mark.
const MAX_BUFFERED_BYTES: usize = 1024 * 1024;

/// Where batches go: stderr in the server, anything in tests.
type Sink = Box<dyn Write + Send>;

struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
    /// Held while a batch is taken and written, so batches go out in order.
    sink: Mutex<Sink>,
}

#[derive(Default)]
struct Pending {
    lines: Vec<u8>,
    stopping: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves bytes, not broken invariants.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Writes whatever is pending now. Errors writing the log have nowhere to go.
    fn write_pending(&self) {
        let mut sink = lock(&self.sink);
        let batch = std::mem::take(&mut lock(&self.pending).lines);
        if !batch.is_empty() {
            let _ = sink.write_all(&batch);
            let _ = sink.flush();
        }
    }
}

/// The `tracing` writer: each formatted line is appended to the pending batch.
#[derive(Clone)]
pub struct BatchedWriter {
    shared: Arc<Shared>,
}

impl Write for BatchedWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let size = {
            let mut pending = lock(&self.shared.pending);
            pending.lines.extend_from_slice(data);
            pending.lines.len()
        };
        if size >= MAX_BUFFERED_BYTES {
            self.shared.write_pending();
        } else if size >= EAGER_BYTES {
            self.shared.wake.notify_one();
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedWriter {
    type Writer = BatchedWriter;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Stops the flusher and writes what is left when dropped.
pub struct LogGuard {
    shared: Arc<Shared>,
    flusher: Option<JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        lock(&self.shared.pending).stopping = true;
        self.shared.wake.notify_one();
        if let Some(flusher) = self.flusher.take() {
            let _ = flusher.join();
        }
        self.shared.write_pending();
    }
}

/// A writer into `sink` and the guard of its flusher thread.
pub fn batched(sink: Sink) -> io::Result<(BatchedWriter, LogGuard)> {
    let shared = Arc::new(Shared {
        pending: Mutex::new(Pending::default()),
        wake: Condvar::new(),
        sink: Mutex::new(sink),
    });
    let for_flusher = Arc::clone(&shared);
    let flusher = std::thread::Builder::new()
        .name("secgroup-log".into())
        .spawn(move || loop {
            let stopping = {
                let pending = lock(&for_flusher.pending);
                let (pending, _) = for_flusher
                    .wake
                    .wait_timeout_while(pending, FLUSH_INTERVAL, |p| {
                        !p.stopping && p.lines.len() < EAGER_BYTES
                    })
                    .unwrap_or_else(PoisonError::into_inner);
                pending.stopping
            };
            for_flusher.write_pending();
            if stopping {
                return;
            }
        })?;
    Ok((
        BatchedWriter {
            shared: Arc::clone(&shared),
        },
        LogGuard {
            shared,
            flusher: Some(flusher),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink the test can read back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            lock(&self.0).extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8_lossy(&lock(&self.0)).into_owned()
        }
    }

    #[test]
    fn lines_come_out_in_order_within_the_interval_and_at_the_end() {
        let out = Captured::default();
        let (writer, guard) = batched(Box::new(out.clone())).expect("flusher");
        let mut w = writer.clone();
        w.write_all(b"first\n").expect("write");
        // The flusher writes it within its interval, without being asked.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while out.text().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(FLUSH_INTERVAL / 5);
        }
        assert_eq!(out.text(), "first\n");

        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut w = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..500 {
                        w.write_all(format!("{t}:{i}\n").as_bytes()).expect("write");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("writer thread");
        }
        w.write_all(b"last\n").expect("write");
        drop(guard);
        let text = out.text();
        assert!(text.ends_with("last\n"), "the guard writes what is left");
        for t in 0..4 {
            let seen: Vec<usize> = text
                .lines()
                .filter_map(|l| l.strip_prefix(&format!("{t}:")))
                .map(|n| n.parse().expect("number"))
                .collect();
            assert_eq!(
                seen,
                (0..500).collect::<Vec<_>>(),
                "thread {t}: every line, in order"
            );
        }
    }

    #[test]
    fn a_large_backlog_is_written_by_the_request_that_makes_it() {
        let out = Captured::default();
        let (writer, _guard) = batched(Box::new(out.clone())).expect("flusher");
        let mut w = writer;
        let line = vec![b'x'; MAX_BUFFERED_BYTES];
        w.write_all(&line).expect("write");
        assert_eq!(
            out.text().len(),
            MAX_BUFFERED_BYTES,
            "written at once, not queued"
        );
    }
}

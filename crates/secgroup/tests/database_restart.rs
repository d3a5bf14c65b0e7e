//! PostgreSQL restarts under a `secgroup serve` that is under load: while the database is
//! down every request is answered, promptly, with 503 `ServiceUnavailable` (never a 500,
//! never a hang, never a crash); once it is back, requests succeed again without
//! restarting secgroup, and every write acknowledged before, during or after the outage is
//! there. The test runs a PostgreSQL server of its own (`scripts/postgres-for-tests.sh`) so
//! that stopping it disturbs no other test; it is skipped, with a message, when the machine
//! has no PostgreSQL binaries.

mod common;
mod pg;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{create_vpc, TestClient};
use pg::{Node, ThrowawayPostgres};

/// The longest any one request may take, outage or not (the store gives up on the
/// database after about 5 s).
const REQUEST_BOUND: Duration = Duration::from_secs(15);
/// Writers and readers of the steady stream.
const WRITERS: usize = 3;
const READERS: usize = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Before,
    /// The database has been stopped (the stop has completed).
    Down,
    /// It has been started again (the start has completed).
    Back,
}

/// One answered request of the stream.
#[derive(Debug)]
struct Outcome {
    /// The phase when the request was sent, and when its answer came.
    sent: Phase,
    answered: Phase,
    status: u16,
    code: String,
    took: Duration,
    /// The rule's port, for an `AuthorizeSecurityGroup`.
    port: Option<usize>,
}

struct Stream {
    phase: Mutex<Phase>,
    stop: AtomicBool,
    outcomes: Mutex<Vec<Outcome>>,
    /// Failures that end the test: no answer within the bound, a cut connection.
    failures: Mutex<Vec<String>>,
    next_port: AtomicUsize,
}

impl Stream {
    fn phase(&self) -> Phase {
        *self.phase.lock().expect("lock")
    }

    fn set_phase(&self, phase: Phase) {
        *self.phase.lock().expect("lock") = phase;
    }

    /// Answers whose request was sent in `sent`, and with this status.
    fn count(&self, sent: Phase, status: u16) -> usize {
        let outcomes = self.outcomes.lock().expect("lock");
        outcomes
            .iter()
            .filter(|o| o.sent == sent && o.status == status)
            .count()
    }

    async fn send(
        &self,
        c: &TestClient,
        action: &str,
        params: &[(&str, &str)],
        port: Option<usize>,
    ) {
        let sent = self.phase();
        let started = Instant::now();
        let reply = tokio::time::timeout(REQUEST_BOUND, c.try_call(action, params)).await;
        let took = started.elapsed();
        match reply {
            Ok(Ok(reply)) => {
                let code = if reply.status == 200 {
                    String::new()
                } else {
                    reply.code()
                };
                self.outcomes.lock().expect("lock").push(Outcome {
                    sent,
                    answered: self.phase(),
                    status: reply.status,
                    code,
                    took,
                    port,
                });
            }
            Ok(Err(e)) => self
                .failures
                .lock()
                .expect("lock")
                .push(format!("{action} sent {sent:?}: no answer: {e}")),
            Err(_) => self.failures.lock().expect("lock").push(format!(
                "{action} sent {sent:?}: no answer within {REQUEST_BOUND:?}"
            )),
        }
    }
}

/// Waits (polling the stream, bounded) until `done` holds.
async fn until(what: &str, limit: Duration, stream: &Stream, done: impl Fn(&Stream) -> bool) {
    let deadline = Instant::now() + limit;
    while !done(stream) {
        let failures = stream.failures.lock().expect("lock").clone();
        assert!(
            failures.is_empty(),
            "while waiting for {what}: {failures:#?}"
        );
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_fail_cleanly_while_postgres_is_down_and_recover_when_it_is_back() {
    let test = "requests_fail_cleanly_while_postgres_is_down_and_recover_when_it_is_back";
    let Some(postgres) = ThrowawayPostgres::start(test).await else {
        return;
    };
    let mut node = Node::start(&postgres.url, &["--max-rules-per-group", "100000"]).await;
    let c = node.client();
    let vpc = create_vpc(&c, &[]).await;
    let r = c.call("CreateSecurityGroup", &[("VpcId", &vpc)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sg = r.json()["SecurityGroupId"]
        .as_str()
        .expect("SecurityGroupId")
        .to_owned();

    let stream = Arc::new(Stream {
        phase: Mutex::new(Phase::Before),
        stop: AtomicBool::new(false),
        outcomes: Mutex::default(),
        failures: Mutex::default(),
        next_port: AtomicUsize::new(1),
    });
    let mut tasks = Vec::new();
    for w in 0..WRITERS + READERS {
        let (stream, c, sg) = (stream.clone(), node.client(), sg.clone());
        tasks.push(tokio::spawn(async move {
            while !stream.stop.load(Ordering::SeqCst) {
                if w < WRITERS {
                    let port = stream.next_port.fetch_add(1, Ordering::SeqCst);
                    let range = format!("{port}/{port}");
                    let params = [
                        ("SecurityGroupId", sg.as_str()),
                        ("IpProtocol", "tcp"),
                        ("PortRange", range.as_str()),
                        ("SourceCidrIp", "10.0.0.0/8"),
                    ];
                    stream
                        .send(&c, "AuthorizeSecurityGroup", &params, Some(port))
                        .await;
                } else {
                    let params = [("SecurityGroupId", sg.as_str())];
                    stream
                        .send(&c, "DescribeSecurityGroupAttribute", &params, None)
                        .await;
                }
                // A steady stream, not a flood: the final read-back stays small.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }

    // Some acknowledged writes, then the outage.
    until(
        "writes before the outage",
        Duration::from_secs(60),
        &stream,
        |s| s.count(Phase::Before, 200) >= 30,
    )
    .await;
    postgres.stop_server().await;
    stream.set_phase(Phase::Down);
    // Every worker has had requests sent and answered during the outage.
    until(
        "answers during the outage",
        Duration::from_secs(60),
        &stream,
        |s| {
            let outcomes = s.outcomes.lock().expect("lock");
            outcomes
                .iter()
                .filter(|o| o.sent == Phase::Down && o.answered == Phase::Down)
                .count()
                >= 2 * (WRITERS + READERS)
        },
    )
    .await;
    node.assert_running();
    // The phase moves on before the server starts: a request may succeed as soon as the
    // server accepts connections, before `start_server` has returned.
    stream.set_phase(Phase::Back);
    postgres.start_server().await;
    let back = Instant::now();
    until(
        "success after the restart",
        Duration::from_secs(30),
        &stream,
        |s| s.count(Phase::Back, 200) >= 30,
    )
    .await;
    let recovered_after = back.elapsed();
    stream.stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.expect("stream task");
    }
    node.assert_running();

    let failures = stream.failures.lock().expect("lock").clone();
    assert!(failures.is_empty(), "{failures:#?}");
    let outcomes = std::mem::take(&mut *stream.outcomes.lock().expect("lock"));
    for o in &outcomes {
        // Whatever the phase: success, or 503 ServiceUnavailable; nothing else.
        assert!(
            o.status == 200 || (o.status == 503 && o.code == "ServiceUnavailable"),
            "a request answered {} {}: {o:?}",
            o.status,
            o.code
        );
        assert!(o.took < REQUEST_BOUND, "{o:?}");
    }
    // While the database was down (sent and answered), nothing succeeded.
    let down: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.sent == Phase::Down && o.answered == Phase::Down)
        .collect();
    assert!(
        down.iter().all(|o| o.status == 503),
        "served while the database was down: {down:?}"
    );
    let slowest = down.iter().map(|o| o.took).max().unwrap_or_default();
    eprintln!(
        "{} answers while down (slowest {slowest:?}); recovered {recovered_after:?} after the restart",
        down.len()
    );
    assert!(
        !node.log_text().contains("panicked"),
        "nothing panicked:\n{}",
        node.log_text()
    );

    // Every acknowledged write is there, read through the same node.
    let r = c
        .call(
            "DescribeSecurityGroupAttribute",
            &[("SecurityGroupId", &sg)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let listed: std::collections::HashSet<String> = r.json()["Permissions"]["Permission"]
        .as_array()
        .expect("Permissions.Permission")
        .iter()
        .map(|p| p["PortRange"].as_str().unwrap_or("").to_owned())
        .collect();
    let acknowledged: Vec<usize> = outcomes
        .iter()
        .filter(|o| o.status == 200)
        .filter_map(|o| o.port)
        .collect();
    assert!(!acknowledged.is_empty());
    for port in &acknowledged {
        assert!(
            listed.contains(&format!("{port}/{port}")),
            "acknowledged rule {port} lost"
        );
    }
    node.assert_running();
}

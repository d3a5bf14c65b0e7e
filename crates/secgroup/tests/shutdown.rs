//! Shutdown finishes in-flight requests: a request that is still being served when the
//! shutdown signal arrives gets its full answer, and `serve` returns afterwards.

mod common;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::{create_group, create_vpc, TestClient};
use secgroup_domain::ids::AccountId;
use secgroup_domain::ops::accounts;
use secgroup_domain::{Store, StoreError, Tx, TxError};
use secgroup_store_sqlite::SqliteStore;

/// The real store, with every write held back a little so a request is surely in flight.
struct SlowWrites(SqliteStore);

impl Store for SlowWrites {
    fn write<T, E, F>(&self, f: F) -> impl Future<Output = Result<T, E>> + Send
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        let inner = self.0.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            inner.write(f).await
        }
    }

    fn read<T, E, F>(&self, f: F) -> impl Future<Output = Result<T, E>> + Send
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.0.read(f)
    }

    fn claim_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        self.0.claim_nonce(access_key_id, nonce, expires_at, now)
    }

    fn record_agent_status(
        &self,
        report: secgroup_domain::AgentReport,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.0.record_agent_status(report)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_requests_finish_after_shutdown_is_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = SqliteStore::open(&dir.path().join("db.sqlite")).expect("store");
    let key = sqlite
        .write(|tx| accounts::create_account(tx, false, Utc::now()))
        .await
        .expect("account");
    let store = Arc::new(SlowWrites(sqlite.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(secgroup::serve(
        listener,
        store,
        secgroup::Settings::default(),
        async {
            let _ = stopped.await;
        },
    ));

    let client = TestClient::new(addr, &key.access_key_id, &key.secret);
    let vpc = create_vpc(&client, &[]).await;
    // CreateSecurityGroup writes, so it takes at least 300 ms.
    let in_flight = tokio::spawn(async move {
        create_group(&client, &[("SecurityGroupName", "late"), ("VpcId", &vpc)]).await
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    stop.send(()).expect("signal");

    let id = tokio::time::timeout(Duration::from_secs(10), in_flight)
        .await
        .expect("answered in time")
        .expect("task");
    assert!(
        id.starts_with("sg-"),
        "the in-flight request got its full answer"
    );
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("serve returned")
        .expect("task")
        .expect("serve ok");
    // And its effect is stored.
    let account = key.account_id.clone();
    let groups = sqlite
        .read(move |tx| tx.security_groups(&AccountId::from(&account), "cn-hangzhou"))
        .await
        .expect("read");
    assert_eq!(groups.len(), 1);
}

//! The domain's storage contract, run against PostgreSQL: each case a test of its own, on
//! a fresh database. Without `SECGROUP_TEST_POSTGRES_URL` each test says it is skipped
//! (on stderr, uncaptured), or fails under `CI=true`.

mod common;

use secgroup_domain::{Store, StoreError};
use secgroup_store_postgres::{PostgresStore, MIGRATION_COUNT, SCHEMA_VERSION};

/// The shared contract, one test per case, each on a database of its own.
mod contract {
    use secgroup_store_postgres::PostgresStore;

    use super::common;

    fn fresh(case: &str) -> Option<(common::Databases, PostgresStore)> {
        let (dbs, url) = common::fresh_database(&format!("contract::{case}"))?;
        let store = PostgresStore::connect(&url).expect("connect");
        Some((dbs, store))
    }

    fn reopenable(case: &str) -> Option<(common::Databases, impl Fn() -> PostgresStore)> {
        let (dbs, url) = common::fresh_database(&format!("contract::{case}"))?;
        Some((dbs, move || PostgresStore::connect(&url).expect("connect")))
    }

    secgroup_domain::store_contract! {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        fresh = fresh,
        reopen = reopenable,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_idempotent_and_concurrent() {
    let Some(url) = common::server_url("migrations_are_idempotent_and_concurrent") else {
        return;
    };
    let dbs = common::Databases::new(url);
    let db = dbs.create();
    // Several nodes starting at once on an empty database: all succeed, one schema.
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || PostgresStore::connect(&db).map(|_| ()))
        })
        .collect();
    for h in handles {
        h.join().expect("thread").expect("connect");
    }
    let store = PostgresStore::connect(&db).expect("reconnect");
    let url = db.clone();
    let versions = std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let row = c
            .query_one("SELECT COUNT(*), MAX(version) FROM schema_migrations", &[])
            .expect("query");
        (row.get::<_, i64>(0), row.get::<_, i64>(1))
    })
    .join()
    .expect("thread");
    assert_eq!(versions, (MIGRATION_COUNT as i64, SCHEMA_VERSION));
    let n = store.read(|tx| tx.count_access_keys()).await.expect("read");
    assert_eq!(n, 0);
}

#[tokio::test]
async fn unreachable_server_is_unavailable() {
    // Nothing listens on port 1.
    match PostgresStore::connect("postgres://nobody@127.0.0.1:1/none?connect_timeout=2") {
        Err(StoreError::Unavailable(_)) => {}
        Err(other) => panic!("expected Unavailable, got {other:?}"),
        Ok(_) => panic!("connected to nothing"),
    }
}

#[test]
fn database_names_replace_the_path() {
    assert_eq!(
        common::with_database("postgres://u@h:5/postgres?sslmode=disable", "x"),
        "postgres://u@h:5/x?sslmode=disable"
    );
    assert_eq!(
        common::with_database("postgresql://h", "x"),
        "postgresql://h/x"
    );
}

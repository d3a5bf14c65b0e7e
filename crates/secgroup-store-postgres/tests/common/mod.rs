//! Fresh databases on the server named by `SECGROUP_TEST_POSTGRES_URL`.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

/// The server's URL, or `None` when the test is to be skipped: that is, when
/// `SECGROUP_TEST_POSTGRES_URL` is unset outside CI. Under `CI=true` a missing server fails
/// the test instead: CI must run them.
pub fn server_url(test: &str) -> Option<String> {
    match std::env::var("SECGROUP_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            skip(
                test,
                "SECGROUP_TEST_POSTGRES_URL is not set \
                 (scripts/test starts a throwaway PostgreSQL and sets it)",
            );
            None
        }
    }
}

/// Reports `test` as skipped, for `why`, where a person running the tests sees it: on
/// the process's stderr itself, which the test harness does not capture (it captures only
/// `eprintln!`, whose output of a passing test is never shown). Under `CI=true` it fails
/// the test instead: a skipped PostgreSQL test must never pass CI silently.
pub fn skip(test: &str, why: &str) {
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("{test} cannot run under CI=true: {why}");
    }
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

/// A fresh database on the server, for one test, and its URL; `None` when skipped (see
/// [`server_url`]). The databases go when the returned guard drops.
pub fn fresh_database(test: &str) -> Option<(Databases, String)> {
    let dbs = Databases::new(server_url(test)?);
    let url = dbs.create();
    Some((dbs, url))
}

/// `url` with its database name replaced by `db` (query parameters kept).
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let (scheme, rest) = base.split_once("://").expect("a URL with a scheme");
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{authority}/{db}{query}")
}

/// Creates and drops databases named `test_<pid>_<n>` on one server, on a thread of its
/// own (the synchronous client may not run on an async task).
pub struct Databases {
    url: String,
    created: std::sync::Mutex<Vec<String>>,
    next: AtomicUsize,
}

impl Databases {
    pub fn new(url: String) -> Databases {
        Databases {
            url,
            created: std::sync::Mutex::new(Vec::new()),
            next: AtomicUsize::new(0),
        }
    }

    /// A new, empty database; its URL.
    pub fn create(&self) -> String {
        let name = format!(
            "test_{}_{}_{}",
            std::process::id(),
            self.next.fetch_add(1, Ordering::SeqCst),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .subsec_nanos()
        );
        admin(&self.url, format!("CREATE DATABASE {name}"));
        self.created.lock().expect("lock").push(name.clone());
        with_database(&self.url, &name)
    }
}

impl Drop for Databases {
    fn drop(&mut self) {
        for name in self.created.lock().expect("lock").drain(..) {
            admin(
                &self.url,
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

fn admin(url: &str, sql: String) {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        client.batch_execute(&sql).expect("admin statement");
    })
    .join()
    .expect("admin thread");
}

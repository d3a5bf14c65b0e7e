//! Opening connections: where the database lives and the pragmas every connection gets.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use secgroup_domain::StoreError;

use crate::error::map_err;

/// How long a connection waits on another process's lock before reporting SQLITE_BUSY
/// (which the store then retries as a conflict).
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Enough for every statement of the topic modules (`accounts.rs` …) plus the batch's
/// transaction and savepoint statements, so none is re-prepared in steady state.
const STATEMENT_CACHE: usize = 64;

/// Where a store keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    File(PathBuf),
    /// Private to one connection, gone when it closes; for tests.
    Memory,
}

impl Location {
    /// `sqlite://PATH`, `sqlite:PATH` (relative or absolute), `sqlite::memory:`,
    /// `sqlite://:memory:`.
    pub(crate) fn parse_url(url: &str) -> Result<Location, StoreError> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| StoreError::Other(format!("not a sqlite URL: {url:?}")))?;
        if rest == ":memory:" {
            return Ok(Location::Memory);
        }
        if rest.is_empty() {
            return Err(StoreError::Other(format!(
                "sqlite URL without a path: {url:?}"
            )));
        }
        // Options in a query string would be silently dropped; refuse them instead.
        if rest.contains('?') {
            return Err(StoreError::Other(format!(
                "sqlite URL options are not supported: {url:?}"
            )));
        }
        Ok(Location::File(PathBuf::from(rest)))
    }
}

/// Opens the writer connection, creating the parent directories and the file. WAL lets
/// readers run beside the writer; `synchronous=FULL` syncs the WAL on every commit, so an
/// acknowledged write survives power loss, not just a killed process.
pub(crate) fn open_writer(location: &Location) -> Result<Connection, StoreError> {
    let conn = match location {
        Location::Memory => Connection::open_in_memory().map_err(map_err)?,
        Location::File(path) => {
            create_parent(path)?;
            // No URI flag: a path is a path, even one that starts with `file:`.
            let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            Connection::open_with_flags(path, flags).map_err(map_err)?
        }
    };
    configure(&conn)?;
    if let Location::File(path) = location {
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(map_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Other(format!(
                "{} refused WAL mode (journal_mode is {mode})",
                path.display()
            )));
        }
    }
    Ok(conn)
}

/// Opens a reader on a file the writer has already created and migrated. `query_only`
/// makes a write through a read transaction fail rather than slip past the writer lock.
pub(crate) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(map_err)?;
    configure(&conn)?;
    conn.pragma_update(None, "query_only", true)
        .map_err(map_err)?;
    Ok(conn)
}

/// Opens the connection of the checkpoint thread (see [`crate::checkpoint`]) on a file the
/// writer has already created. `synchronous=FULL` (from [`configure`]) makes its
/// checkpoints sync the WAL before copying it and the file before the WAL is reused.
pub(crate) fn open_checkpointer(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(map_err)?;
    configure(&conn)?;
    Ok(conn)
}

/// Per-connection settings (none of these persist in the file).
fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT).map_err(map_err)?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(map_err)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(map_err)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

fn create_parent(path: &Path) -> Result<(), StoreError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let file = |p: &str| Ok(Location::File(PathBuf::from(p)));
        assert_eq!(
            Location::parse_url("sqlite://data/sg.db"),
            file("data/sg.db")
        );
        assert_eq!(
            Location::parse_url("sqlite:///var/lib/sg.db"),
            file("/var/lib/sg.db")
        );
        assert_eq!(Location::parse_url("sqlite:sg.db"), file("sg.db"));
        assert_eq!(Location::parse_url("sqlite:/abs/sg.db"), file("/abs/sg.db"));
        assert_eq!(Location::parse_url("sqlite::memory:"), Ok(Location::Memory));
        assert_eq!(
            Location::parse_url("sqlite://:memory:"),
            Ok(Location::Memory)
        );
        for bad in [
            "postgres://x",
            "sg.db",
            "sqlite://",
            "sqlite:",
            "sqlite://a.db?mode=rwc",
        ] {
            assert!(Location::parse_url(bad).is_err(), "{bad}");
        }
    }
}

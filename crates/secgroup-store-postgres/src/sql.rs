//! A pooled connection with its prepared statements, small query helpers that return the
//! domain's errors, and the timestamp encoding (RFC 3339 text, as the SQLite backend
//! stores it).

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use postgres::types::{FromSql, ToSql};
use postgres::{Client, Row, Statement};
use secgroup_domain::StoreError;

use crate::error::{corrupt, map_err};

pub(crate) type Param<'a> = &'a (dyn ToSql + Sync);

/// Statements one connection keeps prepared (the queries are a fixed set, plus a few dozen
/// shapes of instance filters); past this the cache starts over.
const MAX_STATEMENTS: usize = 512;

/// A client and the statements prepared on it, so each query is one round trip.
pub(crate) struct Conn {
    pub(crate) client: Client,
    statements: HashMap<String, Statement>,
    /// Set when a transaction could not be ended cleanly: the pool discards the connection
    /// rather than hand out one that may still be inside it.
    pub(crate) broken: bool,
}

impl Conn {
    pub(crate) fn new(client: Client) -> Conn {
        Conn {
            client,
            statements: HashMap::new(),
            broken: false,
        }
    }

    /// Ends the transaction without committing it.
    pub(crate) fn rollback(&mut self) {
        if self.client.batch_execute("ROLLBACK").is_err() {
            self.broken = true;
        }
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        let st = self.client.prepare(sql).map_err(map_err)?;
        if self.statements.len() >= MAX_STATEMENTS {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), st.clone());
        Ok(st)
    }
}

pub(crate) fn exec(c: &mut Conn, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError> {
    let st = c.statement(sql)?;
    c.client.execute(&st, params).map_err(map_err)
}

pub(crate) fn rows(c: &mut Conn, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, StoreError> {
    let st = c.statement(sql)?;
    c.client.query(&st, params).map_err(map_err)
}

pub(crate) fn opt(
    c: &mut Conn,
    sql: &str,
    params: &[Param<'_>],
) -> Result<Option<Row>, StoreError> {
    let st = c.statement(sql)?;
    c.client.query_opt(&st, params).map_err(map_err)
}

pub(crate) fn one(c: &mut Conn, sql: &str, params: &[Param<'_>]) -> Result<Row, StoreError> {
    let st = c.statement(sql)?;
    c.client.query_one(&st, params).map_err(map_err)
}

/// A `SELECT COUNT(*) …` as the trait's u64.
pub(crate) fn count(c: &mut Conn, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError> {
    let row = one(c, sql, params)?;
    to_count(get(&row, 0)?)
}

pub(crate) fn get<'a, T: FromSql<'a>>(row: &'a Row, idx: usize) -> Result<T, StoreError> {
    row.try_get(idx).map_err(map_err)
}

pub(crate) fn to_count(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| corrupt("count", &n.to_string()))
}

pub(crate) fn encode_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub(crate) fn decode_time(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| corrupt("timestamp", s))
}

/// Deletes the tags of one resource (when the resource goes).
pub(crate) fn delete_tags(
    c: &mut Conn,
    account_id: &str,
    resource_type: &str,
    id: &str,
) -> Result<(), StoreError> {
    exec(
        c,
        "DELETE FROM tags WHERE account_id = $1 AND resource_type = $2 AND resource_id = $3",
        &[&account_id, &resource_type, &id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_exactly() {
        let t = DateTime::from_timestamp(1_700_000_000, 123_456_789).expect("valid");
        assert_eq!(encode_time(t), "2023-11-14T22:13:20.123456789Z");
        assert_eq!(decode_time(&encode_time(t)).expect("decode"), t);
        assert!(decode_time("yesterday").is_err());
    }
}

//! A pooled connection with its prepared statements, and small query helpers that return
//! the domain's errors. Timestamps are encoded by the domain's
//! [`secgroup_domain::store::codec`], as the SQLite backend encodes them.

use std::collections::HashMap;

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

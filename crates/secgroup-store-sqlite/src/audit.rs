//! The audit trail: events appended, looked up by account (newest first), purged by age.

use chrono::{DateTime, Utc};
use rusqlite::{params, Row};
use secgroup_domain::audit::{AuditEvent, AuditQuery, AuditResource};
use secgroup_domain::ids::AccountId;
use secgroup_domain::store::codec::corrupt;
use secgroup_domain::{AuditTx, StoreError};

use crate::error::map_err;
use crate::tx::SqliteTx;

const COLUMNS: &str = "seq, event_id, account_id, event_time_us, access_key_id, source_ip, \
     product, version, action, region_id, request_id, parameters, resources, error_code, \
     error_message";

fn event(row: &Row<'_>) -> rusqlite::Result<(AuditEvent, String, i64)> {
    Ok((
        AuditEvent {
            seq: row.get(0)?,
            event_id: row.get(1)?,
            account_id: AccountId::new(row.get::<_, String>(2)?),
            time: DateTime::<Utc>::UNIX_EPOCH,
            access_key_id: row.get(4)?,
            source_ip: row.get(5)?,
            product: row.get(6)?,
            version: row.get(7)?,
            action: row.get(8)?,
            region_id: row.get(9)?,
            request_id: row.get(10)?,
            parameters: row.get(11)?,
            resources: Vec::new(),
            error_code: row.get(13)?,
            error_message: row.get(14)?,
        },
        row.get(12)?,
        row.get(3)?,
    ))
}

fn finish(
    (mut e, resources, time_us): (AuditEvent, String, i64),
) -> Result<AuditEvent, StoreError> {
    e.resources = serde_json::from_str::<Vec<AuditResource>>(&resources)
        .map_err(|_| corrupt("audit resources", &resources))?;
    e.time = DateTime::from_timestamp_micros(time_us)
        .ok_or_else(|| corrupt("audit time", &time_us.to_string()))?;
    Ok(e)
}

impl AuditTx for SqliteTx<'_> {
    fn insert_audit_event(&mut self, e: &AuditEvent) -> Result<(), StoreError> {
        let conn = self.conn;
        let resources = serde_json::to_string(&e.resources)
            .map_err(|err| StoreError::Other(format!("encoding audit resources: {err}")))?;
        conn.prepare_cached(
            "INSERT INTO audit_events (event_id, account_id, event_time_us, access_key_id,
                 source_ip, product, version, action, region_id, request_id, parameters,
                 resources, error_code, error_message)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )
        .and_then(|mut st| {
            st.execute(params![
                e.event_id,
                e.account_id.as_str(),
                e.time.timestamp_micros(),
                e.access_key_id,
                e.source_ip,
                e.product,
                e.version,
                e.action,
                e.region_id,
                e.request_id,
                e.parameters,
                resources,
                e.error_code,
                e.error_message,
            ])
        })
        .map_err(map_err)?;
        let seq = conn.last_insert_rowid();
        let mut insert = conn
            .prepare_cached(
                "INSERT OR IGNORE INTO audit_event_resources (seq, account_id, resource_id, resource_type)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(map_err)?;
        for r in &e.resources {
            insert
                .execute(params![seq, e.account_id.as_str(), r.id, r.resource_type])
                .map_err(map_err)?;
        }
        Ok(())
    }

    fn audit_events(
        &mut self,
        account_id: &AccountId,
        q: &AuditQuery,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_events e
             WHERE e.account_id = ?1
               AND (?2 IS NULL OR e.event_time_us >= ?2)
               AND (?3 IS NULL OR e.event_time_us <= ?3)
               AND (?4 IS NULL OR e.action = ?4)
               AND (?5 IS NULL OR e.access_key_id = ?5)
               AND (?6 IS NULL OR e.seq < ?6)
               AND (?7 IS NULL OR EXISTS (SELECT 1 FROM audit_event_resources r
                        WHERE r.seq = e.seq AND r.account_id = ?1 AND r.resource_id = ?7))
               AND (?8 IS NULL OR EXISTS (SELECT 1 FROM audit_event_resources r
                        WHERE r.seq = e.seq AND r.account_id = ?1 AND r.resource_type = ?8))
             ORDER BY e.seq DESC LIMIT ?9"
        );
        let mut st = self.conn.prepare_cached(&sql).map_err(map_err)?;
        let rows = st
            .query_map(
                params![
                    account_id.as_str(),
                    q.start.map(|t| t.timestamp_micros()),
                    q.end.map(|t| t.timestamp_micros()),
                    q.event_name,
                    q.access_key_id,
                    q.before_seq,
                    q.resource_id,
                    q.resource_type,
                    i64::from(q.limit),
                ],
                event,
            )
            .map_err(map_err)?;
        rows.map(|row| finish(row.map_err(map_err)?)).collect()
    }

    fn purge_audit_events(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        // Events are appended in time order (migration 0011): everything below the oldest
        // event to keep goes, found by walking `seq` from the start, so the purge costs
        // what it removes and no index by time is written on every call.
        let keep_from: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT COALESCE(
                     (SELECT seq FROM audit_events WHERE event_time_us >= ?1 ORDER BY seq LIMIT 1),
                     (SELECT MAX(seq) + 1 FROM audit_events))",
            )
            .and_then(|mut st| st.query_row([cutoff.timestamp_micros()], |row| row.get(0)))
            .map_err(map_err)?;
        let Some(keep_from) = keep_from else {
            return Ok(0);
        };
        self.conn
            .prepare_cached("DELETE FROM audit_event_resources WHERE seq < ?1")
            .and_then(|mut st| st.execute([keep_from]))
            .map_err(map_err)?;
        let deleted = self
            .conn
            .prepare_cached("DELETE FROM audit_events WHERE seq < ?1")
            .and_then(|mut st| st.execute([keep_from]))
            .map_err(map_err)?;
        Ok(deleted as u64)
    }

    fn count_audit_events(&mut self) -> Result<u64, StoreError> {
        let count: i64 = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM audit_events")
            .and_then(|mut st| st.query_row([], |row| row.get(0)))
            .map_err(map_err)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

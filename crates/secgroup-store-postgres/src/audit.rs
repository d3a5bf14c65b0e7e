//! The audit trail: events appended, looked up by account (newest first), purged by age.

use chrono::{DateTime, Utc};
use postgres::Row;
use secgroup_domain::audit::{AuditEvent, AuditQuery, AuditResource};
use secgroup_domain::ids::AccountId;
use secgroup_domain::store::codec::corrupt;
use secgroup_domain::{AuditTx, StoreError};

use crate::sql::{count, exec, get, one, rows};
use crate::tx::PgTx;

fn event(row: &Row) -> Result<AuditEvent, StoreError> {
    let resources: String = get(row, 12)?;
    let time_us: i64 = get(row, 3)?;
    Ok(AuditEvent {
        seq: get(row, 0)?,
        event_id: get(row, 1)?,
        account_id: AccountId::new(get::<String>(row, 2)?),
        time: DateTime::from_timestamp_micros(time_us)
            .ok_or_else(|| corrupt("audit time", &time_us.to_string()))?,
        access_key_id: get(row, 4)?,
        source_ip: get(row, 5)?,
        product: get(row, 6)?,
        version: get(row, 7)?,
        action: get(row, 8)?,
        region_id: get(row, 9)?,
        request_id: get(row, 10)?,
        parameters: get(row, 11)?,
        resources: serde_json::from_str::<Vec<AuditResource>>(&resources)
            .map_err(|_| corrupt("audit resources", &resources))?,
        error_code: get(row, 13)?,
        error_message: get(row, 14)?,
    })
}

impl AuditTx for PgTx<'_> {
    fn insert_audit_event(&mut self, e: &AuditEvent) -> Result<(), StoreError> {
        let c = &mut *self.c;
        let resources = serde_json::to_string(&e.resources)
            .map_err(|err| StoreError::Other(format!("encoding audit resources: {err}")))?;
        let row = one(
            c,
            "INSERT INTO audit_events (event_id, account_id, event_time_us, access_key_id,
                 source_ip, product, version, action, region_id, request_id, parameters,
                 resources, error_code, error_message)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             RETURNING seq",
            &[
                &e.event_id,
                &e.account_id.as_str(),
                &e.time.timestamp_micros(),
                &e.access_key_id,
                &e.source_ip,
                &e.product,
                &e.version,
                &e.action,
                &e.region_id,
                &e.request_id,
                &e.parameters,
                &resources,
                &e.error_code,
                &e.error_message,
            ],
        )?;
        let seq: i64 = get(&row, 0)?;
        for r in &e.resources {
            exec(
                c,
                "INSERT INTO audit_event_resources (seq, account_id, resource_id, resource_type)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[&seq, &e.account_id.as_str(), &r.id, &r.resource_type],
            )?;
        }
        Ok(())
    }

    fn audit_events(
        &mut self,
        account_id: &AccountId,
        q: &AuditQuery,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let c = &mut *self.c;
        let found = rows(
            c,
            "SELECT seq, event_id, account_id, event_time_us, access_key_id, source_ip,
                    product, version, action, region_id, request_id, parameters, resources,
                    error_code, error_message
             FROM audit_events e
             WHERE e.account_id = $1
               AND ($2::BIGINT IS NULL OR e.event_time_us >= $2::BIGINT)
               AND ($3::BIGINT IS NULL OR e.event_time_us <= $3::BIGINT)
               AND ($4::TEXT IS NULL OR e.action = $4::TEXT)
               AND ($5::TEXT IS NULL OR e.access_key_id = $5::TEXT)
               AND ($6::BIGINT IS NULL OR e.seq < $6::BIGINT)
               AND ($7::TEXT IS NULL OR EXISTS (SELECT 1 FROM audit_event_resources r
                        WHERE r.seq = e.seq AND r.account_id = $1 AND r.resource_id = $7::TEXT))
               AND ($8::TEXT IS NULL OR EXISTS (SELECT 1 FROM audit_event_resources r
                        WHERE r.seq = e.seq AND r.account_id = $1 AND r.resource_type = $8::TEXT))
             ORDER BY e.seq DESC LIMIT $9",
            &[
                &account_id.as_str(),
                &q.start.map(|t| t.timestamp_micros()),
                &q.end.map(|t| t.timestamp_micros()),
                &q.event_name,
                &q.access_key_id,
                &q.before_seq,
                &q.resource_id,
                &q.resource_type,
                &i64::from(q.limit),
            ],
        )?;
        found.iter().map(event).collect()
    }

    fn purge_audit_events(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let c = &mut *self.c;
        let cutoff = cutoff.timestamp_micros();
        exec(
            c,
            "DELETE FROM audit_event_resources WHERE seq IN
                 (SELECT seq FROM audit_events WHERE event_time_us < $1)",
            &[&cutoff],
        )?;
        exec(
            c,
            "DELETE FROM audit_events WHERE event_time_us < $1",
            &[&cutoff],
        )
    }

    fn count_audit_events(&mut self) -> Result<u64, StoreError> {
        let c = &mut *self.c;
        count(c, "SELECT COUNT(*) FROM audit_events", &[])
    }
}

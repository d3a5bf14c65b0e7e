//! The data plane's reads across accounts and its agents' reports (migration 8).

use rusqlite::{params, Row};
use secgroup_domain::ids::AccountId;
use secgroup_domain::store::codec::{decode_counts, decode_time, encode_counts, encode_time};
use secgroup_domain::{AgentStatus, DataplaneTx, StoreError};

use crate::error::map_err;
use crate::tx::{query_all, to_count, SqliteTx};

type RawAgent = (
    String,
    String,
    i64,
    Option<String>,
    String,
    String,
    String,
    String,
);

fn raw(row: &Row<'_>) -> rusqlite::Result<RawAgent> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
    ))
}

impl DataplaneTx for SqliteTx<'_> {
    fn instance_regions(&mut self) -> Result<Vec<(AccountId, String)>, StoreError> {
        query_all(
            self.conn,
            "SELECT DISTINCT account_id, region_id FROM instances ORDER BY account_id, region_id",
            [],
            |row| Ok((AccountId::from(row.get::<_, String>(0)?), row.get(1)?)),
        )
    }

    fn put_agent_status(&mut self, s: &AgentStatus) -> Result<(), StoreError> {
        let revision = i64::try_from(s.applied_revision)
            .map_err(|_| StoreError::Other("revision out of range".to_owned()))?;
        self.conn
            .prepare_cached(
                "INSERT INTO dataplane_agents (agent_id, host, applied_revision,
                     last_applied_time, instance_counts, last_error, updated_at,
                     underlay_address)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (agent_id) DO UPDATE SET host = excluded.host,
                     applied_revision = excluded.applied_revision,
                     last_applied_time = excluded.last_applied_time,
                     instance_counts = excluded.instance_counts,
                     last_error = excluded.last_error, updated_at = excluded.updated_at,
                     underlay_address = excluded.underlay_address",
            )
            .and_then(|mut st| {
                st.execute(params![
                    s.agent_id,
                    s.host,
                    revision,
                    s.last_applied_time.map(encode_time),
                    encode_counts(&s.instance_counts),
                    s.last_error,
                    encode_time(s.updated_at),
                    s.underlay_address,
                ])
            })
            .map_err(map_err)?;
        Ok(())
    }

    fn agent_statuses(&mut self) -> Result<Vec<AgentStatus>, StoreError> {
        let rows = query_all(
            self.conn,
            "SELECT agent_id, host, applied_revision, last_applied_time, instance_counts,
                    last_error, updated_at, underlay_address
             FROM dataplane_agents ORDER BY agent_id",
            [],
            raw,
        )?;
        rows.into_iter()
            .map(
                |(agent_id, host, revision, applied, counts, last_error, updated, underlay)| {
                    Ok(AgentStatus {
                        agent_id,
                        host,
                        underlay_address: underlay,
                        applied_revision: to_count(revision)?,
                        last_applied_time: applied.as_deref().map(decode_time).transpose()?,
                        instance_counts: decode_counts(&counts)?,
                        last_error,
                        updated_at: decode_time(&updated)?,
                    })
                },
            )
            .collect()
    }

    fn delete_agent_status(&mut self, agent_id: &str) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached("DELETE FROM dataplane_agents WHERE agent_id = ?1")
            .and_then(|mut st| st.execute([agent_id]))
            .map_err(map_err)?;
        Ok(n > 0)
    }
}

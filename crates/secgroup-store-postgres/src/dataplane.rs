//! The data plane's reads across accounts and its agents' reports (migration 4).

use secgroup_domain::ids::AccountId;
use secgroup_domain::store::codec::{decode_counts, decode_time, encode_counts, encode_time};
use secgroup_domain::{AgentStatus, DataplaneTx, StoreError};

use crate::sql::{exec, get, rows, to_count};
use crate::tx::PgTx;

impl DataplaneTx for PgTx<'_> {
    fn instance_regions(&mut self) -> Result<Vec<(AccountId, String)>, StoreError> {
        let c = &mut *self.c;
        rows(
            c,
            "SELECT DISTINCT account_id, region_id FROM instances ORDER BY account_id, region_id",
            &[],
        )?
        .iter()
        .map(|row| Ok((AccountId::from(get::<String>(row, 0)?), get(row, 1)?)))
        .collect()
    }

    fn put_agent_status(&mut self, s: &AgentStatus) -> Result<(), StoreError> {
        let c = &mut *self.c;
        let revision = i64::try_from(s.applied_revision)
            .map_err(|_| StoreError::Other("revision out of range".to_owned()))?;
        let applied = s.last_applied_time.map(encode_time);
        exec(
            c,
            "INSERT INTO dataplane_agents (agent_id, host, applied_revision,
                 last_applied_time, instance_counts, last_error, updated_at, underlay_address)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (agent_id) DO UPDATE SET host = EXCLUDED.host,
                 applied_revision = EXCLUDED.applied_revision,
                 last_applied_time = EXCLUDED.last_applied_time,
                 instance_counts = EXCLUDED.instance_counts,
                 last_error = EXCLUDED.last_error, updated_at = EXCLUDED.updated_at,
                 underlay_address = EXCLUDED.underlay_address",
            &[
                &s.agent_id,
                &s.host,
                &revision,
                &applied,
                &encode_counts(&s.instance_counts),
                &s.last_error,
                &encode_time(s.updated_at),
                &s.underlay_address,
            ],
        )?;
        Ok(())
    }

    fn agent_statuses(&mut self) -> Result<Vec<AgentStatus>, StoreError> {
        let c = &mut *self.c;
        rows(
            c,
            "SELECT agent_id, host, applied_revision, last_applied_time, instance_counts,
                    last_error, updated_at, underlay_address
             FROM dataplane_agents ORDER BY agent_id",
            &[],
        )?
        .iter()
        .map(|row| {
            let applied: Option<String> = get(row, 3)?;
            Ok(AgentStatus {
                agent_id: get(row, 0)?,
                host: get(row, 1)?,
                underlay_address: get(row, 7)?,
                applied_revision: to_count(get(row, 2)?)?,
                last_applied_time: applied.as_deref().map(decode_time).transpose()?,
                instance_counts: decode_counts(get(row, 4)?)?,
                last_error: get(row, 5)?,
                updated_at: decode_time(get(row, 6)?)?,
            })
        })
        .collect()
    }

    fn delete_agent_status(&mut self, agent_id: &str) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let n = exec(
            c,
            "DELETE FROM dataplane_agents WHERE agent_id = $1",
            &[&agent_id],
        )?;
        Ok(n > 0)
    }
}

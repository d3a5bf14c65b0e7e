//! Client tokens: the remembered outcome of an idempotent request, per account.

use chrono::{DateTime, Utc};
use secgroup_domain::ids::AccountId;
use secgroup_domain::store::codec::{decode_time, encode_time, purge_cutoff};
use secgroup_domain::{ClientTokenRecord, ClientTokensTx, StoreError};

use crate::sql::{count, exec, get, opt};
use crate::tx::PgTx;

impl ClientTokensTx for PgTx<'_> {
    fn client_token(
        &mut self,
        account_id: &AccountId,
        token: &str,
    ) -> Result<Option<ClientTokenRecord>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let Some(row) = opt(
            c,
            "SELECT fingerprint, result, created_at FROM client_tokens
             WHERE account_id = $1 AND token = $2",
            &[&account_id, &token],
        )?
        else {
            return Ok(None);
        };
        Ok(Some(ClientTokenRecord {
            account_id: account_id.to_owned(),
            token: token.to_owned(),
            fingerprint: get(&row, 0)?,
            result: get(&row, 1)?,
            created_at: decode_time(get(&row, 2)?)?,
        }))
    }

    /// A token already recorded (or being recorded by a concurrent transaction that commits)
    /// is a primary-key violation: [`StoreError::Duplicate`], or a conflict.
    fn insert_client_token(&mut self, r: &ClientTokenRecord) -> Result<(), StoreError> {
        let c = &mut *self.c;
        exec(
            c,
            "INSERT INTO client_tokens (account_id, token, fingerprint, result, created_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &r.account_id,
                &r.token,
                &r.fingerprint,
                &r.result,
                &encode_time(r.created_at),
            ],
        )?;
        Ok(())
    }

    fn delete_client_token(
        &mut self,
        account_id: &AccountId,
        token: &str,
    ) -> Result<(), StoreError> {
        let c = &mut *self.c;
        exec(
            c,
            "DELETE FROM client_tokens WHERE account_id = $1 AND token = $2",
            &[&account_id.as_str(), &token],
        )?;
        Ok(())
    }

    fn purge_client_tokens(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let c = &mut *self.c;
        exec(
            c,
            "DELETE FROM client_tokens WHERE created_at < $1",
            &[&purge_cutoff(cutoff)],
        )
    }

    fn count_client_tokens(&mut self) -> Result<u64, StoreError> {
        let c = &mut *self.c;
        count(c, "SELECT COUNT(*) FROM client_tokens", &[])
    }
}

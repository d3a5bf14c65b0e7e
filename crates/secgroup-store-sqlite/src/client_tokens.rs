//! Client tokens: the remembered outcome of an idempotent request, per account.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use secgroup_domain::ids::AccountId;
use secgroup_domain::store::codec::{decode_time, encode_time, purge_cutoff};
use secgroup_domain::{ClientTokenRecord, ClientTokensTx, StoreError};

use crate::error::map_err;
use crate::tx::SqliteTx;

impl ClientTokensTx for SqliteTx<'_> {
    fn client_token(
        &mut self,
        account_id: &AccountId,
        token: &str,
    ) -> Result<Option<ClientTokenRecord>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let row = conn
            .prepare_cached(
                "SELECT fingerprint, result, created_at FROM client_tokens
                 WHERE account_id = ?1 AND token = ?2",
            )
            .and_then(|mut st| {
                st.query_row([account_id, token], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                    ))
                })
                .optional()
            })
            .map_err(map_err)?;
        row.map(|(fingerprint, result, created_at)| {
            Ok(ClientTokenRecord {
                account_id: account_id.to_owned(),
                token: token.to_owned(),
                fingerprint,
                result,
                created_at: decode_time(&created_at)?,
            })
        })
        .transpose()
    }

    /// A token already recorded for the account is a primary-key violation, which
    /// [`crate::error::map_err`] turns into [`StoreError::Duplicate`].
    fn insert_client_token(&mut self, r: &ClientTokenRecord) -> Result<(), StoreError> {
        let conn = self.conn;
        conn.prepare_cached(
            "INSERT INTO client_tokens (account_id, token, fingerprint, result, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut st| {
            st.execute(params![
                r.account_id,
                r.token,
                r.fingerprint,
                r.result,
                encode_time(r.created_at)
            ])
        })
        .map_err(map_err)?;
        Ok(())
    }

    fn delete_client_token(
        &mut self,
        account_id: &AccountId,
        token: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM client_tokens WHERE account_id = ?1 AND token = ?2")
            .and_then(|mut st| st.execute([account_id.as_str(), token]))
            .map_err(map_err)?;
        Ok(())
    }

    fn purge_client_tokens(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let deleted = self
            .conn
            .prepare_cached("DELETE FROM client_tokens WHERE created_at < ?1")
            .and_then(|mut st| st.execute([purge_cutoff(cutoff)]))
            .map_err(map_err)?;
        Ok(deleted as u64)
    }

    fn count_client_tokens(&mut self) -> Result<u64, StoreError> {
        let count: i64 = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM client_tokens")
            .and_then(|mut st| st.query_row([], |row| row.get(0)))
            .map_err(map_err)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

//! Accounts, their AccessKeys, and the nonces that keep signed requests from replaying.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use secgroup_domain::ids::AccountId;
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{AccessKeyRecord, AccountsTx, StoreError};

use crate::error::map_err;
use crate::tx::{to_count, SqliteTx};

/// How many expired nonces one claim deletes at most. More than the one row a claim adds,
/// so the table shrinks back under any load, yet each claim stays a bounded index probe.
const NONCE_PURGE_BATCH: i64 = 8;

impl AccountsTx for SqliteTx<'_> {
    fn insert_account(
        &mut self,
        account_id: &AccountId,
        is_default: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        conn.prepare_cached(
            "INSERT INTO accounts (id, is_default, created_at) VALUES (?1, ?2, ?3)",
        )
        .and_then(|mut st| st.execute(params![account_id, is_default, encode_time(now)]))
        .map_err(map_err)?;
        Ok(())
    }

    fn default_account(&mut self) -> Result<Option<AccountId>, StoreError> {
        let conn = self.conn;
        conn.prepare_cached("SELECT id FROM accounts WHERE is_default = 1 LIMIT 1")
            .and_then(|mut st| st.query_row([], |row| row.get::<_, String>(0)).optional())
            .map(|id| id.map(AccountId::from))
            .map_err(map_err)
    }

    fn insert_access_key(&mut self, key: &AccessKeyRecord) -> Result<(), StoreError> {
        let conn = self.conn;
        conn.prepare_cached(
            "INSERT INTO access_keys (id, secret, account_id, created_at) VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut st| {
            st.execute(params![
                key.access_key_id,
                key.secret,
                key.account_id,
                encode_time(key.created_at)
            ])
        })
        .map_err(map_err)?;
        Ok(())
    }

    fn access_key(&mut self, access_key_id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
        let conn = self.conn;
        let row = conn
            .prepare_cached("SELECT secret, account_id, created_at FROM access_keys WHERE id = ?1")
            .and_then(|mut st| {
                st.query_row([access_key_id], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                    ))
                })
                .optional()
            })
            .map_err(map_err)?;
        row.map(|(secret, account_id, created_at)| {
            Ok(AccessKeyRecord {
                access_key_id: access_key_id.to_owned(),
                secret,
                account_id,
                created_at: decode_time(&created_at)?,
            })
        })
        .transpose()
    }

    fn count_access_keys(&mut self) -> Result<u64, StoreError> {
        let conn = self.conn;
        let n: i64 = conn
            .prepare_cached("SELECT COUNT(*) FROM access_keys")
            .and_then(|mut st| st.query_row([], |row| row.get(0)))
            .map_err(map_err)?;
        to_count(n)
    }

    /// Inserts the nonce, or takes over an expired row for it; a row still live at `now`
    /// (`expires_at > now`) is a replay and changes nothing.
    fn count_live_nonces(&mut self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let count: i64 = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM nonces WHERE expires_at > ?1")
            .and_then(|mut st| st.query_row([now.timestamp_micros()], |row| row.get(0)))
            .map_err(map_err)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    fn claim_nonce(
        &mut self,
        access_key_id: &str,
        nonce: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let conn = self.conn;
        let now_us = now.timestamp_micros();
        conn.prepare_cached(
            "DELETE FROM nonces WHERE rowid IN
                 (SELECT rowid FROM nonces WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
        )
        .and_then(|mut st| st.execute(params![now_us, NONCE_PURGE_BATCH]))
        .map_err(map_err)?;

        let changed = conn
            .prepare_cached(
                "INSERT INTO nonces (access_key_id, nonce, expires_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_at = excluded.expires_at
                 WHERE nonces.expires_at <= ?4",
            )
            .and_then(|mut st| {
                st.execute(params![
                    access_key_id,
                    nonce,
                    expires_at.timestamp_micros(),
                    now_us
                ])
            })
            .map_err(map_err)?;
        Ok(changed == 1)
    }
}

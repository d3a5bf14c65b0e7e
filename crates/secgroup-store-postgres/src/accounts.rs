//! Accounts, their AccessKeys, and the nonces that keep signed requests from replaying.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use secgroup_domain::ids::AccountId;
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{AccessKeyRecord, AccountsTx, StoreError};

use crate::sql::{count, exec, get, opt};
use crate::tx::PgTx;

/// One claim in this many (a power of two) purges a few expired nonces. Purging on every claim would make
/// every pair of concurrent claims read the same expiry range, which SERIALIZABLE turns
/// into needless conflicts.
const NONCE_PURGE_EVERY: u64 = 16;
/// How many expired nonces one purge deletes at most (more than the claims in between add).
const NONCE_PURGE_BATCH: i64 = 64;

static CLAIMS: AtomicU64 = AtomicU64::new(0);

impl AccountsTx for PgTx<'_> {
    fn insert_account(
        &mut self,
        account_id: &AccountId,
        is_default: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        exec(
            c,
            "INSERT INTO accounts (id, is_default, created_at) VALUES ($1, $2, $3)",
            &[&account_id, &is_default, &encode_time(now)],
        )?;
        Ok(())
    }

    fn default_account(&mut self) -> Result<Option<AccountId>, StoreError> {
        let c = &mut *self.c;
        opt(c, "SELECT id FROM accounts WHERE is_default LIMIT 1", &[])?
            .map(|row| get::<String>(&row, 0).map(AccountId::from))
            .transpose()
    }

    fn insert_access_key(&mut self, key: &AccessKeyRecord) -> Result<(), StoreError> {
        let c = &mut *self.c;
        exec(
            c,
            "INSERT INTO access_keys (id, secret, account_id, created_at) VALUES ($1, $2, $3, $4)",
            &[
                &key.access_key_id,
                &key.secret,
                &key.account_id,
                &encode_time(key.created_at),
            ],
        )?;
        Ok(())
    }

    fn access_key(&mut self, access_key_id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
        let c = &mut *self.c;
        let Some(row) = opt(
            c,
            "SELECT secret, account_id, created_at FROM access_keys WHERE id = $1",
            &[&access_key_id],
        )?
        else {
            return Ok(None);
        };
        Ok(Some(AccessKeyRecord {
            access_key_id: access_key_id.to_owned(),
            secret: get(&row, 0)?,
            account_id: get(&row, 1)?,
            created_at: decode_time(get(&row, 2)?)?,
        }))
    }

    fn count_access_keys(&mut self) -> Result<u64, StoreError> {
        let c = &mut *self.c;
        count(c, "SELECT COUNT(*) FROM access_keys", &[])
    }

    /// Inserts the nonce, or takes over an expired row for it; a row still live at `now` is a
    /// replay and changes nothing. A concurrent claim of the same nonce on another node waits
    /// on the primary key, then conflicts (and is retried, to find the row) or updates nothing.
    fn count_live_nonces(&mut self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let c = &mut *self.c;
        count(
            c,
            "SELECT COUNT(*) FROM nonces WHERE expires_at > $1",
            &[&now.timestamp_micros()],
        )
    }

    fn claim_nonce(
        &mut self,
        access_key_id: &str,
        nonce: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let now_us = now.timestamp_micros();
        if CLAIMS.fetch_add(1, Ordering::Relaxed) & (NONCE_PURGE_EVERY - 1) == 0 {
            exec(
                c,
                "DELETE FROM nonces WHERE ctid IN
                     (SELECT ctid FROM nonces WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2
                      FOR UPDATE SKIP LOCKED)",
                &[&now_us, &NONCE_PURGE_BATCH],
            )?;
        }
        let changed = exec(
            c,
            "INSERT INTO nonces (access_key_id, nonce, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_at = excluded.expires_at
             WHERE nonces.expires_at <= $4",
            &[
                &access_key_id,
                &nonce,
                &expires_at.timestamp_micros(),
                &now_us,
            ],
        )?;
        Ok(changed == 1)
    }
}

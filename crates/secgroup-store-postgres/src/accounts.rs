//! Accounts, their AccessKeys, nonces, client tokens and tags.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use secgroup_domain::{AccessKeyRecord, ClientTokenRecord, ResourceType, StoreError, Tag};

use crate::sql::Conn;
use crate::sql::{count, decode_time, encode_time, exec, get, one, opt, rows};

/// One claim in this many (a power of two) purges a few expired nonces. Purging on every claim would make
/// every pair of concurrent claims read the same expiry range, which SERIALIZABLE turns
/// into needless conflicts.
const NONCE_PURGE_EVERY: u64 = 16;
/// How many expired nonces one purge deletes at most (more than the claims in between add).
const NONCE_PURGE_BATCH: i64 = 64;

static CLAIMS: AtomicU64 = AtomicU64::new(0);

pub(crate) fn insert_account(
    c: &mut Conn,
    account_id: &str,
    is_default: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    exec(
        c,
        "INSERT INTO accounts (id, is_default, created_at) VALUES ($1, $2, $3)",
        &[&account_id, &is_default, &encode_time(now)],
    )?;
    Ok(())
}

pub(crate) fn default_account(c: &mut Conn) -> Result<Option<String>, StoreError> {
    opt(c, "SELECT id FROM accounts WHERE is_default LIMIT 1", &[])?
        .map(|row| get(&row, 0))
        .transpose()
}

pub(crate) fn insert_access_key(c: &mut Conn, key: &AccessKeyRecord) -> Result<(), StoreError> {
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

pub(crate) fn access_key(
    c: &mut Conn,
    access_key_id: &str,
) -> Result<Option<AccessKeyRecord>, StoreError> {
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

pub(crate) fn count_access_keys(c: &mut Conn) -> Result<u64, StoreError> {
    count(c, "SELECT COUNT(*) FROM access_keys", &[])
}

/// Inserts the nonce, or takes over an expired row for it; a row still live at `now` is a
/// replay and changes nothing. A concurrent claim of the same nonce on another node waits
/// on the primary key, then conflicts (and is retried, to find the row) or updates nothing.
pub(crate) fn claim_nonce(
    c: &mut Conn,
    access_key_id: &str,
    nonce: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
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

pub(crate) fn client_token(
    c: &mut Conn,
    account_id: &str,
    token: &str,
) -> Result<Option<ClientTokenRecord>, StoreError> {
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
pub(crate) fn insert_client_token(c: &mut Conn, r: &ClientTokenRecord) -> Result<(), StoreError> {
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

pub(crate) fn tags(
    c: &mut Conn,
    account_id: &str,
    resource_type: ResourceType,
    resource_id: &str,
) -> Result<Vec<Tag>, StoreError> {
    rows(
        c,
        "SELECT key, value FROM tags
         WHERE account_id = $1 AND resource_type = $2 AND resource_id = $3 ORDER BY seq",
        &[&account_id, &resource_type.as_str(), &resource_id],
    )?
    .iter()
    .map(|row| {
        Ok(Tag {
            key: get(row, 0)?,
            value: get(row, 1)?,
        })
    })
    .collect()
}

/// Replaces the set: keys not in `new` go, keys that stay keep their place (and take the
/// new value), new keys follow in the order given. A key given twice takes its last value.
pub(crate) fn set_tags(
    c: &mut Conn,
    account_id: &str,
    resource_type: ResourceType,
    resource_id: &str,
    new: &[Tag],
) -> Result<(), StoreError> {
    let rt = resource_type.as_str();
    let existing: Vec<String> = rows(
        c,
        "SELECT key FROM tags WHERE account_id = $1 AND resource_type = $2 AND resource_id = $3",
        &[&account_id, &rt, &resource_id],
    )?
    .iter()
    .map(|row| get(row, 0))
    .collect::<Result<_, _>>()?;
    let keep: HashSet<&str> = new.iter().map(|t| t.key.as_str()).collect();
    let gone: Vec<&String> = existing
        .iter()
        .filter(|k| !keep.contains(k.as_str()))
        .collect();
    if !gone.is_empty() {
        exec(
            c,
            "DELETE FROM tags WHERE account_id = $1 AND resource_type = $2
             AND resource_id = $3 AND key = ANY($4)",
            &[&account_id, &rt, &resource_id, &gone],
        )?;
    }
    let row = one(
        c,
        "SELECT COALESCE(MAX(seq), 0)::BIGINT FROM tags
         WHERE account_id = $1 AND resource_type = $2 AND resource_id = $3",
        &[&account_id, &rt, &resource_id],
    )?;
    let last_seq: i64 = get(&row, 0)?;
    for (seq, tag) in (last_seq + 1..).zip(new) {
        exec(
            c,
            "INSERT INTO tags (account_id, resource_type, resource_id, key, value, seq)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (account_id, resource_type, resource_id, key)
             DO UPDATE SET value = excluded.value",
            &[&account_id, &rt, &resource_id, &tag.key, &tag.value, &seq],
        )?;
    }
    Ok(())
}

pub(crate) fn all_tags(
    c: &mut Conn,
    account_id: &str,
    resource_type: ResourceType,
) -> Result<HashMap<String, Vec<Tag>>, StoreError> {
    let mut by_resource: HashMap<String, Vec<Tag>> = HashMap::new();
    for row in rows(
        c,
        "SELECT resource_id, key, value FROM tags
         WHERE account_id = $1 AND resource_type = $2 ORDER BY resource_id, seq",
        &[&account_id, &resource_type.as_str()],
    )? {
        by_resource.entry(get(&row, 0)?).or_default().push(Tag {
            key: get(&row, 1)?,
            value: get(&row, 2)?,
        });
    }
    Ok(by_resource)
}

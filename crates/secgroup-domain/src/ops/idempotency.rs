//! `ClientToken` (docs/ecs.md §2.8): the same token with the same parameters returns the first
//! result and has no second effect; with other parameters it is refused. The token is recorded
//! in the same transaction as the effect, so a crash can never separate them. A token is
//! remembered for a retention period; after it, the token is new again, and
//! [`purge_expired`] forgets old tokens so that their table does not grow without bound.

use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::DomainError;
use crate::ids::AccountId;
use crate::model::ClientTokenRecord;
use crate::store::{StoreError, Tx};
use crate::validate;

/// A validated token and the fingerprint of the request that carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientToken {
    token: String,
    fingerprint: String,
}

impl ClientToken {
    /// `parameters` are the request's business parameters (action included), in any order.
    pub fn new<'a>(
        token: &str,
        parameters: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, DomainError> {
        validate::client_token(token)?;
        let mut pairs: Vec<(&str, &str)> = parameters
            .into_iter()
            .filter(|(k, _)| *k != "ClientToken")
            .collect();
        pairs.sort_unstable();
        let mut hasher = Sha256::new();
        for (k, v) in pairs {
            // Length-prefix both sides so that no two parameter sets hash alike by concatenation.
            hasher.update((k.len() as u64).to_le_bytes());
            hasher.update(k.as_bytes());
            hasher.update((v.len() as u64).to_le_bytes());
            hasher.update(v.as_bytes());
        }
        Ok(ClientToken {
            token: token.to_string(),
            fingerprint: hex::encode(hasher.finalize()),
        })
    }
}

/// Runs `op` unless `token` was seen within `retention`; records its result with the token.
pub fn once<T, F>(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    token: Option<&ClientToken>,
    now: DateTime<Utc>,
    retention: Duration,
    op: F,
) -> Result<T, DomainError>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce(&mut dyn Tx) -> Result<T, DomainError>,
{
    let Some(token) = token else { return op(tx) };
    if let Some(seen) = tx.client_token(account_id, &token.token)? {
        if seen.created_at + retention <= now {
            // Expired: the token is new again (and its old record makes way for the new).
            tx.delete_client_token(account_id, &token.token)?;
            return record(tx, account_id, token, now, op);
        }
        if seen.fingerprint != token.fingerprint {
            return Err(DomainError::IdempotentParameterMismatch);
        }
        return serde_json::from_str(&seen.result)
            .map_err(|e| StoreError::Other(format!("stored result: {e}")).into());
    }
    record(tx, account_id, token, now, op)
}

/// Runs `op` and records its result under `token`.
fn record<T, F>(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    token: &ClientToken,
    now: DateTime<Utc>,
    op: F,
) -> Result<T, DomainError>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce(&mut dyn Tx) -> Result<T, DomainError>,
{
    let result = op(tx)?;
    let stored =
        serde_json::to_string(&result).map_err(|e| StoreError::Other(format!("result: {e}")))?;
    tx.insert_client_token(&ClientTokenRecord {
        account_id: account_id.to_string(),
        token: token.token.clone(),
        fingerprint: token.fingerprint.clone(),
        result: stored,
        created_at: now,
    })?;
    Ok(result)
}

/// How long a token is remembered unless the operator says otherwise: a day, long past any
/// client's retries.
pub const DEFAULT_RETENTION: Duration = Duration::days(1);

/// Forgets every token older than `retention` at `now`; returns how many went.
pub fn purge_expired(
    tx: &mut dyn Tx,
    now: DateTime<Utc>,
    retention: Duration,
) -> Result<u64, StoreError> {
    tx.purge_client_tokens(now - retention)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_ignores_order_and_the_token_itself() {
        let a =
            ClientToken::new("t", [("A", "1"), ("B", "2"), ("ClientToken", "t")]).expect("valid");
        let b = ClientToken::new("t", [("B", "2"), ("A", "1")]).expect("valid");
        let c = ClientToken::new("t", [("A", "12"), ("B", "")]).expect("valid");
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}

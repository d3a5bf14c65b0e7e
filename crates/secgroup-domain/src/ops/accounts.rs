//! Accounts and their AccessKeys.

use chrono::{DateTime, Utc};

use crate::ids;
use crate::ids::AccountId;
use crate::model::AccessKeyRecord;
use crate::store::{StoreError, Tx};

/// Creates a new account with one fresh AccessKey.
pub fn create_account(
    tx: &mut dyn Tx,
    is_default: bool,
    now: DateTime<Utc>,
) -> Result<AccessKeyRecord, StoreError> {
    let account_id = AccountId::generate();
    tx.insert_account(&account_id, is_default, now)?;
    new_access_key(tx, &account_id, now)
}

/// Gives the existing account `account_id` one more fresh AccessKey.
pub fn new_access_key(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<AccessKeyRecord, StoreError> {
    let key = AccessKeyRecord {
        access_key_id: ids::new_access_key_id(),
        secret: ids::new_access_key_secret(),
        account_id: account_id.as_str().to_string(),
        created_at: now,
    };
    tx.insert_access_key(&key)?;
    Ok(key)
}

/// The default account, created on first use.
pub fn default_account(tx: &mut dyn Tx, now: DateTime<Utc>) -> Result<String, StoreError> {
    if let Some(id) = tx.default_account()? {
        return Ok(id.into_string());
    }
    let account_id = AccountId::generate();
    tx.insert_account(&account_id, true, now)?;
    Ok(account_id.into_string())
}

/// What start-up did about keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bootstrap {
    /// The configured key exists (now or already) for the default account.
    Configured,
    /// A configured key id exists with another secret or account: left unchanged.
    ConfiguredConflict,
    /// No key existed at all: this one was generated (to be printed once).
    Generated(AccessKeyRecord),
    /// Keys exist and none was configured: nothing to do.
    Existing,
}

/// Start-up: make the configured key exist for the default account (harmless when repeated);
/// with no key configured and none stored, generate one.
pub fn bootstrap_keys(
    tx: &mut dyn Tx,
    configured: Option<(&str, &str)>,
    now: DateTime<Utc>,
) -> Result<Bootstrap, StoreError> {
    match configured {
        Some((id, secret)) => {
            let account_id = default_account(tx, now)?;
            match tx.access_key(id)? {
                Some(existing)
                    if existing.secret == secret && existing.account_id == account_id =>
                {
                    Ok(Bootstrap::Configured)
                }
                Some(_) => Ok(Bootstrap::ConfiguredConflict),
                None => {
                    tx.insert_access_key(&AccessKeyRecord {
                        access_key_id: id.to_string(),
                        secret: secret.to_string(),
                        account_id,
                        created_at: now,
                    })?;
                    Ok(Bootstrap::Configured)
                }
            }
        }
        None if tx.count_access_keys()? == 0 => {
            let account_id = default_account(tx, now)?;
            let key = AccessKeyRecord {
                access_key_id: ids::new_access_key_id(),
                secret: ids::new_access_key_secret(),
                account_id,
                created_at: now,
            };
            tx.insert_access_key(&key)?;
            Ok(Bootstrap::Generated(key))
        }
        None => Ok(Bootstrap::Existing),
    }
}

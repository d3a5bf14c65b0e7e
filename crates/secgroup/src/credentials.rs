//! The wire crate asks for secrets and nonces through `CredentialStore`; here the domain
//! store answers. Keys are cached briefly: they never change once created.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use secgroup_domain::{Store, StoreError};
use secgroup_rpc::{AccessKeySecret, Credential, CredentialStore, CredentialStoreError};

pub struct StoreCredentials<S> {
    store: Arc<S>,
    /// Keys are immutable once created, so a positive lookup can be remembered.
    known: RwLock<HashMap<String, Credential>>,
}

impl<S: Store> StoreCredentials<S> {
    pub fn new(store: Arc<S>) -> Self {
        StoreCredentials {
            store,
            known: RwLock::new(HashMap::new()),
        }
    }
}

fn to_credential_error(err: StoreError) -> CredentialStoreError {
    match err {
        // A conflict that outlasted the store's retries is as transient as an outage.
        StoreError::Unavailable(e) | StoreError::Conflict(e) => {
            CredentialStoreError::Unavailable(e)
        }
        other => CredentialStoreError::Other(other.to_string()),
    }
}

impl<S: Store> CredentialStore for StoreCredentials<S> {
    async fn credential(
        &self,
        access_key_id: &str,
    ) -> Result<Option<Credential>, CredentialStoreError> {
        if let Some(found) = self
            .known
            .read()
            .ok()
            .and_then(|k| k.get(access_key_id).cloned())
        {
            return Ok(Some(found));
        }
        let id = access_key_id.to_string();
        let record = self
            .store
            .read(move |tx| tx.access_key(&id))
            .await
            .map_err(to_credential_error)?;
        let Some(record) = record else {
            return Ok(None);
        };
        let credential = Credential {
            account_id: record.account_id.clone(),
            secret: AccessKeySecret::new(record.secret.clone()),
        };
        if let Ok(mut known) = self.known.write() {
            known.insert(access_key_id.to_string(), credential.clone());
        }
        Ok(Some(credential))
    }

    async fn claim_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, CredentialStoreError> {
        self.store
            .claim_nonce(access_key_id, nonce, expires_at, Utc::now())
            .await
            .map_err(to_credential_error)
    }
}

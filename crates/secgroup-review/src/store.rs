//! The store side of import and export: which account, one read to plan, one write to
//! apply (docs/review.md §1).

use std::path::Path;

use chrono::Utc;
use secgroup_domain::ids::AccountId;
use secgroup_domain::ops::accounts;
use secgroup_domain::ops::import::{self, AccountImage, ImportCounts, ImportError as ApplyError};
use secgroup_domain::regions::RegionCatalog;
use secgroup_domain::{Store, StoreError};

use crate::export::{self, ExportError};
use crate::import::{read_export, ImportError};

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("the database holds no account{}", .0.as_ref().map(|a| format!(" {a}")).unwrap_or_default())]
    NoAccount(Option<String>),
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The account a command acts for: `given`, or the default account (as `serve`'s). With
/// `create`, a missing one is made (the given id as it is, or a new default account).
pub async fn resolve_account<S: Store>(
    store: &S,
    given: Option<&str>,
    create: bool,
) -> Result<AccountId, CommandError> {
    match given {
        Some(id) => {
            let account = AccountId::from(id);
            if create {
                let a = account.clone();
                // An account that exists refuses the insert, which rolls back: nothing changes.
                match store
                    .write(move |tx| tx.insert_account(&a, false, Utc::now()))
                    .await
                {
                    Ok(()) | Err(StoreError::Duplicate(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(account)
        }
        None => {
            let found = store.read(|tx| tx.default_account()).await?;
            match found {
                Some(a) => Ok(a),
                None if create => Ok(AccountId::from(
                    store
                        .write(|tx| accounts::default_account(tx, Utc::now()))
                        .await?,
                )),
                None => Err(CommandError::NoAccount(None)),
            }
        }
    }
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct Imported {
    pub account_id: AccountId,
    pub counts: ImportCounts,
    /// How many records the export held, by kind: VPCs, vSwitches, prefix lists, groups,
    /// rules, instances.
    pub records: [usize; 6],
}

/// Reads the export at `path` and brings the account to hold it: checked whole first
/// (nothing is stored when a file is bad), planned in a read, applied in one write — or
/// not at all when nothing would change.
pub async fn import_path<S: Store>(
    store: &S,
    path: &Path,
    account: Option<&str>,
) -> Result<Imported, CommandError> {
    // The account id is needed to read the export (own-account group references), so a
    // default account is looked up, not yet created.
    let known = match account {
        Some(a) => AccountId::from(a),
        None => store
            .read(|tx| tx.default_account())
            .await?
            .unwrap_or_default(),
    };
    let image = read_export(path, known.as_str())?;
    let records = [
        image.vpcs.len(),
        image.vswitches.len(),
        image.prefix_lists.len(),
        image.groups.len(),
        image.rules.len(),
        image.instances.len(),
    ];
    let image = std::sync::Arc::new(image);
    let planned = if known.is_empty() {
        None
    } else {
        let (a, i) = (known.clone(), image.clone());
        Some(store.read(move |tx| import::plan(tx, &a, &i)).await?)
    };
    if let Some(counts) = planned.filter(|c| c.changes() == 0) {
        return Ok(Imported {
            account_id: known,
            counts,
            records,
        });
    }
    let account_id = resolve_account(store, account, true).await?;
    let (a, i) = (account_id.clone(), image.clone());
    let counts = store.write(move |tx| import::apply(tx, &a, &i)).await?;
    Ok(Imported {
        account_id,
        counts,
        records,
    })
}

/// Everything the account has in every public region.
pub async fn read_account<S: Store>(
    store: &S,
    account_id: &AccountId,
) -> Result<AccountImage, CommandError> {
    let a = account_id.clone();
    Ok(store
        .read(move |tx| {
            let catalog = RegionCatalog::public();
            let regions: Vec<&str> = catalog.all().iter().map(|r| r.id.as_str()).collect();
            import::read(tx, &a, &regions)
        })
        .await?)
}

/// Writes the account's export under `path`; returns the number of files.
pub async fn export_path<S: Store>(
    store: &S,
    path: &Path,
    account: Option<&str>,
) -> Result<usize, CommandError> {
    let account_id = resolve_account(store, account, false).await?;
    let image = read_account(store, &account_id).await?;
    Ok(export::write(path, &image)?)
}

//! `secgroup import`, `secgroup export` and `secgroup review`: an account's Describe JSON
//! in and out of a database, and the review of what is stored (docs/review.md). They
//! open the database themselves, as `serve` does; no server needs to run.

use std::path::PathBuf;

use secgroup_review::store::{self, CommandError};

use crate::database;

/// Exit statuses of the three commands.
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

#[derive(Debug, clap::Args)]
pub struct AccountDatabase {
    /// The account (default: the database's default account, as `serve`'s).
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Database URL: sqlite://PATH, or postgres://USER:PASSWORD@HOST:PORT/DB.
    #[arg(long, env = "SECGROUP_DATABASE", default_value = database::DEFAULT_DATABASE)]
    pub database: String,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 when imported (or nothing to change), 2 on any error \
(nothing is stored then)."
)]
pub struct ImportArgs {
    /// A directory of Describe responses (JSON), or one file holding several.
    pub path: PathBuf,
    #[command(flatten)]
    pub target: AccountDatabase,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Exit status: 0 when written, 2 on any error.")]
pub struct ExportArgs {
    /// A directory to create (or an empty one): one subdirectory per region.
    pub path: PathBuf,
    #[command(flatten)]
    pub source: AccountDatabase,
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewCliError {
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("{0:#}")]
    Database(anyhow::Error),
}

/// Imports and prints one line of what changed.
pub async fn import(args: &ImportArgs) -> Result<(), ReviewCliError> {
    let store = database::open(&args.target.database).map_err(ReviewCliError::Database)?;
    let done =
        store::import_path(store.as_ref(), &args.path, args.target.account.as_deref()).await?;
    let [vpcs, vswitches, lists, groups, rules, instances] = done.records;
    println!(
        "account {}: {vpcs} VPCs, {vswitches} vSwitches, {lists} prefix lists, {groups} security groups, {rules} rules, {instances} instances read; {} inserted, {} updated, {} unchanged",
        done.account_id, done.counts.inserted, done.counts.updated, done.counts.unchanged
    );
    Ok(())
}

pub async fn export(args: &ExportArgs) -> Result<(), ReviewCliError> {
    let store = database::open(&args.source.database).map_err(ReviewCliError::Database)?;
    let files =
        store::export_path(store.as_ref(), &args.path, args.source.account.as_deref()).await?;
    println!("{files} files written under {}", args.path.display());
    Ok(())
}

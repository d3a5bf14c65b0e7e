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

/// How `secgroup review` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReviewOutput {
    /// Words and lists for a person.
    Text,
    /// The documented JSON document (docs/review.md §4).
    Json,
    /// One self-contained HTML page with the matrix pictures.
    Html,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 when nothing was found, 1 when there are findings \
(exposure, dead rules, hygiene, or differences with --diff), 2 on any error."
)]
pub struct ReviewArgs {
    #[command(flatten)]
    pub source: AccountDatabase,
    #[arg(long, value_enum, default_value = "text")]
    pub output: ReviewOutput,
    /// Compare reachability with OTHER: a database URL, or an export (a directory or file)
    /// that is imported into a scratch database first.
    #[arg(long, value_name = "OTHER")]
    pub diff: Option<String>,
}

/// Prints the review; `Ok(true)` when there are findings.
pub async fn review(args: &ReviewArgs) -> Result<bool, ReviewCliError> {
    use secgroup_review::review as r;
    let store = database::open(&args.source.database).map_err(ReviewCliError::Database)?;
    let account_id =
        store::resolve_account(store.as_ref(), args.source.account.as_deref(), false).await?;
    let image = std::sync::Arc::new(store::read_account(store.as_ref(), &account_id).await?);
    let limits = secgroup_domain::ops::Limits::default();
    let review = r::review(store.clone(), &account_id, image.clone(), &limits)
        .await
        .map_err(|e| ReviewCliError::Database(anyhow::anyhow!(e)))?;
    let diff = match &args.diff {
        None => None,
        Some(other) => Some(diff(store, &account_id, image, other).await?),
    };
    let findings = review.findings + diff.as_ref().map_or(0, |d| d.gained.len() + d.lost.len());
    let out = match args.output {
        ReviewOutput::Text => secgroup_review::report::text(&review, diff.as_ref()),
        ReviewOutput::Json => {
            super::pretty(&secgroup_review::report::json(&review, diff.as_ref())) + "\n"
        }
        ReviewOutput::Html => html(&review, diff.as_ref()),
    };
    print!("{out}");
    Ok(findings > 0)
}

/// The facts of both sides; an export is imported, for the same account, into a scratch
/// SQLite file that is removed afterwards.
async fn diff(
    store: std::sync::Arc<database::AnyStore>,
    account_id: &secgroup_domain::ids::AccountId,
    image: std::sync::Arc<secgroup_review::AccountImage>,
    other: &str,
) -> Result<secgroup_review::diff::Diff, ReviewCliError> {
    use secgroup_review::review::reachability_facts;
    let fail =
        |e: secgroup_review::review::ReviewError| ReviewCliError::Database(anyhow::anyhow!(e));
    let current = reachability_facts(store, account_id, image)
        .await
        .map_err(fail)?;
    let path = std::path::Path::new(other);
    let is_export = !other.contains("://") && path.exists() && !other.ends_with(".db");
    let mut scratch = None;
    let other_store = if is_export {
        let dir = std::env::temp_dir().join(format!(
            "secgroup-review-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| ReviewCliError::Database(e.into()))?;
        let url = format!("sqlite://{}", dir.join("other.db").display());
        scratch = Some(dir);
        let s = database::open(&url).map_err(ReviewCliError::Database)?;
        store::import_path(s.as_ref(), path, Some(account_id.as_str())).await?;
        s
    } else {
        database::open(other).map_err(ReviewCliError::Database)?
    };
    let result = async {
        let other_image =
            std::sync::Arc::new(store::read_account(other_store.as_ref(), account_id).await?);
        let facts = reachability_facts(other_store.clone(), account_id, other_image)
            .await
            .map_err(fail)?;
        Ok::<_, ReviewCliError>(facts)
    }
    .await;
    drop(other_store);
    if let Some(dir) = scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    let before = result?;
    Ok(secgroup_review::diff::compare(other, &current, &before))
}

/// One self-contained page: the text report's sections as tables, each region's matrix
/// as an inline SVG (the `secgroup matrix --svg` picture). No script, no external file.
pub fn html(
    review: &secgroup_review::review::Review,
    diff: Option<&secgroup_review::diff::Diff>,
) -> String {
    use secgroup_markup::escape;
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Review of account {}</title>\n<style>body{{font-family:sans-serif;margin:24px;color:#222}}table{{border-collapse:collapse;margin:8px 0 20px}}td,th{{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}}th{{background:#f3f3f3}}.bad{{color:#b00020;font-weight:bold}}.count{{font-size:15px}}code{{font-size:12px}}</style></head><body>\n",
        escape(&review.account_id)
    );
    let total = review.findings + diff.map_or(0, |d| d.gained.len() + d.lost.len());
    let _ = writeln!(
        o,
        "<h1>Review of account {}</h1><p class=\"count\"><span class=\"{}\">{total} finding(s)</span></p>",
        escape(&review.account_id),
        if total > 0 { "bad" } else { "" }
    );
    let table = |o: &mut String, title: &str, head: &[&str], rows: Vec<Vec<String>>| {
        if rows.is_empty() {
            return;
        }
        let _ = write!(o, "<h3>{} ({})</h3><table><tr>", escape(title), rows.len());
        for h in head {
            let _ = write!(o, "<th>{}</th>", escape(h));
        }
        o.push_str("</tr>\n");
        for row in rows.iter().take(500) {
            o.push_str("<tr>");
            for c in row {
                let _ = write!(o, "<td>{}</td>", escape(c));
            }
            o.push_str("</tr>\n");
        }
        o.push_str("</table>\n");
    };
    for r in &review.regions {
        let h = &r.hygiene;
        let _ = writeln!(
            o,
            "<h2>{}</h2><p>{} instances, {} security groups, {} rules</p>",
            escape(&r.region_id),
            r.instances,
            r.security_groups,
            r.rules
        );
        let m = &r.matrix;
        let view = secgroup_markup::MatrixView {
            title: m.title.clone(),
            instances: m
                .instances
                .iter()
                .map(|(id, name, status)| secgroup_markup::InstanceLabel {
                    id: id.clone(),
                    name: name.clone(),
                    status: status.to_string(),
                })
                .collect(),
            allowed: m.allowed.clone(),
            allowed_count: m.allowed_count,
        };
        if !view.instances.is_empty() {
            o.push_str("<div>");
            o.push_str(&secgroup_markup::render_element(&view));
            o.push_str("</div>\n");
            if m.omitted > 0 {
                let _ = writeln!(o, "<p>{} more instances are not drawn.</p>", m.omitted);
            }
        }
        table(
            &mut o,
            "Exposed to the Internet (sensitive ports first)",
            &[
                "Instance",
                "Name",
                "Status",
                "Address",
                "From",
                "Protocol",
                "Ports",
                "Sensitive",
                "Accepted by",
            ],
            r.exposures
                .iter()
                .map(|e| {
                    vec![
                        e.instance_id.clone(),
                        e.instance_name.clone(),
                        e.status.to_string(),
                        e.private_ip.clone(),
                        e.from.to_string(),
                        e.protocol.to_string(),
                        e.port_range.clone(),
                        e.sensitive_ports
                            .iter()
                            .map(u16::to_string)
                            .collect::<Vec<_>>()
                            .join(", "),
                        e.accepted_by.join(", "),
                    ]
                })
                .collect(),
        );
        table(
            &mut o,
            "Dead rules",
            &[
                "Rule",
                "Group",
                "Direction",
                "Priority",
                "Policy",
                "Why",
                "Shadowed by",
            ],
            r.dead_rules
                .iter()
                .map(|d| {
                    vec![
                        d.rule_id.clone(),
                        d.security_group_id.clone(),
                        d.direction.to_string(),
                        d.priority.to_string(),
                        d.policy.to_string(),
                        format!("{:?}", d.reason),
                        d.shadowed_by.join(", "),
                    ]
                })
                .collect(),
        );
        table(
            &mut o,
            "Groups without members",
            &["Group"],
            h.groups_without_members
                .iter()
                .map(|g| vec![g.clone()])
                .collect(),
        );
        let refs = |v: &[secgroup_review::review::RuleRef]| -> Vec<Vec<String>> {
            v.iter()
                .map(|x| {
                    vec![
                        x.rule_id.clone(),
                        x.security_group_id.clone(),
                        x.names.clone(),
                    ]
                })
                .collect()
        };
        table(
            &mut o,
            "Rules naming deleted groups",
            &["Rule", "Group", "Names"],
            refs(&h.rules_naming_deleted_groups),
        );
        table(
            &mut o,
            "Rules naming empty or missing prefix lists",
            &["Rule", "Group", "Names"],
            refs(&h.rules_naming_empty_prefix_lists),
        );
        table(
            &mut o,
            "Near quota",
            &["Resource", "Quota", "Used", "Limit"],
            h.near_quota
                .iter()
                .map(|q| {
                    vec![
                        q.resource.clone(),
                        q.what.to_string(),
                        q.used.to_string(),
                        q.limit.to_string(),
                    ]
                })
                .collect(),
        );
        table(
            &mut o,
            "Rules naming another account's group (kept, not checked)",
            &["Rule", "Group", "Names"],
            refs(&h.other_account_references),
        );
    }
    if let Some(d) = diff {
        let _ = writeln!(o, "<h2>Difference from {}</h2>", escape(&d.other));
        table(
            &mut o,
            "Gained",
            &["Reachability"],
            d.gained.iter().map(|g| vec![g.clone()]).collect(),
        );
        table(
            &mut o,
            "Lost",
            &["Reachability"],
            d.lost.iter().map(|g| vec![g.clone()]).collect(),
        );
    }
    o.push_str("</body></html>\n");
    o
}

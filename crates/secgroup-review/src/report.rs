//! The review as text for a person and as JSON for programs (docs/review.md §4). The HTML
//! page is the binary's (it draws the matrix with the `secgroup matrix` picture).

use std::fmt::Write as _;

use serde_json::Value;

use crate::diff::Diff;
use crate::review::Review;

/// Lines of each list printed in text before "… and N more".
pub const TEXT_LIMIT: usize = 50;

fn more(out: &mut String, total: usize) {
    if total > TEXT_LIMIT {
        let _ = writeln!(out, "    … and {} more", total - TEXT_LIMIT);
    }
}

/// The report a person reads at a glance: counts first, then each finding.
pub fn text(review: &Review, diff: Option<&Diff>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Review of account {}: {} finding(s)",
        review.account_id,
        review.findings + diff.map_or(0, |d| d.gained.len() + d.lost.len())
    );
    for r in &review.regions {
        let h = &r.hygiene;
        let _ = writeln!(
            out,
            "\n== {}: {} instances, {} security groups, {} rules",
            r.region_id, r.instances, r.security_groups, r.rules
        );
        let _ = writeln!(
            out,
            "  exposed to the Internet: {}   dead rules: {}   groups without members: {}   rules naming deleted groups: {}   rules naming empty prefix lists: {}   near quota: {}",
            r.exposures.len(),
            r.dead_rules.len(),
            h.groups_without_members.len(),
            h.rules_naming_deleted_groups.len(),
            h.rules_naming_empty_prefix_lists.len(),
            h.near_quota.len()
        );
        if !r.exposures.is_empty() {
            let _ = writeln!(out, "\n  Exposure (sensitive ports first):");
            for e in r.exposures.iter().take(TEXT_LIMIT) {
                let name = if e.instance_name.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", e.instance_name)
                };
                let sensitive = if e.sensitive_ports.is_empty() {
                    String::new()
                } else {
                    let ports: Vec<String> = e.sensitive_ports.iter().map(u16::to_string).collect();
                    format!(" [sensitive: {}]", ports.join(", "))
                };
                let status = if e.status == "Running" {
                    String::new()
                } else {
                    format!(" [{}]", e.status)
                };
                let _ = writeln!(
                    out,
                    "    {}{name}{status} {} accepts {} {} from {}{sensitive} — by {}",
                    e.instance_id,
                    e.private_ip,
                    e.protocol,
                    e.port_range,
                    e.from,
                    e.accepted_by.join(", ")
                );
            }
            more(&mut out, r.exposures.len());
        }
        if !r.dead_rules.is_empty() {
            let _ = writeln!(out, "\n  Dead rules:");
            for d in r.dead_rules.iter().take(TEXT_LIMIT) {
                let why = match d.reason {
                    crate::shadow::DeadReason::Shadowed => {
                        format!("shadowed by {}", d.shadowed_by.join(", "))
                    }
                    crate::shadow::DeadReason::InnerAccess => {
                        "irrelevant: InnerAccessPolicy Accept decides first".to_string()
                    }
                    crate::shadow::DeadReason::MatchesNothing => "matches no flow".to_string(),
                };
                let _ = writeln!(
                    out,
                    "    {} {} of {} (priority {}, {}): {why}",
                    d.direction, d.rule_id, d.security_group_id, d.priority, d.policy
                );
            }
            more(&mut out, r.dead_rules.len());
        }
        let list = |out: &mut String, title: &str, items: Vec<String>| {
            if items.is_empty() {
                return;
            }
            let _ = writeln!(out, "\n  {title}:");
            for i in items.iter().take(TEXT_LIMIT) {
                let _ = writeln!(out, "    {i}");
            }
            more(out, items.len());
        };
        list(
            &mut out,
            "Groups without members",
            h.groups_without_members.clone(),
        );
        let refs = |v: &[crate::review::RuleRef]| -> Vec<String> {
            v.iter()
                .map(|r| format!("{} of {} names {}", r.rule_id, r.security_group_id, r.names))
                .collect()
        };
        list(
            &mut out,
            "Rules naming deleted groups",
            refs(&h.rules_naming_deleted_groups),
        );
        list(
            &mut out,
            "Rules naming empty or missing prefix lists",
            refs(&h.rules_naming_empty_prefix_lists),
        );
        list(
            &mut out,
            "Near quota",
            h.near_quota
                .iter()
                .map(|q| format!("{} {}: {} of {}", q.resource, q.what, q.used, q.limit))
                .collect(),
        );
        list(
            &mut out,
            "Rules naming another account's group (kept, not checked)",
            refs(&h.other_account_references),
        );
    }
    if let Some(d) = diff {
        let _ = writeln!(
            out,
            "\n== Difference from {}: {} gained, {} lost",
            d.other,
            d.gained.len(),
            d.lost.len()
        );
        for (title, items) in [("Gained", &d.gained), ("Lost", &d.lost)] {
            if items.is_empty() {
                continue;
            }
            let _ = writeln!(out, "  {title}:");
            for i in items.iter().take(TEXT_LIMIT) {
                let _ = writeln!(out, "    {i}");
            }
            more(&mut out, items.len());
        }
    }
    out
}

/// The stable JSON document: the review's fields, and `diff` when asked.
pub fn json(review: &Review, diff: Option<&Diff>) -> Value {
    let mut v = serde_json::to_value(review).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        if let Some(d) = diff {
            m.insert(
                "diff".into(),
                serde_json::to_value(d).unwrap_or(Value::Null),
            );
            let extra = d.gained.len() + d.lost.len();
            m.insert("findings".into(), Value::from(review.findings + extra));
        }
    }
    v
}

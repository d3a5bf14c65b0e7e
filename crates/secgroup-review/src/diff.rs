//! `secgroup review --diff OTHER` (docs/review.md §3.4): which pairs gained or lost
//! reachability between OTHER (the baseline: another database, or an export imported into
//! a scratch one) and the reviewed account. A fact is one region's
//! `SOURCE -> DESTINATION PROBE`: between instances of one VPC on each of
//! [`crate::review::PROBES`], or from `0.0.0.0/0` / `::/0` to an instance on a port range.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// What was compared against, as given.
    pub other: String,
    /// Reachable now, not in OTHER: `region: fact`.
    pub gained: Vec<String>,
    /// Reachable in OTHER, not now.
    pub lost: Vec<String>,
}

/// Facts per region, of the reviewed account (`current`) and the baseline (`other`).
pub fn compare(
    other_name: &str,
    current: &BTreeMap<String, Vec<String>>,
    other: &BTreeMap<String, Vec<String>>,
) -> Diff {
    let flatten = |m: &BTreeMap<String, Vec<String>>| -> BTreeSet<String> {
        m.iter()
            .flat_map(|(region, facts)| facts.iter().map(move |f| format!("{region}: {f}")))
            .collect()
    };
    let (now, before) = (flatten(current), flatten(other));
    Diff {
        other: other_name.to_string(),
        gained: now.difference(&before).cloned().collect(),
        lost: before.difference(&now).cloned().collect(),
    }
}

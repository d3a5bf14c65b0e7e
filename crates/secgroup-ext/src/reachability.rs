//! `CheckReachability`'s answer in domain terms, free of HTTP: the reachability service's
//! decision for one flow ([`FlowCheck`]), put in words ([`crate::explain`]). Rendering is
//! [`crate::render`]'s business.
//!
//! Only a `Running` instance sends or receives traffic: a flow with an end that is not
//! running is unreachable whatever the groups say (docs/semantics.md §4, as NIS reports it).
//! The groups' own decision is still computed and reported beside it.

use chrono::{DateTime, Utc};
use secgroup_reach_service::{FlowCheck, Network};

pub use secgroup_reach_service::{
    EndpointFacts, EndpointQuery, FlowQuery, InstanceFacts, ReachabilityError,
};

use crate::explain::{self, Element};

/// The answer for one flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowAnswer {
    /// The groups allow the flow and both instance ends are running.
    pub reachable: bool,
    /// What the security groups alone decide.
    pub groups_allow: bool,
    pub source: EndpointFacts,
    pub destination: EndpointFacts,
    /// Instance ends that are not `Running`.
    pub not_running: Vec<InstanceFacts>,
    /// What decided: the inner-access group, or each direction's winning rules or default
    /// (allowed flow); the first blocking element (denied flow).
    pub deciding: Vec<Element>,
    /// Everything that blocks the flow (empty when reachable): ends that are not running,
    /// then each element the engine names.
    pub blocking: Vec<Element>,
    /// What the answer does not cover, when an end is outside.
    pub scope_note: Option<&'static str>,
    /// One line a person reads at a glance.
    pub summary: String,
}

/// Decides `query` over `network` at `now`, and explains the decision.
pub fn check(
    network: &Network,
    query: &FlowQuery,
    now: DateTime<Utc>,
) -> Result<FlowAnswer, ReachabilityError> {
    let check = network.check(query, now)?;
    Ok(explained(query, check))
}

fn explained(query: &FlowQuery, check: FlowCheck) -> FlowAnswer {
    let reachable = check.reachable();
    let FlowCheck {
        source,
        destination,
        not_running,
        verdict,
    } = check;
    let deciding = explain::deciding(&verdict);
    let mut blocking: Vec<Element> = not_running
        .iter()
        .map(|i| Element::NotRunning {
            instance_id: i.id.clone(),
            status: i.status,
        })
        .collect();
    blocking.extend(explain::blocking(&verdict));
    let summary = explain::summary(&explain::SummaryInput {
        source: &source,
        destination: &destination,
        protocol: query.protocol,
        port: query.port,
        source_port: query.source_port,
        groups_allow: verdict.allowed,
        not_running: &not_running,
        deciding: &deciding,
        blocking: &blocking,
    });
    FlowAnswer {
        reachable,
        groups_allow: verdict.allowed,
        source,
        destination,
        not_running,
        deciding,
        blocking,
        scope_note: verdict.scope_note,
        summary,
    }
}

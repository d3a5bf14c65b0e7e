//! A verdict in words: the elements that decide or block a flow, each placed at the
//! instance where it applies, and the one-line summary.

use std::fmt;

use secgroup_domain::network::InstanceStatus;
use secgroup_domain::rules::{Direction, IpProtocol};
use secgroup_reach::{Step, Verdict};

use crate::reachability::{EndpointFacts, InstanceFacts};

/// One element of an explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    /// An engine step; `at` is the instance whose interface's groups were consulted, and
    /// `interface` that interface (none for the steps about both ends: different VPCs,
    /// inner access).
    Step {
        step: Step,
        at: Option<String>,
        interface: Option<String>,
    },
    /// An end that is not `Running`.
    NotRunning {
        instance_id: String,
        status: InstanceStatus,
    },
}

impl Element {
    /// The wire name of the element's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Element::Step { step, .. } => match step {
                Step::DifferentVpc { .. } => "different-vpc",
                Step::InnerAccess { .. } => "inner-access",
                Step::Rule { .. } => "rule",
                Step::Default { .. } => "default",
            },
            Element::NotRunning { .. } => "instance-not-running",
        }
    }
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Element::Step {
                step, at: Some(at), ..
            } => write!(f, "{at}: {step}"),
            Element::Step { step, at: None, .. } => write!(f, "{step}"),
            Element::NotRunning {
                instance_id,
                status,
            } => write!(
                f,
                "{instance_id} is {}: only a Running instance sends or receives traffic",
                status.as_str()
            ),
        }
    }
}

fn direction_of(step: &Step) -> Option<Direction> {
    match step {
        Step::Rule { direction, .. } | Step::Default { direction, .. } => Some(*direction),
        Step::DifferentVpc { .. } | Step::InnerAccess { .. } => None,
    }
}

/// What decided: for an allowed flow the inner-access group, or every step of both
/// directions (egress first); for a denied one the engine's first blocking element.
pub fn deciding(verdict: &Verdict) -> Vec<Element> {
    let outcomes: Vec<_> = [&verdict.egress, &verdict.ingress]
        .into_iter()
        .flatten()
        .collect();
    if verdict.allowed && !outcomes.is_empty() {
        return outcomes
            .iter()
            .flat_map(|o| {
                o.steps.iter().map(|s| Element::Step {
                    step: s.clone(),
                    at: Some(o.instance_id.clone()),
                    interface: Some(o.interface_id.clone()),
                })
            })
            .collect();
    }
    let outcome =
        direction_of(&verdict.decided_by).and_then(|d| outcomes.iter().find(|o| o.direction == d));
    vec![Element::Step {
        step: verdict.decided_by.clone(),
        at: outcome.map(|o| o.instance_id.clone()),
        interface: outcome.map(|o| o.interface_id.clone()),
    }]
}

/// Every element the engine names as blocking, placed at its instance and interface
/// (egress at the source, ingress at the destination).
pub fn blocking(verdict: &Verdict) -> Vec<Element> {
    verdict
        .blocking
        .iter()
        .map(|step| {
            let outcome = match direction_of(step) {
                Some(Direction::Egress) => verdict.egress.as_ref(),
                Some(Direction::Ingress) => verdict.ingress.as_ref(),
                None => None,
            };
            Element::Step {
                step: step.clone(),
                at: outcome.map(|o| o.instance_id.clone()),
                interface: outcome.map(|o| o.interface_id.clone()),
            }
        })
        .collect()
}

/// `TCP/22`, `TCP/22 from port 1234`, `ICMP`.
pub fn traffic(protocol: IpProtocol, port: Option<u16>, source_port: Option<u16>) -> String {
    let mut out = protocol.as_str().to_string();
    if let Some(port) = port {
        out.push_str(&format!("/{port}"));
    }
    if let Some(source_port) = source_port {
        out.push_str(&format!(" from port {source_port}"));
    }
    out
}

pub struct SummaryInput<'a> {
    pub source: &'a EndpointFacts,
    pub destination: &'a EndpointFacts,
    pub protocol: IpProtocol,
    pub port: Option<u16>,
    pub source_port: Option<u16>,
    pub groups_allow: bool,
    pub not_running: &'a [InstanceFacts],
    pub deciding: &'a [Element],
    pub blocking: &'a [Element],
}

/// One line: the flow, the outcome and its first reason, e.g.
/// `i-a (web) -> i-b (db) TCP/22 is denied: i-b: ingress rule sgr-1 of sg-1 (priority 1, Drop)`.
pub fn summary(input: &SummaryInput<'_>) -> String {
    let flow = format!(
        "{} -> {} {}",
        input.source.label(),
        input.destination.label(),
        traffic(input.protocol, input.port, input.source_port)
    );
    let group_blocks: Vec<&Element> = input
        .blocking
        .iter()
        .filter(|e| !matches!(e, Element::NotRunning { .. }))
        .collect();
    if !input.not_running.is_empty() {
        let ends: Vec<String> = input
            .not_running
            .iter()
            .map(|i| format!("{} is {}", i.label(), i.status.as_str()))
            .collect();
        let groups = match group_blocks.first() {
            None => "the security groups would allow it".to_string(),
            Some(first) => format!("the security groups also deny it ({first})"),
        };
        return format!("{flow} is unreachable: {}; {groups}", ends.join(" and "));
    }
    if input.groups_allow {
        let reason = input
            .deciding
            .last()
            .map_or_else(String::new, |e| e.to_string());
        return format!("{flow} is allowed: {reason}");
    }
    let more = match group_blocks.len() {
        0 | 1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    let first = group_blocks
        .first()
        .map_or_else(String::new, |e| e.to_string());
    format!("{flow} is denied: {first}{more}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use secgroup_domain::rules::RulePolicy;
    use secgroup_domain::SecurityGroupType;

    fn instance(id: &str, name: &str, status: InstanceStatus) -> InstanceFacts {
        InstanceFacts {
            id: id.into(),
            name: name.into(),
            private_ip: "10.0.0.1".into(),
            vpc_id: "vpc-1".into(),
            status,
            network_interface_id: format!("eni-{id}"),
            address: "10.0.0.1".into(),
        }
    }

    fn drop_rule() -> Element {
        Element::Step {
            step: Step::Rule {
                group_id: "sg-db".into(),
                rule_id: "sgr-1".into(),
                direction: Direction::Ingress,
                priority: 1,
                policy: RulePolicy::Drop,
            },
            at: Some("i-b".into()),
            interface: Some("eni-i-b".into()),
        }
    }

    #[test]
    fn a_denied_flow_names_its_first_blocker_and_counts_the_rest() {
        let (a, b) = (
            EndpointFacts::Instance(instance("i-a", "web", InstanceStatus::Running)),
            EndpointFacts::Instance(instance("i-b", "", InstanceStatus::Running)),
        );
        let default = Element::Step {
            step: Step::Default {
                direction: Direction::Egress,
                group_type: SecurityGroupType::Enterprise,
            },
            at: Some("i-a".into()),
            interface: Some("eni-i-a".into()),
        };
        let blocking = [drop_rule(), default];
        let line = summary(&SummaryInput {
            source: &a,
            destination: &b,
            protocol: IpProtocol::Tcp,
            port: Some(22),
            source_port: None,
            groups_allow: false,
            not_running: &[],
            deciding: &blocking[..1],
            blocking: &blocking,
        });
        assert_eq!(
            line,
            "i-a (web) -> i-b TCP/22 is denied: i-b: ingress rule sgr-1 of sg-db (priority 1, Drop) (and 1 more)"
        );
    }

    #[test]
    fn a_stopped_end_leads_the_summary() {
        let stopped = instance("i-b", "db", InstanceStatus::Stopped);
        let (a, b) = (
            EndpointFacts::Outside("203.0.113.9".parse().expect("ip")),
            EndpointFacts::Instance(stopped.clone()),
        );
        let blocking = [Element::NotRunning {
            instance_id: "i-b".into(),
            status: InstanceStatus::Stopped,
        }];
        let line = summary(&SummaryInput {
            source: &a,
            destination: &b,
            protocol: IpProtocol::Icmp,
            port: None,
            source_port: None,
            groups_allow: true,
            not_running: std::slice::from_ref(&stopped),
            deciding: &[],
            blocking: &blocking,
        });
        assert_eq!(
            line,
            "203.0.113.9 (outside) -> i-b (db) ICMP is unreachable: i-b (db) is Stopped; the security groups would allow it"
        );
        assert_eq!(blocking[0].kind(), "instance-not-running");
        assert!(blocking[0].to_string().starts_with("i-b is Stopped"));
    }
}

//! One flow, decided in the order of docs/semantics.md §3.

use std::net::IpAddr;

use secgroup_domain::rules::{Direction, RulePolicy};
use secgroup_domain::SecurityGroupType;

use crate::snapshot::{direction_slot, CompiledRule, PeerMatch, Snapshot};
use crate::verdict::{
    DirectionOutcome, Endpoint, Flow, ReachError, Step, Verdict, OUTSIDE_SCOPE_NOTE,
};

/// An endpoint after lookup.
#[derive(Debug, Clone, Copy)]
enum Resolved {
    /// A NIC, at the address the flow uses there.
    Nic(u32, Option<IpAddr>),
    Outside(IpAddr),
}

/// What a rule's peer condition is tested against: the other end of the flow.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerView<'a> {
    pub(crate) address: Option<IpAddr>,
    /// Interned groups of the peer NIC, sorted; empty for an outside address.
    pub(crate) groups: &'a [u32],
}

pub(crate) fn peer_matches(rule: &CompiledRule, peer: PeerView<'_>) -> bool {
    match &rule.peer {
        PeerMatch::Addresses(blocks) => peer
            .address
            .is_some_and(|a| blocks.iter().any(|b| b.contains(a))),
        PeerMatch::Group(g) => peer.groups.binary_search(g).is_ok(),
    }
}

/// The default of a direction when no rule matches.
pub(crate) fn default_allows(direction: Direction, group_type: SecurityGroupType) -> bool {
    direction == Direction::Egress && group_type == SecurityGroupType::Normal
}

impl Snapshot {
    /// Decides one flow and explains the decision.
    pub fn evaluate(&self, flow: &Flow) -> Result<Verdict, ReachError> {
        let source = self.resolve(&flow.source)?;
        let destination = self.resolve(&flow.destination)?;
        let scope_note = match (source, destination) {
            (Resolved::Outside(_), Resolved::Outside(_)) => return Err(ReachError::NoNic),
            (Resolved::Nic(..), Resolved::Nic(..)) => None,
            _ => Some(OUTSIDE_SCOPE_NOTE),
        };
        if let (Resolved::Nic(s, _), Resolved::Nic(d, _)) = (source, destination) {
            if let Some(step) = self.cross_vpc_or_inner_access(s, d) {
                let allowed = step.kind() == crate::StepKind::InnerAccess;
                return Ok(Verdict {
                    allowed,
                    blocking: if allowed {
                        Vec::new()
                    } else {
                        vec![step.clone()]
                    },
                    decided_by: step,
                    egress: None,
                    ingress: None,
                    scope_note,
                });
            }
        }
        // Both checks always run, so that a denied answer names every blocking element.
        let egress = match source {
            Resolved::Nic(s, at) => Some(self.direction_outcome(
                s,
                at,
                Direction::Egress,
                self.peer_view(destination),
                flow,
            )),
            Resolved::Outside(_) => None,
        };
        let ingress = match destination {
            Resolved::Nic(d, at) => Some(self.direction_outcome(
                d,
                at,
                Direction::Ingress,
                self.peer_view(source),
                flow,
            )),
            Resolved::Outside(_) => None,
        };
        let blocking: Vec<Step> = [&egress, &ingress]
            .into_iter()
            .flatten()
            .filter(|o| !o.allows)
            .flat_map(|o| o.steps.iter().cloned())
            .collect();
        let allowed = blocking.is_empty();
        let decided_by = if allowed {
            ingress
                .as_ref()
                .or(egress.as_ref())
                .and_then(|o| o.steps.first().cloned())
        } else {
            blocking.first().cloned()
        };
        // Every outcome carries at least one step (a rule or the default), and one of the two
        // outcomes exists because at least one end is a NIC.
        let decided_by = decided_by.unwrap_or(Step::Default {
            direction: Direction::Ingress,
            group_type: SecurityGroupType::Normal,
        });
        Ok(Verdict {
            allowed,
            decided_by,
            blocking,
            egress,
            ingress,
            scope_note,
        })
    }

    fn resolve(&self, endpoint: &Endpoint) -> Result<Resolved, ReachError> {
        match endpoint {
            Endpoint::Nic(id) => self
                .nic_index(id)
                .map(|n| Resolved::Nic(n, self.nics[n as usize].address))
                .ok_or_else(|| ReachError::UnknownInstance(id.clone())),
            Endpoint::Interface { id, address } => {
                let n = self
                    .interface_index(id)
                    .ok_or_else(|| ReachError::UnknownInstance(id.clone()))?;
                let nic = &self.nics[n as usize];
                match address {
                    None => Ok(Resolved::Nic(n, nic.address)),
                    Some(a) if nic.holds(*a) => Ok(Resolved::Nic(n, Some(*a))),
                    Some(a) => Err(ReachError::UnknownInstance(format!("{id} at {a}"))),
                }
            }
            Endpoint::Outside(address) => match self.nic_by_address.get(address) {
                Some(&n) => Err(ReachError::AddressIsNic {
                    address: *address,
                    instance_id: self.nics[n as usize].instance_id.clone(),
                }),
                None => Ok(Resolved::Outside(*address)),
            },
        }
    }

    fn peer_view(&self, endpoint: Resolved) -> PeerView<'_> {
        match endpoint {
            Resolved::Nic(n, address) => PeerView {
                address,
                groups: &self.nics[n as usize].groups,
            },
            Resolved::Outside(address) => PeerView {
                address: Some(address),
                groups: &[],
            },
        }
    }

    /// Steps 1 and 2: a flow between VPCs is denied, one within a shared basic group whose
    /// policy is Accept is allowed; `None` when the rules must decide.
    pub(crate) fn cross_vpc_or_inner_access(&self, source: u32, destination: u32) -> Option<Step> {
        let s = &self.nics[source as usize];
        let d = &self.nics[destination as usize];
        if s.vpc != d.vpc {
            return Some(Step::DifferentVpc {
                source_vpc: self.vpc_ids[s.vpc as usize].clone(),
                destination_vpc: self.vpc_ids[d.vpc as usize].clone(),
            });
        }
        s.groups
            .iter()
            .filter(|g| d.groups.binary_search(g).is_ok())
            .map(|&g| &self.groups[g as usize])
            .find(|g| g.accepts_members())
            .map(|g| Step::InnerAccess {
                group_id: g.id.clone(),
            })
    }

    /// Step 4: one direction at one NIC, over the rules of all its groups; `at` is the
    /// NIC's address the flow uses (what a quintuple rule's own-side block must contain).
    fn direction_outcome(
        &self,
        nic: u32,
        at: Option<IpAddr>,
        direction: Direction,
        peer: PeerView<'_>,
        flow: &Flow,
    ) -> DirectionOutcome {
        let local = &self.nics[nic as usize];
        let slot = direction_slot(direction);
        let mut best_priority = u8::MAX;
        let mut winners: Vec<&CompiledRule> = Vec::new();
        for &g in &local.groups {
            // Sorted by priority: the first match is this group's best, and only rules at
            // that same priority can join it.
            for &r in &self.rules_by_group[g as usize][slot] {
                let rule = &self.rules[r as usize];
                if rule.priority > best_priority {
                    break;
                }
                let matches =
                    rule.matches_protocol_and_ports(flow.protocol, flow.port, flow.source_port)
                        && rule.matches_local(at)
                        && peer_matches(rule, peer);
                if matches {
                    if rule.priority < best_priority {
                        best_priority = rule.priority;
                        winners.clear();
                    }
                    winners.push(rule);
                }
            }
        }
        let step_of = |rule: &CompiledRule| Step::Rule {
            group_id: self.groups[rule.group as usize].id.clone(),
            rule_id: rule.id.clone(),
            direction,
            priority: rule.priority,
            policy: rule.policy,
        };
        if winners.is_empty() {
            return DirectionOutcome {
                direction,
                instance_id: local.instance_id.clone(),
                interface_id: local.interface_id.clone(),
                address: at,
                allows: default_allows(direction, local.group_type),
                steps: vec![Step::Default {
                    direction,
                    group_type: local.group_type,
                }],
            };
        }
        let drops: Vec<Step> = winners
            .iter()
            .filter(|r| r.policy == RulePolicy::Drop)
            .map(|r| step_of(r))
            .collect();
        let allows = drops.is_empty();
        DirectionOutcome {
            direction,
            instance_id: local.instance_id.clone(),
            interface_id: local.interface_id.clone(),
            address: at,
            allows,
            steps: if allows {
                winners.iter().map(|r| step_of(r)).collect()
            } else {
                drops
            },
        }
    }
}

//! What is asked (a [`Flow`]) and what is answered (a [`Verdict`]), as docs/semantics.md
//! §5 lists it.

use std::fmt;
use std::net::IpAddr;

use secgroup_domain::rules::{Direction, IpProtocol, RulePolicy};
use secgroup_domain::SecurityGroupType;

/// One end of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// The primary NIC of this instance (`i-…`), at its primary address.
    Nic(String),
    /// The NIC of this interface (`eni-…`, primary or secondary), at `address` — one of its
    /// own addresses — or at its primary address when `None`. A flow from a secondary
    /// address is decided by its interface's egress, one to it by its interface's ingress.
    Interface { id: String, address: Option<IpAddr> },
    /// An address that no NIC of the snapshot has (the Internet, an IDC, another account).
    Outside(IpAddr),
}

/// Traffic from `source` to `destination`, always asked in the initiator's direction
/// (replies of an allowed flow are allowed: the groups are stateful).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Flow {
    pub source: Endpoint,
    pub destination: Endpoint,
    pub protocol: IpProtocol,
    /// Destination port; `None` for protocols without ports. A rule with a real port range
    /// matches only a flow whose port is inside it; `-1/-1` matches any flow.
    pub port: Option<u16>,
    /// Source port, for quintuple rules. A rule with a real `SourcePortRange` matches only a
    /// flow whose source port is known and inside it (an unknown port is not assumed to be
    /// in any particular range).
    pub source_port: Option<u16>,
}

/// One element of an explanation: what decided, or what blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Source and destination NICs are in different VPCs (no peering is modelled).
    DifferentVpc {
        source_vpc: String,
        destination_vpc: String,
    },
    /// Both NICs are in this basic group, whose `InnerAccessPolicy` is `Accept`.
    InnerAccess { group_id: String },
    /// A rule matched and won its direction.
    Rule {
        group_id: String,
        rule_id: String,
        direction: Direction,
        priority: u8,
        policy: RulePolicy,
    },
    /// No rule matched in this direction; the group type's default applied.
    Default {
        direction: Direction,
        group_type: SecurityGroupType,
    },
}

/// The kind of a [`Step`], without its details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepKind {
    DifferentVpc,
    InnerAccess,
    Rule,
    Default,
}

impl Step {
    pub fn kind(&self) -> StepKind {
        match self {
            Step::DifferentVpc { .. } => StepKind::DifferentVpc,
            Step::InnerAccess { .. } => StepKind::InnerAccess,
            Step::Rule { .. } => StepKind::Rule,
            Step::Default { .. } => StepKind::Default,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::DifferentVpc {
                source_vpc,
                destination_vpc,
            } => write!(
                f,
                "source is in {source_vpc} and destination in {destination_vpc}: no route between VPCs is modelled"
            ),
            Step::InnerAccess { group_id } => write!(
                f,
                "both are members of {group_id}, whose InnerAccessPolicy Accept overrides every rule"
            ),
            Step::Rule {
                group_id,
                rule_id,
                direction,
                priority,
                policy,
            } => write!(
                f,
                "{} rule {rule_id} of {group_id} (priority {priority}, {})",
                direction.as_str(),
                policy.as_str()
            ),
            Step::Default {
                direction,
                group_type,
            } => {
                let verdict = match (direction, group_type) {
                    (Direction::Egress, SecurityGroupType::Normal) => "allows",
                    _ => "denies",
                };
                write!(
                    f,
                    "no {} rule matches: the {} group default {verdict}",
                    direction.as_str(),
                    group_type.as_str()
                )
            }
        }
    }
}

/// How one direction at one NIC decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectionOutcome {
    pub direction: Direction,
    /// The instance whose interface's groups were consulted.
    pub instance_id: String,
    /// That interface (`eni-…`).
    pub interface_id: String,
    /// The address of the flow at that interface (`None` when it does not parse).
    pub address: Option<IpAddr>,
    pub allows: bool,
    /// The default, or every winning rule: when the direction denies, every `Drop` rule at
    /// the winning priority; when it allows, every `Accept` rule at that priority.
    pub steps: Vec<Step>,
}

/// The answer for one flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    /// The step that decided: for a denied flow the first blocking element (egress before
    /// ingress), for an allowed one the inner-access group or the destination's ingress
    /// (the source's egress when the destination is outside).
    pub decided_by: Step,
    /// For a denied flow, every element that blocks it (both directions when both deny, each
    /// `Drop` rule at the winning priority); empty when allowed.
    pub blocking: Vec<Step>,
    /// The source's egress check; `None` for an outside source, or when an earlier step decided.
    pub egress: Option<DirectionOutcome>,
    /// The destination's ingress check; `None` for an outside destination, or when an earlier
    /// step decided.
    pub ingress: Option<DirectionOutcome>,
    /// Present when an end is outside: what the answer does not cover.
    pub scope_note: Option<&'static str>,
}

/// Said of every flow with an outside end (docs/semantics.md §2).
pub const OUTSIDE_SCOPE_NOTE: &str = "only security groups are evaluated: routing, NAT, public \
addresses and network ACLs on the path to or from the outside address are not modelled";

/// A question the snapshot cannot answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReachError {
    /// No NIC of the snapshot belongs to this instance, or is this interface; for an
    /// [`Endpoint::Interface`] with an address the interface does not hold, the text says
    /// `<interface> at <address>`.
    UnknownInstance(String),
    /// The "outside" address is a NIC's address (primary or secondary); ask with the
    /// instance or the interface instead.
    AddressIsNic {
        address: IpAddr,
        instance_id: String,
    },
    /// Neither end is a NIC, so no security group is involved.
    NoNic,
}

impl fmt::Display for ReachError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReachError::UnknownInstance(id) => write!(f, "unknown instance {id}"),
            ReachError::AddressIsNic {
                address,
                instance_id,
            } => write!(
                f,
                "{address} is the address of {instance_id}, not an outside address"
            ),
            ReachError::NoNic => write!(f, "neither end of the flow is a NIC"),
        }
    }
}

impl std::error::Error for ReachError {}

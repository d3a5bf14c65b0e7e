//! Answers as response nodes (one tree, rendered as JSON or XML by the wire crate).
//! Fields that do not apply to an element's kind are left out rather than sent empty.

use secgroup_reach::Step;
use secgroup_rpc::render::ObjectBuilder;
use secgroup_rpc::Node;

use crate::explain::Element;
use crate::reachability::{EndpointFacts, FlowAnswer, FlowQuery, InstanceFacts};
use secgroup_reach_service::{MatrixAnswer, MatrixQuery};

/// `Protocol`, then `Port` and `SourcePort` when they apply.
fn traffic(
    b: ObjectBuilder,
    protocol: &'static str,
    port: Option<u16>,
    source_port: Option<u16>,
) -> ObjectBuilder {
    let mut b = b.static_str("Protocol", protocol);
    if let Some(port) = port {
        b = b.int("Port", i64::from(port));
    }
    if let Some(source_port) = source_port {
        b = b.int("SourcePort", i64::from(source_port));
    }
    b
}

/// The body of `CheckReachability`.
pub fn flow_answer(query: &FlowQuery, answer: &FlowAnswer) -> Node {
    let b = Node::object()
        .bool("Reachable", answer.reachable)
        .str("Summary", &answer.summary)
        .bool("SecurityGroupsAllow", answer.groups_allow);
    traffic(b, query.protocol.as_str(), query.port, query.source_port)
        .field("Source", endpoint(&answer.source))
        .field("Destination", endpoint(&answer.destination))
        .field(
            "NotRunningInstances",
            Node::list(
                "Instance",
                answer.not_running.iter().map(|i| {
                    Node::object()
                        .str("InstanceId", &i.id)
                        .static_str("Status", i.status.as_str())
                        .build()
                }),
            ),
        )
        .field(
            "DecidingSteps",
            Node::list("Step", answer.deciding.iter().map(element)),
        )
        .field(
            "BlockingElements",
            Node::list("Element", answer.blocking.iter().map(element)),
        )
        .str("ScopeNote", answer.scope_note.unwrap_or(""))
        .build()
}

/// The body of `DescribeReachabilityMatrix`: `Rows.Row[i]` holds one character per
/// destination, `1` when `Instances.Instance[i]` reaches it, `0` when not.
pub fn matrix_answer(query: &MatrixQuery, answer: &MatrixAnswer) -> Node {
    let n = answer.instances.len();
    let rows = (0..n).map(|s| {
        Node::Str(
            (0..n)
                .map(|d| if answer.allowed(s, d) { '1' } else { '0' })
                .collect(),
        )
    });
    traffic(
        Node::object(),
        query.protocol.as_str(),
        query.port,
        query.source_port,
    )
    .int("InstanceCount", n as i64)
    .field(
        "Instances",
        Node::list("Instance", answer.instances.iter().map(instance)),
    )
    .field("Rows", Node::list("Row", rows))
    .int(
        "AllowedCount",
        i64::try_from(answer.allowed_count).unwrap_or(i64::MAX),
    )
    .build()
}

/// An instance at one of its interfaces: `NetworkInterfaceId` is the interface whose groups
/// decide there (docs/semantics.md §1).
fn instance_fields(b: ObjectBuilder, i: &InstanceFacts) -> ObjectBuilder {
    b.str("InstanceId", &i.id)
        .str("InstanceName", &i.name)
        .str("PrivateIpAddress", &i.private_ip)
        .str("VpcId", &i.vpc_id)
        .static_str("Status", i.status.as_str())
        .str("NetworkInterfaceId", &i.network_interface_id)
}

fn instance(i: &InstanceFacts) -> Node {
    instance_fields(Node::object(), i).build()
}

fn endpoint(e: &EndpointFacts) -> Node {
    match e {
        // `IpAddress`: the address the flow uses there (a secondary one, or one of another
        // interface, when that was asked).
        EndpointFacts::Instance(i) => {
            instance_fields(Node::object().static_str("Type", "Instance"), i)
                .str("IpAddress", &i.address)
                .build()
        }
        EndpointFacts::Outside(address) => Node::object()
            .static_str("Type", "IpAddress")
            .str("IpAddress", address.to_string())
            .build(),
    }
}

fn element(e: &Element) -> Node {
    let mut b = Node::object().static_str("Kind", e.kind());
    match e {
        Element::NotRunning {
            instance_id,
            status,
        } => {
            b = b
                .str("InstanceId", instance_id)
                .static_str("Status", status.as_str());
        }
        Element::Step {
            step,
            at,
            interface,
        } => {
            if let Some(at) = at {
                b = b.str("InstanceId", at);
            }
            if let Some(interface) = interface {
                b = b.str("NetworkInterfaceId", interface);
            }
            b = match step {
                Step::DifferentVpc {
                    source_vpc,
                    destination_vpc,
                } => b
                    .str("SourceVpcId", source_vpc)
                    .str("DestinationVpcId", destination_vpc),
                Step::InnerAccess { group_id } => b.str("SecurityGroupId", group_id),
                Step::Rule {
                    group_id,
                    rule_id,
                    direction,
                    priority,
                    policy,
                } => b
                    .static_str("Direction", direction.as_str())
                    .str("SecurityGroupId", group_id)
                    .str("SecurityGroupRuleId", rule_id)
                    .int("Priority", i64::from(*priority))
                    .static_str("Policy", policy.as_str()),
                Step::Default {
                    direction,
                    group_type,
                } => b
                    .static_str("Direction", direction.as_str())
                    .static_str("GroupType", group_type.as_str()),
            };
        }
    }
    b.str("Text", e.to_string()).build()
}

/// An agent's `LastError`: its own, and before it, for an agent that has not reported
/// within the host timeout, that it is away (it cannot reach the database, or it stopped
/// without saying so): its last report cannot tell that itself.
fn last_error(
    a: &secgroup_domain::AgentStatus,
    policy: &secgroup_domain::ops::placement::PlacementPolicy,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    if policy.is_alive(a.updated_at, now) {
        return a.last_error.clone();
    }
    let away = format!(
        "no report for more than {} s (the last at {}): the agent is stopped or cannot reach the database",
        policy.host_timeout.as_secs(),
        secgroup_api::render::time(&a.updated_at)
    );
    if a.last_error.is_empty() {
        away
    } else {
        format!("{away}; before that: {}", a.last_error)
    }
}

/// The body of `DescribeDataplaneStatus`: `InstanceCount` and `InstanceIds` are the
/// caller's share only; `Alive` says whether the agent reported within the host timeout
/// (README "Data plane").
pub fn dataplane_status(
    revision: u64,
    agents: &[secgroup_domain::AgentStatus],
    account_id: &str,
    hosts: &secgroup_domain::ops::placement::AccountHosts,
    policy: &secgroup_domain::ops::placement::PlacementPolicy,
    now: chrono::DateTime<chrono::Utc>,
) -> Node {
    let as_int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let ids = |ids: &[String]| Node::list("InstanceId", ids.iter().cloned().map(Node::Str));
    Node::object()
        .int("CurrentRevision", as_int(revision))
        .field(
            "Agents",
            Node::list(
                "Agent",
                agents.iter().map(|a| {
                    Node::object()
                        .str("AgentId", &a.agent_id)
                        .str("Host", &a.host)
                        .int("AppliedRevision", as_int(a.applied_revision))
                        .str(
                            "LastAppliedTime",
                            a.last_applied_time
                                .as_ref()
                                .map(secgroup_api::render::time)
                                .unwrap_or_default(),
                        )
                        .int(
                            "InstanceCount",
                            as_int(a.instance_counts.get(account_id).copied().unwrap_or(0)),
                        )
                        .str("LastError", last_error(a, policy, now))
                        .str("UnderlayAddress", &a.underlay_address)
                        .str("LastReportTime", secgroup_api::render::time(&a.updated_at))
                        .bool("Alive", policy.is_alive(a.updated_at, now))
                        .field(
                            "InstanceIds",
                            ids(hosts
                                .placed
                                .get(&a.host)
                                .map(Vec::as_slice)
                                .unwrap_or_default()),
                        )
                        .build()
                }),
            ),
        )
        .int("HostTimeoutSeconds", as_int(policy.host_timeout.as_secs()))
        .field("UnplacedInstanceIds", ids(&hosts.unplaced))
        .build()
}

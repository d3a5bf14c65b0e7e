//! One analysis: the engine's verdict for a path, written as the `NetworkReachableAnalysisResult`
//! document of the real service (docs/nis.md §4), plus our own `explanation`.
//!
//! Emulator-specific values (the real service publishes no enumeration), documented in
//! docs/nis.md §4: `errorCode` is `""`, `SECURITY_GROUP_DENY`, `ROUTE_NOT_FOUND`,
//! `INSTANCE_NOT_RUNNING` or `INSTANCE_NOT_FOUND`; `status` is the last stage reached:
//! `instance_checking`, `route_checking`, `security_group_checking_source`,
//! `security_group_checking_target` or `finish`. A security-group item's `description` says
//! what decided at that ENI and group: `user_acl_accept_rule` / `user_acl_drop_rule` (a rule
//! matched; `matchedRule` holds it), `default_sg_access_rule` (no rule matched: the group
//! type's default), `inner_access_accept` (both ends in a basic group whose
//! InnerAccessPolicy is Accept).

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use secgroup_domain::network::Instance;
use secgroup_domain::nis::{EndpointType, PathProtocol, PathSpec};
use secgroup_domain::rules::{Direction, IpProtocol, Peer, Rule, RulePolicy};
use secgroup_reach::{DirectionOutcome, Step, Verdict};
use secgroup_reach_service::{EndpointFacts, EndpointQuery, Network, Nic};
use serde_json::{json, Map, Value};

/// What an analysis concluded.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub reachable: bool,
    /// The result document, as the JSON text stored and returned.
    pub result: String,
}

/// Identifiers the document carries.
pub struct Ids<'a> {
    pub analysis_id: &'a str,
    pub request_id: &'a str,
    pub region_id: &'a str,
}

/// An end of the path, resolved against the network: an instance at one of its
/// interfaces (the one whose groups decide there, docs/semantics.md §1) and the address
/// the flow uses on it.
enum End<'a> {
    Instance {
        instance: &'a Instance,
        nic: &'a Nic,
        address: String,
    },
    Address(IpAddr),
}

/// Why no security group was consulted.
enum Unanalysable {
    InstanceNotFound(String),
    InstanceNotRunning(String),
}

/// Decides the path on `network` at `now` (instance statuses settled then) and writes the
/// document (docs/nis.md §5): each end in turn must exist and run, then the engine decides.
pub fn analyze(network: &Network, now: DateTime<Utc>, spec: &PathSpec, ids: &Ids<'_>) -> Outcome {
    let ends = resolve(network, now, spec, EndRole::Source).and_then(|source| {
        resolve(network, now, spec, EndRole::Target).map(|target| (source, target))
    });
    let (reachable, doc) = match ends {
        Err(why) => (false, unanalysable(why, ids)),
        Ok(((source, source_facts), (target, target_facts))) => {
            let ports = spec.protocol.has_ports();
            let verdict = network.evaluate(
                &source_facts,
                &target_facts,
                protocol(spec.protocol),
                ports.then_some(spec.target_port).flatten(),
                ports.then_some(spec.source_port).flatten(),
            );
            match verdict {
                Ok(verdict) => {
                    let context = Context { network, ids };
                    (
                        verdict.allowed,
                        context.document(&source, &target, &verdict),
                    )
                }
                // Neither end is an instance (two outside addresses): no group is involved.
                Err(e) => (
                    false,
                    error_document("NO_SECURITY_GROUP", "finish", &e.to_string(), ids),
                ),
            }
        }
    };
    Outcome {
        reachable,
        result: doc.to_string(),
    }
}

#[derive(Clone, Copy)]
enum EndRole {
    Source,
    Target,
}

/// One end as the engine's service resolves it, and the stored instance the document
/// describes; an instance end must be `Running`.
fn resolve<'a>(
    network: &'a Network,
    now: DateTime<Utc>,
    spec: &PathSpec,
    role: EndRole,
) -> Result<(End<'a>, EndpointFacts), Unanalysable> {
    let (id, kind, ip) = match role {
        EndRole::Source => (&spec.source_id, spec.source_type, &spec.source_ip_address),
        EndRole::Target => (&spec.target_id, spec.target_type, &spec.target_ip_address),
    };
    let query = match kind {
        EndpointType::Ecs => {
            // An address given with the instance picks the interface of that instance which
            // holds it (a secondary address, or one of a secondary interface).
            let address: Option<IpAddr> = ip.as_deref().and_then(|s| s.trim().parse().ok());
            let holder = address.and_then(|a| {
                let n = network.instance_index(id)?;
                network
                    .holders(a)
                    .iter()
                    .find(|h| h.exact && network.nics()[h.nic].instance == n)
                    .map(|h| (h.nic, a))
            });
            match holder {
                Some((k, address)) => EndpointQuery::AddressIn {
                    vswitch_id: network.nics()[k].vswitch_id.clone(),
                    address,
                },
                None => EndpointQuery::Instance(id.clone()),
            }
        }
        _ => {
            let address: Option<IpAddr> = ip.as_deref().or(Some(id)).and_then(|s| s.parse().ok());
            let Some(address) = address else {
                return Err(Unanalysable::InstanceNotFound(id.clone()));
            };
            // An address of a vSwitch that an instance there holds is that instance (private
            // addresses repeat across VPCs, so only the named vSwitch counts).
            if kind == EndpointType::Vsw {
                EndpointQuery::AddressIn {
                    vswitch_id: id.clone(),
                    address,
                }
            } else {
                EndpointQuery::Outside(address)
            }
        }
    };
    let facts = network
        .resolve(&query, now)
        .map_err(|_| Unanalysable::InstanceNotFound(id.clone()))?;
    match &facts {
        EndpointFacts::Instance(i) if !i.is_running() => {
            Err(Unanalysable::InstanceNotRunning(i.id.clone()))
        }
        EndpointFacts::Instance(i) => {
            let instance = network.instance(&i.id);
            let nic = network
                .nic_index(&i.network_interface_id)
                .map(|k| &network.nics()[k]);
            match (instance, nic) {
                (Some(instance), Some(nic)) => Ok((
                    End::Instance {
                        instance,
                        nic,
                        address: i.address.clone(),
                    },
                    facts,
                )),
                _ => Err(Unanalysable::InstanceNotFound(id.clone())),
            }
        }
        EndpointFacts::Outside(a) => Ok((End::Address(*a), facts)),
    }
}

fn protocol(p: PathProtocol) -> IpProtocol {
    match p {
        PathProtocol::Tcp => IpProtocol::Tcp,
        PathProtocol::Udp => IpProtocol::Udp,
        PathProtocol::Icmp => IpProtocol::Icmp,
    }
}

fn unanalysable(why: Unanalysable, ids: &Ids<'_>) -> Value {
    match why {
        Unanalysable::InstanceNotFound(id) => error_document(
            "INSTANCE_NOT_FOUND",
            "instance_checking",
            &format!("instance {id} no longer exists"),
            ids,
        ),
        Unanalysable::InstanceNotRunning(id) => error_document(
            "INSTANCE_NOT_RUNNING",
            "instance_checking",
            &format!("instance {id} is not Running: it sends and receives nothing"),
            ids,
        ),
    }
}

/// A document for a path whose groups were never consulted.
fn error_document(code: &str, stage: &str, reason: &str, ids: &Ids<'_>) -> Value {
    json!({
        "errorCode": code,
        "nraId": ids.analysis_id,
        "requestId": ids.request_id,
        "status": stage,
        "networkAclData": {"networkAclItems": []},
        "routeData": {"routeItems": []},
        "securityGroupData": {
            "policy": "drop",
            "securityGroupReportId": secgroup_domain::ids::new_report_id("sgr"),
            "securityGroupItems": [],
        },
        "topologyData": {
            "positive": {"linkList": [], "nodeList": []},
            "reverse": {"revLinkList": [], "revNodeList": []},
            "topologyReportId": secgroup_domain::ids::new_report_id("tpr"),
        },
        "explanation": {"reachable": false, "decidedBy": reason, "blocking": [reason]},
    })
}

struct Context<'a> {
    network: &'a Network,
    ids: &'a Ids<'a>,
}

impl Context<'_> {
    fn document(&self, source: &End<'_>, target: &End<'_>, verdict: &Verdict) -> Value {
        let (error_code, stage) = match (&verdict.allowed, &verdict.decided_by) {
            (true, _) => ("", "finish"),
            (false, Step::DifferentVpc { .. }) => ("ROUTE_NOT_FOUND", "route_checking"),
            (false, _) if verdict.egress.as_ref().is_some_and(|e| !e.allows) => {
                ("SECURITY_GROUP_DENY", "security_group_checking_source")
            }
            (false, _) => ("SECURITY_GROUP_DENY", "security_group_checking_target"),
        };
        let mut items = Vec::new();
        if let Step::InnerAccess { group_id } = &verdict.decided_by {
            for end in [source, target] {
                if let End::Instance { nic, .. } = end {
                    items.push(item(
                        nic,
                        group_id,
                        "accept",
                        "inner_access_accept",
                        empty_rule(),
                    ));
                }
            }
        }
        for (outcome, end) in [(&verdict.egress, source), (&verdict.ingress, target)] {
            if let (Some(outcome), End::Instance { nic, .. }) = (outcome, end) {
                self.direction_items(nic, outcome, &mut items);
            }
        }
        json!({
            "errorCode": error_code,
            "nraId": self.ids.analysis_id,
            "requestId": self.ids.request_id,
            "status": stage,
            "networkAclData": {"networkAclItems": []},
            "routeData": {"routeItems": []},
            "securityGroupData": {
                "policy": if verdict.allowed { "accept" } else { "drop" },
                "securityGroupReportId": secgroup_domain::ids::new_report_id("sgr"),
                "securityGroupItems": items,
            },
            "topologyData": self.topology(source, target),
            "explanation": explanation(verdict),
        })
    }

    /// One item per winning rule, or per group of the ENI when the default decided.
    fn direction_items(&self, nic: &Nic, outcome: &DirectionOutcome, out: &mut Vec<Value>) {
        for step in &outcome.steps {
            match step {
                Step::Rule {
                    group_id,
                    rule_id,
                    policy,
                    ..
                } => {
                    let (word, description) = match policy {
                        RulePolicy::Accept => ("accept", "user_acl_accept_rule"),
                        RulePolicy::Drop => ("drop", "user_acl_drop_rule"),
                    };
                    let matched = self
                        .network
                        .rule(rule_id)
                        .map_or_else(empty_rule, matched_rule);
                    out.push(item(nic, group_id, word, description, matched));
                }
                Step::Default { .. } => {
                    let word = if outcome.allows { "accept" } else { "drop" };
                    for group_id in &nic.security_group_ids {
                        out.push(item(
                            nic,
                            group_id,
                            word,
                            "default_sg_access_rule",
                            empty_rule(),
                        ));
                    }
                }
                Step::DifferentVpc { .. } | Step::InnerAccess { .. } => {}
            }
        }
    }

    /// VM → ENI → VSW (→ VSW) → ENI → VM for instances; an outside address is one IP node.
    fn topology(&self, source: &End<'_>, target: &End<'_>) -> Value {
        let mut nodes: Vec<Value> = Vec::new();
        let mut chain: Vec<String> = Vec::new();
        let mut push = |node: Value, nodes: &mut Vec<Value>| {
            if let Some(id) = node.get("id").and_then(Value::as_str) {
                chain.push(id.to_string());
            }
            nodes.push(node);
        };
        match source {
            End::Instance {
                instance,
                nic,
                address,
            } => {
                push(self.vm_node(instance, 1), &mut nodes);
                push(eni_node(nic, address, self.ids.region_id), &mut nodes);
                push(self.vsw_node(instance, nic, 2), &mut nodes);
            }
            End::Address(a) => push(address_node(*a, 1), &mut nodes),
        }
        match target {
            End::Instance {
                instance,
                nic,
                address,
            } => {
                let same_vswitch = matches!(
                    source,
                    End::Instance { nic: s, .. } if s.vswitch_id == nic.vswitch_id
                );
                if !same_vswitch {
                    push(self.vsw_node(instance, nic, 2), &mut nodes);
                }
                push(eni_node(nic, address, self.ids.region_id), &mut nodes);
                push(self.vm_node(instance, 3), &mut nodes);
            }
            End::Address(a) => push(address_node(*a, 3), &mut nodes),
        }
        let links: Vec<Value> = chain.windows(2).map(|w| link(&w[0], &w[1])).collect();
        let rev_links: Vec<Value> = chain.windows(2).rev().map(|w| link(&w[1], &w[0])).collect();
        let rev_nodes: Vec<Value> = nodes.iter().rev().map(reverse_node).collect();
        json!({
            "positive": {"linkList": links, "nodeList": nodes},
            "reverse": {"revLinkList": rev_links, "revNodeList": rev_nodes},
            "topologyReportId": secgroup_domain::ids::new_report_id("tpr"),
        })
    }

    fn vm_node(&self, i: &Instance, level: u32) -> Value {
        json!({
            "id": i.id, "bizInsId": i.id, "nodeType": "VM", "level": level,
            "aZone": i.zone_id, "regionNo": self.ids.region_id, "regionNoAlias": self.ids.region_id,
            "matchedRoute": {"nextHopSet": []}, "trafficLogs": [],
        })
    }

    /// The vSwitch of the interface (a secondary one may sit in another of the zone).
    fn vsw_node(&self, i: &Instance, nic: &Nic, level: u32) -> Value {
        let cidr = self
            .network
            .vswitch(&nic.vswitch_id)
            .map_or("", |v| v.cidr_block.as_str());
        json!({
            "id": nic.vswitch_id, "bizInsId": nic.vswitch_id, "nodeType": "VSW", "level": level,
            "cidr": cidr, "aZone": i.zone_id, "regionNo": self.ids.region_id,
            "regionNoAlias": self.ids.region_id, "matchedRoute": {"nextHopSet": []}, "trafficLogs": [],
        })
    }
}

/// The interface evaluated, at the address the flow uses on it.
fn eni_node(nic: &Nic, address: &str, region_id: &str) -> Value {
    json!({
        "id": nic.interface_id, "bizInsId": nic.interface_id, "nodeType": "ENI",
        "ip": address, "mac": nic.mac_address, "status": "InUse", "regionNo": region_id,
        "regionNoAlias": region_id, "matchedRoute": {"nextHopSet": []}, "trafficLogs": [],
    })
}

fn address_node(a: IpAddr, level: u32) -> Value {
    json!({
        "id": a.to_string(), "bizInsId": a.to_string(), "nodeType": "IP", "level": level,
        "ip": a.to_string(), "matchedRoute": {"nextHopSet": []}, "trafficLogs": [],
    })
}

fn link(from: &str, to: &str) -> Value {
    json!({"id": format!("{from}-->{to}"), "source": from, "target": to})
}

/// A forward node as the reverse section spells it.
fn reverse_node(node: &Value) -> Value {
    let mut out = Map::new();
    if let Value::Object(fields) = node {
        for (k, v) in fields {
            match k.as_str() {
                "matchedRoute" => {
                    out.insert("revMatchedRoute".into(), json!({"revNextHopSet": []}))
                }
                "trafficLogs" => None,
                _ => out.insert(k.clone(), v.clone()),
            };
        }
    }
    Value::Object(out)
}

fn item(nic: &Nic, group_id: &str, policy: &str, description: &str, rule: Value) -> Value {
    json!({
        "description": description,
        "policy": policy,
        "resourceId": nic.interface_id,
        "securityGroupId": group_id,
        "matchedRule": rule,
    })
}

/// `matchedRule` when no explicit rule matched: every key, all empty.
fn empty_rule() -> Value {
    json!({
        "bizProtocol": "", "creatingTime": "", "description": "", "destinationCidr": "",
        "destinationGroupId": "", "direction": "", "policy": "", "portRange": "", "priority": "",
        "sourceCidr": "", "sourceGroupId": "",
    })
}

/// A stored rule as `matchedRule` spells it (priority and port range as strings). The peer
/// is the source of an ingress rule and the destination of an egress rule; a prefix-list
/// peer is named under `sourcePrefixListId`/`destinationPrefixListId` (our addition).
fn matched_rule(rule: &Rule) -> Value {
    let s = &rule.spec;
    let (mut cidr, mut group, mut prefix_list) = (String::new(), String::new(), String::new());
    match &s.peer {
        Peer::Cidr(c) => cidr = c.as_str().to_string(),
        Peer::Group { group_id, .. } => group = group_id.clone(),
        Peer::PrefixList(id) => prefix_list = id.clone(),
    }
    let local = s
        .local_cidr
        .as_ref()
        .map_or(String::new(), |c| c.as_str().to_string());
    let ((source_cidr, source_group, source_list), (dest_cidr, dest_group, dest_list)) =
        match s.direction {
            Direction::Ingress => (
                (cidr, group, prefix_list),
                (local, String::new(), String::new()),
            ),
            Direction::Egress => (
                (local, String::new(), String::new()),
                (cidr, group, prefix_list),
            ),
        };
    let row = rule.to_row();
    json!({
        "bizProtocol": row.ip_protocol,
        "creatingTime": secgroup_api::render::time(&rule.create_time),
        "description": s.description,
        "destinationCidr": dest_cidr,
        "destinationGroupId": dest_group,
        "destinationPrefixListId": dest_list,
        "direction": s.direction.as_str(),
        "policy": row.policy,
        "portRange": row.port_range,
        "priority": s.priority.to_string(),
        "ruleId": rule.id,
        "sourceCidr": source_cidr,
        "sourceGroupId": source_group,
        "sourcePrefixListId": source_list,
    })
}

/// Our own addition: the verdict in the words of docs/semantics.md §5.
fn explanation(verdict: &Verdict) -> Value {
    let direction = |o: &Option<DirectionOutcome>| {
        o.as_ref().map(|o| {
            json!({
                "direction": o.direction.as_str(),
                "instanceId": o.instance_id,
                "networkInterfaceId": o.interface_id,
                "allows": o.allows,
                "steps": o.steps.iter().map(ToString::to_string).collect::<Vec<_>>(),
            })
        })
    };
    json!({
        "reachable": verdict.allowed,
        "decidedBy": verdict.decided_by.to_string(),
        "blocking": verdict.blocking.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "egress": direction(&verdict.egress),
        "ingress": direction(&verdict.ingress),
        "scopeNote": verdict.scope_note,
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use secgroup_domain::network::{NetworkState, VSwitch};
    use secgroup_domain::ops::instances::InstanceTimings;
    use secgroup_domain::rules::{Direction, RulePolicy};
    use secgroup_domain::{InnerAccessPolicy, SecurityGroupType};
    use secgroup_reach::testkit::{
        group, group_peer, instance, primary_interface, rule, secondary_interface,
    };

    use super::*;

    fn vswitch(id: &str, cidr: &str) -> VSwitch {
        VSwitch {
            id: id.into(),
            account_id: "1".into(),
            region_id: "cn-hangzhou".into(),
            vpc_id: "vpc-1".into(),
            zone_id: "cn-hangzhou-a".into(),
            cidr_block: cidr.into(),
            name: String::new(),
            description: String::new(),
            creation_time: Utc::now(),
        }
    }

    /// `i-a` eth0 10.0.0.10 in sg-front; eth1 `eni-a1` in vsw-2, 10.0.1.20 (+ .21), in
    /// sg-back; `i-b` 10.0.0.30 in sg-db, admitting tcp/5432 from sg-back only.
    fn network() -> Network {
        let a = instance("i-a", "vpc-1", "10.0.0.10", &["sg-front"]);
        let b = instance("i-b", "vpc-1", "10.0.0.30", &["sg-db"]);
        let mut eth1 =
            secondary_interface("eni-a1", &a, 1, &["10.0.1.20", "10.0.1.21"], &["sg-back"]);
        eth1.vswitch_id = "vsw-2".into();
        eth1.mac_address = "00:16:3e:00:00:a1".into();
        let basic = |id: &str| {
            group(
                id,
                "vpc-1",
                SecurityGroupType::Normal,
                InnerAccessPolicy::Drop,
            )
        };
        let state = NetworkState {
            groups: vec![basic("sg-front"), basic("sg-back"), basic("sg-db")],
            rules: vec![rule(
                "sgr-db",
                "sg-db",
                Direction::Ingress,
                IpProtocol::Tcp,
                (5432, 5432),
                RulePolicy::Accept,
                1,
                group_peer("sg-back"),
            )],
            interfaces: vec![primary_interface(&a, &[]), primary_interface(&b, &[]), eth1],
            instances: vec![a, b],
            ..NetworkState::default()
        };
        let vswitches = vec![
            vswitch("vsw-1", "10.0.0.0/24"),
            vswitch("vsw-2", "10.0.1.0/24"),
        ];
        Network::compile(state, vswitches, InstanceTimings::default()).expect("compiles")
    }

    fn analyze_from(source: (&str, EndpointType, Option<&str>)) -> (bool, Value) {
        let spec = PathSpec {
            source_id: source.0.into(),
            source_type: source.1,
            source_ip_address: source.2.map(str::to_string),
            source_port: None,
            target_id: "i-b".into(),
            target_type: EndpointType::Ecs,
            target_ip_address: None,
            target_port: Some(5432),
            protocol: PathProtocol::Tcp,
        };
        let ids = Ids {
            analysis_id: "nra-1",
            request_id: "r",
            region_id: "cn-hangzhou",
        };
        let outcome = analyze(&network(), Utc::now(), &spec, &ids);
        let doc: Value = serde_json::from_str(&outcome.result).expect("JSON");
        (outcome.reachable, doc)
    }

    fn resource_ids(doc: &Value) -> Vec<&str> {
        doc["securityGroupData"]["securityGroupItems"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["resourceId"].as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn the_items_and_the_topology_name_the_interface_evaluated() {
        // From a secondary interface's secondary address (a vSwitch end holding it).
        let (reachable, doc) = analyze_from(("vsw-2", EndpointType::Vsw, Some("10.0.1.21")));
        assert!(reachable, "{doc}");
        assert_eq!(resource_ids(&doc), ["eni-a1", "eni-i-b"]);
        let nodes = doc["topologyData"]["positive"]["nodeList"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let kinds: Vec<(&str, &str)> = nodes
            .iter()
            .filter_map(|n| Some((n["nodeType"].as_str()?, n["id"].as_str()?)))
            .collect();
        assert_eq!(
            kinds,
            [
                ("VM", "i-a"),
                ("ENI", "eni-a1"),
                ("VSW", "vsw-2"),
                ("VSW", "vsw-1"),
                ("ENI", "eni-i-b"),
                ("VM", "i-b"),
            ]
        );
        assert_eq!(nodes[1]["ip"], "10.0.1.21");
        assert_eq!(nodes[1]["mac"], "00:16:3e:00:00:a1");
        assert_eq!(doc["explanation"]["egress"]["networkInterfaceId"], "eni-a1");
        // The instance itself is its primary interface, in sg-front: the database refuses.
        let (reachable, doc) = analyze_from(("i-a", EndpointType::Ecs, None));
        assert!(!reachable);
        assert_eq!(doc["errorCode"], "SECURITY_GROUP_DENY");
        assert!(resource_ids(&doc).iter().all(|&r| r != "eni-a1"), "{doc}");
        assert!(resource_ids(&doc).contains(&"eni-i-b"));
        // An instance end with the address of its secondary interface is that interface.
        let (reachable, doc) = analyze_from(("i-a", EndpointType::Ecs, Some("10.0.1.20")));
        assert!(reachable, "{doc}");
        assert_eq!(resource_ids(&doc)[0], "eni-a1");
    }
}

//! Every worked example of docs/semantics.md §6 through the API with the agent: each row
//! is built with ECS and VPC calls, the agent is waited on (AppliedRevision ≥ the row's last
//! write), then A → B is probed with real packets (TCP connect, UDP request and reply, ICMP
//! echo) and each verdict is held against both what docs/semantics.md says and the engine
//! (`CheckReachability`): packets = docs = engine.
//!
//! The rows share one VPC (10.0.0.0/8, the default quota allows few VPCs) with two
//! vSwitches: A's on 10.0.0.0/24, B's on 10.0.1.0/24, so every pair crosses vSwitches; row
//! 9's B is in a second VPC with the same block. Each row has groups of its own, so rows do
//! not decide each other's verdicts.

use std::net::Ipv4Addr;

use crate::common::TestClient;
use crate::harness::{self, Harness, Listeners, Probe};
use crate::topology::ext;

#[derive(Clone, Copy)]
enum Kind {
    /// A basic group with this InnerAccessPolicy.
    Normal(&'static str),
    Enterprise,
}

#[derive(Clone, Copy)]
enum Peer {
    Cidr(&'static str),
    /// A's own address as a /32.
    ACidr,
    /// The row's group of this index.
    Group(usize),
}

#[derive(Clone, Copy)]
struct RuleSpec {
    group: usize,
    egress: bool,
    protocol: &'static str,
    range: &'static str,
    peer: Peer,
    drop: bool,
    priority: u8,
}

struct Row {
    name: &'static str,
    /// The row's groups; `true`: in the second VPC (row 9).
    groups: Vec<(Kind, bool)>,
    a_groups: Vec<usize>,
    b_groups: Vec<usize>,
    rules: Vec<RuleSpec>,
    /// The example's TCP port.
    port: u16,
    /// What docs/semantics.md gives A → B for TCP on `port`, UDP 53 and ICMP echo.
    tcp: bool,
    udp: bool,
    icmp: bool,
}

const fn rule(
    group: usize,
    egress: bool,
    protocol: &'static str,
    range: &'static str,
    peer: Peer,
    drop: bool,
    priority: u8,
) -> RuleSpec {
    RuleSpec {
        group,
        egress,
        protocol,
        range,
        peer,
        drop,
        priority,
    }
}

fn rows() -> Vec<Row> {
    use Kind::{Enterprise, Normal};
    let g1_from_g1 = rule(0, false, "tcp", "22/22", Peer::Group(0), false, 1);
    let g2_accept_range = rule(
        0,
        false,
        "tcp",
        "1/65535",
        Peer::Cidr("10.0.0.0/8"),
        false,
        10,
    );
    let g2_drop_22 = |priority| rule(0, false, "tcp", "22/22", Peer::ACidr, true, priority);
    vec![
        Row {
            name: "1: G1 Accept, no rules: allowed by inner access (all protocols)",
            groups: vec![(Normal("Accept"), false)],
            a_groups: vec![0],
            b_groups: vec![0],
            rules: vec![],
            port: 22,
            tcp: true,
            udp: true,
            icmp: true,
        },
        Row {
            name: "2: G1 Drop, no rules: denied by B's default ingress",
            groups: vec![(Normal("Drop"), false)],
            a_groups: vec![0],
            b_groups: vec![0],
            rules: vec![],
            port: 22,
            tcp: false,
            udp: false,
            icmp: false,
        },
        Row {
            name: "3: G1 Drop + ingress tcp 22 from G1: allowed by B's rule (udp, icmp: default)",
            groups: vec![(Normal("Drop"), false)],
            a_groups: vec![0],
            b_groups: vec![0],
            rules: vec![g1_from_g1],
            port: 22,
            tcp: true,
            udp: false,
            icmp: false,
        },
        Row {
            name: "4: as 3 + egress drop tcp 22 to 0.0.0.0/0: denied at A's egress",
            groups: vec![(Normal("Drop"), false)],
            a_groups: vec![0],
            b_groups: vec![0],
            rules: vec![
                g1_from_g1,
                rule(0, true, "tcp", "22/22", Peer::Cidr("0.0.0.0/0"), true, 1),
            ],
            port: 22,
            tcp: false,
            udp: false,
            icmp: false,
        },
        Row {
            name: "5: G1 Accept + ingress drop tcp 22 from 0.0.0.0/0: inner access outranks it",
            groups: vec![(Normal("Accept"), false)],
            a_groups: vec![0],
            b_groups: vec![0],
            rules: vec![rule(0, false, "tcp", "22/22", Peer::Cidr("0.0.0.0/0"), true, 1)],
            port: 22,
            tcp: true,
            udp: true,
            icmp: true,
        },
        Row {
            name: "6: B in G2, accept tcp 1-65535 from 10/8 and drop 22 from A/32 at priority 10: Drop wins",
            groups: vec![(Normal("Drop"), false), (Normal("Drop"), false)],
            a_groups: vec![1],
            b_groups: vec![0],
            rules: vec![g2_accept_range, g2_drop_22(10)],
            port: 22,
            tcp: false,
            udp: false,
            icmp: false,
        },
        Row {
            name: "7: as 6 with the drop at priority 20: the priority-10 accept decides",
            groups: vec![(Normal("Drop"), false), (Normal("Drop"), false)],
            a_groups: vec![1],
            b_groups: vec![0],
            rules: vec![g2_accept_range, g2_drop_22(20)],
            port: 22,
            tcp: true,
            udp: false,
            icmp: false,
        },
        Row {
            name: "8: A in enterprise E1 (no rules), B in E2 accepting all from A/32: A's egress denies",
            groups: vec![(Enterprise, false), (Enterprise, false)],
            a_groups: vec![0],
            b_groups: vec![1],
            rules: vec![rule(1, false, "all", "-1/-1", Peer::ACidr, false, 1)],
            port: 80,
            tcp: false,
            udp: false,
            icmp: false,
        },
        Row {
            name: "9: A in VPC-1, B in VPC-2 (same block), everything open: different VPCs",
            groups: vec![(Normal("Accept"), false), (Normal("Accept"), true)],
            a_groups: vec![0],
            b_groups: vec![1],
            rules: vec![
                rule(0, true, "all", "-1/-1", Peer::Cidr("0.0.0.0/0"), false, 1),
                rule(1, false, "all", "-1/-1", Peer::Cidr("0.0.0.0/0"), false, 1),
            ],
            port: 22,
            tcp: false,
            udp: false,
            icmp: false,
        },
    ]
}

async fn ok(c: &TestClient, action: &str, params: &[(&str, &str)]) -> serde_json::Value {
    let r = c.call(action, params).await;
    assert_eq!(r.status, 200, "{action} {params:?}: {}", r.body);
    r.json()
}

/// A VPC (10.0.0.0/8) and vSwitches with these blocks.
async fn vpc(c: &TestClient, vswitches: &[&str]) -> (String, Vec<String>) {
    let r = c
        .call_vpc("CreateVpc", &[("CidrBlock", "10.0.0.0/8")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let vpc = r.json()["VpcId"].as_str().expect("VpcId").to_owned();
    let mut ids = Vec::new();
    for block in vswitches {
        let r = c
            .call_vpc(
                "CreateVSwitch",
                &[
                    ("VpcId", &vpc),
                    ("ZoneId", "cn-hangzhou-b"),
                    ("CidrBlock", block),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        ids.push(r.json()["VSwitchId"].as_str().expect("id").to_owned());
    }
    (vpc, ids)
}

/// Runs one instance with this address in the first group, and joins it to the others.
async fn run(c: &TestClient, vsw: &str, ip: &str, groups: &[&str]) -> String {
    let body = ok(
        c,
        "RunInstances",
        &[
            ("ImageId", "aliyun_3_x64_20G_alibase_20240819.vhd"),
            ("InstanceType", "ecs.g5.large"),
            ("VSwitchId", vsw),
            ("SecurityGroupId", groups[0]),
            ("PrivateIpAddress", ip),
        ],
    )
    .await;
    let id = body["InstanceIdSets"]["InstanceIdSet"][0]
        .as_str()
        .expect("id")
        .to_owned();
    for g in &groups[1..] {
        ok(
            c,
            "JoinSecurityGroup",
            &[("InstanceId", &id), ("SecurityGroupId", g)],
        )
        .await;
    }
    id
}

/// The engine's verdict (`CheckReachability`) for A → B.
async fn engine(c: &TestClient, a: &str, b: &str, probe: Probe) -> bool {
    let (protocol, port) = match probe {
        Probe::Tcp(p) => ("tcp", Some(p.to_string())),
        Probe::Udp(p) => ("udp", Some(p.to_string())),
        Probe::Icmp => ("icmp", None),
    };
    let mut q = vec![
        ("SourceInstanceId", a),
        ("DestinationInstanceId", b),
        ("Protocol", protocol),
    ];
    if let Some(port) = &port {
        q.push(("Port", port));
    }
    let r = ext(c, "CheckReachability", &q).await;
    assert_eq!(r.status, 200, "CheckReachability {q:?}: {}", r.body);
    r.json()["Reachable"].as_bool().expect("Reachable")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_worked_example_through_the_api_with_real_packets() {
    if !harness::can_run("every_worked_example_through_the_api_with_real_packets") {
        return;
    }
    let _serial = harness::lock().await;
    let h = Harness::start("sgt-e2e8-");
    let c = &h.client;
    let (vpc1, vsw1) = vpc(c, &["10.0.0.0/24", "10.0.1.0/24"]).await;
    let (vpc2, vsw2) = vpc(c, &["10.0.1.0/24"]).await;
    let mut failures = Vec::new();
    let mut listeners = Vec::new();
    for (n, row) in rows().into_iter().enumerate() {
        let mut groups = Vec::new();
        for (kind, second_vpc) in &row.groups {
            let vpc = if *second_vpc { &vpc2 } else { &vpc1 };
            let kind_name = match kind {
                Kind::Normal(_) => "normal",
                Kind::Enterprise => "enterprise",
            };
            let id = ok(
                c,
                "CreateSecurityGroup",
                &[("VpcId", vpc), ("SecurityGroupType", kind_name)],
            )
            .await["SecurityGroupId"]
                .as_str()
                .expect("id")
                .to_owned();
            if let Kind::Normal(policy) = kind {
                ok(
                    c,
                    "ModifySecurityGroupPolicy",
                    &[("SecurityGroupId", &id), ("InnerAccessPolicy", policy)],
                )
                .await;
            }
            groups.push(id);
        }
        // Addresses of their own per row: A 10.0.0.1x, B 10.0.1.1x.
        let a_ip: Ipv4Addr = format!("10.0.0.{}", 11 + n).parse().expect("ip");
        let b_ip: Ipv4Addr = format!("10.0.1.{}", 11 + n).parse().expect("ip");
        for r in &row.rules {
            let side = if r.egress { "Dest" } else { "Source" };
            let (key, value) = match r.peer {
                Peer::Cidr(block) => (format!("{side}CidrIp"), block.to_owned()),
                Peer::ACidr => (format!("{side}CidrIp"), format!("{a_ip}/32")),
                Peer::Group(g) => (format!("{side}GroupId"), groups[g].clone()),
            };
            let priority = r.priority.to_string();
            ok(
                c,
                if r.egress {
                    "AuthorizeSecurityGroupEgress"
                } else {
                    "AuthorizeSecurityGroup"
                },
                &[
                    ("SecurityGroupId", &groups[r.group]),
                    ("IpProtocol", r.protocol),
                    ("PortRange", r.range),
                    (key.as_str(), value.as_str()),
                    ("Policy", if r.drop { "drop" } else { "accept" }),
                    ("Priority", &priority),
                ],
            )
            .await;
        }
        let names =
            |picks: &[usize]| -> Vec<&str> { picks.iter().map(|&g| groups[g].as_str()).collect() };
        let a = run(c, &vsw1[0], &a_ip.to_string(), &names(&row.a_groups)).await;
        let b_vsw = if row.groups[row.b_groups[0]].1 {
            &vsw2[0]
        } else {
            &vsw1[1]
        };
        let b = run(c, b_vsw, &b_ip.to_string(), &names(&row.b_groups)).await;
        // Enforced once the agent has applied the row's last write.
        let (revision, _) = h.agent_row().await;
        h.applied(revision).await;
        listeners.push(Listeners::start(&b));

        let flows = [
            (Probe::Tcp(row.port), row.tcp),
            (Probe::Udp(53), row.udp),
            (Probe::Icmp, row.icmp),
        ];
        let got = tokio::task::spawn_blocking({
            let list: Vec<(String, Ipv4Addr, Probe)> =
                flows.iter().map(|(p, _)| (a.clone(), b_ip, *p)).collect();
            move || harness::probe_all(&list)
        })
        .await
        .expect("probes");
        for ((probe, docs), packets) in flows.iter().zip(got) {
            let engine = engine(c, &a, &b, *probe).await;
            if !(packets == *docs && engine == *docs) {
                failures.push(format!(
                    "row {}: A {a} ({a_ip}) → B {b} ({b_ip}) {probe:?}: docs/semantics.md {docs}, \
                     engine {engine}, packets {packets}",
                    row.name
                ));
            }
        }
    }
    drop(listeners);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! Engine benchmarks: one pair whose two NICs carry 1,000 rules, and the all-pairs matrix of
//! 1k / 5k / 10k instances in 200 groups with 20,000 rules for one (protocol, port).
//! Topologies are generated deterministically (a fixed-seed xorshift), so runs compare.

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use secgroup_domain::network::{Instance, InstanceStatus};
use secgroup_domain::rules::{
    Cidr, Direction, IpProtocol, Peer, PortRange, Rule, RulePolicy, RuleSpec,
};
use secgroup_domain::{
    AddressFamily, InnerAccessPolicy, PrefixList, PrefixListEntry, SecurityGroup, SecurityGroupType,
};
use secgroup_reach::{Endpoint, Flow, Snapshot, SnapshotInput};

struct Xorshift(u64);

impl Xorshift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn group(id: &str, policy: InnerAccessPolicy) -> SecurityGroup {
    SecurityGroup {
        id: id.into(),
        account_id: "1".into(),
        region_id: "cn-hangzhou".into(),
        name: id.into(),
        description: String::new(),
        group_type: SecurityGroupType::Normal,
        inner_access_policy: policy,
        vpc_id: "vpc-1".into(),
        resource_group_id: String::new(),
        creation_time: Utc.timestamp_opt(0, 0).single().unwrap_or_default(),
    }
}

fn instance(id: String, ip: String, groups: Vec<String>) -> Instance {
    let t = Utc.timestamp_opt(0, 0).single().unwrap_or_default();
    Instance {
        network_interface_id: format!("eni-{id}"),
        name: id.clone(),
        host_name: id.clone(),
        id,
        account_id: "1".into(),
        region_id: "cn-hangzhou".into(),
        zone_id: "cn-hangzhou-a".into(),
        vpc_id: "vpc-1".into(),
        vswitch_id: "vsw-1".into(),
        description: String::new(),
        instance_type: "ecs.g7.large".into(),
        image_id: "img".into(),
        status: InstanceStatus::Running,
        status_since: t,
        creation_time: t,
        mac_address: "00:16:3e:00:00:00".into(),
        private_ip: ip,
        security_group_ids: groups,
        attributes: "{}".into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn rule(
    id: String,
    group: &str,
    direction: Direction,
    protocol: IpProtocol,
    ports: (i32, i32),
    policy: RulePolicy,
    priority: u8,
    peer: Peer,
) -> Rule {
    Rule {
        id,
        security_group_id: group.into(),
        spec: RuleSpec {
            direction,
            protocol,
            port_range: PortRange {
                from: ports.0,
                to: ports.1,
            },
            source_port_range: None,
            policy,
            priority,
            peer,
            local_cidr: None,
            description: String::new(),
        },
        create_time: Utc.timestamp_opt(0, 0).single().unwrap_or_default(),
    }
}

fn cidr(text: &str) -> Peer {
    Peer::Cidr(Cidr::parse_v4(text).unwrap_or_else(|| panic!("bench CIDR {text}")))
}

/// Two NICs, each in five groups of 100 rules (50 per direction): 1,000 rules in total,
/// none matching before the last priority, so every rule is looked at.
fn single_pair() -> (Snapshot, Flow) {
    let mut rules = Vec::new();
    let mut groups = Vec::new();
    for side in ["a", "b"] {
        for g in 0..5 {
            let id = format!("sg-{side}{g}");
            for n in 0..100u8 {
                let direction = if n % 2 == 0 {
                    Direction::Ingress
                } else {
                    Direction::Egress
                };
                let (peer, priority) = if n >= 98 {
                    (cidr("10.0.0.0/8"), 100)
                } else {
                    (cidr(&format!("192.168.{n}.0/24")), 1 + n % 99)
                };
                let rule_id = format!("sgr-{side}{g}-{n}");
                let ports = (443, 443);
                rules.push(rule(
                    rule_id,
                    &id,
                    direction,
                    IpProtocol::Tcp,
                    ports,
                    RulePolicy::Accept,
                    priority,
                    peer,
                ));
            }
            groups.push(group(&id, InnerAccessPolicy::Drop));
        }
    }
    let names = |side: &str| (0..5).map(|g| format!("sg-{side}{g}")).collect();
    let instances = vec![
        instance("i-a".into(), "10.0.0.5".into(), names("a")),
        instance("i-b".into(), "10.0.1.5".into(), names("b")),
    ];
    let snapshot = Snapshot::build(&SnapshotInput {
        groups,
        rules,
        instances,
        ..SnapshotInput::default()
    });
    let flow = Flow {
        source: Endpoint::Nic("i-a".into()),
        destination: Endpoint::Nic("i-b".into()),
        protocol: IpProtocol::Tcp,
        port: Some(443),
        source_port: None,
    };
    (snapshot, flow)
}

const GROUPS: usize = 200;
const RULES_PER_GROUP: usize = 100;
/// Groups 190..200 are "shared" (monitoring, bastion, …): some NICs join one besides their tier.
const SHARED_FROM: usize = 190;

/// The subnet of a tier group: one /24 per group, as a tier per vSwitch.
fn subnet(g: usize) -> String {
    format!("10.{}.{}.0/24", g / 250, g % 250)
}

/// `instances` NICs in 200 normal groups with 20,000 rules of every peer kind.
fn fleet(instances: usize, pinpoint: bool) -> (Snapshot, Vec<String>) {
    let input = fleet_input(instances, pinpoint);
    let ids = input.instances.iter().map(|n| n.id.clone()).collect();
    (Snapshot::build(&input), ids)
}

/// With `pinpoint`, CIDR rules name single NICs (/32) instead of tier subnets, so that
/// almost every NIC is told apart: the worst case for sharing results between NICs.
fn fleet_input(instances: usize, pinpoint: bool) -> SnapshotInput {
    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    let groups: Vec<SecurityGroup> = (0..GROUPS)
        .map(|g| {
            let policy = if g % 3 == 0 {
                InnerAccessPolicy::Accept
            } else {
                InnerAccessPolicy::Drop
            };
            group(&format!("sg-{g}"), policy)
        })
        .collect();
    let mut nics = Vec::with_capacity(instances);
    for i in 0..instances {
        let tier = i % SHARED_FROM;
        let host = i / SHARED_FROM + 1;
        let ip = format!("10.{}.{}.{}", tier / 250, tier % 250, host);
        let mut member_of = vec![format!("sg-{tier}")];
        if (i / SHARED_FROM).is_multiple_of(4) {
            member_of.push(format!("sg-{}", SHARED_FROM + (i / SHARED_FROM) % 10));
        }
        nics.push(instance(format!("i-{i}"), ip, member_of));
    }
    let prefix_lists: Vec<PrefixList> = (0..10)
        .map(|p| PrefixList {
            id: format!("pl-{p}"),
            account_id: "1".into(),
            region_id: "cn-hangzhou".into(),
            name: format!("pl-{p}"),
            description: String::new(),
            address_family: AddressFamily::IPv4,
            max_entries: 200,
            resource_group_id: String::new(),
            creation_time: Utc.timestamp_opt(0, 0).single().unwrap_or_default(),
            entries: (0..5)
                .map(|e| PrefixListEntry {
                    cidr: subnet((p * 17 + e * 31) % SHARED_FROM),
                    description: String::new(),
                })
                .collect(),
        })
        .collect();
    const PORTS: [(i32, i32); 6] = [
        (22, 22),
        (80, 80),
        (443, 443),
        (1, 65535),
        (8000, 9000),
        (3306, 3306),
    ];
    let mut rules = Vec::with_capacity(GROUPS * RULES_PER_GROUP);
    for g in 0..GROUPS {
        let id = format!("sg-{g}");
        for n in 0..RULES_PER_GROUP {
            let direction = if n % 2 == 0 {
                Direction::Ingress
            } else {
                Direction::Egress
            };
            let protocol = match rng.below(10) {
                0 => IpProtocol::Udp,
                1 => IpProtocol::All,
                2 => IpProtocol::Icmp,
                _ => IpProtocol::Tcp,
            };
            let ports = if protocol.has_ports() {
                PORTS[rng.below(6) as usize]
            } else {
                (-1, -1)
            };
            let policy = if rng.below(5) == 0 {
                RulePolicy::Drop
            } else {
                RulePolicy::Accept
            };
            let peer = match rng.below(20) {
                0..=7 => Peer::Group {
                    group_id: format!("sg-{}", rng.below(GROUPS as u64)),
                    owner_account: String::new(),
                },
                8..=15 if pinpoint => {
                    let i = rng.below(instances as u64) as usize;
                    let tier = i % SHARED_FROM;
                    cidr(&format!(
                        "10.{}.{}.{}/32",
                        tier / 250,
                        tier % 250,
                        i / SHARED_FROM + 1
                    ))
                }
                8..=15 => cidr(&subnet(rng.below(SHARED_FROM as u64) as usize)),
                16 => cidr(&format!("10.0.{}.{}/32", rng.below(190), 1 + rng.below(50))),
                17 => cidr("10.0.0.0/16"),
                _ => Peer::PrefixList(format!("pl-{}", rng.below(10))),
            };
            let priority = 1 + rng.below(100) as u8;
            let rule_id = format!("sgr-{g}-{n}");
            rules.push(rule(
                rule_id, &id, direction, protocol, ports, policy, priority, peer,
            ));
        }
    }
    SnapshotInput {
        interfaces: Vec::new(),
        groups,
        rules,
        instances: nics,
        prefix_lists,
        vpcs: Vec::new(),
    }
}

/// Peak resident memory of this process so far, from /proc (Linux); `None` elsewhere.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

fn bench_single_pair(c: &mut Criterion) {
    let (snapshot, flow) = single_pair();
    c.bench_function("evaluate/one pair, 1000 rules on its NICs", |b| {
        b.iter(|| snapshot.evaluate(black_box(&flow)))
    });
}

fn bench_matrix(c: &mut Criterion) {
    let mut group = c.benchmark_group("matrix tcp/443, 200 groups, 20000 rules");
    group.sample_size(10);
    let curve = [
        (1_000, false),
        (5_000, false),
        (10_000, false),
        (10_000, true),
    ];
    for (instances, pinpoint) in curve {
        let (snapshot, ids) = fleet(instances, pinpoint);
        let label = if pinpoint {
            format!("{instances} pinpoint /32 rules")
        } else {
            instances.to_string()
        };
        let matrix = snapshot
            .matrix(&ids, &ids, IpProtocol::Tcp, Some(443))
            .unwrap_or_else(|e| panic!("{e}"));
        eprintln!(
            "{label} instances: {} of {} pairs allowed, kinds {:?}, peak RSS {:?} MiB",
            matrix.allowed_count(),
            instances * instances,
            matrix.kind_counts(),
            peak_rss_mib()
        );
        group.bench_with_input(BenchmarkId::from_parameter(label), &ids, |b, ids| {
            b.iter(|| snapshot.matrix(ids, ids, IpProtocol::Tcp, Some(443)))
        });
    }
    group.finish();
}

/// Building the indexes is paid once per snapshot, before any query.
fn bench_snapshot_build(c: &mut Criterion) {
    let mut group = c.benchmark_group("snapshot build");
    group.sample_size(10);
    let input = fleet_input(10_000, false);
    group.bench_function("10000 instances, 20000 rules", |b| {
        b.iter(|| Snapshot::build(black_box(&input)))
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_single_pair,
    bench_matrix,
    bench_snapshot_build
);
criterion_main!(benches);

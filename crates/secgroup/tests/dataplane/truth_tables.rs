//! The differential truth tables through the API: a network of two VPCs with the same
//! block (basic and enterprise groups, an instance in two groups, a prefix list), then per
//! seed random policies, rules of every peer kind, a join and a stop; every ordered pair of
//! instances and outside → each instance on tcp/22, tcp/80, udp/53 and icmp, real packets
//! against the engine (`DescribeReachabilityMatrix`, `CheckReachability`). Run on one host
//! (`dataplane_agent.rs`) and spread over several (`dataplane_hosts.rs`), through [`Lab`].
#![allow(dead_code)]

use std::net::Ipv4Addr;

use serde_json::Value;

use crate::common::TestClient;
use crate::harness::{address, probes, Listeners, Probe};
use crate::topology::{ext, Topology};

/// Where the tables run.
#[allow(async_fn_in_trait)] // used by tests of this crate only
pub trait Lab {
    /// The client the network is built and read with.
    fn client(&self) -> &TestClient;
    /// A write that must succeed (a lab of several nodes may send it to any of them).
    async fn ok(&self, action: &str, params: &[(&str, &str)]) -> Value;
    /// Waits until every agent enforces every write answered so far.
    async fn settled(&self);
    /// The namespace that plays "outside" for traffic to `instance`.
    async fn outside_for(&self, instance: &str) -> String;
}

/// What the tables probed.
#[derive(Debug, Default)]
pub struct Tally {
    pub probed: usize,
    pub allowed: usize,
    pub cross_vpc: usize,
    pub rules: usize,
    pub mismatches: Vec<String>,
}

impl Tally {
    /// Asserts no mismatch, and that the tables decided something: both verdicts occur,
    /// and pairs across VPCs were probed.
    pub fn assert_agrees(&self, what: &str) {
        eprintln!(
            "{what}: {} rules, {} probes ({} allowed, {} across VPCs), {} mismatches",
            self.rules,
            self.probed,
            self.allowed,
            self.cross_vpc,
            self.mismatches.len()
        );
        assert!(
            self.mismatches.is_empty(),
            "{} mismatches:\n{}",
            self.mismatches.len(),
            self.mismatches.join("\n")
        );
        assert!(
            self.allowed > 0 && self.allowed < self.probed && self.cross_vpc > 0,
            "{} of {} probes allowed, {} across VPCs",
            self.allowed,
            self.probed,
            self.cross_vpc
        );
    }
}

/// Builds the network, then runs `seeds` random tables on it; what was probed.
pub async fn run<L: Lab>(h: &L, seeds: u64) -> Tally {
    let c = h.client();
    let t = Topology::build(c).await;
    let group = |vpc: String, kind: &'static str| async move {
        h.ok(
            "CreateSecurityGroup",
            &[("VpcId", &vpc), ("SecurityGroupType", kind)],
        )
        .await["SecurityGroupId"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let vswitch = |vpc: String, block: &'static str| async move {
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
        r.json()["VSwitchId"].as_str().expect("id").to_owned()
    };
    let run = |vsw: String, sg: String| async move {
        h.ok(
            "RunInstances",
            &[
                ("ImageId", "aliyun_3_x64_20G_alibase_20240819.vhd"),
                ("InstanceType", "ecs.g5.large"),
                ("VSwitchId", &vsw),
                ("SecurityGroupId", &sg),
            ],
        )
        .await["InstanceIdSets"]["InstanceIdSet"][0]
            .as_str()
            .expect("id")
            .to_owned()
    };
    // VPC 1's second vSwitch: an instance in two enterprise groups.
    let sg_ent = group(t.vpc.clone(), "enterprise").await;
    let sg_ent2 = group(t.vpc.clone(), "enterprise").await;
    let ent = run(vswitch(t.vpc.clone(), "10.3.0.0/24").await, sg_ent.clone()).await;
    h.ok(
        "JoinSecurityGroup",
        &[("InstanceId", &ent), ("SecurityGroupId", &sg_ent2)],
    )
    .await;
    // VPC 2, the same block, addresses no VPC 1 instance holds (so that a probe that
    // crossed VPCs would be answered).
    let r = c
        .call_vpc("CreateVpc", &[("CidrBlock", "10.0.0.0/8")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let vpc2 = r.json()["VpcId"].as_str().expect("VpcId").to_owned();
    let sg_far = group(vpc2.clone(), "normal").await;
    let vsw2 = vswitch(vpc2.clone(), "10.2.0.0/24").await;
    let far1 = run(vsw2.clone(), sg_far.clone()).await;
    let far2 = run(vsw2, sg_far.clone()).await;

    let mut ids = t.all();
    ids.extend([ent.clone(), far1, far2]);
    let mut ips = Vec::new();
    for id in &ids {
        ips.push(address(c, id).await);
    }
    // Groups with their VPC (1 or 2) and whether they are enterprise groups. Only what the
    // API accepts is drawn (docs/semantics.md): enterprise rules are accept rules with CIDR
    // or prefix-list peers; a basic group's group peer is a basic group of its own VPC.
    let groups: [(&str, u8, bool); 5] = [
        (&t.sg_web, 1, false),
        (&t.sg_db, 1, false),
        (&sg_ent, 1, true),
        (&sg_ent2, 1, true),
        (&sg_far, 2, false),
    ];
    let basic = [t.sg_web.as_str(), t.sg_db.as_str(), sg_far.as_str()];
    let all_groups =
        serde_json::to_string(&groups.iter().map(|g| g.0).collect::<Vec<_>>()).expect("json");
    let pl = h
        .ok(
            "CreatePrefixList",
            &[
                ("AddressFamily", "IPv4"),
                ("MaxEntries", "5"),
                ("PrefixListName", "peers"),
                ("Entry.1.Cidr", &format!("{}/32", ips[0])),
                ("Entry.2.Cidr", &format!("{}/32", ips[5])),
            ],
        )
        .await["PrefixListId"]
        .as_str()
        .expect("pl")
        .to_owned();
    h.settled().await;
    // Traffic from outside to an instance starts in its host's outside namespace.
    let mut outsides = Vec::new();
    for id in &ids {
        outsides.push(h.outside_for(id).await);
    }
    let mut listeners: Vec<Listeners> = ids.iter().map(|id| Listeners::start(id)).collect();
    let mut distinct = outsides.clone();
    distinct.sort();
    distinct.dedup();
    listeners.extend(distinct.iter().map(|o| Listeners::start(o)));
    let flows: [(Probe, &str, Option<&str>); 4] = [
        (Probe::Tcp(22), "tcp", Some("22")),
        (Probe::Tcp(80), "tcp", Some("80")),
        (Probe::Udp(53), "udp", Some("53")),
        (Probe::Icmp, "icmp", None),
    ];
    let mut mismatches = Vec::new();
    let mut probed = 0usize;
    let mut allowed = 0usize;
    let mut cross_vpc = 0usize;
    let mut rules = 0usize;
    for seed in 0..seeds {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        // Random policies and rules.
        for g in basic {
            let policy = if rng.below(2) == 0 { "Accept" } else { "Drop" };
            h.ok(
                "ModifySecurityGroupPolicy",
                &[("SecurityGroupId", g), ("InnerAccessPolicy", policy)],
            )
            .await;
        }
        let mut added: Vec<(String, Vec<(String, String)>)> = Vec::new();
        for _ in 0..(4 + rng.below(6)) {
            let (g, vpc, enterprise) = groups[rng.below(groups.len() as u64) as usize];
            let ingress = rng.below(3) != 0;
            let (proto, range) = [
                ("tcp", "22/22"),
                ("tcp", "80/80"),
                ("tcp", "1/100"),
                ("udp", "53/53"),
                ("udp", "50/60"),
                ("icmp", "-1/-1"),
                ("gre", "-1/-1"),
                ("all", "-1/-1"),
            ][rng.below(8) as usize];
            let side = if ingress { "Source" } else { "Dest" };
            let kind = match rng.below(4) {
                2 if enterprise => 3,
                k => k,
            };
            let peer: (String, String) = match kind {
                0 => (
                    format!("{side}CidrIp"),
                    ["0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/24", "100.64.0.0/10"]
                        [rng.below(4) as usize]
                        .to_owned(),
                ),
                1 => (
                    format!("{side}CidrIp"),
                    format!("{}/32", ips[rng.below(ips.len() as u64) as usize]),
                ),
                2 => {
                    let same: Vec<&str> = groups
                        .iter()
                        .filter(|(_, v, e)| *v == vpc && !*e)
                        .map(|(g, _, _)| *g)
                        .collect();
                    (
                        format!("{side}GroupId"),
                        same[rng.below(same.len() as u64) as usize].to_owned(),
                    )
                }
                _ => (format!("{side}PrefixListId"), pl.clone()),
            };
            let mut params: Vec<(String, String)> = vec![
                ("SecurityGroupId".into(), g.to_owned()),
                ("IpProtocol".into(), proto.into()),
                ("PortRange".into(), range.into()),
                peer,
            ];
            let policy = if rng.below(3) == 0 { "drop" } else { "accept" };
            if !enterprise {
                params.push(("Policy".into(), policy.into()));
            }
            let action = if ingress {
                "AuthorizeSecurityGroup"
            } else {
                "AuthorizeSecurityGroupEgress"
            };
            let revoke = (action.replace("Authorize", "Revoke"), params.clone());
            // The same rule drawn twice (whatever its priority) is one rule.
            if added.contains(&revoke) {
                continue;
            }
            params.push(("Priority".into(), (1 + rng.below(3)).to_string()));
            let borrowed: Vec<(&str, &str)> = params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            h.ok(action, &borrowed).await;
            added.push(revoke);
            rules += 1;
        }
        // Half the seeds: one of VPC 1's basic instances also in the other basic group.
        let joined = (rng.below(2) == 0).then(|| {
            let i = rng.below(4) as usize;
            let other = if i < 2 { &t.sg_db } else { &t.sg_web };
            (ids[i].clone(), other.clone())
        });
        if let Some((id, sg)) = &joined {
            h.ok(
                "JoinSecurityGroup",
                &[("InstanceId", id), ("SecurityGroupId", sg)],
            )
            .await;
        }
        let stopped = (seed % 2 == 1).then(|| ids[(seed as usize / 2) % ids.len()].clone());
        if let Some(s) = &stopped {
            h.ok("StopInstance", &[("InstanceId", s)]).await;
        }
        h.settled().await;

        let mut cases: Vec<(String, String, Ipv4Addr, Probe, bool)> = Vec::new();
        for (probe, proto, port) in flows {
            let mut q = vec![
                ("SecurityGroupIds", all_groups.as_str()),
                ("Protocol", proto),
            ];
            if let Some(port) = port {
                q.push(("Port", port));
            }
            let m = ext(c, "DescribeReachabilityMatrix", &q).await;
            assert_eq!(m.status, 200, "{}", m.body);
            let m = m.json();
            let order: Vec<String> = m["Instances"]["Instance"]
                .as_array()
                .expect("instances")
                .iter()
                .map(|i| i["InstanceId"].as_str().expect("id").to_owned())
                .collect();
            let rows: Vec<String> = m["Rows"]["Row"]
                .as_array()
                .expect("rows")
                .iter()
                .map(|r| r.as_str().expect("row").to_owned())
                .collect();
            let engine = |s: &str, d: &str| -> bool {
                let i = order.iter().position(|x| x == s).expect("in matrix");
                let j = order.iter().position(|x| x == d).expect("in matrix");
                rows[i].as_bytes()[j] == b'1'
            };
            for (si, s) in ids.iter().enumerate() {
                for (di, d) in ids.iter().enumerate() {
                    if si == di {
                        continue;
                    }
                    if stopped.as_deref() == Some(s.as_str()) {
                        assert!(!engine(s, d), "seed {seed}: a stopped source reaches");
                        continue;
                    }
                    if (si < 5) != (di < 5) {
                        cross_vpc += 1;
                    }
                    cases.push((format!("{s}→{d}"), s.clone(), ips[di], probe, engine(s, d)));
                }
            }
            for (di, d) in ids.iter().enumerate() {
                let mut q = vec![
                    ("SourceIpAddress", "100.64.0.1"),
                    ("DestinationInstanceId", d.as_str()),
                    ("Protocol", proto),
                ];
                if let Some(port) = port {
                    q.push(("Port", port));
                }
                let r = ext(c, "CheckReachability", &q).await;
                assert_eq!(r.status, 200, "{}", r.body);
                let verdict = r.json()["Reachable"].as_bool().expect("verdict");
                cases.push((
                    format!("outside→{d}"),
                    outsides[di].clone(),
                    ips[di],
                    probe,
                    verdict,
                ));
            }
        }
        // Every flow of the seed at once (they are independent).
        let got = probes(
            cases
                .iter()
                .map(|(_, ns, to, probe, _)| (ns.clone(), *to, *probe))
                .collect(),
        )
        .await;
        probed += got.len();
        allowed += got.iter().filter(|g| **g).count();
        for ((pair, _, _, probe, engine), packets) in cases.iter().zip(got) {
            if *engine != packets {
                mismatches.push(format!(
                    "seed {seed} {pair} {probe:?}: engine {engine}, packets {packets}"
                ));
            }
        }

        // Undo for the next seed.
        for (action, params) in &added {
            let borrowed: Vec<(&str, &str)> = params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            h.ok(action, &borrowed).await;
        }
        if let Some((id, sg)) = &joined {
            h.ok(
                "LeaveSecurityGroup",
                &[("InstanceId", id), ("SecurityGroupId", sg)],
            )
            .await;
        }
        if let Some(s) = &stopped {
            h.ok("StartInstance", &[("InstanceId", s)]).await;
            h.settled().await;
            let i = ids.iter().position(|x| x == s).expect("id");
            listeners[i] = Listeners::start(s);
            outsides[i] = h.outside_for(s).await;
        }
    }
    Tally {
        probed,
        allowed,
        cross_vpc,
        rules,
        mismatches,
    }
}

/// xorshift64*: small, seeded, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) % n
    }
}

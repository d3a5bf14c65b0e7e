//! What an apply costs with many instances: creating 120 instances in one VPC, then one rule
//! change and one membership change, each a single small transaction (and the probes still
//! agree after each).

mod support;

use std::net::Ipv4Addr;
use std::time::Instant;

use secgroup_dataplane::AccountNetwork;
use secgroup_domain::network::NetworkState;
use secgroup_domain::rules::{Direction, IpProtocol, RulePolicy};
use secgroup_domain::{InnerAccessPolicy, SecurityGroupType};
use support::*;

const PREFIX: &str = "sgt-sc-";
const INSTANCES: usize = 120;
const GROUPS: usize = 4;
const RULES_PER_GROUP: usize = 50;

fn networks(extra_rule: bool, moved: bool) -> Vec<AccountNetwork> {
    let groups = (0..GROUPS)
        .map(|g| {
            group(
                &format!("sg-sc{g}"),
                "vpc-sc",
                SecurityGroupType::Normal,
                InnerAccessPolicy::Drop,
            )
        })
        .collect();
    let mut rules = Vec::new();
    for g in 0..GROUPS {
        for r in 0..RULES_PER_GROUP {
            let port = 1000 + (g * RULES_PER_GROUP + r) as i32;
            rules.push(rule(
                &format!("sgr-sc{g}-{r}"),
                &format!("sg-sc{g}"),
                Direction::Ingress,
                IpProtocol::Tcp,
                (port, port),
                RulePolicy::Accept,
                (r % 100 + 1) as u8,
                group_peer(&format!("sg-sc{}", (g + 1) % GROUPS)),
            ));
        }
    }
    if extra_rule {
        rules.push(rule(
            "sgr-sc-web",
            "sg-sc0",
            Direction::Ingress,
            IpProtocol::Tcp,
            (80, 80),
            RulePolicy::Accept,
            1,
            cidr("10.70.0.0/16"),
        ));
    }
    let instances = (0..INSTANCES)
        .map(|i| {
            let g = if moved && i == 1 { 2 } else { i % GROUPS };
            let mut nic = instance(
                &format!("i-sc{i}"),
                "vpc-sc",
                &format!("10.70.{}.{}", i / 200, i % 200 + 1),
                &[&format!("sg-sc{g}")],
            );
            nic.vswitch_id = "vsw-sc".into();
            nic.mac_address = format!("00:16:3e:07:{:02x}:{:02x}", i / 256, i % 256);
            nic
        })
        .collect();
    vec![network(
        NetworkState {
            groups,
            rules,
            instances,
            vpcs: vec![vpc("vpc-sc", "1", "10.70.0.0/16")],
            ..NetworkState::default()
        },
        vec![vswitch("vsw-sc", "vpc-sc", "10.70.0.0/16")],
    )]
}

#[test]
fn one_change_among_many_instances_is_one_small_transaction() {
    if !can_run("scale") {
        return;
    }
    let _guard = lock();
    let mut dp = dataplane(PREFIX);
    let started = Instant::now();
    let report = dp
        .apply(&plan(PREFIX, &networks(false, false)))
        .expect("create");
    let created = started.elapsed();
    assert_eq!(report.links_created, INSTANCES);
    let _l = Listeners::start("i-sc0");
    let _l1000 = secgroup_dataplane::in_netns("i-sc0", || {
        std::net::TcpListener::bind(("0.0.0.0", 1000)).expect("listen")
    })
    .expect("enter");
    let i0: Ipv4Addr = "10.70.0.1".parse().expect("address");
    assert!(!probe("i-sc1", i0, Probe::Tcp(80)));

    let started = Instant::now();
    let rule_change = dp
        .apply(&plan(PREFIX, &networks(true, false)))
        .expect("rule");
    let rule_time = started.elapsed();
    assert_eq!(
        (rule_change.nft_transactions, rule_change.links_created),
        (1, 0)
    );
    assert!(probe("i-sc1", i0, Probe::Tcp(80)));

    // i-sc1 moves from sg-sc1 to sg-sc2: sg-sc0's rules name sg-sc1, so 1000-1049 closes.
    assert!(probe("i-sc1", i0, Probe::Tcp(1000)));
    let started = Instant::now();
    let member_change = dp
        .apply(&plan(PREFIX, &networks(true, true)))
        .expect("member");
    let member_time = started.elapsed();
    assert_eq!(
        (member_change.nft_transactions, member_change.links_created),
        (1, 0)
    );
    assert!(!probe("i-sc1", i0, Probe::Tcp(1000)));

    let started = Instant::now();
    dp.cleanup().expect("cleanup");
    let cleanup_time = started.elapsed();
    assert_clean(PREFIX, &[]);
    eprintln!(
        "scale: {INSTANCES} instances, {} rules: create {created:?}, one rule {rule_time:?}, one member {member_time:?}, cleanup {cleanup_time:?}",
        GROUPS * RULES_PER_GROUP
    );
}

//! Parallel requests never break the rules the write transaction enforces: no address is
//! handed out twice and a full vSwitch refuses cleanly; no instance ends in more groups
//! than allowed.

use std::collections::HashSet;

use super::{create_vswitch, describe_one, groups_of, ip_of, listed, net, run, run_params};
use crate::common::{create_group, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_launches_into_a_small_vswitch_never_share_an_address() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    // A /28 has 12 usable addresses (.1 to .12).
    let small = create_vswitch(&c, &n.vpc, "cn-hangzhou-b", "10.9.0.0/28").await;
    let mut tasks = Vec::new();
    for k in 0..24 {
        let (c, vsw, sg) = (c.clone(), small.clone(), n.sg.clone());
        tasks.push(tokio::spawn(async move {
            let amount = if k % 3 == 0 { "2" } else { "1" };
            let params = run_params(&vsw, &sg, &[("Amount", amount)]);
            let r = c.call("RunInstances", &params).await;
            (r.status, r.code(), r.json())
        }));
    }
    let (mut launched, mut refused) = (0, 0);
    for task in tasks {
        let (status, code, body) = task.await.expect("task");
        match status {
            200 => {
                launched += body["InstanceIdSets"]["InstanceIdSet"]
                    .as_array()
                    .map_or(0, Vec::len)
            }
            _ => {
                assert_eq!(
                    (status, code.as_str()),
                    (400, "QuotaExceeded.PrivateIpAddress"),
                    "{body}"
                );
                refused += 1;
            }
        }
    }
    let instances = listed(&c, &[("VSwitchId", &small)]).await;
    let ips: HashSet<String> = instances.iter().map(ip_of).collect();
    assert_eq!(
        ips.len(),
        instances.len(),
        "an address handed out twice: {instances:?}"
    );
    assert_eq!(instances.len(), launched);
    assert!(
        refused > 0 && launched >= 11,
        "launched {launched}, refused {refused}"
    );
    for ip in &ips {
        let last: u8 = ip
            .rsplit('.')
            .next()
            .and_then(|o| o.parse().ok())
            .expect("octet");
        assert!((1..=12).contains(&last), "reserved address {ip} handed out");
    }
    // Once full, even one more is refused.
    let r = c
        .call("RunInstances", &run_params(&small, &n.sg, &[]))
        .await;
    if launched == 12 {
        assert_eq!(
            (r.status, r.code()),
            (400, "QuotaExceeded.PrivateIpAddress".to_string())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_joins_never_exceed_five_groups() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    let id = run(&c, &n.vsw, &n.sg, &[]).await.remove(0);
    let mut groups = Vec::new();
    for _ in 0..10 {
        groups.push(create_group(&c, &[("VpcId", &n.vpc)]).await);
    }
    let mut tasks = Vec::new();
    for g in groups {
        let (c, id) = (c.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let r = c
                .call(
                    "JoinSecurityGroup",
                    &[("InstanceId", &id), ("SecurityGroupId", &g)],
                )
                .await;
            (r.status, r.code())
        }));
    }
    let mut joined = 0;
    for task in tasks {
        match task.await.expect("task") {
            (200, _) => joined += 1,
            (status, code) => assert_eq!(
                (status, code.as_str()),
                (400, "InstanceSecurityGroupLimitExceeded")
            ),
        }
    }
    assert_eq!(joined, 4);
    let now = groups_of(&describe_one(&c, &id).await);
    assert_eq!(now.len(), 5);
    assert_eq!(now.iter().collect::<HashSet<_>>().len(), 5);
}

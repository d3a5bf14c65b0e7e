//! Writes a generated export for the import + review benchmark (BENCHMARKS.md):
//! `cargo run --release -p secgroup-review --example generate_account -- DIR [INSTANCES GROUPS RULES]`
//! (default 10,000 instances, 500 groups, 20,000 rules, one VPC in cn-hangzhou).
//! Deterministic: the same arguments write the same files.

use chrono::DateTime;
use secgroup_domain::network::{Instance, InstanceStatus, VSwitch, Vpc};
use secgroup_domain::ops::import::AccountImage;
use secgroup_domain::ops::instances::InstanceAttributes;
use secgroup_domain::rules::{
    Cidr, Direction, IpProtocol, Peer, PortRange, Rule, RulePolicy, RuleSpec,
};
use secgroup_domain::{InnerAccessPolicy, SecurityGroup, SecurityGroupType};

/// A small deterministic generator (64-bit LCG).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args
        .first()
        .ok_or("usage: generate_account DIR [INSTANCES GROUPS RULES]")?;
    let num = |i: usize, d: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (instances, groups, rules) = (num(1, 10_000), num(2, 500), num(3, 20_000));
    let region = "cn-hangzhou";
    let t = DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default();
    let account = String::new();
    let mut rng = Lcg(7);
    let mut image = AccountImage::default();
    image.vpcs.push(Vpc {
        id: "vpc-bench0000000000001".into(),
        account_id: account.clone(),
        region_id: region.into(),
        cidr_block: "10.0.0.0/8".into(),
        name: "bench".into(),
        description: String::new(),
        resource_group_id: String::new(),
        vrouter_id: "vrt-bench0000000000001".into(),
        route_table_id: "vtb-bench0000000000001".into(),
        user_cidrs: Vec::new(),
        enable_ipv6: false,
        ipv6_cidr_block: String::new(),
        enable_dns_hostname: false,
        creation_time: t,
    });
    let vswitches = instances.div_ceil(250).max(1);
    for v in 0..vswitches {
        image.vswitches.push(VSwitch {
            id: format!("vsw-bench{v:012}"),
            account_id: account.clone(),
            region_id: region.into(),
            vpc_id: "vpc-bench0000000000001".into(),
            zone_id: "cn-hangzhou-b".into(),
            cidr_block: format!("10.{}.{}.0/24", v / 256, v % 256),
            name: String::new(),
            description: String::new(),
            creation_time: t,
        });
    }
    for g in 0..groups {
        image.groups.push(SecurityGroup {
            id: format!("sg-bench{g:012}"),
            account_id: account.clone(),
            region_id: region.into(),
            name: format!("group-{g}"),
            description: String::new(),
            group_type: SecurityGroupType::Normal,
            inner_access_policy: if g % 3 == 0 {
                InnerAccessPolicy::Accept
            } else {
                InnerAccessPolicy::Drop
            },
            vpc_id: "vpc-bench0000000000001".into(),
            resource_group_id: String::new(),
            creation_time: t,
        });
    }
    let ports = [22, 80, 443, 3306, 5432, 6379, 8080, 9200, 27017, 3389];
    for n in 0..rules {
        let g = n % groups;
        let peer = match rng.next(10) {
            0 => Peer::Cidr(Cidr::parse_v4("0.0.0.0/0").ok_or("cidr")?),
            1 => Peer::Cidr(Cidr::parse_v6("::/0").ok_or("cidr")?),
            2..=4 => Peer::Group {
                group_id: format!("sg-bench{:012}", rng.next(groups as u64)),
                owner_account: String::new(),
            },
            _ => Peer::Cidr(
                Cidr::parse_v4(&format!(
                    "10.{}.{}.0/{}",
                    rng.next(vswitches as u64 / 256 + 1),
                    rng.next(256),
                    [16, 20, 24][rng.next(3) as usize]
                ))
                .ok_or("cidr")?,
            ),
        };
        let port = ports[rng.next(ports.len() as u64) as usize];
        let (protocol, port_range) = match rng.next(8) {
            0 => (IpProtocol::All, PortRange::ANY),
            1 => (
                IpProtocol::Tcp,
                PortRange {
                    from: port,
                    to: port + 100,
                },
            ),
            2 => (IpProtocol::Udp, PortRange { from: 53, to: 53 }),
            _ => (
                IpProtocol::Tcp,
                PortRange {
                    from: port,
                    to: port,
                },
            ),
        };
        image.rules.push(Rule {
            id: format!("sgr-bench{n:012}"),
            security_group_id: format!("sg-bench{g:012}"),
            spec: RuleSpec {
                direction: if rng.next(4) == 0 {
                    Direction::Egress
                } else {
                    Direction::Ingress
                },
                protocol,
                port_range,
                source_port_range: None,
                policy: if rng.next(6) == 0 {
                    RulePolicy::Drop
                } else {
                    RulePolicy::Accept
                },
                priority: 1 + rng.next(100) as u8,
                peer,
                local_cidr: None,
                description: String::new(),
            },
            create_time: t,
        });
    }
    // Each group's rules together, as an export lists them.
    image
        .rules
        .sort_by(|a, b| a.security_group_id.cmp(&b.security_group_id));
    let attributes = InstanceAttributes {
        instance_charge_type: "PostPaid".into(),
        internet_charge_type: "PayByTraffic".into(),
        ..InstanceAttributes::default()
    }
    .to_json()?;
    for i in 0..instances {
        let v = i / 250;
        let mut member_of = vec![format!("sg-bench{:012}", i % groups)];
        let second = format!("sg-bench{:012}", (i / groups + 1) % groups);
        if i % 4 == 0 && !member_of.contains(&second) {
            member_of.push(second);
        }
        image.instances.push(Instance {
            id: format!("i-bench{i:012}"),
            account_id: account.clone(),
            region_id: region.into(),
            zone_id: "cn-hangzhou-b".into(),
            vpc_id: "vpc-bench0000000000001".into(),
            vswitch_id: format!("vsw-bench{v:012}"),
            name: format!("host-{i}"),
            description: String::new(),
            host_name: format!("host-{i}"),
            instance_type: "ecs.g5.large".into(),
            image_id: "aliyun_3_x64_20G_alibase_20240819.vhd".into(),
            status: InstanceStatus::Running,
            status_since: t,
            creation_time: t,
            network_interface_id: format!("eni-bench{i:012}"),
            mac_address: format!(
                "00:16:3e:{:02x}:{:02x}:{:02x}",
                i >> 16 & 255,
                i >> 8 & 255,
                i & 255
            ),
            private_ip: format!("10.{}.{}.{}", v / 256, v % 256, 4 + i % 250),
            security_group_ids: member_of,
            attributes: attributes.clone(),
        });
    }
    let files = secgroup_review::export::write(std::path::Path::new(dir), &image)?;
    println!("{files} files: {instances} instances, {groups} groups, {rules} rules under {dir}");
    Ok(())
}

//! `secgroup-bench dataplane`: the data plane's figures with the real `serve` and `agent`
//! processes on one SQLite file (root only): from empty to N instances enforced;
//! convergence of one rule change, from the API's 200 to the agent's applied revision and
//! to the first packet with the new verdict (p50/p99); TCP connect latency to a NIC with
//! few rules and one with many, alternated in one run (the ratio); the ruleset's size
//! against rules and members.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use secgroup_dataplane::testkit::Listeners;

use crate::child::{free_loopback_addr, ServerProcess};
use crate::client::ApiClient;
use crate::signing::{ActionParams, Signer};

const EXT: &str = "x-secgroup-2026-11-01";
const PREFIX: &str = "sgb-";
const OUTSIDE: &str = "sgb-outside";

#[derive(clap::Args, Debug)]
pub struct DataplaneArgs {
    /// Running instances (a multiple of 100).
    #[arg(long, default_value_t = 100)]
    pub instances: usize,
    /// Rules in all, spread over groups of 200 (the per-group limit).
    #[arg(long, default_value_t = 1000)]
    pub rules: usize,
    /// Rule changes measured for convergence.
    #[arg(long, default_value_t = 20)]
    pub changes: usize,
    /// Connect samples per NIC for the per-packet cost.
    #[arg(long, default_value_t = 200)]
    pub connects: usize,
    /// The secgroup binary (default: `secgroup` next to this executable).
    #[arg(long)]
    pub secgroup_bin: Option<PathBuf>,
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

struct Rig {
    api: ApiClient,
    _server: ServerProcess,
    agent: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Rig {
    async fn settled(&mut self) -> Result<u64> {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let s = self
                .api
                .call(&ActionParams::versioned(EXT, "DescribeDataplaneStatus"))
                .await?;
            let current = s["CurrentRevision"].as_u64().unwrap_or(u64::MAX);
            let applied = s["Agents"]["Agent"][0]["AppliedRevision"]
                .as_u64()
                .unwrap_or(0);
            if applied >= current {
                return Ok(current);
            }
            if Instant::now() > deadline {
                bail!("the agent did not apply revision {current}: {s}");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

fn connect_from_outside(to: Ipv4Addr, port: u16, timeout: Duration) -> Result<Option<Duration>> {
    secgroup_dataplane::in_netns(OUTSIDE, || {
        let started = Instant::now();
        TcpStream::connect_timeout(&SocketAddr::new(IpAddr::V4(to), port), timeout)
            .ok()
            .map(|_| started.elapsed())
    })
    .map_err(|e| anyhow::anyhow!("{e}"))
}

/// A TCP listener in namespace `ns` whose thread accepts and drops every connection (for
/// as long as the process runs).
pub(crate) fn accepting(ns: &str, port: u16) -> Result<()> {
    let listener =
        secgroup_dataplane::in_netns(ns, || std::net::TcpListener::bind(("0.0.0.0", port)))
            .map_err(|e| anyhow::anyhow!("{e}"))??;
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            drop(conn);
        }
    });
    Ok(())
}

/// What the data-plane benchmarks start from: the `secgroup` binary, a `secgroup serve`
/// on a new SQLite file (the agents read the same file), and a client signed with its key.
pub(crate) struct Served {
    pub bin: PathBuf,
    pub database: String,
    pub server: ServerProcess,
    pub api: ApiClient,
    pub dir: tempfile::TempDir,
}

/// Starts `secgroup serve` (`bin`, or `secgroup` next to this executable) on a new SQLite
/// file, instances per group unbounded.
pub(crate) async fn serve(bin: Option<&PathBuf>) -> Result<Served> {
    let bin = match bin {
        Some(b) => b.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("no directory")?
            .join("secgroup"),
    };
    let dir = tempfile::tempdir()?;
    let database = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let addr = free_loopback_addr()?;
    let server = ServerProcess::spawn(
        "secgroup serve",
        &bin,
        &[
            "serve".into(),
            "--listen".into(),
            addr.to_string(),
            "--database".into(),
            database.clone(),
            "--max-instances-per-group".into(),
            "100000".into(),
        ],
        &[
            ("SECGROUP_ACCESS_KEY_ID", "benchid"),
            ("SECGROUP_ACCESS_KEY_SECRET", "benchsecret"),
            ("SECGROUP_LOG", "warn"),
        ],
        addr,
        dir.path().join("serve.log"),
        Duration::from_secs(30),
    )
    .await?;
    let signer = Signer {
        access_key_id: "benchid".into(),
        access_key_secret: "benchsecret".into(),
        region_id: "cn-hangzhou".into(),
    };
    let api = ApiClient::connect(addr, signer).await?;
    Ok(Served {
        bin,
        database,
        server,
        api,
        dir,
    })
}

/// A VPC (10.0.0.0/8) with one vSwitch (10.8.0.0/16, room for every instance); their ids.
pub(crate) async fn vpc_and_vswitch(api: &mut ApiClient) -> Result<(String, String)> {
    let vpc = api
        .call_for(
            &ActionParams::vpc("CreateVpc").with("CidrBlock", "10.0.0.0/8"),
            "VpcId",
        )
        .await?;
    let vsw = api
        .call_for(
            &ActionParams::vpc("CreateVSwitch")
                .with("VpcId", &vpc)
                .with("ZoneId", "cn-hangzhou-b")
                .with("CidrBlock", "10.8.0.0/16"),
            "VSwitchId",
        )
        .await?;
    Ok((vpc, vsw))
}

pub async fn run(args: DataplaneArgs) -> Result<()> {
    if args.instances == 0 || !args.instances.is_multiple_of(100) {
        bail!("--instances must be a positive multiple of 100");
    }
    let Served {
        bin,
        database: db,
        server,
        api,
        dir,
    } = serve(args.secgroup_bin.as_ref()).await?;
    let agent = std::process::Command::new(&bin)
        .args([
            "agent",
            "--database",
            &db,
            "--namespace-prefix",
            PREFIX,
            "--agent-id",
            "bench",
        ])
        // `SECGROUP_BENCH_AGENT_LOG=secgroup_agent=debug` shows where each pass's time goes.
        .env(
            "SECGROUP_LOG",
            std::env::var("SECGROUP_BENCH_AGENT_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("starting secgroup agent")?;
    let mut rig = Rig {
        api,
        _server: server,
        agent,
        _dir: dir,
    };
    let outcome = measure(&mut rig, &args).await;
    // SIGTERM: the agent removes everything it made.
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &rig.agent.id().to_string()])
        .status();
    let _ = rig.agent.wait();
    outcome
}

async fn measure(rig: &mut Rig, args: &DataplaneArgs) -> Result<()> {
    let api = &mut rig.api;
    let (vpc, vsw) = vpc_and_vswitch(api).await?;
    // Rules: groups of up to 199 (one place left under the limit of 200), each rule a
    // distinct port from a /32, so nothing merges.
    let groups_needed = args.rules.div_ceil(199).max(5);
    let mut groups = Vec::new();
    for _ in 0..groups_needed {
        groups.push(
            api.call_for(
                &ActionParams::new("CreateSecurityGroup").with("VpcId", &vpc),
                "SecurityGroupId",
            )
            .await?,
        );
    }
    let mut placed = 0usize;
    for (gi, g) in groups.iter().enumerate() {
        let in_group = (args.rules - placed).min(199);
        for batch in (0..in_group).collect::<Vec<_>>().chunks(100) {
            let mut call = ActionParams::new("AuthorizeSecurityGroup").with("SecurityGroupId", g);
            for (n, i) in batch.iter().enumerate() {
                let k = n + 1;
                call = call
                    .with(&format!("Permissions.{k}.IpProtocol"), "tcp")
                    .with(
                        &format!("Permissions.{k}.PortRange"),
                        format!("{p}/{p}", p = 20000 + i),
                    )
                    .with(
                        &format!("Permissions.{k}.SourceCidrIp"),
                        format!("192.168.{}.{}/32", gi % 250, 1 + i % 250),
                    );
            }
            api.call(&call).await?;
        }
        placed += in_group;
    }
    // A small group (10 rules) for the per-packet comparison; the big NIC joins 5 groups.
    let small = api
        .call_for(
            &ActionParams::new("CreateSecurityGroup").with("VpcId", &vpc),
            "SecurityGroupId",
        )
        .await?;
    let mut call = ActionParams::new("AuthorizeSecurityGroup").with("SecurityGroupId", &small);
    for k in 1..=10 {
        let port = if k == 10 {
            "80/80".to_string()
        } else {
            format!("{p}/{p}", p = 30000 + k)
        };
        call = call
            .with(&format!("Permissions.{k}.IpProtocol"), "tcp")
            .with(&format!("Permissions.{k}.PortRange"), port)
            .with(&format!("Permissions.{k}.SourceCidrIp"), "100.64.0.0/10");
    }
    api.call(&call).await?;
    rig.settled().await?;

    // Empty -> N instances enforced.
    let started = Instant::now();
    let mut first_ids = Vec::new();
    for n in 0..args.instances / 100 {
        let g = &groups[n % groups.len()];
        let r = rig
            .api
            .call(
                &ActionParams::new("RunInstances")
                    .with("ImageId", "aliyun_3_x64_20G_alibase_20240819.vhd")
                    .with("InstanceType", "ecs.g5.large")
                    .with("VSwitchId", &vsw)
                    .with("SecurityGroupId", g)
                    .with("Amount", "100"),
            )
            .await?;
        if n == 0 {
            first_ids = r["InstanceIdSets"]["InstanceIdSet"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
        }
    }
    let api_done = started.elapsed();
    rig.settled().await?;
    let enforced = started.elapsed();
    println!(
        "empty -> {} instances enforced: {} (API calls {})",
        args.instances,
        ms(enforced),
        ms(api_done)
    );

    // Two probe NICs: `few` in the small group only (10 rules), `many` in 5 big groups.
    let (few, many) = (first_ids[0].clone(), first_ids[1].clone());
    for (id, join) in [
        (&few, vec![small.clone()]),
        (
            &many,
            groups.iter().skip(1).take(4).cloned().collect::<Vec<_>>(),
        ),
    ] {
        for g in &join {
            rig.api
                .call(
                    &ActionParams::new("JoinSecurityGroup")
                        .with("InstanceId", id)
                        .with("SecurityGroupId", g),
                )
                .await?;
        }
    }
    // `few` leaves its big group so that it carries the small group's 10 rules only.
    rig.api
        .call(
            &ActionParams::new("LeaveSecurityGroup")
                .with("InstanceId", &few)
                .with("SecurityGroupId", &groups[0]),
        )
        .await?;
    // `many` accepts port 80 from outside too (at the end of its 1,000 rules' priority).
    rig.api
        .call(
            &ActionParams::new("AuthorizeSecurityGroup")
                .with("SecurityGroupId", &groups[1 % groups.len()])
                .with("IpProtocol", "tcp")
                .with("PortRange", "80/80")
                .with("SourceCidrIp", "100.64.0.0/10")
                .with("Priority", "100"),
        )
        .await?;
    rig.settled().await?;
    let ip_of = |r: &serde_json::Value| -> Result<Ipv4Addr> {
        r["Instances"]["Instance"][0]["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0]
            .as_str()
            .context("no address")?
            .parse()
            .context("address")
    };
    let mut addresses = Vec::new();
    for id in [&few, &many] {
        let r = rig
            .api
            .call(
                &ActionParams::new("DescribeInstances").with("InstanceIds", format!("[\"{id}\"]")),
            )
            .await?;
        addresses.push(ip_of(&r)?);
    }
    let (few_ip, many_ip) = (addresses[0], addresses[1]);
    // Listeners that accept (and close) every connection, so that the thousands of connects
    // below never fill a backlog; then the testkit's (UDP and the rest).
    for (ns, port) in [(&few, 22), (&few, 80), (&many, 80)] {
        accepting(ns, port)?;
    }
    let listeners = [Listeners::start(&few), Listeners::start(&many)];

    // Per-packet cost: connects alternated, one after another.
    let (mut to_few, mut to_many) = (Vec::new(), Vec::new());
    for _ in 0..args.connects {
        if let Some(d) = connect_from_outside(few_ip, 80, Duration::from_secs(1))? {
            to_few.push(d);
        }
        if let Some(d) = connect_from_outside(many_ip, 80, Duration::from_secs(1))? {
            to_many.push(d);
        }
    }
    to_few.sort();
    to_many.sort();
    let (p_few, p_many) = (percentile(&to_few, 0.5), percentile(&to_many, 0.5));
    println!(
        "TCP connect from outside, p50: 10 rules {} ({} ok), 1,000 rules {} ({} ok), ratio {:.3}",
        ms(p_few),
        to_few.len(),
        ms(p_many),
        to_many.len(),
        p_many.as_secs_f64() / p_few.as_secs_f64().max(1e-9)
    );

    // Convergence: open port 22 of `few` from outside, then close it; each change timed from
    // its 200 to the applied revision and to the first packet with the new verdict.
    let (mut to_applied, mut to_packet) = (Vec::new(), Vec::new());
    for n in 0..args.changes {
        let open = n % 2 == 0;
        let action = if open {
            "AuthorizeSecurityGroup"
        } else {
            "RevokeSecurityGroup"
        };
        let call = ActionParams::new(action)
            .with("SecurityGroupId", &small)
            .with("IpProtocol", "tcp")
            .with("PortRange", "22/22")
            .with("SourceCidrIp", "100.64.0.0/10");
        rig.api.call(&call).await?;
        let t0 = Instant::now();
        let packet = tokio::task::spawn_blocking(move || -> Result<Duration> {
            loop {
                let got = connect_from_outside(few_ip, 22, Duration::from_millis(20))?.is_some();
                if got == open {
                    return Ok(t0.elapsed());
                }
                // Paced: every attempt leaves a tracked connection that a revoke's sweep
                // must judge, so a spinning probe would slow the very thing it measures.
                std::thread::sleep(Duration::from_millis(2));
                if t0.elapsed() > Duration::from_secs(20) {
                    if std::env::var_os("SECGROUP_BENCH_DEBUG").is_some() {
                        let dump = std::process::Command::new("sh")
                            .args(["-c", "for n in $(ip netns list | awk '/^sgb-vpc/{print $1}'); do ip netns exec $n nft list ruleset | grep -n -B2 -A8 'dport 22 '; ip netns exec $n conntrack -L 2>/dev/null | grep 'dport=22 ' | head; done"])
                            .output();
                        if let Ok(d) = dump {
                            eprintln!("{}", String::from_utf8_lossy(&d.stdout));
                        }
                    }
                    bail!("change {n}: no packet with the new verdict (open: {open}) within 20 s");
                }
            }
        });
        rig.settled().await?;
        to_applied.push(t0.elapsed());
        to_packet.push(packet.await??);
    }
    to_applied.sort();
    to_packet.sort();
    println!(
        "one rule change at {} instances, {} rules: 200 -> applied p50 {} p99 {}; 200 -> first packet p50 {} p99 {}",
        args.instances,
        args.rules,
        ms(percentile(&to_applied, 0.5)),
        ms(percentile(&to_applied, 0.99)),
        ms(percentile(&to_packet, 0.5)),
        ms(percentile(&to_packet, 0.99))
    );
    drop(listeners);

    // Ruleset size: the router's nft ruleset, in lines and bytes.
    let router = format!("{PREFIX}{vpc}");
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &router, "nft", "list", "ruleset"])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    println!(
        "ruleset of {router}: {} lines, {} bytes for {} rules (+11) and {} members (rules x members would be {})",
        text.lines().count(),
        text.len(),
        args.rules,
        args.instances,
        args.rules * args.instances
    );
    Ok(())
}

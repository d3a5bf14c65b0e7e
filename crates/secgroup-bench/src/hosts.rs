//! `secgroup-bench hosts`: the data plane across hosts, with the real processes (root
//! only). Hosts are network namespaces of this machine joined by an underlay
//! ([`Underlay`]); one `secgroup serve` on a SQLite file, and one `secgroup agent` per host,
//! started inside its host's network namespace (`nsenter --net`) with `--host` and
//! `--underlay-address`. Measured: empty → N instances enforced on every host; one rule
//! change from the API's 200 to every host's applied revision, and to the first packet with
//! the new verdict on every host (p50/p99); and the cost of a flow between hosts against one
//! within a host (TCP connect p50 and a bulk transfer), alternated in one run (the ratios).

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use secgroup_dataplane::in_netns;
use secgroup_dataplane::testkit::Underlay;

use crate::child::ServerProcess;
use crate::client::ApiClient;
use crate::dataplane::{accepting, ms, percentile, serve, vpc_and_vswitch, Served};
use crate::signing::ActionParams;

const EXT: &str = "x-secgroup-2026-11-01";
const PREFIX: &str = "sgbh-";

#[derive(clap::Args, Debug)]
pub struct HostsArgs {
    /// Hosts (namespaces of this machine).
    #[arg(long, default_value_t = 3)]
    pub hosts: u8,
    /// Running instances in all (a multiple of 100), placed over the hosts.
    #[arg(long, default_value_t = 3000)]
    pub instances: usize,
    /// Rule changes measured for convergence.
    #[arg(long, default_value_t = 20)]
    pub changes: usize,
    /// Connect samples per path for the cost of crossing hosts.
    #[arg(long, default_value_t = 500)]
    pub connects: usize,
    /// MiB sent per bulk transfer (five per path, alternated).
    #[arg(long, default_value_t = 64)]
    pub transfer_mib: usize,
    /// The secgroup binary (default: `secgroup` next to this executable).
    #[arg(long)]
    pub secgroup_bin: Option<PathBuf>,
}

fn host_name(n: usize) -> String {
    format!("host{}", n + 1)
}

struct Rig {
    api: ApiClient,
    hosts: usize,
    _server: ServerProcess,
    agents: Vec<std::process::Child>,
    underlay: Underlay,
    _dir: tempfile::TempDir,
}

impl Rig {
    /// Waits until every agent applied the current revision (or `revision`, if given);
    /// the revision.
    async fn settled(&mut self, revision: Option<u64>) -> Result<u64> {
        let deadline = Instant::now() + Duration::from_secs(900);
        loop {
            let s = self
                .api
                .call(&ActionParams::versioned(EXT, "DescribeDataplaneStatus"))
                .await?;
            let current = revision.unwrap_or(s["CurrentRevision"].as_u64().unwrap_or(u64::MAX));
            let agents = s["Agents"]["Agent"].as_array().cloned().unwrap_or_default();
            let done = (0..self.hosts).all(|n| {
                agents.iter().any(|a| {
                    a["Host"] == host_name(n).as_str()
                        && a["AppliedRevision"].as_u64().unwrap_or(0) >= current
                })
            });
            if done {
                return Ok(current);
            }
            if Instant::now() > deadline {
                bail!("the agents did not apply revision {current}: {s}");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

pub async fn run(args: HostsArgs) -> Result<()> {
    if args.instances == 0 || !args.instances.is_multiple_of(100) {
        bail!("--instances must be a positive multiple of 100");
    }
    if args.hosts < 2 {
        bail!("--hosts must be at least 2");
    }
    let Served {
        bin,
        database: db,
        server,
        api,
        dir,
    } = serve(args.secgroup_bin.as_ref()).await?;
    let underlay = Underlay::create(PREFIX, args.hosts);
    let mut agents = Vec::new();
    for n in 0..usize::from(args.hosts) {
        let (ns, address) = underlay.host(n);
        let agent = std::process::Command::new("nsenter")
            .arg(format!("--net=/run/netns/{ns}"))
            .arg(&bin)
            .args(["agent", "--database", &db, "--host", &host_name(n)])
            .args(["--underlay-address", &address.to_string()])
            .args(["--namespace-prefix", &format!("{PREFIX}{}-", n + 1)])
            .args(["--agent-id", &host_name(n)])
            .env(
                "SECGROUP_LOG",
                std::env::var("SECGROUP_BENCH_AGENT_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("starting secgroup agent")?;
        agents.push(agent);
    }
    let mut rig = Rig {
        api,
        hosts: usize::from(args.hosts),
        _server: server,
        agents,
        underlay,
        _dir: dir,
    };
    let outcome = measure(&mut rig, &args).await;
    // SIGTERM: every agent removes what it made.
    for agent in &mut rig.agents {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &agent.id().to_string()])
            .status();
    }
    for agent in &mut rig.agents {
        let _ = agent.wait();
    }
    rig.underlay.remove();
    outcome
}

/// TCP connect from namespace `from` to `to`:`port`, timed.
fn connect_from(
    from: &str,
    to: Ipv4Addr,
    port: u16,
    timeout: Duration,
) -> Result<Option<Duration>> {
    in_netns(from, || {
        let started = Instant::now();
        TcpStream::connect_timeout(&SocketAddr::new(IpAddr::V4(to), port), timeout)
            .ok()
            .map(|_| started.elapsed())
    })
    .map_err(|e| anyhow::anyhow!("{e}"))
}

/// A listener in `ns` on `port` that reads every connection to its end.
fn sink(ns: &str, port: u16) -> Result<()> {
    let listener = in_netns(ns, || TcpListener::bind(("0.0.0.0", port)))
        .map_err(|e| anyhow::anyhow!("{e}"))??;
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut conn = conn;
                let mut buf = vec![0u8; 1 << 16];
                while matches!(conn.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    Ok(())
}

/// Sends `mib` MiB from `from` to `to`:`port`; the time until the last byte is written
/// and the connection shut down (the receiver reads as fast as it can).
fn transfer(from: &str, to: Ipv4Addr, port: u16, mib: usize) -> Result<Duration> {
    in_netns(from, || -> Result<Duration> {
        let chunk = vec![7u8; 1 << 20];
        let mut s = TcpStream::connect_timeout(
            &SocketAddr::new(IpAddr::V4(to), port),
            Duration::from_secs(2),
        )?;
        let started = Instant::now();
        for _ in 0..mib {
            s.write_all(&chunk)?;
        }
        s.shutdown(std::net::Shutdown::Write)?;
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        Ok(started.elapsed())
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?
}

async fn ip_and_host(api: &mut ApiClient, id: &str) -> Result<(Ipv4Addr, String)> {
    let r = api
        .call(&ActionParams::new("DescribeInstances").with("InstanceIds", format!("[\"{id}\"]")))
        .await?;
    let i = &r["Instances"]["Instance"][0];
    let ip = i["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0]
        .as_str()
        .context("no address")?
        .parse()
        .context("address")?;
    let host = i["AdditionalInfo"]["ManagedHostId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok((ip, host))
}

async fn measure(rig: &mut Rig, args: &HostsArgs) -> Result<()> {
    // Every host reports before the first instance starts, so that placement spreads.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = rig
            .api
            .call(&ActionParams::versioned(EXT, "DescribeDataplaneStatus"))
            .await?;
        let alive = s["Agents"]["Agent"]
            .as_array()
            .map(|a| a.iter().filter(|a| a["Alive"] == true).count())
            .unwrap_or(0);
        if alive == rig.hosts {
            break;
        }
        if Instant::now() > deadline {
            bail!("the agents did not report: {s}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let api = &mut rig.api;
    let (vpc, vsw) = vpc_and_vswitch(api).await?;
    // One group for all (its members a set on every host), accepting tcp/80 and tcp/5001
    // from the VPC; the measured change opens and closes tcp/22 from outside.
    let sg = api
        .call_for(
            &ActionParams::new("CreateSecurityGroup").with("VpcId", &vpc),
            "SecurityGroupId",
        )
        .await?;
    let mut call = ActionParams::new("AuthorizeSecurityGroup").with("SecurityGroupId", &sg);
    for (k, port) in ["80/80", "5001/5001"].iter().enumerate() {
        call = call
            .with(&format!("Permissions.{}.IpProtocol", k + 1), "tcp")
            .with(&format!("Permissions.{}.PortRange", k + 1), *port)
            .with(&format!("Permissions.{}.SourceCidrIp", k + 1), "10.0.0.0/8");
    }
    api.call(&call).await?;
    rig.settled(None).await?;

    let started = Instant::now();
    let mut ids: Vec<String> = Vec::new();
    for _ in 0..args.instances / 100 {
        let r = rig
            .api
            .call(
                &ActionParams::new("RunInstances")
                    .with("ImageId", "aliyun_3_x64_20G_alibase_20240819.vhd")
                    .with("InstanceType", "ecs.g5.large")
                    .with("VSwitchId", &vsw)
                    .with("SecurityGroupId", &sg)
                    .with("Amount", "100"),
            )
            .await?;
        if ids.len() < 100 {
            ids.extend(
                r["InstanceIdSets"]["InstanceIdSet"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_owned)),
            );
        }
    }
    let api_done = started.elapsed();
    rig.settled(None).await?;
    println!(
        "empty -> {} instances enforced on {} hosts: {} (API calls {})",
        args.instances,
        rig.hosts,
        ms(started.elapsed()),
        ms(api_done)
    );

    // One probe target per host, and for the cost of crossing: a source on host 1, a peer
    // on host 1 and one on host 2.
    let mut on_host: Vec<Vec<(String, Ipv4Addr)>> = vec![Vec::new(); rig.hosts];
    for id in &ids {
        let (ip, host) = ip_and_host(&mut rig.api, id).await?;
        if let Some(n) = (0..rig.hosts).find(|&n| host_name(n) == host) {
            on_host[n].push((id.clone(), ip));
        }
    }
    if on_host.iter().any(|h| h.len() < 2) {
        bail!("placement left a host with fewer than two of the first 100 instances");
    }
    let (source, _) = on_host[0][0].clone();
    let (near, near_ip) = on_host[0][1].clone();
    let (far, far_ip) = on_host[1][0].clone();
    for ns in [&near, &far] {
        accepting(ns, 80)?;
        sink(ns, 5001)?;
    }
    let targets: Vec<(String, Ipv4Addr)> = on_host.iter().map(|h| h[0].clone()).collect();
    for (id, _) in &targets {
        accepting(id, 22)?;
    }

    // The cost of crossing hosts: connects alternated, then transfers alternated.
    let (mut same, mut cross) = (Vec::new(), Vec::new());
    for _ in 0..args.connects {
        if let Some(d) = connect_from(&source, near_ip, 80, Duration::from_secs(1))? {
            same.push(d);
        }
        if let Some(d) = connect_from(&source, far_ip, 80, Duration::from_secs(1))? {
            cross.push(d);
        }
    }
    same.sort();
    cross.sort();
    let (p_same, p_cross) = (percentile(&same, 0.5), percentile(&cross, 0.5));
    println!(
        "TCP connect p50: same host {} ({} ok), across hosts {} ({} ok), ratio {:.3}",
        ms(p_same),
        same.len(),
        ms(p_cross),
        cross.len(),
        p_cross.as_secs_f64() / p_same.as_secs_f64().max(1e-9)
    );
    let (mut t_same, mut t_cross) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        t_same.push(transfer(&source, near_ip, 5001, args.transfer_mib)?);
        t_cross.push(transfer(&source, far_ip, 5001, args.transfer_mib)?);
    }
    t_same.sort();
    t_cross.sort();
    let rate = |d: Duration| args.transfer_mib as f64 * 8.0 / 1024.0 / d.as_secs_f64().max(1e-9);
    let (m_same, m_cross) = (percentile(&t_same, 0.5), percentile(&t_cross, 0.5));
    println!(
        "{} MiB transfer, median of 5: same host {} ({:.2} Gbit/s), across hosts {} ({:.2} Gbit/s), time ratio {:.3}",
        args.transfer_mib,
        ms(m_same),
        rate(m_same),
        ms(m_cross),
        rate(m_cross),
        m_cross.as_secs_f64() / m_same.as_secs_f64().max(1e-9)
    );

    // Convergence: tcp/22 from outside opened, then closed; each change timed from its 200
    // to every host's applied revision, and to the first packet with the new verdict from
    // every host's outside namespace to that host's target.
    let (mut to_applied, mut to_packet) = (Vec::new(), Vec::new());
    for n in 0..args.changes {
        let open = n % 2 == 0;
        let action = if open {
            "AuthorizeSecurityGroup"
        } else {
            "RevokeSecurityGroup"
        };
        let call = ActionParams::new(action)
            .with("SecurityGroupId", &sg)
            .with("IpProtocol", "tcp")
            .with("PortRange", "22/22")
            .with("SourceCidrIp", "100.64.0.0/10");
        rig.api.call(&call).await?;
        let t0 = Instant::now();
        let revision = rig
            .api
            .call(&ActionParams::versioned(EXT, "DescribeDataplaneStatus"))
            .await?["CurrentRevision"]
            .as_u64()
            .context("revision")?;
        let probes: Vec<(String, Ipv4Addr)> = targets
            .iter()
            .enumerate()
            .map(|(h, (_, ip))| (format!("{PREFIX}{}-outside", h + 1), *ip))
            .collect();
        let packet = tokio::task::spawn_blocking(move || -> Result<Duration> {
            let mut pending = probes;
            loop {
                let mut still = Vec::new();
                for (outside, ip) in pending {
                    let got = connect_from(&outside, ip, 22, Duration::from_millis(20))?.is_some();
                    if got != open {
                        still.push((outside, ip));
                    }
                }
                if still.is_empty() {
                    return Ok(t0.elapsed());
                }
                pending = still;
                // Paced: every attempt leaves a tracked connection a revoke must judge.
                std::thread::sleep(Duration::from_millis(2));
                if t0.elapsed() > Duration::from_secs(20) {
                    bail!("change {n}: no packet with the new verdict (open: {open}) within 20 s");
                }
            }
        });
        rig.settled(Some(revision)).await?;
        to_applied.push(t0.elapsed());
        to_packet.push(packet.await??);
    }
    to_applied.sort();
    to_packet.sort();
    println!(
        "one rule change at {} instances over {} hosts: 200 -> applied on every host p50 {} p99 {}; 200 -> first packet on every host p50 {} p99 {}",
        args.instances,
        rig.hosts,
        ms(percentile(&to_applied, 0.5)),
        ms(percentile(&to_applied, 0.99)),
        ms(percentile(&to_packet, 0.5)),
        ms(percentile(&to_packet, 0.99))
    );
    Ok(())
}

//! What tests with real packets share (feature `testkit`): the root check, the namespaces
//! on the machine, and probes that send real packets from inside a namespace (a thread
//! enters it and opens its sockets there). Used by this crate's tests and by the agent's
//! end-to-end tests, so that both probe the same way.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::in_netns;

/// Whether this process is root (without reporting anything).
pub fn can_run_quietly() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Whether this machine can run real-packet tests: root, with `ip`, `nft` and `conntrack`.
/// Under CI (`CI=true`) a machine that cannot is a failure, not a skip.
pub fn can_run(test: &str) -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    let tools = ["ip", "nft", "conntrack"]
        .iter()
        .all(|t| std::process::Command::new(t).arg("-V").output().is_ok());
    if root && tools {
        return true;
    }
    let why = if root {
        "ip, nft or conntrack is missing (apt-get install -y iproute2 nftables conntrack)"
    } else {
        "not running as root"
    };
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: cannot run real-packet tests under CI: {why}");
    }
    eprintln!("{test}: skipped: {why}");
    false
}

/// Every namespace named on the machine now.
pub fn namespaces() -> Vec<String> {
    let out = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// The inode of a namespace: the same inode is the same namespace (processes in it live on).
pub fn netns_inode(name: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/run/netns/{name}"))
        .ok()
        .map(|m| m.ino())
}

pub const PROBE_TIMEOUT: Duration = Duration::from_millis(400);

/// Listeners in one namespace: TCP on 22 and 80 (the kernel completes handshakes into the
/// backlog, so no accept is needed for a connect probe), a UDP echo on 53. Dropped, they
/// stop.
pub struct Listeners {
    _tcp: Vec<TcpListener>,
    stop: Arc<AtomicBool>,
    udp: Vec<std::thread::JoinHandle<()>>,
}

impl Listeners {
    pub fn start(namespace: &str) -> Listeners {
        Listeners::start_on(namespace, &[Ipv4Addr::UNSPECIFIED])
    }

    /// Like [`Listeners::start`], with one UDP echo per address: an instance with several
    /// interfaces answers from the address it was asked at (an echo bound to 0.0.0.0
    /// would answer from whichever address its route to the asker prefers).
    pub fn start_on(namespace: &str, udp_addresses: &[Ipv4Addr]) -> Listeners {
        let (tcp, udp) = in_netns(namespace, || {
            // A port a test already listens on keeps its own listener.
            let tcp: Vec<TcpListener> = [22u16, 80]
                .iter()
                .filter_map(|p| TcpListener::bind(("0.0.0.0", *p)).ok())
                .collect();
            let udp: Vec<UdpSocket> = udp_addresses
                .iter()
                .map(|a| UdpSocket::bind((*a, 53)).expect("udp listener"))
                .collect();
            (tcp, udp)
        })
        .expect("enter namespace");
        let stop = Arc::new(AtomicBool::new(false));
        let handles = udp
            .into_iter()
            .map(|udp| {
                udp.set_read_timeout(Some(Duration::from_millis(50)))
                    .expect("timeout");
                let flag = stop.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 512];
                    while !flag.load(Ordering::Relaxed) {
                        if let Ok((n, from)) = udp.recv_from(&mut buf) {
                            let _ = udp.send_to(&buf[..n], from);
                        }
                    }
                })
            })
            .collect();
        Listeners {
            _tcp: tcp,
            stop,
            udp: handles,
        }
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for h in self.udp.drain(..) {
            let _ = h.join();
        }
    }
}

/// What a probe sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Probe {
    Tcp(u16),
    Udp(u16),
    Icmp,
}

/// Sends one probe from inside `namespace` to `to`; `true` when it got through and its
/// reply came back. A denied probe is retried once so that a busy machine's slow answer
/// is not taken for a drop.
pub fn probe(namespace: &str, to: Ipv4Addr, what: Probe) -> bool {
    probe_from(namespace, to, what, None)
}

/// Like [`probe`], with a fixed source port (TCP and UDP).
pub fn probe_from(namespace: &str, to: Ipv4Addr, what: Probe, source_port: Option<u16>) -> bool {
    for _ in 0..2 {
        let ok = in_netns(namespace, || once(to, what, source_port)).expect("enter namespace");
        if ok {
            return true;
        }
    }
    false
}

fn once(to: Ipv4Addr, what: Probe, source_port: Option<u16>) -> bool {
    match what {
        Probe::Tcp(port) => {
            let target = SocketAddr::new(IpAddr::V4(to), port);
            match source_port {
                None => TcpStream::connect_timeout(&target, PROBE_TIMEOUT).is_ok(),
                Some(sport) => {
                    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
                        .expect("test setup");
                    socket.set_reuse_address(true).expect("test setup");
                    let local = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), sport);
                    if socket.bind(&local.into()).is_err() {
                        return false;
                    }
                    let ok = socket
                        .connect_timeout(&target.into(), PROBE_TIMEOUT)
                        .is_ok();
                    // Reset rather than linger in TIME_WAIT, so the port can be reused.
                    let _ = socket.set_linger(Some(Duration::ZERO));
                    ok
                }
            }
        }
        Probe::Udp(port) => {
            let local = (Ipv4Addr::UNSPECIFIED, source_port.unwrap_or(0));
            let Ok(socket) = UdpSocket::bind(local) else {
                return false;
            };
            socket
                .set_read_timeout(Some(PROBE_TIMEOUT))
                .expect("test setup");
            let nonce = rand_nonce();
            if socket.send_to(&nonce, (to, port)).is_err() {
                return false;
            }
            let mut buf = [0u8; 64];
            let deadline = Instant::now() + PROBE_TIMEOUT;
            while Instant::now() < deadline {
                match socket.recv_from(&mut buf) {
                    Ok((n, from)) if from.ip() == IpAddr::V4(to) && buf[..n] == nonce => {
                        return true
                    }
                    Ok(_) => continue,
                    Err(_) => return false,
                }
            }
            false
        }
        Probe::Icmp => icmp_echo(
            to,
            (u32::from_be_bytes(rand_nonce()[..4].try_into().expect("test setup")) & 0xffff) as u16,
        ),
    }
}

/// Like [`probe`], sent from the address `source` of the namespace (bound before
/// connecting): an instance with several interfaces sends from a chosen one.
pub fn probe_bound(namespace: &str, source: Ipv4Addr, to: Ipv4Addr, what: Probe) -> bool {
    for _ in 0..2 {
        let ok = in_netns(namespace, || once_bound(source, to, what)).expect("enter namespace");
        if ok {
            return true;
        }
    }
    false
}

fn once_bound(source: Ipv4Addr, to: Ipv4Addr, what: Probe) -> bool {
    let local: SockAddr = SocketAddr::new(IpAddr::V4(source), 0).into();
    match what {
        Probe::Tcp(port) => {
            let socket =
                Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).expect("test setup");
            if socket.bind(&local).is_err() {
                return false;
            }
            let target: SockAddr = SocketAddr::new(IpAddr::V4(to), port).into();
            let ok = socket.connect_timeout(&target, PROBE_TIMEOUT).is_ok();
            let _ = socket.set_linger(Some(Duration::ZERO));
            ok
        }
        Probe::Udp(port) => {
            let Ok(socket) = UdpSocket::bind((source, 0)) else {
                return false;
            };
            socket
                .set_read_timeout(Some(PROBE_TIMEOUT))
                .expect("test setup");
            let nonce = rand_nonce();
            if socket.send_to(&nonce, (to, port)).is_err() {
                return false;
            }
            let mut buf = [0u8; 64];
            let deadline = Instant::now() + PROBE_TIMEOUT;
            while Instant::now() < deadline {
                match socket.recv_from(&mut buf) {
                    Ok((n, from)) if from.ip() == IpAddr::V4(to) && buf[..n] == nonce => {
                        return true
                    }
                    Ok(_) => continue,
                    Err(_) => return false,
                }
            }
            false
        }
        Probe::Icmp => {
            let id = (u32::from_be_bytes(rand_nonce()[..4].try_into().expect("test setup"))
                & 0xffff) as u16;
            icmp_echo_from(Some(source), to, id, 1)
        }
    }
}

fn rand_nonce() -> [u8; 8] {
    use std::sync::atomic::AtomicU64;
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed)
        ^ (std::process::id() as u64) << 40
        ^ Instant::now().elapsed().as_nanos() as u64;
    n.to_be_bytes()
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum = 0u32;
    for chunk in data.chunks(2) {
        let word = u16::from_be_bytes([chunk[0], *chunk.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// One echo request with identifier `id` on a raw socket; `true` when its reply comes.
pub fn icmp_echo(to: Ipv4Addr, id: u16) -> bool {
    icmp_echo_seq(to, id, 1)
}

pub fn icmp_echo_seq(to: Ipv4Addr, id: u16, seq: u16) -> bool {
    icmp_echo_from(None, to, id, seq)
}

fn icmp_echo_from(source: Option<Ipv4Addr>, to: Ipv4Addr, id: u16, seq: u16) -> bool {
    let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4)).expect("test setup");
    if let Some(source) = source {
        if socket
            .bind(&SocketAddr::new(IpAddr::V4(source), 0).into())
            .is_err()
        {
            return false;
        }
    }
    socket
        .set_read_timeout(Some(PROBE_TIMEOUT))
        .expect("test setup");
    let mut packet = vec![8u8, 0, 0, 0];
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(b"secgroup");
    let sum = checksum(&packet);
    packet[2..4].copy_from_slice(&sum.to_be_bytes());
    let target = SockAddr::from(SocketAddr::new(IpAddr::V4(to), 0));
    if socket.send_to(&packet, &target).is_err() {
        return false;
    }
    let deadline = Instant::now() + PROBE_TIMEOUT;
    let mut buf = [0u8; 1500];
    while Instant::now() < deadline {
        let n = match (&socket).read(&mut buf) {
            Ok(n) => n,
            Err(_) => return false,
        };
        if n < 20 {
            continue;
        }
        let ihl = usize::from(buf[0] & 0x0f) * 4;
        let from = Ipv4Addr::new(buf[12], buf[13], buf[14], buf[15]);
        if n < ihl + 8 || from != to {
            continue;
        }
        let icmp = &buf[ihl..n];
        if icmp[0] == 0 && icmp[4..6] == id.to_be_bytes() && icmp[6..8] == seq.to_be_bytes() {
            return true;
        }
    }
    false
}

/// [`probe_bound`]s in parallel, results in order: (namespace, source, destination, what).
pub fn probe_all_bound(probes: &[(String, Ipv4Addr, Ipv4Addr, Probe)]) -> Vec<bool> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = probes
            .iter()
            .map(|(ns, from, to, what)| scope.spawn(move || probe_bound(ns, *from, *to, *what)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(false))
            .collect()
    })
}

/// Runs probes in parallel (each on its own thread) and returns their results in order.
pub fn probe_all(probes: &[(String, Ipv4Addr, Probe)]) -> Vec<bool> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = probes
            .iter()
            .map(|(ns, to, what)| scope.spawn(move || probe(ns, *to, *what)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(false))
            .collect()
    })
}

/// An established TCP connection from `client_ns` to `server_ns` on `port`: the client
/// stream and the server's accepted stream.
pub fn connect_pair(
    client_ns: &str,
    server_ns: &str,
    to: Ipv4Addr,
    port: u16,
) -> (TcpStream, TcpStream, TcpListener) {
    let listener = in_netns(server_ns, || {
        TcpListener::bind(("0.0.0.0", port)).expect("test setup")
    })
    .expect("test setup");
    let client = in_netns(client_ns, || {
        TcpStream::connect_timeout(
            &SocketAddr::new(IpAddr::V4(to), port),
            Duration::from_secs(2),
        )
        .expect("connect")
    })
    .expect("test setup");
    let (server, _) = listener.accept().expect("accept");
    (client, server, listener)
}

/// Sends `data` on `from` and tells whether it arrives on `to` within `wait`.
pub fn arrives(from: &mut TcpStream, to: &mut TcpStream, data: &[u8], wait: Duration) -> bool {
    if from.write_all(data).is_err() {
        return false;
    }
    to.set_read_timeout(Some(wait)).expect("test setup");
    let mut buf = vec![0u8; data.len()];
    let mut got = 0;
    let deadline = Instant::now() + wait;
    while got < data.len() && Instant::now() < deadline {
        match to.read(&mut buf[got..]) {
            Ok(0) => return false,
            Ok(n) => got += n,
            Err(_) => return false,
        }
    }
    got == data.len() && buf == data
}

/// Hosts for several-host tests, all on this machine: one namespace per host, each with
/// `ul0` (its underlay address `10.251.0.N/24`, N from 1) on a bridge in a switch
/// namespace. Nothing is added to the machine's own namespace. Dropped, they go (with
/// everything an agent made in them: the overlay devices' sockets are theirs).
pub struct Underlay {
    pub switch: String,
    /// Namespace and underlay address of each host.
    pub hosts: Vec<(String, Ipv4Addr)>,
}

impl Underlay {
    /// `count` hosts named `{prefix}h1`, `{prefix}h2`, …, and `{prefix}switch`; leftovers of
    /// an earlier run with this prefix are removed first.
    pub fn create(prefix: &str, count: u8) -> Underlay {
        let switch = format!("{prefix}switch");
        let hosts: Vec<(String, Ipv4Addr)> = (1..=count)
            .map(|n| (format!("{prefix}h{n}"), Ipv4Addr::new(10, 251, 0, n)))
            .collect();
        let underlay = Underlay { switch, hosts };
        underlay.remove();
        let ip = |args: &[&str]| {
            let out = std::process::Command::new("ip")
                .args(args)
                .output()
                .expect("ip");
            assert!(
                out.status.success(),
                "ip {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        };
        ip(&["netns", "add", &underlay.switch]);
        ip(&[
            "-n",
            &underlay.switch,
            "link",
            "add",
            "br0",
            "type",
            "bridge",
        ]);
        ip(&["-n", &underlay.switch, "link", "set", "br0", "up"]);
        for (n, (ns, address)) in underlay.hosts.iter().enumerate() {
            let port = format!("port{n}");
            ip(&["netns", "add", ns]);
            ip(&[
                "-n",
                &underlay.switch,
                "link",
                "add",
                &port,
                "type",
                "veth",
                "peer",
                "name",
                "ul0",
                "netns",
                ns,
            ]);
            ip(&[
                "-n",
                &underlay.switch,
                "link",
                "set",
                &port,
                "master",
                "br0",
                "up",
            ]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
            ip(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("{address}/24"),
                "dev",
                "ul0",
            ]);
            ip(&["-n", ns, "link", "set", "ul0", "up"]);
        }
        underlay
    }

    /// The namespace of host `n` (from 0) and its underlay address.
    pub fn host(&self, n: usize) -> (&str, Ipv4Addr) {
        let (ns, address) = &self.hosts[n];
        (ns, *address)
    }

    pub fn remove(&self) {
        let existing = namespaces();
        for ns in self
            .hosts
            .iter()
            .map(|(ns, _)| ns)
            .chain(std::iter::once(&self.switch))
        {
            if existing.contains(ns) {
                let _ = std::process::Command::new("ip")
                    .args(["netns", "del", ns])
                    .output();
            }
        }
    }
}

impl Drop for Underlay {
    fn drop(&mut self) {
        self.remove();
    }
}

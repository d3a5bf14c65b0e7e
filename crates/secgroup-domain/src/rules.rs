//! Security-group rules: their parts, how a request's fields become a valid rule, and what
//! makes two rules the same (docs/ecs.md §2.3, §2.5).

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// Which traffic a rule governs, seen from the group's members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ingress" => Some(Direction::Ingress),
            "egress" => Some(Direction::Egress),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IpProtocol {
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    Gre,
    All,
}

impl IpProtocol {
    /// Case-insensitive, as clients send `tcp` or `TCP`.
    pub fn parse(s: &str) -> Option<Self> {
        // Compared in place rather than lower-cased into a new string: stored rules are
        // decoded through here, a thousand per large read.
        [
            ("tcp", IpProtocol::Tcp),
            ("udp", IpProtocol::Udp),
            ("icmp", IpProtocol::Icmp),
            ("icmpv6", IpProtocol::Icmpv6),
            ("gre", IpProtocol::Gre),
            ("all", IpProtocol::All),
        ]
        .into_iter()
        .find_map(|(name, protocol)| s.eq_ignore_ascii_case(name).then_some(protocol))
    }
    /// The output spelling: upper case (`ICMPv6` keeps its lower-case v).
    pub fn as_str(self) -> &'static str {
        match self {
            IpProtocol::Tcp => "TCP",
            IpProtocol::Udp => "UDP",
            IpProtocol::Icmp => "ICMP",
            IpProtocol::Icmpv6 => "ICMPv6",
            IpProtocol::Gre => "GRE",
            IpProtocol::All => "ALL",
        }
    }
    /// TCP and UDP carry real port ranges; the others only `-1/-1`.
    pub fn has_ports(self) -> bool {
        matches!(self, IpProtocol::Tcp | IpProtocol::Udp)
    }
    /// The address family a protocol is bound to, if any.
    pub fn family(self) -> Option<Family> {
        match self {
            IpProtocol::Icmp => Some(Family::V4),
            IpProtocol::Icmpv6 => Some(Family::V6),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Family {
    V4,
    V6,
}

/// `from/to`; `-1/-1` means every port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PortRange {
    pub from: i32,
    pub to: i32,
}

impl PortRange {
    pub const ANY: PortRange = PortRange { from: -1, to: -1 };

    /// `a/b` with integers; range checks are the caller's (they depend on the protocol).
    /// `from/to` in plain decimal (`-1/-1` for any); a sign other than that minus, or a
    /// space, is refused (ECS refuses `+22/+22` and ` 22/22`).
    pub fn parse(s: &str) -> Option<Self> {
        let (a, b) = s.split_once('/')?;
        Some(PortRange {
            from: i32::try_from(decimal(a)?).ok()?,
            to: i32::try_from(decimal(b)?).ok()?,
        })
    }
    pub fn is_any(self) -> bool {
        self == Self::ANY
    }
    /// A real range: 1 ≤ from ≤ to ≤ 65535.
    pub fn is_real(self) -> bool {
        (1..=65535).contains(&self.from) && (self.from..=65535).contains(&self.to)
    }
    pub fn contains(self, port: u16) -> bool {
        self.is_any() || (self.from..=self.to).contains(&i32::from(port))
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.from, self.to)
    }
}

/// A rule's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RulePolicy {
    Accept,
    Drop,
}

impl RulePolicy {
    pub fn parse(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("accept") {
            Some(RulePolicy::Accept)
        } else if s.eq_ignore_ascii_case("drop") {
            Some(RulePolicy::Drop)
        } else {
            None
        }
    }
    /// Output spelling: capitalised.
    pub fn as_str(self) -> &'static str {
        match self {
            RulePolicy::Accept => "Accept",
            RulePolicy::Drop => "Drop",
        }
    }
}

/// An address block as the client wrote it. IPv4 text is echoed exactly (Terraform compares
/// it with what it sent); IPv6 is kept in compressed lower case, as Terraform compares it
/// after compressing. Two blocks are the same when their networks are.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cidr {
    text: String,
    net: IpNet,
}

impl Cidr {
    /// An IPv4 address or block.
    pub fn parse_v4(s: &str) -> Option<Cidr> {
        let net: IpNet = parse_net(s)?;
        matches!(net, IpNet::V4(_)).then(|| Cidr {
            text: s.trim().to_string(),
            net,
        })
    }
    /// An IPv6 address or block, rewritten compressed.
    pub fn parse_v6(s: &str) -> Option<Cidr> {
        let net: IpNet = parse_net(s)?;
        let IpNet::V6(v6) = net else { return None };
        let text = if s.contains('/') {
            format!("{}/{}", v6.addr(), v6.prefix_len())
        } else {
            v6.addr().to_string()
        };
        Some(Cidr { text, net })
    }
    /// Either family.
    pub fn parse_any(s: &str) -> Option<Cidr> {
        Self::parse_v4(s).or_else(|| Self::parse_v6(s))
    }
    pub fn as_str(&self) -> &str {
        &self.text
    }
    pub fn family(&self) -> Family {
        match self.net {
            IpNet::V4(_) => Family::V4,
            IpNet::V6(_) => Family::V6,
        }
    }
    /// The block with host bits cleared (`10.0.0.5/8` covers `10.0.0.0/8`).
    pub fn network(&self) -> IpNet {
        self.net.trunc()
    }
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.net.trunc().contains(&ip)
    }
}

fn parse_net(s: &str) -> Option<IpNet> {
    strict_net(s.trim())
}

/// An address, or an address block `addr/len`, in strict notation: the standard library's
/// address parsers (which refuse an IPv4 octet with a leading zero, since `010` reads as
/// octal 8 to `inet_aton` and as 10 to others: no block may mean two networks) and a
/// prefix length of plain digits (no sign, space or leading zero). Host bits may be set.
pub fn strict_net(s: &str) -> Option<IpNet> {
    match s.split_once('/') {
        None => s.parse::<IpAddr>().ok().map(IpNet::from),
        Some((address, prefix)) => {
            let address: IpAddr = address.parse().ok()?;
            let plain = !prefix.is_empty()
                && prefix.len() <= 3
                && prefix.bytes().all(|b| b.is_ascii_digit())
                && (prefix.len() == 1 || !prefix.starts_with('0'));
            if !plain {
                return None;
            }
            IpNet::new(address, prefix.parse().ok()?).ok()
        }
    }
}

/// A decimal integer as ECS reads one: an optional `-`, then digits; no `+`, no space.
pub fn decimal(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl PartialEq for Cidr {
    fn eq(&self, other: &Self) -> bool {
        self.network() == other.network()
    }
}
impl Eq for Cidr {}

/// Whom a rule is about: the source of ingress traffic, the destination of egress traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Peer {
    Cidr(Cidr),
    /// Members of a security group; `owner_account` is empty for the rule's own account.
    Group {
        group_id: String,
        owner_account: String,
    },
    PrefixList(String),
}

impl Peer {
    pub fn kind(&self) -> &'static str {
        match self {
            Peer::Cidr(c) if c.family() == Family::V4 => "cidr",
            Peer::Cidr(_) => "ipv6",
            Peer::Group { .. } => "group",
            Peer::PrefixList(_) => "prefix_list",
        }
    }
}

/// Everything a client states about a rule. Two specs are the same rule when all but the
/// description are equal (Priority included: see docs/ecs.md §2.5).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleSpec {
    pub direction: Direction,
    pub protocol: IpProtocol,
    pub port_range: PortRange,
    pub source_port_range: Option<PortRange>,
    pub policy: RulePolicy,
    /// 1 (highest) ..= 100.
    pub priority: u8,
    pub peer: Peer,
    /// The group side's own block in a quintuple rule: `DestCidrIp` on ingress,
    /// `SourceCidrIp` on egress.
    pub local_cidr: Option<Cidr>,
    pub description: String,
}

impl RuleSpec {
    /// Same rule, descriptions aside.
    pub fn same_rule(&self, other: &RuleSpec) -> bool {
        self.direction == other.direction
            && self.protocol == other.protocol
            && self.port_range == other.port_range
            && self.source_port_range == other.source_port_range
            && self.policy == other.policy
            && self.priority == other.priority
            && self.peer == other.peer
            && self.local_cidr == other.local_cidr
    }
}

/// A stored rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rule {
    /// `sgr-…`
    pub id: String,
    pub security_group_id: String,
    pub spec: RuleSpec,
    pub create_time: DateTime<Utc>,
}

/// A rule as flat columns, for storage backends: strings and integers only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRow {
    pub id: String,
    pub security_group_id: String,
    /// `ingress` / `egress`
    pub direction: String,
    /// Output spelling, e.g. `TCP`.
    pub ip_protocol: String,
    /// `a/b`
    pub port_range: String,
    /// `a/b` or empty.
    pub source_port_range: String,
    /// `Accept` / `Drop`
    pub policy: String,
    pub priority: i64,
    /// `cidr`, `ipv6`, `group`, `prefix_list`
    pub peer_kind: String,
    /// The block, group id or prefix list id.
    pub peer_value: String,
    /// Owner account of a group peer; empty otherwise.
    pub peer_owner_account: String,
    /// Quintuple block, or empty.
    pub local_cidr: String,
    pub description: String,
    pub create_time: DateTime<Utc>,
}

/// A [`RuleRow`] whose text columns are borrowed, e.g. from a database row's buffer:
/// [`Rule::from_row_ref`] copies only the strings the rule keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleRowRef<'a> {
    pub id: &'a str,
    pub security_group_id: &'a str,
    pub direction: &'a str,
    pub ip_protocol: &'a str,
    pub port_range: &'a str,
    pub source_port_range: &'a str,
    pub policy: &'a str,
    pub priority: i64,
    pub peer_kind: &'a str,
    pub peer_value: &'a str,
    pub peer_owner_account: &'a str,
    pub local_cidr: &'a str,
    pub description: &'a str,
    pub create_time: DateTime<Utc>,
}

impl RuleRow {
    pub fn as_ref(&self) -> RuleRowRef<'_> {
        RuleRowRef {
            id: &self.id,
            security_group_id: &self.security_group_id,
            direction: &self.direction,
            ip_protocol: &self.ip_protocol,
            port_range: &self.port_range,
            source_port_range: &self.source_port_range,
            policy: &self.policy,
            priority: self.priority,
            peer_kind: &self.peer_kind,
            peer_value: &self.peer_value,
            peer_owner_account: &self.peer_owner_account,
            local_cidr: &self.local_cidr,
            description: &self.description,
            create_time: self.create_time,
        }
    }
}

impl Rule {
    pub fn to_row(&self) -> RuleRow {
        let s = &self.spec;
        let (peer_value, peer_owner_account) = match &s.peer {
            Peer::Cidr(c) => (c.as_str().to_string(), String::new()),
            Peer::Group {
                group_id,
                owner_account,
            } => (group_id.clone(), owner_account.clone()),
            Peer::PrefixList(id) => (id.clone(), String::new()),
        };
        RuleRow {
            id: self.id.clone(),
            security_group_id: self.security_group_id.clone(),
            direction: s.direction.as_str().into(),
            ip_protocol: s.protocol.as_str().into(),
            port_range: s.port_range.to_string(),
            source_port_range: s
                .source_port_range
                .map(|p| p.to_string())
                .unwrap_or_default(),
            policy: s.policy.as_str().into(),
            priority: i64::from(s.priority),
            peer_kind: s.peer.kind().into(),
            peer_value,
            peer_owner_account,
            local_cidr: s
                .local_cidr
                .as_ref()
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
            description: s.description.clone(),
            create_time: self.create_time,
        }
    }

    /// Rebuilds a rule from its columns; `Err` names the column that does not parse.
    pub fn from_row(row: RuleRow) -> Result<Rule, String> {
        Rule::from_row_ref(row.as_ref())
    }

    /// Rebuilds a rule from borrowed columns; `Err` names the column that does not parse.
    pub fn from_row_ref(row: RuleRowRef<'_>) -> Result<Rule, String> {
        let bad = |column: &str| format!("rule {}: bad {column}", row.id);
        let peer = match row.peer_kind {
            "cidr" => Peer::Cidr(Cidr::parse_v4(row.peer_value).ok_or_else(|| bad("peer_value"))?),
            "ipv6" => Peer::Cidr(Cidr::parse_v6(row.peer_value).ok_or_else(|| bad("peer_value"))?),
            "group" => Peer::Group {
                group_id: row.peer_value.to_owned(),
                owner_account: row.peer_owner_account.to_owned(),
            },
            "prefix_list" => Peer::PrefixList(row.peer_value.to_owned()),
            _ => return Err(bad("peer_kind")),
        };
        let spec = RuleSpec {
            direction: Direction::parse(row.direction).ok_or_else(|| bad("direction"))?,
            protocol: IpProtocol::parse(row.ip_protocol).ok_or_else(|| bad("ip_protocol"))?,
            port_range: PortRange::parse(row.port_range).ok_or_else(|| bad("port_range"))?,
            source_port_range: match row.source_port_range {
                "" => None,
                s => Some(PortRange::parse(s).ok_or_else(|| bad("source_port_range"))?),
            },
            policy: RulePolicy::parse(row.policy).ok_or_else(|| bad("policy"))?,
            priority: u8::try_from(row.priority).map_err(|_| bad("priority"))?,
            peer,
            local_cidr: match row.local_cidr {
                "" => None,
                s => Some(Cidr::parse_any(s).ok_or_else(|| bad("local_cidr"))?),
            },
            description: row.description.to_owned(),
        };
        Ok(Rule {
            id: row.id.to_owned(),
            security_group_id: row.security_group_id.to_owned(),
            spec,
            create_time: row.create_time,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_keep_ipv4_text_and_compress_ipv6() {
        assert_eq!(
            Cidr::parse_v4("10.0.0.5").map(|c| c.as_str().to_string()),
            Some("10.0.0.5".into())
        );
        assert_eq!(
            Cidr::parse_v6("2001:0DB8:0000:0000:0000:0000:0000:0000/32")
                .map(|c| c.as_str().to_string()),
            Some("2001:db8::/32".into())
        );
        assert!(Cidr::parse_v4("2001:db8::/32").is_none());
        assert!(Cidr::parse_v4("10.0.0.0/33").is_none());
        assert_eq!(Cidr::parse_v4("10.0.0.1/32"), Cidr::parse_v4("10.0.0.1"));
        assert!(Cidr::parse_v4("10.0.0.0/8")
            .is_some_and(|c| c.contains("10.9.9.9".parse().expect("ip"))));
        // Leading zeros would name another network to some readers: refused.
        for ambiguous in [
            "010.000.000.000/8",
            "10.0.0.0/08",
            "10.0.0.01/32",
            "10.0.0.0/+8",
            "10.0.0.0/",
        ] {
            assert!(Cidr::parse_v4(ambiguous).is_none(), "{ambiguous}");
            assert!(Cidr::parse_any(ambiguous).is_none(), "{ambiguous}");
        }
        assert!(Cidr::parse_v4("0.0.0.0/0").is_some());
        assert!(Cidr::parse_v4("10.0.0.0/8").is_some());
    }

    #[test]
    fn protocols_parse_in_any_case() {
        assert_eq!(IpProtocol::parse("tcp"), Some(IpProtocol::Tcp));
        assert_eq!(IpProtocol::parse("ICMPv6"), Some(IpProtocol::Icmpv6));
        assert_eq!(IpProtocol::parse("All"), Some(IpProtocol::All));
        assert_eq!(IpProtocol::parse("tcpx"), None);
        assert_eq!(IpProtocol::parse(""), None);
    }

    #[test]
    fn port_ranges() {
        assert_eq!(
            PortRange::parse("22/22"),
            Some(PortRange { from: 22, to: 22 })
        );
        assert!(PortRange::parse("-1/-1").is_some_and(PortRange::is_any));
        assert!(!PortRange::parse("0/10").is_some_and(PortRange::is_real));
        assert!(!PortRange::parse("30/20").is_some_and(PortRange::is_real));
        assert!(PortRange::parse("22").is_none());
        for signed_or_spaced in ["+22/+22", " 22/22", "22/22 ", "22 / 22", "+1/1", "--1/-1"] {
            assert!(
                PortRange::parse(signed_or_spaced).is_none(),
                "{signed_or_spaced:?}"
            );
        }
    }

    #[test]
    fn rows_round_trip() {
        let rule = Rule {
            id: "sgr-1".into(),
            security_group_id: "sg-1".into(),
            spec: RuleSpec {
                direction: Direction::Egress,
                protocol: IpProtocol::Tcp,
                port_range: PortRange { from: 1, to: 200 },
                source_port_range: Some(PortRange { from: 80, to: 80 }),
                policy: RulePolicy::Drop,
                priority: 7,
                peer: Peer::Cidr(Cidr::parse_v6("2001:db8::/64").expect("v6")),
                local_cidr: Cidr::parse_any("2001:db8:1::/64"),
                description: "d".into(),
            },
            create_time: Utc::now(),
        };
        let back = Rule::from_row(rule.to_row()).expect("parses");
        assert!(back.spec.same_rule(&rule.spec));
        assert_eq!(back.to_row(), rule.to_row());
        let row = rule.to_row();
        let borrowed = Rule::from_row_ref(row.as_ref()).expect("parses");
        assert_eq!(borrowed.to_row(), row);
    }
}

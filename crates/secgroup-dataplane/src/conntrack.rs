//! Tracked connections of a router, read from `conntrack -L` (deleted by their original
//! tuple over ctnetlink: `crate::ctnetlink`).

use std::net::IpAddr;

use secgroup_domain::rules::IpProtocol;

use crate::judge::TrackedFlow;

/// One entry, in its original (initiator's) direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub flow: TrackedFlow,
    /// ICMP (type, code, id) of the original direction.
    pub icmp: Option<(u8, u8, u16)>,
    /// GRE (source key, destination key) of the original direction.
    pub gre_keys: Option<(u16, u16)>,
}

/// Parses `conntrack -L` lines: `tcp 6 431999 ESTABLISHED src=… dst=… sport=… dport=… src=…`.
/// The first `src`/`dst`/ports are the original direction. TCP, UDP, ICMP echo and GRE are
/// read; other protocols (no rule names them apart from ALL) are left to time out.
pub(crate) fn parse(text: &str) -> Vec<Entry> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Entry> {
    let mut words = line.split_whitespace();
    let mut protocol_name = words.next()?;
    // `-o extended` and some versions start with the layer-3 family.
    if protocol_name == "ipv4" || protocol_name == "ipv6" {
        words.next();
        protocol_name = words.next()?;
    }
    let protocol = match protocol_name {
        "tcp" => IpProtocol::Tcp,
        "udp" => IpProtocol::Udp,
        "icmp" => IpProtocol::Icmp,
        "gre" => IpProtocol::Gre,
        _ => return None,
    };
    let first = |key: &str| -> Option<&str> {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
    };
    let source: IpAddr = first("src")?.parse().ok()?;
    let destination: IpAddr = first("dst")?.parse().ok()?;
    let key = |name: &str| -> Option<u16> {
        u16::from_str_radix(first(name)?.trim_start_matches("0x"), 16).ok()
    };
    match protocol {
        // GRE flows have no ports: every entry between two ends is judged alike.
        IpProtocol::Gre => Some(Entry {
            flow: TrackedFlow {
                protocol,
                source,
                destination,
                source_port: None,
                destination_port: None,
            },
            icmp: None,
            gre_keys: Some((key("srckey").unwrap_or(0), key("dstkey").unwrap_or(0))),
        }),
        IpProtocol::Icmp => {
            let kind: u8 = first("type")?.parse().ok()?;
            let code: u8 = first("code")?.parse().ok()?;
            let id: u16 = first("id")?.parse().ok()?;
            // Only echo requests start flows the rules judge; errors are `related`.
            (kind == 8).then_some(Entry {
                flow: TrackedFlow {
                    protocol,
                    source,
                    destination,
                    source_port: None,
                    destination_port: None,
                },
                icmp: Some((kind, code, id)),
                gre_keys: None,
            })
        }
        _ => Some(Entry {
            flow: TrackedFlow {
                protocol,
                source,
                destination,
                source_port: Some(first("sport")?.parse().ok()?),
                destination_port: Some(first("dport")?.parse().ok()?),
            },
            icmp: None,
            gre_keys: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = "\
tcp      6 431999 ESTABLISHED src=10.0.0.5 dst=10.0.0.6 sport=40000 dport=22 src=10.0.0.6 dst=10.0.0.5 sport=22 dport=40000 [ASSURED] mark=0 use=1
udp      17 29 src=10.0.0.5 dst=10.0.0.6 sport=5000 dport=53 src=10.0.0.6 dst=10.0.0.5 sport=53 dport=5000 mark=0 use=1
icmp     1 29 src=10.0.0.5 dst=10.0.0.6 type=8 code=0 id=1156 src=10.0.0.6 dst=10.0.0.5 type=0 code=0 id=1156 mark=0 use=1
gre      47 29 src=10.0.0.5 dst=10.0.0.6 srckey=0x1a dstkey=0x0 src=10.0.0.6 dst=10.0.0.5 srckey=0x0 dstkey=0x1a mark=0 use=1
";

    #[test]
    fn entries_are_read_in_the_original_direction() {
        let entries = parse(LISTING);
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[3].gre_keys, Some((0x1a, 0)));
        assert_eq!(entries[0].flow.destination_port, Some(22));
        assert_eq!(entries[0].flow.source_port, Some(40000));
        assert_eq!(entries[1].flow.protocol, IpProtocol::Udp);
        assert_eq!(entries[2].icmp, Some((8, 0, 1156)));
    }
}

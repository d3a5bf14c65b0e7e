//! Tracked connections of a router: read from `conntrack -L`, and the `-D` commands that
//! delete exactly one entry each (by its original tuple).

use std::net::IpAddr;

use secgroup_domain::rules::IpProtocol;

use crate::judge::TrackedFlow;

/// One entry, in its original (initiator's) direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub flow: TrackedFlow,
    /// ICMP (type, code, id) of the original direction.
    pub icmp: Option<(u8, u8, u16)>,
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
        }),
    }
}

/// The `conntrack -R` line that deletes this entry and no other.
pub(crate) fn delete_line(entry: &Entry) -> Vec<String> {
    let f = &entry.flow;
    let mut line = vec![
        "-D".to_string(),
        "-s".to_string(),
        f.source.to_string(),
        "-d".to_string(),
        f.destination.to_string(),
    ];
    match (entry.icmp, f.source_port, f.destination_port) {
        (Some((kind, code, id)), _, _) => line.extend([
            "-p".to_string(),
            "icmp".to_string(),
            "--icmp-type".to_string(),
            kind.to_string(),
            "--icmp-code".to_string(),
            code.to_string(),
            "--icmp-id".to_string(),
            id.to_string(),
        ]),
        (None, None, None) if f.protocol == IpProtocol::Gre => {
            line.extend(["-p".to_string(), "gre".to_string()])
        }
        (None, Some(sport), Some(dport)) => line.extend([
            "-p".to_string(),
            if f.protocol == IpProtocol::Udp {
                "udp"
            } else {
                "tcp"
            }
            .to_string(),
            "--sport".to_string(),
            sport.to_string(),
            "--dport".to_string(),
            dport.to_string(),
        ]),
        _ => {}
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = "\
tcp      6 431999 ESTABLISHED src=10.0.0.5 dst=10.0.0.6 sport=40000 dport=22 src=10.0.0.6 dst=10.0.0.5 sport=22 dport=40000 [ASSURED] mark=0 use=1
udp      17 29 src=10.0.0.5 dst=10.0.0.6 sport=5000 dport=53 src=10.0.0.6 dst=10.0.0.5 sport=53 dport=5000 mark=0 use=1
icmp     1 29 src=10.0.0.5 dst=10.0.0.6 type=8 code=0 id=1156 src=10.0.0.6 dst=10.0.0.5 type=0 code=0 id=1156 mark=0 use=1
gre      47 29 src=10.0.0.5 dst=10.0.0.6 srckey=0x0 dstkey=0x0 src=10.0.0.6 dst=10.0.0.5 srckey=0x0 dstkey=0x0 mark=0 use=1
";

    #[test]
    fn entries_are_read_in_the_original_direction() {
        let entries = parse(LISTING);
        assert_eq!(entries.len(), 4);
        assert_eq!(
            delete_line(&entries[3]).join(" "),
            "-D -s 10.0.0.5 -d 10.0.0.6 -p gre"
        );
        assert_eq!(entries[0].flow.destination_port, Some(22));
        assert_eq!(entries[0].flow.source_port, Some(40000));
        assert_eq!(entries[1].flow.protocol, IpProtocol::Udp);
        assert_eq!(entries[2].icmp, Some((8, 0, 1156)));
        assert_eq!(
            delete_line(&entries[2]).join(" "),
            "-D -s 10.0.0.5 -d 10.0.0.6 -p icmp --icmp-type 8 --icmp-code 0 --icmp-id 1156"
        );
        assert_eq!(
            delete_line(&entries[0]).join(" "),
            "-D -s 10.0.0.5 -d 10.0.0.6 -p tcp --sport 40000 --dport 22"
        );
    }
}

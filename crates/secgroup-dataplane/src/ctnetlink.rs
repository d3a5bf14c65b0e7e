//! Deleting tracked connections by their original tuple over ctnetlink, many per netlink
//! send: the kernel looks each tuple up directly. `conntrack -D` (conntrack-tools 1.4.7)
//! dumps the whole table for every entry it deletes, so deleting n of N entries costs
//! n × N (300 of 2,700 entries: 24 s); here it is n lookups, one send per [`CHUNK`].

use std::net::IpAddr;
use std::os::fd::AsRawFd;

use nix::errno::Errno;
use nix::sys::socket::{
    bind, recv, sendto, socket, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol,
    SockType,
};
use secgroup_domain::rules::IpProtocol;

use crate::conntrack::Entry;
use crate::error::{Error, Result};

/// Requests per send: their acknowledgements (36 bytes each, more for an error) stay far
/// below the socket's default receive buffer, so none is dropped.
pub(crate) const CHUNK: usize = 256;

const NFNL_SUBSYS_CTNETLINK: u16 = 1;
const IPCTNL_MSG_CT_DELETE: u16 = 2;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLMSG_ERROR: u16 = 2;
const NLA_F_NESTED: u16 = 0x8000;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

// linux/netfilter/nfnetlink_conntrack.h
const CTA_TUPLE_ORIG: u16 = 1;
const CTA_TUPLE_IP: u16 = 1;
const CTA_TUPLE_PROTO: u16 = 2;
const CTA_IP_V4_SRC: u16 = 1;
const CTA_IP_V4_DST: u16 = 2;
const CTA_IP_V6_SRC: u16 = 3;
const CTA_IP_V6_DST: u16 = 4;
const CTA_PROTO_NUM: u16 = 1;
const CTA_PROTO_SRC_PORT: u16 = 2;
const CTA_PROTO_DST_PORT: u16 = 3;
const CTA_PROTO_ICMP_ID: u16 = 4;
const CTA_PROTO_ICMP_TYPE: u16 = 5;
const CTA_PROTO_ICMP_CODE: u16 = 6;
const CTA_PROTO_ICMPV6_ID: u16 = 7;
const CTA_PROTO_ICMPV6_TYPE: u16 = 8;
const CTA_PROTO_ICMPV6_CODE: u16 = 9;

/// One netlink attribute: its payload, or nested attributes.
fn attr(out: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let len = 4 + payload.len();
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(payload);
    out.resize(out.len().next_multiple_of(4), 0);
}

fn nested(out: &mut Vec<u8>, kind: u16, inner: impl FnOnce(&mut Vec<u8>)) {
    let mut payload = Vec::new();
    inner(&mut payload);
    attr(out, kind | NLA_F_NESTED, &payload);
}

/// The `IPCTNL_MSG_CT_DELETE` request for `entry`'s original tuple, with sequence `seq`.
pub(crate) fn delete_request(entry: &Entry, seq: u32) -> Vec<u8> {
    let f = &entry.flow;
    let v6 = f.source.is_ipv6();
    let mut body = vec![if v6 { AF_INET6 } else { AF_INET }, 0, 0, 0];
    nested(&mut body, CTA_TUPLE_ORIG, |t| {
        nested(t, CTA_TUPLE_IP, |ip| match (f.source, f.destination) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                attr(ip, CTA_IP_V4_SRC, &s.octets());
                attr(ip, CTA_IP_V4_DST, &d.octets());
            }
            (s, d) => {
                let six = |a: IpAddr| match a {
                    IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
                    IpAddr::V6(a) => a.octets(),
                };
                attr(ip, CTA_IP_V6_SRC, &six(s));
                attr(ip, CTA_IP_V6_DST, &six(d));
            }
        });
        nested(t, CTA_TUPLE_PROTO, |p| {
            let number: u8 = match (f.protocol, v6) {
                (IpProtocol::Tcp, _) => 6,
                (IpProtocol::Udp, _) => 17,
                (IpProtocol::Gre, _) => 47,
                (_, false) => 1,
                (_, true) => 58,
            };
            attr(p, CTA_PROTO_NUM, &[number]);
            if let Some((kind, code, id)) = entry.icmp {
                let (id_attr, type_attr, code_attr) = if v6 {
                    (
                        CTA_PROTO_ICMPV6_ID,
                        CTA_PROTO_ICMPV6_TYPE,
                        CTA_PROTO_ICMPV6_CODE,
                    )
                } else {
                    (CTA_PROTO_ICMP_ID, CTA_PROTO_ICMP_TYPE, CTA_PROTO_ICMP_CODE)
                };
                attr(p, id_attr, &id.to_be_bytes());
                attr(p, type_attr, &[kind]);
                attr(p, code_attr, &[code]);
            } else {
                // TCP and UDP ports; GRE keys travel in the same attributes.
                let (source, destination) = match (f.source_port, f.destination_port) {
                    (Some(s), Some(d)) => (s, d),
                    _ => entry.gre_keys.unwrap_or((0, 0)),
                };
                attr(p, CTA_PROTO_SRC_PORT, &source.to_be_bytes());
                attr(p, CTA_PROTO_DST_PORT, &destination.to_be_bytes());
            }
        });
    });
    let mut message = Vec::with_capacity(16 + body.len());
    message.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
    message.extend_from_slice(&((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE).to_ne_bytes());
    message.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    message.extend_from_slice(&seq.to_ne_bytes());
    message.extend_from_slice(&0u32.to_ne_bytes());
    message.extend_from_slice(&body);
    message
}

/// The acknowledgements in one receive: (sequence, errno) per `NLMSG_ERROR` message.
pub(crate) fn acks(buffer: &[u8]) -> Vec<(u32, i32)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 16 <= buffer.len() {
        let word = |i: usize| -> [u8; 4] {
            let mut w = [0; 4];
            w.copy_from_slice(&buffer[i..i + 4]);
            w
        };
        let len = u32::from_ne_bytes(word(at)) as usize;
        let kind = u16::from_ne_bytes([buffer[at + 4], buffer[at + 5]]);
        let seq = u32::from_ne_bytes(word(at + 8));
        if len < 16 || at + len > buffer.len() {
            break;
        }
        if kind == NLMSG_ERROR && len >= 20 {
            out.push((seq, i32::from_ne_bytes(word(at + 16))));
        }
        at += len.next_multiple_of(4);
    }
    out
}

fn netlink_error(netns: &str, detail: impl std::fmt::Display) -> Error {
    Error::Netns {
        namespace: netns.to_string(),
        detail: format!("ctnetlink: {detail}"),
    }
}

/// Deletes `entries` in the current thread's network namespace (the caller has entered
/// the router's); an entry already gone (it timed out, or its flow closed) is no failure.
/// The number deleted.
pub(crate) fn delete(netns: &str, entries: &[Entry]) -> Result<usize> {
    if entries.is_empty() {
        return Ok(0);
    }
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkNetFilter,
    )
    .map_err(|e| netlink_error(netns, e))?;
    bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0)).map_err(|e| netlink_error(netns, e))?;
    let kernel = NetlinkAddr::new(0, 0);
    let mut deleted = 0;
    let mut buffer = vec![0u8; 64 * 1024];
    for (n, chunk) in entries.chunks(CHUNK).enumerate() {
        let first = (n * CHUNK) as u32 + 1;
        let mut batch = Vec::new();
        for (i, entry) in chunk.iter().enumerate() {
            batch.extend(delete_request(entry, first + i as u32));
        }
        sendto(fd.as_raw_fd(), &batch, &kernel, MsgFlags::empty())
            .map_err(|e| netlink_error(netns, e))?;
        // The kernel handles the requests as they are sent: every acknowledgement is
        // queued by now, so waiting would only ever mean one was lost.
        let mut answered = 0;
        while answered < chunk.len() {
            let got = match recv(fd.as_raw_fd(), &mut buffer, MsgFlags::MSG_DONTWAIT) {
                Ok(got) => got,
                Err(Errno::EAGAIN) => {
                    return Err(netlink_error(
                        netns,
                        format!(
                            "{} of {} deletions unanswered",
                            chunk.len() - answered,
                            chunk.len()
                        ),
                    ))
                }
                Err(e) => return Err(netlink_error(netns, e)),
            };
            for (_, errno) in acks(&buffer[..got]) {
                answered += 1;
                match -errno {
                    0 => deleted += 1,
                    e if e == Errno::ENOENT as i32 => {}
                    e => return Err(netlink_error(netns, Errno::from_raw(e))),
                }
            }
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conntrack::parse;

    #[test]
    fn a_tcp_delete_request_carries_the_original_tuple() {
        let entries = parse("tcp      6 431999 ESTABLISHED src=10.0.0.5 dst=10.0.0.6 sport=40000 dport=22 src=10.0.0.6 dst=10.0.0.5 sport=22 dport=40000 [ASSURED] mark=0 use=1\n");
        let m = delete_request(&entries[0], 7);
        assert_eq!(
            u32::from_ne_bytes(m[0..4].try_into().expect("length")) as usize,
            m.len()
        );
        assert_eq!(u16::from_ne_bytes([m[4], m[5]]), 0x0102);
        assert_eq!(
            u32::from_ne_bytes(m[8..12].try_into().expect("sequence")),
            7
        );
        assert_eq!(m[16], AF_INET);
        let body = &m[20..];
        // ORIG { IP { SRC, DST }, PROTO { NUM, SPORT, DPORT } }
        let expected: Vec<u8> = [
            &[52u8, 0, 1, 0x80][..],
            &[20, 0, 1, 0x80],
            &[8, 0, 1, 0, 10, 0, 0, 5],
            &[8, 0, 2, 0, 10, 0, 0, 6],
            &[28, 0, 2, 0x80],
            &[5, 0, 1, 0, 6, 0, 0, 0],
            &[6, 0, 2, 0, 0x9c, 0x40, 0, 0],
            &[6, 0, 3, 0, 0, 22, 0, 0],
        ]
        .concat();
        if cfg!(target_endian = "little") {
            assert_eq!(body, expected.as_slice());
        }
    }

    #[test]
    fn acknowledgements_are_read_one_per_request() {
        let mut buffer = Vec::new();
        for (seq, errno) in [(1u32, 0i32), (2, -2)] {
            buffer.extend_from_slice(&36u32.to_ne_bytes());
            buffer.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
            buffer.extend_from_slice(&0u16.to_ne_bytes());
            buffer.extend_from_slice(&seq.to_ne_bytes());
            buffer.extend_from_slice(&0u32.to_ne_bytes());
            buffer.extend_from_slice(&errno.to_ne_bytes());
            buffer.extend_from_slice(&[0; 16]);
        }
        assert_eq!(acks(&buffer), vec![(1, 0), (2, -2)]);
    }
}

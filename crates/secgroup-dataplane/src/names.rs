//! Every name this crate gives to a namespace, an interface, a chain or a set, and the check
//! that a name is safe to hand to `ip` (whose batch mode splits lines on blanks and reads
//! quotes and `#`) or to `nft`.

use sha2::{Digest, Sha256};

/// The default prefix of the agent's own namespaces (routers, outside).
pub const DEFAULT_PREFIX: &str = "secgroup-";
/// The nftables table, `inet` family, in every router namespace.
pub const TABLE: &str = "secgroup";
/// The base chain (forward hook) of the table.
pub const BASE_CHAIN: &str = "forward";
/// Verdict maps: router-side interface of a NIC → its egress / ingress chain.
pub const EGRESS_MAP: &str = "egress";
pub const INGRESS_MAP: &str = "ingress";
/// The set of every NIC interface that has chains (the maps' keys): a NIC interface not in
/// it is closed, whichever way.
pub const NIC_SET: &str = "nics";
/// Router-side NIC interfaces are `nic` + 12 hex digits (15 bytes, the kernel's limit), so
/// that one wildcard (`nic*`) closes every NIC interface that has no chains yet.
pub const NIC_IFNAME_PREFIX: &str = "nic";
/// The router's end of its link to the outside namespace.
pub const UPLINK_IFNAME: &str = "to-outside";
/// The router's VXLAN device to the same VPC's routers on other hosts (several hosts only).
pub const OVERLAY_IFNAME: &str = "overlay";
/// The UDP port of the overlay (IANA's VXLAN port), on every host's underlay address.
pub const OVERLAY_PORT: u16 = 4789;
/// The overlay device's MTU: 1500 less VXLAN's 50 bytes over IPv4, so that an underlay
/// of 1500 carries it unfragmented (a larger packet from an instance gets the router's
/// "fragmentation needed" and its TCP adjusts).
pub const OVERLAY_MTU: u16 = 1450;
/// The instance's end of its primary interface's veth, inside its namespace (a secondary
/// interface is `eth{device index}`).
pub const INSTANCE_IFNAME: &str = "eth0";

/// The highest device index planned (`eth1023`): a secondary interface's routing table in
/// its instance's namespace is `100 + index`, and policy rules must stay below the main
/// table's (32766).
pub const MAX_DEVICE_INDEX: u32 = 1023;

/// 16 hex digits of SHA-256: stable across versions and machines (names and fingerprints
/// must not change when the agent is rebuilt, or adopt would recreate everything).
pub fn short_hash(text: &str, digits: usize) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut out = hex::encode(digest);
    out.truncate(digits);
    out
}

/// Router-side interface of an instance's primary veth: interface names are limited to 15
/// bytes and instance ids are 22, so the id is hashed (and kept in the interface's alias).
pub fn nic_ifname(instance_id: &str) -> String {
    format!("{NIC_IFNAME_PREFIX}{}", short_hash(instance_id, 12))
}

/// Router-side interface of a secondary interface's veth: the same scheme over the
/// interface's id (`eni-…`), which is unique across accounts as instance ids are, so names
/// stay unique and stable (and a primary veth's name never changes).
pub fn interface_ifname(interface_id: &str) -> String {
    nic_ifname(interface_id)
}

/// The outside namespace's end of the link to one VPC's router.
pub fn uplink_peer_ifname(vpc_id: &str) -> String {
    format!("up{}", short_hash(vpc_id, 12))
}

/// The MAC of a router's overlay device on the host with underlay address `underlay`:
/// locally administered, unicast, and distinct per host, so that a frame's destination
/// MAC names the host (the overlay's forwarding entries map it to that address).
pub fn overlay_mac(underlay: std::net::Ipv4Addr) -> String {
    let [a, b, c, d] = underlay.octets();
    format!("02:5e:{a:02x}:{b:02x}:{c:02x}:{d:02x}")
}

pub fn router_namespace(prefix: &str, vpc_id: &str) -> String {
    format!("{prefix}{vpc_id}")
}

pub fn outside_namespace(prefix: &str) -> String {
    format!("{prefix}outside")
}

/// The chains of one set of groups: NICs with the same groups share them, so the ruleset
/// grows with rules + members, not with rules × NICs.
pub fn chain_names(sorted_group_ids: &[String]) -> (String, String) {
    let key = short_hash(&sorted_group_ids.join("\n"), 16);
    (format!("out-{key}"), format!("in-{key}"))
}

/// Members of a group (IPv4 addresses of its NICs in this VPC).
pub fn group_set(group_id: &str) -> String {
    readable_or_hashed("g-", group_id)
}

/// Entries of a prefix list, by family.
pub fn prefix_list_set(list_id: &str, v6: bool) -> String {
    readable_or_hashed(if v6 { "p6-" } else { "p4-" }, list_id)
}

/// The id itself when it is a plain identifier, else a hash of it: the name stays readable
/// for every id the API generates without ever carrying an unexpected character.
fn readable_or_hashed(prefix: &str, id: &str) -> String {
    if is_plain(id) && id.len() <= 64 {
        format!("{prefix}{id}")
    } else {
        format!("{prefix}h{}", short_hash(id, 16))
    }
}

fn is_plain(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// A namespace name (an instance id, or prefix + VPC id) that `ip netns` takes as a file
/// name under /run/netns and as one batch argument: letters, digits, `-`, `_`, `.`, not
/// starting with `-` or `.`, at most 64 bytes.
pub fn is_safe_namespace(name: &str) -> bool {
    is_plain(name)
        && name.len() <= 64
        && !name.starts_with('-')
        && !name.starts_with('.')
        && name != "."
        && name != ".."
}

/// `Ok` when `token` can be one argument of an `ip -batch` line.
pub(crate) fn check_token(token: &str) -> crate::Result<()> {
    let ok = !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\' | b'#'));
    if ok {
        Ok(())
    } else {
        Err(crate::Error::UnsafeName(token.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_fit_the_kernel_limit() {
        let name = nic_ifname("i-6i42vnf114yjrlp0mr7f");
        assert_eq!(name.len(), 15);
        assert!(name.starts_with("nic"));
        assert_eq!(uplink_peer_ifname("vpc-123456789012345678901").len(), 14);
        assert_ne!(nic_ifname("i-a"), nic_ifname("i-b"));
    }

    #[test]
    fn odd_ids_are_hashed_into_names() {
        assert_eq!(group_set("sg-abc"), "g-sg-abc");
        assert!(group_set("sg abc; drop").starts_with("g-h"));
        assert!(is_safe_namespace("i-6i42vnf114yjrlp0mr7f"));
        assert!(!is_safe_namespace("-n"));
        assert!(!is_safe_namespace("a b"));
        assert!(!is_safe_namespace("../etc"));
        assert!(check_token("10.0.0.5/24").is_ok());
        assert!(check_token("a#b").is_err());
        assert!(check_token("").is_err());
    }
}

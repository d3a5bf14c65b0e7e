//! IPv4 block arithmetic and the CIDR rules of VPCs and vSwitches (docs/vpc.md §2).

use std::ops::RangeInclusive;

use ipnet::{IpNet, Ipv4Net};

use crate::error::DomainError;

/// The block of a VPC created without `CidrBlock` (2020 docs; UNCONFIRMED for today).
pub const DEFAULT_VPC_CIDR: &str = "172.16.0.0/12";
/// Masks a VPC block may have (the SDK says 16–28, older docs 8–24; docs/vpc.md §2.1).
pub const VPC_MASKS: RangeInclusive<u8> = 8..=28;
/// Masks a vSwitch block may have.
pub const VSWITCH_MASKS: RangeInclusive<u8> = 16..=29;
/// User CIDRs per VPC.
pub const MAX_USER_CIDRS: usize = 3;
/// Addresses of every vSwitch block that instances never get: the first and the last three.
pub const RESERVED_PER_VSWITCH: u64 = 4;

/// Blocks no VPC may touch: shared address space, loopback, link-local, multicast.
const RESERVED: [Ipv4Net; 4] = [
    net(100, 64, 10),
    net(127, 0, 8),
    net(169, 254, 16),
    net(224, 0, 4),
];

const fn net(a: u8, b: u8, prefix: u8) -> Ipv4Net {
    Ipv4Net::new_assert(std::net::Ipv4Addr::new(a, b, 0, 0), prefix)
}

/// `a.b.c.d/n` exactly: a prefix length is required and host bits must be zero.
pub fn parse(text: &str) -> Result<Ipv4Net, DomainError> {
    parse_strict(text).ok_or(DomainError::CidrBlockMalformed)
}

fn parse_strict(text: &str) -> Option<Ipv4Net> {
    if !text.contains('/') {
        return None;
    }
    let IpNet::V4(net) = crate::rules::strict_net(text)? else {
        return None;
    };
    (net.trunc() == net).then_some(net)
}

/// Whether two blocks share an address.
pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// A VPC's primary block: well formed, /8–/28, clear of the reserved ranges.
pub fn vpc_block(text: &str) -> Result<Ipv4Net, DomainError> {
    let net = parse(text)?;
    if !VPC_MASKS.contains(&net.prefix_len()) || RESERVED.iter().any(|r| overlaps(r, &net)) {
        return Err(DomainError::VpcCidrInvalid);
    }
    Ok(net)
}

/// `UserCidr`: comma-separated, at most three, each well formed and clear of 100.64.0.0/10.
pub fn user_cidrs(text: &str) -> Result<Vec<String>, DomainError> {
    let parts: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() > MAX_USER_CIDRS {
        return Err(DomainError::UserCidrQuotaExceeded);
    }
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        let net = parse_strict(part).ok_or(DomainError::UserCidrMalformed)?;
        if !VPC_MASKS.contains(&net.prefix_len()) {
            return Err(DomainError::UserCidrMaskInvalid);
        }
        if overlaps(&net, &RESERVED[0]) {
            return Err(DomainError::UserCidrReserved);
        }
        out.push(net.to_string());
    }
    Ok(out)
}

/// Addresses an instance can take in a block: all but the first and the last three.
pub fn usable_addresses(net: &Ipv4Net) -> u64 {
    (1u64 << (32 - u32::from(net.prefix_len()))).saturating_sub(RESERVED_PER_VSWITCH)
}

/// The lowest block of length `prefix` inside `within` (aligned on its own size) that
/// overlaps none of `taken`.
pub fn lowest_free(within: &Ipv4Net, prefix: u8, taken: &[Ipv4Net]) -> Option<Ipv4Net> {
    if prefix < within.prefix_len() || prefix > 32 {
        return None;
    }
    let size = 1u64 << (32 - u32::from(prefix));
    let end = u64::from(u32::from(within.broadcast()));
    let mut candidate = u64::from(u32::from(within.network()));
    while candidate + size - 1 <= end {
        let last = candidate + size - 1;
        let blocking = taken
            .iter()
            .map(|t| {
                (
                    u64::from(u32::from(t.network())),
                    u64::from(u32::from(t.broadcast())),
                )
            })
            .filter(|(start, stop)| *start <= last && *stop >= candidate)
            .map(|(_, stop)| stop)
            .max();
        match blocking {
            None => {
                let addr = std::net::Ipv4Addr::from(u32::try_from(candidate).ok()?);
                return Ipv4Net::new(addr, prefix).ok();
            }
            // The next aligned block past the blocking one.
            Some(stop) => candidate = (stop + 1).div_ceil(size) * size,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Ipv4Net {
        s.parse().expect("block")
    }

    #[test]
    fn parsing_is_strict() {
        assert_eq!(parse("10.0.0.0/8"), Ok(n("10.0.0.0/8")));
        for bad in [
            "10.0.0.1/8",
            "10.0.0.0",
            "10.0.0.0/33",
            "x",
            "",
            " 10.0.0.0/8",
            "::/0",
        ] {
            assert_eq!(parse(bad), Err(DomainError::CidrBlockMalformed), "{bad}");
        }
    }

    #[test]
    fn vpc_blocks() {
        for ok in [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/28",
            "47.0.0.0/16",
        ] {
            assert!(vpc_block(ok).is_ok(), "{ok}");
        }
        for bad in [
            "10.0.0.0/7",
            "10.0.0.0/29",
            "100.64.0.0/16",
            "100.0.0.0/8",
            "127.0.0.0/8",
            "169.254.1.0/24",
            "224.0.0.0/8",
        ] {
            assert_eq!(vpc_block(bad), Err(DomainError::VpcCidrInvalid), "{bad}");
        }
    }

    #[test]
    fn user_cidr_rules() {
        assert_eq!(
            user_cidrs("10.0.0.0/16, 192.168.0.0/16"),
            Ok(vec!["10.0.0.0/16".into(), "192.168.0.0/16".into()])
        );
        assert_eq!(
            user_cidrs("10.0.0.0/16,10.1.0.0/16,10.2.0.0/16,10.3.0.0/16"),
            Err(DomainError::UserCidrQuotaExceeded)
        );
        assert_eq!(user_cidrs("10.0.0/16"), Err(DomainError::UserCidrMalformed));
        assert_eq!(
            user_cidrs("10.0.0.0/30"),
            Err(DomainError::UserCidrMaskInvalid)
        );
        assert_eq!(
            user_cidrs("100.64.0.0/16"),
            Err(DomainError::UserCidrReserved)
        );
    }

    #[test]
    fn usable() {
        assert_eq!(usable_addresses(&n("192.168.1.0/24")), 252);
        assert_eq!(usable_addresses(&n("10.0.0.0/29")), 4);
    }

    #[test]
    fn allocation_takes_the_lowest_free_aligned_block() {
        let vpc = n("10.0.0.0/16");
        assert_eq!(lowest_free(&vpc, 24, &[]), Some(n("10.0.0.0/24")));
        let taken = [n("10.0.0.0/26"), n("10.0.1.0/24")];
        assert_eq!(lowest_free(&vpc, 24, &taken), Some(n("10.0.2.0/24")));
        assert_eq!(lowest_free(&vpc, 26, &taken), Some(n("10.0.0.64/26")));
        assert_eq!(lowest_free(&vpc, 15, &[]), None);
        assert_eq!(lowest_free(&vpc, 16, &taken), None);
        let full = [n("10.0.0.0/17"), n("10.0.128.0/17")];
        assert_eq!(lowest_free(&vpc, 29, &full), None);
        let edge = n("10.255.255.248/29");
        assert_eq!(lowest_free(&edge, 29, &[]), Some(edge));
    }
}

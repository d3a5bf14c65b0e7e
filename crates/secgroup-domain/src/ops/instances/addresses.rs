//! Private IPv4 addresses of a vSwitch (docs/ecs.md §7.2): the first address of the block
//! and the last three are reserved; a requested address must be usable and free, otherwise
//! the lowest free ones are handed out.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::error::DomainError;
use crate::store::StoreError;

/// A stored vSwitch block.
pub fn block(cidr: &str) -> Result<Ipv4Net, DomainError> {
    cidr.parse::<Ipv4Net>().map_err(|_| {
        StoreError::Other(format!("unreadable vSwitch block in database: {cidr:?}")).into()
    })
}

/// The first and last usable address (inclusive), `None` when the block has none.
pub fn usable_range(block: &Ipv4Net) -> Option<(u32, u32)> {
    let first = u32::from(block.network()).checked_add(1)?;
    let last = u32::from(block.broadcast()).checked_sub(3)?;
    (first <= last).then_some((first, last))
}

/// A requested address, as the client wrote it.
pub fn parse(ip: &str) -> Result<Ipv4Addr, DomainError> {
    ip.parse::<Ipv4Addr>()
        .map_err(|_| DomainError::PrivateIpMalformed)
}

/// The addresses in use, as numbers (unreadable entries cannot be in any block: skipped).
pub fn used_set(used: &[String]) -> HashSet<u32> {
    used.iter()
        .filter_map(|ip| ip.parse::<Ipv4Addr>().ok())
        .map(u32::from)
        .collect()
}

/// `count` consecutive addresses from `start`: every one usable and free.
pub fn consecutive(
    block: &Ipv4Net,
    used: &HashSet<u32>,
    start: Ipv4Addr,
    count: usize,
) -> Result<Vec<Ipv4Addr>, DomainError> {
    let (first, last) = usable_range(block).ok_or(DomainError::PrivateIpNotInVSwitch)?;
    let mut out = Vec::with_capacity(count);
    let mut n = u32::from(start);
    for _ in 0..count {
        if !(first..=last).contains(&n) {
            return Err(DomainError::PrivateIpNotInVSwitch);
        }
        if used.contains(&n) {
            return Err(DomainError::PrivateIpInUse(Ipv4Addr::from(n).to_string()));
        }
        out.push(Ipv4Addr::from(n));
        n = n.checked_add(1).ok_or(DomainError::PrivateIpNotInVSwitch)?;
    }
    Ok(out)
}

/// The lowest `count` free usable addresses; fewer when the block runs out.
pub fn lowest_free(block: &Ipv4Net, used: &HashSet<u32>, count: usize) -> Vec<Ipv4Addr> {
    let Some((first, last)) = usable_range(block) else {
        return Vec::new();
    };
    (first..=last)
        .filter(|n| !used.contains(n))
        .take(count)
        .map(Ipv4Addr::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().expect("net")
    }

    fn ips(v: &[Ipv4Addr]) -> Vec<String> {
        v.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn reserved_addresses_are_never_handed_out() {
        let b = net("10.0.0.0/29");
        assert_eq!(usable_range(&b), Some((0x0a00_0001, 0x0a00_0004)));
        let all = lowest_free(&b, &HashSet::new(), 100);
        assert_eq!(ips(&all), ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]);
        for reserved in ["10.0.0.0", "10.0.0.5", "10.0.0.6", "10.0.0.7", "10.0.1.1"] {
            assert_eq!(
                consecutive(&b, &HashSet::new(), parse(reserved).expect("ip"), 1),
                Err(DomainError::PrivateIpNotInVSwitch),
                "{reserved}"
            );
        }
        assert_eq!(usable_range(&net("10.0.0.0/30")), None);
    }

    #[test]
    fn lowest_free_skips_used_ones() {
        let b = net("192.168.1.0/24");
        let used = used_set(&["192.168.1.1".into(), "192.168.1.3".into(), "junk".into()]);
        assert_eq!(
            ips(&lowest_free(&b, &used, 3)),
            ["192.168.1.2", "192.168.1.4", "192.168.1.5"]
        );
    }

    #[test]
    fn consecutive_runs_must_be_usable_and_free() {
        let b = net("10.1.0.0/28");
        let used = used_set(&["10.1.0.7".into()]);
        let start = parse("10.1.0.4").expect("ip");
        assert_eq!(
            ips(&consecutive(&b, &used, start, 3).expect("run")),
            ["10.1.0.4", "10.1.0.5", "10.1.0.6"]
        );
        assert_eq!(
            consecutive(&b, &used, start, 4),
            Err(DomainError::PrivateIpInUse("10.1.0.7".into()))
        );
        // .12 is the last usable address of a /28; .13 is reserved.
        let near_end = parse("10.1.0.12").expect("ip");
        assert!(consecutive(&b, &used, near_end, 1).is_ok());
        assert_eq!(
            consecutive(&b, &used, near_end, 2),
            Err(DomainError::PrivateIpNotInVSwitch)
        );
        assert_eq!(parse("10.1.0"), Err(DomainError::PrivateIpMalformed));
    }
}

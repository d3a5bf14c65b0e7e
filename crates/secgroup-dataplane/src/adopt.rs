//! Reading back what is on the machine (an earlier agent's namespaces, links, routes and
//! tables), into the same summary an apply keeps, so that the next apply diffs against
//! reality. Only here is the kernel's state read; applies never re-read after a write.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use serde_json::Value;

use crate::dataplane::{Applied, AppliedRouter};
use crate::error::Result;
use crate::exec::{list_netns, netns_exists, Tools};
use crate::model::{IpFamily, NicSpec, OverlaySpec, SetElement};
use crate::names::{self, NIC_IFNAME_PREFIX, OVERLAY_IFNAME, UPLINK_IFNAME};
use crate::render::{fingerprint_in, AppliedMap, AppliedSet, AppliedTable};

/// Everything with our prefix.
pub(crate) fn read_all(tools: &Tools, prefix: &str) -> Result<Applied> {
    let outside_name = names::outside_namespace(prefix);
    let mut applied = Applied::default();
    for name in list_netns() {
        if name == outside_name {
            applied.outside = Some(read_outside_routes(tools, &name)?);
        } else if name.starts_with(prefix) && names::is_safe_namespace(&name) {
            applied
                .routers
                .insert(name.clone(), read_router(tools, &name)?);
        }
    }
    // Routes are kept by router; an outside route through an unknown link is kept under an
    // empty router name, so that the next apply replaces or deletes it.
    Ok(applied)
}

/// The outside namespace's /32 routes, by the router whose uplink they leave through.
pub(crate) fn read_outside_routes(tools: &Tools, name: &str) -> Result<BTreeMap<Ipv4Addr, String>> {
    let prefix = name.strip_suffix("outside").unwrap_or_default();
    let routes = tools.ip_json(Some(name), &["route", "show"])?;
    let mut uplinks: BTreeMap<String, String> = BTreeMap::new();
    for ns in list_netns() {
        if let Some(vpc) = ns.strip_prefix(prefix) {
            if ns != name {
                uplinks.insert(names::uplink_peer_ifname(vpc), ns.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    for route in routes.as_array().into_iter().flatten() {
        let (Some(dst), Some(dev)) = (str_field(route, "dst"), str_field(route, "dev")) else {
            continue;
        };
        let Ok(address) = dst.trim_end_matches("/32").parse::<Ipv4Addr>() else {
            continue;
        };
        let router = uplinks.get(dev).cloned().unwrap_or_default();
        out.insert(address, router);
    }
    Ok(out)
}

/// One router: its uplink, gateways, NIC veths (each completed from its instance's
/// namespace) and its table.
pub(crate) fn read_router(tools: &Tools, name: &str) -> Result<AppliedRouter> {
    let links = tools.ip_json(Some(name), &["link", "show"])?;
    let mut router = AppliedRouter::default();
    for link in links.as_array().into_iter().flatten() {
        let Some(ifname) = str_field(link, "ifname") else {
            continue;
        };
        if ifname == UPLINK_IFNAME {
            router.uplink = true;
            continue;
        }
        if ifname == OVERLAY_IFNAME {
            router.overlay = read_overlay(tools, name)?;
            continue;
        }
        if !ifname.starts_with(NIC_IFNAME_PREFIX) {
            continue;
        }
        // The alias is the instance id (a primary interface) or `instance/ethN/interface`
        // (a secondary one, see `NicSpec::alias`).
        let alias = str_field(link, "ifalias").unwrap_or_default();
        let mut parts = alias.split('/');
        let owner = parts.next().unwrap_or_default();
        let secondary = match (parts.next(), parts.next(), parts.next()) {
            (None, _, _) => Some((0, String::new())),
            (Some(device), Some(id), None) => device
                .strip_prefix("eth")
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| *n > 0 && *n <= names::MAX_DEVICE_INDEX)
                .filter(|_| names::is_safe_namespace(id))
                .map(|n| (n, id.to_string())),
            _ => None,
        };
        let nic = match secondary {
            Some((device_index, interface_id))
                if names::is_safe_namespace(owner) && netns_exists(owner) =>
            {
                read_instance(tools, owner, ifname, device_index, interface_id)
            }
            _ => None,
        };
        // An interface whose instance cannot be read is kept under a key no instance has,
        // with no namespace: the next apply deletes it and makes a fresh one.
        let nic = nic.unwrap_or_else(|| NicSpec {
            instance_id: format!("?{ifname}"),
            interface_id: String::new(),
            device_index: 0,
            namespace: if names::is_safe_namespace(owner) {
                owner.to_string()
            } else {
                String::new()
            },
            ifname: ifname.to_string(),
            mac: String::new(),
            address: Ipv4Addr::UNSPECIFIED,
            secondary: Vec::new(),
            prefix_len: 0,
            gateway: Ipv4Addr::UNSPECIFIED,
        });
        router.nics.insert(nic.key().to_string(), nic);
    }
    let lo = tools.ip_json(Some(name), &["addr", "show", "dev", "lo"])?;
    for link in lo.as_array().into_iter().flatten() {
        for info in link
            .get("addr_info")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(Ok(a)) = str_field(info, "local").map(str::parse::<Ipv4Addr>) {
                if !a.is_loopback() {
                    router.gateways.insert(a);
                }
            }
        }
    }
    router.table = tools
        .nft_list_table(name)?
        .map(|listing| parse_table(&listing));
    Ok(router)
}

/// The instance end: `ethN`'s MAC and addresses (the first is the interface's primary
/// address), and the gateway of its default route (the main table's for eth0, its own
/// table's for a secondary interface).
fn read_instance(
    tools: &Tools,
    namespace: &str,
    ifname: &str,
    device_index: u32,
    interface_id: String,
) -> Option<NicSpec> {
    let device = format!("eth{device_index}");
    let addrs = tools
        .ip_json(Some(namespace), &["addr", "show", "dev", &device])
        .ok()?;
    let link = addrs.as_array()?.first()?;
    let mac = str_field(link, "address")?.to_string();
    let found: Vec<(Ipv4Addr, u8)> = link
        .get("addr_info")?
        .as_array()?
        .iter()
        .filter(|i| str_field(i, "family") == Some("inet"))
        .filter_map(|i| {
            let a: Ipv4Addr = str_field(i, "local")?.parse().ok()?;
            let len = u8::try_from(i.get("prefixlen")?.as_u64()?).ok()?;
            Some((a, len))
        })
        .collect();
    let (&(address, prefix_len), rest) = found.split_first()?;
    let mut secondary: Vec<Ipv4Addr> = rest.iter().map(|(a, _)| *a).collect();
    secondary.sort_unstable();
    let table = (100 + device_index).to_string();
    let mut route_args = vec!["route", "show", "default"];
    if device_index > 0 {
        route_args.extend(["table", table.as_str()]);
    }
    let routes = tools.ip_json(Some(namespace), &route_args).ok()?;
    let gateway: Ipv4Addr = routes
        .as_array()?
        .iter()
        .find_map(|r| str_field(r, "gateway")?.parse().ok())?;
    Some(NicSpec {
        instance_id: namespace.to_string(),
        interface_id,
        device_index,
        namespace: namespace.to_string(),
        ifname: ifname.to_string(),
        mac,
        address,
        secondary,
        prefix_len,
        gateway,
    })
}

/// A router's overlay device: its VNI and local end, and its /32 routes to other hosts
/// (`None` when the device is not a VXLAN one we could have made: it is made again). Each
/// route's host gets its neighbour and forwarding entries again at the next change, so
/// they are not read.
pub(crate) fn read_overlay(tools: &Tools, router: &str) -> Result<Option<OverlaySpec>> {
    let links = tools.ip_json(Some(router), &["-d", "link", "show", "dev", OVERLAY_IFNAME])?;
    let Some(data) = links
        .as_array()
        .and_then(|l| l.first())
        .and_then(|l| l.get("linkinfo"))
        .filter(|i| str_field(i, "info_kind") == Some("vxlan"))
        .and_then(|i| i.get("info_data"))
    else {
        return Ok(None);
    };
    let vni = data
        .get("id")
        .and_then(Value::as_u64)
        .and_then(|v| u32::try_from(v).ok());
    let local = str_field(data, "local").and_then(|a| a.parse::<Ipv4Addr>().ok());
    let (Some(vni), Some(local)) = (vni, local) else {
        return Ok(None);
    };
    let routes = tools.ip_json(Some(router), &["route", "show", "dev", OVERLAY_IFNAME])?;
    let routes = routes
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let dst = str_field(r, "dst")?.trim_end_matches("/32").parse().ok()?;
            let via = str_field(r, "gateway")?.parse().ok()?;
            Some((dst, via))
        })
        .collect();
    Ok(Some(OverlaySpec { vni, local, routes }))
}

fn str_field<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// `nft -j list table` into the summary: sets with their elements (or `None` when one
/// cannot be read: refilled), maps, and each chain's fingerprint from its last rule.
pub(crate) fn parse_table(listing: &Value) -> AppliedTable {
    let mut table = AppliedTable::default();
    let mut last_comment: BTreeMap<String, String> = BTreeMap::new();
    let objects = listing
        .get("nftables")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for object in &objects {
        if let Some(set) = object.get("set") {
            let Some(name) = str_field(set, "name") else {
                continue;
            };
            if name == names::NIC_SET {
                table.nics = match set.get("elem").and_then(Value::as_array) {
                    None => Some(BTreeSet::new()),
                    Some(items) => items
                        .iter()
                        .map(|i| i.as_str().map(str::to_string))
                        .collect(),
                };
                continue;
            }
            let family = match str_field(set, "type") {
                Some("ipv6_addr") => IpFamily::V6,
                _ => IpFamily::V4,
            };
            let interval = set
                .get("flags")
                .and_then(Value::as_array)
                .is_some_and(|f| f.iter().any(|x| x.as_str() == Some("interval")));
            let elements = match set.get("elem").and_then(Value::as_array) {
                None => Some(BTreeSet::new()),
                Some(items) => items.iter().map(parse_element).collect(),
            };
            table.sets.insert(
                name.to_string(),
                AppliedSet {
                    family,
                    interval,
                    elements,
                },
            );
        } else if let Some(map) = object.get("map") {
            let target = match str_field(map, "name") {
                Some(n) if n == names::EGRESS_MAP => &mut table.egress,
                Some(n) if n == names::INGRESS_MAP => &mut table.ingress,
                Some(n) => {
                    // A rule run's map: its elements are not read back (they are refilled
                    // whole on the next apply), only what its declaration needs.
                    let types: Vec<&str> = map
                        .get("type")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect();
                    table.maps.insert(
                        n.to_string(),
                        AppliedMap {
                            family: if types.first() == Some(&"ipv6_addr") {
                                IpFamily::V6
                            } else {
                                IpFamily::V4
                            },
                            ported: types.len() == 4,
                            elements: None,
                        },
                    );
                    continue;
                }
                None => continue,
            };
            for pair in map
                .get("elem")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let key = pair.get(0).and_then(Value::as_str);
                let chain = pair
                    .get(1)
                    .and_then(|v| v.get("jump"))
                    .and_then(|j| str_field(j, "target"));
                if let (Some(key), Some(chain)) = (key, chain) {
                    target.insert(key.to_string(), chain.to_string());
                }
            }
        } else if let Some(chain) = object.get("chain") {
            if let Some(name) = str_field(chain, "name") {
                last_comment.entry(name.to_string()).or_default();
            }
        } else if let Some(rule) = object.get("rule") {
            if let Some(chain) = str_field(rule, "chain") {
                let comment = str_field(rule, "comment").unwrap_or_default();
                last_comment.insert(chain.to_string(), comment.to_string());
            }
        }
    }
    for (chain, comment) in last_comment {
        let fingerprint = fingerprint_in(&comment).unwrap_or_default().to_string();
        if chain == names::BASE_CHAIN {
            table.base = fingerprint;
        } else {
            table.chains.insert(chain, fingerprint);
        }
    }
    table
}

fn parse_element(value: &Value) -> Option<SetElement> {
    if let Some(text) = value.as_str() {
        return text.parse().ok().map(SetElement::Address);
    }
    if let Some(inner) = value.get("elem").and_then(|e| e.get("val")) {
        return parse_element(inner);
    }
    if let Some(prefix) = value.get("prefix") {
        let addr: IpAddr = str_field(prefix, "addr")?.parse().ok()?;
        let len = u8::try_from(prefix.get("len")?.as_u64()?).ok()?;
        let net = ipnet::IpNet::new(addr, len).ok()?.trunc();
        return Some(element_of(net.network(), net.broadcast()));
    }
    if let Some(range) = value.get("range").and_then(Value::as_array) {
        let a: IpAddr = range.first()?.as_str()?.parse().ok()?;
        let b: IpAddr = range.get(1)?.as_str()?.parse().ok()?;
        return Some(element_of(a, b));
    }
    None
}

fn element_of(a: IpAddr, b: IpAddr) -> SetElement {
    if a == b {
        SetElement::Address(a)
    } else {
        SetElement::Range(a, b)
    }
}

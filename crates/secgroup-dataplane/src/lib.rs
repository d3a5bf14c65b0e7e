//! The data plane: every Running instance becomes a network namespace, and its security
//! groups drop real packets, exactly as docs/semantics.md says.
//!
//! # Use
//! ```no_run
//! # use secgroup_dataplane::*;
//! # fn networks() -> Vec<AccountNetwork> { Vec::new() }
//! let mut dataplane = Dataplane::new(DataplaneOptions::default()); // or Dataplane::adopt(..)?
//! let desired = Topology::from(&networks()).desired_state();   // pure
//! let report = dataplane.apply(&desired)?;                      // changes only what differs
//! dataplane.cleanup()?;                                         // removes everything
//! # Ok::<(), Error>(())
//! ```
//! An agent polls the database, builds one [`AccountNetwork`] per account and region (the
//! domain's `NetworkState`, with statuses settled, and the region's vSwitches), plans, and
//! applies; a failed apply ([`Error`]; [`Error::Partial`] names each router that failed)
//! keeps that router's last good state and is retried. [`DesiredState::issues`] lists the
//! Running instances that could not be planned, [`Dataplane::instances`] what is in place.
//! Applies are serialized (`&mut self`); at start, [`Dataplane::adopt`] takes over what an
//! earlier agent left, [`Dataplane::new`] starts from nothing known (and still reads back any
//! namespace of ours it meets before changing it).
//!
//! # Design
//! **Namespaces.** Each Running instance has a namespace named by its id, holding `lo` and
//! one `ethN` per attached interface (N its device index; `eth0` the primary one; a state
//! without an interface list plans each instance as its primary interface alone): its MAC,
//! its primary and secondary addresses with its vSwitch's prefix length, a permanent
//! neighbour for its own vSwitch's `.253`. `eth0` has the main table's default route. A
//! secondary interface's addresses carry no prefix route in the main table; its table
//! `100+N` has its subnet and a default route through its gateway, and a policy rule per
//! address (`from ADDR lookup 100+N`) sends what is sourced from it out of it (an unbound
//! socket still leaves by eth0). Each VPC has a router namespace, `secgroup-<vpc id>`: one routing
//! domain per VPC, so VPCs with the same block never meet. A router namespace rather than a
//! VRF in one namespace because conntrack is per namespace: two VPCs with the same
//! addresses would otherwise share (and confuse) connection-tracking entries unless every
//! VRF also got its own conntrack zone; and a namespace is a boundary nothing can route
//! across by mistake. `secgroup-outside` holds [`OUTSIDE_ADDRESS`] (100.64.0.1: VPC blocks
//! and user CIDRs must stay out of 100.64.0.0/10, so no instance can have it) and links to
//! every router; it does not forward, so it is no path between VPCs.
//!
//! **Links.** One veth per attached interface: `ethN` in the instance, `nic<hash>` in its
//! router, hashed from the instance id for the primary interface (the name it had when
//! instances had one NIC, so an upgraded agent keeps every namespace) and from the
//! interface id for a secondary one (the 22-byte ids do not fit the 15-byte interface name
//! limit; the alias keeps the owner: `i-…`, or `i-…/ethN/eni-…`). Both ends
//! are created directly in their namespaces (`ip -n ROUTER link add … peer … netns I`), so
//! the machine's own namespace never holds one. The router has a /32 route and a permanent
//! neighbour entry per address of each interface, towards that interface's veth, the
//! gateways on its loopback, and proxy ARP with
//! `proxy_delay 0` on every NIC interface (same-subnet peers are reached through the
//! router, and the first packet must not wait the default 0.8 s). Instances have a
//! permanent neighbour entry for their gateway (every router-side MAC is
//! [`ROUTER_MAC`]). Uplinks use `onlink` next hops with permanent neighbours: no ARP at all.
//! The only sysctls written are `ip_forward`, `proxy_arp` and `rp_filter` (strict: an
//! interface cannot send with another's address, its own instance's other interfaces'
//! included, and pass for it in a member set), in router namespaces.
//!
//! **Rules.** Enforcement is in the router (an instance cannot change it), in the `inet`
//! table `secgroup`, forward hook: replies of allowed flows pass first
//! (`ct state established,related accept`); then the source NIC's egress chain and the
//! destination NIC's ingress chain, each reached through a verdict map keyed by interface
//! (`iifname vmap @egress`, `oifname vmap @ingress`); every attached interface is a NIC
//! with its own groups (docs/semantics.md). In a direction chain an accept is a
//! `return` (on to the next check) and a drop is final, so an egress accept never skips the
//! destination's ingress. Chains are per distinct set of groups, shared by every NIC with
//! those groups (the quintuple's own-address side is a packet match, `ip daddr` on ingress,
//! `ip saddr` on egress, so chains do not depend on the NIC, nor on how many addresses it
//! has: rp_filter and the routes say which veth an address is on); group members (every
//! address of every member interface) and prefix-list entries are named sets: the ruleset grows with rules + members, never their product.
//! Runs of plain CIDR rules (peer block, protocol, ports; no set, no local CIDR) are one
//! lookup each in an interval verdict map of disjoint boxes keyed on `ip saddr . meta
//! l4proto . th dport . th sport` (`daddr` on egress, `ip6` for IPv6; no ports for the
//! parts of other protocols), each box with the verdict of the first rule covering it, so
//! a new flow's cost hardly grows with the rules (module `layout`).
//! Inner access (a shared normal group with `Accept`) is a final accept at the top of both
//! chains. From outside only the destination's ingress applies, to outside only the source's
//! egress (the uplink is in neither map). A NIC interface (`nic*`) not in the set `nics`
//! (the maps' keys) is dropped either way, so a veth never forwards before its chains exist.
//! The base chain also drops `ct state invalid` and a TCP packet that is not a SYN yet
//! belongs to no tracked connection: once a revoke deletes a connection's entry, its next
//! segment is not picked up as a new flow (in either direction).
//!
//! **Updates.** One `nft -j -f -` transaction per router per apply, built as typed data:
//! only changed chains are flushed and refilled (in the same transaction), membership moves
//! by set-element add/delete, dispatch by map-element add/delete; each chain's fingerprint
//! rides in its last rule's comment, so that [`Dataplane::adopt`] knows what it holds
//! without reading rules back. After an apply, the tracked connections of affected NICs
//! that the engine (`secgroup_reach`) now denies are deleted, so a revoke cuts established
//! TCP, UDP, ICMP and GRE flows (the engine is shown every address of every interface as a
//! NIC of its own with its interface's groups). A changed interface is made again alone;
//! one whose secondary addresses alone changed is changed in place (routes, neighbours,
//! addresses and policy rules), and its flows live on.
//!
//! **Limits.** An address that two VPCs' Running instances both hold is not routed from the
//! outside namespace (it could only reach one of them), so it is neither reachable from
//! outside nor able to reach it. IPv6 rules are rendered (for IPv6 traffic) but instances
//! have IPv4 only.
//!
//! **Several hosts.** Planned for a host ([`PlanOptions::host`]), only the instances placed
//! on it get namespaces, veths and dispatch; the others of their VPCs (placed on a host with
//! a known underlay address) are members of the group sets and get a /32 route through the
//! router's VXLAN device ([`OverlaySpec`]: one VNI per VPC, its socket in the agent's own
//! namespace on the underlay address, static forwarding and neighbour entries per remote
//! host, MACs derived from the underlay address). Chains are keyed on local interfaces, so
//! a flow between hosts is checked at the source's host (egress) and at the destination's
//! (ingress), and a remote source is in neither map. A VPC with no instance here has no
//! router here.
#![forbid(unsafe_code)]

mod adopt;
mod conntrack;
mod ctnetlink;
mod dataplane;
mod error;
pub mod exec;
mod judge;
mod layout;
pub mod model;
pub mod names;
mod render;
#[cfg(feature = "testkit")]
pub mod testkit;
mod topology;

pub use dataplane::{
    ApplyReport, Dataplane, DataplaneOptions, DataplaneStats, RulesetSize, OUTSIDE_MAC,
    OUTSIDE_NEXT_HOP, ROUTER_MAC, ROUTER_NEXT_HOP,
};
pub use error::{Error, NamespaceError, Result};
pub use exec::{in_netns, Tools};
pub use judge::TrackedFlow;
pub use layout::LayoutCache;
pub use model::{DesiredState, NicSpec, OutsideSpec, OverlaySpec, PlanIssue, RouterSpec, Ruleset};
pub use topology::{gateway_of, AccountNetwork, HostPlan, PlanOptions, Topology, OUTSIDE_ADDRESS};

/// The nftables document (`nft -j -f -` input) an apply sends to a router whose table holds
/// `applied` (`None`: no table yet) to make it `desired`: for reading and tests.
pub fn nft_transaction(applied: Option<&Ruleset>, desired: &Ruleset) -> serde_json::Value {
    let old = applied.map(render::AppliedTable::of);
    render::diff(old.as_ref(), desired).document()
}

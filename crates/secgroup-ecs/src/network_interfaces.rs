//! Elastic network interfaces (docs/ecs.md §10): `CreateNetworkInterface`,
//! `DeleteNetworkInterface`, `DescribeNetworkInterfaces`, `AttachNetworkInterface`,
//! `DetachNetworkInterface`, `ModifyNetworkInterfaceAttribute`,
//! `AssignPrivateIpAddresses` and `UnassignPrivateIpAddresses`, each a typed action over
//! [`secgroup_domain::ops::network_interfaces`].

use secgroup_api::paging::Paging;
use secgroup_api::render::{tags, time};
use secgroup_api::{Action, Cx, Input};
use secgroup_domain::ids::{InstanceId, SecurityGroupId, VSwitchId};
use secgroup_domain::network::{InterfaceKind, NetworkInterface};
use secgroup_domain::ops::network_interfaces::{
    self as ops, Assignment, InterfaceFilter, InterfaceView, ModifyInterface, NewInterface, Scope,
};
use secgroup_domain::{validate, DomainError, Store, Tag};
use secgroup_rpc::render::ObjectBuilder;
use secgroup_rpc::{Node, RpcError};

use crate::errors::invalid;
use crate::{i64_of, strings, Ecs};

/// `DescribeNetworkInterfaces.NetworkInterfaceId.N` holds at most this many ids.
const MAX_INTERFACE_IDS: usize = 100;
/// `PrivateIpAddress.N` of one request holds at most this many addresses.
const MAX_ADDRESSES: usize = 10;

/// The required `RegionId` as the interface operations word its absence.
fn region(p: &mut Input<'_>) -> Result<String, RpcError> {
    p.region_or(|| RpcError::missing("RegionId"))
}

fn interface_id(p: &mut Input<'_>) -> Result<String, RpcError> {
    Ok(p.required("NetworkInterfaceId")?.to_string())
}

/// `PrivateIpAddress.N`: at most [`MAX_ADDRESSES`].
fn addresses(p: &mut Input<'_>) -> Result<Vec<String>, RpcError> {
    let ips: Vec<String> = strings(p, "PrivateIpAddress");
    if ips.len() > MAX_ADDRESSES {
        return Err(invalid("PrivateIpAddress"));
    }
    Ok(ips)
}

fn count(p: &mut Input<'_>, name: &str) -> Result<u32, RpcError> {
    let n = p.int_in(name, 1..=i64::from(u16::MAX), || invalid(name))?;
    Ok(n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0))
}

/// The interface settings every write runs with.
fn scope<'a>(s: &'a secgroup_api::action::Scope, region_id: &'a str) -> Scope<'a> {
    let config = s.config();
    Scope {
        account_id: s.account(),
        region_id,
        limits: &config.limits,
        catalogue: &config.catalogue,
        timings: &config.instance_timings,
        now: s.now(),
    }
}

fn private_ip_sets(e: &NetworkInterface) -> Node {
    Node::list(
        "PrivateIpSet",
        e.addresses().enumerate().map(|(n, ip)| {
            Node::object()
                .str("PrivateIpAddress", ip)
                .bool("Primary", n == 0)
                .str("PrivateDnsName", "")
                .build()
        }),
    )
}

fn group_ids(e: &NetworkInterface) -> Node {
    Node::list(
        "SecurityGroupId",
        e.security_group_ids.iter().map(Node::str),
    )
}

/// One `NetworkInterfaceSet` of `DescribeNetworkInterfaces` (docs/ecs.md §10.3).
/// The fields both `CreateNetworkInterface` and `DescribeNetworkInterfaces` begin with.
fn identity(e: &NetworkInterface) -> ObjectBuilder {
    Node::object()
        .str("NetworkInterfaceId", &e.id)
        .str("Status", e.status())
        .str("Type", e.kind.as_str())
        .str("VpcId", &e.vpc_id)
        .str("VSwitchId", &e.vswitch_id)
        .str("ZoneId", &e.zone_id)
        .str("PrivateIpAddress", &e.primary_ip)
        .str("MacAddress", &e.mac_address)
        .str("NetworkInterfaceName", &e.name)
        .str("Description", &e.description)
}

/// The groups, addresses and tags both answers carry after their own fields.
fn memberships(node: ObjectBuilder, e: &NetworkInterface, tag_list: &[Tag]) -> ObjectBuilder {
    node.field("SecurityGroupIds", group_ids(e))
        .field("PrivateIpSets", private_ip_sets(e))
        .field("Ipv6Sets", Node::list("Ipv6Set", []))
        .field("Ipv4PrefixSets", Node::list("Ipv4PrefixSet", []))
        .field("Ipv6PrefixSets", Node::list("Ipv6PrefixSet", []))
        .field("Tags", tags(tag_list))
}

fn interface_set(v: &InterfaceView, owner_id: &str) -> Node {
    let e = &v.interface;
    let node = identity(e)
        .str("InstanceId", &e.instance_id)
        .str("CreationTime", time(&e.creation_time))
        .str("ResourceGroupId", &e.resource_group_id)
        .bool("ServiceManaged", false)
        .str("OwnerId", owner_id)
        .int("QueueNumber", 1)
        .bool("DeleteOnRelease", e.kind == InterfaceKind::Primary)
        .str("NetworkInterfaceTrafficMode", "Standard")
        .bool("SourceDestCheck", false);
    let mut node = memberships(node, e, &v.tags);
    if !e.instance_id.is_empty() {
        node = node.field(
            "Attachment",
            Node::object()
                .str("InstanceId", &e.instance_id)
                .int("DeviceIndex", i64::from(e.device_index))
                .int("NetworkCardIndex", 0)
                .str("TrunkNetworkInterfaceId", "")
                .build(),
        );
    }
    node.build()
}

#[derive(Debug)]
pub struct CreateNetworkInterface(NewInterface);

impl<S: Store> Action<Ecs<S>> for CreateNetworkInterface {
    const NAME: &'static str = "CreateNetworkInterface";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = region(p)?;
        let vswitch_id = VSwitchId::new(p.required("VSwitchId")?);
        let mut security_group_ids: Vec<SecurityGroupId> = strings(p, "SecurityGroupIds");
        if let Some(one) = p.non_empty("SecurityGroupId") {
            security_group_ids.insert(0, SecurityGroupId::new(one));
        }
        if security_group_ids.is_empty() {
            return Err(RpcError::missing("SecurityGroupId"));
        }
        for id in &security_group_ids {
            validate::security_group_id(id).map_err(|e| p.error(e))?;
        }
        match p.non_empty("InstanceType") {
            None | Some("Secondary") => {}
            Some(_) => return Err(invalid("InstanceType")),
        }
        let new = NewInterface {
            region_id,
            vswitch_id,
            security_group_ids,
            primary_ip: p.non_empty("PrimaryIpAddress").map(str::to_string),
            secondary_ips: addresses(p)?,
            secondary_count: count(p, "SecondaryPrivateIpAddressCount")?,
            name: p.optional("NetworkInterfaceName").unwrap_or("").to_string(),
            description: p.optional("Description").unwrap_or("").to_string(),
            resource_group_id: p.optional("ResourceGroupId").unwrap_or("").to_string(),
            tags: p.tags()?,
        };
        // Accepted and not simulated: the interface behaves the same either way.
        p.bool("DeleteOnRelease")?;
        p.bool("Visible")?;
        p.optional("NetworkInterfaceTrafficMode");
        p.int("QueueNumber")?;
        p.client_token()?;
        Ok(CreateNetworkInterface(new))
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let owner_id = cx.account().to_string();
        let created = cx
            .write(move |tx, scope| {
                ops::create(
                    tx,
                    scope.account(),
                    &self.0,
                    &scope.config().limits,
                    scope.now(),
                )
                .map(|e| (e, self.0.tags.clone()))
            })
            .await?;
        let (e, tag_list) = created;
        let node = identity(&e)
            .str("ResourceGroupId", &e.resource_group_id)
            .bool("ServiceManaged", false)
            .str("OwnerId", owner_id);
        Ok(memberships(node, &e, &tag_list).build())
    }
}

/// The region and interface every other interface write names.
#[derive(Debug)]
struct Target {
    region_id: String,
    id: String,
}

impl Target {
    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Ok(Target {
            region_id: region(p)?,
            id: interface_id(p)?,
        })
    }
}

#[derive(Debug)]
pub struct DeleteNetworkInterface(Target);

impl<S: Store> Action<Ecs<S>> for DeleteNetworkInterface {
    const NAME: &'static str = "DeleteNetworkInterface";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Target::decode(p).map(DeleteNetworkInterface)
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let t = self.0;
        cx.write(move |tx, s| ops::delete(tx, &scope(s, &t.region_id), &t.id))
            .await?;
        Ok(Node::object().build())
    }

    /// A primary interface goes only with its instance.
    fn wording(err: &DomainError) -> Option<RpcError> {
        match err {
            DomainError::PrimaryNetworkInterface => Some(RpcError::new(
                403,
                "InvalidOperation.InvalidEniType",
                "The primary ENI of an instance cannot be deleted.",
            )),
            _ => None,
        }
    }
}

/// An interface and the instance it is attached to or detached from.
#[derive(Debug)]
struct Attachment {
    target: Target,
    instance_id: InstanceId,
}

impl Attachment {
    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let target = Target::decode(p)?;
        let instance_id = InstanceId::new(p.required("InstanceId")?);
        // Trunk interfaces and network cards are not simulated; index 0 is the only card.
        if p.non_empty("TrunkNetworkInstanceId").is_some() {
            return Err(invalid("TrunkNetworkInstanceId"));
        }
        p.int_in("NetworkCardIndex", 0..=0, || invalid("NetworkCardIndex"))?;
        p.bool("WaitForNetworkConfigurationReady")?;
        Ok(Attachment {
            target,
            instance_id,
        })
    }

    /// Attaches (`true`) or detaches the interface, in one write.
    async fn change<S: Store>(
        self,
        cx: &Cx<'_, Ecs<S>>,
        attaching: bool,
    ) -> Result<Node, RpcError> {
        cx.write(move |tx, s| {
            let (scope, id) = (scope(s, &self.target.region_id), &self.target.id);
            if attaching {
                ops::attach(tx, &scope, id, &self.instance_id)
            } else {
                ops::detach(tx, &scope, id, &self.instance_id)
            }
        })
        .await?;
        Ok(Node::object().build())
    }
}

#[derive(Debug)]
pub struct AttachNetworkInterface(Attachment);

impl<S: Store> Action<Ecs<S>> for AttachNetworkInterface {
    const NAME: &'static str = "AttachNetworkInterface";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Attachment::decode(p).map(AttachNetworkInterface)
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        self.0.change(cx, true).await
    }

    /// A primary interface is attached already, for good: the interface's state refuses it.
    fn wording(err: &DomainError) -> Option<RpcError> {
        match err {
            DomainError::PrimaryNetworkInterface => Some(secgroup_api::errors::domain(
                DomainError::NetworkInterfaceStateInvalid,
            )),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub struct DetachNetworkInterface(Attachment);

impl<S: Store> Action<Ecs<S>> for DetachNetworkInterface {
    const NAME: &'static str = "DetachNetworkInterface";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Attachment::decode(p).map(DetachNetworkInterface)
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        self.0.change(cx, false).await
    }
}

#[derive(Debug)]
pub struct ModifyNetworkInterfaceAttribute {
    target: Target,
    change: ModifyInterface,
}

impl<S: Store> Action<Ecs<S>> for ModifyNetworkInterfaceAttribute {
    const NAME: &'static str = "ModifyNetworkInterfaceAttribute";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let target = Target::decode(p)?;
        let groups: Vec<SecurityGroupId> = strings(p, "SecurityGroupId");
        for id in &groups {
            validate::security_group_id(id).map_err(|e| p.error(e))?;
        }
        let change = ModifyInterface {
            name: p.optional("NetworkInterfaceName").map(str::to_string),
            description: p.optional("Description").map(str::to_string),
            security_group_ids: (!groups.is_empty()).then_some(groups),
        };
        p.bool("DeleteOnRelease")?;
        p.int("QueueNumber")?;
        p.bool("SourceDestCheck")?;
        Ok(ModifyNetworkInterfaceAttribute { target, change })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let (t, change) = (self.target, self.change);
        cx.write(move |tx, s| ops::modify(tx, &scope(s, &t.region_id), &t.id, &change))
            .await?;
        Ok(Node::object().build())
    }

    /// The membership facts as `ModifyInstanceAttribute` words them (docs/ecs.md §7.9).
    fn wording(err: &DomainError) -> Option<RpcError> {
        match err {
            DomainError::SecurityGroupTypesMixed => Some(RpcError::new(
                400,
                "InvalidOperation.MultiGroupType",
                "The specified instance can't join different types of security group.",
            )),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub struct AssignPrivateIpAddresses {
    target: Target,
    assignment: Assignment,
}

impl<S: Store> Action<Ecs<S>> for AssignPrivateIpAddresses {
    const NAME: &'static str = "AssignPrivateIpAddresses";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let target = Target::decode(p)?;
        let assignment = Assignment {
            ips: addresses(p)?,
            count: count(p, "SecondaryPrivateIpAddressCount")?,
        };
        if !strings::<String>(p, "Ipv4Prefix").is_empty()
            || p.non_empty("Ipv4PrefixCount").is_some()
        {
            return Err(invalid("Ipv4Prefix"));
        }
        p.client_token()?;
        Ok(AssignPrivateIpAddresses { target, assignment })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let (t, a) = (self.target, self.assignment);
        let id = t.id.clone();
        let assigned = cx
            .write(move |tx, s| ops::assign(tx, &scope(s, &t.region_id), &t.id, &a))
            .await?;
        Ok(Node::object()
            .field(
                "AssignedPrivateIpAddressesSet",
                Node::object()
                    .str("NetworkInterfaceId", id)
                    .field(
                        "PrivateIpSet",
                        Node::list("PrivateIpAddress", assigned.iter().map(Node::str)),
                    )
                    .field("Ipv4PrefixSet", Node::list("Ipv4Prefixes", []))
                    .build(),
            )
            .build())
    }
}

#[derive(Debug)]
pub struct UnassignPrivateIpAddresses {
    target: Target,
    ips: Vec<String>,
}

impl<S: Store> Action<Ecs<S>> for UnassignPrivateIpAddresses {
    const NAME: &'static str = "UnassignPrivateIpAddresses";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let target = Target::decode(p)?;
        let ips = addresses(p)?;
        if ips.is_empty() {
            return Err(RpcError::missing("PrivateIpAddress"));
        }
        if !strings::<String>(p, "Ipv4Prefix").is_empty() {
            return Err(invalid("Ipv4Prefix"));
        }
        Ok(UnassignPrivateIpAddresses { target, ips })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let (t, ips) = (self.target, self.ips);
        cx.write(move |tx, s| ops::unassign(tx, &scope(s, &t.region_id), &t.id, &ips))
            .await?;
        Ok(Node::object().build())
    }
}

#[derive(Debug)]
pub struct DescribeNetworkInterfaces {
    region_id: String,
    filter: InterfaceFilter,
    paging: Paging,
}

impl<S: Store> Action<Ecs<S>> for DescribeNetworkInterfaces {
    const NAME: &'static str = "DescribeNetworkInterfaces";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = region(p)?;
        let ids: Vec<String> = strings(p, "NetworkInterfaceId");
        if ids.len() > MAX_INTERFACE_IDS {
            return Err(invalid("NetworkInterfaceId"));
        }
        let kind = match p.non_empty("Type") {
            None => None,
            Some("Primary") => Some(InterfaceKind::Primary),
            Some("Secondary") => Some(InterfaceKind::Secondary),
            Some(_) => return Err(invalid("Type")),
        };
        let status = match p.non_empty("Status") {
            None => None,
            Some(s @ ("Available" | "InUse")) => Some(s.to_string()),
            Some("Attaching" | "Detaching" | "Deleting" | "CreateFailed") => {
                // Transitions are instantaneous here: nothing is ever in these states.
                Some(String::from("-"))
            }
            Some(_) => return Err(invalid("Status")),
        };
        let filter = InterfaceFilter {
            ids,
            instance_id: p.non_empty("InstanceId").map(str::to_string),
            security_group_id: p.non_empty("SecurityGroupId").map(str::to_string),
            vpc_id: p.non_empty("VpcId").map(str::to_string),
            vswitch_id: p.non_empty("VSwitchId").map(str::to_string),
            kind,
            status,
            primary_ip: p.non_empty("PrimaryIpAddress").map(str::to_string),
            private_ips: strings(p, "PrivateIpAddress"),
            name: p.non_empty("NetworkInterfaceName").map(str::to_string),
            resource_group_id: p.non_empty("ResourceGroupId").map(str::to_string),
            tags: crate::tag_filters(p)?,
        };
        p.bool("ServiceManaged")?;
        let paging = paging(p)?;
        Ok(DescribeNetworkInterfaces {
            region_id,
            filter,
            paging,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let (region, filter) = (self.region_id.clone(), self.filter);
        let views = cx
            .read(move |tx, scope| ops::list(tx, scope.account(), &region, &filter))
            .await?;
        let owner_id = cx.account().to_string();
        let page = self.paging.cut(views);
        let node = match self.paging {
            Paging::Pages { number, size } => Node::object()
                .int("TotalCount", i64_of(page.total))
                .int("PageNumber", i64_of(number))
                .int("PageSize", i64_of(size))
                .str("NextToken", ""),
            Paging::Tokens { .. } => Node::object()
                .int("TotalCount", i64_of(page.total))
                .str("NextToken", page.next_token),
        };
        let sets = page.items.iter().map(|v| interface_set(v, &owner_id));
        Ok(node
            .field(
                "NetworkInterfaceSets",
                Node::list("NetworkInterfaceSet", sets),
            )
            .build())
    }
}

/// By page number (`PageSize` 1–1000, default 10), or by token once `MaxResults`
/// (10–1000) or `NextToken` appears.
fn paging(p: &mut Input<'_>) -> Result<Paging, RpcError> {
    let max = p.int_in("MaxResults", 1..=1000, || invalid("MaxResults"))?;
    if max.is_none() && p.non_empty("NextToken").is_none() {
        return p.pages(1..=1000, 10);
    }
    let offset = p.next_token(|| invalid("NextToken"))?;
    Ok(Paging::Tokens {
        offset,
        max: crate::usize_of(max.unwrap_or(10)),
    })
}

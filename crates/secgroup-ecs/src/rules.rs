//! `AuthorizeSecurityGroup(Egress)`, `RevokeSecurityGroup(Egress)`,
//! `ModifySecurityGroup(Egress)Rule` and `DescribeSecurityGroupReferences` (docs/ecs.md
//! §3.7–§3.13), each a typed action; the two directions of an operation are one type over
//! [`Ingress`] or [`Egress`]. Also the rule as `DescribeSecurityGroupAttribute` lists it.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use secgroup_api::render::time;
use secgroup_api::{Action, Cx, Input};
use secgroup_domain::ids::{AccountId, RuleId, SecurityGroupId};
use secgroup_domain::ops::rule_draft::RuleDraft;
use secgroup_domain::ops::rules as ops;
use secgroup_domain::rules::{Direction, Family, Peer, PortRange, Rule, RuleSpec};
use secgroup_domain::{validate, DomainError, Store};
use secgroup_rpc::{Node, ParamCursor, RpcError};

use crate::errors::group_id_not_valid;
use crate::{strings, Ecs};

/// The direction of a rule operation, with the names of its three actions.
pub trait RuleDirection: Send + Sync + 'static {
    const DIRECTION: Direction;
    const AUTHORIZE: &'static str;
    const REVOKE: &'static str;
    const MODIFY: &'static str;
}

/// Inbound rules: `Source*` is the peer.
#[derive(Debug)]
pub struct Ingress;

/// Outbound rules: `Dest*` is the peer.
#[derive(Debug)]
pub struct Egress;

impl RuleDirection for Ingress {
    const DIRECTION: Direction = Direction::Ingress;
    const AUTHORIZE: &'static str = "AuthorizeSecurityGroup";
    const REVOKE: &'static str = "RevokeSecurityGroup";
    const MODIFY: &'static str = "ModifySecurityGroupRule";
}

impl RuleDirection for Egress {
    const DIRECTION: Direction = Direction::Egress;
    const AUTHORIZE: &'static str = "AuthorizeSecurityGroupEgress";
    const REVOKE: &'static str = "RevokeSecurityGroupEgress";
    const MODIFY: &'static str = "ModifySecurityGroupEgressRule";
}

pub type AuthorizeSecurityGroup = Authorize<Ingress>;
pub type AuthorizeSecurityGroupEgress = Authorize<Egress>;
pub type RevokeSecurityGroup = Revoke<Ingress>;
pub type RevokeSecurityGroupEgress = Revoke<Egress>;
pub type ModifySecurityGroupRule = Modify<Ingress>;
pub type ModifySecurityGroupEgressRule = Modify<Egress>;

/// The rule fields, by wire name, as they appear flat or under `Permissions.N.`.
const RULE_FIELDS: &[&str] = &[
    "IpProtocol",
    "PortRange",
    "PortRangeListId",
    "SourcePortRange",
    "Policy",
    "Priority",
    "NicType",
    "SourceCidrIp",
    "Ipv6SourceCidrIp",
    "DestCidrIp",
    "Ipv6DestCidrIp",
    "SourceGroupId",
    "SourceGroupOwnerAccount",
    "SourceGroupOwnerId",
    "DestGroupId",
    "DestGroupOwnerAccount",
    "DestGroupOwnerId",
    "SourcePrefixListId",
    "DestPrefixListId",
    "Description",
];

/// A draft from a field lookup (values as sent; empty strings kept).
fn draft(get: impl Fn(&str) -> Option<String>) -> RuleDraft {
    RuleDraft {
        ip_protocol: get("IpProtocol"),
        port_range: get("PortRange"),
        port_range_list_id: get("PortRangeListId"),
        source_port_range: get("SourcePortRange"),
        policy: get("Policy"),
        priority: get("Priority"),
        nic_type: get("NicType"),
        source_cidr_ip: get("SourceCidrIp"),
        ipv6_source_cidr_ip: get("Ipv6SourceCidrIp"),
        dest_cidr_ip: get("DestCidrIp"),
        ipv6_dest_cidr_ip: get("Ipv6DestCidrIp"),
        source_group_id: get("SourceGroupId"),
        source_group_owner_account: get("SourceGroupOwnerAccount"),
        source_group_owner_id: get("SourceGroupOwnerId"),
        dest_group_id: get("DestGroupId"),
        dest_group_owner_account: get("DestGroupOwnerAccount"),
        dest_group_owner_id: get("DestGroupOwnerId"),
        source_prefix_list_id: get("SourcePrefixListId"),
        dest_prefix_list_id: get("DestPrefixListId"),
        description: get("Description"),
    }
}

/// The deprecated flat rule parameters, if any is present.
fn flat_draft(p: &mut ParamCursor<'_>) -> Option<RuleDraft> {
    let values: BTreeMap<&str, String> = RULE_FIELDS
        .iter()
        .filter_map(|f| p.optional(f).map(|v| (*f, v.to_string())))
        .collect();
    (!values.is_empty()).then(|| draft(|f| values.get(f).cloned()))
}

/// `Permissions.N.*` drafts, or the one flat draft; never both (`InvalidParam.Permissions`).
fn drafts(p: &mut Input<'_>) -> Result<Vec<RuleDraft>, RpcError> {
    let listed: Vec<RuleDraft> = p
        .object_list("Permissions")
        .into_iter()
        .map(|(_, fields)| draft(|f| fields.get(f).map(|v| v.to_string())))
        .collect();
    let flat = flat_draft(p);
    match (listed.is_empty(), flat) {
        (false, Some(_)) => Err(p.error(DomainError::PermissionsWithFlatParams)),
        (false, None) => Ok(listed),
        (true, Some(flat)) => Ok(vec![flat]),
        // Nothing given: parsing the empty draft names the first missing field.
        (true, None) => Ok(vec![RuleDraft::default()]),
    }
}

/// The group a rule operation names: `RegionId`, and a required, well-formed
/// `SecurityGroupId`.
#[derive(Debug)]
struct Group {
    region_id: String,
    id: SecurityGroupId,
}

impl Group {
    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region()?;
        let id = p.required("SecurityGroupId")?;
        validate::security_group_id(id).map_err(|_| group_id_not_valid())?;
        Ok(Group {
            region_id,
            id: SecurityGroupId::new(id),
        })
    }

    fn target<'a>(&'a self, account_id: &'a AccountId, direction: Direction) -> ops::Target<'a> {
        ops::Target {
            account_id,
            region_id: &self.region_id,
            group_id: &self.id,
            direction,
        }
    }
}

/// `AuthorizeSecurityGroup` and `AuthorizeSecurityGroupEgress`.
#[derive(Debug)]
pub struct Authorize<D> {
    group: Group,
    drafts: Vec<RuleDraft>,
    direction: PhantomData<D>,
}

impl<S: Store, D: RuleDirection> Action<Ecs<S>> for Authorize<D> {
    const NAME: &'static str = D::AUTHORIZE;

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let group = Group::decode(p)?;
        let drafts = drafts(p)?;
        p.client_token()?;
        Ok(Authorize {
            group,
            drafts,
            direction: PhantomData,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        cx.write(move |tx, scope| {
            let target = self.group.target(scope.account(), D::DIRECTION);
            ops::authorize(
                tx,
                &target,
                &self.drafts,
                &scope.config().limits,
                scope.now(),
            )
        })
        .await?;
        Ok(Node::object().build())
    }
}

/// Which rules a revoke names.
#[derive(Debug)]
enum Revoked {
    Ids(Vec<RuleId>),
    Matching(Vec<RuleDraft>),
}

/// `RevokeSecurityGroup` and `RevokeSecurityGroupEgress`: by rule ids or by parameters.
#[derive(Debug)]
pub struct Revoke<D> {
    group: Group,
    rules: Revoked,
    direction: PhantomData<D>,
}

impl<S: Store, D: RuleDirection> Action<Ecs<S>> for Revoke<D> {
    const NAME: &'static str = D::REVOKE;

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let group = Group::decode(p)?;
        let ids = strings(p, "SecurityGroupRuleId");
        let rules = if ids.is_empty() {
            Revoked::Matching(drafts(p)?)
        } else {
            let has_rule_fields =
                p.has_list("Permissions") || RULE_FIELDS.iter().any(|f| p.non_empty(f).is_some());
            if has_rule_fields {
                return Err(p.error(DomainError::RuleIdsWithPermissions));
            }
            Revoked::Ids(ids)
        };
        // Terraform always sends Description (often empty); it is not part of a rule's identity.
        p.optional("Description");
        p.client_token()?;
        Ok(Revoke {
            group,
            rules,
            direction: PhantomData,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        cx.write(move |tx, scope| {
            let target = self.group.target(scope.account(), D::DIRECTION);
            match &self.rules {
                Revoked::Ids(ids) => ops::revoke_by_ids(tx, &target, ids),
                Revoked::Matching(drafts) => ops::revoke_matching(tx, &target, drafts),
            }
        })
        .await?;
        Ok(Node::object().build())
    }
}

/// `ModifySecurityGroupRule` and `ModifySecurityGroupEgressRule`: by id, or by parameters.
#[derive(Debug)]
pub struct Modify<D> {
    group: Group,
    rule_id: Option<RuleId>,
    changes: RuleDraft,
    direction: PhantomData<D>,
}

impl<S: Store, D: RuleDirection> Action<Ecs<S>> for Modify<D> {
    const NAME: &'static str = D::MODIFY;

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let group = Group::decode(p)?;
        let rule_id = p.non_empty("SecurityGroupRuleId").map(RuleId::from);
        let changes = flat_draft(p).unwrap_or_default();
        p.client_token()?;
        Ok(Modify {
            group,
            rule_id,
            changes,
            direction: PhantomData,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        cx.write(move |tx, scope| {
            let target = self.group.target(scope.account(), D::DIRECTION);
            match &self.rule_id {
                Some(id) => ops::modify_by_id(tx, &target, id, &self.changes),
                None => ops::modify_matching(tx, &target, &self.changes),
            }
        })
        .await?;
        Ok(Node::object().build())
    }
}

#[derive(Debug)]
pub struct DescribeSecurityGroupReferences {
    region_id: String,
    ids: Vec<SecurityGroupId>,
}

impl<S: Store> Action<Ecs<S>> for DescribeSecurityGroupReferences {
    const NAME: &'static str = "DescribeSecurityGroupReferences";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Ok(DescribeSecurityGroupReferences {
            region_id: p.region()?,
            ids: strings(p, "SecurityGroupId"),
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let found = cx
            .read(move |tx, scope| ops::references(tx, scope.account(), &self.region_id, &self.ids))
            .await?;
        let references = found.into_iter().map(|(id, referrers)| {
            let referrers = referrers.into_iter().map(|r| {
                Node::object()
                    .str("SecurityGroupId", r.group_id)
                    .str("AliUid", r.account_id)
                    .build()
            });
            Node::object()
                .str("SecurityGroupId", id)
                .field(
                    "ReferencingSecurityGroups",
                    Node::list("ReferencingSecurityGroup", referrers),
                )
                .build()
        });
        Ok(Node::object()
            .field(
                "SecurityGroupReferences",
                Node::list("SecurityGroupReference", references),
            )
            .build())
    }

    fn wording(err: &DomainError) -> Option<RpcError> {
        match err {
            // This operation words its not-found answer its own way (docs/ecs.md §3.13).
            DomainError::SecurityGroupNotFound(_) => Some(RpcError::new(
                404,
                "InvalidSecurityGroupId.NotFound",
                "The SecurityGroupId provided does not exist in our records.",
            )),
            _ => None,
        }
    }
}

/// The fields of one side (source or destination) of a rendered rule; unset ones are `""`.
#[derive(Default)]
struct SideFields<'a> {
    cidr: &'a str,
    ipv6: &'a str,
    group_id: &'a str,
    group_name: &'a str,
    group_owner: &'a str,
    prefix_list_id: &'a str,
    prefix_list_name: &'a str,
}

/// One entry of `Permissions.Permission`: ingress rules fill `Source*`, egress rules
/// `Dest*`; the other side only for quintuple rules. Unset strings are `""`. Takes the view
/// by value so the id and description move into the node rather than being copied (a
/// 1,000-rule group renders 1,000 of these per request).
pub fn permission(view: ops::RuleView) -> Node {
    let ops::RuleView { rule, peer_name } = view;
    let Rule {
        id,
        spec,
        create_time,
        ..
    } = rule;
    let RuleSpec {
        direction,
        protocol,
        port_range,
        source_port_range,
        policy,
        priority,
        peer,
        local_cidr,
        description,
    } = spec;
    let mut peer_side = SideFields::default();
    match &peer {
        Peer::Cidr(c) if c.family() == Family::V4 => peer_side.cidr = c.as_str(),
        Peer::Cidr(c) => peer_side.ipv6 = c.as_str(),
        Peer::Group {
            group_id,
            owner_account,
        } => {
            peer_side.group_id = group_id;
            peer_side.group_name = &peer_name;
            peer_side.group_owner = owner_account;
        }
        Peer::PrefixList(id) => {
            peer_side.prefix_list_id = id;
            peer_side.prefix_list_name = &peer_name;
        }
    }
    let mut local = SideFields::default();
    match &local_cidr {
        Some(c) if c.family() == Family::V4 => local.cidr = c.as_str(),
        Some(c) => local.ipv6 = c.as_str(),
        None => {}
    }
    let (source, dest) = match direction {
        Direction::Ingress => (peer_side, local),
        Direction::Egress => (local, peer_side),
    };
    Node::object_with_capacity(27)
        .str("SecurityGroupRuleId", id)
        .static_str("Direction", direction.as_str())
        .static_str("Policy", policy.as_str())
        .field("Priority", small_number(priority))
        .static_str("IpProtocol", protocol.as_str())
        .field("PortRange", port_range_text(port_range))
        .field(
            "SourcePortRange",
            source_port_range.map_or(Node::Static(""), port_range_text),
        )
        .static_str("NicType", "intranet")
        .field("SourceCidrIp", text(source.cidr))
        .field("Ipv6SourceCidrIp", text(source.ipv6))
        .field("DestCidrIp", text(dest.cidr))
        .field("Ipv6DestCidrIp", text(dest.ipv6))
        .field("SourceGroupId", text(source.group_id))
        .field("SourceGroupName", text(source.group_name))
        .field("SourceGroupOwnerAccount", text(source.group_owner))
        .field("DestGroupId", text(dest.group_id))
        .field("DestGroupName", text(dest.group_name))
        .field("DestGroupOwnerAccount", text(dest.group_owner))
        .field("SourcePrefixListId", text(source.prefix_list_id))
        .field("SourcePrefixListName", text(source.prefix_list_name))
        .field("DestPrefixListId", text(dest.prefix_list_id))
        .field("DestPrefixListName", text(dest.prefix_list_name))
        .static_str("PortRangeListId", "")
        .static_str("PortRangeListName", "")
        .str("Description", description)
        .str("CreateTime", time(&create_time))
        .build()
}

/// A string field; the empty one (most of a permission's fields) without a `String`.
fn text(s: &str) -> Node {
    if s.is_empty() {
        Node::Static("")
    } else {
        Node::str(s)
    }
}

/// `00`, `01` … `99`: the decimal text of the numbers below 100, two digits each.
const TWO_DIGITS: &str = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/// The decimal text of a priority (1 to 100), without formatting or allocating.
fn small_number(n: u8) -> Node {
    let i = usize::from(n);
    match n {
        0..=9 => TWO_DIGITS.get(2 * i + 1..2 * i + 2),
        10..=99 => TWO_DIGITS.get(2 * i..2 * i + 2),
        100 => Some("100"),
        _ => None,
    }
    .map_or_else(|| Node::str(n.to_string()), Node::Static)
}

/// `from/to`, written without the formatting machinery (about 1,000 instructions a call).
fn port_range_text(range: PortRange) -> Node {
    if range.is_any() {
        return Node::Static("-1/-1");
    }
    let mut out = String::with_capacity(11);
    push_int(&mut out, range.from);
    out.push('/');
    push_int(&mut out, range.to);
    Node::Str(out)
}

fn push_int(out: &mut String, n: i32) {
    if n < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 10];
    let mut left = n.unsigned_abs();
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (left % 10) as u8;
        left /= 10;
        if left == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode;

    fn code<T: std::fmt::Debug>(r: Result<T, RpcError>) -> String {
        r.expect_err("refused").code.into_owned()
    }

    #[test]
    fn authorize_takes_permissions_or_the_flat_form_never_both() {
        let base = [("RegionId", "cn-hangzhou"), ("SecurityGroupId", "sg-a")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            pairs
        };

        let listed = decode::<AuthorizeSecurityGroup>(&with(&[
            ("Permissions.2.IpProtocol", "UDP"),
            ("Permissions.1.IpProtocol", "TCP"),
            ("Permissions.1.PortRange", "22/22"),
            ("Permissions.1.SourceCidrIp", ""),
        ]))
        .expect("listed");
        assert_eq!(listed.group.id, "sg-a");
        assert_eq!(listed.drafts.len(), 2);
        // In N order, values as sent (an empty one kept).
        assert_eq!(listed.drafts[0].ip_protocol.as_deref(), Some("TCP"));
        assert_eq!(listed.drafts[0].port_range.as_deref(), Some("22/22"));
        assert_eq!(listed.drafts[0].source_cidr_ip.as_deref(), Some(""));
        assert_eq!(listed.drafts[1].ip_protocol.as_deref(), Some("UDP"));

        let flat = decode::<AuthorizeSecurityGroupEgress>(&with(&[
            ("IpProtocol", "TCP"),
            ("DestCidrIp", "10.0.0.0/8"),
        ]))
        .expect("flat");
        assert_eq!(flat.drafts.len(), 1);
        assert_eq!(flat.drafts[0].dest_cidr_ip.as_deref(), Some("10.0.0.0/8"));

        // Neither: one empty draft, whose parsing names the first missing field.
        let none = decode::<AuthorizeSecurityGroup>(&base).expect("empty");
        assert_eq!(none.drafts, vec![RuleDraft::default()]);

        let both = decode::<AuthorizeSecurityGroup>(&with(&[
            ("Permissions.1.IpProtocol", "TCP"),
            ("PortRange", "22/22"),
        ]));
        assert_eq!(code(both), "InvalidParam.Permissions");

        // The group is checked first, and worded as the rule operations word it.
        let bad = decode::<AuthorizeSecurityGroup>(&[
            ("RegionId", "cn-hangzhou"),
            ("SecurityGroupId", "sg-bad!id"),
            ("Permissions.1.IpProtocol", "TCP"),
            ("PortRange", "22/22"),
        ])
        .expect_err("malformed");
        assert_eq!(
            (bad.code.as_ref(), bad.message.as_ref()),
            (
                "InvalidSecurityGroupId.Malformed",
                "The specified parameter SecurityGroupId is not valid."
            )
        );
        assert_eq!(
            code(decode::<AuthorizeSecurityGroup>(&[(
                "SecurityGroupId",
                "sg-a"
            )])),
            "MissingRegionId"
        );
    }

    #[test]
    fn the_direction_is_the_types() {
        fn name<A: Action<Ecs<secgroup_store_sqlite::SqliteStore>>>() -> &'static str {
            A::NAME
        }
        assert_eq!(name::<AuthorizeSecurityGroup>(), "AuthorizeSecurityGroup");
        assert_eq!(
            name::<AuthorizeSecurityGroupEgress>(),
            "AuthorizeSecurityGroupEgress"
        );
        assert_eq!(
            name::<RevokeSecurityGroupEgress>(),
            "RevokeSecurityGroupEgress"
        );
        assert_eq!(
            name::<ModifySecurityGroupEgressRule>(),
            "ModifySecurityGroupEgressRule"
        );
        assert_eq!(Ingress::DIRECTION, Direction::Ingress);
        assert_eq!(Egress::DIRECTION, Direction::Egress);
    }

    #[test]
    fn revoke_by_ids_or_by_fields() {
        let base = [("RegionId", "cn-hangzhou"), ("SecurityGroupId", "sg-a")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            pairs
        };
        let by_ids = decode::<RevokeSecurityGroup>(&with(&[
            ("SecurityGroupRuleId.1", "sgr-1"),
            ("SecurityGroupRuleId.2", ""),
            ("SecurityGroupRuleId.3", "sgr-3"),
            // Terraform's empty Description is not a rule field.
            ("Description", ""),
        ]))
        .expect("ids");
        assert!(matches!(&by_ids.rules, Revoked::Ids(ids) if *ids == ["sgr-1", "sgr-3"]));

        let mixed = decode::<RevokeSecurityGroup>(&with(&[
            ("SecurityGroupRuleId.1", "sgr-1"),
            ("IpProtocol", "TCP"),
        ]));
        assert_eq!(code(mixed), "InvalidParam.Permissions");
        let mixed = decode::<RevokeSecurityGroupEgress>(&with(&[
            ("SecurityGroupRuleId.1", "sgr-1"),
            ("Permissions.1.IpProtocol", "TCP"),
        ]));
        assert_eq!(code(mixed), "InvalidParam.Permissions");

        let by_fields =
            decode::<RevokeSecurityGroup>(&with(&[("IpProtocol", "TCP")])).expect("fields");
        assert!(matches!(&by_fields.rules, Revoked::Matching(d) if d.len() == 1));
    }
}

//! The ruleset as nftables JSON (through the `nftables` crate's schema types, never text),
//! and the one transaction that takes a router's table from what was applied to what is
//! desired: only changed chains are flushed and refilled, membership moves by set-element
//! add/delete, and dispatch by verdict-map element add/delete.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use nftables::expr::{
    BinaryOperation, Expression, Meta, MetaKey, NamedExpression, Payload, PayloadField, Prefix,
    Range, SetItem, Verdict, CT,
};
use nftables::schema::{Chain, Element, NfCmd, NfListObject, NfObject, Rule, Set, Table};
use nftables::stmt::{JumpTarget, Match as NftMatch, Operator, Statement, VerdictMap};
use nftables::types::{NfChainPolicy, NfChainType, NfFamily, NfHook};
use serde::Serialize;
use serde_json::Value;

use crate::model::{
    IpFamily, MapElement, MapVerdict, Match, NftChain, NftMap, NftRule, RuleVerdict, Ruleset,
    SetElement, Side, Step, L4,
};
use crate::names::{self, BASE_CHAIN, EGRESS_MAP, INGRESS_MAP, NIC_SET, TABLE};

/// Rule comments that carry a chain's fingerprint start with this.
pub(crate) const FINGERPRINT_TAG: &str = "secgroup:";
/// The kernel keeps at most 128 bytes of a rule comment (nft refuses longer ones).
const MAX_COMMENT: usize = 120;

/// What the kernel holds of one router's table, as far as diffing needs it: chains by
/// fingerprint only (their rules are never read back).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AppliedTable {
    pub base: String,
    pub sets: BTreeMap<String, AppliedSet>,
    /// The verdict maps of rule runs (not `egress`/`ingress`).
    pub maps: BTreeMap<String, AppliedMap>,
    pub chains: BTreeMap<String, String>,
    pub egress: BTreeMap<String, String>,
    pub ingress: BTreeMap<String, String>,
    /// The elements of [`NIC_SET`]; `None` when unreadable (refilled).
    pub nics: Option<BTreeSet<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppliedSet {
    pub family: IpFamily,
    pub interval: bool,
    /// `None` when what the kernel has could not be read (adopted): refilled whole.
    pub elements: Option<BTreeSet<SetElement>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppliedMap {
    pub family: IpFamily,
    pub ported: bool,
    /// `None` when what the kernel has could not be read (adopted): refilled whole.
    pub elements: Option<BTreeSet<MapElement>>,
}

impl AppliedTable {
    /// The summary of a ruleset once it is applied.
    pub(crate) fn of(ruleset: &Ruleset) -> AppliedTable {
        AppliedTable {
            base: base_chain_fingerprint(),
            sets: ruleset
                .sets
                .iter()
                .map(|(name, set)| {
                    (
                        name.clone(),
                        AppliedSet {
                            family: set.family,
                            interval: set.interval,
                            elements: Some(set.elements.clone()),
                        },
                    )
                })
                .collect(),
            maps: ruleset
                .maps
                .iter()
                .map(|(name, map)| {
                    (
                        name.clone(),
                        AppliedMap {
                            family: map.family,
                            ported: map.ported,
                            elements: Some(map.elements.clone()),
                        },
                    )
                })
                .collect(),
            chains: ruleset
                .chains
                .iter()
                .map(|(name, chain)| (name.clone(), chain.fingerprint()))
                .collect(),
            egress: ruleset.egress.clone(),
            ingress: ruleset.ingress.clone(),
            nics: Some(nic_interfaces(ruleset)),
        }
    }
}

/// Every NIC interface with chains.
fn nic_interfaces(ruleset: &Ruleset) -> BTreeSet<String> {
    ruleset
        .egress
        .keys()
        .chain(ruleset.ingress.keys())
        .cloned()
        .collect()
}

fn nic_set_declaration() -> Set<'static> {
    Set {
        family: NfFamily::INet,
        table: TABLE.into(),
        name: NIC_SET.into(),
        set_type: nftables::schema::SetTypeValue::Single(nftables::schema::SetType::Ifname),
        ..Set::default()
    }
}

/// One transaction and what it changes (for the conntrack sweep after it).
#[derive(Debug, Default)]
pub(crate) struct TableDiff {
    pub commands: Vec<Value>,
    pub changed_chains: BTreeSet<String>,
    pub changed_sets: BTreeSet<String>,
    /// NIC interfaces whose dispatch changed (added, removed or moved to other chains).
    pub changed_dispatch: BTreeSet<String>,
}

impl TableDiff {
    pub(crate) fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }
    /// The JSON document `nft -j -f -` reads.
    pub(crate) fn document(&self) -> Value {
        serde_json::json!({ "nftables": self.commands })
    }
}

/// The named verdict map declaration: the `nftables` crate's `Map` cannot say `verdict` as
/// the value type, so this typed stand-in serializes the same JSON object.
#[derive(Serialize)]
struct VerdictMapDeclaration<'a> {
    family: NfFamily,
    table: &'static str,
    name: &'a str,
    #[serde(rename = "type")]
    key_type: KeyType,
    map: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    flags: Option<[&'static str; 1]>,
}

/// One key type, or the types of a concatenation (as `nft -j` writes them).
#[derive(Serialize)]
#[serde(untagged)]
enum KeyType {
    Single(&'static str),
    Concat(Vec<&'static str>),
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum MapCommand<'a> {
    Add { map: VerdictMapDeclaration<'a> },
    Flush { map: VerdictMapDeclaration<'a> },
    Delete { map: VerdictMapDeclaration<'a> },
}

/// The declaration of a rule run's map: interval, keyed on the peer address and protocol,
/// and the ports when `ported`.
fn run_map_declaration(name: &str, family: IpFamily, ported: bool) -> VerdictMapDeclaration<'_> {
    let address = match family {
        IpFamily::V4 => "ipv4_addr",
        IpFamily::V6 => "ipv6_addr",
    };
    let mut types = vec![address, "inet_proto"];
    if ported {
        types.extend(["inet_service", "inet_service"]);
    }
    VerdictMapDeclaration {
        family: NfFamily::INet,
        table: TABLE,
        name,
        key_type: KeyType::Concat(types),
        map: "verdict",
        flags: Some(["interval"]),
    }
}

struct Tx {
    commands: Vec<Value>,
}

impl Tx {
    fn push(&mut self, object: NfObject<'_>) {
        // Serializing schema types into a JSON value cannot fail (no maps with non-string
        // keys); a failure would only drop the command, which the kernel then reports.
        if let Ok(value) = serde_json::to_value(object) {
            self.commands.push(value);
        }
    }
    fn add(&mut self, object: NfListObject<'_>) {
        self.push(NfObject::CmdObject(NfCmd::Add(object)));
    }
    fn delete(&mut self, object: NfListObject<'_>) {
        self.push(NfObject::CmdObject(NfCmd::Delete(object)));
    }
    fn flush(&mut self, object: nftables::schema::FlushObject<'_>) {
        self.push(NfObject::CmdObject(NfCmd::Flush(object)));
    }
    fn add_map(&mut self, name: &'static str) {
        self.map_command(MapCommand::Add {
            map: VerdictMapDeclaration {
                family: NfFamily::INet,
                table: TABLE,
                name,
                key_type: KeyType::Single("ifname"),
                map: "verdict",
                flags: None,
            },
        });
    }
    fn map_elements(&mut self, command: ElementCommand<'_>) {
        if let Ok(value) = serde_json::to_value(command) {
            self.commands.push(value);
        }
    }
    fn map_command(&mut self, command: MapCommand<'_>) {
        if let Ok(value) = serde_json::to_value(command) {
            self.commands.push(value);
        }
    }
}

/// The transaction from `applied` (nothing when `None`) to `desired`.
pub(crate) fn diff(applied: Option<&AppliedTable>, desired: &Ruleset) -> TableDiff {
    let empty = AppliedTable::default();
    let fresh = applied.is_none();
    let old = applied.unwrap_or(&empty);
    let mut tx = Tx {
        commands: Vec::new(),
    };
    let mut out = TableDiff::default();
    let base_changed = fresh || old.base != base_chain_fingerprint();

    if fresh {
        // Nothing is known of the table: whatever one of that name holds is replaced whole
        // (`add` first, as deleting a table that does not exist fails the transaction; the
        // transaction is atomic, so there is no moment without a table).
        let table = || {
            NfListObject::Table(Table {
                family: NfFamily::INet,
                name: TABLE.into(),
                handle: None,
            })
        };
        tx.add(table());
        tx.delete(table());
        tx.add(table());
    }
    if base_changed {
        // `add` of what exists is a no-op: an adopted table missing one gets it.
        tx.add_map(EGRESS_MAP);
        tx.add_map(INGRESS_MAP);
        tx.add(NfListObject::Set(Box::new(nic_set_declaration())));
    }
    let want_nics = nic_interfaces(desired);
    match &old.nics {
        Some(have) => {
            let added: Vec<&String> = want_nics.difference(have).collect();
            if !added.is_empty() {
                tx.add(NfListObject::Element(element(
                    NIC_SET,
                    added
                        .iter()
                        .map(|i| Expression::String(Cow::Owned((*i).clone()))),
                )));
            }
        }
        None => {
            if !fresh {
                tx.flush(nftables::schema::FlushObject::Set(Box::new(
                    nic_set_declaration(),
                )));
            }
            if !want_nics.is_empty() {
                tx.add(NfListObject::Element(element(
                    NIC_SET,
                    want_nics
                        .iter()
                        .map(|i| Expression::String(Cow::Owned(i.clone()))),
                )));
            }
        }
    }

    // Elements that go are deleted before any is added: an interval set refuses a new
    // block overlapping an old one, even one deleted later in the same transaction (which
    // is atomic all the same).
    for (name, set) in &desired.sets {
        if let Some(have) = old.sets.get(name).and_then(|s| s.elements.as_ref()) {
            let removed: Vec<&SetElement> = have.difference(&set.elements).collect();
            if !removed.is_empty() {
                tx.delete(NfListObject::Element(element(
                    name,
                    removed.iter().map(|e| set_element(e)),
                )));
            }
        }
    }
    for (name, map) in &desired.maps {
        if let Some(have) = old.maps.get(name).and_then(|m| m.elements.as_ref()) {
            let removed: Vec<&MapElement> = have.difference(&map.elements).collect();
            if !removed.is_empty() {
                tx.map_elements(ElementCommand::Delete {
                    element: map_elements(name, map, removed),
                });
            }
        }
    }
    // Sets before chains: chains refer to them.
    for (name, set) in &desired.sets {
        let known = old.sets.get(name);
        if known.is_none() {
            tx.add(NfListObject::Set(Box::new(set_declaration(name, set))));
        }
        let current = known.and_then(|s| s.elements.as_ref());
        if known.is_some() && current.is_none() {
            tx.flush(nftables::schema::FlushObject::Set(Box::new(
                set_declaration(name, set),
            )));
        }
        let added: Vec<&SetElement> = match current {
            Some(have) => set.elements.difference(have).collect(),
            None => set.elements.iter().collect(),
        };
        if !added.is_empty() {
            tx.add(NfListObject::Element(element(
                name,
                added.iter().map(|e| set_element(e)),
            )));
        }
        if known.is_none() || current != Some(&set.elements) {
            out.changed_sets.insert(name.clone());
        }
    }

    let mut map_changed_chains = BTreeSet::new();
    for (name, map) in &desired.maps {
        let known = old.maps.get(name);
        if known.is_none() {
            tx.map_command(MapCommand::Add {
                map: run_map_declaration(name, map.family, map.ported),
            });
        }
        // An adopted map's elements are not read back: when the chain that looks it up
        // carries the fingerprint of the desired chain, whose map digest covers them, they
        // are the desired ones; otherwise it is refilled.
        let vouched = known.is_some_and(|m| m.elements.is_none())
            && desired
                .chains
                .get(&map.chain)
                .is_some_and(|c| old.chains.get(&map.chain) == Some(&c.fingerprint()));
        let current = if vouched {
            Some(&map.elements)
        } else {
            known.and_then(|m| m.elements.as_ref())
        };
        if known.is_some() && current.is_none() {
            tx.map_command(MapCommand::Flush {
                map: run_map_declaration(name, map.family, map.ported),
            });
        }
        let added: Vec<&MapElement> = match current {
            Some(have) => map.elements.difference(have).collect(),
            None => map.elements.iter().collect(),
        };
        if !added.is_empty() {
            tx.map_elements(ElementCommand::Add {
                element: map_elements(name, map, added),
            });
        }
        if known.is_none() || current != Some(&map.elements) {
            // The verdicts of the chain that looks it up changed: its NICs' flows are
            // judged again after the apply.
            map_changed_chains.insert(map.chain.clone());
        }
    }
    out.changed_chains.extend(map_changed_chains);

    for (name, chain) in &desired.chains {
        let fingerprint = chain.fingerprint();
        match old.chains.get(name) {
            Some(have) if *have == fingerprint => continue,
            Some(_) => tx.flush(nftables::schema::FlushObject::Chain(regular_chain(name))),
            None => tx.add(NfListObject::Chain(regular_chain(name))),
        }
        for rule in chain_rules(name, chain, &desired.maps, &fingerprint) {
            tx.add(NfListObject::Rule(rule));
        }
        out.changed_chains.insert(name.clone());
    }

    if base_changed {
        tx.add(NfListObject::Chain(base_chain()));
        if !fresh {
            tx.flush(nftables::schema::FlushObject::Chain(base_chain()));
        }
        for rule in base_rules() {
            tx.add(NfListObject::Rule(rule));
        }
    }

    for (map, want, have) in [
        (EGRESS_MAP, &desired.egress, &old.egress),
        (INGRESS_MAP, &desired.ingress, &old.ingress),
    ] {
        let gone: Vec<&String> = have
            .iter()
            .filter(|(ifname, chain)| want.get(*ifname) != Some(chain))
            .map(|(ifname, _)| ifname)
            .collect();
        if !gone.is_empty() {
            tx.delete(NfListObject::Element(element(
                map,
                gone.iter()
                    .map(|i| Expression::String(Cow::Owned((*i).clone()))),
            )));
        }
        let new: Vec<(&String, &String)> = want
            .iter()
            .filter(|(ifname, chain)| have.get(*ifname) != Some(chain))
            .collect();
        if !new.is_empty() {
            tx.add(NfListObject::Element(element(
                map,
                new.iter().map(|(ifname, chain)| {
                    Expression::List(vec![
                        Expression::String(Cow::Owned((*ifname).clone())),
                        Expression::Verdict(Verdict::Jump(JumpTarget {
                            target: Cow::Owned((*chain).clone()),
                        })),
                    ])
                }),
            )));
        }
        out.changed_dispatch.extend(gone.into_iter().cloned());
        out.changed_dispatch
            .extend(new.into_iter().map(|(ifname, _)| ifname.clone()));
    }

    // Removals last, once nothing refers to them any more.
    if let Some(have) = &old.nics {
        let removed: Vec<&String> = have.difference(&want_nics).collect();
        if !removed.is_empty() {
            tx.delete(NfListObject::Element(element(
                NIC_SET,
                removed
                    .iter()
                    .map(|i| Expression::String(Cow::Owned((*i).clone()))),
            )));
        }
    }
    for name in old.chains.keys() {
        if !desired.chains.contains_key(name) {
            tx.delete(NfListObject::Chain(regular_chain(name)));
            out.changed_chains.insert(name.clone());
        }
    }
    for (name, map) in &old.maps {
        if !desired.maps.contains_key(name) {
            tx.map_command(MapCommand::Delete {
                map: run_map_declaration(name, map.family, map.ported),
            });
        }
    }
    for (name, set) in &old.sets {
        if !desired.sets.contains_key(name) {
            tx.delete(NfListObject::Set(Box::new(Set {
                elem: None,
                ..set_declaration(
                    name,
                    &crate::model::NftSet {
                        family: set.family,
                        interval: set.interval,
                        elements: BTreeSet::new(),
                    },
                )
            })));
            out.changed_sets.insert(name.clone());
        }
    }

    out.commands = tx.commands;
    out
}

/// `add element` / the element list of a `delete element`.
fn element<'a>(set: &str, elements: impl Iterator<Item = Expression<'a>>) -> Element<'a> {
    Element {
        family: NfFamily::INet,
        table: TABLE.into(),
        name: Cow::Owned(set.to_string()),
        elem: Cow::Owned(elements.collect()),
    }
}

fn set_declaration(name: &str, set: &crate::model::NftSet) -> Set<'static> {
    Set {
        family: NfFamily::INet,
        table: TABLE.into(),
        name: Cow::Owned(name.to_string()),
        set_type: nftables::schema::SetTypeValue::Single(match set.family {
            IpFamily::V4 => nftables::schema::SetType::Ipv4Addr,
            IpFamily::V6 => nftables::schema::SetType::Ipv6Addr,
        }),
        flags: set
            .interval
            .then(|| [nftables::schema::SetFlag::Interval].into_iter().collect()),
        ..Set::default()
    }
}

fn set_element(element: &SetElement) -> Expression<'static> {
    match element {
        SetElement::Address(a) => address(*a),
        SetElement::Range(a, b) => Expression::Range(Box::new(Range {
            range: [address(*a), address(*b)],
        })),
    }
}

fn address(a: IpAddr) -> Expression<'static> {
    Expression::String(Cow::Owned(a.to_string()))
}

fn regular_chain(name: &str) -> Chain<'static> {
    Chain {
        family: NfFamily::INet,
        table: TABLE.into(),
        name: Cow::Owned(name.to_string()),
        ..Chain::default()
    }
}

fn base_chain() -> Chain<'static> {
    Chain {
        family: NfFamily::INet,
        table: TABLE.into(),
        name: BASE_CHAIN.into(),
        _type: Some(NfChainType::Filter),
        hook: Some(NfHook::Forward),
        prio: Some(0),
        // What the checks let through is accepted; everything they refuse is dropped by
        // them, and traffic of no NIC (none is routed here) needs no filtering.
        policy: Some(NfChainPolicy::Accept),
        ..Chain::default()
    }
}

fn rule(chain: &str, expr: Vec<Statement<'static>>, comment: Option<String>) -> Rule<'static> {
    Rule {
        family: NfFamily::INet,
        table: TABLE.into(),
        chain: Cow::Owned(chain.to_string()),
        expr: Cow::Owned(expr),
        comment: comment.map(|mut c| {
            c.truncate(MAX_COMMENT);
            Cow::Owned(c)
        }),
        ..Rule::default()
    }
}

/// A chain's rules as its steps say (every rule as itself when it has none); the last
/// carries the fingerprint of the whole chain.
pub(crate) fn chain_rules(
    name: &str,
    chain: &NftChain,
    maps: &BTreeMap<String, NftMap>,
    fingerprint: &str,
) -> Vec<Rule<'static>> {
    let all: Vec<Step> = (0..chain.rules.len()).map(Step::Rule).collect();
    let steps = if chain.steps.is_empty() {
        &all
    } else {
        &chain.steps
    };
    let rendered: Vec<(Vec<Statement<'static>>, String)> = steps
        .iter()
        .filter_map(|step| match step {
            Step::Rule(i) => chain
                .rules
                .get(*i)
                .map(|r| (statements(r), r.comment.clone())),
            Step::Lookup { map, rules } => maps.get(map).map(|m| {
                (
                    vec![Statement::VerdictMap(VerdictMap {
                        key: map_key(m),
                        data: Expression::String(Cow::Owned(format!("@{map}"))),
                    })],
                    format!("{rules} rules"),
                )
            }),
        })
        .collect();
    let last = rendered.len().saturating_sub(1);
    rendered
        .into_iter()
        .enumerate()
        .map(|(i, (statements, comment))| {
            let comment = if i == last {
                format!("{FINGERPRINT_TAG}{fingerprint} {comment}")
            } else {
                comment
            };
            rule(name, statements, Some(comment))
        })
        .collect()
}

/// `ip saddr . meta l4proto . th dport . th sport` (or `ip6`, `daddr`; no ports when the
/// map is not `ported`): the concatenation a run's map is keyed on.
fn map_key(map: &NftMap) -> Expression<'static> {
    let mut parts = vec![address_field(map.side, map.family), meta(MetaKey::L4proto)];
    if map.ported {
        parts.push(payload("th", "dport"));
        parts.push(payload("th", "sport"));
    }
    Expression::Named(NamedExpression::Concat(parts))
}

/// Elements of a run's map: the crate's `Element` holds expressions only, and its
/// `Verdict::Return` serializes as the bare string `"return"`, which nft refuses as map
/// data; this typed stand-in writes `[key, {"return": null}]` as `nft -j` does.
#[derive(Serialize)]
struct RunMapElements<'a> {
    family: NfFamily,
    table: &'static str,
    name: &'a str,
    elem: Vec<(Expression<'static>, VerdictValue)>,
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum VerdictValue {
    Return(()),
    Drop(()),
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum ElementCommand<'a> {
    Add { element: RunMapElements<'a> },
    Delete { element: RunMapElements<'a> },
}

fn map_elements<'a>(name: &'a str, map: &NftMap, elements: Vec<&MapElement>) -> RunMapElements<'a> {
    RunMapElements {
        family: NfFamily::INet,
        table: TABLE,
        name,
        elem: elements.into_iter().map(|e| map_element(map, e)).collect(),
    }
}

/// `(key, verdict)` of one element of a run's map.
fn map_element(map: &NftMap, e: &MapElement) -> (Expression<'static>, VerdictValue) {
    let bound = |a: Expression<'static>, b: Expression<'static>, same: bool| {
        if same {
            a
        } else {
            Expression::Range(Box::new(Range { range: [a, b] }))
        }
    };
    let mut key = vec![
        bound(address(e.peer.0), address(e.peer.1), e.peer.0 == e.peer.1),
        bound(
            Expression::Number(u32::from(e.protocol.0)),
            Expression::Number(u32::from(e.protocol.1)),
            e.protocol.0 == e.protocol.1,
        ),
    ];
    if map.ported {
        key.push(ports(e.dport.0, e.dport.1));
        key.push(ports(e.sport.0, e.sport.1));
    }
    (
        Expression::Named(NamedExpression::Concat(key)),
        match e.verdict {
            MapVerdict::Return => VerdictValue::Return(()),
            MapVerdict::Drop => VerdictValue::Drop(()),
        },
    )
}

pub(crate) fn statements(rule: &NftRule) -> Vec<Statement<'static>> {
    let mut out: Vec<Statement<'static>> = rule.matches.iter().map(match_statement).collect();
    out.push(match rule.verdict {
        RuleVerdict::Return => Statement::Return(None),
        RuleVerdict::Drop => Statement::Drop(None),
        RuleVerdict::Accept => Statement::Accept(None),
    });
    out
}

fn meta(key: MetaKey) -> Expression<'static> {
    Expression::Named(NamedExpression::Meta(Meta { key }))
}

fn payload(protocol: &'static str, field: &'static str) -> Expression<'static> {
    Expression::Named(NamedExpression::Payload(Payload::PayloadField(
        PayloadField {
            protocol: protocol.into(),
            field: field.into(),
        },
    )))
}

fn equals(left: Expression<'static>, right: Expression<'static>) -> Statement<'static> {
    Statement::Match(NftMatch {
        left,
        right,
        op: Operator::EQ,
    })
}

fn text(s: &'static str) -> Expression<'static> {
    Expression::String(s.into())
}

fn ports(a: u16, b: u16) -> Expression<'static> {
    if a == b {
        Expression::Number(u32::from(a))
    } else {
        Expression::Range(Box::new(Range {
            range: [
                Expression::Number(u32::from(a)),
                Expression::Number(u32::from(b)),
            ],
        }))
    }
}

fn address_field(side: Side, family: IpFamily) -> Expression<'static> {
    let protocol = match family {
        IpFamily::V4 => "ip",
        IpFamily::V6 => "ip6",
    };
    let field = match side {
        Side::Source => "saddr",
        Side::Destination => "daddr",
    };
    payload(protocol, field)
}

fn match_statement(m: &Match) -> Statement<'static> {
    match m {
        Match::Family(f) => equals(
            meta(MetaKey::Nfproto),
            text(match f {
                IpFamily::V4 => "ipv4",
                IpFamily::V6 => "ipv6",
            }),
        ),
        Match::Protocol(l4) => equals(
            meta(MetaKey::L4proto),
            text(match l4 {
                L4::Tcp => "tcp",
                L4::Udp => "udp",
                L4::Icmp => "icmp",
                L4::Icmpv6 => "ipv6-icmp",
                L4::Gre => "gre",
            }),
        ),
        Match::PortProtocols => equals(
            meta(MetaKey::L4proto),
            Expression::Named(NamedExpression::Set(vec![
                SetItem::Element(text("tcp")),
                SetItem::Element(text("udp")),
            ])),
        ),
        Match::DestinationPorts(a, b) => equals(payload("th", "dport"), ports(*a, *b)),
        Match::SourcePorts(a, b) => equals(payload("th", "sport"), ports(*a, *b)),
        Match::Address { side, net } => {
            let family = match net {
                ipnet::IpNet::V4(_) => IpFamily::V4,
                ipnet::IpNet::V6(_) => IpFamily::V6,
            };
            let right = if net.prefix_len() == net.max_prefix_len() {
                address(net.addr())
            } else {
                Expression::Named(NamedExpression::Prefix(Prefix {
                    addr: Box::new(address(net.network())),
                    len: u32::from(net.prefix_len()),
                }))
            };
            equals(address_field(*side, family), right)
        }
        Match::InSet { side, family, set } => equals(
            address_field(*side, *family),
            Expression::String(Cow::Owned(format!("@{set}"))),
        ),
    }
}

fn ct_state(states: &[&'static str]) -> Expression<'static> {
    Expression::List(states.iter().map(|s| text(s)).collect())
}

fn ct(key: &'static str) -> Expression<'static> {
    Expression::Named(NamedExpression::CT(CT {
        key: key.into(),
        family: None,
        dir: None,
    }))
}

/// The base chain, the same in every router:
/// 1. replies and related packets of allowed flows pass (the groups are stateful);
/// 2. a TCP packet that opens nothing (no SYN) and belongs to no tracked connection is
///    dropped: after a revoke deletes a connection's entry, its next segment must not be
///    picked up as a new connection (possibly in the reverse direction);
/// 3. a NIC interface not (yet) in the maps is closed, whichever way;
/// 4. the source NIC's egress chain (an outside source has none: not in the map);
/// 5. the destination NIC's ingress chain (likewise).
///
/// A direction chain that allows returns here, so both checks always run.
fn base_statements() -> Vec<Vec<Statement<'static>>> {
    let in_state = |states: &[&'static str]| {
        Statement::Match(NftMatch {
            left: ct("state"),
            right: ct_state(states),
            op: Operator::IN,
        })
    };
    let wildcard = Expression::String(Cow::Owned(format!("{}*", names::NIC_IFNAME_PREFIX)));
    vec![
        vec![
            in_state(&["established", "related"]),
            Statement::Accept(None),
        ],
        vec![in_state(&["invalid"]), Statement::Drop(None)],
        vec![
            Statement::Match(NftMatch {
                left: Expression::BinaryOperation(Box::new(BinaryOperation::AND(
                    payload("tcp", "flags"),
                    // A list of flags is their bitwise or (as `nft -j` writes it).
                    Expression::List(vec![text("fin"), text("syn"), text("rst"), text("ack")]),
                ))),
                right: text("syn"),
                op: Operator::NEQ,
            }),
            in_state(&["new"]),
            Statement::Drop(None),
        ],
        closed(MetaKey::Iifname, wildcard.clone()),
        closed(MetaKey::Oifname, wildcard),
        vec![Statement::VerdictMap(VerdictMap {
            key: meta(MetaKey::Iifname),
            data: Expression::String(Cow::Owned(format!("@{EGRESS_MAP}"))),
        })],
        vec![Statement::VerdictMap(VerdictMap {
            key: meta(MetaKey::Oifname),
            data: Expression::String(Cow::Owned(format!("@{INGRESS_MAP}"))),
        })],
    ]
}

/// `iifname "nic*" iifname != @nics drop` (or `oifname`).
fn closed(key: MetaKey, wildcard: Expression<'static>) -> Vec<Statement<'static>> {
    vec![
        equals(meta(key), wildcard),
        Statement::Match(NftMatch {
            left: meta(key),
            right: Expression::String(Cow::Owned(format!("@{NIC_SET}"))),
            op: Operator::NEQ,
        }),
        Statement::Drop(None),
    ]
}

pub(crate) fn base_chain_fingerprint() -> String {
    let text = serde_json::to_string(&base_statements()).unwrap_or_default();
    names::short_hash(&text, 16)
}

fn base_rules() -> Vec<Rule<'static>> {
    let statements = base_statements();
    let last = statements.len().saturating_sub(1);
    let fingerprint = base_chain_fingerprint();
    statements
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let comment = (i == last).then(|| format!("{FINGERPRINT_TAG}{fingerprint} base"));
            rule(BASE_CHAIN, s, comment)
        })
        .collect()
}

/// The fingerprint a rule comment carries, if any.
pub(crate) fn fingerprint_in(comment: &str) -> Option<&str> {
    comment
        .strip_prefix(FINGERPRINT_TAG)
        .map(|rest| rest.split(' ').next().unwrap_or_default())
}

//! `rules`: rule, port range and CIDR parsing never panic, and whatever is accepted renders
//! to text that parses back to the same value.
//!
//! Input: fields separated by `\n`. Every field is tried as each kind of value; the first
//! byte also picks a direction and the fields fill a rule draft in order.

use secgroup_domain::ops::rule_draft::RuleDraft;
use secgroup_domain::rules::{
    decimal, strict_net, Cidr, Direction, IpProtocol, PortRange, Rule, RulePolicy,
};

pub fn fuzz(data: &[u8]) {
    let fields = crate::fields(data, b'\n', 24);
    for f in &fields {
        values(f);
    }
    let direction = if data.first().is_some_and(|b| b & 1 == 1) {
        Direction::Egress
    } else {
        Direction::Ingress
    };
    draft(direction, &fields);
}

/// Each kind of value on its own.
fn values(f: &str) {
    if let Some(range) = PortRange::parse(f) {
        let text = range.to_string();
        assert_eq!(PortRange::parse(&text), Some(range), "{f:?} -> {text:?}");
    }
    if let Some(n) = decimal(f) {
        assert_eq!(decimal(&n.to_string()), Some(n), "{f:?}");
        // Plain decimal: digits and one leading minus only.
        assert!(
            f.strip_prefix('-')
                .unwrap_or(f)
                .bytes()
                .all(|b| b.is_ascii_digit()),
            "{f:?} accepted as a decimal"
        );
    }
    if let Some(net) = strict_net(f) {
        let text = net.to_string();
        assert_eq!(strict_net(&text), Some(net), "{f:?} -> {text:?}");
        assert!(
            !f.contains(char::is_whitespace),
            "{f:?} accepted with a space"
        );
    }
    for (parse, name) in [
        (Cidr::parse_v4 as fn(&str) -> Option<Cidr>, "v4"),
        (Cidr::parse_v6, "v6"),
        (Cidr::parse_any, "any"),
    ] {
        if let Some(cidr) = parse(f) {
            let again = parse(cidr.as_str())
                .unwrap_or_else(|| panic!("{name} {f:?} -> {:?} does not parse", cidr.as_str()));
            assert_eq!(again.as_str(), cidr.as_str(), "{name} {f:?}");
            assert_eq!(again.network(), cidr.network(), "{name} {f:?}");
            assert_eq!(again.family(), cidr.family(), "{name} {f:?}");
        }
    }
    if let Some(p) = IpProtocol::parse(f) {
        assert_eq!(IpProtocol::parse(p.as_str()), Some(p));
    }
    if let Some(p) = RulePolicy::parse(f) {
        assert_eq!(RulePolicy::parse(p.as_str()), Some(p));
    }
    if let Some(d) = Direction::parse(f) {
        assert_eq!(Direction::parse(d.as_str()), Some(d));
    }
}

/// The fields as a rule draft: a valid rule is stored as a row and read back the same.
fn draft(direction: Direction, fields: &[String]) {
    let mut f = fields.iter().cloned();
    let mut next = || f.next().filter(|s| !s.is_empty());
    let draft = RuleDraft {
        ip_protocol: next(),
        port_range: next(),
        source_cidr_ip: next(),
        dest_cidr_ip: next(),
        ipv6_source_cidr_ip: next(),
        ipv6_dest_cidr_ip: next(),
        policy: next(),
        priority: next(),
        source_port_range: next(),
        description: next(),
        nic_type: next(),
        source_group_id: next(),
        dest_group_id: next(),
        source_prefix_list_id: next(),
        dest_prefix_list_id: next(),
        source_group_owner_account: next(),
        dest_group_owner_account: next(),
        port_range_list_id: next(),
        ..RuleDraft::default()
    };
    let Ok(spec) = draft.parse(direction) else {
        return;
    };
    let rule = Rule {
        id: "sgr-fuzz".into(),
        security_group_id: "sg-fuzz".into(),
        spec,
        create_time: chrono::DateTime::UNIX_EPOCH,
    };
    let row = rule.to_row();
    let back = Rule::from_row(row.clone())
        .unwrap_or_else(|e| panic!("{draft:?} stored as {row:?} does not read back: {e}"));
    assert!(back.spec.same_rule(&rule.spec), "{draft:?}: {row:?}");
    assert_eq!(back.spec.description, rule.spec.description);
    assert_eq!(back.to_row(), row, "{draft:?}");
}

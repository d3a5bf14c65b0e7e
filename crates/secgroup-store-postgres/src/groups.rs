//! Security groups and their rules. Every query names the account, except
//! [`groups_referencing_group`], which the trait asks to look across accounts.

use std::collections::HashMap;

use postgres::Row;
use secgroup_domain::rules::{Rule, RuleRow};
use secgroup_domain::{
    InnerAccessPolicy, ResourceType, SecurityGroup, SecurityGroupType, StoreError,
};

use crate::error::corrupt;
use crate::sql::Conn;
use crate::sql::{count, decode_time, delete_tags, encode_time, exec, get, opt, rows, to_count};

macro_rules! group_columns {
    () => {
        "id, account_id, region_id, name, description, group_type, inner_access_policy, \
         vpc_id, resource_group_id, creation_time"
    };
}

macro_rules! rule_columns {
    () => {
        "id, security_group_id, direction, ip_protocol, port_range, source_port_range, \
         policy, priority, peer_kind, peer_value, peer_owner_account, local_cidr, \
         description, create_time"
    };
}

fn decode_group(row: &Row) -> Result<SecurityGroup, StoreError> {
    let group_type: String = get(row, 5)?;
    let policy: String = get(row, 6)?;
    Ok(SecurityGroup {
        id: get(row, 0)?,
        account_id: get(row, 1)?,
        region_id: get(row, 2)?,
        name: get(row, 3)?,
        description: get(row, 4)?,
        group_type: SecurityGroupType::parse(&group_type)
            .ok_or_else(|| corrupt("group type", &group_type))?,
        inner_access_policy: match policy.as_str() {
            "Accept" => InnerAccessPolicy::Accept,
            "Drop" => InnerAccessPolicy::Drop,
            other => return Err(corrupt("inner access policy", other)),
        },
        vpc_id: get(row, 7)?,
        resource_group_id: get(row, 8)?,
        creation_time: decode_time(get(row, 9)?)?,
    })
}

pub(crate) fn insert(c: &mut Conn, g: &SecurityGroup) -> Result<(), StoreError> {
    exec(
        c,
        concat!(
            "INSERT INTO security_groups (",
            group_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ),
        &[
            &g.id,
            &g.account_id,
            &g.region_id,
            &g.name,
            &g.description,
            &g.group_type.as_str(),
            &g.inner_access_policy.as_str(),
            &g.vpc_id,
            &g.resource_group_id,
            &encode_time(g.creation_time),
        ],
    )?;
    Ok(())
}

pub(crate) fn get_group(
    c: &mut Conn,
    account_id: &str,
    id: &str,
) -> Result<Option<SecurityGroup>, StoreError> {
    opt(
        c,
        concat!(
            "SELECT ",
            group_columns!(),
            " FROM security_groups WHERE id = $1 AND account_id = $2"
        ),
        &[&id, &account_id],
    )?
    .map(|row| decode_group(&row))
    .transpose()
}

pub(crate) fn list(
    c: &mut Conn,
    account_id: &str,
    region_id: &str,
) -> Result<Vec<SecurityGroup>, StoreError> {
    rows(
        c,
        concat!(
            "SELECT ",
            group_columns!(),
            " FROM security_groups WHERE account_id = $1 AND region_id = $2 ORDER BY seq"
        ),
        &[&account_id, &region_id],
    )?
    .iter()
    .map(decode_group)
    .collect()
}

pub(crate) fn update(c: &mut Conn, g: &SecurityGroup) -> Result<(), StoreError> {
    exec(
        c,
        "UPDATE security_groups
         SET name = $3, description = $4, inner_access_policy = $5, resource_group_id = $6
         WHERE id = $1 AND account_id = $2",
        &[
            &g.id,
            &g.account_id,
            &g.name,
            &g.description,
            &g.inner_access_policy.as_str(),
            &g.resource_group_id,
        ],
    )?;
    Ok(())
}

/// Deletes the group and, if there was one, its rules and tags.
pub(crate) fn delete(c: &mut Conn, account_id: &str, id: &str) -> Result<bool, StoreError> {
    let deleted = exec(
        c,
        "DELETE FROM security_groups WHERE id = $1 AND account_id = $2",
        &[&id, &account_id],
    )?;
    if deleted == 0 {
        return Ok(false);
    }
    exec(
        c,
        "DELETE FROM rules WHERE account_id = $1 AND security_group_id = $2",
        &[&account_id, &id],
    )?;
    delete_tags(c, account_id, ResourceType::SecurityGroup.as_str(), id)?;
    Ok(true)
}

pub(crate) fn count_groups(
    c: &mut Conn,
    account_id: &str,
    region_id: &str,
) -> Result<u64, StoreError> {
    count(
        c,
        "SELECT COUNT(*) FROM security_groups WHERE account_id = $1 AND region_id = $2",
        &[&account_id, &region_id],
    )
}

fn decode_rule(row: &Row) -> Result<Rule, StoreError> {
    let r = RuleRow {
        id: get(row, 0)?,
        security_group_id: get(row, 1)?,
        direction: get(row, 2)?,
        ip_protocol: get(row, 3)?,
        port_range: get(row, 4)?,
        source_port_range: get(row, 5)?,
        policy: get(row, 6)?,
        priority: get(row, 7)?,
        peer_kind: get(row, 8)?,
        peer_value: get(row, 9)?,
        peer_owner_account: get(row, 10)?,
        local_cidr: get(row, 11)?,
        description: get(row, 12)?,
        create_time: decode_time(get(row, 13)?)?,
    };
    Rule::from_row(r).map_err(|e| StoreError::Other(format!("unreadable rule in database: {e}")))
}

pub(crate) fn insert_rule(c: &mut Conn, account_id: &str, rule: &Rule) -> Result<(), StoreError> {
    let r = rule.to_row();
    exec(
        c,
        concat!(
            "INSERT INTO rules (account_id, ",
            rule_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ),
        &[
            &account_id,
            &r.id,
            &r.security_group_id,
            &r.direction,
            &r.ip_protocol,
            &r.port_range,
            &r.source_port_range,
            &r.policy,
            &r.priority,
            &r.peer_kind,
            &r.peer_value,
            &r.peer_owner_account,
            &r.local_cidr,
            &r.description,
            &encode_time(r.create_time),
        ],
    )?;
    Ok(())
}

pub(crate) fn rules(
    c: &mut Conn,
    account_id: &str,
    security_group_id: &str,
) -> Result<Vec<Rule>, StoreError> {
    rows(
        c,
        concat!(
            "SELECT ",
            rule_columns!(),
            " FROM rules WHERE account_id = $1 AND security_group_id = $2 ORDER BY seq"
        ),
        &[&account_id, &security_group_id],
    )?
    .iter()
    .map(decode_rule)
    .collect()
}

pub(crate) fn update_rule(c: &mut Conn, account_id: &str, rule: &Rule) -> Result<bool, StoreError> {
    let r = rule.to_row();
    let n = exec(
        c,
        "UPDATE rules
         SET security_group_id = $3, direction = $4, ip_protocol = $5, port_range = $6,
             source_port_range = $7, policy = $8, priority = $9, peer_kind = $10,
             peer_value = $11, peer_owner_account = $12, local_cidr = $13,
             description = $14, create_time = $15
         WHERE id = $1 AND account_id = $2",
        &[
            &r.id,
            &account_id,
            &r.security_group_id,
            &r.direction,
            &r.ip_protocol,
            &r.port_range,
            &r.source_port_range,
            &r.policy,
            &r.priority,
            &r.peer_kind,
            &r.peer_value,
            &r.peer_owner_account,
            &r.local_cidr,
            &r.description,
            &encode_time(r.create_time),
        ],
    )?;
    Ok(n > 0)
}

/// Counts only rules of this group and account; an id given twice counts once.
pub(crate) fn delete_rules(
    c: &mut Conn,
    account_id: &str,
    security_group_id: &str,
    rule_ids: &[String],
) -> Result<usize, StoreError> {
    let n = exec(
        c,
        "DELETE FROM rules WHERE id = ANY($1) AND account_id = $2 AND security_group_id = $3",
        &[&rule_ids, &account_id, &security_group_id],
    )?;
    usize::try_from(n).map_err(|_| corrupt("count", &n.to_string()))
}

pub(crate) fn rule_counts(
    c: &mut Conn,
    account_id: &str,
    region_id: &str,
) -> Result<HashMap<String, (u64, u64)>, StoreError> {
    rows(
        c,
        "SELECT r.security_group_id, COUNT(*), COUNT(*) FILTER (WHERE r.peer_kind = 'group')
         FROM security_groups g
         JOIN rules r ON r.account_id = g.account_id AND r.security_group_id = g.id
         WHERE g.account_id = $1 AND g.region_id = $2
         GROUP BY r.security_group_id",
        &[&account_id, &region_id],
    )?
    .iter()
    .map(|row| {
        Ok((
            get(row, 0)?,
            (to_count(get(row, 1)?)?, to_count(get(row, 2)?)?),
        ))
    })
    .collect()
}

/// Across accounts, in the order the first such rule of each group was created.
pub(crate) fn groups_referencing_group(
    c: &mut Conn,
    security_group_id: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    rows(
        c,
        "SELECT security_group_id, account_id FROM rules
         WHERE peer_kind = 'group' AND peer_value = $1
         GROUP BY security_group_id, account_id
         ORDER BY MIN(seq)",
        &[&security_group_id],
    )?
    .iter()
    .map(|row| Ok((get(row, 0)?, get(row, 1)?)))
    .collect()
}

pub(crate) fn groups_referencing_prefix_list(
    c: &mut Conn,
    account_id: &str,
    prefix_list_id: &str,
) -> Result<Vec<String>, StoreError> {
    rows(
        c,
        "SELECT security_group_id FROM rules
         WHERE peer_kind = 'prefix_list' AND peer_value = $2 AND account_id = $1
         GROUP BY security_group_id
         ORDER BY MIN(seq)",
        &[&account_id, &prefix_list_id],
    )?
    .iter()
    .map(|row| get(row, 0))
    .collect()
}

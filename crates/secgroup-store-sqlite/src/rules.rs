//! Security-group rules, stored as the domain's flat
//! [`RuleRow`](secgroup_domain::rules::RuleRow) columns. Every query names the account,
//! except [`groups_referencing_group`](secgroup_domain::RulesTx::groups_referencing_group),
//! which the trait asks to look across accounts (a group may be named as a peer by another
//! account's rules).

use std::collections::HashMap;

use rusqlite::{params, Connection, Row};
use secgroup_domain::ids::{AccountId, PrefixListId, RuleId, SecurityGroupId};
use secgroup_domain::rules::{Rule, RuleRowRef};
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{RulesTx, StoreError};

use crate::error::map_err;
use crate::tx::{to_count, SqliteTx};

/// The columns `decode_row` reads, in its order (the fields of
/// [`RuleRow`](secgroup_domain::rules::RuleRow)).
macro_rules! rule_columns {
    () => {
        "id, security_group_id, direction, ip_protocol, port_range, source_port_range, \
         policy, priority, peer_kind, peer_value, peer_owner_account, local_cidr, \
         description, create_time"
    };
}

impl RulesTx for SqliteTx<'_> {
    fn insert_rule(&mut self, account_id: &AccountId, rule: &Rule) -> Result<(), StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let r = rule.to_row();
        conn.prepare_cached(concat!(
            "INSERT INTO rules (account_id, ",
            rule_columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
        ))
        .and_then(|mut st| {
            st.execute(params![
                account_id,
                r.id,
                r.security_group_id,
                r.direction,
                r.ip_protocol,
                r.port_range,
                r.source_port_range,
                r.policy,
                r.priority,
                r.peer_kind,
                r.peer_value,
                r.peer_owner_account,
                r.local_cidr,
                r.description,
                encode_time(r.create_time),
            ])
        })
        .map_err(map_err)?;
        Ok(())
    }

    /// Oldest first: `seq` grows with every insert and is kept by updates. Decoded straight
    /// from SQLite's column buffers: only the strings the rule keeps are copied (an owned
    /// `String` per column first cost a dozen allocations a rule).
    fn rules(
        &mut self,
        account_id: &AccountId,
        security_group_id: &SecurityGroupId,
    ) -> Result<Vec<Rule>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let security_group_id = security_group_id.as_str();
        let mut statement = conn
            .prepare_cached(concat!(
                "SELECT ",
                rule_columns!(),
                " FROM rules WHERE account_id = ?1 AND security_group_id = ?2 ORDER BY seq"
            ))
            .map_err(map_err)?;
        let mut rows = statement
            .query([account_id, security_group_id])
            .map_err(map_err)?;
        let mut rules = Vec::new();
        while let Some(row) = rows.next().map_err(map_err)? {
            rules.push(decode_row(row)?);
        }
        Ok(rules)
    }

    /// Every column but the id (and the creation order, so the rule keeps its place).
    fn update_rule(&mut self, account_id: &AccountId, rule: &Rule) -> Result<bool, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let r = rule.to_row();
        let changed = conn
            .prepare_cached(
                "UPDATE rules
                 SET security_group_id = ?3, direction = ?4, ip_protocol = ?5, port_range = ?6,
                     source_port_range = ?7, policy = ?8, priority = ?9, peer_kind = ?10,
                     peer_value = ?11, peer_owner_account = ?12, local_cidr = ?13,
                     description = ?14, create_time = ?15
                 WHERE id = ?1 AND account_id = ?2",
            )
            .and_then(|mut st| {
                st.execute(params![
                    r.id,
                    account_id,
                    r.security_group_id,
                    r.direction,
                    r.ip_protocol,
                    r.port_range,
                    r.source_port_range,
                    r.policy,
                    r.priority,
                    r.peer_kind,
                    r.peer_value,
                    r.peer_owner_account,
                    r.local_cidr,
                    r.description,
                    encode_time(r.create_time),
                ])
            })
            .map_err(map_err)?;
        Ok(changed > 0)
    }

    /// Counts only rules of this group and account; an id given twice counts once.
    fn delete_rules(
        &mut self,
        account_id: &AccountId,
        security_group_id: &SecurityGroupId,
        rule_ids: &[RuleId],
    ) -> Result<usize, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let security_group_id = security_group_id.as_str();
        let mut deleted = 0;
        for id in rule_ids {
            deleted += conn
                .prepare_cached(
                    "DELETE FROM rules WHERE id = ?1 AND account_id = ?2 AND security_group_id = ?3",
                )
                .and_then(|mut st| st.execute([id.as_str(), account_id, security_group_id]))
                .map_err(map_err)?;
        }
        Ok(deleted)
    }

    /// Rules carry no region: the account's groups in the region select them (`CROSS JOIN`
    /// keeps SQLite from scanning the account's rules of every region instead).
    fn rule_counts(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<HashMap<SecurityGroupId, (u64, u64)>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let rows: Vec<(String, i64, i64)> = conn
            .prepare_cached(
                "SELECT r.security_group_id, COUNT(*), COALESCE(SUM(r.peer_kind = 'group'), 0)
                 FROM security_groups g
                 CROSS JOIN rules r ON r.account_id = g.account_id AND r.security_group_id = g.id
                 WHERE g.account_id = ?1 AND g.region_id = ?2
                 GROUP BY r.security_group_id",
            )
            .and_then(|mut st| {
                st.query_map([account_id, region_id], |row| {
                    Ok((row.get::<_, String>(0)?, row.get(1)?, row.get(2)?))
                })?
                .collect()
            })
            .map_err(map_err)?;
        rows.into_iter()
            .map(|(id, all, group_peers)| {
                Ok((
                    SecurityGroupId::from(id),
                    (to_count(all)?, to_count(group_peers)?),
                ))
            })
            .collect()
    }

    /// Across accounts, in the order the first such rule of each group was created.
    fn groups_referencing_group(
        &mut self,
        security_group_id: &SecurityGroupId,
    ) -> Result<Vec<(SecurityGroupId, AccountId)>, StoreError> {
        let conn = self.conn;
        let security_group_id = security_group_id.as_str();
        conn.prepare_cached(
            "SELECT security_group_id, account_id FROM rules
             WHERE peer_kind = 'group' AND peer_value = ?1
             GROUP BY security_group_id, account_id
             ORDER BY MIN(seq)",
        )
        .and_then(|mut st| {
            st.query_map([security_group_id], |row| {
                Ok((
                    SecurityGroupId::from(row.get::<_, String>(0)?),
                    AccountId::from(row.get::<_, String>(1)?),
                ))
            })?
            .collect()
        })
        .map_err(map_err)
    }

    /// Within the account, in the order the first such rule of each group was created. The
    /// unary `+` keeps the planner on the peer index, which is far more selective than the
    /// account's.
    fn groups_referencing_prefix_list(
        &mut self,
        account_id: &AccountId,
        prefix_list_id: &PrefixListId,
    ) -> Result<Vec<SecurityGroupId>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let prefix_list_id = prefix_list_id.as_str();
        conn.prepare_cached(
            "SELECT security_group_id FROM rules
             WHERE peer_kind = 'prefix_list' AND peer_value = ?2 AND +account_id = ?1
             GROUP BY security_group_id
             ORDER BY MIN(seq)",
        )
        .and_then(|mut st| {
            st.query_map([account_id, prefix_list_id], |row| {
                row.get::<_, String>(0).map(SecurityGroupId::from)
            })?
            .collect()
        })
        .map_err(map_err)
    }
}

fn decode_row(row: &Row<'_>) -> Result<Rule, StoreError> {
    let text = |i: usize| -> Result<&str, StoreError> {
        row.get_ref(i)
            .map_err(map_err)?
            .as_str()
            .map_err(|e| StoreError::Other(format!("unreadable rule in database: {e}")))
    };
    let create_time = decode_time(text(13)?)?;
    let columns = RuleRowRef {
        id: text(0)?,
        security_group_id: text(1)?,
        direction: text(2)?,
        ip_protocol: text(3)?,
        port_range: text(4)?,
        source_port_range: text(5)?,
        policy: text(6)?,
        priority: row.get(7).map_err(map_err)?,
        peer_kind: text(8)?,
        peer_value: text(9)?,
        peer_owner_account: text(10)?,
        local_cidr: text(11)?,
        description: text(12)?,
        create_time,
    };
    Rule::from_row_ref(columns)
        .map_err(|e| StoreError::Other(format!("unreadable rule in database: {e}")))
}

/// Every rule of a group, when the group goes.
pub(crate) fn delete_group_rules(
    conn: &Connection,
    account_id: &str,
    security_group_id: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM rules WHERE account_id = ?1 AND security_group_id = ?2")
        .and_then(|mut st| st.execute([account_id, security_group_id]))
        .map_err(map_err)?;
    Ok(())
}

//! The rules of security groups. Every query names the account, except
//! [`groups_referencing_group`](secgroup_domain::RulesTx::groups_referencing_group), which
//! the trait asks to look across accounts.

use std::collections::HashMap;

use postgres::Row;
use secgroup_domain::ids::{AccountId, PrefixListId, RuleId, SecurityGroupId};
use secgroup_domain::rules::{Rule, RuleRow};
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{RulesTx, StoreError};

use crate::error::corrupt;
use crate::sql::{exec, get, rows, to_count};
use crate::tx::PgTx;

macro_rules! rule_columns {
    () => {
        "id, security_group_id, direction, ip_protocol, port_range, source_port_range, \
         policy, priority, peer_kind, peer_value, peer_owner_account, local_cidr, \
         description, create_time"
    };
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

impl RulesTx for PgTx<'_> {
    fn insert_rule(&mut self, account_id: &AccountId, rule: &Rule) -> Result<(), StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
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

    fn rules(
        &mut self,
        account_id: &AccountId,
        security_group_id: &SecurityGroupId,
    ) -> Result<Vec<Rule>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let security_group_id = security_group_id.as_str();
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

    fn update_rule(&mut self, account_id: &AccountId, rule: &Rule) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
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
    fn delete_rules(
        &mut self,
        account_id: &AccountId,
        security_group_id: &SecurityGroupId,
        rule_ids: &[RuleId],
    ) -> Result<usize, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let security_group_id = security_group_id.as_str();
        let rule_ids: Vec<&str> = rule_ids.iter().map(RuleId::as_str).collect();
        let n = exec(
            c,
            "DELETE FROM rules WHERE id = ANY($1) AND account_id = $2 AND security_group_id = $3",
            &[&rule_ids, &account_id, &security_group_id],
        )?;
        usize::try_from(n).map_err(|_| corrupt("count", &n.to_string()))
    }

    fn rule_counts(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<HashMap<SecurityGroupId, (u64, u64)>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
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
            let group: String = get(row, 0)?;
            Ok((
                SecurityGroupId::from(group),
                (to_count(get(row, 1)?)?, to_count(get(row, 2)?)?),
            ))
        })
        .collect()
    }

    /// Across accounts, in the order the first such rule of each group was created.
    fn groups_referencing_group(
        &mut self,
        security_group_id: &SecurityGroupId,
    ) -> Result<Vec<(SecurityGroupId, AccountId)>, StoreError> {
        let c = &mut *self.c;
        let security_group_id = security_group_id.as_str();
        rows(
            c,
            "SELECT security_group_id, account_id FROM rules
             WHERE peer_kind = 'group' AND peer_value = $1
             GROUP BY security_group_id, account_id
             ORDER BY MIN(seq)",
            &[&security_group_id],
        )?
        .iter()
        .map(|row| {
            let (group, account): (String, String) = (get(row, 0)?, get(row, 1)?);
            Ok((SecurityGroupId::from(group), AccountId::from(account)))
        })
        .collect()
    }

    fn groups_referencing_prefix_list(
        &mut self,
        account_id: &AccountId,
        prefix_list_id: &PrefixListId,
    ) -> Result<Vec<SecurityGroupId>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let prefix_list_id = prefix_list_id.as_str();
        rows(
            c,
            "SELECT security_group_id FROM rules
             WHERE peer_kind = 'prefix_list' AND peer_value = $2 AND account_id = $1
             GROUP BY security_group_id
             ORDER BY MIN(seq)",
            &[&account_id, &prefix_list_id],
        )?
        .iter()
        .map(|row| get::<String>(row, 0).map(SecurityGroupId::from))
        .collect()
    }
}

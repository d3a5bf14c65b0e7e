//! Instances and their security-group memberships. Every query names the account, except
//! [`used_private_ips`](secgroup_domain::InstancesTx::used_private_ips), which asks about
//! a vSwitch (ids are globally unique).

use std::collections::HashMap;

use postgres::Row;
use secgroup_domain::ids::{AccountId, InstanceId, SecurityGroupId, VSwitchId};
use secgroup_domain::network::{Instance, InstanceQuery, InstanceScope, InstanceStatus};
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{InstancesTx, ResourceType, StoreError};

use crate::error::corrupt;
use crate::sql::{count, delete_tags, exec, get, opt, rows, to_count, Conn, Param};
use crate::tx::PgTx;

/// The columns [`decode`] reads, in its order; the last is the instance's groups,
/// comma-separated in join order.
macro_rules! instance_columns {
    () => {
        "i.id, i.account_id, i.region_id, i.zone_id, i.vpc_id, i.vswitch_id, i.name, \
         i.description, i.host_name, i.instance_type, i.image_id, i.status, i.status_since, \
         i.creation_time, i.network_interface_id, i.mac_address, i.private_ip, i.attributes, \
         (SELECT string_agg(m.security_group_id, ',' ORDER BY m.position) \
            FROM instance_security_groups m WHERE m.instance_id = i.id)"
    };
}

fn decode(row: &Row) -> Result<Instance, StoreError> {
    let status: String = get(row, 11)?;
    let groups: Option<String> = get(row, 18)?;
    Ok(Instance {
        id: get(row, 0)?,
        account_id: get(row, 1)?,
        region_id: get(row, 2)?,
        zone_id: get(row, 3)?,
        vpc_id: get(row, 4)?,
        vswitch_id: get(row, 5)?,
        name: get(row, 6)?,
        description: get(row, 7)?,
        host_name: get(row, 8)?,
        instance_type: get(row, 9)?,
        image_id: get(row, 10)?,
        status: InstanceStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        status_since: decode_time(get(row, 12)?)?,
        creation_time: decode_time(get(row, 13)?)?,
        network_interface_id: get(row, 14)?,
        mac_address: get(row, 15)?,
        private_ip: get(row, 16)?,
        attributes: get(row, 17)?,
        security_group_ids: groups
            .unwrap_or_default()
            .split(',')
            .filter(|g| !g.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

fn insert_memberships(c: &mut Conn, i: &Instance) -> Result<(), StoreError> {
    for (position, group) in (0_i64..).zip(&i.security_group_ids) {
        exec(
            c,
            "INSERT INTO instance_security_groups (instance_id, security_group_id, position)
             VALUES ($1, $2, $3)",
            &[&i.id, group, &position],
        )?;
    }
    Ok(())
}

fn delete_memberships(c: &mut Conn, instance_id: &str) -> Result<(), StoreError> {
    exec(
        c,
        "DELETE FROM instance_security_groups WHERE instance_id = $1",
        &[&instance_id],
    )?;
    Ok(())
}

impl InstancesTx for PgTx<'_> {
    /// A second instance with the same id, interface or (vSwitch, address) is a duplicate.
    fn insert_instance(&mut self, i: &Instance) -> Result<(), StoreError> {
        let c = &mut *self.c;
        exec(
            c,
            "INSERT INTO instances (id, account_id, region_id, zone_id, vpc_id, vswitch_id, name,
                 description, host_name, instance_type, image_id, status, status_since,
                 creation_time, network_interface_id, mac_address, private_ip, attributes)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            &[
                &i.id,
                &i.account_id,
                &i.region_id,
                &i.zone_id,
                &i.vpc_id,
                &i.vswitch_id,
                &i.name,
                &i.description,
                &i.host_name,
                &i.instance_type,
                &i.image_id,
                &i.status.as_str(),
                &encode_time(i.status_since),
                &encode_time(i.creation_time),
                &i.network_interface_id,
                &i.mac_address,
                &i.private_ip,
                &i.attributes,
            ],
        )?;
        insert_memberships(c, i)?;
        let owner = crate::network_interfaces::AddressOwner {
            account_id: &i.account_id,
            region_id: &i.region_id,
            vswitch_id: &i.vswitch_id,
            interface_id: &i.network_interface_id,
        };
        crate::network_interfaces::insert_address(c, &owner, &i.private_ip, true, 0)
    }

    fn instance(
        &mut self,
        account_id: &AccountId,
        id: &InstanceId,
    ) -> Result<Option<Instance>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let id = id.as_str();
        opt(
            c,
            concat!(
                "SELECT ",
                instance_columns!(),
                " FROM instances i WHERE i.id = $1 AND i.account_id = $2"
            ),
            &[&id, &account_id],
        )?
        .map(|row| decode(&row))
        .transpose()
    }

    /// Oldest first; with a page, only its window.
    fn instances(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
        q: &InstanceQuery,
    ) -> Result<Vec<Instance>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let (from, mut args) = filter(&account_id, &region_id, q);
        let window;
        let mut sql = format!(
            concat!("SELECT ", instance_columns!(), "{} ORDER BY i.seq"),
            from
        );
        if let Some((offset, limit)) = q.page {
            window = (
                i64::try_from(limit).unwrap_or(i64::MAX),
                i64::try_from(offset).unwrap_or(i64::MAX),
            );
            args.push(&window.0);
            args.push(&window.1);
            sql.push_str(&format!(
                " LIMIT ${} OFFSET ${}",
                args.len() - 1,
                args.len()
            ));
        }
        rows(c, &sql, &args)?.iter().map(decode).collect()
    }

    fn count_matching_instances(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
        q: &InstanceQuery,
    ) -> Result<u64, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let (from, args) = filter(&account_id, &region_id, q);
        count(c, &format!("SELECT COUNT(*){from}"), &args)
    }

    /// The mutable fields and the whole membership set.
    fn update_instance(&mut self, i: &Instance) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let n = exec(
            c,
            "UPDATE instances
             SET name = $3, description = $4, host_name = $5, instance_type = $6,
                 image_id = $7, status = $8, status_since = $9, attributes = $10
             WHERE id = $1 AND account_id = $2",
            &[
                &i.id,
                &i.account_id,
                &i.name,
                &i.description,
                &i.host_name,
                &i.instance_type,
                &i.image_id,
                &i.status.as_str(),
                &encode_time(i.status_since),
                &i.attributes,
            ],
        )?;
        if n == 0 {
            return Ok(false);
        }
        delete_memberships(c, &i.id)?;
        insert_memberships(c, i)?;
        Ok(true)
    }

    /// The instance, its memberships and its tags; its address is free again.
    fn delete_instance(
        &mut self,
        account_id: &AccountId,
        id: &InstanceId,
    ) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let id = id.as_str();
        let Some(row) = opt(
            c,
            "DELETE FROM instances WHERE id = $1 AND account_id = $2
             RETURNING network_interface_id",
            &[&id, &account_id],
        )?
        else {
            return Ok(false);
        };
        let interface: String = get(&row, 0)?;
        delete_memberships(c, id)?;
        crate::network_interfaces::delete_addresses(c, &interface)?;
        delete_tags(c, account_id, ResourceType::Instance.as_str(), id)?;
        delete_tags(c, account_id, ResourceType::Eni.as_str(), &interface)?;
        Ok(true)
    }

    fn used_private_ips(&mut self, vswitch_id: &VSwitchId) -> Result<Vec<String>, StoreError> {
        let c = &mut *self.c;
        let vswitch_id = vswitch_id.as_str();
        rows(
            c,
            "SELECT private_ip FROM private_ip_addresses WHERE vswitch_id = $1",
            &[&vswitch_id],
        )?
        .iter()
        .map(|row| get(row, 0))
        .collect()
    }

    fn count_instances(
        &mut self,
        account_id: &AccountId,
        scope: InstanceScope<'_>,
    ) -> Result<u64, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let (sql, key) = match scope {
            InstanceScope::Vpc(vpc) => (
                "SELECT COUNT(*) FROM instances WHERE account_id = $1 AND vpc_id = $2",
                vpc.as_str(),
            ),
            InstanceScope::VSwitch(vswitch) => (
                "SELECT COUNT(*) FROM instances WHERE account_id = $1 AND vswitch_id = $2",
                vswitch.as_str(),
            ),
            InstanceScope::SecurityGroup(group) => (
                "SELECT COUNT(*) FROM instance_security_groups g
                 JOIN instances i ON i.id = g.instance_id
                 WHERE i.account_id = $1 AND g.security_group_id = $2",
                group.as_str(),
            ),
        };
        count(c, sql, &[&account_id, &key])
    }

    fn member_counts(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<HashMap<SecurityGroupId, u64>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        rows(
            c,
            "SELECT g.security_group_id, COUNT(*) FROM instances i
             JOIN instance_security_groups g ON g.instance_id = i.id
             WHERE i.account_id = $1 AND i.region_id = $2
             GROUP BY g.security_group_id",
            &[&account_id, &region_id],
        )?
        .iter()
        .map(|row| {
            let group: String = get(row, 0)?;
            Ok((SecurityGroupId::from(group), to_count(get(row, 1)?)?))
        })
        .collect()
    }
}

/// The `FROM … WHERE …` of a query and its arguments (numbered from `$1`).
fn filter<'a>(
    account_id: &'a &'a str,
    region_id: &'a &'a str,
    q: &'a InstanceQuery,
) -> (String, Vec<Param<'a>>) {
    let mut args: Vec<Param<'a>> = vec![account_id, region_id];
    let mut sql = String::from(" FROM instances i WHERE i.account_id = $1 AND i.region_id = $2");
    let mut push = |cond: &str, arg: Param<'a>, sql: &mut String| {
        args.push(arg);
        sql.push_str(&format!(" AND {cond}${}", args.len()));
    };
    if let Some(group) = &q.security_group_id {
        push(
            "i.id IN (SELECT g.instance_id FROM instance_security_groups g \
             WHERE g.security_group_id = ",
            group,
            &mut sql,
        );
        sql.push(')');
    }
    if let Some(ids) = &q.ids {
        push("i.id = ANY(", ids, &mut sql);
        sql.push(')');
    }
    if let Some(vpc) = &q.vpc_id {
        push("i.vpc_id = ", vpc, &mut sql);
    }
    if let Some(vswitch) = &q.vswitch_id {
        push("i.vswitch_id = ", vswitch, &mut sql);
    }
    (sql, args)
}

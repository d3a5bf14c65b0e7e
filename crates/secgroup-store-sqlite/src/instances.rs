//! Instances and their security-group memberships. Every query names the account, except
//! [`used_private_ips`](secgroup_domain::InstancesTx::used_private_ips), which asks about
//! a vSwitch (ids are globally unique).

use std::collections::HashMap;

use rusqlite::types::ToSql;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use secgroup_domain::ids::{AccountId, InstanceId, SecurityGroupId, VSwitchId};
use secgroup_domain::network::{Instance, InstanceQuery, InstanceScope, InstanceStatus};
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{InstancesTx, ResourceType, StoreError};

use crate::error::{corrupt, map_err};
use crate::tx::{to_count, SqliteTx};

/// The columns [`Raw::from_row`] reads, in its order; the last is the instance's groups,
/// comma-separated in join order.
macro_rules! instance_columns {
    () => {
        "i.id, i.account_id, i.region_id, i.zone_id, i.vpc_id, i.vswitch_id, i.name, \
         i.description, i.host_name, i.instance_type, i.image_id, i.status, i.status_since, \
         i.creation_time, i.network_interface_id, i.mac_address, i.private_ip, i.attributes, \
         (SELECT group_concat(m.security_group_id, ',' ORDER BY m.position) \
            FROM instance_security_groups m WHERE m.instance_id = i.id)"
    };
}

/// A row as SQLite returns it; the state, the times and the groups are decoded afterwards.
struct Raw {
    instance: Instance,
    status: String,
    status_since: String,
    creation_time: String,
    groups: Option<String>,
}

impl Raw {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Raw> {
        Ok(Raw {
            instance: Instance {
                id: row.get(0)?,
                account_id: row.get(1)?,
                region_id: row.get(2)?,
                zone_id: row.get(3)?,
                vpc_id: row.get(4)?,
                vswitch_id: row.get(5)?,
                name: row.get(6)?,
                description: row.get(7)?,
                host_name: row.get(8)?,
                instance_type: row.get(9)?,
                image_id: row.get(10)?,
                status: InstanceStatus::Pending,
                status_since: chrono::DateTime::UNIX_EPOCH,
                creation_time: chrono::DateTime::UNIX_EPOCH,
                network_interface_id: row.get(14)?,
                mac_address: row.get(15)?,
                private_ip: row.get(16)?,
                security_group_ids: Vec::new(),
                attributes: row.get(17)?,
            },
            status: row.get(11)?,
            status_since: row.get(12)?,
            creation_time: row.get(13)?,
            groups: row.get(18)?,
        })
    }

    fn decode(self) -> Result<Instance, StoreError> {
        let mut instance = self.instance;
        instance.status =
            InstanceStatus::parse(&self.status).ok_or_else(|| corrupt("status", &self.status))?;
        instance.status_since = decode_time(&self.status_since)?;
        instance.creation_time = decode_time(&self.creation_time)?;
        instance.security_group_ids = self
            .groups
            .unwrap_or_default()
            .split(',')
            .filter(|g| !g.is_empty())
            .map(str::to_string)
            .collect();
        Ok(instance)
    }
}

fn insert_memberships(conn: &Connection, i: &Instance) -> Result<(), StoreError> {
    let mut st = conn
        .prepare_cached(
            "INSERT INTO instance_security_groups (instance_id, security_group_id, position)
             VALUES (?1, ?2, ?3)",
        )
        .map_err(map_err)?;
    for (position, group) in i.security_group_ids.iter().enumerate() {
        st.execute(params![i.id, group, position as i64])
            .map_err(map_err)?;
    }
    Ok(())
}

fn delete_memberships(conn: &Connection, instance_id: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM instance_security_groups WHERE instance_id = ?1")
        .and_then(|mut st| st.execute([instance_id]))
        .map_err(map_err)?;
    Ok(())
}

impl InstancesTx for SqliteTx<'_> {
    /// A second instance with the same id, interface or (vSwitch, address) is a duplicate.
    fn insert_instance(&mut self, i: &Instance) -> Result<(), StoreError> {
        let conn = self.conn;
        conn.prepare_cached(
            "INSERT INTO instances (id, account_id, region_id, zone_id, vpc_id, vswitch_id, name,
                 description, host_name, instance_type, image_id, status, status_since,
                 creation_time, network_interface_id, mac_address, private_ip, attributes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
        )
        .and_then(|mut st| {
            st.execute(params![
                i.id,
                i.account_id,
                i.region_id,
                i.zone_id,
                i.vpc_id,
                i.vswitch_id,
                i.name,
                i.description,
                i.host_name,
                i.instance_type,
                i.image_id,
                i.status.as_str(),
                encode_time(i.status_since),
                encode_time(i.creation_time),
                i.network_interface_id,
                i.mac_address,
                i.private_ip,
                i.attributes,
            ])
        })
        .map_err(map_err)?;
        insert_memberships(conn, i)?;
        crate::network_interfaces::insert_address(
            conn,
            &i.account_id,
            &i.region_id,
            &i.vswitch_id,
            &i.network_interface_id,
            &i.private_ip,
            true,
            0,
        )
    }

    fn instance(
        &mut self,
        account_id: &AccountId,
        id: &InstanceId,
    ) -> Result<Option<Instance>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let id = id.as_str();
        conn.prepare_cached(concat!(
            "SELECT ",
            instance_columns!(),
            " FROM instances i WHERE i.id = ?1 AND i.account_id = ?2"
        ))
        .and_then(|mut st| st.query_row([id, account_id], Raw::from_row).optional())
        .map_err(map_err)?
        .map(Raw::decode)
        .transpose()
    }

    /// Oldest first (`seq` is the rowid). With a page, only its rows are read in full: the
    /// window is chosen on `seq` alone, then those rows are fetched.
    fn instances(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
        q: &InstanceQuery,
    ) -> Result<Vec<Instance>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let filter = Filter::new(q);
        let mut args = filter.args(&account_id, &region_id, q);
        let (offset, limit);
        let sql = match q.page {
            None => format!(
                concat!("SELECT ", instance_columns!(), "{} ORDER BY i.seq"),
                filter.sql
            ),
            Some((o, l)) => {
                offset = i64::try_from(o).unwrap_or(i64::MAX);
                limit = i64::try_from(l).unwrap_or(i64::MAX);
                args.push(&limit);
                args.push(&offset);
                format!(
                    concat!(
                        "SELECT ",
                        instance_columns!(),
                        " FROM instances i WHERE i.seq IN (SELECT i.seq{} ORDER BY i.seq LIMIT ? OFFSET ?)",
                        " ORDER BY i.seq"
                    ),
                    filter.sql
                )
            }
        };
        let raws = conn
            .prepare_cached(&sql)
            .and_then(|mut st| {
                st.query_map(params_from_iter(args), Raw::from_row)?
                    .collect::<rusqlite::Result<Vec<Raw>>>()
            })
            .map_err(map_err)?;
        raws.into_iter().map(Raw::decode).collect()
    }

    /// How many `list` would return without the page.
    fn count_matching_instances(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
        q: &InstanceQuery,
    ) -> Result<u64, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let filter = Filter::new(q);
        let args = filter.args(&account_id, &region_id, q);
        let n: i64 = conn
            .prepare_cached(&format!("SELECT COUNT(*){}", filter.sql))
            .and_then(|mut st| st.query_row(params_from_iter(args), |row| row.get(0)))
            .map_err(map_err)?;
        to_count(n)
    }

    /// The mutable fields (names, type, image, state, attributes) and the whole membership set.
    fn update_instance(&mut self, i: &Instance) -> Result<bool, StoreError> {
        let conn = self.conn;
        let n = conn
            .prepare_cached(
                "UPDATE instances
                 SET name = ?3, description = ?4, host_name = ?5, instance_type = ?6,
                     image_id = ?7, status = ?8, status_since = ?9, attributes = ?10
                 WHERE id = ?1 AND account_id = ?2",
            )
            .and_then(|mut st| {
                st.execute(params![
                    i.id,
                    i.account_id,
                    i.name,
                    i.description,
                    i.host_name,
                    i.instance_type,
                    i.image_id,
                    i.status.as_str(),
                    encode_time(i.status_since),
                    i.attributes,
                ])
            })
            .map_err(map_err)?;
        if n == 0 {
            return Ok(false);
        }
        delete_memberships(conn, &i.id)?;
        insert_memberships(conn, i)?;
        Ok(true)
    }

    /// The instance, its memberships and its tags; its address is free again.
    fn delete_instance(
        &mut self,
        account_id: &AccountId,
        id: &InstanceId,
    ) -> Result<bool, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let id = id.as_str();
        let interface: Option<String> = conn
            .prepare_cached(
                "DELETE FROM instances WHERE id = ?1 AND account_id = ?2
                 RETURNING network_interface_id",
            )
            .and_then(|mut st| st.query_row([id, account_id], |row| row.get(0)).optional())
            .map_err(map_err)?;
        let Some(interface) = interface else {
            return Ok(false);
        };
        delete_memberships(conn, id)?;
        crate::network_interfaces::delete_addresses(conn, &interface)?;
        let mut tags = conn
            .prepare_cached(
                "DELETE FROM tags WHERE account_id = ?1 AND resource_type = ?2 AND resource_id = ?3",
            )
            .map_err(map_err)?;
        tags.execute([account_id, ResourceType::Instance.as_str(), id])
            .map_err(map_err)?;
        tags.execute([account_id, ResourceType::Eni.as_str(), &interface])
            .map_err(map_err)?;
        Ok(true)
    }

    fn used_private_ips(&mut self, vswitch_id: &VSwitchId) -> Result<Vec<String>, StoreError> {
        let conn = self.conn;
        let vswitch_id = vswitch_id.as_str();
        conn.prepare_cached("SELECT private_ip FROM private_ip_addresses WHERE vswitch_id = ?1")
            .and_then(|mut st| {
                st.query_map([vswitch_id], |row| row.get(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .map_err(map_err)
    }

    fn count_instances(
        &mut self,
        account_id: &AccountId,
        scope: InstanceScope<'_>,
    ) -> Result<u64, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let (sql, key) = match scope {
            InstanceScope::Vpc(vpc) => (
                "SELECT COUNT(*) FROM instances WHERE account_id = ?1 AND vpc_id = ?2",
                vpc.as_str(),
            ),
            InstanceScope::VSwitch(vswitch) => (
                "SELECT COUNT(*) FROM instances WHERE account_id = ?1 AND vswitch_id = ?2",
                vswitch.as_str(),
            ),
            InstanceScope::SecurityGroup(group) => (
                "SELECT COUNT(*) FROM instance_security_groups g
                 CROSS JOIN instances i ON i.id = g.instance_id
                 WHERE i.account_id = ?1 AND g.security_group_id = ?2",
                group.as_str(),
            ),
        };
        let n: i64 = conn
            .prepare_cached(sql)
            .and_then(|mut st| st.query_row([account_id, key], |row| row.get(0)))
            .map_err(map_err)?;
        to_count(n)
    }

    /// Members per group of the account's instances in the region.
    fn member_counts(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<HashMap<SecurityGroupId, u64>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let rows = conn
            .prepare_cached(
                "SELECT g.security_group_id, COUNT(*) FROM instances i
                 JOIN instance_security_groups g ON g.instance_id = i.id
                 WHERE i.account_id = ?1 AND i.region_id = ?2
                 GROUP BY g.security_group_id",
            )
            .and_then(|mut st| {
                st.query_map([account_id, region_id], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(map_err)?;
        rows.into_iter()
            .map(|(group, n)| Ok((SecurityGroupId::from(group), to_count(n)?)))
            .collect()
    }
}

/// The `FROM … WHERE …` of a query, with its arguments. By group it starts from the
/// group's members (`CROSS JOIN` keeps that order), otherwise from the account's instances
/// in the region; each shape gets its own (cached) statement.
struct Filter {
    sql: String,
    ids_json: Option<String>,
}

impl Filter {
    fn new(q: &InstanceQuery) -> Filter {
        let mut sql = String::new();
        if q.security_group_id.is_some() {
            sql.push_str(
                " FROM instance_security_groups g CROSS JOIN instances i ON i.id = g.instance_id
                  WHERE g.security_group_id = ? AND i.account_id = ? AND i.region_id = ?",
            );
        } else {
            sql.push_str(" FROM instances i WHERE i.account_id = ? AND i.region_id = ?");
        }
        let ids_json = q.ids.as_deref().map(json_array);
        if ids_json.is_some() {
            sql.push_str(" AND i.id IN (SELECT value FROM json_each(?))");
        }
        if q.vpc_id.is_some() {
            sql.push_str(" AND i.vpc_id = ?");
        }
        if q.vswitch_id.is_some() {
            sql.push_str(" AND i.vswitch_id = ?");
        }
        Filter { sql, ids_json }
    }

    /// The arguments of [`Filter::sql`], in order.
    fn args<'a>(
        &'a self,
        account_id: &'a &'a str,
        region_id: &'a &'a str,
        q: &'a InstanceQuery,
    ) -> Vec<&'a dyn ToSql> {
        let mut args: Vec<&dyn ToSql> = Vec::with_capacity(6);
        if let Some(group) = &q.security_group_id {
            args.push(group);
        }
        args.push(account_id);
        args.push(region_id);
        if let Some(ids) = &self.ids_json {
            args.push(ids);
        }
        if let Some(vpc) = &q.vpc_id {
            args.push(vpc);
        }
        if let Some(vswitch) = &q.vswitch_id {
            args.push(vswitch);
        }
        args
    }
}

/// A JSON array of strings (ids never need more than quote and backslash escaping, but
/// every control character is escaped too).
fn json_array(items: &[String]) -> String {
    let mut out = String::from("[");
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push('"');
        for c in item.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn id_lists_are_json_arrays() {
        let ids = ["i-1".to_string(), "a\"b\\c\u{1}".to_string()];
        assert_eq!(super::json_array(&ids), r#"["i-1","a\"b\\c\u0001"]"#);
        assert_eq!(super::json_array(&[]), "[]");
    }
}

//! Secondary network interfaces, their memberships, and the private addresses of every
//! interface (primary interfaces' included: [`InstancesTx`](secgroup_domain::InstancesTx)
//! writes those rows with the instance). Every query names the account.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension, Row};
use secgroup_domain::ids::{AccountId, VSwitchId};
use secgroup_domain::network::{InstanceScope, InterfaceKind, NetworkInterface};
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{NetworkInterfacesTx, ResourceType, StoreError};

use crate::error::map_err;
use crate::tx::{to_count, SqliteTx};

/// The columns [`Raw::from_row`] reads, in its order: the interface, then its groups and
/// its secondary addresses, each comma-separated in order.
macro_rules! interface_columns {
    () => {
        "e.id, e.account_id, e.region_id, e.zone_id, e.vpc_id, e.vswitch_id, e.name, \
         e.description, e.resource_group_id, e.instance_id, e.device_index, e.mac_address, \
         e.primary_ip, e.creation_time, \
         (SELECT group_concat(m.security_group_id, ',' ORDER BY m.position) \
            FROM network_interface_security_groups m WHERE m.network_interface_id = e.id), \
         (SELECT group_concat(a.private_ip, ',' ORDER BY a.seq) FROM private_ip_addresses a \
            WHERE a.network_interface_id = e.id AND a.is_primary = 0)"
    };
}

struct Raw {
    interface: NetworkInterface,
    creation_time: String,
    groups: Option<String>,
    secondary_ips: Option<String>,
}

fn split(list: Option<String>) -> Vec<String> {
    list.unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl Raw {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Raw> {
        Ok(Raw {
            interface: NetworkInterface {
                id: row.get(0)?,
                account_id: row.get(1)?,
                region_id: row.get(2)?,
                zone_id: row.get(3)?,
                vpc_id: row.get(4)?,
                vswitch_id: row.get(5)?,
                kind: InterfaceKind::Secondary,
                name: row.get(6)?,
                description: row.get(7)?,
                resource_group_id: row.get(8)?,
                instance_id: row.get(9)?,
                device_index: row.get(10)?,
                mac_address: row.get(11)?,
                primary_ip: row.get(12)?,
                secondary_ips: Vec::new(),
                security_group_ids: Vec::new(),
                creation_time: chrono::DateTime::UNIX_EPOCH,
            },
            creation_time: row.get(13)?,
            groups: row.get(14)?,
            secondary_ips: row.get(15)?,
        })
    }

    fn decode(self) -> Result<NetworkInterface, StoreError> {
        let mut eni = self.interface;
        eni.creation_time = decode_time(&self.creation_time)?;
        eni.security_group_ids = split(self.groups);
        eni.secondary_ips = split(self.secondary_ips);
        Ok(eni)
    }
}

fn insert_memberships(conn: &Connection, eni: &NetworkInterface) -> Result<(), StoreError> {
    let mut st = conn
        .prepare_cached(
            "INSERT INTO network_interface_security_groups
                 (network_interface_id, security_group_id, position) VALUES (?1, ?2, ?3)",
        )
        .map_err(map_err)?;
    for (position, group) in eni.security_group_ids.iter().enumerate() {
        st.execute(params![eni.id, group, position as i64])
            .map_err(map_err)?;
    }
    Ok(())
}

fn delete_memberships(conn: &Connection, id: &str) -> Result<(), StoreError> {
    conn.prepare_cached(
        "DELETE FROM network_interface_security_groups WHERE network_interface_id = ?1",
    )
    .and_then(|mut st| st.execute([id]))
    .map_err(map_err)?;
    Ok(())
}

/// One address row; a taken (vSwitch, address) is a duplicate.
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert_address(
    conn: &Connection,
    account_id: &str,
    region_id: &str,
    vswitch_id: &str,
    interface_id: &str,
    ip: &str,
    primary: bool,
    seq: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO private_ip_addresses
             (vswitch_id, private_ip, account_id, region_id, network_interface_id, is_primary, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut st| {
        st.execute(params![
            vswitch_id,
            ip,
            account_id,
            region_id,
            interface_id,
            i64::from(primary),
            seq
        ])
    })
    .map_err(map_err)?;
    Ok(())
}

/// Every address of an interface goes.
pub(crate) fn delete_addresses(conn: &Connection, interface_id: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM private_ip_addresses WHERE network_interface_id = ?1")
        .and_then(|mut st| st.execute([interface_id]))
        .map_err(map_err)?;
    Ok(())
}

impl NetworkInterfacesTx for SqliteTx<'_> {
    fn insert_network_interface(&mut self, e: &NetworkInterface) -> Result<(), StoreError> {
        let conn = self.conn;
        conn.prepare_cached(
            "INSERT INTO network_interfaces (id, account_id, region_id, zone_id, vpc_id,
                 vswitch_id, name, description, resource_group_id, instance_id, device_index,
                 mac_address, primary_ip, creation_time)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )
        .and_then(|mut st| {
            st.execute(params![
                e.id,
                e.account_id,
                e.region_id,
                e.zone_id,
                e.vpc_id,
                e.vswitch_id,
                e.name,
                e.description,
                e.resource_group_id,
                e.instance_id,
                e.device_index,
                e.mac_address,
                e.primary_ip,
                encode_time(e.creation_time),
            ])
        })
        .map_err(map_err)?;
        insert_memberships(conn, e)?;
        let (a, r, v) = (&e.account_id, &e.region_id, &e.vswitch_id);
        insert_address(conn, a, r, v, &e.id, &e.primary_ip, true, 0)?;
        for (seq, ip) in (1_i64..).zip(&e.secondary_ips) {
            insert_address(conn, a, r, v, &e.id, ip, false, seq)?;
        }
        Ok(())
    }

    fn network_interface(
        &mut self,
        account_id: &AccountId,
        id: &str,
    ) -> Result<Option<NetworkInterface>, StoreError> {
        self.conn
            .prepare_cached(concat!(
                "SELECT ",
                interface_columns!(),
                " FROM network_interfaces e WHERE e.id = ?1 AND e.account_id = ?2"
            ))
            .and_then(|mut st| {
                st.query_row([id, account_id.as_str()], Raw::from_row)
                    .optional()
            })
            .map_err(map_err)?
            .map(Raw::decode)
            .transpose()
    }

    fn network_interfaces(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<Vec<NetworkInterface>, StoreError> {
        let raws = self
            .conn
            .prepare_cached(concat!(
                "SELECT ",
                interface_columns!(),
                " FROM network_interfaces e WHERE e.account_id = ?1 AND e.region_id = ?2",
                " ORDER BY e.seq"
            ))
            .and_then(|mut st| {
                st.query_map([account_id.as_str(), region_id], Raw::from_row)?
                    .collect::<rusqlite::Result<Vec<Raw>>>()
            })
            .map_err(map_err)?;
        raws.into_iter().map(Raw::decode).collect()
    }

    fn update_network_interface(&mut self, e: &NetworkInterface) -> Result<bool, StoreError> {
        let conn = self.conn;
        let n = conn
            .prepare_cached(
                "UPDATE network_interfaces
                 SET name = ?3, description = ?4, instance_id = ?5, device_index = ?6
                 WHERE id = ?1 AND account_id = ?2",
            )
            .and_then(|mut st| {
                st.execute(params![
                    e.id,
                    e.account_id,
                    e.name,
                    e.description,
                    e.instance_id,
                    e.device_index,
                ])
            })
            .map_err(map_err)?;
        if n == 0 {
            return Ok(false);
        }
        delete_memberships(conn, &e.id)?;
        insert_memberships(conn, e)?;
        Ok(true)
    }

    fn delete_network_interface(
        &mut self,
        account_id: &AccountId,
        id: &str,
    ) -> Result<bool, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let deleted = conn
            .prepare_cached("DELETE FROM network_interfaces WHERE id = ?1 AND account_id = ?2")
            .and_then(|mut st| st.execute([id, account_id]))
            .map_err(map_err)?;
        if deleted == 0 {
            return Ok(false);
        }
        delete_memberships(conn, id)?;
        delete_addresses(conn, id)?;
        conn.prepare_cached(
            "DELETE FROM tags WHERE account_id = ?1 AND resource_type = ?2 AND resource_id = ?3",
        )
        .and_then(|mut st| st.execute([account_id, ResourceType::Eni.as_str(), id]))
        .map_err(map_err)?;
        Ok(true)
    }

    fn add_private_ips(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
        vswitch_id: &VSwitchId,
        interface_id: &str,
        ips: &[String],
    ) -> Result<(), StoreError> {
        let conn = self.conn;
        let last: i64 = conn
            .prepare_cached(
                "SELECT COALESCE(MAX(seq), 0) FROM private_ip_addresses
                 WHERE network_interface_id = ?1",
            )
            .and_then(|mut st| st.query_row([interface_id], |row| row.get(0)))
            .map_err(map_err)?;
        for (seq, ip) in (last + 1..).zip(ips) {
            insert_address(
                conn,
                account_id.as_str(),
                region_id,
                vswitch_id.as_str(),
                interface_id,
                ip,
                false,
                seq,
            )?;
        }
        Ok(())
    }

    fn remove_private_ips(
        &mut self,
        account_id: &AccountId,
        interface_id: &str,
        ips: &[String],
    ) -> Result<usize, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "DELETE FROM private_ip_addresses WHERE account_id = ?1
                   AND network_interface_id = ?2 AND private_ip = ?3 AND is_primary = 0",
            )
            .map_err(map_err)?;
        let mut removed = 0;
        for ip in ips {
            removed += st
                .execute([account_id.as_str(), interface_id, ip])
                .map_err(map_err)?;
        }
        Ok(removed)
    }

    fn secondary_private_ips(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<HashMap<String, Vec<String>>, StoreError> {
        let rows = self
            .conn
            .prepare_cached(
                "SELECT network_interface_id, private_ip FROM private_ip_addresses
                 WHERE account_id = ?1 AND region_id = ?2 AND is_primary = 0
                 ORDER BY network_interface_id, seq",
            )
            .and_then(|mut st| {
                st.query_map([account_id.as_str(), region_id], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(map_err)?;
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for (interface, ip) in rows {
            out.entry(interface).or_default().push(ip);
        }
        Ok(out)
    }

    fn count_network_interfaces(
        &mut self,
        account_id: &AccountId,
        scope: InstanceScope<'_>,
    ) -> Result<u64, StoreError> {
        let (sql, key) = match scope {
            InstanceScope::Vpc(vpc) => (
                "SELECT COUNT(*) FROM network_interfaces WHERE account_id = ?1 AND vpc_id = ?2",
                vpc.as_str(),
            ),
            InstanceScope::VSwitch(vswitch) => (
                "SELECT COUNT(*) FROM network_interfaces WHERE account_id = ?1 AND vswitch_id = ?2",
                vswitch.as_str(),
            ),
            InstanceScope::SecurityGroup(group) => (
                "SELECT COUNT(*) FROM network_interface_security_groups g
                 CROSS JOIN network_interfaces e ON e.id = g.network_interface_id
                 WHERE e.account_id = ?1 AND g.security_group_id = ?2",
                group.as_str(),
            ),
        };
        let n: i64 = self
            .conn
            .prepare_cached(sql)
            .and_then(|mut st| st.query_row([account_id.as_str(), key], |row| row.get(0)))
            .map_err(map_err)?;
        to_count(n)
    }
}

//! Secondary network interfaces, their memberships, and the private addresses of every
//! interface (primary interfaces' included: [`InstancesTx`](secgroup_domain::InstancesTx)
//! writes those rows with the instance). Every query names the account.

use std::collections::HashMap;

use postgres::Row;
use secgroup_domain::ids::{AccountId, VSwitchId};
use secgroup_domain::network::{InstanceScope, InterfaceKind, NetworkInterface};
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{NetworkInterfacesTx, ResourceType, StoreError};

use crate::error::corrupt;
use crate::sql::{count, delete_tags, exec, get, one, opt, rows, Conn};
use crate::tx::PgTx;

/// The columns [`decode`] reads, in its order: the interface, then its groups and its
/// secondary addresses, each comma-separated in order.
macro_rules! interface_columns {
    () => {
        "e.id, e.account_id, e.region_id, e.zone_id, e.vpc_id, e.vswitch_id, e.name, \
         e.description, e.resource_group_id, e.instance_id, e.device_index, e.mac_address, \
         e.primary_ip, e.creation_time, \
         (SELECT string_agg(m.security_group_id, ',' ORDER BY m.position) \
            FROM network_interface_security_groups m WHERE m.network_interface_id = e.id), \
         (SELECT string_agg(a.private_ip, ',' ORDER BY a.seq) FROM private_ip_addresses a \
            WHERE a.network_interface_id = e.id AND NOT a.is_primary)"
    };
}

fn split(list: Option<String>) -> Vec<String> {
    list.unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn decode(row: &Row) -> Result<NetworkInterface, StoreError> {
    let device_index: i64 = get(row, 10)?;
    Ok(NetworkInterface {
        id: get(row, 0)?,
        account_id: get(row, 1)?,
        region_id: get(row, 2)?,
        zone_id: get(row, 3)?,
        vpc_id: get(row, 4)?,
        vswitch_id: get(row, 5)?,
        kind: InterfaceKind::Secondary,
        name: get(row, 6)?,
        description: get(row, 7)?,
        resource_group_id: get(row, 8)?,
        instance_id: get(row, 9)?,
        device_index: u32::try_from(device_index)
            .map_err(|_| corrupt("device_index", &device_index.to_string()))?,
        mac_address: get(row, 11)?,
        primary_ip: get(row, 12)?,
        creation_time: decode_time(get(row, 13)?)?,
        security_group_ids: split(get(row, 14)?),
        secondary_ips: split(get(row, 15)?),
    })
}

fn insert_memberships(c: &mut Conn, eni: &NetworkInterface) -> Result<(), StoreError> {
    for (position, group) in (0_i64..).zip(&eni.security_group_ids) {
        exec(
            c,
            "INSERT INTO network_interface_security_groups
                 (network_interface_id, security_group_id, position) VALUES ($1, $2, $3)",
            &[&eni.id, group, &position],
        )?;
    }
    Ok(())
}

fn delete_memberships(c: &mut Conn, id: &str) -> Result<(), StoreError> {
    exec(
        c,
        "DELETE FROM network_interface_security_groups WHERE network_interface_id = $1",
        &[&id],
    )?;
    Ok(())
}

/// Where an address row belongs.
pub(crate) struct AddressOwner<'a> {
    pub account_id: &'a str,
    pub region_id: &'a str,
    pub vswitch_id: &'a str,
    pub interface_id: &'a str,
}

/// One address row; a taken (vSwitch, address) is a duplicate.
pub(crate) fn insert_address(
    c: &mut Conn,
    owner: &AddressOwner<'_>,
    ip: &str,
    primary: bool,
    seq: i64,
) -> Result<(), StoreError> {
    exec(
        c,
        "INSERT INTO private_ip_addresses
             (vswitch_id, private_ip, account_id, region_id, network_interface_id, is_primary, seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &owner.vswitch_id,
            &ip,
            &owner.account_id,
            &owner.region_id,
            &owner.interface_id,
            &primary,
            &seq,
        ],
    )?;
    Ok(())
}

/// Every address of an interface goes.
pub(crate) fn delete_addresses(c: &mut Conn, interface_id: &str) -> Result<(), StoreError> {
    exec(
        c,
        "DELETE FROM private_ip_addresses WHERE network_interface_id = $1",
        &[&interface_id],
    )?;
    Ok(())
}

impl NetworkInterfacesTx for PgTx<'_> {
    fn insert_network_interface(&mut self, e: &NetworkInterface) -> Result<(), StoreError> {
        let c = &mut *self.c;
        let device_index = i64::from(e.device_index);
        exec(
            c,
            "INSERT INTO network_interfaces (id, account_id, region_id, zone_id, vpc_id,
                 vswitch_id, name, description, resource_group_id, instance_id, device_index,
                 mac_address, primary_ip, creation_time)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            &[
                &e.id,
                &e.account_id,
                &e.region_id,
                &e.zone_id,
                &e.vpc_id,
                &e.vswitch_id,
                &e.name,
                &e.description,
                &e.resource_group_id,
                &e.instance_id,
                &device_index,
                &e.mac_address,
                &e.primary_ip,
                &encode_time(e.creation_time),
            ],
        )?;
        insert_memberships(c, e)?;
        let owner = AddressOwner {
            account_id: &e.account_id,
            region_id: &e.region_id,
            vswitch_id: &e.vswitch_id,
            interface_id: &e.id,
        };
        insert_address(c, &owner, &e.primary_ip, true, 0)?;
        for (seq, ip) in (1_i64..).zip(&e.secondary_ips) {
            insert_address(c, &owner, ip, false, seq)?;
        }
        Ok(())
    }

    fn network_interface(
        &mut self,
        account_id: &AccountId,
        id: &str,
    ) -> Result<Option<NetworkInterface>, StoreError> {
        let account_id = account_id.as_str();
        opt(
            self.c,
            concat!(
                "SELECT ",
                interface_columns!(),
                " FROM network_interfaces e WHERE e.id = $1 AND e.account_id = $2"
            ),
            &[&id, &account_id],
        )?
        .map(|row| decode(&row))
        .transpose()
    }

    fn network_interfaces(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<Vec<NetworkInterface>, StoreError> {
        let account_id = account_id.as_str();
        rows(
            self.c,
            concat!(
                "SELECT ",
                interface_columns!(),
                " FROM network_interfaces e WHERE e.account_id = $1 AND e.region_id = $2",
                " ORDER BY e.seq"
            ),
            &[&account_id, &region_id],
        )?
        .iter()
        .map(decode)
        .collect()
    }

    fn update_network_interface(&mut self, e: &NetworkInterface) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let device_index = i64::from(e.device_index);
        let n = exec(
            c,
            "UPDATE network_interfaces
             SET name = $3, description = $4, instance_id = $5, device_index = $6
             WHERE id = $1 AND account_id = $2",
            &[
                &e.id,
                &e.account_id,
                &e.name,
                &e.description,
                &e.instance_id,
                &device_index,
            ],
        )?;
        if n == 0 {
            return Ok(false);
        }
        delete_memberships(c, &e.id)?;
        insert_memberships(c, e)?;
        Ok(true)
    }

    fn delete_network_interface(
        &mut self,
        account_id: &AccountId,
        id: &str,
    ) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        if exec(
            c,
            "DELETE FROM network_interfaces WHERE id = $1 AND account_id = $2",
            &[&id, &account_id],
        )? == 0
        {
            return Ok(false);
        }
        delete_memberships(c, id)?;
        delete_addresses(c, id)?;
        delete_tags(c, account_id, ResourceType::Eni.as_str(), id)?;
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
        let c = &mut *self.c;
        let last: i64 = get(
            &one(
                c,
                "SELECT COALESCE(MAX(seq), 0)::BIGINT FROM private_ip_addresses
                 WHERE network_interface_id = $1",
                &[&interface_id],
            )?,
            0,
        )?;
        let owner = AddressOwner {
            account_id: account_id.as_str(),
            region_id,
            vswitch_id: vswitch_id.as_str(),
            interface_id,
        };
        for (seq, ip) in (last + 1..).zip(ips) {
            insert_address(c, &owner, ip, false, seq)?;
        }
        Ok(())
    }

    fn remove_private_ips(
        &mut self,
        account_id: &AccountId,
        interface_id: &str,
        ips: &[String],
    ) -> Result<usize, StoreError> {
        let account_id = account_id.as_str();
        let mut removed = 0;
        for ip in ips {
            removed += exec(
                self.c,
                "DELETE FROM private_ip_addresses WHERE account_id = $1
                   AND network_interface_id = $2 AND private_ip = $3 AND NOT is_primary",
                &[&account_id, &interface_id, ip],
            )?;
        }
        usize::try_from(removed).map_err(|_| corrupt("count", &removed.to_string()))
    }

    fn secondary_private_ips(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<HashMap<String, Vec<String>>, StoreError> {
        let account_id = account_id.as_str();
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for row in rows(
            self.c,
            "SELECT network_interface_id, private_ip FROM private_ip_addresses
             WHERE account_id = $1 AND region_id = $2 AND NOT is_primary
             ORDER BY network_interface_id, seq",
            &[&account_id, &region_id],
        )? {
            out.entry(get(&row, 0)?).or_default().push(get(&row, 1)?);
        }
        Ok(out)
    }

    fn count_network_interfaces(
        &mut self,
        account_id: &AccountId,
        scope: InstanceScope<'_>,
    ) -> Result<u64, StoreError> {
        let account_id = account_id.as_str();
        let (sql, key) = match scope {
            InstanceScope::Vpc(vpc) => (
                "SELECT COUNT(*) FROM network_interfaces WHERE account_id = $1 AND vpc_id = $2",
                vpc.as_str(),
            ),
            InstanceScope::VSwitch(vswitch) => (
                "SELECT COUNT(*) FROM network_interfaces WHERE account_id = $1 AND vswitch_id = $2",
                vswitch.as_str(),
            ),
            InstanceScope::SecurityGroup(group) => (
                "SELECT COUNT(*) FROM network_interface_security_groups g
                 JOIN network_interfaces e ON e.id = g.network_interface_id
                 WHERE e.account_id = $1 AND g.security_group_id = $2",
                group.as_str(),
            ),
        };
        count(self.c, sql, &[&account_id, &key])
    }
}

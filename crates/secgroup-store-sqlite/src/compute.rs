//! Key pairs, disks and user data. Every query names the account.

use rusqlite::params;
use secgroup_domain::compute::{Disk, KeyPair};
use secgroup_domain::ids::{AccountId, InstanceId};
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{DisksTx, KeyPairsTx, StoreError};

use crate::error::map_err;
use crate::tx::{query_all, to_count, SqliteTx};

type KeyPairRow = [String; 7];

impl KeyPairsTx for SqliteTx<'_> {
    fn insert_key_pair(&mut self, k: &KeyPair) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO key_pairs (account_id, region_id, name, fingerprint, public_key, \
                 resource_group_id, creation_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    k.account_id,
                    k.region_id,
                    k.name,
                    k.fingerprint,
                    k.public_key,
                    k.resource_group_id,
                    encode_time(k.creation_time),
                ])
            })
            .map(|_| ())
            .map_err(map_err)
    }

    fn key_pairs(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<Vec<KeyPair>, StoreError> {
        let raw: Vec<KeyPairRow> = query_all(
            self.conn,
            "SELECT account_id, region_id, name, fingerprint, public_key, resource_group_id, \
             creation_time FROM key_pairs WHERE account_id = ?1 AND region_id = ?2 ORDER BY seq",
            params![account_id.as_str(), region_id],
            |r| {
                Ok([
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ])
            },
        )?;
        raw.into_iter()
            .map(
                |[account_id, region_id, name, fingerprint, public_key, rg, time]| {
                    Ok(KeyPair {
                        creation_time: decode_time(&time)?,
                        account_id,
                        region_id,
                        name,
                        fingerprint,
                        public_key,
                        resource_group_id: rg,
                    })
                },
            )
            .collect()
    }

    fn delete_key_pair(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(
                "DELETE FROM key_pairs WHERE account_id = ?1 AND region_id = ?2 AND name = ?3",
            )
            .and_then(|mut st| st.execute(params![account_id.as_str(), region_id, name]))
            .map(|n| n > 0)
            .map_err(map_err)
    }
}

/// A disk row: the text columns, then size and the flag.
type DiskRow = ([String; 12], i64, bool);

impl DisksTx for SqliteTx<'_> {
    fn insert_disk(&mut self, d: &Disk) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO disks (id, account_id, region_id, zone_id, instance_id, disk_type, \
                 category, device, name, description, performance_level, creation_time, \
                 size_gib, delete_with_instance) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    d.id,
                    d.account_id,
                    d.region_id,
                    d.zone_id,
                    d.instance_id,
                    d.disk_type,
                    d.category,
                    d.device,
                    d.name,
                    d.description,
                    d.performance_level,
                    encode_time(d.creation_time),
                    d.size_gib,
                    d.delete_with_instance,
                ])
            })
            .map(|_| ())
            .map_err(map_err)
    }

    fn disks(&mut self, account_id: &AccountId, region_id: &str) -> Result<Vec<Disk>, StoreError> {
        let raw: Vec<DiskRow> = query_all(
            self.conn,
            "SELECT id, account_id, region_id, zone_id, instance_id, disk_type, category, device, \
             name, description, performance_level, creation_time, size_gib, \
             delete_with_instance FROM disks WHERE account_id = ?1 AND region_id = ?2 \
             ORDER BY seq",
            params![account_id.as_str(), region_id],
            |r| {
                Ok((
                    [
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                        r.get(10)?,
                        r.get(11)?,
                    ],
                    r.get(12)?,
                    r.get(13)?,
                ))
            },
        )?;
        raw.into_iter()
            .map(|(text, size_gib, delete_with_instance)| {
                let [id, account_id, region_id, zone_id, instance_id, disk_type, category, device, name, description, performance_level, time] =
                    text;
                Ok(Disk {
                    creation_time: decode_time(&time)?,
                    id,
                    account_id,
                    region_id,
                    zone_id,
                    instance_id,
                    disk_type,
                    category,
                    size_gib,
                    device,
                    delete_with_instance,
                    name,
                    description,
                    performance_level,
                })
            })
            .collect()
    }

    fn release_instance_disks(
        &mut self,
        account_id: &AccountId,
        instance_id: &InstanceId,
    ) -> Result<u64, StoreError> {
        let (account, instance) = (account_id.as_str(), instance_id.as_str());
        let gone = self
            .conn
            .prepare_cached(
                "DELETE FROM disks WHERE account_id = ?1 AND instance_id = ?2 \
                 AND delete_with_instance = 1",
            )
            .and_then(|mut st| st.execute(params![account, instance]))
            .map_err(map_err)?;
        self.conn
            .prepare_cached(
                "UPDATE disks SET instance_id = '' WHERE account_id = ?1 AND instance_id = ?2",
            )
            .and_then(|mut st| st.execute(params![account, instance]))
            .map_err(map_err)?;
        self.conn
            .prepare_cached("DELETE FROM user_data WHERE account_id = ?1 AND instance_id = ?2")
            .and_then(|mut st| st.execute(params![account, instance]))
            .map_err(map_err)?;
        to_count(i64::try_from(gone).unwrap_or(i64::MAX))
    }

    fn set_user_data(
        &mut self,
        account_id: &AccountId,
        instance_id: &InstanceId,
        user_data: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO user_data (account_id, instance_id, data) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (account_id, instance_id) DO UPDATE SET data = excluded.data",
            )
            .and_then(|mut st| {
                st.execute(params![
                    account_id.as_str(),
                    instance_id.as_str(),
                    user_data
                ])
            })
            .map(|_| ())
            .map_err(map_err)
    }

    fn user_data(
        &mut self,
        account_id: &AccountId,
        instance_id: &InstanceId,
    ) -> Result<Option<String>, StoreError> {
        let rows: Vec<String> = query_all(
            self.conn,
            "SELECT data FROM user_data WHERE account_id = ?1 AND instance_id = ?2",
            params![account_id.as_str(), instance_id.as_str()],
            |r| r.get(0),
        )?;
        Ok(rows.into_iter().next())
    }
}

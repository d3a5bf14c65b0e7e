//! Key pairs, disks and user data. Every query names the account.

use postgres::Row;
use secgroup_domain::compute::{Disk, KeyPair};
use secgroup_domain::ids::{AccountId, InstanceId};
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{DisksTx, KeyPairsTx, StoreError};

use crate::sql::{exec, get, opt, rows};
use crate::tx::PgTx;

fn decode_key_pair(row: &Row) -> Result<KeyPair, StoreError> {
    Ok(KeyPair {
        account_id: get(row, 0)?,
        region_id: get(row, 1)?,
        name: get(row, 2)?,
        fingerprint: get(row, 3)?,
        public_key: get(row, 4)?,
        resource_group_id: get(row, 5)?,
        creation_time: decode_time(get(row, 6)?)?,
    })
}

impl KeyPairsTx for PgTx<'_> {
    fn insert_key_pair(&mut self, k: &KeyPair) -> Result<(), StoreError> {
        exec(
            &mut *self.c,
            "INSERT INTO key_pairs (account_id, region_id, name, fingerprint, public_key, \
             resource_group_id, creation_time) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &k.account_id,
                &k.region_id,
                &k.name,
                &k.fingerprint,
                &k.public_key,
                &k.resource_group_id,
                &encode_time(k.creation_time),
            ],
        )?;
        Ok(())
    }

    fn key_pairs(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<Vec<KeyPair>, StoreError> {
        rows(
            &mut *self.c,
            "SELECT account_id, region_id, name, fingerprint, public_key, resource_group_id, \
             creation_time FROM key_pairs WHERE account_id = $1 AND region_id = $2 ORDER BY seq",
            &[&account_id.as_str(), &region_id],
        )?
        .iter()
        .map(decode_key_pair)
        .collect()
    }

    fn delete_key_pair(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let n = exec(
            &mut *self.c,
            "DELETE FROM key_pairs WHERE account_id = $1 AND region_id = $2 AND name = $3",
            &[&account_id.as_str(), &region_id, &name],
        )?;
        Ok(n > 0)
    }
}

fn decode_disk(row: &Row) -> Result<Disk, StoreError> {
    Ok(Disk {
        id: get(row, 0)?,
        account_id: get(row, 1)?,
        region_id: get(row, 2)?,
        zone_id: get(row, 3)?,
        instance_id: get(row, 4)?,
        disk_type: get(row, 5)?,
        category: get(row, 6)?,
        device: get(row, 7)?,
        name: get(row, 8)?,
        description: get(row, 9)?,
        performance_level: get(row, 10)?,
        creation_time: decode_time(get(row, 11)?)?,
        size_gib: get(row, 12)?,
        delete_with_instance: get(row, 13)?,
    })
}

impl DisksTx for PgTx<'_> {
    fn insert_disk(&mut self, d: &Disk) -> Result<(), StoreError> {
        exec(
            &mut *self.c,
            "INSERT INTO disks (id, account_id, region_id, zone_id, instance_id, disk_type, \
             category, device, name, description, performance_level, creation_time, size_gib, \
             delete_with_instance) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            &[
                &d.id,
                &d.account_id,
                &d.region_id,
                &d.zone_id,
                &d.instance_id,
                &d.disk_type,
                &d.category,
                &d.device,
                &d.name,
                &d.description,
                &d.performance_level,
                &encode_time(d.creation_time),
                &d.size_gib,
                &d.delete_with_instance,
            ],
        )?;
        Ok(())
    }

    fn disks(&mut self, account_id: &AccountId, region_id: &str) -> Result<Vec<Disk>, StoreError> {
        rows(
            &mut *self.c,
            "SELECT id, account_id, region_id, zone_id, instance_id, disk_type, category, device, \
             name, description, performance_level, creation_time, size_gib, \
             delete_with_instance FROM disks WHERE account_id = $1 AND region_id = $2 \
             ORDER BY seq",
            &[&account_id.as_str(), &region_id],
        )?
        .iter()
        .map(decode_disk)
        .collect()
    }

    fn release_instance_disks(
        &mut self,
        account_id: &AccountId,
        instance_id: &InstanceId,
    ) -> Result<u64, StoreError> {
        let (account, instance) = (account_id.as_str(), instance_id.as_str());
        let c = &mut *self.c;
        let gone = exec(
            c,
            "DELETE FROM disks WHERE account_id = $1 AND instance_id = $2 \
             AND delete_with_instance",
            &[&account, &instance],
        )?;
        exec(
            c,
            "UPDATE disks SET instance_id = '' WHERE account_id = $1 AND instance_id = $2",
            &[&account, &instance],
        )?;
        exec(
            c,
            "DELETE FROM user_data WHERE account_id = $1 AND instance_id = $2",
            &[&account, &instance],
        )?;
        Ok(gone)
    }

    fn set_user_data(
        &mut self,
        account_id: &AccountId,
        instance_id: &InstanceId,
        user_data: &str,
    ) -> Result<(), StoreError> {
        exec(
            &mut *self.c,
            "INSERT INTO user_data (account_id, instance_id, data) VALUES ($1, $2, $3) \
             ON CONFLICT (account_id, instance_id) DO UPDATE SET data = EXCLUDED.data",
            &[&account_id.as_str(), &instance_id.as_str(), &user_data],
        )?;
        Ok(())
    }

    fn user_data(
        &mut self,
        account_id: &AccountId,
        instance_id: &InstanceId,
    ) -> Result<Option<String>, StoreError> {
        opt(
            &mut *self.c,
            "SELECT data FROM user_data WHERE account_id = $1 AND instance_id = $2",
            &[&account_id.as_str(), &instance_id.as_str()],
        )?
        .map(|row| get(&row, 0))
        .transpose()
    }
}

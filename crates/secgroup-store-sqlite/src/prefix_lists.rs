//! Prefix lists and their entries. Every query of a list names the account; entries are
//! keyed by the (globally unique) list id and reached only through a list of the account.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension, Row};
use secgroup_domain::ids::{AccountId, PrefixListId};
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{
    AddressFamily, PrefixList, PrefixListEntry, PrefixListsTx, ResourceType, StoreError,
};

use crate::error::{corrupt, map_err};
use crate::tx::{query_all, to_count, SqliteTx};

/// The columns [`Raw::from_row`] reads, in its order.
macro_rules! list_columns {
    () => {
        "id, account_id, region_id, name, description, address_family, max_entries, \
         resource_group_id, creation_time"
    };
}

/// A list row as SQLite returns it, decoded afterwards (see `security_groups::Raw`).
struct Raw {
    id: String,
    account_id: String,
    region_id: String,
    name: String,
    description: String,
    address_family: String,
    max_entries: i64,
    resource_group_id: String,
    creation_time: String,
}

impl Raw {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Raw> {
        Ok(Raw {
            id: row.get(0)?,
            account_id: row.get(1)?,
            region_id: row.get(2)?,
            name: row.get(3)?,
            description: row.get(4)?,
            address_family: row.get(5)?,
            max_entries: row.get(6)?,
            resource_group_id: row.get(7)?,
            creation_time: row.get(8)?,
        })
    }

    fn decode(self, entries: Vec<PrefixListEntry>) -> Result<PrefixList, StoreError> {
        let address_family = AddressFamily::parse(&self.address_family)
            .ok_or_else(|| corrupt("address family", &self.address_family))?;
        let max_entries = u32::try_from(self.max_entries)
            .map_err(|_| corrupt("max entries", &self.max_entries.to_string()))?;
        Ok(PrefixList {
            creation_time: decode_time(&self.creation_time)?,
            id: self.id,
            account_id: self.account_id,
            region_id: self.region_id,
            name: self.name,
            description: self.description,
            address_family,
            max_entries,
            resource_group_id: self.resource_group_id,
            entries,
        })
    }
}

fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<PrefixListEntry> {
    Ok(PrefixListEntry {
        cidr: row.get(0)?,
        description: row.get(1)?,
    })
}

/// Writes the entries at positions 0.. in the order given.
fn insert_entries(
    conn: &Connection,
    prefix_list_id: &str,
    entries: &[PrefixListEntry],
) -> Result<(), StoreError> {
    for (position, e) in (0_i64..).zip(entries) {
        conn.prepare_cached(
            "INSERT INTO prefix_list_entries (prefix_list_id, position, cidr, description)
             VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut st| st.execute(params![prefix_list_id, position, e.cidr, e.description]))
        .map_err(map_err)?;
    }
    Ok(())
}

fn delete_entries(conn: &Connection, prefix_list_id: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM prefix_list_entries WHERE prefix_list_id = ?1")
        .and_then(|mut st| st.execute([prefix_list_id]))
        .map_err(map_err)?;
    Ok(())
}

/// The entries of a list already known to belong to the caller's account.
fn entries(conn: &Connection, prefix_list_id: &str) -> Result<Vec<PrefixListEntry>, StoreError> {
    conn.prepare_cached(
        "SELECT cidr, description FROM prefix_list_entries
         WHERE prefix_list_id = ?1 ORDER BY position",
    )
    .and_then(|mut st| st.query_map([prefix_list_id], entry_from_row)?.collect())
    .map_err(map_err)
}

impl PrefixListsTx for SqliteTx<'_> {
    fn insert_prefix_list(&mut self, l: &PrefixList) -> Result<(), StoreError> {
        let conn = self.conn;
        conn.prepare_cached(concat!(
            "INSERT INTO prefix_lists (",
            list_columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ))
        .and_then(|mut st| {
            st.execute(params![
                l.id,
                l.account_id,
                l.region_id,
                l.name,
                l.description,
                l.address_family.as_str(),
                i64::from(l.max_entries),
                l.resource_group_id,
                encode_time(l.creation_time),
            ])
        })
        .map_err(map_err)?;
        insert_entries(conn, &l.id, &l.entries)
    }

    fn prefix_list(
        &mut self,
        account_id: &AccountId,
        id: &PrefixListId,
    ) -> Result<Option<PrefixList>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let id = id.as_str();
        let raw = conn
            .prepare_cached(concat!(
                "SELECT ",
                list_columns!(),
                " FROM prefix_lists WHERE id = ?1 AND account_id = ?2"
            ))
            .and_then(|mut st| st.query_row([id, account_id], Raw::from_row).optional())
            .map_err(map_err)?;
        match raw {
            Some(raw) => {
                let entries = entries(conn, &raw.id)?;
                raw.decode(entries).map(Some)
            }
            None => Ok(None),
        }
    }

    /// Oldest first, each with its entries; the entries of all the lists come in one query.
    fn prefix_lists(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<Vec<PrefixList>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let raws = query_all(
            conn,
            concat!(
                "SELECT ",
                list_columns!(),
                " FROM prefix_lists WHERE account_id = ?1 AND region_id = ?2 ORDER BY seq"
            ),
            [account_id, region_id],
            Raw::from_row,
        )?;
        if raws.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(String, PrefixListEntry)> = conn
            .prepare_cached(
                "SELECT e.prefix_list_id, e.cidr, e.description
                 FROM prefix_lists l JOIN prefix_list_entries e ON e.prefix_list_id = l.id
                 WHERE l.account_id = ?1 AND l.region_id = ?2
                 ORDER BY e.prefix_list_id, e.position",
            )
            .and_then(|mut st| {
                st.query_map([account_id, region_id], |row| {
                    Ok((
                        row.get(0)?,
                        PrefixListEntry {
                            cidr: row.get(1)?,
                            description: row.get(2)?,
                        },
                    ))
                })?
                .collect()
            })
            .map_err(map_err)?;
        let mut by_list: HashMap<String, Vec<PrefixListEntry>> = HashMap::new();
        for (id, entry) in rows {
            by_list.entry(id).or_default().push(entry);
        }
        raws.into_iter()
            .map(|raw| {
                let entries = by_list.remove(&raw.id).unwrap_or_default();
                raw.decode(entries)
            })
            .collect()
    }

    /// Name, description and the entries; the other fields stay as they are.
    fn update_prefix_list(&mut self, l: &PrefixList) -> Result<bool, StoreError> {
        let conn = self.conn;
        let changed = conn
            .prepare_cached(
                "UPDATE prefix_lists SET name = ?3, description = ?4 WHERE id = ?1 AND account_id = ?2",
            )
            .and_then(|mut st| st.execute(params![l.id, l.account_id, l.name, l.description]))
            .map_err(map_err)?;
        if changed == 0 {
            return Ok(false);
        }
        delete_entries(conn, &l.id)?;
        insert_entries(conn, &l.id, &l.entries)?;
        Ok(true)
    }

    /// Deletes the list and, if there was one, its entries and tags.
    fn delete_prefix_list(
        &mut self,
        account_id: &AccountId,
        id: &PrefixListId,
    ) -> Result<bool, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let id = id.as_str();
        let deleted = conn
            .prepare_cached("DELETE FROM prefix_lists WHERE id = ?1 AND account_id = ?2")
            .and_then(|mut st| st.execute([id, account_id]))
            .map_err(map_err)?;
        if deleted == 0 {
            return Ok(false);
        }
        delete_entries(conn, id)?;
        conn.prepare_cached(
            "DELETE FROM tags WHERE account_id = ?1 AND resource_type = ?2 AND resource_id = ?3",
        )
        .and_then(|mut st| st.execute([account_id, ResourceType::PrefixList.as_str(), id]))
        .map_err(map_err)?;
        Ok(true)
    }

    fn count_prefix_lists(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<u64, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let n: i64 = conn
            .prepare_cached(
                "SELECT COUNT(*) FROM prefix_lists WHERE account_id = ?1 AND region_id = ?2",
            )
            .and_then(|mut st| st.query_row([account_id, region_id], |row| row.get(0)))
            .map_err(map_err)?;
        to_count(n)
    }
}

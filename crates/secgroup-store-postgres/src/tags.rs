//! Tags of every kind of resource, kept in the order their keys were first set.

use std::collections::{HashMap, HashSet};

use secgroup_domain::ids::AccountId;
use secgroup_domain::{ResourceType, StoreError, Tag, TagsTx};

use crate::sql::{exec, get, one, rows};
use crate::tx::PgTx;

impl TagsTx for PgTx<'_> {
    fn tags(
        &mut self,
        account_id: &AccountId,
        resource_type: ResourceType,
        resource_id: &str,
    ) -> Result<Vec<Tag>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        rows(
            c,
            "SELECT key, value FROM tags
             WHERE account_id = $1 AND resource_type = $2 AND resource_id = $3 ORDER BY seq",
            &[&account_id, &resource_type.as_str(), &resource_id],
        )?
        .iter()
        .map(|row| {
            Ok(Tag {
                key: get(row, 0)?,
                value: get(row, 1)?,
            })
        })
        .collect()
    }

    /// Replaces the set: keys not in `new` go, keys that stay keep their place (and take the
    /// new value), new keys follow in the order given. A key given twice takes its last value.
    fn set_tags(
        &mut self,
        account_id: &AccountId,
        resource_type: ResourceType,
        resource_id: &str,
        new: &[Tag],
    ) -> Result<(), StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let rt = resource_type.as_str();
        let existing: Vec<String> = rows(
            c,
            "SELECT key FROM tags WHERE account_id = $1 AND resource_type = $2 AND resource_id = $3",
            &[&account_id, &rt, &resource_id],
        )?
        .iter()
        .map(|row| get(row, 0))
        .collect::<Result<_, _>>()?;
        let keep: HashSet<&str> = new.iter().map(|t| t.key.as_str()).collect();
        let gone: Vec<&String> = existing
            .iter()
            .filter(|k| !keep.contains(k.as_str()))
            .collect();
        if !gone.is_empty() {
            exec(
                c,
                "DELETE FROM tags WHERE account_id = $1 AND resource_type = $2
                 AND resource_id = $3 AND key = ANY($4)",
                &[&account_id, &rt, &resource_id, &gone],
            )?;
        }
        let row = one(
            c,
            "SELECT COALESCE(MAX(seq), 0)::BIGINT FROM tags
             WHERE account_id = $1 AND resource_type = $2 AND resource_id = $3",
            &[&account_id, &rt, &resource_id],
        )?;
        let last_seq: i64 = get(&row, 0)?;
        for (seq, tag) in (last_seq + 1..).zip(new) {
            exec(
                c,
                "INSERT INTO tags (account_id, resource_type, resource_id, key, value, seq)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (account_id, resource_type, resource_id, key)
                 DO UPDATE SET value = excluded.value",
                &[&account_id, &rt, &resource_id, &tag.key, &tag.value, &seq],
            )?;
        }
        Ok(())
    }

    fn all_tags(
        &mut self,
        account_id: &AccountId,
        resource_type: ResourceType,
    ) -> Result<HashMap<String, Vec<Tag>>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let mut by_resource: HashMap<String, Vec<Tag>> = HashMap::new();
        for row in rows(
            c,
            "SELECT resource_id, key, value FROM tags
             WHERE account_id = $1 AND resource_type = $2 ORDER BY resource_id, seq",
            &[&account_id, &resource_type.as_str()],
        )? {
            by_resource.entry(get(&row, 0)?).or_default().push(Tag {
                key: get(&row, 1)?,
                value: get(&row, 2)?,
            });
        }
        Ok(by_resource)
    }
}

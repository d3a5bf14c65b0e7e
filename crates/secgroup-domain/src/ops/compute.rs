//! Key pairs, disks and user data (docs/ecs.md §9.6–§9.8): importing, listing and deleting
//! key pairs; the disks and user data a launch records and a delete releases.

use base64::Engine;
use chrono::{DateTime, SubsecRound, Utc};
use md5::{Digest, Md5};

use crate::compute::{Disk, KeyPair};
use crate::error::DomainError;
use crate::ids::{self, AccountId, InstanceId};
use crate::network::Instance;
use crate::store::{StoreError, Tx};

/// The key types `ImportKeyPair` takes.
const KEY_TYPES: &[&str] = &[
    "ssh-rsa",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
];

/// A key pair name: 2–128 characters, starting with a letter, of letters, digits, `.`,
/// `_`, `-` and `:`, not starting with `http://` or `https://`.
pub fn valid_key_pair_name(name: &str) -> bool {
    let n = name.chars().count();
    (2..=128).contains(&n)
        && name.chars().next().is_some_and(char::is_alphabetic)
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'))
        && !name.starts_with("http://")
        && !name.starts_with("https://")
}

/// The MD5 fingerprint (colon-separated hex) of an OpenSSH public key line
/// (`<type> <base64 blob> [comment]`); `None` if it is not one.
pub fn fingerprint(public_key: &str) -> Option<String> {
    let mut parts = public_key.split_whitespace();
    let kind = parts.next()?;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(parts.next()?)
        .ok()?;
    // The blob starts with its own type name, length-prefixed.
    let len = u32::from_be_bytes(blob.get(0..4)?.try_into().ok()?) as usize;
    let named = blob.get(4..4usize.checked_add(len)?)?;
    if !KEY_TYPES.contains(&kind) || named != kind.as_bytes() || blob.len() <= 4 + len {
        return None;
    }
    let digest = Md5::digest(&blob);
    Some(
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

/// `ImportKeyPair`: records the public key under a name new in the region.
pub fn import_key_pair(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    name: &str,
    public_key: &str,
    resource_group_id: &str,
    now: DateTime<Utc>,
) -> Result<KeyPair, DomainError> {
    let fingerprint = fingerprint(public_key).ok_or(DomainError::PublicKeyMalformed)?;
    if !valid_key_pair_name(name) {
        return Err(DomainError::KeyPairNameMalformed);
    }
    let key_pair = KeyPair {
        account_id: account_id.to_string(),
        region_id: region_id.to_string(),
        name: name.to_string(),
        fingerprint,
        public_key: public_key.trim().to_string(),
        resource_group_id: resource_group_id.to_string(),
        creation_time: now.trunc_subsecs(0),
    };
    tx.insert_key_pair(&key_pair).map_err(|e| match e {
        StoreError::Duplicate(_) => DomainError::KeyPairExists(name.to_string()),
        other => other.into(),
    })?;
    Ok(key_pair)
}

/// `DeleteKeyPairs`: all the named pairs, or (one of them unknown) none.
pub fn delete_key_pairs(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    names: &[String],
) -> Result<(), DomainError> {
    let known = tx.key_pairs(account_id, region_id)?;
    if let Some(missing) = names.iter().find(|n| !known.iter().any(|k| k.name == **n)) {
        return Err(DomainError::KeyPairNotFound(missing.clone()));
    }
    for name in names {
        tx.delete_key_pair(account_id, region_id, name)?;
    }
    Ok(())
}

/// A launch's `KeyPairName` must name a pair of the account in the region.
pub fn check_key_pair(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    name: &str,
) -> Result<(), DomainError> {
    if name.is_empty()
        || tx
            .key_pairs(account_id, region_id)?
            .iter()
            .any(|k| k.name == name)
    {
        Ok(())
    } else {
        Err(DomainError::KeyPairNotFound(name.to_string()))
    }
}

/// A disk a launch asks for (the system disk or one `DataDisk.N`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskSpec {
    pub category: String,
    pub size_gib: i64,
    pub name: String,
    pub description: String,
    pub performance_level: String,
    pub delete_with_instance: bool,
}

/// Records a new instance's disks (the system disk `/dev/xvda`, the data disks
/// `/dev/xvdb`, … in order) and its user data.
pub fn record_launch(
    tx: &mut dyn Tx,
    instance: &Instance,
    system: &DiskSpec,
    data: &[DiskSpec],
    user_data: Option<&str>,
) -> Result<(), DomainError> {
    let all = std::iter::once(("system", system)).chain(data.iter().map(|d| ("data", d)));
    for (n, (disk_type, spec)) in all.enumerate() {
        let letter = char::from(b'a' + u8::try_from(n % 26).unwrap_or(0));
        tx.insert_disk(&Disk {
            id: ids::new_disk_id(),
            account_id: instance.account_id.clone(),
            region_id: instance.region_id.clone(),
            zone_id: instance.zone_id.clone(),
            instance_id: instance.id.clone(),
            disk_type: disk_type.to_string(),
            category: spec.category.clone(),
            size_gib: spec.size_gib,
            device: format!("/dev/xvd{letter}"),
            delete_with_instance: spec.delete_with_instance,
            name: spec.name.clone(),
            description: spec.description.clone(),
            performance_level: spec.performance_level.clone(),
            creation_time: instance.creation_time,
        })?;
    }
    if let Some(data) = user_data {
        let id = InstanceId::from(instance.id.as_str());
        let account = AccountId::from(instance.account_id.as_str());
        tx.set_user_data(&account, &id, data)?;
    }
    Ok(())
}

/// `DescribeUserData`: the instance's user data (`""` when it has none).
pub fn user_data(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    instance_id: &InstanceId,
) -> Result<(Instance, String), DomainError> {
    let instance = tx
        .instance(account_id, instance_id)?
        .ok_or_else(|| DomainError::InstanceNotFound(instance_id.to_string()))?;
    let data = tx.user_data(account_id, instance_id)?.unwrap_or_default();
    Ok((instance, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_the_md5_of_the_blob() {
        // An ed25519 key: "ssh-ed25519" length-prefixed, then a 32-byte key.
        let mut blob = Vec::new();
        blob.extend_from_slice(&11u32.to_be_bytes());
        blob.extend_from_slice(b"ssh-ed25519");
        blob.extend_from_slice(&32u32.to_be_bytes());
        blob.extend_from_slice(&[7u8; 32]);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&blob);
        let line = format!("ssh-ed25519 {b64} me@host");
        let want = Md5::digest(&blob)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":");
        assert_eq!(fingerprint(&line), Some(want));
        assert_eq!(
            fingerprint(&format!("ssh-rsa {b64}")),
            None,
            "type mismatch"
        );
        assert_eq!(fingerprint("ssh-ed25519 not-base64!"), None);
        assert_eq!(fingerprint("ssh-ed25519"), None);
        assert_eq!(fingerprint(""), None);
    }

    #[test]
    fn key_pair_names() {
        for ok in ["ab", "my-key_1.2:3", "键对"] {
            assert!(valid_key_pair_name(ok), "{ok}");
        }
        for bad in ["a", "1abc", "http://x", "with space", &"k".repeat(129)] {
            assert!(!valid_key_pair_name(bad), "{bad}");
        }
    }
}

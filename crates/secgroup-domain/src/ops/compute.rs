//! Key pairs, disks and user data (docs/ecs.md §9.6–§9.8): generating, importing, listing
//! and deleting key pairs; the disks and user data a launch records and a delete releases.

use base64::Engine;
use chrono::{DateTime, SubsecRound, Utc};
use md5::{Digest, Md5};
use rand::rngs::OsRng;
use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use sha2::Sha256;

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

/// The size of the RSA keys `CreateKeyPair` generates, as Alibaba's.
const GENERATED_KEY_BITS: usize = 2048;

/// A key pair `CreateKeyPair` generated: the public half as an OpenSSH line, the private
/// half as PEM. The private half is only ever returned to the caller, never stored.
pub struct GeneratedKey {
    /// `ssh-rsa <base64 blob>`.
    pub public_key: String,
    /// PKCS#1 (`-----BEGIN RSA PRIVATE KEY-----`), wiped when dropped.
    pub private_key_pem: rsa::pkcs1::der::zeroize::Zeroizing<String>,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private half stays out of logs and panics.
        f.debug_struct("GeneratedKey")
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

/// An SSH wire string or mpint: a big-endian u32 length, then the bytes.
fn ssh_field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// An SSH mpint of a non-negative number: big-endian, with a leading zero byte when the
/// top bit is set (RFC 4251, section 5).
fn ssh_mpint(out: &mut Vec<u8>, be: &[u8]) {
    let trimmed: &[u8] = match be.iter().position(|&b| b != 0) {
        Some(i) => &be[i..],
        None => &[],
    };
    if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
        let mut padded = Vec::with_capacity(trimmed.len() + 1);
        padded.push(0);
        padded.extend_from_slice(trimmed);
        ssh_field(out, &padded);
    } else {
        ssh_field(out, trimmed);
    }
}

/// A new 2048-bit RSA key from the operating system's random source (docs/ecs.md §9.8).
/// Slow (tens of milliseconds optimised, far more in debug code): callers run it off the
/// async workers.
pub fn generate_rsa_key() -> Result<GeneratedKey, DomainError> {
    let private = RsaPrivateKey::new(&mut OsRng, GENERATED_KEY_BITS)
        .map_err(|e| DomainError::KeyGenerationFailed(e.to_string()))?;
    let pem = private
        .to_pkcs1_pem(LineEnding::LF)
        .map_err(|e| DomainError::KeyGenerationFailed(e.to_string()))?;
    // The OpenSSH public key blob (RFC 4253, section 6.6): "ssh-rsa", e, n.
    let mut blob = Vec::new();
    ssh_field(&mut blob, b"ssh-rsa");
    ssh_mpint(&mut blob, &private.e().to_bytes_be());
    ssh_mpint(&mut blob, &private.n().to_bytes_be());
    let public_key = format!(
        "ssh-rsa {}",
        base64::engine::general_purpose::STANDARD.encode(&blob)
    );
    Ok(GeneratedKey {
        public_key,
        private_key_pem: pem,
    })
}

/// `CreateKeyPair`'s `KeyPairId`: `ssh-` + 20 lower-case hex digits derived from the pair's
/// account, region, name and creation time (docs/ecs.md §9.8: no operation takes the id, so it
/// is not stored; a pair deleted and made again under its name gets another).
pub fn key_pair_id(k: &KeyPair) -> String {
    let mut input = Vec::new();
    for part in [
        k.account_id.as_str(),
        k.region_id.as_str(),
        k.name.as_str(),
        &k.creation_time.to_rfc3339(),
    ] {
        input.extend_from_slice(part.as_bytes());
        input.push(0);
    }
    let digest = <Sha256 as sha2::Digest>::digest(&input);
    format!("ssh-{}", &hex::encode(digest)[..20])
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
    fn generated_keys_are_openssh_rsa_lines_with_a_pkcs1_private_half() {
        let k = generate_rsa_key().expect("generates");
        assert!(
            k.private_key_pem
                .starts_with("-----BEGIN RSA PRIVATE KEY-----\n"),
            "PKCS#1 PEM"
        );
        assert!(k
            .private_key_pem
            .trim_end()
            .ends_with("-----END RSA PRIVATE KEY-----"));
        assert!(
            k.public_key.starts_with("ssh-rsa AAAAB3NzaC1yc2E"),
            "{}",
            k.public_key
        );
        // The line is one ImportKeyPair takes, so its fingerprint is computed the same way.
        assert!(fingerprint(&k.public_key).is_some());
        // The public half is the private key's: e and n from the PEM match the blob.
        use rsa::pkcs1::DecodeRsaPrivateKey;
        let private = RsaPrivateKey::from_pkcs1_pem(&k.private_key_pem).expect("parses");
        assert_eq!(private.size() * 8, GENERATED_KEY_BITS);
        let mut blob = Vec::new();
        ssh_field(&mut blob, b"ssh-rsa");
        ssh_mpint(&mut blob, &private.e().to_bytes_be());
        ssh_mpint(&mut blob, &private.n().to_bytes_be());
        let b64 = base64::engine::general_purpose::STANDARD.encode(&blob);
        assert_eq!(k.public_key, format!("ssh-rsa {b64}"));
        // Two keys differ.
        let other = generate_rsa_key().expect("generates");
        assert_ne!(other.public_key, k.public_key);
        assert!(!format!("{k:?}").contains("PRIVATE"));
    }

    #[test]
    fn mpints_are_minimal_and_positive() {
        let enc = |be: &[u8]| {
            let mut out = Vec::new();
            ssh_mpint(&mut out, be);
            out
        };
        assert_eq!(enc(&[0x01, 0x00, 0x01]), [0, 0, 0, 3, 1, 0, 1]);
        assert_eq!(enc(&[0x00, 0x80]), [0, 0, 0, 2, 0, 0x80]);
        assert_eq!(enc(&[0x00, 0x7f]), [0, 0, 0, 1, 0x7f]);
        assert_eq!(enc(&[]), [0, 0, 0, 0]);
    }

    #[test]
    fn key_pair_ids_follow_the_pair() {
        let k = KeyPair {
            account_id: "1".into(),
            region_id: "cn-hangzhou".into(),
            name: "a".into(),
            fingerprint: String::new(),
            public_key: String::new(),
            resource_group_id: String::new(),
            creation_time: DateTime::<Utc>::from_timestamp(0, 0).unwrap_or_default(),
        };
        let id = key_pair_id(&k);
        assert!(id.starts_with("ssh-") && id.len() == 24, "{id}");
        assert_eq!(id, key_pair_id(&k.clone()));
        let renamed = KeyPair {
            name: "b".into(),
            ..k.clone()
        };
        assert_ne!(key_pair_id(&renamed), id);
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

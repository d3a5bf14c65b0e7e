//! What an instance boots with besides its network: its disks (the system disk and the
//! `DataDisk.N` of its launch), its user data, and the account's SSH key pairs
//! (docs/ecs.md §9.6–§9.8).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An SSH key pair of an account in a region; the name is unique there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPair {
    pub account_id: String,
    pub region_id: String,
    pub name: String,
    /// The MD5 fingerprint of the public key blob, colon-separated hex.
    pub fingerprint: String,
    /// The OpenSSH public key line.
    pub public_key: String,
    pub resource_group_id: String,
    pub creation_time: DateTime<Utc>,
}

/// A cloud disk of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disk {
    /// `d-` + 20.
    pub id: String,
    pub account_id: String,
    pub region_id: String,
    pub zone_id: String,
    /// The instance it is attached to (empty once detached).
    pub instance_id: String,
    /// `system` or `data`.
    pub disk_type: String,
    /// `cloud_essd`, `cloud_efficiency`, …
    pub category: String,
    pub size_gib: i64,
    /// `/dev/xvda`, `/dev/xvdb`, …
    pub device: String,
    pub delete_with_instance: bool,
    pub name: String,
    pub description: String,
    pub performance_level: String,
    pub creation_time: DateTime<Utc>,
}

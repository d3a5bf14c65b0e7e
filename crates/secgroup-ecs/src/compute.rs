//! Key pairs, disks and user data (docs/ecs.md §9.6–§9.8): `CreateKeyPair`, `ImportKeyPair`,
//! `DescribeKeyPairs`, `DeleteKeyPairs`, `DescribeDisks`, `DescribeUserData`, typed actions,
//! and the launch parameters that feed them (`UserData`, `SystemDisk.*`, `DataDisk.N.*`).

use base64::Engine;
use secgroup_api::paging::Paging;
use secgroup_api::render::time;
use secgroup_api::{Action, Cx, Input};
use secgroup_domain::compute::Disk;
use secgroup_domain::ids::InstanceId;
use secgroup_domain::ops::compute::{self as ops, DiskSpec};
use secgroup_domain::{DomainError, Store};
use secgroup_rpc::{Node, RpcError};

use crate::errors::invalid;
use crate::{i64_of, Ecs};

/// `UserData` decodes to at most this many bytes.
const MAX_USER_DATA: usize = 32 * 1024;
/// At most this many `DataDisk.N`.
const MAX_DATA_DISKS: usize = 16;
/// Disk categories a launch takes.
const CATEGORIES: &[&str] = &[
    "cloud",
    "cloud_efficiency",
    "cloud_ssd",
    "cloud_essd",
    "cloud_auto",
    "cloud_essd_entry",
];
/// At most this many ids in `DiskIds` or names in `KeyPairNames`.
const MAX_LIST: usize = 100;

/// `UserData`: base64 of at most 32 KiB.
pub fn user_data(p: &mut Input<'_>) -> Result<Option<String>, RpcError> {
    let Some(v) = p.non_empty("UserData") else {
        return Ok(None);
    };
    match base64::engine::general_purpose::STANDARD.decode(v) {
        Ok(bytes) if bytes.len() <= MAX_USER_DATA => Ok(Some(v.to_string())),
        Ok(_) => Err(RpcError::new(
            400,
            "InvalidUserData.SizeExceeded",
            "The specified parameter UserData exceeds the size.",
        )),
        Err(_) => Err(RpcError::new(
            400,
            "InvalidUserData.Base64FormatInvalid",
            "The specified UserData is not valid Base64 format.",
        )),
    }
}

fn size_range(category: &str) -> std::ops::RangeInclusive<i64> {
    if category == "cloud" {
        5..=2000
    } else {
        20..=32768
    }
}

/// `SystemDisk.Category` (default `cloud_essd`), `.Size` (20–2048, default 40),
/// `.PerformanceLevel`, `.DiskName`, `.Description`; always deleted with the instance.
pub fn system_disk(p: &mut Input<'_>) -> Result<DiskSpec, RpcError> {
    let category = p.non_empty("SystemDisk.Category").unwrap_or("cloud_essd");
    if !CATEGORIES.contains(&category) {
        return Err(RpcError::new(
            400,
            "InvalidSystemDiskCategory.ValueNotSupported",
            "The specified parameter SystemDisk.Category is not valid.",
        ));
    }
    let size = p
        .int_in("SystemDisk.Size", 20..=2048, || {
            RpcError::new(
                400,
                "InvalidSystemDiskSize.ValueNotSupported",
                "The specified parameter SystemDisk.Size is not valid.",
            )
        })?
        .unwrap_or(40);
    Ok(DiskSpec {
        category: category.to_string(),
        size_gib: size,
        name: p.non_empty("SystemDisk.DiskName").unwrap_or("").to_string(),
        description: p
            .non_empty("SystemDisk.Description")
            .unwrap_or("")
            .to_string(),
        performance_level: p
            .non_empty("SystemDisk.PerformanceLevel")
            .unwrap_or(if category == "cloud_essd" { "PL1" } else { "" })
            .to_string(),
        delete_with_instance: true,
    })
}

/// `DataDisk.N.*`: `Category` (default `cloud_efficiency`), `Size` (required; 20–32768, 5–2000
/// for `cloud`), `DiskName`, `Description`, `PerformanceLevel`, `DeleteWithInstance`
/// (default `true`); at most 16.
pub fn data_disks(p: &mut Input<'_>) -> Result<Vec<DiskSpec>, RpcError> {
    let entries = p.object_list("DataDisk");
    if entries.len() > MAX_DATA_DISKS {
        return Err(invalid("DataDisk"));
    }
    let mut out = Vec::with_capacity(entries.len());
    for (_, fields) in entries {
        let get = |k: &str| fields.get(k).copied().filter(|v| !v.is_empty());
        let category = get("Category").unwrap_or("cloud_efficiency");
        if !CATEGORIES.contains(&category) {
            return Err(RpcError::new(
                400,
                "InvalidDataDiskCategory.ValueNotSupported",
                "The specified parameter DataDisk.n.Category is not valid.",
            ));
        }
        let bad_size = || {
            RpcError::new(
                400,
                "InvalidDataDiskSize.ValueNotSupported",
                "The specified DataDisk.n.Size is beyond the permitted range.",
            )
        };
        let size: i64 = get("Size")
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad_size)?;
        if !size_range(category).contains(&size) {
            return Err(bad_size());
        }
        // `true`/`false` in any case (the Python Tea SDK sends `True`).
        let delete_with_instance = match get("DeleteWithInstance") {
            None => true,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(_) => return Err(invalid("DataDisk.n.DeleteWithInstance")),
        };
        out.push(DiskSpec {
            category: category.to_string(),
            size_gib: size,
            name: get("DiskName").unwrap_or("").to_string(),
            description: get("Description").unwrap_or("").to_string(),
            performance_level: get("PerformanceLevel")
                .unwrap_or(if category == "cloud_essd" { "PL1" } else { "" })
                .to_string(),
            delete_with_instance,
        });
    }
    Ok(out)
}

#[derive(Debug)]
pub struct CreateKeyPair {
    region_id: String,
    name: String,
    resource_group_id: String,
}

impl<S: Store> Action<Ecs<S>> for CreateKeyPair {
    const NAME: &'static str = "CreateKeyPair";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region()?;
        let name = p.required("KeyPairName")?.to_string();
        // Refused before a key is generated (docs/ecs.md §9.8).
        if !ops::valid_key_pair_name(&name) {
            return Err(p.error(DomainError::KeyPairNameMalformed));
        }
        let resource_group_id = p.non_empty("ResourceGroupId").unwrap_or("").to_string();
        // Validated as everywhere; key pairs keep no tags (docs/ecs.md §9.8).
        p.tags()?;
        Ok(CreateKeyPair {
            region_id,
            name,
            resource_group_id,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        // A name taken is refused without paying for a key; the insert below still decides
        // a race between two creates.
        let (region_id, name) = (self.region_id.clone(), self.name.clone());
        cx.read(move |tx, scope| {
            let taken = tx
                .key_pairs(scope.account(), &region_id)?
                .iter()
                .any(|k| k.name == name);
            if taken {
                Err(DomainError::KeyPairExists(name.clone()))
            } else {
                Ok(())
            }
        })
        .await?;
        // Generating a 2048-bit key takes long enough to stall an async worker: it runs on
        // the blocking pool.
        let generated = tokio::task::spawn_blocking(ops::generate_rsa_key)
            .await
            .map_err(|e| cx.error(DomainError::KeyGenerationFailed(e.to_string())))?
            .map_err(|e| cx.error(e))?;
        let public_key = generated.public_key.clone();
        // Only the public half goes into the transaction (whose result the audit trail
        // records); the private half is answered once and never stored.
        let k = cx
            .write(move |tx, scope| {
                ops::import_key_pair(
                    tx,
                    scope.account(),
                    &self.region_id,
                    &self.name,
                    &public_key,
                    &self.resource_group_id,
                    scope.now(),
                )
            })
            .await?;
        Ok(Node::object()
            .str("PrivateKeyBody", generated.private_key_pem.as_str())
            .str("KeyPairName", &k.name)
            .str("KeyPairId", ops::key_pair_id(&k))
            .str("KeyPairFingerPrint", &k.fingerprint)
            .build())
    }
}

#[derive(Debug)]
pub struct ImportKeyPair {
    region_id: String,
    name: String,
    public_key: String,
    resource_group_id: String,
}

impl<S: Store> Action<Ecs<S>> for ImportKeyPair {
    const NAME: &'static str = "ImportKeyPair";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Ok(ImportKeyPair {
            region_id: p.region()?,
            name: p.required("KeyPairName")?.to_string(),
            public_key: p.required("PublicKeyBody")?.to_string(),
            resource_group_id: p.non_empty("ResourceGroupId").unwrap_or("").to_string(),
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let k = cx
            .write(move |tx, scope| {
                ops::import_key_pair(
                    tx,
                    scope.account(),
                    &self.region_id,
                    &self.name,
                    &self.public_key,
                    &self.resource_group_id,
                    scope.now(),
                )
            })
            .await?;
        Ok(Node::object()
            .str("KeyPairName", k.name)
            .str("KeyPairFingerPrint", k.fingerprint)
            .build())
    }
}

#[derive(Debug)]
pub struct DescribeKeyPairs {
    region_id: String,
    name: Option<String>,
    fingerprint: Option<String>,
    resource_group_id: Option<String>,
    include_public_key: bool,
    paging: Paging,
}

impl<S: Store> Action<Ecs<S>> for DescribeKeyPairs {
    const NAME: &'static str = "DescribeKeyPairs";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region()?;
        let name = p.non_empty("KeyPairName").map(str::to_string);
        let fingerprint = p.non_empty("KeyPairFingerPrint").map(str::to_string);
        let resource_group_id = p.non_empty("ResourceGroupId").map(str::to_string);
        let include_public_key = p.bool("IncludePublicKey")?.unwrap_or(false);
        p.tags()?;
        let paging = p.pages(1..=50, 10)?;
        Ok(DescribeKeyPairs {
            region_id,
            name,
            fingerprint,
            resource_group_id,
            include_public_key,
            paging,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let region_id = self.region_id.clone();
        let all = cx
            .read(move |tx, scope| {
                tx.key_pairs(scope.account(), &region_id)
                    .map_err(secgroup_domain::DomainError::from)
            })
            .await?;
        let matching: Vec<_> = all
            .into_iter()
            .filter(|k| {
                self.name
                    .as_ref()
                    .is_none_or(|n| crate::catalogue::wildcard(n, &k.name))
                    && self
                        .fingerprint
                        .as_ref()
                        .is_none_or(|f| *f == k.fingerprint)
                    && self
                        .resource_group_id
                        .as_ref()
                        .is_none_or(|r| *r == k.resource_group_id)
            })
            .collect();
        let page = self.paging.cut(matching);
        let (number, size) = match self.paging {
            Paging::Pages { number, size } => (number, size),
            Paging::Tokens { max, .. } => (1, max),
        };
        let include = self.include_public_key;
        let items = page.items.iter().map(|k| {
            let node = Node::object()
                .str("KeyPairName", &k.name)
                .str("KeyPairFingerPrint", &k.fingerprint)
                .str("CreationTime", time(&k.creation_time))
                .str("ResourceGroupId", &k.resource_group_id);
            let node = if include {
                node.str("PublicKey", &k.public_key)
            } else {
                node
            };
            node.field("Tags", Node::list("Tag", [])).build()
        });
        Ok(Node::object()
            .int("TotalCount", i64_of(page.total))
            .int("PageNumber", i64_of(number))
            .int("PageSize", i64_of(size))
            .field("KeyPairs", Node::list("KeyPair", items))
            .build())
    }
}

#[derive(Debug)]
pub struct DeleteKeyPairs {
    region_id: String,
    names: Vec<String>,
}

impl<S: Store> Action<Ecs<S>> for DeleteKeyPairs {
    const NAME: &'static str = "DeleteKeyPairs";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region()?;
        p.required("KeyPairNames")?;
        let names = p
            .json_strings("KeyPairNames", MAX_LIST, || invalid("KeyPairNames"))?
            .unwrap_or_default();
        if names.is_empty() {
            return Err(invalid("KeyPairNames"));
        }
        Ok(DeleteKeyPairs { region_id, names })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        cx.write(move |tx, scope| {
            ops::delete_key_pairs(tx, scope.account(), &self.region_id, &self.names)
        })
        .await?;
        Ok(Node::object().build())
    }
}

#[derive(Debug)]
pub struct DescribeUserData {
    id: InstanceId,
}

impl<S: Store> Action<Ecs<S>> for DescribeUserData {
    const NAME: &'static str = "DescribeUserData";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        p.optional("RegionId");
        Ok(DescribeUserData {
            id: InstanceId::new(p.required("InstanceId")?),
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let (instance, data) = cx
            .read(move |tx, scope| ops::user_data(tx, scope.account(), &self.id))
            .await?;
        Ok(Node::object()
            .str("InstanceId", instance.id)
            .str("RegionId", instance.region_id)
            .str("UserData", data)
            .build())
    }
}

/// What `DescribeDisks` narrows by.
#[derive(Debug, Default)]
struct DiskFilter {
    ids: Option<Vec<String>>,
    instance_id: Option<String>,
    zone_id: Option<String>,
    disk_type: Option<String>,
    category: Option<String>,
    status: Option<String>,
    name: Option<String>,
    delete_with_instance: Option<bool>,
    portable: Option<bool>,
}

fn status(d: &Disk) -> &'static str {
    if d.instance_id.is_empty() {
        "Available"
    } else {
        "In_use"
    }
}

impl DiskFilter {
    fn matches(&self, d: &Disk) -> bool {
        self.ids.as_ref().is_none_or(|ids| ids.contains(&d.id))
            && self.instance_id.as_ref().is_none_or(|i| *i == d.instance_id)
            && self.zone_id.as_ref().is_none_or(|z| *z == d.zone_id)
            && self.disk_type.as_ref().is_none_or(|t| t == "all" || *t == d.disk_type)
            && self.category.as_ref().is_none_or(|c| c == "all" || *c == d.category)
            && self.status.as_ref().is_none_or(|s| s == "All" || s == status(d))
            && self.name.as_ref().is_none_or(|n| crate::catalogue::wildcard(n, &d.name))
            && self
                .delete_with_instance
                .is_none_or(|w| w == d.delete_with_instance)
            // A system disk is not portable.
            && self.portable.is_none_or(|p| p == (d.disk_type == "data"))
    }
}

#[derive(Debug)]
pub struct DescribeDisks {
    region_id: String,
    filter: DiskFilter,
    paging: Paging,
}

impl<S: Store> Action<Ecs<S>> for DescribeDisks {
    const NAME: &'static str = "DescribeDisks";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region()?;
        let pick = |p: &mut Input<'_>, name: &str, allowed: &[&str]| match p.non_empty(name) {
            None => Ok(None),
            Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
            Some(_) => Err(invalid(name)),
        };
        let mut categories = CATEGORIES.to_vec();
        categories.extend([
            "all",
            "ephemeral",
            "ephemeral_ssd",
            "local_ssd_pro",
            "local_hdd_pro",
        ]);
        let filter = DiskFilter {
            ids: p.json_strings("DiskIds", MAX_LIST, || {
                RpcError::new(
                    400,
                    "InvalidDiskIds.Malformed",
                    "The amount of specified disk Ids exceeds the limit.",
                )
            })?,
            instance_id: p.non_empty("InstanceId").map(str::to_string),
            zone_id: p.non_empty("ZoneId").map(str::to_string),
            disk_type: pick(p, "DiskType", &["all", "system", "data"])?,
            category: pick(p, "Category", &categories)?,
            status: pick(
                p,
                "Status",
                &[
                    "In_use",
                    "Available",
                    "Attaching",
                    "Detaching",
                    "Creating",
                    "ReIniting",
                    "All",
                ],
            )?,
            name: p.non_empty("DiskName").map(str::to_string),
            delete_with_instance: p.bool("DeleteWithInstance")?,
            portable: p.bool("Portable")?,
        };
        p.tags()?;
        let max = p.int("MaxResults")?;
        let paging = if max.is_none() && p.non_empty("NextToken").is_none() {
            p.pages(1..=100, 10)?
        } else {
            let max = p
                .int_in("MaxResults", 1..=500, || invalid("MaxResults"))?
                .unwrap_or(10);
            Paging::Tokens {
                offset: p.next_token(|| invalid("NextToken"))?,
                max: crate::usize_of(max),
            }
        };
        p.dry_run()?;
        Ok(DescribeDisks {
            region_id,
            filter,
            paging,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let region_id = self.region_id.clone();
        let all = cx
            .read(move |tx, scope| {
                tx.disks(scope.account(), &region_id)
                    .map_err(secgroup_domain::DomainError::from)
            })
            .await?;
        let matching: Vec<Disk> = all.into_iter().filter(|d| self.filter.matches(d)).collect();
        let page = self.paging.cut(matching);
        let node = Node::object().int("TotalCount", i64_of(page.total));
        let node = match self.paging {
            Paging::Pages { number, size } => node
                .int("PageNumber", i64_of(number))
                .int("PageSize", i64_of(size)),
            Paging::Tokens { max, .. } => node.int("PageSize", i64_of(max)),
        };
        Ok(node
            .str("NextToken", page.next_token)
            .field("Disks", Node::list("Disk", page.items.iter().map(disk)))
            .build())
    }
}

fn disk(d: &Disk) -> Node {
    let created = time(&d.creation_time);
    let attached = if d.instance_id.is_empty() {
        String::new()
    } else {
        created.clone()
    };
    let attachments = if d.instance_id.is_empty() {
        Vec::new()
    } else {
        vec![Node::object()
            .str("InstanceId", &d.instance_id)
            .str("Device", &d.device)
            .str("AttachedTime", &attached)
            .build()]
    };
    Node::object()
        .str("DiskId", &d.id)
        .str("DiskName", &d.name)
        .str("Description", &d.description)
        .str("RegionId", &d.region_id)
        .str("ZoneId", &d.zone_id)
        .str("Type", &d.disk_type)
        .str("Category", &d.category)
        .int("Size", d.size_gib)
        .str("PerformanceLevel", &d.performance_level)
        .str("Status", status(d))
        .str("InstanceId", &d.instance_id)
        .str(
            "Device",
            if d.instance_id.is_empty() {
                ""
            } else {
                &d.device
            },
        )
        .bool("DeleteWithInstance", d.delete_with_instance)
        .bool("DeleteAutoSnapshot", true)
        .bool("EnableAutoSnapshot", false)
        .bool("EnableAutomatedSnapshotPolicy", false)
        .bool("Encrypted", false)
        .bool("Portable", d.disk_type == "data")
        .str("DiskChargeType", "PostPaid")
        .str("CreationTime", &created)
        .str("AttachedTime", attached)
        .str("DetachedTime", "")
        .str("ExpiredTime", "2999-09-08T16:00Z")
        .str("ImageId", "")
        .str("SourceSnapshotId", "")
        .str("AutoSnapshotPolicyId", "")
        .str("ResourceGroupId", "")
        .str("SerialNumber", &d.id)
        .str("KMSKeyId", "")
        .str("MultiAttach", "Disabled")
        .int("MountInstanceNum", 0)
        .bool("BurstingEnabled", false)
        .field("Attachments", Node::list("Attachment", attachments))
        .field("OperationLocks", Node::list("OperationLock", []))
        .field("Tags", Node::list("Tag", []))
        .build()
}

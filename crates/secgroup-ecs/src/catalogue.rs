//! The catalogue lookups (docs/ecs.md §9): `DescribeZones`, `DescribeInstanceTypeFamilies`,
//! `DescribeInstanceTypes`, `DescribeImages` and `DescribeAvailableResource`, typed actions
//! over the configured catalogue (no transaction), and the `--strict-catalogue` check of the
//! launches.

use secgroup_api::paging::Paging;
use secgroup_api::{Action, Cx, Input};
use secgroup_domain::catalogue::{Catalogue, Image, InstanceType};
use secgroup_domain::regions::Language;
use secgroup_domain::Store;
use secgroup_rpc::{Node, RpcError};

use crate::errors::invalid;
use crate::{i64_of, usize_of, Ecs};

/// Disk categories every zone offers.
const DISK_CATEGORIES: &[&str] = &["cloud_efficiency", "cloud_ssd", "cloud_essd", "cloud_auto"];

/// `AcceptLanguage`: `zh-CN` (default), `en-US`, `ja` (as `DescribeRegions`).
fn language(p: &mut Input<'_>) -> Result<Language, RpcError> {
    match p.non_empty("AcceptLanguage") {
        None => Ok(Language::Chinese),
        Some(v) => Language::parse(v).ok_or_else(|| invalid("AcceptLanguage")),
    }
}

fn strings<'a>(item: &'static str, values: impl IntoIterator<Item = &'a str>) -> Node {
    Node::list(item, values.into_iter().map(Node::str))
}

/// `杭州 可用区 B`, `Hangzhou Zone B`, `杭州 ゾーン B`: the city of the region's local name
/// and the zone's suffix.
fn zone_local_name(
    cx_region: Option<&str>,
    zone_id: &str,
    region_id: &str,
    lang: Language,
) -> String {
    let region_name = cx_region.unwrap_or(region_id);
    let city = region_name
        .rsplit_once(['(', '（'])
        .map(|(_, rest)| rest.trim_end_matches([')', '）']))
        .unwrap_or(region_name);
    let suffix = zone_id
        .strip_prefix(region_id)
        .map(|s| s.trim_start_matches('-'))
        .unwrap_or(zone_id)
        .to_uppercase();
    match lang {
        Language::Chinese => format!("{city} 可用区 {suffix}"),
        Language::English => format!("{city} Zone {suffix}"),
        Language::Japanese => format!("{city} ゾーン {suffix}"),
    }
}

#[derive(Debug)]
pub struct DescribeZones {
    region_id: String,
    language: Language,
    verbose: bool,
}

impl<S: Store> Action<Ecs<S>> for DescribeZones {
    const NAME: &'static str = "DescribeZones";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region()?;
        let language = language(p)?;
        let verbose = p.bool("Verbose")?.unwrap_or(true);
        if let Some(ct) = p.non_empty("InstanceChargeType") {
            if !["PrePaid", "PostPaid"].contains(&ct) {
                return Err(invalid("InstanceChargeType"));
            }
        }
        if let Some(s) = p.non_empty("SpotStrategy") {
            if !["NoSpot", "SpotWithPriceLimit", "SpotAsPriceGo"].contains(&s) {
                return Err(invalid("SpotStrategy"));
            }
        }
        Ok(DescribeZones {
            region_id,
            language,
            verbose,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let config = cx.config();
        let catalogue: &Catalogue = &config.catalogue;
        let region_name = config
            .regions
            .get(&self.region_id)
            .map(|r| r.local_name(self.language).to_string());
        let types: Vec<&str> = catalogue
            .instance_types()
            .iter()
            .map(|t| t.id.as_str())
            .collect();
        let families: Vec<&str> = catalogue.families().iter().map(|f| f.id.as_str()).collect();
        let mut generations: Vec<&str> = catalogue
            .families()
            .iter()
            .map(|f| f.generation.as_str())
            .collect();
        generations.sort_unstable();
        generations.dedup();
        let zones = catalogue.zones(&self.region_id).iter().map(|zone| {
            let name =
                zone_local_name(region_name.as_deref(), zone, &self.region_id, self.language);
            let node = Node::object()
                .str("ZoneId", zone)
                .str("LocalName", name)
                .str("ZoneType", "AvailabilityZone");
            if !self.verbose {
                return node.build();
            }
            let resources = Node::object()
                .bool("IoOptimized", true)
                .field(
                    "SystemDiskCategories",
                    strings(
                        "supportedSystemDiskCategory",
                        DISK_CATEGORIES.iter().copied(),
                    ),
                )
                .field(
                    "DataDiskCategories",
                    strings("supportedDataDiskCategory", DISK_CATEGORIES.iter().copied()),
                )
                .field("NetworkTypes", strings("supportedNetworkCategory", ["vpc"]))
                .field(
                    "InstanceTypes",
                    strings("supportedInstanceType", types.iter().copied()),
                )
                .field(
                    "InstanceTypeFamilies",
                    strings("supportedInstanceTypeFamily", families.iter().copied()),
                )
                .field(
                    "InstanceGenerations",
                    strings("supportedInstanceGeneration", generations.iter().copied()),
                )
                .build();
            node.field(
                "AvailableResourceCreation",
                strings(
                    "ResourceTypes",
                    ["VSwitch", "IoOptimized", "Instance", "Disk"],
                ),
            )
            .field(
                "AvailableDiskCategories",
                strings("DiskCategories", DISK_CATEGORIES.iter().copied()),
            )
            .field(
                "AvailableVolumeCategories",
                strings("VolumeCategories", DISK_CATEGORIES.iter().copied()),
            )
            .field(
                "AvailableInstanceTypes",
                strings("InstanceTypes", types.iter().copied()),
            )
            .field(
                "AvailableResources",
                Node::list("ResourcesInfo", [resources]),
            )
            .field(
                "AvailableDedicatedHostTypes",
                strings("DedicatedHostType", []),
            )
            .field(
                "DedicatedHostGenerations",
                strings("DedicatedHostGeneration", []),
            )
            .build()
        });
        Ok(Node::object()
            .field("Zones", Node::list("Zone", zones))
            .build())
    }
}

#[derive(Debug)]
pub struct DescribeInstanceTypeFamilies {
    generation: Option<String>,
}

impl<S: Store> Action<Ecs<S>> for DescribeInstanceTypeFamilies {
    const NAME: &'static str = "DescribeInstanceTypeFamilies";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        p.region()?;
        Ok(DescribeInstanceTypeFamilies {
            generation: p.non_empty("Generation").map(str::to_string),
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let families = cx
            .config()
            .catalogue
            .families()
            .iter()
            .filter(|f| self.generation.as_ref().is_none_or(|g| *g == f.generation))
            .map(|f| {
                Node::object()
                    .str("InstanceTypeFamilyId", &f.id)
                    .str("Generation", &f.generation)
                    .build()
            })
            .collect::<Vec<_>>();
        Ok(Node::object()
            .field(
                "InstanceTypeFamilies",
                Node::list("InstanceTypeFamily", families),
            )
            .build())
    }
}

/// At most this many `InstanceTypes.N`.
const MAX_INSTANCE_TYPES: usize = 10;

/// What `DescribeInstanceTypes` narrows by.
#[derive(Debug, Default)]
struct TypeFilter {
    ids: Vec<String>,
    families: Vec<String>,
    architectures: Vec<String>,
    categories: Vec<String>,
    level: Option<String>,
    min_cpu: Option<i64>,
    max_cpu: Option<i64>,
    min_memory: Option<f64>,
    max_memory: Option<f64>,
    min_eni: Option<i64>,
    min_eni_ips: Option<i64>,
    min_eni_ipv6: Option<i64>,
    min_gpu: Option<i64>,
    max_gpu: Option<i64>,
}

impl TypeFilter {
    fn matches(&self, t: &InstanceType, category: &str) -> bool {
        let within = |v: i64, min: Option<i64>, max: Option<i64>| {
            min.is_none_or(|m| v >= m) && max.is_none_or(|m| v <= m)
        };
        let any = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == v);
        any(&self.ids, &t.id)
            && any(&self.families, &t.family)
            && any(&self.architectures, &t.architecture)
            && any(&self.categories, category)
            && self.level.as_ref().is_none_or(|l| *l == t.level)
            && within(i64::from(t.cpu), self.min_cpu, self.max_cpu)
            && self.min_memory.is_none_or(|m| t.memory_gib >= m)
            && self.max_memory.is_none_or(|m| t.memory_gib <= m)
            && within(i64::from(t.eni_quantity), self.min_eni, None)
            && within(i64::from(t.eni_private_ips), self.min_eni_ips, None)
            && within(i64::from(ipv6(t)), self.min_eni_ipv6, None)
            && within(i64::from(t.gpu_amount), self.min_gpu, self.max_gpu)
    }
}

fn ipv6(t: &InstanceType) -> u32 {
    t.eni_ipv6_addresses.unwrap_or(t.eni_private_ips)
}

/// A non-negative decimal (`MinimumMemorySize`).
fn decimal(p: &mut Input<'_>, name: &str) -> Result<Option<f64>, RpcError> {
    match p.non_empty(name) {
        None => Ok(None),
        Some(v) => match v.parse::<f64>() {
            Ok(f) if f.is_finite() && f >= 0.0 && !v.starts_with(['+', ' ']) => Ok(Some(f)),
            _ => Err(invalid(name)),
        },
    }
}

fn count(p: &mut Input<'_>, name: &str) -> Result<Option<i64>, RpcError> {
    p.int_in(name, 0..=i64::from(u32::MAX), || invalid(name))
}

/// A single value and its list form (`InstanceTypeFamily` and `InstanceTypeFamilies.N`).
fn one_or_many(p: &mut Input<'_>, single: &str, list: &str) -> Vec<String> {
    let mut all: Vec<String> = crate::strings(p, list);
    if let Some(v) = p.non_empty(single) {
        all.push(v.to_string());
    }
    all
}

#[derive(Debug)]
pub struct DescribeInstanceTypes {
    filter: TypeFilter,
    paging: Paging,
}

impl<S: Store> Action<Ecs<S>> for DescribeInstanceTypes {
    const NAME: &'static str = "DescribeInstanceTypes";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        // The model takes no RegionId; legacy SDKs send their own.
        p.optional("RegionId");
        let ids: Vec<String> = crate::strings(p, "InstanceTypes");
        if ids.len() > MAX_INSTANCE_TYPES {
            return Err(invalid("InstanceTypes"));
        }
        let filter = TypeFilter {
            ids,
            families: one_or_many(p, "InstanceTypeFamily", "InstanceTypeFamilies"),
            architectures: one_or_many(p, "CpuArchitecture", "CpuArchitectures"),
            categories: one_or_many(p, "InstanceCategory", "InstanceCategories"),
            level: p.non_empty("InstanceFamilyLevel").map(str::to_string),
            min_cpu: count(p, "MinimumCpuCoreCount")?,
            max_cpu: count(p, "MaximumCpuCoreCount")?,
            min_memory: decimal(p, "MinimumMemorySize")?,
            max_memory: decimal(p, "MaximumMemorySize")?,
            min_eni: count(p, "MinimumEniQuantity")?,
            min_eni_ips: count(p, "MinimumEniPrivateIpAddressQuantity")?,
            min_eni_ipv6: count(p, "MinimumEniIpv6AddressQuantity")?,
            min_gpu: count(p, "MinimumGPUAmount")?,
            max_gpu: count(p, "MaximumGPUAmount")?,
        };
        let max = p
            .int_in("MaxResults", 1..=1600, || invalid("MaxResults"))?
            .unwrap_or(250);
        let offset = p.next_token(|| invalid("NextToken"))?;
        Ok(DescribeInstanceTypes {
            filter,
            paging: Paging::Tokens {
                offset,
                max: usize_of(max),
            },
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let catalogue: &Catalogue = &cx.config().catalogue;
        let category = |t: &InstanceType| {
            catalogue
                .family(&t.family)
                .map_or(String::new(), |f| f.category.clone())
        };
        let matching: Vec<&InstanceType> = catalogue
            .instance_types()
            .iter()
            .filter(|t| self.filter.matches(t, &category(t)))
            .collect();
        let page = self.paging.cut(matching);
        let types = page.items.iter().map(|t| instance_type(t, &category(t)));
        Ok(Node::object()
            .str("NextToken", page.next_token)
            .field("InstanceTypes", Node::list("InstanceType", types))
            .build())
    }
}

fn instance_type(t: &InstanceType, category: &str) -> Node {
    let credit = t.level == "CreditEntryLevel";
    let node = Node::object()
        .str("InstanceTypeId", &t.id)
        .int("CpuCoreCount", i64::from(t.cpu))
        .float("MemorySize", t.memory_gib)
        .str("InstanceTypeFamily", &t.family)
        .str("InstanceFamilyLevel", &t.level)
        .str("InstanceCategory", category)
        .str("CpuArchitecture", &t.architecture)
        .int("EniQuantity", i64::from(t.eni_quantity))
        .int("EniTotalQuantity", i64::from(t.eni_quantity))
        .int("EniPrivateIpAddressQuantity", i64::from(t.eni_private_ips))
        .int("EniIpv6AddressQuantity", i64::from(ipv6(t)))
        .bool("EniTrunkSupported", !credit)
        .int("EriQuantity", 0)
        .int("GPUAmount", i64::from(t.gpu_amount))
        .str("GPUSpec", &t.gpu_spec)
        .float("GPUMemorySize", 0.0)
        .int("LocalStorageAmount", 0)
        .int("LocalStorageCapacity", 0)
        .str("LocalStorageCategory", "");
    let node = if credit {
        node.int("BaselineCredit", i64::from(t.cpu) * 10)
            .int("InitialCredit", i64::from(t.cpu) * 30)
    } else {
        node
    };
    node.field(
        "CpuOptions",
        Node::object()
            .int("Core", i64::from(t.cpu.div_ceil(2)))
            .int("ThreadsPerCore", if t.cpu > 1 { 2 } else { 1 })
            .bool("HyperThreadingAdjustable", false)
            .build(),
    )
    .build()
}

/// At most this many ids in `ImageId`.
const MAX_IMAGE_IDS: usize = 100;

#[derive(Debug, Default)]
struct ImageFilter {
    ids: Vec<String>,
    name: Option<String>,
    owner_alias: Option<String>,
    os_type: Option<String>,
    architecture: Option<String>,
    statuses: Vec<String>,
    instance_type: Option<String>,
    is_public: Option<bool>,
}

impl ImageFilter {
    fn matches(&self, i: &Image, catalogue: &Catalogue) -> bool {
        (self.ids.is_empty() || self.ids.contains(&i.id))
            && self.name.as_ref().is_none_or(|n| wildcard(n, &i.name))
            // Catalogue images are public system images.
            && self.owner_alias.as_ref().is_none_or(|o| o == "system")
            && self.is_public.is_none_or(|p| p)
            && self.os_type.as_ref().is_none_or(|o| *o == i.os_type)
            && self.architecture.as_ref().is_none_or(|a| *a == i.architecture)
            && (self.statuses.is_empty() || self.statuses.iter().any(|s| s == "Available"))
            && self.instance_type.as_ref().is_none_or(|t| {
                // An image fits a type of its architecture.
                catalogue.instance_type(t).is_some_and(|t| {
                    (t.architecture == "ARM") == (i.architecture == "arm64")
                })
            })
    }
}

/// `*` matches any run of characters (as `DescribeInstances`' `InstanceName`).
pub fn wildcard(pattern: &str, s: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == s,
        Some((head, rest)) => {
            let Some(tail) = s.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|&k| tail.is_char_boundary(k))
                .any(|k| wildcard(rest, &tail[k..]))
        }
    }
}

#[derive(Debug)]
pub struct DescribeImages {
    region_id: String,
    filter: ImageFilter,
    paging: Paging,
}

impl<S: Store> Action<Ecs<S>> for DescribeImages {
    const NAME: &'static str = "DescribeImages";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region()?;
        let ids: Vec<String> = p
            .non_empty("ImageId")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if ids.len() > MAX_IMAGE_IDS {
            return Err(invalid("ImageId"));
        }
        let pick = |p: &mut Input<'_>, name: &str, allowed: &[&str]| match p.non_empty(name) {
            None => Ok(None),
            Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
            Some(_) => Err(invalid(name)),
        };
        let owner_alias = pick(
            p,
            "ImageOwnerAlias",
            &["system", "self", "others", "marketplace"],
        )?;
        let os_type = pick(p, "OSType", &["linux", "windows"])?;
        let architecture = pick(p, "Architecture", &["i386", "x86_64", "arm64"])?;
        let statuses: Vec<String> = match p.non_empty("Status") {
            None => vec!["Available".into()],
            Some(v) => {
                let all: Vec<String> = v.split(',').map(|s| s.trim().to_string()).collect();
                const KNOWN: &[&str] = &[
                    "Creating",
                    "Waiting",
                    "Available",
                    "UnAvailable",
                    "CreateFailed",
                    "Deprecated",
                ];
                if all.iter().any(|s| !KNOWN.contains(&s.as_str())) {
                    return Err(invalid("Status"));
                }
                all
            }
        };
        pick(p, "Usage", &["instance", "none"])?;
        pick(p, "ActionType", &["CreateEcs", "ChangeOS"])?;
        let filter = ImageFilter {
            ids,
            name: p.non_empty("ImageName").map(str::to_string),
            owner_alias,
            os_type,
            architecture,
            statuses,
            instance_type: p.non_empty("InstanceType").map(str::to_string),
            is_public: p.bool("IsPublic")?,
        };
        p.bool("ShowExpired")?;
        p.bool("IsSupportIoOptimized")?;
        p.bool("IsSupportCloudinit")?;
        p.tags()?;
        let paging = p.pages(1..=100, 10)?;
        p.dry_run()?;
        Ok(DescribeImages {
            region_id,
            filter,
            paging,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let catalogue: &Catalogue = &cx.config().catalogue;
        let matching: Vec<&Image> = catalogue
            .images()
            .iter()
            .filter(|i| self.filter.matches(i, catalogue))
            .collect();
        let page = self.paging.cut(matching);
        let (number, size) = match self.paging {
            Paging::Pages { number, size } => (number, size),
            Paging::Tokens { max, .. } => (1, max),
        };
        Ok(Node::object()
            .str("RegionId", &self.region_id)
            .int("TotalCount", i64_of(page.total))
            .int("PageNumber", i64_of(number))
            .int("PageSize", i64_of(size))
            .field(
                "Images",
                Node::list("Image", page.items.iter().map(|i| image(i))),
            )
            .build())
    }
}

fn image(i: &Image) -> Node {
    let disk = Node::object()
        .str("Device", "/dev/xvda")
        .str("Size", i.size_gib.to_string())
        .str("SnapshotId", "")
        .str("Type", "system")
        .str("Format", "")
        .str("ImportOSSBucket", "")
        .str("ImportOSSObject", "")
        .str("Progress", "100%")
        .int("RemainTime", 0)
        .bool("Encrypted", false)
        .build();
    Node::object()
        .str("ImageId", &i.id)
        .str("ImageName", &i.name)
        .str("ImageFamily", "")
        .str("ImageVersion", "")
        .str("Description", "")
        .int("Size", i64::from(i.size_gib))
        .str("ImageOwnerAlias", "system")
        .int("ImageOwnerId", 0)
        .bool("IsSupportIoOptimized", true)
        .bool("IsSupportCloudinit", true)
        .str("OSName", &i.os_name)
        .str("OSNameEn", &i.os_name_en)
        .str("OSType", &i.os_type)
        .str("Platform", &i.platform)
        .str("Architecture", &i.architecture)
        .str("BootMode", "BIOS")
        .str("Status", "Available")
        .str("Progress", "100%")
        .str("Usage", "instance")
        .str("CreationTime", &i.creation_time)
        .str("IsSelfShared", "")
        .bool("IsSubscribed", false)
        .bool("IsCopied", false)
        .bool("IsPublic", true)
        .bool("Usable", true)
        .bool("LoginAsNonRootSupported", false)
        .str("ProductCode", "")
        .str("ResourceGroupId", "")
        .str("LicenseType", "")
        .str("SupplierName", "")
        .field(
            "DiskDeviceMappings",
            Node::list("DiskDeviceMapping", [disk]),
        )
        .field("Tags", Node::list("Tag", []))
        .build()
}

/// What `DescribeAvailableResource` is asked for (`DestinationResource`, docs/ecs.md §9.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Destination {
    Zone,
    IoOptimized,
    InstanceType,
    Network,
    DedicatedHost,
    SystemDisk,
    DataDisk,
}

impl Destination {
    fn parse(v: &str) -> Option<Self> {
        Some(match v {
            "Zone" => Self::Zone,
            "IoOptimized" => Self::IoOptimized,
            "InstanceType" => Self::InstanceType,
            "Network" => Self::Network,
            "ddh" => Self::DedicatedHost,
            "SystemDisk" => Self::SystemDisk,
            "DataDisk" => Self::DataDisk,
            _ => return None,
        })
    }

    /// The `Type` of its `AvailableResource`.
    fn type_name(self) -> &'static str {
        match self {
            Self::Zone => "Zone",
            Self::IoOptimized => "IoOptimized",
            Self::InstanceType => "InstanceType",
            Self::Network => "Network",
            Self::DedicatedHost => "DedicatedHost",
            Self::SystemDisk => "SystemDisk",
            Self::DataDisk => "DataDisk",
        }
    }
}

/// Every disk category `DescribeAvailableResource` takes as a filter (its model's list).
const KNOWN_DISK_CATEGORIES: &[&str] = &[
    "cloud",
    "cloud_efficiency",
    "cloud_ssd",
    "ephemeral_ssd",
    "cloud_essd",
    "cloud_auto",
    "cloud_essd_entry",
];

/// A `DescribeAvailableResource` refusal: ECS's own code and wording (docs/ecs.md §9.9).
fn unavailable(status: u16, code: &'static str, message: &'static str) -> RpcError {
    RpcError::new(status, code, message)
}

/// `name` when absent, or one of `allowed` (exactly); `err` otherwise.
fn one_of(
    p: &mut Input<'_>,
    name: &str,
    allowed: &[&str],
    err: impl FnOnce() -> RpcError,
) -> Result<Option<String>, RpcError> {
    match p.non_empty(name) {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
        Some(_) => Err(err()),
    }
}

#[derive(Debug)]
pub struct DescribeAvailableResource {
    region_id: String,
    destination: Destination,
    zone_id: Option<String>,
    io_optimized: Option<String>,
    network: Option<String>,
    instance_type: Option<String>,
    cores: Option<i64>,
    memory: Option<f64>,
    system_disk: Option<String>,
    data_disk: Option<String>,
}

impl<S: Store> Action<Ecs<S>> for DescribeAvailableResource {
    const NAME: &'static str = "DescribeAvailableResource";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region()?;
        let destination =
            Destination::parse(p.required("DestinationResource")?).ok_or_else(|| {
                unavailable(
                    404,
                    "Invalid.DestinationResource",
                    "The specified DestinationResource is not valid.",
                )
            })?;
        one_of(p, "InstanceChargeType", &["PrePaid", "PostPaid"], || {
            unavailable(
                400,
                "Invalid.InstanceChargeType",
                "The specified InstanceChargeType is not valid.",
            )
        })?;
        one_of(
            p,
            "SpotStrategy",
            &["NoSpot", "SpotWithPriceLimit", "SpotAsPriceGo"],
            || {
                unavailable(
                    404,
                    "Invalid.SpotStrategy",
                    "The specified SpotStrategy is not valid.",
                )
            },
        )?;
        let io_optimized = one_of(p, "IoOptimized", &["none", "optimized"], || {
            unavailable(
                404,
                "Invalid.IoOptimized",
                "The specified IoOptimized is not valid.",
            )
        })?;
        let network = one_of(p, "NetworkCategory", &["vpc", "classic"], || {
            unavailable(
                404,
                "Invalid.NetworkCategory",
                "The specified NetworkCategory is not valid.",
            )
        })?;
        // The reference spells the values in lower case and its own example `Instance`.
        if let Some(t) = p.non_empty("ResourceType") {
            let known = ["instance", "disk", "reservedinstance", "ddh"];
            if !known.iter().any(|k| k.eq_ignore_ascii_case(t)) {
                return Err(unavailable(
                    404,
                    "Invalid.ResourceType",
                    "The ResourceType provided does not exist in our records.",
                ));
            }
        }
        one_of(p, "Scope", &["Region", "Zone"], || invalid("Scope"))?;
        p.int_in("SpotDuration", 0..=6, || invalid("SpotDuration"))?;
        let system_disk = one_of(p, "SystemDiskCategory", KNOWN_DISK_CATEGORIES, || {
            invalid("SystemDiskCategory")
        })?;
        let data_disk = one_of(p, "DataDiskCategory", KNOWN_DISK_CATEGORIES, || {
            invalid("DataDiskCategory")
        })?;
        let instance_type = p.non_empty("InstanceType").map(str::to_string);
        let cores = p.int_in("Cores", 1..=i64::from(u32::MAX), || invalid("Cores"))?;
        let memory = decimal(p, "Memory")?;
        if instance_type.is_some() && (cores.is_some() || memory.is_some()) {
            return Err(unavailable(
                403,
                "InvalidParam.TypeAndCpuMem.Conflict",
                "The specified 'InstanceType' and 'Cores','Memory' are not blank at the same time.",
            ));
        }
        // Cores and Memory narrow instance types only.
        if destination != Destination::InstanceType {
            if cores.is_some() {
                return Err(unavailable(
                    403,
                    "InvalidParam.Cores",
                    "The specified parameter 'Cores' should be empty",
                ));
            }
            if memory.is_some() {
                return Err(unavailable(
                    403,
                    "InvalidParam.Memory",
                    "The specified parameter 'Memory' should be empty",
                ));
            }
        }
        // Disks depend on the instance type they go with.
        if matches!(destination, Destination::SystemDisk | Destination::DataDisk)
            && instance_type.is_none()
        {
            return Err(RpcError::missing("InstanceType"));
        }
        // The server has no dedicated hosts.
        if p.non_empty("DedicatedHostId").is_some() {
            return Err(unavailable(
                403,
                "InvalidDedicatedHostId.NotFound",
                "The specified DedicatedHostId does not exist.",
            ));
        }
        Ok(DescribeAvailableResource {
            region_id,
            destination,
            zone_id: p.non_empty("ZoneId").map(str::to_string),
            io_optimized,
            network,
            instance_type,
            cores,
            memory,
            system_disk,
            data_disk,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let catalogue: &Catalogue = &cx.config().catalogue;
        let offered = |asked: &Option<String>, have: &[&str]| {
            asked.as_ref().is_none_or(|a| have.contains(&a.as_str()))
        };
        // What every zone offers (docs/ecs.md §9.2: every zone every catalogue type): the
        // conditions asked for must hold before anything is listed.
        let types: Vec<&InstanceType> = catalogue
            .instance_types()
            .iter()
            .filter(|t| self.instance_type.as_ref().is_none_or(|i| *i == t.id))
            .filter(|t| self.cores.is_none_or(|c| c == i64::from(t.cpu)))
            .filter(|t| self.memory.is_none_or(|m| m == t.memory_gib))
            .collect();
        let conditions = offered(&self.io_optimized, &["optimized"])
            && offered(&self.network, &["vpc"])
            && offered(&self.system_disk, DISK_CATEGORIES)
            && offered(&self.data_disk, DISK_CATEGORIES)
            && (self.instance_type.is_none() || !types.is_empty());
        let disks = |asked: &Option<String>, max: i64| -> Vec<Node> {
            DISK_CATEGORIES
                .iter()
                .filter(|c| asked.as_ref().is_none_or(|a| a == *c))
                .map(|c| supported(c, Some((20, max))))
                .collect()
        };
        let zones = catalogue
            .zones(&self.region_id)
            .iter()
            .filter(|z| self.zone_id.as_ref().is_none_or(|want| want == *z))
            .filter_map(|zone| {
                if !conditions {
                    return None;
                }
                let resources: Vec<Node> = match self.destination {
                    Destination::Zone => vec![supported(zone, None)],
                    Destination::IoOptimized => vec![supported("optimized", None)],
                    Destination::Network => vec![supported("vpc", None)],
                    Destination::InstanceType => {
                        types.iter().map(|t| supported(&t.id, None)).collect()
                    }
                    Destination::DedicatedHost => Vec::new(),
                    // Sizes as launches take them (docs/ecs.md §9.6).
                    Destination::SystemDisk => disks(&self.system_disk, 2048),
                    Destination::DataDisk => disks(&self.data_disk, 32768),
                };
                if resources.is_empty() {
                    return None;
                }
                let available = Node::object()
                    .str("Type", self.destination.type_name())
                    .field(
                        "SupportedResources",
                        Node::list("SupportedResource", resources),
                    )
                    .build();
                // The real service's order: Status, RegionId, AvailableResources, ZoneId,
                // StatusCategory.
                Some(
                    Node::object()
                        .str("Status", "Available")
                        .str("RegionId", &self.region_id)
                        .field(
                            "AvailableResources",
                            Node::list("AvailableResource", [available]),
                        )
                        .str("ZoneId", zone)
                        .str("StatusCategory", "WithStock")
                        .build(),
                )
            })
            .collect::<Vec<_>>();
        Ok(Node::object()
            .field("AvailableZones", Node::list("AvailableZone", zones))
            .build())
    }
}

/// One `SupportedResource`: in stock; disks also carry their size range in GiB.
fn supported(value: &str, range: Option<(i64, i64)>) -> Node {
    let node = Node::object()
        .str("Status", "Available")
        .str("Value", value)
        .str("StatusCategory", "WithStock");
    match range {
        Some((min, max)) => node.int("Min", min).int("Max", max).str("Unit", "GiB"),
        None => node,
    }
    .build()
}

/// Under `--strict-catalogue`, a launch's image and instance type must be the catalogue's
/// (docs/ecs.md §9.1): `InvalidImageId.NotFound` (404), `InvalidInstanceType.ValueNotSupported`
/// (403). An empty image id (CreateInstance without one) is not checked.
pub fn check_launch(
    catalogue: &Catalogue,
    strict: bool,
    image_id: &str,
    instance_type: &str,
) -> Result<(), RpcError> {
    if !strict {
        return Ok(());
    }
    if !image_id.is_empty() && catalogue.image(image_id).is_none() {
        return Err(RpcError::new(
            404,
            "InvalidImageId.NotFound",
            "The specified ImageId does not exist.",
        ));
    }
    if catalogue.instance_type(instance_type).is_none() {
        return Err(RpcError::new(
            403,
            "InvalidInstanceType.ValueNotSupported",
            "The specified InstanceType does not exist or beyond the permitted range.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_names_take_the_city_and_the_suffix() {
        let name = |region: &str, lang| {
            zone_local_name(Some(region), "cn-hangzhou-b", "cn-hangzhou", lang)
        };
        assert_eq!(
            name("China (Hangzhou)", Language::English),
            "Hangzhou Zone B"
        );
        assert_eq!(name("华东1（杭州）", Language::Chinese), "杭州 可用区 B");
        assert_eq!(name("中国 (杭州)", Language::Japanese), "杭州 ゾーン B");
    }

    #[test]
    fn wildcards_match_runs() {
        assert!(wildcard("ubuntu_*", "ubuntu_22_04"));
        assert!(wildcard("*22*", "ubuntu_22_04"));
        assert!(!wildcard("debian*", "ubuntu_22_04"));
        assert!(wildcard("exact", "exact"));
    }

    #[test]
    fn the_strict_check_refuses_with_ecs_codes() {
        let c = Catalogue::builtin();
        let ok = "aliyun_3_x64_20G_alibase_20240819.vhd";
        assert!(check_launch(&c, false, "img", "weird").is_ok());
        assert!(check_launch(&c, true, ok, "ecs.g7.large").is_ok());
        assert!(check_launch(&c, true, "", "ecs.g7.large").is_ok());
        for (image, itype, code, status) in [
            ("img", "ecs.g7.large", "InvalidImageId.NotFound", 404),
            (
                ok,
                "ecs.nope.large",
                "InvalidInstanceType.ValueNotSupported",
                403,
            ),
            ("img", "ecs.nope.large", "InvalidImageId.NotFound", 404),
        ] {
            let e = check_launch(&c, true, image, itype).expect_err("refused");
            assert_eq!((e.code.as_ref(), e.status.as_u16()), (code, status));
        }
    }
}

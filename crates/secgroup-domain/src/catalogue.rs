//! What the server offers besides regions: zones per region, instance type families and
//! types (vCPUs, memory, interface and address quotas) and public images (docs/ecs.md §9).
//! A built-in catalogue of Alibaba Cloud's real ids (`catalogue/builtin.json`, embedded)
//! that an operator extends with a file of the same format (`serve --catalogue FILE`,
//! [`Catalogue::merged`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The built-in catalogue's text (the format of [`CatalogueFile`]).
const BUILTIN: &str = include_str!("../catalogue/builtin.json");

/// Why a catalogue file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("not a catalogue: {0}")]
    Syntax(String),
    #[error("{0}")]
    Invalid(String),
}

/// The file format: every section optional; an entry whose id the catalogue already has
/// replaces it, others are added; a region's zone list replaces the region's zones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueFile {
    /// Zone ids per region id, in the order `DescribeZones` lists them.
    #[serde(default)]
    pub zones: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub instance_type_families: Vec<InstanceTypeFamily>,
    #[serde(default)]
    pub instance_types: Vec<InstanceType>,
    #[serde(default)]
    pub images: Vec<Image>,
}

/// An instance type family (`ecs.g7`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceTypeFamily {
    pub id: String,
    /// `ecs-1` … `ecs-6`.
    pub generation: String,
    /// `General-purpose`, `Compute-optimized`, `Memory-optimized`, `Shared`, …
    #[serde(default)]
    pub category: String,
}

/// An instance type (`ecs.g7.large`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceType {
    pub id: String,
    pub family: String,
    pub cpu: u32,
    pub memory_gib: f64,
    /// Elastic network interfaces the type takes, the primary one included.
    pub eni_quantity: u32,
    /// Private IPv4 addresses per interface, the primary address included.
    pub eni_private_ips: u32,
    /// IPv6 addresses per interface (default: as many as IPv4 addresses).
    #[serde(default)]
    pub eni_ipv6_addresses: Option<u32>,
    /// `X86` or `ARM`.
    #[serde(default = "x86")]
    pub architecture: String,
    /// `EntryLevel`, `EnterpriseLevel` or `CreditEntryLevel`.
    #[serde(default = "enterprise")]
    pub level: String,
    #[serde(default)]
    pub gpu_amount: u32,
    #[serde(default)]
    pub gpu_spec: String,
}

fn x86() -> String {
    "X86".into()
}

fn enterprise() -> String {
    "EnterpriseLevel".into()
}

/// A public image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Image {
    pub id: String,
    pub name: String,
    pub os_name: String,
    pub os_name_en: String,
    /// `Aliyun`, `Ubuntu`, `Debian`, `CentOS`, `Windows Server 2022`, …
    pub platform: String,
    /// `linux` or `windows`.
    pub os_type: String,
    /// `x86_64` or `arm64`.
    pub architecture: String,
    pub size_gib: u32,
    /// `yyyy-MM-ddTHH:mm:ssZ`.
    pub creation_time: String,
}

/// The catalogue a server offers.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    zones: BTreeMap<String, Vec<String>>,
    families: Vec<InstanceTypeFamily>,
    types: Vec<InstanceType>,
    images: Vec<Image>,
}

impl Default for Catalogue {
    fn default() -> Self {
        Catalogue::builtin()
    }
}

impl Catalogue {
    /// The built-in catalogue.
    pub fn builtin() -> Catalogue {
        let empty = Catalogue {
            zones: BTreeMap::new(),
            families: Vec::new(),
            types: Vec::new(),
            images: Vec::new(),
        };
        // The embedded file is checked by a unit test; a broken one gives an empty catalogue
        // rather than a panic.
        Catalogue::parse(BUILTIN)
            .and_then(|f| empty.clone().merged(f))
            .unwrap_or(empty)
    }

    /// A catalogue file's text.
    pub fn parse(text: &str) -> Result<CatalogueFile, CatalogueError> {
        serde_json::from_str(text).map_err(|e| CatalogueError::Syntax(e.to_string()))
    }

    /// This catalogue with `file` merged over it (entries with a known id replace the
    /// known one in place, others are appended; a region's zones are replaced), checked:
    /// ids non-empty and unique, zones named `<region>-<suffix>` or `<region><suffix>`,
    /// every type's family known,
    /// vCPUs, memory, interfaces and addresses positive.
    pub fn merged(mut self, file: CatalogueFile) -> Result<Catalogue, CatalogueError> {
        let invalid = |m: String| Err(CatalogueError::Invalid(m));
        for (region, zones) in file.zones {
            for z in &zones {
                // `cn-hangzhou-b`; outside China without the dash: `ap-southeast-1a`.
                let ok = z
                    .strip_prefix(region.as_str())
                    .map(|s| s.strip_prefix('-').unwrap_or(s))
                    .is_some_and(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()));
                if !ok {
                    return invalid(format!(
                        "zone {z:?} is not a zone of region {region:?} (<region>-<suffix> or <region><suffix>)"
                    ));
                }
            }
            self.zones.insert(region, zones);
        }
        for f in file.instance_type_families {
            if f.id.is_empty() || f.generation.is_empty() {
                return invalid("an instance type family needs an id and a generation".into());
            }
            upsert(&mut self.families, f, |f| &f.id);
        }
        for t in file.instance_types {
            if t.id.is_empty() {
                return invalid("an instance type needs an id".into());
            }
            if !self.families.iter().any(|f| f.id == t.family) {
                return invalid(format!(
                    "instance type {}: family {:?} is not in the catalogue",
                    t.id, t.family
                ));
            }
            if t.cpu == 0
                || !(t.memory_gib.is_finite() && t.memory_gib > 0.0)
                || t.eni_quantity == 0
                || t.eni_private_ips == 0
            {
                return invalid(format!(
                    "instance type {}: cpu, memory_gib, eni_quantity and eni_private_ips must be positive",
                    t.id
                ));
            }
            upsert(&mut self.types, t, |t| &t.id);
        }
        for i in file.images {
            if i.id.is_empty() {
                return invalid("an image needs an id".into());
            }
            if i.os_type != "linux" && i.os_type != "windows" {
                return invalid(format!("image {}: os_type is linux or windows", i.id));
            }
            upsert(&mut self.images, i, |i| &i.id);
        }
        Ok(self)
    }

    /// The zones of a region (empty for a region the catalogue does not know).
    pub fn zones(&self, region_id: &str) -> &[String] {
        self.zones.get(region_id).map_or(&[], Vec::as_slice)
    }

    pub fn families(&self) -> &[InstanceTypeFamily] {
        &self.families
    }

    pub fn family(&self, id: &str) -> Option<&InstanceTypeFamily> {
        self.families.iter().find(|f| f.id == id)
    }

    pub fn instance_types(&self) -> &[InstanceType] {
        &self.types
    }

    pub fn instance_type(&self, id: &str) -> Option<&InstanceType> {
        self.types.iter().find(|t| t.id == id)
    }

    pub fn images(&self) -> &[Image] {
        &self.images
    }

    pub fn image(&self, id: &str) -> Option<&Image> {
        self.images.iter().find(|i| i.id == id)
    }
}

fn upsert<T>(list: &mut Vec<T>, item: T, id: impl Fn(&T) -> &String) {
    match list.iter().position(|x| id(x) == id(&item)) {
        Some(at) => list[at] = item,
        None => list.push(item),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalogue_parses_and_is_consistent() {
        let file = Catalogue::parse(BUILTIN).expect("builtin parses");
        let empty = Catalogue {
            zones: BTreeMap::new(),
            families: Vec::new(),
            types: Vec::new(),
            images: Vec::new(),
        };
        let c = empty.merged(file).expect("builtin is valid");
        assert_eq!(c, Catalogue::builtin());
        assert!(c
            .zones("cn-hangzhou")
            .contains(&"cn-hangzhou-b".to_string()));
        for region in crate::regions::RegionCatalog::public().all() {
            assert!(!c.zones(&region.id).is_empty(), "{}", region.id);
        }
        let g7 = c.instance_type("ecs.g7.large").expect("g7");
        assert_eq!((g7.cpu, g7.memory_gib, g7.eni_quantity), (2, 8.0, 3));
        for platform in [
            "Aliyun",
            "Ubuntu",
            "Debian",
            "CentOS",
            "Windows Server 2022",
        ] {
            assert!(
                c.images().iter().any(|i| i.platform == platform),
                "{platform}"
            );
        }
        // Ids are unique.
        let mut ids: Vec<&str> = c.instance_types().iter().map(|t| t.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), c.instance_types().len());
    }

    #[test]
    fn a_file_extends_and_replaces() {
        let file = Catalogue::parse(
            r#"{"zones": {"cn-hangzhou": ["cn-hangzhou-z"]},
                "instance_type_families": [{"id": "ecs.x1", "generation": "ecs-9"}],
                "instance_types": [
                  {"id": "ecs.x1.large", "family": "ecs.x1", "cpu": 2, "memory_gib": 3.5,
                   "eni_quantity": 2, "eni_private_ips": 4},
                  {"id": "ecs.g7.large", "family": "ecs.g7", "cpu": 2, "memory_gib": 8,
                   "eni_quantity": 5, "eni_private_ips": 6}],
                "images": [{"id": "m-own", "name": "own", "os_name": "Own", "os_name_en": "Own",
                  "platform": "Ubuntu", "os_type": "linux", "architecture": "x86_64",
                  "size_gib": 20, "creation_time": "2025-01-01T00:00:00Z"}]}"#,
        )
        .expect("parses");
        let before = Catalogue::builtin();
        let c = before.clone().merged(file).expect("valid");
        assert_eq!(c.zones("cn-hangzhou"), ["cn-hangzhou-z"]);
        assert_eq!(c.zones("cn-beijing"), before.zones("cn-beijing"));
        assert_eq!(
            c.instance_type("ecs.x1.large")
                .map(|t| t.architecture.as_str()),
            Some("X86")
        );
        assert_eq!(
            c.instance_type("ecs.g7.large").map(|t| t.eni_quantity),
            Some(5)
        );
        assert_eq!(c.instance_types().len(), before.instance_types().len() + 1);
        assert!(c.image("m-own").is_some());
    }

    #[test]
    fn bad_files_are_refused() {
        for (text, what) in [
            ("{", "syntax"),
            (r#"{"zonez": {}}"#, "syntax"),
            (r#"{"zones": {"cn-hangzhou": ["cn-beijing-a"]}}"#, "zone"),
            (
                r#"{"instance_types": [{"id": "t", "family": "nope", "cpu": 1, "memory_gib": 1,
                    "eni_quantity": 1, "eni_private_ips": 1}]}"#,
                "family",
            ),
            (
                r#"{"instance_types": [{"id": "t", "family": "ecs.g7", "cpu": 0, "memory_gib": 1,
                    "eni_quantity": 1, "eni_private_ips": 1}]}"#,
                "positive",
            ),
        ] {
            let outcome = Catalogue::parse(text).and_then(|f| Catalogue::builtin().merged(f));
            let e = outcome.expect_err(what);
            assert!(
                matches!(e, CatalogueError::Syntax(_)) == (what == "syntax"),
                "{what}: {e}"
            );
        }
    }
}

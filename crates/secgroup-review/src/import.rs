//! Reading an export: the JSON that the official SDKs (`response.body`, or the whole
//! `{"headers", "statusCode", "body"}` map) and the `aliyun` CLI print for DescribeVpcs,
//! DescribeVSwitches, DescribeSecurityGroups, DescribeSecurityGroupAttribute,
//! DescribeInstances, DescribePrefixLists and DescribePrefixListAttributes
//! (docs/review.md §1).
//!
//! A path is one file or a directory of them (every `*.json` below it, in natural name
//! order, so `page-10` follows `page-9`). A file holds one response, an array of responses,
//! or several responses one after the other (what `>>` appends). Pages and regions may be
//! split across files in any way. Responses that carry no region (DescribePrefixLists,
//! DescribePrefixListAttributes, and a response without `RegionId`) take it from the
//! nearest region id in their file's path (`export/cn-hangzhou/…`).
//!
//! Every record is checked before anything is stored; the first problem is an
//! [`ImportError`] that names the file, the JSON path and what is wrong.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use secgroup_domain::network::{Instance, InstanceStatus, VSwitch, Vpc};
use secgroup_domain::ops::import::{AccountImage, ResourceTags};
use secgroup_domain::ops::instances::InstanceAttributes;
use secgroup_domain::regions::RegionCatalog;
use secgroup_domain::rules::{
    Cidr, Direction, Family, IpProtocol, Peer, PortRange, Rule, RulePolicy, RuleSpec,
};
use secgroup_domain::{
    AddressFamily, InnerAccessPolicy, PrefixList, PrefixListEntry, ResourceType, SecurityGroup,
    SecurityGroupType, Tag,
};
use serde_json::{Map, Value};

/// What is wrong with an export, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ImportError {
    pub file: PathBuf,
    /// A JSON path from the document's root (`$`), e.g.
    /// `$.Permissions.Permission[2].PortRange`; `$[1]` is a file's second response.
    pub path: String,
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.file.display(),
            self.path,
            self.message
        )
    }
}

/// Where a value was read.
#[derive(Debug, Clone)]
struct Src {
    file: Arc<PathBuf>,
    path: String,
}

impl Src {
    fn error(&self, message: impl Into<String>) -> ImportError {
        ImportError {
            file: self.file.as_ref().clone(),
            path: self.path.clone(),
            message: message.into(),
        }
    }
    fn key(&self, key: &str) -> Src {
        Src {
            file: self.file.clone(),
            path: format!("{}.{key}", self.path),
        }
    }
    fn index(&self, n: usize) -> Src {
        Src {
            file: self.file.clone(),
            path: format!("{}[{n}]", self.path),
        }
    }
}

/// A JSON object and where it is.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    src: Src,
}

impl<'a> Obj<'a> {
    fn of(value: &'a Value, src: Src) -> Result<Obj<'a>, ImportError> {
        match value {
            Value::Object(map) => Ok(Obj { map, src }),
            other => Err(src.error(format!("expected an object, found {}", kind(other)))),
        }
    }
    fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }
    /// A string field; missing reads as empty.
    fn str(&self, key: &str) -> Result<String, ImportError> {
        match self.get(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(other) => Err(self
                .src
                .key(key)
                .error(format!("expected a string, found {}", kind(other)))),
        }
    }
    /// A string field that must be present and not empty.
    fn required(&self, key: &str) -> Result<String, ImportError> {
        let s = self.str(key)?;
        if s.is_empty() {
            return Err(self.src.key(key).error("missing or empty"));
        }
        Ok(s)
    }
    fn int(&self, key: &str) -> Result<i64, ImportError> {
        match self.get(key) {
            None => Ok(0),
            Some(Value::Number(n)) => n
                .as_i64()
                .ok_or_else(|| self.src.key(key).error(format!("{n} is not an integer"))),
            Some(Value::String(s)) if s.is_empty() => Ok(0),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map_err(|_| self.src.key(key).error(format!("{s:?} is not an integer"))),
            Some(other) => Err(self
                .src
                .key(key)
                .error(format!("expected an integer, found {}", kind(other)))),
        }
    }
    fn bool(&self, key: &str) -> Result<bool, ImportError> {
        match self.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") || s.is_empty() => Ok(false),
            Some(other) => Err(self
                .src
                .key(key)
                .error(format!("expected true or false, found {other}"))),
        }
    }
    fn time(&self, key: &str) -> Result<DateTime<Utc>, ImportError> {
        let s = self.required(key)?;
        parse_time(&s).ok_or_else(|| self.src.key(key).error(format!("{s:?} is not a UTC time")))
    }
    fn object(&self, key: &str) -> Result<Option<Obj<'a>>, ImportError> {
        self.get(key)
            .map(|v| Obj::of(v, self.src.key(key)))
            .transpose()
    }
    /// `{"Container": {"Item": [...]}}` (the SDKs' and the CLI's shape of a list), or a
    /// bare array; missing reads as empty.
    fn list(&self, container: &str, item: &str) -> Result<Vec<(&'a Value, Src)>, ImportError> {
        let src = self.src.key(container);
        let (array, src) = match self.get(container) {
            None => return Ok(Vec::new()),
            Some(Value::Array(a)) => (a, src),
            Some(Value::Object(m)) => match m.get(item) {
                None | Some(Value::Null) => return Ok(Vec::new()),
                Some(Value::Array(a)) => (a, src.key(item)),
                Some(other) => {
                    return Err(src
                        .key(item)
                        .error(format!("expected an array, found {}", kind(other))))
                }
            },
            Some(other) => {
                return Err(src.error(format!("expected an object, found {}", kind(other))))
            }
        };
        Ok(array
            .iter()
            .enumerate()
            .map(|(n, v)| (v, src.index(n)))
            .collect())
    }
    fn strings(&self, container: &str, item: &str) -> Result<Vec<String>, ImportError> {
        self.list(container, item)?
            .into_iter()
            .map(|(v, src)| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(src.error(format!("expected a string, found {}", kind(other)))),
            })
            .collect()
    }
    /// `Tags.Tag[]` with `TagKey`/`TagValue` (ECS) or `Key`/`Value` (VPC).
    fn tags(&self) -> Result<Vec<Tag>, ImportError> {
        let mut tags = Vec::new();
        for (v, src) in self.list("Tags", "Tag")? {
            let t = Obj::of(v, src)?;
            let (key, value) = if t.has("TagKey") {
                (t.required("TagKey")?, t.str("TagValue")?)
            } else {
                (t.required("Key")?, t.str("Value")?)
            };
            tags.push(Tag { key, value });
        }
        Ok(tags)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `2026-01-02T03:04:05Z`, `2026-01-02T03:04Z` (DescribeInstances) or any RFC 3339 time.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.and_utc())
}

/// A record and where it was read, for messages about it.
struct Located<T> {
    value: T,
    src: Src,
}

struct GroupAttribute {
    inner_access_policy: InnerAccessPolicy,
    rules: Vec<Located<Rule>>,
    src: Src,
}

/// What the files held, before the cross-checks.
#[derive(Default)]
struct Collected {
    regions: Vec<String>,
    vpcs: Vec<Located<(Vpc, Vec<Tag>)>>,
    vswitches: Vec<Located<(VSwitch, Vec<Tag>)>>,
    groups: Vec<Located<(SecurityGroup, Vec<Tag>)>>,
    attributes: HashMap<String, GroupAttribute>,
    prefix_lists: Vec<Located<(PrefixList, Vec<Tag>)>>,
    entries: HashMap<String, Located<Vec<PrefixListEntry>>>,
    instances: Vec<Located<(Instance, Vec<Tag>)>>,
    /// A vSwitch's region is its VPC's; they are placed once all files are read.
    vswitch_regions: Vec<Option<String>>,
}

/// Reads the export at `path` for account `account_id`.
pub fn read_export(path: &Path, account_id: &str) -> Result<AccountImage, ImportError> {
    let files = json_files(path)?;
    let catalog = RegionCatalog::public();
    let mut collected = Collected::default();
    for file in files {
        let file = Arc::new(file);
        let text = std::fs::read_to_string(file.as_ref()).map_err(|e| ImportError {
            file: file.as_ref().clone(),
            path: "$".into(),
            message: format!("cannot read: {e}"),
        })?;
        let documents = documents(&text).map_err(|e| ImportError {
            file: file.as_ref().clone(),
            path: "$".into(),
            message: format!("not JSON: {e}"),
        })?;
        let many = documents.len() > 1;
        let path_region = region_in_path(file.as_ref(), &catalog);
        for (n, document) in documents.iter().enumerate() {
            let root = Src {
                file: file.clone(),
                path: if many { format!("$[{n}]") } else { "$".into() },
            };
            let responses: Vec<(&Value, Src)> = match document {
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(k, v)| (v, root.index(k)))
                    .collect(),
                other => vec![(other, root)],
            };
            for (value, src) in responses {
                let response = unwrap_body(Obj::of(value, src)?)?;
                collected.response(&response, path_region.as_deref(), &catalog, account_id)?;
            }
        }
    }
    collected.finish(account_id)
}

/// Every `*.json` file at `path` (itself if it is a file), in natural order.
fn json_files(path: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let meta = std::fs::metadata(path).map_err(|e| ImportError {
        file: path.to_path_buf(),
        path: "$".into(),
        message: format!("cannot read: {e}"),
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| ImportError {
            file: dir.clone(),
            path: "$".into(),
            message: format!("cannot list: {e}"),
        })?;
        for entry in entries {
            let entry = entry.map_err(|e| ImportError {
                file: dir.clone(),
                path: "$".into(),
                message: format!("cannot list: {e}"),
            })?;
            let p = entry.path();
            if p.is_dir() {
                pending.push(p);
            } else if p.extension().is_some_and(|e| e == "json") {
                out.push(p);
            }
        }
    }
    out.sort_by(|a, b| natural(&a.to_string_lossy(), &b.to_string_lossy()));
    if out.is_empty() {
        return Err(ImportError {
            file: path.to_path_buf(),
            path: "$".into(),
            message: "no *.json file in this directory".into(),
        });
    }
    Ok(out)
}

/// Compares names with runs of digits as numbers (`page-9` < `page-10`).
pub fn natural(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) if p.is_ascii_digit() && q.is_ascii_digit() => {
                let n = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let m = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (dx, dy) = (&x[..n], &y[..m]);
                let tx: &[u8] = {
                    let z = dx.iter().take_while(|&&c| c == b'0').count();
                    &dx[z..]
                };
                let ty: &[u8] = {
                    let z = dy.iter().take_while(|&&c| c == b'0').count();
                    &dy[z..]
                };
                let order = tx.len().cmp(&ty.len()).then_with(|| tx.cmp(ty));
                if order != Ordering::Equal {
                    return order;
                }
                x = &x[n..];
                y = &y[m..];
            }
            (Some(p), Some(q)) => {
                if p != q {
                    return p.cmp(q);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

/// The JSON values of a file, one after the other.
fn documents(text: &str) -> Result<Vec<Value>, serde_json::Error> {
    let mut out = Vec::new();
    for value in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        out.push(value?);
    }
    if out.is_empty() {
        // An empty file: the parser's own "EOF while parsing" message.
        serde_json::from_str::<Value>(text)?;
    }
    Ok(out)
}

/// An SDK's whole response map (`headers`, `statusCode`, `body`) stands for its body.
fn unwrap_body(o: Obj<'_>) -> Result<Obj<'_>, ImportError> {
    if o.has("body") && (o.has("statusCode") || o.has("headers")) {
        let src = o.src.key("body");
        return Obj::of(o.map.get("body").unwrap_or(&Value::Null), src);
    }
    Ok(o)
}

/// The longest region id of the catalog found in the file's path between characters that
/// are not letters or digits (`cn-hangzhou/`, `…-cn-hangzhou-2.json`).
fn region_in_path(file: &Path, catalog: &RegionCatalog) -> Option<String> {
    let text = file.to_string_lossy();
    let mut best: Option<&str> = None;
    for region in catalog.all() {
        let id = region.id.as_str();
        let found = text.match_indices(id).any(|(at, _)| {
            let edge = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
            edge(text[..at].chars().next_back()) && edge(text[at + id.len()..].chars().next())
        });
        if found && best.is_none_or(|b| id.len() > b.len()) {
            best = Some(id);
        }
    }
    best.map(str::to_string)
}

impl Collected {
    fn region(
        &mut self,
        o: &Obj<'_>,
        outer: Option<&str>,
        path_region: Option<&str>,
        catalog: &RegionCatalog,
    ) -> Result<String, ImportError> {
        let own = o.str("RegionId")?;
        let region = if !own.is_empty() {
            own
        } else if let Some(r) = outer.filter(|r| !r.is_empty()) {
            r.to_string()
        } else if let Some(r) = path_region {
            r.to_string()
        } else {
            return Err(o.src.error(
                "no RegionId, and no region id in the file's path: put the file under a directory named after its region",
            ));
        };
        if !catalog.contains(&region) {
            return Err(o
                .src
                .key("RegionId")
                .error(format!("{region:?} is not an Alibaba Cloud region")));
        }
        if !self.regions.contains(&region) {
            self.regions.push(region.clone());
        }
        Ok(region)
    }

    fn response(
        &mut self,
        r: &Obj<'_>,
        path_region: Option<&str>,
        catalog: &RegionCatalog,
        account_id: &str,
    ) -> Result<(), ImportError> {
        let top = r.str("RegionId")?;
        let top = Some(top.as_str()).filter(|t| !t.is_empty());
        if r.has("Vpcs") {
            for (v, src) in r.list("Vpcs", "Vpc")? {
                let o = Obj::of(v, src.clone())?;
                let region = self.region(&o, top, path_region, catalog)?;
                let vpc = vpc(&o, region, account_id)?;
                self.vpcs.push(Located {
                    value: (vpc, o.tags()?),
                    src,
                });
            }
        } else if r.has("VSwitches") {
            for (v, src) in r.list("VSwitches", "VSwitch")? {
                let o = Obj::of(v, src.clone())?;
                let own = o.str("RegionId")?;
                let region = Some(own)
                    .filter(|s| !s.is_empty())
                    .or(top.map(str::to_string));
                let vswitch = VSwitch {
                    id: o.required("VSwitchId")?,
                    account_id: account_id.to_string(),
                    region_id: String::new(),
                    vpc_id: o.required("VpcId")?,
                    zone_id: o.required("ZoneId")?,
                    cidr_block: o.required("CidrBlock")?,
                    name: o.str("VSwitchName")?,
                    description: o.str("Description")?,
                    creation_time: o.time("CreationTime")?,
                };
                self.vswitch_regions.push(region);
                self.vswitches.push(Located {
                    value: (vswitch, o.tags()?),
                    src,
                });
            }
        } else if r.has("SecurityGroups") {
            for (v, src) in r.list("SecurityGroups", "SecurityGroup")? {
                let o = Obj::of(v, src.clone())?;
                let region = self.region(&o, top, path_region, catalog)?;
                let type_text = o.str("SecurityGroupType")?;
                let group_type = if type_text.is_empty() {
                    SecurityGroupType::Normal
                } else {
                    SecurityGroupType::parse(&type_text).ok_or_else(|| {
                        o.src.key("SecurityGroupType").error(format!(
                            "{type_text:?} is neither \"normal\" nor \"enterprise\""
                        ))
                    })?
                };
                let group = SecurityGroup {
                    id: o.required("SecurityGroupId")?,
                    account_id: account_id.to_string(),
                    region_id: region,
                    name: o.str("SecurityGroupName")?,
                    description: o.str("Description")?,
                    group_type,
                    inner_access_policy: group_type.default_inner_access_policy(),
                    vpc_id: o.str("VpcId")?,
                    resource_group_id: o.str("ResourceGroupId")?,
                    creation_time: o.time("CreationTime")?,
                };
                self.groups.push(Located {
                    value: (group, o.tags()?),
                    src,
                });
            }
        } else if r.has("Permissions") {
            let id = r.required("SecurityGroupId")?;
            let policy_text = r.str("InnerAccessPolicy")?;
            let inner_access_policy = InnerAccessPolicy::parse(&policy_text).ok_or_else(|| {
                r.src
                    .key("InnerAccessPolicy")
                    .error(format!("{policy_text:?} is neither Accept nor Drop"))
            })?;
            let mut rules = Vec::new();
            for (v, src) in r.list("Permissions", "Permission")? {
                let o = Obj::of(v, src.clone())?;
                rules.push(Located {
                    value: permission(&o, &id)?,
                    src,
                });
            }
            match self.attributes.get_mut(&id) {
                None => {
                    self.attributes.insert(
                        id,
                        GroupAttribute {
                            inner_access_policy,
                            rules,
                            src: r.src.clone(),
                        },
                    );
                }
                Some(known) => {
                    if known.inner_access_policy != inner_access_policy {
                        return Err(r.src.key("InnerAccessPolicy").error(format!(
                            "{id} has InnerAccessPolicy {} in {} {}",
                            known.inner_access_policy.as_str(),
                            known.src.file.display(),
                            known.src.path
                        )));
                    }
                    // Another page, or the other direction: rules seen before must be equal.
                    for rule in rules {
                        match known.rules.iter().find(|k| k.value.id == rule.value.id) {
                            Some(k) if k.value.to_row() == rule.value.to_row() => {}
                            Some(k) => {
                                return Err(duplicate("rule", &rule.value.id, &rule.src, &k.src))
                            }
                            None => known.rules.push(rule),
                        }
                    }
                }
            }
        } else if r.has("Instances") {
            for (v, src) in r.list("Instances", "Instance")? {
                let o = Obj::of(v, src.clone())?;
                let region = self.region(&o, top, path_region, catalog)?;
                let instance = instance(&o, region, account_id)?;
                self.instances.push(Located {
                    value: (instance, o.tags()?),
                    src,
                });
            }
        } else if r.has("PrefixLists") {
            for (v, src) in r.list("PrefixLists", "PrefixList")? {
                let o = Obj::of(v, src.clone())?;
                let region = self.region(&o, top, path_region, catalog)?;
                let family_text = o.str("AddressFamily")?;
                let address_family = AddressFamily::parse(&family_text).ok_or_else(|| {
                    o.src
                        .key("AddressFamily")
                        .error(format!("{family_text:?} is neither IPv4 nor IPv6"))
                })?;
                let max = o.int("MaxEntries")?;
                let list = PrefixList {
                    id: o.required("PrefixListId")?,
                    account_id: account_id.to_string(),
                    region_id: region,
                    name: o.str("PrefixListName")?,
                    description: o.str("Description")?,
                    address_family,
                    max_entries: u32::try_from(max).map_err(|_| {
                        o.src
                            .key("MaxEntries")
                            .error(format!("{max} is not a number of entries"))
                    })?,
                    resource_group_id: o.str("ResourceGroupId")?,
                    creation_time: o.time("CreationTime")?,
                    entries: Vec::new(),
                };
                self.prefix_lists.push(Located {
                    value: (list, o.tags()?),
                    src,
                });
            }
        } else if r.has("Entries") && r.has("PrefixListId") {
            let id = r.required("PrefixListId")?;
            let mut entries = Vec::new();
            for (v, src) in r.list("Entries", "Entry")? {
                let o = Obj::of(v, src.clone())?;
                let cidr = o.required("Cidr")?;
                if Cidr::parse_any(&cidr).is_none() {
                    return Err(o
                        .src
                        .key("Cidr")
                        .error(format!("{cidr:?} is not an address block")));
                }
                entries.push(PrefixListEntry {
                    cidr,
                    description: o.str("Description")?,
                });
            }
            match self.entries.get_mut(&id) {
                None => {
                    self.entries.insert(
                        id,
                        Located {
                            value: entries,
                            src: r.src.clone(),
                        },
                    );
                }
                // Another page of entries.
                Some(known) => {
                    for e in entries {
                        if !known.value.contains(&e) {
                            known.value.push(e);
                        }
                    }
                }
            }
        } else {
            return Err(r.src.error(
                "not a response of DescribeVpcs, DescribeVSwitches, DescribeSecurityGroups, \
                 DescribeSecurityGroupAttribute, DescribeInstances, DescribePrefixLists or \
                 DescribePrefixListAttributes",
            ));
        }
        Ok(())
    }

    /// Cross-checks and assembles the image.
    fn finish(mut self, account_id: &str) -> Result<AccountImage, ImportError> {
        let mut image = AccountImage::default();
        let mut tags = Vec::new();
        let mut tag = |resource_type, id: &str, t: Vec<Tag>| {
            if !t.is_empty() {
                tags.push(ResourceTags {
                    resource_type,
                    resource_id: id.to_string(),
                    tags: t,
                });
            }
        };

        let vpcs = dedupe("VPC", self.vpcs, |(v, _)| v.id.clone())?;
        let vpc_regions: HashMap<String, String> = vpcs
            .iter()
            .map(|l| (l.value.0.id.clone(), l.value.0.region_id.clone()))
            .collect();
        for l in vpcs {
            let (vpc, t) = l.value;
            tag(ResourceType::Vpc, &vpc.id, t);
            image.vpcs.push(vpc);
        }

        let mut placed = Vec::new();
        for (mut l, region) in self.vswitches.into_iter().zip(self.vswitch_regions) {
            let Some(vpc_region) = vpc_regions.get(&l.value.0.vpc_id) else {
                return Err(l.src.key("VpcId").error(format!(
                    "vSwitch {} is in VPC {}, which no DescribeVpcs response lists",
                    l.value.0.id, l.value.0.vpc_id
                )));
            };
            if let Some(region) = region.filter(|r| r != vpc_region) {
                return Err(l.src.key("RegionId").error(format!(
                    "vSwitch {} is in {region} but its VPC {} in {vpc_region}",
                    l.value.0.id, l.value.0.vpc_id
                )));
            }
            l.value.0.region_id = vpc_region.clone();
            placed.push(l);
        }
        let vswitches = dedupe("vSwitch", placed, |(v, _)| v.id.clone())?;
        let vswitch_by_id: HashMap<String, VSwitch> = vswitches
            .iter()
            .map(|l| (l.value.0.id.clone(), l.value.0.clone()))
            .collect();
        for l in vswitches {
            let (vswitch, t) = l.value;
            tag(ResourceType::VSwitch, &vswitch.id, t);
            image.vswitches.push(vswitch);
        }

        let lists = dedupe("prefix list", self.prefix_lists, |(p, _)| p.id.clone())?;
        let mut list_ids = HashMap::new();
        for l in lists {
            let (mut list, t) = l.value;
            let Some(entries) = self.entries.remove(&list.id) else {
                return Err(l.src.error(format!(
                    "prefix list {} has no DescribePrefixListAttributes response (its entries)",
                    list.id
                )));
            };
            for (n, e) in entries.value.iter().enumerate() {
                let family = Cidr::parse_any(&e.cidr).map(|c| c.family());
                let expected = match list.address_family {
                    AddressFamily::IPv4 => Family::V4,
                    AddressFamily::IPv6 => Family::V6,
                };
                if family != Some(expected) {
                    return Err(entries.src.key("Entries.Entry").index(n).error(format!(
                        "{} is not an {} block",
                        e.cidr,
                        list.address_family.as_str()
                    )));
                }
            }
            list.entries = entries.value;
            list_ids.insert(list.id.clone(), list.entries.len());
            tag(ResourceType::PrefixList, &list.id, t);
            image.prefix_lists.push(list);
        }
        if let Some((id, l)) = self.entries.iter().next() {
            return Err(l.src.error(format!(
                "entries of prefix list {id}, which no DescribePrefixLists response lists"
            )));
        }

        let groups = dedupe("security group", self.groups, |(g, _)| g.id.clone())?;
        let group_ids: HashSet<String> = groups.iter().map(|l| l.value.0.id.clone()).collect();
        let mut rule_ids: HashMap<String, Src> = HashMap::new();
        for l in groups {
            let (mut group, t) = l.value;
            if !group.vpc_id.is_empty() && !vpc_regions.contains_key(&group.vpc_id) {
                return Err(l.src.key("VpcId").error(format!(
                    "security group {} is in VPC {}, which no DescribeVpcs response lists",
                    group.id, group.vpc_id
                )));
            }
            let Some(attribute) = self.attributes.remove(&group.id) else {
                return Err(l.src.error(format!(
                    "security group {} has no DescribeSecurityGroupAttribute response (its rules)",
                    group.id
                )));
            };
            group.inner_access_policy = attribute.inner_access_policy;
            for rule in attribute.rules {
                if let Some(first) = rule_ids.get(&rule.value.id) {
                    return Err(duplicate("rule", &rule.value.id, &rule.src, first));
                }
                check_peer(&rule, account_id, &group_ids, &list_ids)?;
                rule_ids.insert(rule.value.id.clone(), rule.src.clone());
                image.rules.push(rule.value);
            }
            tag(ResourceType::SecurityGroup, &group.id, t);
            image.groups.push(group);
        }
        if let Some((id, a)) = self.attributes.iter().next() {
            return Err(a.src.error(format!(
                "rules of security group {id}, which no DescribeSecurityGroups response lists"
            )));
        }

        let instances = dedupe("instance", self.instances, |(i, _)| i.id.clone())?;
        let mut addresses: HashMap<(String, String), String> = HashMap::new();
        for l in instances {
            let (instance, t) = l.value;
            let Some(vswitch) = vswitch_by_id.get(&instance.vswitch_id) else {
                return Err(l.src.key("VpcAttributes.VSwitchId").error(format!(
                    "instance {} is in vSwitch {}, which no DescribeVSwitches response lists",
                    instance.id, instance.vswitch_id
                )));
            };
            if vswitch.vpc_id != instance.vpc_id {
                return Err(l.src.key("VpcAttributes.VpcId").error(format!(
                    "instance {} names VPC {} but its vSwitch {} is in {}",
                    instance.id, instance.vpc_id, vswitch.id, vswitch.vpc_id
                )));
            }
            for (n, g) in instance.security_group_ids.iter().enumerate() {
                if instance.security_group_ids[..n].contains(g) {
                    return Err(l
                        .src
                        .key("SecurityGroupIds.SecurityGroupId")
                        .index(n)
                        .error(format!(
                            "instance {} lists security group {g} twice",
                            instance.id
                        )));
                }
                if !group_ids.contains(g) {
                    return Err(l
                        .src
                        .key("SecurityGroupIds.SecurityGroupId")
                        .index(n)
                        .error(format!(
                            "instance {} is in security group {g}, which no DescribeSecurityGroups response lists",
                            instance.id
                        )));
                }
            }
            let key = (instance.vswitch_id.clone(), instance.private_ip.clone());
            if let Some(other) = addresses.insert(key, instance.id.clone()) {
                return Err(l.src.key("VpcAttributes.PrivateIpAddress").error(format!(
                    "instance {} has address {}, as instance {other} in the same vSwitch",
                    instance.id, instance.private_ip
                )));
            }
            tag(ResourceType::Instance, &instance.id, t);
            image.instances.push(instance);
        }
        image.tags = tags;
        Ok(image)
    }
}

fn duplicate(kind: &str, id: &str, here: &Src, first: &Src) -> ImportError {
    here.error(format!(
        "duplicate {kind} id {id}: also at {} {}, with other values",
        first.file.display(),
        first.path
    ))
}

/// One record per id: a record repeated with equal values (overlapping pages) is kept
/// once; with other values it is an error.
fn dedupe<T: PartialEq>(
    kind: &str,
    records: Vec<Located<T>>,
    id: impl Fn(&T) -> String,
) -> Result<Vec<Located<T>>, ImportError> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Located<T>> = Vec::new();
    for record in records {
        let key = id(&record.value);
        match seen.get(&key) {
            Some(&n) if out[n].value == record.value => {}
            Some(&n) => return Err(duplicate(kind, &key, &record.src, &out[n].src)),
            None => {
                seen.insert(key, out.len());
                out.push(record);
            }
        }
    }
    Ok(out)
}

/// A rule's group of this account, or prefix list, must be in the export; another
/// account's group is kept as a reference.
fn check_peer(
    rule: &Located<Rule>,
    account_id: &str,
    groups: &HashSet<String>,
    lists: &HashMap<String, usize>,
) -> Result<(), ImportError> {
    let side = match rule.value.spec.direction {
        Direction::Ingress => "Source",
        Direction::Egress => "Dest",
    };
    match &rule.value.spec.peer {
        Peer::Group {
            group_id,
            owner_account,
        } if (owner_account.is_empty() || owner_account == account_id)
            && !groups.contains(group_id) =>
        {
            return Err(rule.src.key(&format!("{side}GroupId")).error(format!(
                "rule {} names security group {group_id}, which no DescribeSecurityGroups response lists",
                rule.value.id
            )));
        }
        Peer::PrefixList(id) if !lists.contains_key(id) => {
            return Err(rule.src.key(&format!("{side}PrefixListId")).error(format!(
                "rule {} names prefix list {id}, which no DescribePrefixLists response lists",
                rule.value.id
            )));
        }
        _ => {}
    }
    Ok(())
}

fn vpc(o: &Obj<'_>, region: String, account_id: &str) -> Result<Vpc, ImportError> {
    let route_tables = o.strings("RouterTableIds", "RouterTableIds")?;
    let dns = o.str("DnsHostnameStatus")?;
    Ok(Vpc {
        id: o.required("VpcId")?,
        account_id: account_id.to_string(),
        region_id: region,
        cidr_block: o.str("CidrBlock")?,
        name: o.str("VpcName")?,
        description: o.str("Description")?,
        resource_group_id: o.str("ResourceGroupId")?,
        vrouter_id: o.str("VRouterId")?,
        route_table_id: route_tables.into_iter().next().unwrap_or_default(),
        user_cidrs: o.strings("UserCidrs", "UserCidr")?,
        enable_ipv6: o.bool("EnabledIpv6")?,
        ipv6_cidr_block: o.str("Ipv6CidrBlock")?,
        enable_dns_hostname: dns.eq_ignore_ascii_case("ENABLED"),
        creation_time: o.time("CreationTime")?,
    })
}

/// One `Permissions.Permission[]` entry.
fn permission(o: &Obj<'_>, group_id: &str) -> Result<Rule, ImportError> {
    let id = o.required("SecurityGroupRuleId")?;
    let direction_text = o.required("Direction")?;
    let direction = Direction::parse(&direction_text).ok_or_else(|| {
        o.src
            .key("Direction")
            .error(format!("{direction_text:?} is neither ingress nor egress"))
    })?;
    let policy_text = o.str("Policy")?;
    let policy = if policy_text.is_empty() {
        RulePolicy::Accept
    } else {
        RulePolicy::parse(&policy_text).ok_or_else(|| {
            o.src
                .key("Policy")
                .error(format!("{policy_text:?} is neither Accept nor Drop"))
        })?
    };
    let priority = o.int("Priority")?;
    let priority = u8::try_from(priority)
        .ok()
        .filter(|p| (1..=100).contains(p))
        .ok_or_else(|| {
            o.src
                .key("Priority")
                .error(format!("{priority} is not a priority (1 to 100)"))
        })?;
    let protocol_text = o.required("IpProtocol")?;
    let protocol = IpProtocol::parse(&protocol_text).ok_or_else(|| {
        o.src
            .key("IpProtocol")
            .error(format!("{protocol_text:?} is not a protocol"))
    })?;
    let port = |key: &str| -> Result<Option<PortRange>, ImportError> {
        let text = o.str(key)?;
        if text.is_empty() {
            return Ok(None);
        }
        let range = PortRange::parse(&text)
            .filter(|r| r.is_any() || r.is_real())
            .ok_or_else(|| {
                o.src
                    .key(key)
                    .error(format!("{text:?} is not a port range"))
            })?;
        Ok(Some(range))
    };
    let port_range = port("PortRange")?.unwrap_or(PortRange::ANY);
    let source_port_range = port("SourcePortRange")?;
    let (peer_side, local_side) = match direction {
        Direction::Ingress => ("Source", "Dest"),
        Direction::Egress => ("Dest", "Source"),
    };
    let cidr_of = |key: String, v6: bool| -> Result<Option<Cidr>, ImportError> {
        let text = o.str(&key)?;
        if text.is_empty() {
            return Ok(None);
        }
        let parsed = if v6 {
            Cidr::parse_v6(&text)
        } else {
            Cidr::parse_v4(&text)
        };
        parsed.map(Some).ok_or_else(|| {
            o.src
                .key(&key)
                .error(format!("{text:?} is not an address block"))
        })
    };
    let mut peers = Vec::new();
    if let Some(c) = cidr_of(format!("{peer_side}CidrIp"), false)? {
        peers.push((format!("{peer_side}CidrIp"), Peer::Cidr(c)));
    }
    if let Some(c) = cidr_of(format!("Ipv6{peer_side}CidrIp"), true)? {
        peers.push((format!("Ipv6{peer_side}CidrIp"), Peer::Cidr(c)));
    }
    let group = o.str(&format!("{peer_side}GroupId"))?;
    if !group.is_empty() {
        peers.push((
            format!("{peer_side}GroupId"),
            Peer::Group {
                group_id: group,
                owner_account: o.str(&format!("{peer_side}GroupOwnerAccount"))?,
            },
        ));
    }
    let list = o.str(&format!("{peer_side}PrefixListId"))?;
    if !list.is_empty() {
        peers.push((format!("{peer_side}PrefixListId"), Peer::PrefixList(list)));
    }
    let peer = match peers.len() {
        1 => peers.remove(0).1,
        0 => {
            return Err(o.src.error(format!(
                "rule {id} names no peer: one of {peer_side}CidrIp, Ipv6{peer_side}CidrIp, {peer_side}GroupId or {peer_side}PrefixListId"
            )))
        }
        _ => {
            let keys: Vec<&str> = peers.iter().map(|(k, _)| k.as_str()).collect();
            return Err(o.src.error(format!(
                "rule {id} names more than one peer: {}",
                keys.join(", ")
            )));
        }
    };
    let local_v4 = cidr_of(format!("{local_side}CidrIp"), false)?;
    let local_v6 = cidr_of(format!("Ipv6{local_side}CidrIp"), true)?;
    if local_v4.is_some() && local_v6.is_some() {
        return Err(o.src.error(format!(
            "rule {id} has both {local_side}CidrIp and Ipv6{local_side}CidrIp"
        )));
    }
    let create_time = match o.str("CreateTime")? {
        s if s.is_empty() => DateTime::<Utc>::UNIX_EPOCH,
        s => parse_time(&s).ok_or_else(|| {
            o.src
                .key("CreateTime")
                .error(format!("{s:?} is not a UTC time"))
        })?,
    };
    Ok(Rule {
        id,
        security_group_id: group_id.to_string(),
        spec: RuleSpec {
            direction,
            protocol,
            port_range,
            source_port_range,
            policy,
            priority,
            peer,
            local_cidr: local_v4.or(local_v6),
            description: o.str("Description")?,
        },
        create_time,
    })
}

/// One `Instances.Instance[]` entry and its primary network interface.
fn instance(o: &Obj<'_>, region: String, account_id: &str) -> Result<Instance, ImportError> {
    let id = o.required("InstanceId")?;
    let status_text = o.required("Status")?;
    let status = InstanceStatus::parse(&status_text).ok_or_else(|| {
        o.src
            .key("Status")
            .error(format!("{status_text:?} is not an instance status"))
    })?;
    let vpc_attributes = o.object("VpcAttributes")?.ok_or_else(|| {
        o.src
            .key("VpcAttributes")
            .error("missing: not a VPC instance")
    })?;
    let interfaces = o.list("NetworkInterfaces", "NetworkInterface")?;
    let mut primary = None;
    for (v, src) in &interfaces {
        let nic = Obj::of(v, src.clone())?;
        let t = nic.str("Type")?;
        if t.is_empty() || t == "Primary" {
            primary = Some(nic);
            break;
        }
    }
    let nic = primary.ok_or_else(|| {
        o.src
            .key("NetworkInterfaces")
            .error(format!("instance {id} lists no primary network interface"))
    })?;
    let mut private_ip = nic.str("PrimaryIpAddress")?;
    if private_ip.is_empty() {
        private_ip = vpc_attributes
            .strings("PrivateIpAddress", "IpAddress")?
            .into_iter()
            .next()
            .unwrap_or_default();
    }
    if private_ip.parse::<std::net::Ipv4Addr>().is_err() {
        return Err(nic
            .src
            .key("PrimaryIpAddress")
            .error(format!("{private_ip:?} is not an IPv4 address")));
    }
    let creation_time = o.time("CreationTime")?;
    let start = o.str("StartTime")?;
    let start_time = match start.as_str() {
        "" => None,
        s => Some(parse_time(s).ok_or_else(|| {
            o.src
                .key("StartTime")
                .error(format!("{s:?} is not a UTC time"))
        })?),
    };
    let stopped_mode = o.str("StoppedMode")?;
    let attributes = InstanceAttributes {
        auto_start: false,
        start_time,
        stopped_mode: if stopped_mode == "Not-applicable" {
            String::new()
        } else {
            stopped_mode
        },
        instance_charge_type: o.str("InstanceChargeType")?,
        internet_charge_type: o.str("InternetChargeType")?,
        internet_max_bandwidth_in: o.int("InternetMaxBandwidthIn")?,
        internet_max_bandwidth_out: o.int("InternetMaxBandwidthOut")?,
        public_ip: o
            .strings("PublicIpAddress", "IpAddress")?
            .into_iter()
            .next()
            .unwrap_or_default(),
        spot_strategy: o.str("SpotStrategy")?,
        resource_group_id: o.str("ResourceGroupId")?,
        key_pair_name: o.str("KeyPairName")?,
        deletion_protection: o.bool("DeletionProtection")?,
        auto_release_time: o.str("AutoReleaseTime")?,
        credit_specification: o.str("CreditSpecification")?,
        deployment_set_id: o.str("DeploymentSetId")?,
        hpc_cluster_id: o.str("HpcClusterId")?,
        system_disk_category: String::new(),
        serial_number: o.str("SerialNumber")?,
        // An exported instance lists no interface names (DescribeInstances has none).
        primary_interface_name: String::new(),
        primary_interface_description: String::new(),
    };
    let attributes = attributes
        .to_json()
        .map_err(|e| o.src.error(format!("instance {id}: {e}")))?;
    let security_group_ids = o.strings("SecurityGroupIds", "SecurityGroupId")?;
    if security_group_ids.is_empty() {
        return Err(o
            .src
            .key("SecurityGroupIds")
            .error(format!("instance {id} is in no security group")));
    }
    Ok(Instance {
        account_id: account_id.to_string(),
        region_id: region,
        zone_id: o.str("ZoneId")?,
        vpc_id: vpc_attributes.required("VpcId")?,
        vswitch_id: vpc_attributes.required("VSwitchId")?,
        name: o.str("InstanceName")?,
        description: o.str("Description")?,
        host_name: o.str("HostName")?,
        instance_type: o.str("InstanceType")?,
        image_id: o.str("ImageId")?,
        status,
        status_since: start_time
            .filter(|_| status == InstanceStatus::Running)
            .unwrap_or(creation_time),
        creation_time,
        network_interface_id: nic.required("NetworkInterfaceId")?,
        mac_address: nic.str("MacAddress")?,
        private_ip,
        security_group_ids,
        attributes,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_reads_numbers() {
        let mut names = vec!["p-10.json", "p-9.json", "p-1.json", "a.json"];
        names.sort_by(|a, b| natural(a, b));
        assert_eq!(names, ["a.json", "p-1.json", "p-9.json", "p-10.json"]);
    }

    #[test]
    fn regions_come_from_whole_path_parts() {
        let catalog = RegionCatalog::public();
        let r = |p: &str| region_in_path(Path::new(p), &catalog);
        assert_eq!(
            r("export/cn-hangzhou/DescribePrefixLists.json").as_deref(),
            Some("cn-hangzhou")
        );
        assert_eq!(
            r("export/DescribePrefixLists-ap-southeast-1-2.json").as_deref(),
            Some("ap-southeast-1")
        );
        assert_eq!(r("export/all.json"), None);
    }

    #[test]
    fn times_in_both_precisions() {
        assert!(parse_time("2026-12-02T04:39Z").is_some());
        assert!(parse_time("2026-12-02T04:39:56Z").is_some());
        assert!(parse_time("yesterday").is_none());
    }
}

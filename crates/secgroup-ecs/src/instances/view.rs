//! The instance as `DescribeInstances` and `DescribeInstanceAttribute` show it
//! (docs/ecs.md §7.5, §7.6). Field types follow the SDK models exactly (the Node SDK refuses
//! a mismatch).

use secgroup_api::render::{minute_time as minute, tags};
use secgroup_domain::catalogue::Catalogue;
use secgroup_domain::ops::instances::query::InstanceView;
use secgroup_rpc::Node;

/// `ExpiredTime` of pay-as-you-go instances (a Decision of docs/ecs.md §7.5).
const POSTPAID_EXPIRED_TIME: &str = "2099-12-31T15:59Z";

/// What an instance type looks like: family (`ecs.g5`), vCPUs and memory (MiB). Not a
/// catalogue: `ecs.<family>.<size>` by the usual naming (`large` = 2 vCPUs, `Nxlarge` =
/// 4N; `c` 2 GiB per vCPU, `r` 8, others 4).
pub fn shape(instance_type: &str) -> (String, i64, i64) {
    let parts: Vec<&str> = instance_type.split('.').collect();
    let family = if parts.len() >= 3 {
        format!("{}.{}", parts[0], parts[1])
    } else {
        String::new()
    };
    let size = parts.last().copied().unwrap_or("");
    let cpu: i64 = match size {
        "small" | "medium" => 1,
        "large" => 2,
        "xlarge" => 4,
        s => s
            .strip_suffix("xlarge")
            .and_then(|n| n.parse::<i64>().ok())
            .map_or(2, |n| n.saturating_mul(4)),
    };
    let per_cpu_gib = match parts.get(1).and_then(|f| f.chars().next()) {
        Some('c') => 2,
        Some('r') => 8,
        _ => 4,
    };
    (family, cpu, cpu.saturating_mul(per_cpu_gib * 1024))
}

/// Family, vCPUs and memory (MiB): the catalogue's when it knows the type, else [`shape`].
fn type_shape(catalogue: &Catalogue, instance_type: &str) -> (String, i64, i64) {
    match catalogue.instance_type(instance_type) {
        Some(t) => (
            t.family.clone(),
            i64::from(t.cpu),
            // Whole MiB of a finite, positive size (the catalogue checks it).
            (t.memory_gib * 1024.0).round() as i64,
        ),
        None => shape(instance_type),
    }
}

/// `OSName`, `OSNameEn` and `OSType`: the catalogue's image, else the image id and a guess.
fn os_of<'a>(catalogue: &'a Catalogue, image_id: &'a str) -> (&'a str, &'a str, &'a str) {
    match catalogue.image(image_id) {
        Some(i) => (&i.os_name, &i.os_name_en, &i.os_type),
        None => (image_id, image_id, os_type(image_id)),
    }
}

fn os_type(image_id: &str) -> &'static str {
    if image_id.to_ascii_lowercase().contains("win") {
        "windows"
    } else {
        "linux"
    }
}

/// `{"IpAddress": [...]}` as a wrapped list (the object form keeps the XML element name).
fn ip_list(addresses: &[&str]) -> Node {
    Node::list("IpAddress", addresses.iter().map(|a| Node::str(*a)))
}

fn public_ips(v: &InstanceView) -> Vec<&str> {
    let ip = v.attributes.public_ip.as_str();
    if ip.is_empty() {
        Vec::new()
    } else {
        vec![ip]
    }
}

fn vpc_attributes(v: &InstanceView) -> Node {
    let i = &v.instance;
    Node::object()
        .field("PrivateIpAddress", ip_list(&[&i.private_ip]))
        .str("VpcId", &i.vpc_id)
        .str("VSwitchId", &i.vswitch_id)
        .str("NatIpAddress", "")
        .build()
}

fn security_group_ids(v: &InstanceView) -> Node {
    Node::list(
        "SecurityGroupId",
        v.instance.security_group_ids.iter().map(Node::str),
    )
}

/// One entry of `NetworkInterfaces`: its addresses, the primary one first.
fn interface_node(kind: &str, id: &str, mac: &str, addresses: &[&str]) -> Node {
    let private_ips = addresses.iter().enumerate().map(|(n, ip)| {
        Node::object()
            .str("PrivateIpAddress", *ip)
            .bool("Primary", n == 0)
            .str("PrivateDnsName", "")
            .build()
    });
    Node::object()
        .str("Type", kind)
        .str("PrimaryIpAddress", addresses.first().copied().unwrap_or(""))
        .str("NetworkInterfaceId", id)
        .str("MacAddress", mac)
        .field("PrivateIpSets", Node::list("PrivateIpSet", private_ips))
        .field("Ipv6Sets", Node::list("Ipv6Set", []))
        .field("Ipv4PrefixSets", Node::list("Ipv4PrefixSet", []))
        .field("Ipv6PrefixSets", Node::list("Ipv6PrefixSet", []))
        .build()
}

/// The instance's interfaces: the primary one, then the secondary ones attached
/// (docs/ecs.md §10.4).
fn network_interfaces(v: &InstanceView) -> Node {
    if v.interfaces.is_empty() {
        let i = &v.instance;
        let only = interface_node(
            "Primary",
            &i.network_interface_id,
            &i.mac_address,
            &[&i.private_ip],
        );
        return Node::list("NetworkInterface", [only]);
    }
    Node::list(
        "NetworkInterface",
        v.interfaces.iter().map(|e| {
            let addresses: Vec<&str> = e.addresses().collect();
            interface_node(e.kind.as_str(), &e.id, &e.mac_address, &addresses)
        }),
    )
}

fn empty_strings(fields: &[&'static str]) -> Node {
    fields
        .iter()
        .fold(Node::object(), |o, f| o.str(f, ""))
        .build()
}

/// One `Instances.Instance[]` entry of `DescribeInstances`, its fields in the order the
/// service emits them (docs/ecs.md §7.5: clients such as footmark read them in order and
/// need `InnerIpAddress` and `EipAddress` before `PublicIpAddress`); the fields the
/// reference's example leaves out follow at the end.
pub fn instance(v: &InstanceView, catalogue: &Catalogue) -> Node {
    let (i, a) = (&v.instance, &v.attributes);
    let (family, cpu, memory) = type_shape(catalogue, &i.instance_type);
    let (os_name, os_name_en, os) = os_of(catalogue, &i.image_id);
    let start = v.start_time.as_ref().map(minute).unwrap_or_default();
    Node::object_with_capacity(80)
        .str("ResourceGroupId", &a.resource_group_id)
        .int("Memory", memory)
        .str("InstanceChargeType", &a.instance_charge_type)
        .int("Cpu", cpu)
        .str("OSName", os_name)
        .str("InstanceNetworkType", "vpc")
        .field("InnerIpAddress", ip_list(&[]))
        .str("ExpiredTime", POSTPAID_EXPIRED_TIME)
        .str("ImageId", &i.image_id)
        .field("EipAddress", eip_address(true))
        .field(
            "ImageOptions",
            Node::object()
                .bool("LoginAsNonRoot", false)
                .bool("CurrentOSNVMeSupported", true)
                .build(),
        )
        .str("VlanId", "")
        .str("HostName", &i.host_name)
        .field("Tags", tags(&v.tags))
        .str("Status", i.status.as_str())
        .field(
            "HibernationOptions",
            Node::object().bool("Configured", false).build(),
        )
        .field(
            "AdditionalInfo",
            Node::object()
                .bool("EnableHighDensityMode", false)
                // The placement host (docs/ecs.md §7.5, Decision).
                .str("ManagedHostId", &v.host)
                .str("NodeSerialNumber", "")
                .build(),
        )
        .field(
            "MetadataOptions",
            Node::object()
                .int("HttpPutResponseHopLimit", 1)
                .str("HttpTokens", "optional")
                .str("HttpEndpoint", "enabled")
                .str("InstanceMetadataTags", "disabled")
                .build(),
        )
        .str("InstanceId", &i.id)
        .str("StoppedMode", stopped_mode(v))
        .field(
            "CpuOptions",
            Node::object()
                .str("TopologyType", "")
                .str("TurboMode", "")
                .bool("EnableVISST", false)
                .bool("EnableVRDT", false)
                .int("ThreadsPerCore", if cpu > 1 { 2 } else { 1 })
                .str("Numa", "")
                .int("CoreCount", (cpu / 2).max(1))
                .str("NestedVirtualization", "")
                .build(),
        )
        .str("StartTime", start)
        .bool("DeletionProtection", a.deletion_protection)
        .field("SecurityGroupIds", security_group_ids(v))
        .field("VpcAttributes", vpc_attributes(v))
        .str("InternetChargeType", &a.internet_charge_type)
        .str("InstanceName", &i.name)
        .str("DeploymentSetId", &a.deployment_set_id)
        .int("InternetMaxBandwidthOut", a.internet_max_bandwidth_out)
        .str("SerialNumber", &a.serial_number)
        .str("OSType", os)
        .str("CreationTime", minute(&i.creation_time))
        .str("AutoReleaseTime", &a.auto_release_time)
        .str("Description", &i.description)
        .str("InstanceTypeFamily", family)
        .field(
            "DedicatedInstanceAttribute",
            empty_strings(&["Tenancy", "Affinity"]),
        )
        .field("PublicIpAddress", ip_list(&public_ips(v)))
        .str("GPUSpec", "")
        .field("NetworkInterfaces", network_interfaces(v))
        .int("SpotPriceLimit", 0)
        .bool("DeviceAvailable", true)
        .str("SaleCycle", "")
        .str("InstanceType", &i.instance_type)
        .str("OSNameEn", os_name_en)
        .str("SpotStrategy", &a.spot_strategy)
        .bool("IoOptimized", true)
        .str("ZoneId", &i.zone_id)
        .str("ClusterId", "")
        .field(
            "EcsCapacityReservationAttr",
            empty_strings(&["CapacityReservationPreference", "CapacityReservationId"]),
        )
        .field(
            "DedicatedHostAttribute",
            empty_strings(&[
                "DedicatedHostId",
                "DedicatedHostName",
                "DedicatedHostClusterId",
            ]),
        )
        .int("GPUAmount", 0)
        .field("OperationLocks", Node::list("LockReason", []))
        .int("InternetMaxBandwidthIn", a.internet_max_bandwidth_in)
        .bool("Recyclable", false)
        .str("RegionId", &i.region_id)
        .str("CreditSpecification", &a.credit_specification)
        // Not in the reference's example, in the order of its field table.
        .int("LocalStorageAmount", 0)
        .int("LocalStorageCapacity", 0)
        .int("SpotDuration", 0)
        .str("SpotInterruptionBehavior", "Terminate")
        .field("RdmaIpAddress", ip_list(&[]))
        .str("KeyPairName", &a.key_pair_name)
        .int("DeploymentSetGroupNo", 0)
        .str("HpcClusterId", &a.hpc_cluster_id)
        .str("ISP", "")
        .bool("EnableNVS", false)
        .field(
            "SecurityOptions",
            Node::object().bool("EnableSecureBoot", false).build(),
        )
        .field("ClockOptions", Node::object().str("PtpStatus", "").build())
        .field(
            "PrivateDnsNameOptions",
            Node::object()
                .str("HostnameType", "Custom")
                .bool("EnableInstanceIdDnsARecord", false)
                .bool("EnableInstanceIdDnsAAAARecord", false)
                .bool("EnableIpDnsARecord", false)
                .bool("EnableIpDnsPtrRecord", false)
                .build(),
        )
        .build()
}

/// `StoppedMode`: `Not-applicable` unless the instance was stopped with a mode.
fn stopped_mode(v: &InstanceView) -> &str {
    let mode = v.attributes.stopped_mode.as_str();
    if mode.is_empty() {
        "Not-applicable"
    } else {
        mode
    }
}

/// The (empty) `EipAddress` object; `DescribeInstances` also carries `Bandwidth` and
/// `IsSupportUnassociate`.
fn eip_address(full: bool) -> Node {
    let node = Node::object();
    let node = if full { node.int("Bandwidth", 0) } else { node };
    let node = node.str("AllocationId", "").str("IpAddress", "");
    let node = if full {
        node.bool("IsSupportUnassociate", false)
    } else {
        node
    };
    node.str("InternetChargeType", "").build()
}

/// The flat object of `DescribeInstanceAttribute` (no tags, no interfaces), its fields in
/// the relative order of `DescribeInstances` (the attribute-only fields at the end).
pub fn attribute(v: &InstanceView, catalogue: &Catalogue) -> Node {
    let (i, a) = (&v.instance, &v.attributes);
    let (_, cpu, memory) = type_shape(catalogue, &i.instance_type);
    Node::object_with_capacity(40)
        .int("Memory", memory)
        .str("InstanceChargeType", &a.instance_charge_type)
        .int("Cpu", cpu)
        .str("InstanceNetworkType", "vpc")
        .field("InnerIpAddress", ip_list(&[]))
        .str("ExpiredTime", POSTPAID_EXPIRED_TIME)
        .str("ImageId", &i.image_id)
        .field("EipAddress", eip_address(false))
        .str("VlanId", "")
        .str("HostName", &i.host_name)
        .str("Status", i.status.as_str())
        .str("InstanceId", &i.id)
        .str("StoppedMode", stopped_mode(v))
        .field("SecurityGroupIds", security_group_ids(v))
        .field("VpcAttributes", vpc_attributes(v))
        .str("InternetChargeType", &a.internet_charge_type)
        .str("InstanceName", &i.name)
        .int("InternetMaxBandwidthOut", a.internet_max_bandwidth_out)
        .str("SerialNumber", &a.serial_number)
        .str("CreationTime", minute(&i.creation_time))
        .str("Description", &i.description)
        .field("PublicIpAddress", ip_list(&public_ips(v)))
        .str("InstanceType", &i.instance_type)
        .str("IoOptimized", "optimized")
        .str("ZoneId", &i.zone_id)
        .str("ClusterId", "")
        .field(
            "DedicatedHostAttribute",
            empty_strings(&["DedicatedHostId", "DedicatedHostName"]),
        )
        .field("OperationLocks", Node::list("LockReason", []))
        .int("InternetMaxBandwidthIn", a.internet_max_bandwidth_in)
        .str("RegionId", &i.region_id)
        .str("CreditSpecification", &a.credit_specification)
        .bool("EnableJumboFrame", false)
        .bool("EnableNetworkEncryption", false)
        .field(
            "NetworkOptions",
            Node::object()
                .str("BandwidthWeighting", "")
                .bool("EnableJumboFrame", false)
                .bool("EnableNetworkEncryption", false)
                .build(),
        )
        .field(
            "SecurityOptions",
            Node::object().bool("EnableSecureBoot", false).build(),
        )
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_the_naming() {
        assert_eq!(shape("ecs.g5.large"), ("ecs.g5".into(), 2, 8192));
        assert_eq!(shape("ecs.c6.2xlarge"), ("ecs.c6".into(), 8, 16384));
        assert_eq!(shape("ecs.r7.xlarge"), ("ecs.r7".into(), 4, 32768));
        assert_eq!(shape("weird"), (String::new(), 2, 8192));
    }
}

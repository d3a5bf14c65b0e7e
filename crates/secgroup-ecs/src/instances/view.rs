//! The instance as `DescribeInstances` and `DescribeInstanceAttribute` show it
//! (docs/ecs.md §7.5, §7.6). Field types follow the SDK models exactly (the Node SDK refuses
//! a mismatch).

use secgroup_api::render::{minute_time as minute, tags};
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
        .str("VpcId", &i.vpc_id)
        .str("VSwitchId", &i.vswitch_id)
        .str("NatIpAddress", "")
        .field("PrivateIpAddress", ip_list(&[&i.private_ip]))
        .build()
}

fn security_group_ids(v: &InstanceView) -> Node {
    Node::list(
        "SecurityGroupId",
        v.instance.security_group_ids.iter().map(Node::str),
    )
}

fn primary_interface(v: &InstanceView) -> Node {
    let i = &v.instance;
    let private_ip = Node::object()
        .str("PrivateIpAddress", &i.private_ip)
        .bool("Primary", true)
        .str("PrivateDnsName", "")
        .build();
    Node::object()
        .str("NetworkInterfaceId", &i.network_interface_id)
        .str("Type", "Primary")
        .str("MacAddress", &i.mac_address)
        .str("PrimaryIpAddress", &i.private_ip)
        .field("PrivateIpSets", Node::list("PrivateIpSet", [private_ip]))
        .field("Ipv6Sets", Node::list("Ipv6Set", []))
        .field("Ipv4PrefixSets", Node::list("Ipv4PrefixSet", []))
        .field("Ipv6PrefixSets", Node::list("Ipv6PrefixSet", []))
        .build()
}

fn empty_strings(fields: &[&'static str]) -> Node {
    fields
        .iter()
        .fold(Node::object(), |o, f| o.str(f, ""))
        .build()
}

/// One `Instances.Instance[]` entry of `DescribeInstances`.
pub fn instance(v: &InstanceView) -> Node {
    let (i, a) = (&v.instance, &v.attributes);
    let (family, cpu, memory) = shape(&i.instance_type);
    let start = v.start_time.as_ref().map(minute).unwrap_or_default();
    let stopped_mode = if a.stopped_mode.is_empty() {
        "Not-applicable"
    } else {
        &a.stopped_mode
    };
    Node::object_with_capacity(80)
        .str("InstanceId", &i.id)
        .str("InstanceName", &i.name)
        .str("Description", &i.description)
        .str("HostName", &i.host_name)
        .str("RegionId", &i.region_id)
        .str("ZoneId", &i.zone_id)
        .str("Status", i.status.as_str())
        .str("InstanceNetworkType", "vpc")
        .str("InstanceType", &i.instance_type)
        .str("InstanceTypeFamily", family)
        .int("Cpu", cpu)
        .int("Memory", memory)
        .int("GPUAmount", 0)
        .str("GPUSpec", "")
        .int("LocalStorageAmount", 0)
        .int("LocalStorageCapacity", 0)
        .str("ImageId", &i.image_id)
        .str("OSName", &i.image_id)
        .str("OSNameEn", &i.image_id)
        .str("OSType", os_type(&i.image_id))
        .str("CreationTime", minute(&i.creation_time))
        .str("StartTime", start)
        .str("ExpiredTime", POSTPAID_EXPIRED_TIME)
        .str("AutoReleaseTime", &a.auto_release_time)
        .str("InstanceChargeType", &a.instance_charge_type)
        .str("InternetChargeType", &a.internet_charge_type)
        .int("InternetMaxBandwidthIn", a.internet_max_bandwidth_in)
        .int("InternetMaxBandwidthOut", a.internet_max_bandwidth_out)
        .str("SpotStrategy", &a.spot_strategy)
        .int("SpotPriceLimit", 0)
        .int("SpotDuration", 0)
        .str("SpotInterruptionBehavior", "Terminate")
        .str("StoppedMode", stopped_mode)
        .field("SecurityGroupIds", security_group_ids(v))
        .field("VpcAttributes", vpc_attributes(v))
        .field(
            "NetworkInterfaces",
            Node::list("NetworkInterface", [primary_interface(v)]),
        )
        .field("PublicIpAddress", ip_list(&public_ips(v)))
        .field("InnerIpAddress", ip_list(&[]))
        .field("RdmaIpAddress", ip_list(&[]))
        .field(
            "EipAddress",
            Node::object()
                .str("AllocationId", "")
                .str("IpAddress", "")
                .int("Bandwidth", 0)
                .str("InternetChargeType", "")
                .bool("IsSupportUnassociate", false)
                .build(),
        )
        .field("Tags", tags(&v.tags))
        .field("OperationLocks", Node::list("LockReason", []))
        .str("ResourceGroupId", &a.resource_group_id)
        .str("KeyPairName", &a.key_pair_name)
        .str("DeploymentSetId", &a.deployment_set_id)
        .int("DeploymentSetGroupNo", 0)
        .str("HpcClusterId", &a.hpc_cluster_id)
        .str("ClusterId", "")
        .str("VlanId", "")
        .str("SerialNumber", &a.serial_number)
        .str("SaleCycle", "")
        .str("CreditSpecification", &a.credit_specification)
        .str("ISP", "")
        .bool("DeletionProtection", a.deletion_protection)
        .bool("DeviceAvailable", true)
        .bool("IoOptimized", true)
        .bool("Recyclable", false)
        .bool("EnableNVS", false)
        .field(
            "MetadataOptions",
            Node::object()
                .str("HttpEndpoint", "enabled")
                .str("HttpTokens", "optional")
                .int("HttpPutResponseHopLimit", 1)
                .str("InstanceMetadataTags", "disabled")
                .build(),
        )
        .field(
            "CpuOptions",
            Node::object()
                .int("CoreCount", (cpu / 2).max(1))
                .int("ThreadsPerCore", if cpu > 1 { 2 } else { 1 })
                .str("Numa", "")
                .str("TopologyType", "")
                .str("TurboMode", "")
                .str("NestedVirtualization", "")
                .bool("EnableVISST", false)
                .bool("EnableVRDT", false)
                .build(),
        )
        .field(
            "DedicatedHostAttribute",
            empty_strings(&[
                "DedicatedHostId",
                "DedicatedHostName",
                "DedicatedHostClusterId",
            ]),
        )
        .field(
            "DedicatedInstanceAttribute",
            empty_strings(&["Tenancy", "Affinity"]),
        )
        .field(
            "EcsCapacityReservationAttr",
            empty_strings(&["CapacityReservationId", "CapacityReservationPreference"]),
        )
        .field(
            "HibernationOptions",
            Node::object().bool("Configured", false).build(),
        )
        .field(
            "SecurityOptions",
            Node::object().bool("EnableSecureBoot", false).build(),
        )
        .field(
            "ImageOptions",
            Node::object()
                .bool("CurrentOSNVMeSupported", true)
                .bool("LoginAsNonRoot", false)
                .build(),
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
        .field(
            "AdditionalInfo",
            Node::object()
                .bool("EnableHighDensityMode", false)
                .str("ManagedHostId", "")
                .str("NodeSerialNumber", "")
                .build(),
        )
        .build()
}

/// The flat object of `DescribeInstanceAttribute` (no tags, no interfaces).
pub fn attribute(v: &InstanceView) -> Node {
    let (i, a) = (&v.instance, &v.attributes);
    let (_, cpu, memory) = shape(&i.instance_type);
    let stopped_mode = if a.stopped_mode.is_empty() {
        "Not-applicable"
    } else {
        &a.stopped_mode
    };
    Node::object_with_capacity(40)
        .str("InstanceId", &i.id)
        .str("InstanceName", &i.name)
        .str("Description", &i.description)
        .str("HostName", &i.host_name)
        .str("RegionId", &i.region_id)
        .str("ZoneId", &i.zone_id)
        .str("Status", i.status.as_str())
        .str("InstanceType", &i.instance_type)
        .str("InstanceNetworkType", "vpc")
        .str("ImageId", &i.image_id)
        .int("Cpu", cpu)
        .int("Memory", memory)
        .str("CreationTime", minute(&i.creation_time))
        .str("ExpiredTime", POSTPAID_EXPIRED_TIME)
        .str("InstanceChargeType", &a.instance_charge_type)
        .str("InternetChargeType", &a.internet_charge_type)
        .int("InternetMaxBandwidthIn", a.internet_max_bandwidth_in)
        .int("InternetMaxBandwidthOut", a.internet_max_bandwidth_out)
        .str("StoppedMode", stopped_mode)
        .str("SerialNumber", &a.serial_number)
        .str("CreditSpecification", &a.credit_specification)
        .str("ClusterId", "")
        .str("VlanId", "")
        .str("IoOptimized", "optimized")
        .field("SecurityGroupIds", security_group_ids(v))
        .field("PublicIpAddress", ip_list(&public_ips(v)))
        .field("InnerIpAddress", ip_list(&[]))
        .field("VpcAttributes", vpc_attributes(v))
        .field(
            "EipAddress",
            Node::object()
                .str("AllocationId", "")
                .str("IpAddress", "")
                .int("Bandwidth", 0)
                .str("InternetChargeType", "")
                .build(),
        )
        .field(
            "DedicatedHostAttribute",
            empty_strings(&["DedicatedHostId", "DedicatedHostName"]),
        )
        .field("OperationLocks", Node::list("LockReason", []))
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

//! Resource identifiers and secrets, in Alibaba's formats.

use rand::distributions::Alphanumeric;
use rand::Rng;

const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn lower_alnum(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| LOWER_ALNUM[rng.gen_range(0..LOWER_ALNUM.len())] as char)
        .collect()
}

const LOWER_HEX: &[u8] = b"0123456789abcdef";

fn lower_hex(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| LOWER_HEX[rng.gen_range(0..LOWER_HEX.len())] as char)
        .collect()
}

/// `np-` + 20 lower-case hex digits: a NIS network path.
pub fn new_network_path_id() -> String {
    format!("np-{}", lower_hex(20))
}

/// `nra-` + 20 lower-case hex digits: a NIS reachability analysis.
pub fn new_analysis_id() -> String {
    format!("nra-{}", lower_hex(20))
}

/// `<prefix>-` + 21 lower-case hex digits: the report ids inside an analysis result.
pub fn new_report_id(prefix: &str) -> String {
    format!("{prefix}-{}", lower_hex(21))
}

/// `sg-` + 20 lower-case alphanumerics.
pub fn new_security_group_id() -> String {
    format!("sg-{}", lower_alnum(20))
}

/// `vpc-` + 21 lower-case alphanumerics.
pub fn new_vpc_id() -> String {
    format!("vpc-{}", lower_alnum(21))
}

/// `vsw-` + 21 lower-case alphanumerics.
pub fn new_vswitch_id() -> String {
    format!("vsw-{}", lower_alnum(21))
}

/// `vrt-` + 21 lower-case alphanumerics: the vRouter created with a VPC.
pub fn new_vrouter_id() -> String {
    format!("vrt-{}", lower_alnum(21))
}

/// `vtb-` + 21 lower-case alphanumerics: the system route table created with a VPC.
pub fn new_route_table_id() -> String {
    format!("vtb-{}", lower_alnum(21))
}

/// `i-` + 20 lower-case alphanumerics: an ECS instance.
pub fn new_instance_id() -> String {
    format!("i-{}", lower_alnum(20))
}

/// `eni-` + 20 lower-case alphanumerics: an elastic network interface.
pub fn new_network_interface_id() -> String {
    format!("eni-{}", lower_alnum(20))
}

/// `00:16:3e:` (Alibaba Cloud's OUI) + 3 random octets.
pub fn new_mac_address() -> String {
    let octets: [u8; 3] = rand::thread_rng().gen();
    format!(
        "00:16:3e:{:02x}:{:02x}:{:02x}",
        octets[0], octets[1], octets[2]
    )
}

/// A 16-digit numeric account id, like an Alibaba Cloud UID.
pub fn new_account_id() -> String {
    let mut rng = rand::thread_rng();
    format!(
        "{}{:015}",
        rng.gen_range(1..10),
        rng.gen_range(0..1_000_000_000_000_000u64)
    )
}

/// `LTAI` + 20 alphanumerics, the shape of a real AccessKeyId.
pub fn new_access_key_id() -> String {
    let tail: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect();
    format!("LTAI{tail}")
}

/// 30 alphanumerics.
pub fn new_access_key_secret() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(30)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_documented_shape() {
        let sg = new_security_group_id();
        assert_eq!(sg.len(), 23);
        assert!(sg[3..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        for (id, prefix) in [
            (new_vpc_id(), "vpc-"),
            (new_vswitch_id(), "vsw-"),
            (new_vrouter_id(), "vrt-"),
            (new_route_table_id(), "vtb-"),
        ] {
            assert!(id.starts_with(prefix), "{id}");
            assert_eq!(id.len(), 25, "{id}");
        }
        assert_eq!(new_account_id().len(), 16);
        assert!(new_access_key_id().starts_with("LTAI"));
        assert_eq!(new_access_key_secret().len(), 30);
    }
}

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
/// `d-` + 20 lower-case alphanumerics: a disk.
pub fn new_disk_id() -> String {
    format!("d-{}", lower_alnum(20))
}

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

/// Declares an id newtype: a `String` underneath, serialized as exactly that string (the
/// stored client-token results and every rendered JSON stay byte for byte what they were),
/// read as `&str` wherever a string is wanted. What it adds is that the seam between the
/// products and the domain cannot take one kind of id for another (an account id for a
/// group id, both `&str` before), nor a region or a name for an id.
///
/// The seam is two layers: the operations (`crate::ops::*`, which take these for the
/// resources they act on) and the storage traits (`crate::store`). The model structs
/// (`SecurityGroup`, `Instance`, `Rule`, …) keep `String` id fields: they are what the
/// stores read and write and the products render, and an id read from one is wrapped where
/// it is handed back to an operation or a `Tx`.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident $(, $generate:ident)?) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize,
            serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The id `id`, as given: ids are checked where they come in (the wire
            /// decoders and the operations), not here.
            pub fn new(id: impl Into<String>) -> $name {
                $name(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }

            $(
            /// A new random id of this kind, in Alibaba's format.
            pub fn generate() -> $name {
                $name($generate())
            }
            )?
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> $name {
                $name(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> $name {
                $name(id.to_owned())
            }
        }

        impl From<&String> for $name {
            fn from(id: &String) -> $name {
                $name(id.clone())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }
    };
}

id_type!(
    /// An account: 16 digits ([`new_account_id`]), or whatever an operator configured.
    AccountId,
    new_account_id
);
id_type!(
    /// `sg-…` ([`new_security_group_id`]).
    SecurityGroupId,
    new_security_group_id
);
id_type!(
    /// `i-…` ([`new_instance_id`]).
    InstanceId,
    new_instance_id
);
id_type!(
    /// `vpc-…` ([`new_vpc_id`]).
    VpcId,
    new_vpc_id
);
id_type!(
    /// `vsw-…` ([`new_vswitch_id`]).
    VSwitchId,
    new_vswitch_id
);
id_type!(
    /// A rule's id (`sgr-…`, made by [`crate::rules`]).
    RuleId
);
id_type!(
    /// `pl-…`, a prefix list (made by [`crate::ops::prefix_lists`]).
    PrefixListId
);

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
        assert!(SecurityGroupId::generate().starts_with("sg-"));
        assert_eq!(AccountId::generate().len(), 16);
    }

    /// An id newtype serializes as its bare string, so JSON that held a `String` before
    /// (stored client-token results, rendered responses) holds exactly the same now.
    #[test]
    fn ids_serialize_as_their_strings() {
        let id = SecurityGroupId::new("sg-abc");
        assert_eq!(serde_json::to_string(&id).expect("json"), r#""sg-abc""#);
        let back: SecurityGroupId = serde_json::from_str(r#""sg-abc""#).expect("json");
        assert_eq!(back, id);
        assert_eq!(id.to_string(), "sg-abc");
        assert_eq!(&*id, "sg-abc");
        // Compared with strings from either side (the operations compare them both ways).
        let owned = String::from("sg-abc");
        assert_eq!(id, "sg-abc");
        assert_eq!("sg-abc", id);
        assert_eq!(id, owned);
        assert_eq!(owned, id);
        let map: std::collections::HashMap<SecurityGroupId, u8> = [(id.clone(), 1)].into();
        assert_eq!(map.get("sg-abc"), Some(&1), "looked up by &str");
        assert_eq!(String::from(id), "sg-abc");
    }
}

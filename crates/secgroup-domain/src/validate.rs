//! The documented rules of valid names, descriptions, tags, ids and tokens (docs/ecs.md
//! §3.1, §4, §2.8).

use ipnet::IpNet;

use crate::error::DomainError;
use crate::model::{AddressFamily, Tag};

/// Security group ids may hold letters, digits, `_` and `-`, at most 100 characters.
pub fn security_group_id(id: &str) -> Result<(), DomainError> {
    let ok = !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    ok.then_some(())
        .ok_or(DomainError::SecurityGroupIdMalformed)
}

fn starts_with_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// Whether `text` holds a control character (U+0000–U+001F or U+007F). No name,
/// description or tag may: stored, they would be written raw into every XML answer that
/// carries them (and XML 1.0 forbids most of them), making the whole listing unreadable.
pub fn has_control(text: &str) -> bool {
    text.bytes().any(|b| b < 0x20 || b == 0x7f)
}

/// Text that may appear in a description: no control character, not a URL at the start.
pub fn free_text_ok(text: &str) -> bool {
    !has_control(text) && !starts_with_url(text)
}

/// 2–128 characters, starting with a letter or a CJK character, then letters, digits and
/// `: _ . -`; never starting with `http://` or `https://`.
pub fn security_group_name(name: &str) -> Result<(), DomainError> {
    let count = name.chars().count();
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || is_cjk(c));
    let rest_ok =
        chars.all(|c| c.is_alphanumeric() || is_cjk(c) || matches!(c, ':' | '_' | '.' | '-'));
    let ok = (2..=128).contains(&count) && first_ok && rest_ok && !starts_with_url(name);
    ok.then_some(())
        .ok_or(DomainError::SecurityGroupNameMalformed)
}

/// 2–256 characters, never starting with `http://` or `https://`.
pub fn security_group_description(description: &str) -> Result<(), DomainError> {
    let count = description.chars().count();
    let ok = (2..=256).contains(&count) && free_text_ok(description);
    ok.then_some(())
        .ok_or(DomainError::SecurityGroupDescriptionMalformed)
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x3040..=0x30FF | 0xAC00..=0xD7AF)
}

pub const MAX_TAGS_PER_REQUEST: usize = 20;
pub const MAX_TAGS_PER_RESOURCE: usize = 20;

/// A tag key: non-empty, ≤ 128 characters, not starting `aliyun` or `acs:`, no `http(s)://`.
pub fn tag_key(key: &str) -> Result<(), DomainError> {
    let lower = key.to_ascii_lowercase();
    let ok = !key.is_empty()
        && key.chars().count() <= 128
        && !has_control(key)
        && !lower.starts_with("aliyun")
        && !lower.starts_with("acs:")
        && !lower.contains("http://")
        && !lower.contains("https://");
    ok.then_some(()).ok_or(DomainError::TagKeyMalformed)
}

/// A tag value: may be empty, ≤ 128 characters, no `http(s)://`.
pub fn tag_value(value: &str) -> Result<(), DomainError> {
    let lower = value.to_ascii_lowercase();
    let ok = value.chars().count() <= 128
        && !has_control(value)
        && !lower.contains("http://")
        && !lower.contains("https://");
    ok.then_some(()).ok_or(DomainError::TagValueMalformed)
}

/// A set of tags given in one request: each valid, keys unique, at most 20.
pub fn tags(tags: &[Tag]) -> Result<(), DomainError> {
    if tags.len() > MAX_TAGS_PER_REQUEST {
        return Err(DomainError::TooManyTags(MAX_TAGS_PER_REQUEST));
    }
    for (i, tag) in tags.iter().enumerate() {
        tag_key(&tag.key)?;
        tag_value(&tag.value)?;
        if tags[..i].iter().any(|t| t.key == tag.key) {
            return Err(DomainError::TagKeyDuplicate);
        }
    }
    Ok(())
}

/// A ClientToken: 1–64 ASCII characters.
pub fn client_token(token: &str) -> Result<(), DomainError> {
    let ok = !token.is_empty() && token.len() <= 64 && token.is_ascii();
    ok.then_some(()).ok_or(DomainError::ClientTokenMalformed)
}

// ---- prefix lists (docs/ecs.md §6.1) ----

/// 2–128 characters, starting with a letter (or a CJK character), then letters, digits and
/// `: _ . -`; never starting with `http://`, `https://`, `com.aliyun` or `com.alibabacloud`.
pub fn prefix_list_name(name: &str) -> Result<(), DomainError> {
    let count = name.chars().count();
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || is_cjk(c));
    let rest_ok =
        chars.all(|c| c.is_alphanumeric() || is_cjk(c) || matches!(c, ':' | '_' | '.' | '-'));
    let lower = name.to_ascii_lowercase();
    let reserved = starts_with_url(&lower)
        || lower.starts_with("com.aliyun")
        || lower.starts_with("com.alibabacloud");
    let ok = (2..=128).contains(&count) && first_ok && rest_ok && !reserved;
    ok.then_some(()).ok_or(DomainError::PrefixListNameMalformed)
}

/// A list's description: 2–256 characters, never starting with `http://` or `https://`.
pub fn prefix_list_description(description: &str) -> Result<(), DomainError> {
    let count = description.chars().count();
    let ok = (2..=256).contains(&count) && free_text_ok(description);
    ok.then_some(())
        .ok_or(DomainError::PrefixListDescriptionMalformed)
}

/// An entry's description: 2–32 characters, never starting with `http://` or `https://`.
pub fn prefix_list_entry_description(description: &str) -> Result<(), DomainError> {
    let count = description.chars().count();
    let ok = (2..=32).contains(&count) && free_text_ok(description);
    ok.then_some(())
        .ok_or(DomainError::PrefixListEntryDescriptionMalformed)
}

/// A prefix-list block in its canonical text, with its family: a bare address becomes a host
/// block (`/32`, `/128`), IPv6 is compressed lower case, host bits must be zero.
pub fn prefix_list_cidr(cidr: &str) -> Result<(String, AddressFamily), DomainError> {
    let malformed = || DomainError::PrefixListCidrMalformed(cidr.to_string());
    let net: IpNet = crate::rules::strict_net(cidr).ok_or_else(malformed)?;
    if net.trunc() != net {
        return Err(malformed());
    }
    let family = match net {
        IpNet::V4(_) => AddressFamily::IPv4,
        IpNet::V6(_) => AddressFamily::IPv6,
    };
    Ok((format!("{}/{}", net.addr(), net.prefix_len()), family))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_ids() {
        for ok in ["sg-bp67acfmxazb4ph", "sg_1", &"a".repeat(100)] {
            assert!(security_group_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "sg-bad!id", "sg bad", &"a".repeat(101), "sg-é"] {
            assert_eq!(
                security_group_id(bad),
                Err(DomainError::SecurityGroupIdMalformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn names() {
        for ok in ["ab", "web:tier_1.a-b", "安全组", "a安全"] {
            assert!(security_group_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a",
            "1abc",
            "_abc",
            "http://x",
            "a b",
            &format!("a{}", "b".repeat(128)),
        ] {
            assert!(security_group_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn descriptions() {
        assert!(security_group_description("ok").is_ok());
        assert!(security_group_description("x").is_err());
        assert!(security_group_description("https://x").is_err());
        assert!(security_group_description(&"d".repeat(257)).is_err());
    }

    #[test]
    fn tag_rules() {
        let t = |k: &str, v: &str| Tag {
            key: k.into(),
            value: v.into(),
        };
        assert!(tags(&[t("env", ""), t("team", "a")]).is_ok());
        assert_eq!(
            tags(&[t("env", "a"), t("env", "b")]),
            Err(DomainError::TagKeyDuplicate)
        );
        assert_eq!(
            tags(&[t("aliyun-x", "a")]),
            Err(DomainError::TagKeyMalformed)
        );
        assert_eq!(tags(&[t("", "a")]), Err(DomainError::TagKeyMalformed));
        assert_eq!(
            tags(&[t("k", &"v".repeat(129))]),
            Err(DomainError::TagValueMalformed)
        );
        let many: Vec<Tag> = (0..21).map(|i| t(&format!("k{i}"), "")).collect();
        assert_eq!(tags(&many), Err(DomainError::TooManyTags(20)));
    }

    /// Every control character, in every free-text field, is refused with that field's code.
    #[test]
    fn control_characters_are_refused_everywhere() {
        let controls = (0u8..0x20).chain([0x7f]).map(char::from);
        for c in controls {
            let text = format!("ab{c}cd");
            assert_eq!(
                security_group_description(&text),
                Err(DomainError::SecurityGroupDescriptionMalformed),
                "{c:?}"
            );
            assert_eq!(tag_key(&text), Err(DomainError::TagKeyMalformed));
            assert_eq!(tag_value(&text), Err(DomainError::TagValueMalformed));
            assert!(security_group_name(&text).is_err());
            assert!(prefix_list_name(&text).is_err());
            assert_eq!(
                prefix_list_description(&text),
                Err(DomainError::PrefixListDescriptionMalformed)
            );
            assert_eq!(
                prefix_list_entry_description(&text),
                Err(DomainError::PrefixListEntryDescriptionMalformed)
            );
        }
        // Everything else printable stays accepted.
        assert!(security_group_description("a b+c*~/é 安全 \u{80}").is_ok());
        assert!(tag_value("tab-free value, émoji 🙂").is_ok());
    }

    #[test]
    fn tokens() {
        assert!(client_token(&"t".repeat(64)).is_ok());
        assert!(client_token(&"t".repeat(65)).is_err());
        assert!(client_token("tökén").is_err());
    }

    #[test]
    fn prefix_list_names_and_descriptions() {
        for ok in ["pl", "web:tier_1.a-b", "前缀", "a1"] {
            assert!(prefix_list_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a",
            "1pl",
            "_pl",
            "com.aliyun.x",
            "Com.AlibabaCloud",
            "a b",
            &"p".repeat(129),
        ] {
            assert_eq!(
                prefix_list_name(bad),
                Err(DomainError::PrefixListNameMalformed),
                "{bad}"
            );
        }
        assert!(prefix_list_description("ok").is_ok());
        assert!(prefix_list_description("http://x").is_err());
        assert!(prefix_list_description(&"d".repeat(257)).is_err());
        assert!(prefix_list_entry_description(&"d".repeat(32)).is_ok());
        assert!(prefix_list_entry_description(&"d".repeat(33)).is_err());
        assert!(prefix_list_entry_description("x").is_err());
    }

    #[test]
    fn prefix_list_cidrs_are_canonical() {
        let ok = |s: &str| prefix_list_cidr(s).map(|(c, _)| c);
        assert_eq!(ok("10.0.0.1"), Ok("10.0.0.1/32".into()));
        assert_eq!(ok("10.0.0.0/8"), Ok("10.0.0.0/8".into()));
        assert_eq!(
            ok("2001:0DB8:0000:0000:0000:0000:0000:0000/32"),
            Ok("2001:db8::/32".into())
        );
        assert_eq!(ok("2001:fd01:0:0:0:0:0:0/32"), Ok("2001:fd01::/32".into()));
        assert_eq!(ok("2001:db8::1"), Ok("2001:db8::1/128".into()));
        assert_eq!(
            prefix_list_cidr("2001:db8::/32").map(|(_, f)| f),
            Ok(AddressFamily::IPv6)
        );
        for bad in [
            "10.0.0.1/8",
            "10.0.0.0/33",
            "",
            "x",
            " 10.0.0.0/8",
            "2001:db8::1/32",
            "010.000.000.000/8",
            "10.0.0.0/08",
        ] {
            assert_eq!(
                prefix_list_cidr(bad),
                Err(DomainError::PrefixListCidrMalformed(bad.into())),
                "{bad}"
            );
        }
    }
}

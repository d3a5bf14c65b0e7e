//! Instance names, host names and descriptions: their rules, and the batch forms of
//! `RunInstances` — `prefix[begin,bits]suffix` numbers each instance (`web-[1,3]` →
//! `web-001`, `web-002`, …) and `UniqueSuffix=true` appends `001`, `002`, … to a plain name.

use crate::error::DomainError;
use crate::validate;

/// The `[begin,bits]` of a batch name: where it is and what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pattern {
    open: usize,
    close: usize,
    begin: u64,
    bits: usize,
}

/// The first `[begin,bits]` (begin 0..=999999, bits 1..=6) in `template`.
fn pattern(template: &str) -> Option<Pattern> {
    let mut from = 0;
    while let Some(offset) = template[from..].find('[') {
        let open = from + offset;
        let close = open + template[open..].find(']')?;
        let inner = &template[open + 1..close];
        if let Some((begin, bits)) = inner.split_once(',') {
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            if digits(begin) && digits(bits) && begin.len() <= 6 {
                let begin: u64 = begin.parse().ok()?;
                let bits: usize = bits.parse().ok()?;
                if (1..=6).contains(&bits) {
                    return Some(Pattern {
                        open,
                        close,
                        begin,
                        bits,
                    });
                }
            }
        }
        from = open + 1;
    }
    None
}

/// The names of `count` instances launched together from `template`.
pub fn expand(template: &str, count: usize, unique_suffix: bool) -> Vec<String> {
    match pattern(template) {
        Some(p) => (0..count as u64)
            .map(|i| {
                format!(
                    "{}{:0width$}{}",
                    &template[..p.open],
                    p.begin + i,
                    &template[p.close + 1..],
                    width = p.bits
                )
            })
            .collect(),
        None if unique_suffix => (1..=count).map(|i| format!("{template}{i:03}")).collect(),
        None => vec![template.to_string(); count],
    }
}

/// 2–128 characters, starting with a letter or a CJK character, then letters, digits and
/// `: _ . -`, never starting with `http://` or `https://` (the security-group name rule).
pub fn instance_name(name: &str) -> Result<(), DomainError> {
    validate::security_group_name(name).map_err(|_| DomainError::InstanceNameMalformed)
}

/// 2–256 characters, never starting with `http://` or `https://`.
pub fn description(text: &str) -> Result<(), DomainError> {
    validate::security_group_description(text)
        .map_err(|_| DomainError::InstanceDescriptionMalformed)
}

/// 2–64 characters of letters, digits, `.` and `-`; neither first nor last is `.` or `-`,
/// and no `.` or `-` follows another (the Linux rule, which also admits Windows names).
pub fn host_name(name: &str) -> Result<(), DomainError> {
    let bytes = name.as_bytes();
    let punct = |b: u8| b == b'.' || b == b'-';
    let ok = (2..=64).contains(&bytes.len())
        && bytes.iter().all(|&b| b.is_ascii_alphanumeric() || punct(b))
        && !bytes.first().copied().is_some_and(punct)
        && !bytes.last().copied().is_some_and(punct)
        && !bytes.windows(2).any(|w| punct(w[0]) && punct(w[1]));
    ok.then_some(()).ok_or(DomainError::HostNameMalformed)
}

/// The host name ECS gives an instance that was given none: `iZ<id without i->Z`.
pub fn default_host_name(instance_id: &str) -> String {
    format!("iZ{}Z", instance_id.trim_start_matches("i-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_patterns_number_each_instance() {
        assert_eq!(
            expand("web-[1,3]", 3, false),
            ["web-001", "web-002", "web-003"]
        );
        assert_eq!(
            expand("k8s-[98,2]-node", 3, true),
            ["k8s-98-node", "k8s-99-node", "k8s-100-node"]
        );
        assert_eq!(expand("a[x]b[0,4]", 1, false), ["a[x]b0000"]);
        assert_eq!(expand("db", 3, true), ["db001", "db002", "db003"]);
        assert_eq!(expand("db", 2, false), ["db", "db"]);
        // Not patterns: kept as written (and then refused by the name rule).
        assert_eq!(expand("x[1,7]", 1, false), ["x[1,7]"]);
        assert_eq!(expand("x[1,", 1, false), ["x[1,"]);
    }

    #[test]
    fn name_rules() {
        for ok in ["ab", "web-001", "db:primary_1.a", "实例"] {
            assert!(instance_name(ok).is_ok(), "{ok}");
        }
        for bad in ["a", "1abc", "http://x", "a b", "x[1,7]"] {
            assert_eq!(
                instance_name(bad),
                Err(DomainError::InstanceNameMalformed),
                "{bad}"
            );
        }
        for ok in ["ab", "web-1.example", "A1"] {
            assert!(host_name(ok).is_ok(), "{ok}");
        }
        for bad in ["a", "-ab", "ab.", "a..b", "a-.b", "a_b", &"h".repeat(65)] {
            assert_eq!(host_name(bad), Err(DomainError::HostNameMalformed), "{bad}");
        }
        assert!(description("ok").is_ok());
        assert_eq!(
            description("x"),
            Err(DomainError::InstanceDescriptionMalformed)
        );
        assert_eq!(default_host_name("i-abc"), "iZabcZ");
    }
}

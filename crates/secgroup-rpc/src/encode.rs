//! RFC 3986 percent-encoding as both Alibaba signature schemes define it.

/// Everything except `A-Z a-z 0-9 - _ . ~` is escaped, with uppercase hex.
/// Notably a space becomes `%20` (never `+`) and `*` becomes `%2A`: clients put `+`
/// on the wire but sign `%20`, so the server must re-encode after decoding.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Percent-encodes `s` with the strict RFC 3986 rule of the signature algorithms.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_percent_encoded(&mut out, s);
    out
}

/// Appends `s` percent-encoded to `out`. Written by hand, copying runs of unreserved
/// bytes whole: every signed request encodes each parameter and then its whole canonical
/// query, and `percent_encoding`'s `Display` route cost ~20,000 instructions a request.
pub fn push_percent_encoded(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        if is_unreserved(b) {
            continue;
        }
        // `start..i` holds only ASCII, so both ends are character boundaries.
        if let Some(run) = s.get(start..i) {
            out.push_str(run);
        }
        out.push('%');
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
        start = i + 1;
    }
    if let Some(rest) = s.get(start..) {
        out.push_str(rest);
    }
}

/// `k=v&k=v` over `pairs`, each side percent-encoded, sorted by encoded key then value.
pub fn canonical_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    encoded.sort();
    let mut out = String::new();
    for (i, (k, v)) in encoded.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_space_star_and_tilde_like_the_sdks_sign_them() {
        assert_eq!(percent_encode("a b*c~d/é"), "a%20b%2Ac~d%2F%C3%A9");
    }

    /// The hand-written encoder agrees with the `percent_encoding` crate on every byte.
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    use proptest::prelude::*;

    /// RFC 3986's unreserved set as a `percent_encoding` set: everything else is escaped.
    const UNRESERVED_ONLY: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');

    #[test]
    fn agrees_with_the_percent_encoding_crate() {
        let all_ascii: String = (0u8..128).map(char::from).collect();
        for s in [
            "",
            "plain",
            "é",
            "aé",
            "éa",
            "a%2Fb=c&d",
            "日本語 text+*~",
            all_ascii.as_str(),
        ] {
            assert_eq!(
                percent_encode(s),
                utf8_percent_encode(s, UNRESERVED_ONLY).to_string(),
                "{s:?}"
            );
        }
    }

    /// Arbitrary Unicode: any scalar value, control characters and astral planes included.
    fn any_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(any::<char>(), 0..48).prop_map(String::from_iter)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

        /// The hand-written encoder agrees with the `percent_encoding` crate on any string.
        #[test]
        fn agrees_with_the_percent_encoding_crate_on_any_string(s in any_text()) {
            prop_assert_eq!(percent_encode(&s), utf8_percent_encode(&s, UNRESERVED_ONLY).to_string());
        }

        /// Appending encodes exactly what encoding alone does, whatever the buffer held.
        #[test]
        fn push_appends_the_encoding(prefix in any_text(), s in any_text()) {
            let mut out = prefix.clone();
            push_percent_encoded(&mut out, &s);
            prop_assert_eq!(out, format!("{prefix}{}", percent_encode(&s)));
        }
    }

    #[test]
    fn canonical_query_sorts_by_encoded_key() {
        assert_eq!(canonical_query([("b", "2"), ("a", "1 1")]), "a=1%201&b=2");
    }
}

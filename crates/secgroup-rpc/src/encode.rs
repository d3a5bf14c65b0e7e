//! RFC 3986 percent-encoding as both Alibaba signature schemes define it.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything except `A-Z a-z 0-9 - _ . ~` is escaped, with uppercase hex.
/// Notably a space becomes `%20` (never `+`) and `*` becomes `%2A`: clients put `+`
/// on the wire but sign `%20`, so the server must re-encode after decoding.
const UNRESERVED_ONLY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes `s` with the strict RFC 3986 rule of the signature algorithms.
pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED_ONLY).to_string()
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

    #[test]
    fn canonical_query_sorts_by_encoded_key() {
        assert_eq!(canonical_query([("b", "2"), ("a", "1 1")]), "a=1%201&b=2");
    }
}

//! Signature V1: HMAC-SHA1 over the canonicalized parameters (docs/protocol.md §3.2).

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::encode::{canonical_query, push_percent_encoded};

/// The StringToSign: `METHOD&%2F&enc(canonical query)`. Every parameter except `Signature`
/// takes part, empty values included (the legacy SDK signs `SignatureType=`). The canonical
/// query is encoded a second time, so `%` becomes `%25` — that double encoding is the spec.
pub fn string_to_sign<'a>(
    method: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let query = canonical_query(params.into_iter().filter(|(k, _)| *k != "Signature"));
    // Encoded straight into the result: `%2F` is the encoded path `/`.
    let mut out = String::with_capacity(method.len() + 5 + query.len() + query.len() / 2);
    out.push_str(method);
    out.push_str("&%2F&");
    push_percent_encoded(&mut out, &query);
    out
}

/// Base64(HMAC-SHA1(secret + "&", string_to_sign)).
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    let key = format!("{secret}&");
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha1>::new_from_slice(key.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documentation's vector (AlibabaCloudDocs Signature.md; docs/protocol.md §3.4).
    #[test]
    fn documented_describe_regions_vector() {
        let params = [
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ];
        let sts = string_to_sign("GET", params);
        assert!(sts
            .starts_with("GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"));
        assert!(sts.contains("Timestamp%3D2016-02-23T12%253A46%253A24Z"));
        assert_eq!(sign("testsecret", &sts), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    }

    /// docs/protocol.md §3.4: a POST with a space in a value, signed as `%20` (encoded again:
    /// `%2520`).
    #[test]
    fn post_vector_with_space() {
        let params = [
            ("AccessKeyId", "testid"),
            ("Action", "DescribeSecurityGroupAttribute"),
            ("Description", "a b"),
            ("Format", "JSON"),
            ("RegionId", "cn-hangzhou"),
            ("SecurityGroupId", "sg-bp67acfmxazb4p****"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "0123456789abcdef0123456789abcdef"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2024-01-01T00:00:00Z"),
            ("Version", "2014-05-26"),
            ("Signature", "ignored"),
        ];
        let sts = string_to_sign("POST", params);
        assert!(sts.starts_with(
            "POST&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeSecurityGroupAttribute%26Description%3Da%2520b%26Format%3DJSON"
        ));
        assert_eq!(sign("testsecret", &sts), "tEsqEFePKEBDnjWUBlKST4XxcQY=");
    }
}

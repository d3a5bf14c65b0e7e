//! The client side of Signature V1: the common parameters and the signature an SDK adds to
//! a call, built from the same pure functions the server verifies with.

use chrono::{DateTime, Utc};

use crate::encode::percent_encode;
use crate::signature::v1;

/// One call to sign: the product version, the action and its business parameters.
#[derive(Debug, Clone)]
pub struct V1Call<'a> {
    pub method: &'a str,
    pub version: &'a str,
    pub action: &'a str,
    pub params: &'a [(String, String)],
}

/// Every parameter of `call`, common ones (`Format=JSON`, a fresh nonce, the timestamp)
/// included, with `Signature` last.
pub fn sign_v1(
    call: &V1Call<'_>,
    access_key_id: &str,
    access_key_secret: &str,
    now: DateTime<Utc>,
) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = [
        ("Action", call.action),
        ("Version", call.version),
        ("Format", "JSON"),
        ("AccessKeyId", access_key_id),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    all.push((
        "SignatureNonce".to_string(),
        uuid::Uuid::new_v4().to_string(),
    ));
    all.push((
        "Timestamp".to_string(),
        now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    ));
    all.extend(call.params.iter().cloned());
    let string_to_sign = v1::string_to_sign(
        call.method,
        all.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    all.push((
        "Signature".to_string(),
        v1::sign(access_key_secret, &string_to_sign),
    ));
    all
}

/// `k=v&k=v`, strictly percent-encoded: a valid query string and form body alike.
pub fn encode_pairs(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&percent_encode(k));
        out.push('=');
        out.push_str(&percent_encode(v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Params;

    /// What the client signs is what the server recomputes from the decoded form.
    #[test]
    fn server_side_string_to_sign_matches_the_client_signature() {
        let business = vec![("Description".to_string(), "a b*c".to_string())];
        let call = V1Call {
            method: "POST",
            version: "2014-05-26",
            action: "DescribeRegions",
            params: &business,
        };
        let signed = sign_v1(&call, "testid", "testsecret", Utc::now());
        let body = encode_pairs(&signed);
        let decoded = Params::from_query_and_form("", Some(body.as_bytes()));
        let sts = v1::string_to_sign("POST", decoded.iter());
        assert_eq!(
            Some(v1::sign("testsecret", &sts).as_str()),
            decoded.get("Signature")
        );
        assert_eq!(decoded.get("Description"), Some("a b*c"));
        assert_eq!(decoded.get("Format"), Some("JSON"));
    }
}

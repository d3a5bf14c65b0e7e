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

/// The AccessKey a client signs with.
#[derive(Debug, Clone, Copy)]
pub struct V1Key<'a> {
    pub access_key_id: &'a str,
    pub access_key_secret: &'a str,
}

/// The protocol parameters of a call, without `Format` (the caller's choice) and without
/// `Signature`: `Action`, `Version`, `AccessKeyId`, `SignatureMethod=HMAC-SHA1`,
/// `SignatureVersion=1.0`, a fresh `SignatureNonce` and `now` as `Timestamp`.
pub fn protocol_params(
    action: &str,
    version: &str,
    access_key_id: &str,
    now: DateTime<Utc>,
) -> Vec<(String, String)> {
    vec![
        ("Action".to_string(), action.to_string()),
        ("Version".to_string(), version.to_string()),
        ("AccessKeyId".to_string(), access_key_id.to_string()),
        ("SignatureMethod".to_string(), "HMAC-SHA1".to_string()),
        ("SignatureVersion".to_string(), "1.0".to_string()),
        (
            "SignatureNonce".to_string(),
            uuid::Uuid::new_v4().simple().to_string(),
        ),
        (
            "Timestamp".to_string(),
            now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ),
    ]
}

/// `params` with `Signature` appended: HMAC-SHA1 with `access_key_secret` over the string
/// to sign of `method` and every pair, exactly what the server recomputes
/// ([`crate::signature::v1`]).
pub fn add_signature(
    method: &str,
    access_key_secret: &str,
    mut params: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let string_to_sign =
        v1::string_to_sign(method, params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    params.push((
        "Signature".to_string(),
        v1::sign(access_key_secret, &string_to_sign),
    ));
    params
}

/// Every parameter of `call` as an SDK sends it: the protocol parameters
/// ([`protocol_params`]), `Format=JSON`, the business parameters, and `Signature` last.
pub fn sign_v1(
    call: &V1Call<'_>,
    access_key_id: &str,
    access_key_secret: &str,
    now: DateTime<Utc>,
) -> Vec<(String, String)> {
    sign_v1_with(
        call,
        V1Key {
            access_key_id,
            access_key_secret,
        },
        now,
        &[("Format", "JSON")],
    )
}

/// [`sign_v1`] with the protocol parameters of `common` in place of the defaults: each
/// replaces the default of its name, or is added (`Format` is added only when given here).
/// Tests use it to send a wrong `SignatureMethod`, an old `Timestamp`, an XML `Format`.
pub fn sign_v1_with(
    call: &V1Call<'_>,
    key: V1Key<'_>,
    now: DateTime<Utc>,
    common: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut all = protocol_params(call.action, call.version, key.access_key_id, now);
    for (name, value) in common {
        all.retain(|(k, _)| k != name);
        all.push((name.to_string(), value.to_string()));
    }
    all.extend(call.params.iter().cloned());
    add_signature(call.method, key.access_key_secret, all)
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

    /// A given protocol parameter replaces its default; `Format` is there only when given.
    #[test]
    fn overrides_replace_the_defaults() {
        let call = V1Call {
            method: "GET",
            version: "2014-05-26",
            action: "DescribeRegions",
            params: &[],
        };
        let key = V1Key {
            access_key_id: "testid",
            access_key_secret: "testsecret",
        };
        let get = |all: &[(String, String)], name: &str| -> Vec<String> {
            all.iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .collect()
        };
        let plain = sign_v1_with(&call, key, Utc::now(), &[]);
        assert!(get(&plain, "Format").is_empty());
        let other = sign_v1_with(
            &call,
            key,
            Utc::now(),
            &[
                ("SignatureMethod", "HMAC-SHA256"),
                ("Version", "2016-04-28"),
            ],
        );
        assert_eq!(get(&other, "SignatureMethod"), ["HMAC-SHA256"]);
        assert_eq!(get(&other, "Version"), ["2016-04-28"]);
        assert_eq!(other.last().map(|(k, _)| k.as_str()), Some("Signature"));
        assert_ne!(
            get(&plain, "SignatureNonce"),
            get(&other, "SignatureNonce"),
            "a fresh nonce per call"
        );
    }
}

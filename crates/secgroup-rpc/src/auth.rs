//! Authentication: which key signed the request, and is the signature right?
//!
//! The application supplies secrets and nonce bookkeeping through [`CredentialStore`];
//! this module holds no SQL and no accounts.

use std::future::Future;

use chrono::{DateTime, NaiveDateTime, Utc};
use http::HeaderMap;
use zeroize::Zeroizing;

use crate::error::RpcError;
use crate::params::Params;
use crate::signature::{signatures_match, v1, v3};

/// An AccessKey secret. Never printed by `Debug`; [`AccessKeySecret::expose`] is the only way in.
#[derive(Clone)]
pub struct AccessKeySecret(Zeroizing<String>);

impl AccessKeySecret {
    pub fn new(secret: impl Into<String>) -> Self {
        AccessKeySecret(Zeroizing::new(secret.into()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for AccessKeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessKeySecret(<redacted>)")
    }
}

/// What a key resolves to.
#[derive(Debug, Clone)]
pub struct Credential {
    pub account_id: String,
    pub secret: AccessKeySecret,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialStoreError {
    /// The backing store cannot be reached right now (→ `ServiceUnavailable`).
    #[error("credential store unavailable: {0}")]
    Unavailable(String),
    #[error("credential store failed: {0}")]
    Other(String),
}

impl From<CredentialStoreError> for RpcError {
    fn from(err: CredentialStoreError) -> Self {
        match err {
            CredentialStoreError::Unavailable(_) => RpcError::service_unavailable(),
            CredentialStoreError::Other(_) => RpcError::internal(),
        }
    }
}

/// Secrets and nonce bookkeeping, supplied by the application.
pub trait CredentialStore: Send + Sync + 'static {
    fn credential(
        &self,
        access_key_id: &str,
    ) -> impl Future<Output = Result<Option<Credential>, CredentialStoreError>> + Send;

    /// Records that `nonce` was used with `access_key_id`; `false` when it already was and
    /// has not yet expired.
    fn claim_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, CredentialStoreError>> + Send;
}

/// Which scheme signed a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// HMAC-SHA1 with `Signature` among the parameters.
    V1,
    /// ACS3-HMAC-SHA256 in the `Authorization` header.
    V3,
}

impl Scheme {
    /// V3 when the `Authorization` header names its algorithm, else V1.
    pub fn of(headers: &HeaderMap) -> Scheme {
        let v3 = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.trim_start().starts_with(v3::ALGORITHM));
        if v3 {
            Scheme::V3
        } else {
            Scheme::V1
        }
    }
}

/// Headers every V3 request must sign, as the official SDKs do: without the date and the
/// nonce among them, one signature could be replayed forever with fresh unsigned ones.
pub const V3_REQUIRED_SIGNED_HEADERS: [&str; 6] = [
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
];

/// The request as the authenticator sees it.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub params: &'a Params,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// Whether the body's form parameters are among `params` (so that its `Content-Type`
    /// decides what runs, and V3 must sign it).
    pub body_is_form: bool,
}

impl SignedRequest<'_> {
    pub fn scheme(&self) -> Scheme {
        Scheme::of(self.headers)
    }

    fn authorization(&self) -> Option<&str> {
        self.headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
    }

    fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if values.is_empty() {
            None
        } else {
            Some(values.join(","))
        }
    }
}

/// Who signed a request that verified.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub account_id: String,
    pub access_key_id: String,
    pub scheme: Scheme,
}

/// Verifies the request's signature, timestamp and nonce.
pub async fn authenticate<C: CredentialStore>(
    store: &C,
    req: &SignedRequest<'_>,
    now: DateTime<Utc>,
    max_skew: chrono::Duration,
) -> Result<Authenticated, RpcError> {
    let claim = match req.scheme() {
        Scheme::V1 => v1_claim(req)?,
        Scheme::V3 => v3_claim(req)?,
    };
    let credential = store
        .credential(&claim.access_key_id)
        .await?
        .ok_or_else(RpcError::access_key_not_found)?;
    let signed_at = parse_timestamp(&claim.timestamp).ok_or_else(RpcError::timestamp_format)?;
    if (now - signed_at).abs() > max_skew {
        return Err(RpcError::timestamp_expired());
    }
    let computed = match claim.scheme {
        Scheme::V1 => v1::sign(credential.secret.expose(), &claim.string_to_sign),
        Scheme::V3 => v3::sign(credential.secret.expose(), &claim.string_to_sign),
    };
    if !signatures_match(&computed, &claim.signature) {
        return Err(RpcError::signature_mismatch(&claim.string_to_sign));
    }
    // A nonce must stay unique for as long as its timestamp would still be accepted.
    let expires_at = signed_at + max_skew;
    if !store
        .claim_nonce(&claim.access_key_id, &claim.nonce, expires_at)
        .await?
    {
        return Err(RpcError::nonce_used());
    }
    Ok(Authenticated {
        account_id: credential.account_id,
        access_key_id: claim.access_key_id,
        scheme: claim.scheme,
    })
}

/// What a request claims about its signature; the string to sign needs no secret.
struct SignatureClaim {
    scheme: Scheme,
    access_key_id: String,
    timestamp: String,
    nonce: String,
    signature: String,
    string_to_sign: String,
}

fn v1_claim(req: &SignedRequest<'_>) -> Result<SignatureClaim, RpcError> {
    let p = req.params;
    let signature = p
        .get("Signature")
        .ok_or_else(|| RpcError::missing_parameter("Signature"))?;
    let key = p
        .get("AccessKeyId")
        .ok_or_else(|| RpcError::missing_parameter("AccessKeyId"))?;
    let timestamp = p
        .get("Timestamp")
        .ok_or_else(|| RpcError::missing_parameter("Timestamp"))?;
    let nonce = p
        .get("SignatureNonce")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| RpcError::missing_parameter("SignatureNonce"))?;
    if p.get("SignatureMethod") != Some("HMAC-SHA1") {
        return Err(RpcError::invalid_signature_method());
    }
    if p.get("SignatureVersion") != Some("1.0") {
        return Err(RpcError::invalid_signature_version());
    }
    Ok(SignatureClaim {
        scheme: Scheme::V1,
        access_key_id: key.to_string(),
        timestamp: timestamp.to_string(),
        nonce: nonce.to_string(),
        signature: signature.to_string(),
        string_to_sign: v1::string_to_sign(req.method, p.iter()),
    })
}

fn v3_claim(req: &SignedRequest<'_>) -> Result<SignatureClaim, RpcError> {
    let auth = req
        .authorization()
        .and_then(v3::parse_authorization)
        .ok_or_else(RpcError::incomplete_signature)?;
    if !signs_what_counts(req, &auth.signed_headers) {
        return Err(RpcError::incomplete_signature());
    }
    let date = req
        .header("x-acs-date")
        .ok_or_else(|| RpcError::missing_parameter("x-acs-date"))?;
    let nonce = req
        .header("x-acs-signature-nonce")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| RpcError::missing_parameter("x-acs-signature-nonce"))?;
    // Hash the body actually received, so a tampered body cannot verify.
    let payload_hash = v3::hex_sha256(req.body);
    let query: Vec<_> = req.params.query_pairs().collect();
    let canonical = v3::canonical_request(
        req.method,
        query.iter().map(|(k, v)| (k.as_ref(), v.as_ref())),
        |name| req.header(name),
        &auth.signed_headers,
        &payload_hash,
    );
    Ok(SignatureClaim {
        scheme: Scheme::V3,
        access_key_id: auth.access_key_id,
        timestamp: date,
        nonce,
        signature: auth.signature,
        string_to_sign: v3::string_to_sign(&canonical),
    })
}

/// Whether a V3 `SignedHeaders` list covers everything that decides what the request does:
/// the required headers (each present), every `x-acs-*` header the request carries, and
/// `content-type` when the body's form parameters are used.
fn signs_what_counts(req: &SignedRequest<'_>, signed: &[String]) -> bool {
    let is_signed = |name: &str| signed.iter().any(|s| s == name);
    let required = V3_REQUIRED_SIGNED_HEADERS
        .iter()
        .all(|name| is_signed(name) && req.headers.contains_key(*name));
    // `HeaderMap` names are lower-case already.
    let every_acs = req
        .headers
        .keys()
        .filter(|name| name.as_str().starts_with("x-acs-"))
        .all(|name| is_signed(name.as_str()));
    let content_type = !req.body_is_form || is_signed("content-type");
    required && every_acs && content_type
}

/// `yyyy-MM-ddTHH:mm:ssZ`, leniently also RFC 3339 with fractions or offsets.
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(naive) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ") {
        return Some(naive.and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Mutex;

    struct OneKey {
        used: Mutex<HashSet<String>>,
    }

    impl CredentialStore for OneKey {
        async fn credential(&self, id: &str) -> Result<Option<Credential>, CredentialStoreError> {
            Ok((id == "testid").then(|| Credential {
                account_id: "acct".into(),
                secret: AccessKeySecret::new("testsecret"),
            }))
        }
        async fn claim_nonce(
            &self,
            id: &str,
            nonce: &str,
            _: DateTime<Utc>,
        ) -> Result<bool, CredentialStoreError> {
            Ok(self
                .used
                .lock()
                .map_err(|_| CredentialStoreError::Other("poisoned".into()))?
                .insert(format!("{id}/{nonce}")))
        }
    }

    fn v1_params(key: &str, secret: &str, timestamp: &str, nonce: &str) -> Params {
        let mut pairs = vec![
            ("AccessKeyId", key.to_string()),
            ("Action", "DescribeRegions".to_string()),
            ("Format", "JSON".to_string()),
            ("SignatureMethod", "HMAC-SHA1".to_string()),
            ("SignatureNonce", nonce.to_string()),
            ("SignatureVersion", "1.0".to_string()),
            ("SignatureType", String::new()),
            ("Timestamp", timestamp.to_string()),
            ("Version", "2014-05-26".to_string()),
            ("Description", "a b+c*~/é".to_string()),
        ];
        let sts = v1::string_to_sign("POST", pairs.iter().map(|(k, v)| (*k, v.as_str())));
        pairs.push(("Signature", v1::sign(secret, &sts)));
        Params::from_pairs(pairs)
    }

    async fn run(params: &Params, now: &str) -> Result<Authenticated, RpcError> {
        static STORE: std::sync::OnceLock<OneKey> = std::sync::OnceLock::new();
        let store = STORE.get_or_init(|| OneKey {
            used: Mutex::new(HashSet::new()),
        });
        let headers = HeaderMap::new();
        let req = SignedRequest {
            method: "POST",
            params,
            headers: &headers,
            body: b"",
            body_is_form: false,
        };
        authenticate(
            store,
            &req,
            parse_timestamp(now).expect("ts"),
            chrono::Duration::minutes(15),
        )
        .await
    }

    #[tokio::test]
    async fn v1_checks_in_order() {
        let now = "2024-01-01T00:10:00Z";
        let ok = v1_params("testid", "testsecret", "2024-01-01T00:00:00Z", "n-1");
        assert_eq!(run(&ok, now).await.expect("verifies").account_id, "acct");
        assert_eq!(
            run(&ok, now).await.expect_err("replay").code,
            "SignatureNonceUsed"
        );
        let wrong = v1_params("testid", "nope", "2024-01-01T00:00:00Z", "n-2");
        let err = run(&wrong, now).await.expect_err("mismatch");
        assert_eq!(err.code, "SignatureDoesNotMatch");
        assert!(err
            .message
            .ends_with(&v1::string_to_sign("POST", wrong.iter())));
        let unknown = v1_params("other", "testsecret", "2024-01-01T00:00:00Z", "n-3");
        assert_eq!(
            run(&unknown, now).await.expect_err("unknown").code,
            "InvalidAccessKeyId.NotFound"
        );
        let old = v1_params("testid", "testsecret", "2023-12-31T23:40:00Z", "n-4");
        assert_eq!(
            run(&old, now).await.expect_err("old").code,
            "InvalidTimeStamp.Expired"
        );
        let bad = v1_params("testid", "testsecret", "yesterday", "n-5");
        assert_eq!(
            run(&bad, now).await.expect_err("format").code,
            "InvalidTimeStamp.Format"
        );
    }
}

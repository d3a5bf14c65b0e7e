//! `signatures`: the V1 and V3 verifiers of [`secgroup_rpc::auth`].
//!
//! Input: fields separated by `\0`: the secret, the method bit, parameters (`k=v`),
//! extra headers (`name: value`), a body, and bytes that pick a mutation.
//!
//! Properties: nothing panics (the `Authorization` parser takes the raw fields too); a
//! request signed by the project's signer (V1: [`secgroup_rpc::client`]; V3: the canonical
//! request of [`secgroup_rpc::signature::v3`] as a client computes it, from the values it
//! sends) verifies; the same request with one thing changed after signing does not.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderName, HeaderValue};
use secgroup_rpc::auth::{authenticate, SignedRequest};
use secgroup_rpc::client::{add_signature, protocol_params};
use secgroup_rpc::signature::v3;
use secgroup_rpc::{AccessKeySecret, Credential, CredentialStore, CredentialStoreError, Params};

const KEY_ID: &str = "fuzz-key";

/// One key whose secret is the fuzzed one; nonces remembered in memory.
struct OneKey {
    secret: String,
    used: Mutex<HashSet<String>>,
}

impl CredentialStore for OneKey {
    async fn credential(&self, id: &str) -> Result<Option<Credential>, CredentialStoreError> {
        Ok((id == KEY_ID).then(|| Credential {
            account_id: "fuzz-account".into(),
            secret: AccessKeySecret::new(self.secret.clone()),
        }))
    }
    async fn claim_nonce(
        &self,
        _: &str,
        nonce: &str,
        _: DateTime<Utc>,
    ) -> Result<bool, CredentialStoreError> {
        Ok(self
            .used
            .lock()
            .map_err(|_| CredentialStoreError::Other("poisoned".into()))?
            .insert(nonce.to_string()))
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    })
}

struct Input {
    secret: String,
    method: &'static str,
    params: Vec<(String, String)>,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Vec<u8>,
    mutation: Vec<u8>,
}

fn decode(data: &[u8]) -> Input {
    let mut parts = data.split(|&b| b == 0);
    let mut next = || parts.next().unwrap_or(&[]);
    let secret = String::from_utf8_lossy(next()).into_owned();
    let method = if next().first().is_some_and(|b| b & 1 == 1) {
        "POST"
    } else {
        "GET"
    };
    let mut params = Vec::new();
    for pair in next().split(|&b| b == b'&') {
        let pair = String::from_utf8_lossy(pair);
        let (k, v) = pair.split_once('=').unwrap_or((&pair, ""));
        if !k.is_empty() && !secgroup_rpc::params::is_protocol_param(k) {
            params.push((k.to_string(), v.to_string()));
        }
    }
    // Keys are unique in a request the server accepts (a duplicate is refused first).
    let mut seen = HashSet::new();
    params.retain(|(k, _)| seen.insert(k.clone()));
    let mut headers = Vec::new();
    for line in next().split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        if name != http::header::AUTHORIZATION && name != http::header::HOST {
            headers.push((name, value));
        }
    }
    let body = next().to_vec();
    let mutation = next().to_vec();
    // The raw fields as `Authorization` headers: the parser never panics.
    for f in data.split(|&b| b == 0) {
        let _ = v3::parse_authorization(&String::from_utf8_lossy(f));
    }
    Input {
        secret,
        method,
        params,
        headers,
        body,
        mutation,
    }
}

fn verify(store: &OneKey, req: &SignedRequest<'_>) -> Result<(), secgroup_rpc::RpcError> {
    runtime()
        .block_on(authenticate(
            store,
            req,
            Utc::now(),
            chrono::Duration::minutes(15),
        ))
        .map(|_| ())
}

fn nonce() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("fuzz-{}", N.fetch_add(1, Ordering::Relaxed))
}

pub fn fuzz(data: &[u8]) {
    let input = decode(data);
    let store = OneKey {
        secret: input.secret.clone(),
        used: Mutex::new(HashSet::new()),
    };
    v1(&store, &input);
    v3_request(&store, &input);
}

fn v1(store: &OneKey, input: &Input) {
    let mut all = protocol_params("DescribeRegions", "2014-05-26", KEY_ID, Utc::now());
    all.extend(input.params.iter().cloned());
    let signed = add_signature(input.method, &input.secret, all);
    let headers = HeaderMap::new();
    let check = |pairs: &[(String, String)]| {
        let params = Params::from_pairs(pairs.iter().cloned());
        let req = SignedRequest {
            method: input.method,
            params: &params,
            headers: &headers,
            body: b"",
            body_is_form: false,
        };
        verify(store, &req)
    };
    if let Err(e) = check(&signed) {
        panic!("V1 signed by the project's signer does not verify: {e}: {signed:?}");
    }
    // One change after signing: a value, a new parameter, or the signature itself.
    let mut changed = signed.clone();
    let pick = input.mutation.first().copied().unwrap_or(0);
    // The nonce stays: the signature is checked before it (docs/protocol.md §3.5).
    match pick % 3 {
        // No fuzzed key holds a `\0` (they are split at it), so this one is new.
        0 => changed.push(("Injected\0".into(), "1".into())),
        1 if !input.params.is_empty() => {
            let i = usize::from(pick) % input.params.len();
            let key = &input.params[i].0;
            if let Some((_, v)) = changed.iter_mut().find(|(k, _)| k == key) {
                v.push('x');
            }
        }
        _ => {
            if let Some((_, v)) = changed.iter_mut().find(|(k, _)| k == "Signature") {
                *v = format!("{v}A");
            }
        }
    }
    let err = check(&changed).expect_err("V1 changed after signing still verifies");
    assert_eq!(err.code, "SignatureDoesNotMatch", "{err}");
}

fn v3_request(store: &OneKey, input: &Input) {
    let body = &input.body;
    let now = Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut sent: Vec<(HeaderName, HeaderValue)> = vec![
        (
            http::header::HOST,
            HeaderValue::from_static("ecs.aliyuncs.com"),
        ),
        (
            HeaderName::from_static("x-acs-action"),
            HeaderValue::from_static("DescribeRegions"),
        ),
        (
            HeaderName::from_static("x-acs-version"),
            HeaderValue::from_static("2014-05-26"),
        ),
        (
            HeaderName::from_static("x-acs-date"),
            HeaderValue::from_str(&now).expect("date"),
        ),
        (
            HeaderName::from_static("x-acs-signature-nonce"),
            HeaderValue::from_str(&nonce()).expect("nonce"),
        ),
        (
            HeaderName::from_static("x-acs-content-sha256"),
            HeaderValue::from_str(&v3::hex_sha256(body)).expect("hash"),
        ),
    ];
    let fixed: Vec<HeaderName> = sent.iter().map(|(n, _)| n.clone()).collect();
    for (name, value) in &input.headers {
        if !fixed.contains(name) && name != http::header::CONTENT_TYPE {
            sent.push((name.clone(), value.clone()));
        }
    }
    // The client signs every header it sends, each repeated one as its values joined.
    let mut signed_names: Vec<String> = sent.iter().map(|(n, _)| n.as_str().to_string()).collect();
    signed_names.sort();
    signed_names.dedup();
    let client_value = |name: &str| -> Option<String> {
        let values: Vec<&str> = sent
            .iter()
            .filter(|(n, _)| n.as_str() == name)
            .filter_map(|(_, v)| v.to_str().ok())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    };
    let query: Vec<(&str, &str)> = input
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let canonical = v3::canonical_request(
        input.method,
        query.iter().copied(),
        client_value,
        &signed_names,
        &v3::hex_sha256(body),
    );
    let signature = v3::sign(&input.secret, &v3::string_to_sign(&canonical));
    let authorization = format!(
        "{} Credential={KEY_ID},SignedHeaders={},Signature={signature}",
        v3::ALGORITHM,
        signed_names.join(";")
    );
    let mut headers = HeaderMap::new();
    for (name, value) in &sent {
        headers.append(name.clone(), value.clone());
    }
    headers.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_str(&authorization).expect("authorization"),
    );
    let params = Params::from_pairs(input.params.iter().cloned());
    let req = SignedRequest {
        method: input.method,
        params: &params,
        headers: &headers,
        body,
        body_is_form: false,
    };
    // Values with a non-visible byte cannot be read back as text by either side alike.
    let textual = sent.iter().all(|(_, v)| v.to_str().is_ok());
    match verify(store, &req) {
        Ok(()) => {}
        Err(e) if !textual && e.code == "SignatureDoesNotMatch" => return,
        Err(e) => panic!("V3 signed as a client signs does not verify: {e}: {authorization}"),
    }
    // Changed after signing: the body, a query value, or a signed header.
    let pick = input.mutation.first().copied().unwrap_or(0);
    let mut body = body.clone();
    let mut params = params;
    match pick % 3 {
        0 => body.push(b'x'),
        1 => {
            let mut pairs = input.params.clone();
            pairs.push(("Injected\0".into(), "1".into()));
            params = Params::from_pairs(pairs);
        }
        _ => {
            headers.insert(
                HeaderName::from_static("x-acs-action"),
                HeaderValue::from_static("DeleteSecurityGroup"),
            );
        }
    }
    let req = SignedRequest {
        method: input.method,
        params: &params,
        headers: &headers,
        body: &body,
        body_is_form: false,
    };
    let err = verify(store, &req).expect_err("V3 changed after signing still verifies");
    assert_eq!(err.code, "SignatureDoesNotMatch", "{err}");
}

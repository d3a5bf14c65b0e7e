//! Signature V3: ACS3-HMAC-SHA256 over a canonical request (docs/protocol.md §3.3).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::encode::canonical_query;

pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// The parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    /// Lower-case header names, in the order the client listed them.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`.
pub fn parse_authorization(header: &str) -> Option<Authorization> {
    let rest = header.trim().strip_prefix(ALGORITHM)?.trim_start();
    let (mut key, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (name, value) = part.trim().split_once('=')?;
        match name.trim() {
            "Credential" => key = Some(value.trim().to_string()),
            "SignedHeaders" => {
                let mut names = Vec::new();
                for name in value.trim().split(';').filter(|h| !h.is_empty()) {
                    // Each entry is a header name as the SDKs write it, `;`-joined with
                    // nothing around: `host; x-acs-date` names no header ` x-acs-date`,
                    // and trimming it would verify another list than the one signed
                    // (docs/protocol.md §3.3).
                    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                        return None;
                    }
                    names.push(name.to_ascii_lowercase());
                }
                signed = Some(names);
            }
            "Signature" => signature = Some(value.trim().to_string()),
            _ => {}
        }
    }
    Some(Authorization {
        access_key_id: key?,
        signed_headers: signed?,
        signature: signature?,
    })
}

/// The canonical request: method, `/`, the query (not the body), exactly the signed
/// headers (lower-case name, trimmed value, sorted), their names, the payload hash.
/// A signed header absent from the request contributes an empty value, so the
/// signature then simply fails to match.
pub fn canonical_request<'a>(
    method: &str,
    query: impl IntoIterator<Item = (&'a str, &'a str)>,
    header: impl Fn(&str) -> Option<String>,
    signed_headers: &[String],
    hashed_payload: &str,
) -> String {
    let mut names: Vec<&str> = signed_headers.iter().map(String::as_str).collect();
    names.sort_unstable();
    let mut canonical_headers = String::new();
    for name in &names {
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(header(name).unwrap_or_default().trim());
        canonical_headers.push('\n');
    }
    format!(
        "{method}\n/\n{}\n{canonical_headers}\n{}\n{hashed_payload}",
        canonical_query(query),
        names.join(";")
    )
}

/// `ACS3-HMAC-SHA256\n` + hex(SHA-256(canonical request)).
pub fn string_to_sign(canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{}", hex_sha256(canonical_request.as_bytes()))
}

/// hex(HMAC-SHA256(secret, string_to_sign)); the key is the bare secret (no `&`).
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub fn hex_sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector_headers(name: &str) -> Option<String> {
        Some(
            match name {
                "host" => "ecs.cn-hangzhou.aliyuncs.com",
                "x-acs-action" => "DescribeSecurityGroupAttribute",
                "x-acs-version" => "2014-05-26",
                "x-acs-date" => "2024-01-01T00:00:00Z",
                "x-acs-signature-nonce" => "0123456789abcdef0123456789abcdef",
                "x-acs-content-sha256" => EMPTY_SHA256,
                _ => return None,
            }
            .to_string(),
        )
    }

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// docs/protocol.md §3.4, stage by stage.
    #[test]
    fn documented_vector_stage_by_stage() {
        assert_eq!(hex_sha256(b""), EMPTY_SHA256);
        let query = [
            ("SecurityGroupId", "sg-bp67acfmxazb4p****"),
            ("RegionId", "cn-hangzhou"),
            ("Description", "a b"),
        ];
        let auth = parse_authorization(
            "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=e5f7769433fcaf96a50636fb89c1368a2aedeca2e21a26454691d7b95744e8f6",
        )
        .expect("parses");
        assert_eq!(auth.access_key_id, "testid");
        let cr = canonical_request(
            "POST",
            query,
            vector_headers,
            &auth.signed_headers,
            EMPTY_SHA256,
        );
        let lines: Vec<&str> = cr.split('\n').collect();
        assert_eq!(
            lines[2],
            "Description=a%20b&RegionId=cn-hangzhou&SecurityGroupId=sg-bp67acfmxazb4p%2A%2A%2A%2A"
        );
        assert_eq!(
            lines[lines.len() - 2],
            "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
        );
        let sts = string_to_sign(&cr);
        assert_eq!(
            sts,
            "ACS3-HMAC-SHA256\n7a1e8657d9ae86c27dc0cd5be2dd6159e9d4dd34e2779aaa95be3e397271d28f"
        );
        assert_eq!(sign("testsecret", &sts), auth.signature);
    }

    #[test]
    fn malformed_authorization_is_rejected() {
        assert_eq!(parse_authorization("ACS3-HMAC-SHA256 Credential=a"), None);
        assert_eq!(parse_authorization("Bearer x"), None);
    }

    /// An entry of `SignedHeaders` with whitespace around it (or any byte no header name
    /// has) makes the header unparsable: `IncompleteSignature`, never a trimmed list.
    #[test]
    fn signed_headers_with_spaces_do_not_parse() {
        let ok = "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host;X-Acs-Date;,Signature=0";
        assert_eq!(
            parse_authorization(ok).map(|a| a.signed_headers),
            Some(vec!["host".to_string(), "x-acs-date".to_string()])
        );
        for header in [
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host; x-acs-date,Signature=0",
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host ;x-acs-date,Signature=0",
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host;x-acs-date\t;x,Signature=0",
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host;x:y,Signature=0",
        ] {
            assert_eq!(parse_authorization(header), None, "{header:?}");
        }
        // Around the whole list, whitespace is the header's own and is ignored.
        assert!(parse_authorization(
            "ACS3-HMAC-SHA256 Credential=a, SignedHeaders= host;x-acs-date , Signature=0"
        )
        .is_some());
    }
}

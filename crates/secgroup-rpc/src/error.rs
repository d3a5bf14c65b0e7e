//! The error envelope (docs/protocol.md §4.1) and the gateway's own errors (docs/protocol.md
//! §4.2).

use std::borrow::Cow;

use http::StatusCode;

use crate::render::{escape_xml, xml_chars_only, Format};

/// An error as the client sees it: HTTP status, `Code` and `Message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct RpcError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: Cow<'static, str>,
}

impl RpcError {
    pub fn new(
        status: u16,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        RpcError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code: code.into(),
            message: message.into(),
        }
    }

    // ---- gateway errors (docs/protocol.md §4.2) ----

    pub fn missing_parameter(name: &str) -> Self {
        Self::new(
            400,
            "MissingParameter",
            format!("The input parameter \"{name}\" that is mandatory for processing this request is not supplied."),
        )
    }
    pub fn unsupported_method() -> Self {
        Self::new(
            403,
            "UnsupportedHTTPMethod",
            "This HTTP method is not supported.",
        )
    }
    pub fn invalid_version() -> Self {
        Self::new(
            400,
            "InvalidVersion",
            "Specified parameter Version is not valid.",
        )
    }
    /// A required parameter absent or empty, refused as the API gateway refuses it:
    /// `Missing<Name>` (400, docs/protocol.md §4.3).
    pub fn missing(name: &str) -> Self {
        Self::new(
            400,
            format!("Missing{name}"),
            format!("{name} is mandatory for this action."),
        )
    }
    /// An `x-acs-action` / `x-acs-version` header that names another call than the signed
    /// parameter (V1 signs parameters, not headers). The gateway's documented wording for
    /// an unusable action or version.
    pub fn action_or_version_conflict() -> Self {
        Self::new(
            400,
            "InvalidParameter",
            "The specified parameter \"Action or Version\" is not valid.",
        )
    }
    /// A parameter that arrived twice (repeated, or in both the query and the body): which
    /// value a signature covers and which one runs must never be a question.
    pub fn duplicate_parameter(name: &str) -> Self {
        Self::new(
            400,
            "InvalidParameter",
            format!("The specified parameter \"{name}\" is duplicated."),
        )
    }
    pub fn action_not_found() -> Self {
        Self::new(
            404,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        )
    }
    pub fn access_key_not_found() -> Self {
        Self::new(
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        )
    }
    /// The text after the colon is the server's StringToSign: the legacy Python SDK splits
    /// on `:` and compares it with its own, and crashes when there is no colon.
    pub fn signature_mismatch(string_to_sign: &str) -> Self {
        Self::new(
            400,
            "SignatureDoesNotMatch",
            format!("Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"),
        )
    }
    pub fn incomplete_signature() -> Self {
        Self::new(
            400,
            "IncompleteSignature",
            "The request signature does not conform to Aliyun standards.",
        )
    }
    pub fn nonce_used() -> Self {
        Self::new(
            400,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        )
    }
    pub fn timestamp_expired() -> Self {
        Self::new(
            400,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        )
    }
    pub fn timestamp_format() -> Self {
        Self::new(
            400,
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.",
        )
    }
    pub fn invalid_signature_method() -> Self {
        Self::new(
            400,
            "InvalidParamater",
            "The specified parameter \"SignatureMethod\" is not valid.",
        )
    }
    pub fn invalid_signature_version() -> Self {
        Self::new(
            400,
            "InvalidParamater",
            "The specified parameter \"SignatureVersion\" is not valid.",
        )
    }
    pub fn request_too_large(limit: usize) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("The request exceeds the maximum allowed size of {limit} bytes."),
        )
    }
    /// A request line (method, path and query) longer than the server accepts.
    pub fn uri_too_long(limit: usize) -> Self {
        Self::new(
            414,
            "RequestURITooLong",
            format!("The request line exceeds the maximum allowed length of {limit} bytes."),
        )
    }
    /// A request head (request line and headers) larger than the server accepts.
    pub fn header_too_large(limit: usize) -> Self {
        Self::new(
            431,
            "RequestHeaderFieldsTooLarge",
            format!("The request head exceeds the maximum allowed size of {limit} bytes."),
        )
    }
    /// A request head that is no HTTP/1.x request (docs/protocol.md §1.4).
    pub fn malformed_request() -> Self {
        Self::new(
            400,
            "MalformedRequest",
            "The request is not a well-formed HTTP/1.1 request.",
        )
    }
    /// A body that did not arrive within the body-read timeout.
    pub fn request_timeout() -> Self {
        Self::new(
            408,
            "RequestTimeout",
            "The request body was not received within the allowed time.",
        )
    }
    /// Past the caller's calls per minute for this action and region.
    pub fn throttled() -> Self {
        Self::new(
            400,
            "Throttling.User",
            "Request was denied due to user flow control.",
        )
    }
    pub fn internal() -> Self {
        Self::new(
            500,
            "InternalError",
            "The request processing has failed due to some unknown error.",
        )
    }
    pub fn service_unavailable() -> Self {
        Self::new(
            503,
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        )
    }
}

/// Renders the error envelope: `RequestId`, `HostId`, `Code`, `Message`, `Recommend`.
pub fn error_body(
    format: Format,
    err: &RpcError,
    request_id: &str,
    host_id: &str,
    product: &str,
) -> String {
    let recommend = format!(
        "https://api.aliyun.com/troubleshoot?q={}&product={}&requestId={}",
        err.code, product, request_id
    );
    match format {
        Format::Json => serde_json::json!({
            "RequestId": request_id,
            "HostId": host_id,
            "Code": err.code,
            "Message": err.message,
            "Recommend": recommend,
        })
        .to_string(),
        Format::Xml => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><RequestId>{}</RequestId><HostId>{}</HostId><Code>{}</Code><Message>{}</Message><Recommend><![CDATA[{}]]></Recommend></Error>",
            escape_xml(request_id),
            escape_xml(host_id),
            escape_xml(&err.code),
            escape_xml(&err.message),
            // CDATA escapes nothing, so no character XML forbids may be in it either.
            xml_chars_only(&recommend).replace("]]>", "]]]]><![CDATA[>"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_envelope_carries_all_five_fields() {
        let body = error_body(
            Format::Json,
            &RpcError::nonce_used(),
            "RID",
            "ecs.aliyuncs.com",
            "Ecs",
        );
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(v["Code"], "SignatureNonceUsed");
        assert_eq!(v["RequestId"], "RID");
        assert_eq!(v["HostId"], "ecs.aliyuncs.com");
        assert_eq!(v["Message"], "Specified signature nonce was used already.");
        assert!(v["Recommend"]
            .as_str()
            .is_some_and(|r| r.contains("q=SignatureNonceUsed")));
    }

    #[test]
    fn signature_mismatch_message_ends_with_colon_then_string_to_sign() {
        let e = RpcError::signature_mismatch("GET&%2F&A%3D1");
        assert_eq!(e.message.split(':').nth(1), Some("GET&%2F&A%3D1"));
    }

    #[test]
    fn xml_envelope_is_an_error_root() {
        let body = error_body(Format::Xml, &RpcError::internal(), "RID", "h", "Ecs");
        assert!(body.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><RequestId>RID</RequestId>"
        ));
        assert!(body.contains("<Code>InternalError</Code>"));
    }
}

//! HTTP for the console: replies with their security headers, cookies, forms and the
//! origin check of the forms that change something.

use axum::body::Body;
use axum::response::Response;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};

use crate::ConsoleError;

/// docs/console.md §5: no script at all, styles and images only from the console, no plugin, no framing, forms
/// only to the console.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// How long a sign-in form may be left open before it is sent (its token's cookie).
pub const SIGNIN_FORM_SECONDS: u64 = 3600;

/// An answer on its way out.
#[derive(Debug)]
pub struct Reply {
    status: StatusCode,
    content_type: &'static str,
    body: String,
    headers: Vec<(HeaderName, String)>,
}

impl Reply {
    pub fn html(status: StatusCode, body: String) -> Reply {
        Reply {
            status,
            content_type: "text/html; charset=utf-8",
            body,
            headers: vec![(header::CACHE_CONTROL, "no-store".into())],
        }
    }

    pub fn stylesheet(css: &str) -> Reply {
        Reply {
            status: StatusCode::OK,
            content_type: "text/css; charset=utf-8",
            body: css.to_string(),
            headers: vec![(header::CACHE_CONTROL, "no-cache".into())],
        }
    }

    /// 308 to `location` (same method).
    pub fn redirect(location: &str) -> Reply {
        Self::moved(StatusCode::PERMANENT_REDIRECT, location)
    }

    /// 303 to `location` (after a form: the browser GETs it).
    pub fn see_other(location: &str) -> Reply {
        Self::moved(StatusCode::SEE_OTHER, location)
    }

    fn moved(status: StatusCode, location: &str) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: String::new(),
            headers: vec![
                (header::LOCATION, location.to_string()),
                (header::CACHE_CONTROL, "no-store".into()),
            ],
        }
    }

    /// Adds a `Set-Cookie` line.
    pub fn cookie(mut self, line: String) -> Reply {
        self.headers.push((header::SET_COOKIE, line));
        self
    }

    pub fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() = self.status;
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        h.insert(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        );
        for (name, value) in self.headers {
            // Values are the console's own (paths, cookies of hex tokens): always valid.
            if let Ok(value) = HeaderValue::from_str(&value) {
                h.append(name, value);
            }
        }
        response
    }
}

/// A `Set-Cookie` line: only for the console's paths, never readable by a script, never
/// sent with a request from another site; `Secure` when the browser came over HTTPS.
pub fn set_cookie(name: &str, value: &str, max_age: Option<u64>, secure: bool) -> String {
    let mut line = format!(
        "{name}={value}; Path={}; HttpOnly; SameSite=Strict",
        crate::PREFIX
    );
    if let Some(seconds) = max_age {
        line.push_str(&format!("; Max-Age={seconds}"));
    }
    if secure {
        line.push_str("; Secure");
    }
    line
}

/// The value of cookie `name` among the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Whether the browser reached the console over HTTPS (a proxy in front that says so).
pub fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A form sent from another site is refused (docs/console.md §2.3): the browser's `Origin` (or, without it, the
/// `Referer`'s origin) must be this host, and `Sec-Fetch-Site`, when sent, `same-origin`.
/// A request with neither header is refused too (every browser sends `Origin` with a
/// form's POST).
pub fn same_origin(headers: &HeaderMap) -> Result<(), ConsoleError> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if text("sec-fetch-site").is_some_and(|site| site != "same-origin") {
        return Err(ConsoleError::Forbidden("Sec-Fetch-Site is not same-origin"));
    }
    let host = text("host").ok_or(ConsoleError::Forbidden("no Host"))?;
    let origin = match text("origin") {
        Some(origin) => origin.to_string(),
        None => text("referer")
            .and_then(origin_of)
            .ok_or(ConsoleError::Forbidden("neither Origin nor Referer"))?,
    };
    let ours = [format!("http://{host}"), format!("https://{host}")];
    if ours.contains(&origin) {
        Ok(())
    } else {
        Err(ConsoleError::Forbidden("the Origin is another site"))
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

/// Decoded `key=value` pairs of a query or a form body; the first of a repeated key wins.
#[derive(Debug, Default)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub fn parse(bytes: &[u8]) -> Form {
        Form {
            pairs: form_urlencoded::parse(bytes).into_owned().collect(),
        }
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// The value, unless empty after trimming.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).map(str::trim).filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cookies_are_http_only_strict_and_scoped_to_the_console() {
        let line = set_cookie("secgroup_console", "abc", Some(60), false);
        assert_eq!(
            line,
            "secgroup_console=abc; Path=/console/; HttpOnly; SameSite=Strict; Max-Age=60"
        );
        assert!(set_cookie("a", "b", None, true).ends_with("; Secure"));
    }

    #[test]
    fn cookies_are_read_from_every_cookie_header() {
        let h = headers(&[("cookie", "a=1; secgroup_console=tok"), ("cookie", "b=2")]);
        assert_eq!(cookie(&h, "secgroup_console").as_deref(), Some("tok"));
        assert_eq!(cookie(&h, "b").as_deref(), Some("2"));
        assert_eq!(cookie(&h, "secgroup"), None);
    }

    #[test]
    fn only_this_origin_may_send_a_form() {
        let ok = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert!(same_origin(&ok).is_ok());
        let by_referer = headers(&[
            ("host", "127.0.0.1:8080"),
            ("referer", "http://127.0.0.1:8080/console/signin"),
        ]);
        assert!(same_origin(&by_referer).is_ok());
        for refused in [
            headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://evil.example"),
            ]),
            headers(&[("host", "127.0.0.1:8080"), ("origin", "null")]),
            headers(&[("host", "127.0.0.1:8080")]),
            headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080"),
                ("sec-fetch-site", "cross-site"),
            ]),
            headers(&[
                ("host", "127.0.0.1:8080"),
                ("referer", "http://127.0.0.1:8080.evil.example/"),
            ]),
        ] {
            assert!(same_origin(&refused).is_err(), "{refused:?}");
        }
    }

    #[test]
    fn every_reply_carries_the_security_headers() {
        let r = Reply::html(StatusCode::OK, "x".into()).into_response();
        let h = r.headers();
        assert_eq!(h["content-security-policy"], CONTENT_SECURITY_POLICY);
        assert!(CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
        assert!(!CONTENT_SECURITY_POLICY.contains("script-src"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["cache-control"], "no-store");
    }
}

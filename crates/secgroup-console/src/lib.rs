//! The read-only web console (docs/console.md): served at [`PREFIX`] on the API's own
//! listener (the wire crate hands it every request under that path), signed in with an
//! AccessKey pair checked against the credential store the API's signatures use. A
//! session is scoped to its key's account: every page reads with that account, so another
//! account's ids are "not found", exactly as in the API.
//!
//! Server-rendered HTML and one stylesheet, both in the binary; no script. Every response
//! carries a Content-Security-Policy that allows no script and no framing. The forms that
//! change something (sign-in, sign-out) check the request's origin and a token that only
//! the console's own page carries, besides the SameSite=Strict cookies.
#![forbid(unsafe_code)]

mod error;
pub mod html;
mod pages;
pub mod session;
pub mod web;

use std::sync::Arc;

use axum::response::Response;
use http::{Method, StatusCode};
use secgroup_api::ProductConfig;
use secgroup_domain::ids::AccountId;
use secgroup_domain::{DomainError, Store, Tx};
use secgroup_reach_service::Reachability;
use secgroup_rpc::server::BoxFuture;
use secgroup_rpc::{CredentialStore, MountedHandler, MountedRequest};
use subtle::ConstantTimeEq;

pub use error::ConsoleError;
pub use session::{Session, SessionLimits, Sessions};

use html::{esc, Page};
use web::{Form, Reply};

/// Where the console is served.
pub const PREFIX: &str = "/console/";

/// The session cookie, and the one that ties a sign-in form to its browser.
pub const SESSION_COOKIE: &str = "secgroup_console";
pub const SIGNIN_COOKIE: &str = "secgroup_console_signin";

/// The stylesheet, in the binary.
const STYLESHEET: &str = include_str!("assets/console.css");

/// The console over a store, the API's credential store and the reachability service.
pub struct Console<S, C> {
    store: Arc<S>,
    credentials: Arc<C>,
    reachability: Arc<Reachability<S>>,
    config: Arc<ProductConfig>,
    sessions: Sessions,
}

impl<S: Store, C: CredentialStore> Console<S, C> {
    pub fn new(
        store: Arc<S>,
        credentials: Arc<C>,
        reachability: Arc<Reachability<S>>,
        config: Arc<ProductConfig>,
    ) -> Self {
        Console {
            store,
            credentials,
            reachability,
            config,
            sessions: Sessions::new(SessionLimits::default()),
        }
    }

    pub fn with_session_limits(mut self, limits: SessionLimits) -> Self {
        self.sessions = Sessions::new(limits);
        self
    }

    /// Answers one request under [`PREFIX`].
    pub async fn respond(&self, request: MountedRequest) -> Response {
        let session = web::cookie(&request.headers, SESSION_COOKIE)
            .and_then(|token| self.sessions.get(&token));
        let secure = web::is_https(&request.headers);
        match self.route(&request, session.as_ref(), secure).await {
            Ok(reply) => reply.into_response(),
            Err(e) => {
                if e.status().is_server_error() {
                    tracing::warn!(error = %e, "console page failed");
                }
                let page = Page::new(e.title()).body(format!(
                    "<p class=\"error\" role=\"alert\">{}</p><p><a href=\"{}\">Back to the regions</a></p>",
                    esc(&e.text()),
                    html::href(&[])
                ));
                Reply::html(
                    e.status(),
                    html::document(&page, session.as_ref(), request.uri.path()),
                )
                .into_response()
            }
        }
    }

    async fn route(
        &self,
        request: &MountedRequest,
        session: Option<&Session>,
        secure: bool,
    ) -> Result<Reply, ConsoleError> {
        let path = request.uri.path();
        let Some(rest) = path.strip_prefix(PREFIX) else {
            // `/console` itself.
            return Ok(Reply::redirect(PREFIX));
        };
        let rest = rest.trim_end_matches('/');
        let segments: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        let query = Form::parse(request.uri.query().unwrap_or("").as_bytes());
        let method = &request.method;
        match segments.as_slice() {
            ["assets", "console.css"] => {
                only(method, &Method::GET)?;
                return Ok(Reply::stylesheet(STYLESHEET));
            }
            ["signin"] if method == Method::POST => {
                return self.sign_in(request, secure).await;
            }
            ["signin"] => {
                only(method, &Method::GET)?;
                if session.is_some() {
                    return Ok(Reply::see_other(PREFIX));
                }
                return Ok(self.sign_in_form(StatusCode::OK, None, secure));
            }
            ["signout"] => {
                only(method, &Method::POST)?;
                return self.sign_out(request, session, secure);
            }
            _ => {}
        }
        only(method, &Method::GET)?;
        let Some(session) = session else {
            // Temporary: once signed in, the same address shows the page.
            return Ok(Reply::see_other(&format!("{PREFIX}signin")));
        };
        let page = pages::page(self, session, &segments, &query).await?;
        Ok(Reply::html(
            StatusCode::OK,
            html::document(&page, Some(session), path),
        ))
    }

    /// The sign-in form, with a fresh token in it and in its cookie.
    fn sign_in_form(&self, status: StatusCode, failure: Option<&str>, secure: bool) -> Reply {
        let token = session::random_token();
        let alert = failure.map_or_else(String::new, |text| {
            format!(
                "<p class=\"error\" role=\"alert\" id=\"signin-error\">{}</p>",
                esc(text)
            )
        });
        let described = if failure.is_some() {
            " aria-describedby=\"signin-error\""
        } else {
            ""
        };
        let body = format!(
            "{alert}<p>Sign in with an AccessKey pair. You see the resources of its account, and nothing else.</p>\
<form class=\"signin\" method=\"post\" action=\"{action}\"{described}>\
<input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
<p><label for=\"access_key_id\">AccessKey ID</label>\
<input id=\"access_key_id\" name=\"access_key_id\" type=\"text\" required autocomplete=\"username\" spellcheck=\"false\" autocapitalize=\"off\"></p>\
<p><label for=\"access_key_secret\">AccessKey secret</label>\
<input id=\"access_key_secret\" name=\"access_key_secret\" type=\"password\" required autocomplete=\"current-password\"></p>\
<p><button type=\"submit\">Sign in</button></p></form>",
            action = html::href(&["signin"]),
            token = esc(&token),
        );
        let page = Page::new("Sign in").body(body);
        Reply::html(status, html::document(&page, None, PREFIX)).cookie(web::set_cookie(
            SIGNIN_COOKIE,
            &token,
            Some(web::SIGNIN_FORM_SECONDS),
            secure,
        ))
    }

    async fn sign_in(&self, request: &MountedRequest, secure: bool) -> Result<Reply, ConsoleError> {
        web::same_origin(&request.headers)?;
        let form = Form::parse(&request.body);
        let sent = form.get("csrf").unwrap_or("");
        let expected = web::cookie(&request.headers, SIGNIN_COOKIE).unwrap_or_default();
        if expected.is_empty() || !bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(ConsoleError::Forbidden(
                "the sign-in form's token does not match",
            ));
        }
        let id = form.get("access_key_id").unwrap_or("").trim();
        let secret = form.get("access_key_secret").unwrap_or("");
        let credential = self
            .credentials
            .credential(id)
            .await
            .map_err(|e| ConsoleError::Api(e.into()))?;
        let account = credential.filter(|c| {
            !secret.is_empty() && bool::from(c.secret.expose().as_bytes().ct_eq(secret.as_bytes()))
        });
        let Some(credential) = account else {
            tracing::info!(access_key_id = %id, "console sign-in refused");
            return Ok(self.sign_in_form(
                StatusCode::UNAUTHORIZED,
                Some("The AccessKey ID or secret is not right."),
                secure,
            ));
        };
        let (token, _) = self
            .sessions
            .create(AccountId::new(credential.account_id), id.to_string());
        tracing::info!(access_key_id = %id, "console sign-in");
        let lifetime = self.sessions.limits().lifetime.as_secs();
        Ok(Reply::see_other(PREFIX)
            .cookie(web::set_cookie(
                SESSION_COOKIE,
                &token,
                Some(lifetime),
                secure,
            ))
            .cookie(web::set_cookie(SIGNIN_COOKIE, "", Some(0), secure)))
    }

    fn sign_out(
        &self,
        request: &MountedRequest,
        session: Option<&Session>,
        secure: bool,
    ) -> Result<Reply, ConsoleError> {
        web::same_origin(&request.headers)?;
        let form = Form::parse(&request.body);
        if let Some(session) = session {
            let sent = form.get("csrf").unwrap_or("");
            if !bool::from(sent.as_bytes().ct_eq(session.csrf.as_bytes())) {
                return Err(ConsoleError::Forbidden(
                    "the sign-out form's token does not match",
                ));
            }
            if let Some(token) = web::cookie(&request.headers, SESSION_COOKIE) {
                self.sessions.remove(&token);
            }
        }
        Ok(
            Reply::see_other(&format!("{PREFIX}signin")).cookie(web::set_cookie(
                SESSION_COOKIE,
                "",
                Some(0),
                secure,
            )),
        )
    }

    /// Runs `f` in a read transaction.
    async fn read<T, F>(&self, f: F) -> Result<T, ConsoleError>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, DomainError> + Send + 'static,
    {
        Ok(self.store.read(f).await?)
    }
}

fn only(method: &Method, allowed: &Method) -> Result<(), ConsoleError> {
    if method == allowed {
        Ok(())
    } else if *allowed == Method::GET {
        Err(ConsoleError::Method("GET"))
    } else {
        Err(ConsoleError::Method("POST"))
    }
}

impl<S: Store, C: CredentialStore> MountedHandler for Console<S, C> {
    fn handle(&self, request: MountedRequest) -> BoxFuture<'_, Response> {
        Box::pin(self.respond(request))
    }
}

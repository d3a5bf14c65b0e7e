//! The console's one error type: what a page could not show, and the status it answers.

use http::StatusCode;
use secgroup_domain::{DomainError, StoreError};
use secgroup_reach_service::ReachabilityError;
use secgroup_rpc::RpcError;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// A domain or store failure, worded exactly as the API words it (an id of another
    /// account is "not found" there too).
    #[error("{}: {}", .0.code, .0.message)]
    Api(RpcError),
    /// No page at this path.
    #[error("there is no page here")]
    NoPage,
    /// A form or query value that cannot be used; the text says which and why.
    #[error("{0}")]
    BadInput(String),
    #[error("this page answers {0} only")]
    Method(&'static str),
    /// A state-changing request that is not from the console's own pages (CSRF).
    #[error("the request did not come from this console's own page ({0})")]
    Forbidden(&'static str),
    /// The reachability service could not answer (its worker stopped).
    #[error("the reachability question could not be answered: {0}")]
    Unanswered(String),
}

impl ConsoleError {
    pub fn status(&self) -> StatusCode {
        match self {
            ConsoleError::Api(e) => e.status,
            ConsoleError::NoPage => StatusCode::NOT_FOUND,
            ConsoleError::BadInput(_) => StatusCode::BAD_REQUEST,
            ConsoleError::Method(_) => StatusCode::METHOD_NOT_ALLOWED,
            ConsoleError::Forbidden(_) => StatusCode::FORBIDDEN,
            ConsoleError::Unanswered(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The page heading: the Alibaba error code when there is one.
    pub fn title(&self) -> String {
        match self {
            ConsoleError::Api(e) => e.code.to_string(),
            ConsoleError::NoPage => "Not found".into(),
            ConsoleError::BadInput(_) => "Bad request".into(),
            ConsoleError::Method(_) => "Method not allowed".into(),
            ConsoleError::Forbidden(_) => "Forbidden".into(),
            ConsoleError::Unanswered(_) => "Unavailable".into(),
        }
    }

    /// What the page says.
    pub fn text(&self) -> String {
        match self {
            ConsoleError::Api(e) => e.message.to_string(),
            other => other.to_string(),
        }
    }
}

impl From<DomainError> for ConsoleError {
    fn from(e: DomainError) -> Self {
        ConsoleError::Api(secgroup_api::errors::domain(e))
    }
}

impl From<StoreError> for ConsoleError {
    fn from(e: StoreError) -> Self {
        ConsoleError::Api(secgroup_api::errors::store(e))
    }
}

impl From<ReachabilityError> for ConsoleError {
    fn from(e: ReachabilityError) -> Self {
        match e {
            ReachabilityError::Domain(e) => e.into(),
            ReachabilityError::Worker(why) => ConsoleError::Unanswered(why),
            // The console names both ends by instance and bounds the matrix itself; what
            // is left is a question it asked wrongly, said as the engine says it.
            other => ConsoleError::BadInput(other.to_string()),
        }
    }
}

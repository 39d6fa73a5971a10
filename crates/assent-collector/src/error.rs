//! Why a request was refused, with the HTTP status a client can act on.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// A refusal. Nothing is stored when a receipt is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Not a JWS, or a header we cannot use (400).
    #[error("malformed receipt: {0}")]
    Malformed(String),
    /// The signature does not verify (400).
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// The payload is not a receipt of a known schema (422).
    #[error("invalid receipt: {0}")]
    Invalid(String),
    /// Issued in the future beyond the allowed clock skew (425 Too Early, with `Retry-After`: the same
    /// receipt is accepted once the collector's clock has caught up, so the browser keeps it and retries).
    #[error("receipt issued in the future: iat {iat} is more than {skew} s after the collector's clock ({now})")]
    Future {
        /// The receipt's `iat`.
        iat: u64,
        /// The collector's clock.
        now: u64,
        /// Allowed skew in seconds.
        skew: u64,
    },
    /// The receipt forks the subject's chain, or reuses an id with other content (409).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The receipt's `origin` is not a site this collector serves (403).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Missing or wrong API key (401).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// A bad query (400).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The body is over the limit (413).
    #[error("too large: {0}")]
    TooLarge(String),
    /// Too many requests from this client (429).
    #[error("rate limit: at most {0} requests a minute; retry later")]
    RateLimited(u32),
    /// Storage failed; the receipt was not stored (503).
    #[error("storage unavailable: {0}")]
    Storage(String),
    /// In a batch, behind a receipt refused for now: not stored, so that the chain arrives in order
    /// (424). Stored now, it would be a gap, and its predecessor a fork once it arrives.
    #[error("held: {0}")]
    Held(String),
}

impl Rejection {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::Malformed(_) | Rejection::BadSignature(_) | Rejection::BadRequest(_) => StatusCode::BAD_REQUEST,
            Rejection::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Rejection::Future { .. } => StatusCode::TOO_EARLY,
            Rejection::Conflict(_) => StatusCode::CONFLICT,
            Rejection::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Rejection::Forbidden(_) => StatusCode::FORBIDDEN,
            Rejection::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Rejection::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Rejection::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
            Rejection::Held(_) => StatusCode::FAILED_DEPENDENCY,
        }
    }

    /// Refused for now: the same receipt is accepted later (the browser's outbox keeps it and retries).
    pub fn for_now(&self) -> bool {
        matches!(
            self,
            Rejection::Future { .. } | Rejection::RateLimited(_) | Rejection::Storage(_) | Rejection::Forbidden(_)
        )
    }

    /// The JSON body: `{"error": "<reason>"}`.
    pub fn body(&self) -> String {
        assent_core::json::Json::Object(vec![("error".into(), assent_core::json::Json::String(self.to_string()))])
            .canonical()
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let mut res = (self.status(), self.body()).into_response();
        res.headers_mut().insert("content-type", "application/json".parse().expect("static header"));
        let retry = match self {
            Rejection::RateLimited(_) => Some(60),
            Rejection::Future { iat, now, skew } => Some(iat.saturating_sub(now + skew).max(1)),
            _ => None,
        };
        if let Some(seconds) = retry {
            res.headers_mut().insert("retry-after", seconds.into());
        }
        res
    }
}

impl From<rusqlite::Error> for Rejection {
    fn from(e: rusqlite::Error) -> Self {
        Rejection::Storage(e.to_string())
    }
}

impl From<assent_jose::JwsError> for Rejection {
    fn from(e: assent_jose::JwsError) -> Self {
        match e {
            assent_jose::JwsError::Malformed(m) => Rejection::Malformed(m),
            assent_jose::JwsError::BadSignature(m) => Rejection::BadSignature(m),
        }
    }
}

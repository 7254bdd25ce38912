//! Failures of a request, and how each dialect renders them.
//!
//! Handlers and extractors return [`ApiError<D>`], where `D` is the dialect of the
//! route. The same failure renders as `{"error": {"code", "message"}, "status": "error"}`
//! under the ChatAPI dialect and as `{"error": "..."}` under the account dialect; the
//! mapping for each dialect is one exhaustive `match` in its module.

use std::fmt;
use std::marker::PhantomData;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use chat_app::AppError;

/// A problem with the HTTP request itself, found before any use case runs.
#[derive(Debug)]
pub enum RequestError {
    /// The body is not JSON, or not a JSON object.
    MalformedBody(String),
    /// A `multipart/form-data` body that cannot be parsed.
    MalformedMultipart(String),
    /// A field of the body has the wrong type or is unknown.
    WrongField { field: String, reason: String },
    /// The query string cannot be decoded.
    MalformedQuery(String),
    /// The body is larger than the configured limit (bytes).
    PayloadTooLarge { limit: usize },
    /// No route answers this path.
    RouteNotFound,
    /// The path has routes, but none for this method; `Allow` lists theirs.
    MethodNotAllowed,
    /// The caller's allowance is spent (or its address failed authentication too often);
    /// `Retry-After` says when to come back (whole seconds).
    RateLimited { retry_after: u64 },
}

/// Anything that can make a request fail.
#[derive(Debug)]
pub enum Failure {
    App(AppError),
    Request(RequestError),
}

/// Renders failures in one dialect's shape.
pub trait Dialect: 'static {
    fn status(failure: &Failure) -> StatusCode;
    fn render(failure: &Failure) -> HttpResponse;
}

/// A failure, to be rendered in dialect `D`.
pub struct ApiError<D> {
    failure: Failure,
    dialect: PhantomData<D>,
}

impl<D> ApiError<D> {
    pub fn failure(&self) -> &Failure {
        &self.failure
    }
}

impl<D> From<AppError> for ApiError<D> {
    fn from(error: AppError) -> Self {
        Failure::App(error).into()
    }
}

impl<D> From<RequestError> for ApiError<D> {
    fn from(error: RequestError) -> Self {
        Failure::Request(error).into()
    }
}

impl<D> From<Failure> for ApiError<D> {
    fn from(failure: Failure) -> Self {
        Self {
            failure,
            dialect: PhantomData,
        }
    }
}

impl<D> From<chat_domain::FieldError> for ApiError<D> {
    fn from(error: chat_domain::FieldError) -> Self {
        AppError::from(error).into()
    }
}

impl<D> From<chat_domain::FieldErrors> for ApiError<D> {
    fn from(errors: chat_domain::FieldErrors) -> Self {
        AppError::Invalid(errors).into()
    }
}

impl<D> fmt::Debug for ApiError<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.failure.fmt(f)
    }
}

impl<D> fmt::Display for ApiError<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.failure {
            Failure::App(error) => fmt::Display::fmt(error, f),
            Failure::Request(error) => write!(f, "{error:?}"),
        }
    }
}

impl<D: Dialect> ResponseError for ApiError<D> {
    fn status_code(&self) -> StatusCode {
        D::status(&self.failure)
    }

    fn error_response(&self) -> HttpResponse {
        log_server_side(&self.failure);
        D::render(&self.failure)
    }
}

/// Server-side failures are logged with their whole cause chain; clients see a fixed text.
fn log_server_side(failure: &Failure) {
    match failure {
        Failure::App(AppError::Unexpected(error)) => {
            tracing::error!(error = format!("{error:#}"), "request failed unexpectedly");
        }
        Failure::App(AppError::Unavailable(error)) => {
            tracing::warn!(error = format!("{error:#}"), "storage unavailable");
        }
        Failure::App(_) | Failure::Request(_) => {}
    }
}

/// Seconds a client should wait before retrying a 503.
pub(crate) const RETRY_AFTER_SECS: &str = "1";

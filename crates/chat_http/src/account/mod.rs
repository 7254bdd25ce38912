//! The account dialect: `/api/v1/accounts/{account_id}/...` and the platform API;
//! bare JSON bodies, integer ids, unix times, `{"error": "..."}` failures and
//! `422 {"message", "attributes"}` validation errors.

pub mod agents;
pub mod caller;
pub mod json;
pub mod members;
pub mod messages;
pub mod paging;
pub mod path;
pub mod platform;
pub mod reactions;
pub mod responses;
pub mod rooms;
pub mod search;
pub mod webhooks;

use actix_web::http::StatusCode;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{HttpResponse, HttpResponseBuilder};
use chat_app::{AppError, Conflict, Denied};
use chat_domain::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Dialect, Failure, RETRY_AFTER_SECS, RequestError};

/// Marker for the account dialect.
#[derive(Debug)]
pub struct AccountApi;

pub type Error = crate::error::ApiError<AccountApi>;
pub type Json<T> = crate::extract::Json<T, AccountApi>;
pub type Query = crate::extract::Query<AccountApi>;
pub type RequestBody = crate::extract::Body<AccountApi>;
pub type Authenticated = crate::extract::Authenticated<AccountApi>;
pub type PlatformCaller = crate::extract::PlatformCaller<AccountApi>;

/// `{"error": "..."}`
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AccountError)]
#[serde(deny_unknown_fields)] // documents `additionalProperties: false`
pub struct ErrorBody {
    pub error: String,
}

/// `422 {"message": "Name can't be blank", "attributes": ["name"]}`
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AccountValidationError)]
#[serde(deny_unknown_fields)] // documents `additionalProperties: false`
pub struct ValidationBody {
    /// Every problem as a sentence, joined with `, `.
    pub message: String,
    /// The fields at fault, in order.
    pub attributes: Vec<String>,
}

enum Body {
    Error(String),
    Validation(ValidationBody),
}

/// `external_id` → `External id`, as Rails' `humanize`.
fn humanize(field: &str) -> String {
    let spaced = field.replace(['_', '.'], " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

fn sentence(error: &FieldError) -> String {
    format!("{} {}", humanize(error.field), error.problem)
}

/// Status and body of every failure: one exhaustive mapping.
fn describe(failure: &Failure) -> (StatusCode, Body) {
    let error = |status, text: &str| (status, Body::Error(text.to_owned()));
    match failure {
        Failure::App(app) => match app {
            AppError::Unauthenticated => error(StatusCode::UNAUTHORIZED, "Invalid Access Token"),
            AppError::WrongAccount => error(
                StatusCode::UNAUTHORIZED,
                "You are not authorized to access this account",
            ),
            AppError::TokenExpired => error(StatusCode::UNAUTHORIZED, "Access token has expired"),
            AppError::SigningUnavailable => error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Signed tokens are not configured on this server",
            ),
            AppError::Conflict(conflict) => match conflict {
                Conflict::AlreadyInRoom => error(
                    StatusCode::CONFLICT,
                    "User is already a member of this chat room",
                ),
                Conflict::NotInRoom => error(
                    StatusCode::NOT_FOUND,
                    "User is not a member of this chat room",
                ),
                Conflict::RoomInactive => error(StatusCode::CONFLICT, "Chat room is inactive"),
                Conflict::RoomFull => error(
                    StatusCode::CONFLICT,
                    "Chat room has reached its maximum number of members",
                ),
                Conflict::UserExists => error(StatusCode::CONFLICT, "User already exists"),
            },
            AppError::Forbidden(denied) => match denied {
                Denied::NotAdministrator => (
                    StatusCode::FORBIDDEN,
                    Body::Error("Only administrators can do this action".to_owned()),
                ),
                Denied::NotAuthor => (
                    StatusCode::FORBIDDEN,
                    Body::Error("You can only edit or delete your own messages".to_owned()),
                ),
                Denied::NotMember => (
                    StatusCode::FORBIDDEN,
                    Body::Error("You are not a member of this chat room".to_owned()),
                ),
                Denied::FeatureDisabled(feature) => (
                    StatusCode::FORBIDDEN,
                    Body::Error(format!("Feature {feature} is not enabled for this account")),
                ),
                Denied::PermissionDenied(permission) => (
                    StatusCode::FORBIDDEN,
                    Body::Error(format!(
                        "This access token lacks the {permission} permission"
                    )),
                ),
                Denied::OtherUser => (
                    StatusCode::FORBIDDEN,
                    Body::Error("This access token may only act on its own user".to_owned()),
                ),
                Denied::NotAUser => (
                    StatusCode::FORBIDDEN,
                    Body::Error("The account API key is not a user".to_owned()),
                ),
                Denied::UserInactive => (
                    StatusCode::FORBIDDEN,
                    Body::Error("User is deactivated".to_owned()),
                ),
            },
            AppError::NotFound(_) => error(StatusCode::NOT_FOUND, "Resource could not be found"),
            AppError::ContentTooLong(too_long) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Body::Validation(ValidationBody {
                    message: format!(
                        "Content is too long (maximum is {} characters, given {})",
                        too_long.max_length, too_long.current_length
                    ),
                    attributes: vec!["content".to_owned()],
                }),
            ),
            AppError::Invalid(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Body::Validation(ValidationBody {
                    message: errors.iter().map(sentence).collect::<Vec<_>>().join(", "),
                    attributes: errors.iter().map(|e| e.field.to_owned()).collect(),
                }),
            ),
            AppError::Unavailable(_) => error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service temporarily unavailable, retry shortly",
            ),
            AppError::Unexpected(_) => {
                error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
            }
        },
        Failure::Request(request) => match request {
            RequestError::MalformedBody(reason) => (
                StatusCode::BAD_REQUEST,
                Body::Error(format!("Request body is not valid JSON: {reason}")),
            ),
            RequestError::MalformedMultipart(reason) => (
                StatusCode::BAD_REQUEST,
                Body::Error(format!(
                    "Request body is not a valid multipart form: {reason}"
                )),
            ),
            RequestError::MalformedQuery(reason) => (
                StatusCode::BAD_REQUEST,
                Body::Error(format!("The query string cannot be decoded: {reason}")),
            ),
            RequestError::WrongField { field, reason } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Body::Validation(ValidationBody {
                    message: format!("{} is invalid ({reason})", humanize(field)),
                    attributes: vec![field.clone()],
                }),
            ),
            RequestError::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                Body::Error(format!("Request body is larger than {limit} bytes")),
            ),
            RequestError::RouteNotFound => {
                error(StatusCode::NOT_FOUND, "Resource could not be found")
            }
            RequestError::MethodNotAllowed => {
                error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
            }
            RequestError::RateLimited { .. } => {
                error(StatusCode::TOO_MANY_REQUESTS, "Too many requests")
            }
        },
    }
}

impl Dialect for AccountApi {
    fn status(failure: &Failure) -> StatusCode {
        describe(failure).0
    }

    fn render(failure: &Failure) -> HttpResponse {
        let (status, body) = describe(failure);
        let mut response = HttpResponseBuilder::new(status);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((RETRY_AFTER, RETRY_AFTER_SECS));
        }
        match body {
            Body::Error(error) => response.json(ErrorBody { error }),
            Body::Validation(validation) => response.json(validation),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_humanized_like_rails() {
        assert_eq!(humanize("name"), "Name");
        assert_eq!(humanize("external_id"), "External id");
        assert_eq!(humanize("features.chat_rooms"), "Features chat rooms");
        assert_eq!(humanize(""), "");
    }
}

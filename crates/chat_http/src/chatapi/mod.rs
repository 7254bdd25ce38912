//! The ChatAPI dialect: `/api/v1/clients`, `/api/v1/rooms`, `/api/v1/messages`,
//! `/api/v1/users`, `/api/v1/webhooks`;
//! `{data, status}` envelopes, UUID ids, RFC 3339 times, error codes.

pub mod clients;
pub mod json;
pub mod me;
pub mod messages;
pub mod params;
pub mod participants;
pub mod path;
pub mod pins;
pub mod reactions;
pub mod read;
pub mod renderer;
pub mod responses;
pub mod rooms;
pub mod search;
pub mod threads;
pub mod users;
pub mod webhooks;

use actix_web::http::StatusCode;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{HttpResponse, HttpResponseBuilder};
use chat_app::{AppError, Conflict, Denied, Resource};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::error::{Dialect, Failure, RETRY_AFTER_SECS, RequestError};

/// Marker for the ChatAPI dialect.
#[derive(Debug)]
pub struct ChatApi;

/// A ChatAPI failure, rendered as `{"error": {code, message, details?}, "status": "error"}`.
pub type Error = crate::error::ApiError<ChatApi>;
pub type Json<T> = crate::extract::Json<T, ChatApi>;
pub type Query = crate::extract::Query<ChatApi>;
pub type Authenticated = crate::extract::Authenticated<ChatApi>;
pub type PlatformCaller = crate::extract::PlatformCaller<ChatApi>;
/// An authenticated caller who may create or change rooms (an administrator, the API
/// key, or a scoped credential with `manage_rooms`), else 403 before the body is read.
pub type Manager = crate::extract::RoomManager<Authenticated>;
/// A caller holding its account's API key, else 401 before the body is read.
pub type ApiKeyCaller = crate::extract::ApiKeyCaller<ChatApi>;

/// `{"data": ..., "status": "success"}`, with `message` where the seed shows one.
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T> {
    pub data: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
    /// Always `success`.
    pub status: &'static str,
}

impl<T: Serialize> Envelope<T> {
    pub fn ok(data: T) -> Self {
        Self {
            data,
            message: None,
            status: "success",
        }
    }
}

/// `{message, status}`, for answers without data.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageOnly {
    pub message: &'static str,
    /// Always `success`.
    pub status: &'static str,
}

/// The error body of the ChatAPI dialect.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChatApiError)]
pub struct ErrorBody {
    pub error: ErrorDetail,
    /// Always `error`.
    #[schema(pattern = "^error$")]
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChatApiErrorDetail)]
pub struct ErrorDetail {
    /// A stable machine-readable code, e.g. `UNAUTHORIZED`, `VALIDATION_ERROR`.
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
}

/// Status, code, message and details of every failure: one exhaustive mapping.
fn describe(failure: &Failure) -> (StatusCode, &'static str, String, Option<Value>) {
    match failure {
        Failure::App(error) => match error {
            AppError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                "Invalid or missing credentials".to_owned(),
                None,
            ),
            AppError::WrongAccount => (
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                "You are not authorized to access this account".to_owned(),
                None,
            ),
            AppError::TokenExpired => (
                StatusCode::UNAUTHORIZED,
                "TOKEN_EXPIRED",
                "The credential has expired; log in again".to_owned(),
                None,
            ),
            AppError::SigningUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "SIGNING_NOT_CONFIGURED",
                "Signed tokens are not configured on this server (CHAT_SECRET_KEY)".to_owned(),
                None,
            ),
            AppError::Conflict(conflict) => match conflict {
                Conflict::AlreadyInRoom => (
                    StatusCode::CONFLICT,
                    "ALREADY_IN_ROOM",
                    "User is already a participant in this room".to_owned(),
                    None,
                ),
                Conflict::NotInRoom => (
                    StatusCode::NOT_FOUND,
                    "NOT_IN_ROOM",
                    "User is not a participant in this room".to_owned(),
                    None,
                ),
                Conflict::RoomInactive => (
                    StatusCode::CONFLICT,
                    "ROOM_INACTIVE",
                    "Room is deactivated and cannot receive new messages".to_owned(),
                    None,
                ),
                Conflict::RoomFull => (
                    StatusCode::CONFLICT,
                    "ROOM_FULL",
                    "Room has reached its maximum number of participants".to_owned(),
                    None,
                ),
                Conflict::UserExists => (
                    StatusCode::CONFLICT,
                    "USER_EXISTS",
                    "A user with this user_id already exists".to_owned(),
                    None,
                ),
            },
            AppError::Forbidden(denied) => match denied {
                Denied::NotAuthor => (
                    StatusCode::FORBIDDEN,
                    "UNAUTHORIZED_EDIT",
                    "You can only edit or delete your own messages".to_owned(),
                    None,
                ),
                Denied::NotAdministrator | Denied::NotMember => (
                    StatusCode::FORBIDDEN,
                    "ROOM_ACCESS_DENIED",
                    "You don't have permission to access this room".to_owned(),
                    None,
                ),
                Denied::FeatureDisabled(feature) => (
                    StatusCode::FORBIDDEN,
                    "FEATURE_DISABLED",
                    format!("Feature {feature} is not enabled for this account"),
                    None,
                ),
                Denied::PermissionDenied(permission) => (
                    StatusCode::FORBIDDEN,
                    "PERMISSION_DENIED",
                    format!("This credential lacks the {permission} permission"),
                    Some(serde_json::json!({ "required_permission": permission.as_str() })),
                ),
                Denied::OtherUser => (
                    StatusCode::FORBIDDEN,
                    "PERMISSION_DENIED",
                    "A scoped credential may only act on its own user".to_owned(),
                    None,
                ),
                Denied::NotAUser => (
                    StatusCode::FORBIDDEN,
                    "NOT_A_USER",
                    "The account API key is nobody: sign in with a user's credential (a scoped key, a signed token or a user access token)".to_owned(),
                    None,
                ),
                Denied::UserInactive => (
                    StatusCode::FORBIDDEN,
                    "USER_INACTIVE",
                    "The user is deactivated".to_owned(),
                    None,
                ),
            },
            AppError::NotFound(resource) => {
                let (code, message) = match resource {
                    Resource::Account => ("CLIENT_NOT_FOUND", "Client not found"),
                    Resource::User => ("USER_NOT_FOUND", "User not found"),
                    Resource::Room => ("ROOM_NOT_FOUND", "Room not found"),
                    Resource::Message => ("MESSAGE_NOT_FOUND", "Message not found"),
                    Resource::File => ("FILE_NOT_FOUND", "File not found"),
                    Resource::Webhook => ("WEBHOOK_NOT_FOUND", "Webhook not found"),
                };
                (StatusCode::NOT_FOUND, code, message.to_owned(), None)
            }
            AppError::ContentTooLong(too_long) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "CONTENT_TOO_LONG",
                format!(
                    "Message content exceeds the maximum length of {} characters",
                    too_long.max_length
                ),
                Some(json!({
                    "max_length": too_long.max_length,
                    "current_length": too_long.current_length,
                })),
            ),
            AppError::Invalid(errors) => {
                let details: Map<String, Value> = errors
                    .iter()
                    .map(|e| (e.field.to_owned(), Value::String(e.problem.to_string())))
                    .collect();
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "VALIDATION_ERROR",
                    "Validation failed".to_owned(),
                    Some(Value::Object(details)),
                )
            }
            AppError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "The service is temporarily unavailable; retry shortly".to_owned(),
                None,
            ),
            AppError::Unexpected(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                "Internal server error".to_owned(),
                None,
            ),
        },
        Failure::Request(error) => match error {
            RequestError::MalformedBody(reason) => (
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                format!("Request body is not valid JSON: {reason}"),
                None,
            ),
            RequestError::MalformedMultipart(reason) => (
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                format!("Request body is not a valid multipart form: {reason}"),
                None,
            ),
            RequestError::MalformedQuery(reason) => (
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                format!("The query string cannot be decoded: {reason}"),
                None,
            ),
            RequestError::WrongField { field, reason } => (
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                format!("Field `{field}` is invalid"),
                Some(json!({ field: reason })),
            ),
            RequestError::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                format!("Request body is larger than {limit} bytes"),
                Some(json!({ "max_bytes": limit })),
            ),
            RequestError::RouteNotFound => (
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "No such route".to_owned(),
                None,
            ),
            RequestError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "Method not allowed on this path".to_owned(),
                None,
            ),
            RequestError::RateLimited { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                format!("Too many requests; retry after {retry_after} seconds"),
                Some(json!({ "retry_after": retry_after })),
            ),
        },
    }
}

impl Dialect for ChatApi {
    fn status(failure: &Failure) -> StatusCode {
        describe(failure).0
    }

    fn render(failure: &Failure) -> HttpResponse {
        let (status, code, message, details) = describe(failure);
        let mut response = HttpResponseBuilder::new(status);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((RETRY_AFTER, RETRY_AFTER_SECS));
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code,
                message,
                details,
            },
            status: "error",
        })
    }
}

/// RFC 3339 in UTC, e.g. `2024-01-01T00:00:00Z` (with microseconds when the database has them).
pub(crate) mod rfc3339 {
    use serde::Serializer;
    use time::{OffsetDateTime, UtcOffset};

    pub fn serialize<S: Serializer>(at: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        time::serde::rfc3339::serialize(&at.to_offset(UtcOffset::UTC), s)
    }

    pub fn serialize_option<S: Serializer>(
        at: &Option<OffsetDateTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => serialize(at, s),
            None => s.serialize_none(),
        }
    }
}

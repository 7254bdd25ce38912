//! The ChatAPI refusals that many routes share, for the OpenAPI document: each row
//! written once here, and named in the `responses(...)` of every route that can answer
//! it (`responses((status = 200, …), Unauthenticated, RoomAccessDenied, …)`).

use utoipa::IntoResponses;

use super::ErrorBody;

/// 401 from [`Authenticated`](super::Authenticated): no credential, an unknown one, or
/// an expired scoped key or signed token (`TOKEN_EXPIRED`).
#[derive(Debug, IntoResponses)]
#[response(
    status = 401,
    description = "UNAUTHORIZED: credential missing, unknown or revoked; TOKEN_EXPIRED: a scoped key or signed token past its expiry"
)]
pub struct Unauthenticated(pub ErrorBody);

/// 401 from [`PlatformCaller`](super::PlatformCaller): anything but the platform token.
#[derive(Debug, IntoResponses)]
#[response(status = 401, description = "Not the platform token")]
pub struct NotPlatform(pub ErrorBody);

/// 401 to a credential that is not an account's API key.
#[derive(Debug, IntoResponses)]
#[response(
    status = 401,
    description = "UNAUTHORIZED: not an API key (TOKEN_EXPIRED for an expired scoped credential)"
)]
pub struct NotApiKey(pub ErrorBody);

/// 403 `ROOM_ACCESS_DENIED`: an agent outside the room, or where a manager is needed;
/// `PERMISSION_DENIED`: a scoped credential without the permission.
#[derive(Debug, IntoResponses)]
#[response(
    status = 403,
    description = "ROOM_ACCESS_DENIED, or PERMISSION_DENIED: a scoped credential without the permission this needs"
)]
pub struct RoomAccessDenied(pub ErrorBody);

/// 403 `PERMISSION_DENIED`: a scoped credential without the permission this needs.
#[derive(Debug, IntoResponses)]
#[response(
    status = 403,
    description = "PERMISSION_DENIED: a scoped credential without the permission this needs"
)]
pub struct PermissionDenied(pub ErrorBody);

/// 403 to a caller who may not change a message: not its sender (`UNAUTHORIZED_EDIT`),
/// or outside the room (`ROOM_ACCESS_DENIED`).
#[derive(Debug, IntoResponses)]
#[response(
    status = 403,
    description = "UNAUTHORIZED_EDIT or ROOM_ACCESS_DENIED, or PERMISSION_DENIED: a scoped credential without the permission this needs"
)]
pub struct EditDenied(pub ErrorBody);

/// 400 `INVALID_REQUEST`: the body is not JSON, a field or parameter has the wrong type,
/// or the query string cannot be decoded.
#[derive(Debug, IntoResponses)]
#[response(
    status = 400,
    description = "INVALID_REQUEST: the body is not JSON, a field or parameter has the wrong type, or the query string cannot be decoded"
)]
pub struct BadRequest(pub ErrorBody);

/// 404: `ROOM_NOT_FOUND`, `MESSAGE_NOT_FOUND`, `NOT_IN_ROOM`, … — also for malformed ids
/// and other accounts' ids.
#[derive(Debug, IntoResponses)]
#[response(
    status = 404,
    description = "ROOM_NOT_FOUND, MESSAGE_NOT_FOUND, USER_NOT_FOUND or NOT_IN_ROOM; also for malformed ids and other accounts' ids"
)]
pub struct NotFound(pub ErrorBody);

/// 413 `PAYLOAD_TOO_LARGE`.
#[derive(Debug, IntoResponses)]
#[response(
    status = 413,
    description = "PAYLOAD_TOO_LARGE: the body is larger than the limit"
)]
pub struct TooLarge(pub ErrorBody);

/// 422 `VALIDATION_ERROR` (`details` maps each bad field to a reason) or `CONTENT_TOO_LONG`.
#[derive(Debug, IntoResponses)]
#[response(
    status = 422,
    description = "VALIDATION_ERROR (details maps each bad field or parameter to a reason) or CONTENT_TOO_LONG"
)]
pub struct Invalid(pub ErrorBody);

/// 503 `SERVICE_UNAVAILABLE` with `Retry-After`: the database does not answer.
#[derive(Debug, IntoResponses)]
#[response(
    status = 503,
    description = "SERVICE_UNAVAILABLE: the database does not answer; retry after Retry-After seconds",
    headers(("Retry-After" = String, description = "Seconds to wait"))
)]
pub struct Unavailable(pub ErrorBody);

//! The account dialect's refusals that many routes share, for the OpenAPI document:
//! each row written once here, and named in the `responses(...)` of every route that
//! can answer it (`responses((status = 200, …), Unauthenticated, NotAdministrator, …)`).

use utoipa::IntoResponses;

use super::{ErrorBody, ValidationBody};

/// 401 from [`ChatRoomsCaller`](super::caller::ChatRoomsCaller): no credential, an
/// unknown one, or a user of another account.
#[derive(Debug, IntoResponses)]
#[response(
    status = 401,
    description = "Invalid Access Token, an expired one (Access token has expired), or another account"
)]
pub struct Unauthenticated(pub ErrorBody);

/// 401 from the platform API's caller: anything but the platform token.
#[derive(Debug, IntoResponses)]
#[response(status = 401, description = "Not the platform token")]
pub struct NotPlatform(pub ErrorBody);

/// 403 to a caller outside the room, or in an account without the feature.
#[derive(Debug, IntoResponses)]
#[response(
    status = 403,
    description = "Not a member, the feature is off, or a scoped credential without the permission this needs"
)]
pub struct NotMember(pub ErrorBody);

/// 403 from [`Manager`](super::caller::Manager): an agent, or an account without the
/// feature.
#[derive(Debug, IntoResponses)]
#[response(
    status = 403,
    description = "Not an administrator, the feature is off, or a scoped credential without the permission this needs"
)]
pub struct NotAdministrator(pub ErrorBody);

/// 400: the body is not JSON or not a valid multipart form, or the query string cannot
/// be decoded.
#[derive(Debug, IntoResponses)]
#[response(
    status = 400,
    description = "The body is not JSON (or not a valid multipart form), or the query string cannot be decoded"
)]
pub struct BadRequest(pub ErrorBody);

/// 404 `Resource could not be found`: the account, or an id in the path, that does not
/// exist, is malformed, or belongs to another account.
#[derive(Debug, IntoResponses)]
#[response(
    status = 404,
    description = "Resource could not be found: no such account, or an id in the path that is malformed, unknown or another account's"
)]
pub struct NotFound(pub ErrorBody);

/// 413: the body is over the JSON or upload limit.
#[derive(Debug, IntoResponses)]
#[response(status = 413, description = "The body is larger than the limit")]
pub struct TooLarge(pub ErrorBody);

/// 422 `{"message", "attributes"}`: invalid fields, or a field or parameter of the wrong type.
#[derive(Debug, IntoResponses)]
#[response(
    status = 422,
    description = "Invalid fields or parameters, or a field of the wrong type; `attributes` names them"
)]
pub struct Invalid(pub ValidationBody);

/// 503 with `Retry-After`: the database does not answer.
#[derive(Debug, IntoResponses)]
#[response(
    status = 503,
    description = "The database does not answer; retry after Retry-After seconds",
    headers(("Retry-After" = String, description = "Seconds to wait"))
)]
pub struct Unavailable(pub ErrorBody);

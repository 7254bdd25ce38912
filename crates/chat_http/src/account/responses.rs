//! The account dialect's refusals that many routes share, for the OpenAPI document:
//! each row written once here, and named in the `responses(...)` of every route that
//! can answer it (`responses((status = 200, …), Unauthenticated, NotAdministrator, …)`).

use utoipa::IntoResponses;

use super::ErrorBody;

/// 401 from [`ChatRoomsCaller`](super::caller::ChatRoomsCaller): no credential, an
/// unknown one, or a user of another account.
#[derive(Debug, IntoResponses)]
#[response(status = 401, description = "Invalid Access Token, or another account")]
pub struct Unauthenticated(pub ErrorBody);

/// 401 from the platform API's caller: anything but the platform token.
#[derive(Debug, IntoResponses)]
#[response(status = 401, description = "Not the platform token")]
pub struct NotPlatform(pub ErrorBody);

/// 403 to a caller outside the room, or in an account without the feature.
#[derive(Debug, IntoResponses)]
#[response(status = 403, description = "Not a member, or the feature is off")]
pub struct NotMember(pub ErrorBody);

/// 403 from [`Manager`](super::caller::Manager): an agent, or an account without the
/// feature.
#[derive(Debug, IntoResponses)]
#[response(
    status = 403,
    description = "Not an administrator, or the feature is off"
)]
pub struct NotAdministrator(pub ErrorBody);

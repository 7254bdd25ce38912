//! The ChatAPI refusals that many routes share, for the OpenAPI document: each row
//! written once here, and named in the `responses(...)` of every route that can answer
//! it (`responses((status = 200, …), Unauthenticated, RoomAccessDenied, …)`).

use utoipa::IntoResponses;

use super::ErrorBody;

/// 401 from [`Authenticated`](super::Authenticated): no credential, or an unknown one.
#[derive(Debug, IntoResponses)]
#[response(status = 401, description = "Credential missing or unknown")]
pub struct Unauthenticated(pub ErrorBody);

/// 401 from [`PlatformCaller`](super::PlatformCaller): anything but the platform token.
#[derive(Debug, IntoResponses)]
#[response(status = 401, description = "Not the platform token")]
pub struct NotPlatform(pub ErrorBody);

/// 401 to a credential that is not an account's API key.
#[derive(Debug, IntoResponses)]
#[response(status = 401, description = "Not an API key")]
pub struct NotApiKey(pub ErrorBody);

/// 403 `ROOM_ACCESS_DENIED`: an agent outside the room, or where a manager is needed.
#[derive(Debug, IntoResponses)]
#[response(status = 403, description = "ROOM_ACCESS_DENIED")]
pub struct RoomAccessDenied(pub ErrorBody);

/// 403 to a caller who may not change a message: not its sender (`UNAUTHORIZED_EDIT`),
/// or outside the room (`ROOM_ACCESS_DENIED`).
#[derive(Debug, IntoResponses)]
#[response(status = 403, description = "UNAUTHORIZED_EDIT or ROOM_ACCESS_DENIED")]
pub struct EditDenied(pub ErrorBody);

//! ChatAPI read state: `POST /api/v1/rooms/{room_id}/read` moves a member's read
//! position and answers what they have left unread; `GET /api/v1/rooms/{room_id}/receipts`
//! shows every member's read and delivered positions, for read and delivered ticks.

use actix_web::web::Data;
use actix_web::{HttpResponse, get, post};
use chat_app::{ReadState, Receipt};
use chat_domain::{ExternalId, MessageRef};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::path::RoomPath;
use super::responses::{BadRequest, Invalid, TooLarge, Unauthenticated, Unavailable};
use super::{Authenticated, Envelope, Error, ErrorBody, Json};
use crate::AppState;

/// `{user_id?, message_id?}`; the body may be absent.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReadRequest {
    /// With the API key: the participant whose position moves (required). With a user's
    /// credential it is that user's, whatever this says.
    #[schema(example = "user_123")]
    pub user_id: Option<String>,
    /// Read up to this message of the room (its UUID); the room's newest message when
    /// absent. A position never moves backwards.
    pub message_id: Option<Uuid>,
}

/// A member's read position in a room, and what they have left unread.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadStateJson {
    pub room_id: Uuid,
    /// The member.
    #[schema(example = "user_123")]
    pub user_id: String,
    /// The message at the read position; `null` before the room's first message.
    pub last_read_message_id: Option<Uuid>,
    /// The `seq` of that message (0 before the first).
    pub last_read_seq: i64,
    /// Other people's messages after the read position.
    pub unread_count: i64,
}

impl From<ReadState> for ReadStateJson {
    fn from(state: ReadState) -> Self {
        Self {
            room_id: state.room.uuid,
            user_id: state.user.chat_user_id(),
            last_read_message_id: state.last_read_message.map(|m| m.uuid),
            last_read_seq: state.last_read_seq.0,
            unread_count: state.unread.messages,
        }
    }
}

/// Mark a room read up to a message (else its newest) for a member: the caller's user
/// with a user's credential, the participant `user_id` with the API key. Other members
/// see a `read` event.
#[utoipa::path(
    tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's UUID")),
    request_body(content = Option<ReadRequest>, description = "Optional with a user's credential"),
    responses(
        (status = 200, description = "The read position after", body = Envelope<ReadStateJson>),
        BadRequest,
        Unauthenticated,
        (status = 403, description = "ROOM_ACCESS_DENIED: not a member of the room; PERMISSION_DENIED: a scoped credential without read_messages, or naming another user", body = ErrorBody),
        (status = 404, description = "ROOM_NOT_FOUND; MESSAGE_NOT_FOUND for a message_id not in the room; NOT_IN_ROOM for a user_id that is no participant of the room", body = ErrorBody),
        Invalid,
        TooLarge,
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[post("/rooms/{room_id}/read")]
pub async fn mark_room_read(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: RoomPath,
    body: Json<ReadRequest>,
) -> Result<HttpResponse, Error> {
    let room = room_id.ids()?;
    let body = body.read_optional().await?.unwrap_or_default();
    let user_id = body
        .user_id
        .as_deref()
        .map(|raw| ExternalId::parse_field("user_id", raw))
        .transpose()?;
    let read = state
        .app
        .conversations
        .read(
            &auth.actor,
            room,
            user_id,
            body.message_id.map(MessageRef::Uuid),
        )
        .await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(ReadStateJson::from(read))))
}

/// One member's positions in a room.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptJson {
    /// The member.
    #[schema(example = "user_123")]
    pub user_id: String,
    /// The newest `seq` they have read (0: none yet).
    pub last_read_seq: i64,
    /// The newest `seq` that has reached one of their devices: listed, or sent to one of
    /// their sockets (0: none yet). Written in batches, so it may trail by a moment.
    pub last_delivered_seq: i64,
}

impl From<Receipt> for ReceiptJson {
    fn from(receipt: Receipt) -> Self {
        Self {
            user_id: receipt.user.chat_user_id(),
            last_read_seq: receipt.position.read.0,
            last_delivered_seq: receipt.position.delivered.0,
        }
    }
}

/// Every member's read and delivered positions. A message (`seq`) of one's own is read
/// when every other member's `last_read_seq` has reached it, delivered when every other
/// member's `max(last_delivered_seq, last_read_seq)` has; live `read` events move the
/// read positions afterwards.
#[utoipa::path(
    tag = "rooms",
    params(("room_id" = Uuid, Path, description = "The room's UUID")),
    responses(
        (status = 200, description = "Every member's positions", body = Envelope<Vec<ReceiptJson>>),
        Unauthenticated,
        (status = 403, description = "ROOM_ACCESS_DENIED: an agent or end user not in the room; PERMISSION_DENIED: a scoped credential without read_messages", body = ErrorBody),
        (status = 404, description = "ROOM_NOT_FOUND", body = ErrorBody),
        Unavailable,
    ),
    security(("api_key" = []), ("api_access_token" = []), ("bearer" = []))
)]
#[get("/rooms/{room_id}/receipts")]
pub async fn room_receipts(
    state: Data<AppState>,
    auth: Authenticated,
    room_id: RoomPath,
) -> Result<HttpResponse, Error> {
    let receipts = state
        .app
        .messages
        .receipts(&auth.actor, room_id.ids()?)
        .await?;
    let data: Vec<ReceiptJson> = receipts.into_iter().map(ReceiptJson::from).collect();
    Ok(HttpResponse::Ok().json(Envelope::ok(data)))
}

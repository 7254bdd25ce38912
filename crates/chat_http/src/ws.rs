//! Live connections over WebSocket (actix-ws): a room's socket in the ChatAPI dialect
//! (`GET /ws/{room_id}`) and a user's stream of all their rooms in the account dialect
//! (`GET /api/v1/accounts/{account_id}/ws`). The protocol is described in
//! `docs/asyncapi.yaml`.
//!
//! The credential and access are checked before the connection loop starts; a refused
//! connection is upgraded only to be closed with its code (4001 unauthorized, 4002 room
//! not found, 4003 access denied, 4004 rate limited). Each connection is one task that
//! selects over the client's frames, the hub's deliveries and a heartbeat; every way
//! out of it unsubscribes and closes its presence session.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse, get};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use chat_app::{
    Actor, AppError, Conflict, Denied, DomainEvent, LiveEvent, MemberEvent, MessageDetail,
    MessageEvent, MessageFilter, MessageOrder, MessageView, Outgoing, PresenceChange,
    PresenceSession, RawOutgoing, Resource, RoomEvent, RoomView, Typing, Window,
};
use chat_domain::{AccountId, Message, MessageId, MessageRef, Room, RoomId, RoomRef, Seq, User};
use chat_realtime::{Connection, Delivery, Hub, Scope};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::AppState;
use crate::account::messages::ChatMessageJson;
use crate::account::rooms::ChatRoomJson;
use crate::chatapi::messages::MessageJson;
use crate::chatapi::rooms::RoomJson;
use crate::links::Links;

/// How live connections behave.
#[derive(Debug, Clone, Copy)]
pub struct LiveSettings {
    /// How often the server pings.
    pub heartbeat: Duration,
    /// A connection silent for this long (no frame, no pong) is closed.
    pub idle_timeout: Duration,
    /// Largest client frame, in bytes.
    pub max_frame: usize,
    /// How long one frame may take to go out before the client counts as gone.
    pub send_timeout: Duration,
    /// Client frames allowed per second, on average.
    pub frames_per_second: u32,
    /// Client frames allowed in a burst.
    pub frame_burst: u32,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(45),
            max_frame: 64 * 1024,
            send_timeout: Duration::from_secs(10),
            frames_per_second: 20,
            frame_burst: 40,
        }
    }
}

/// The hub and the settings of live connections.
#[derive(Debug, Clone)]
pub struct Live {
    pub hub: Hub,
    pub settings: LiveSettings,
}

const UNAUTHORIZED: u16 = 4001;
const ROOM_NOT_FOUND: u16 = 4002;
const ACCESS_DENIED: u16 = 4003;
const RATE_LIMITED: u16 = 4004;
/// Standard "try again later": the client did not keep up with its events.
const TOO_SLOW: u16 = 1013;

/// A refusal: the close code and its reason.
type Refusal = (u16, &'static str);

fn refusal(error: &AppError) -> Refusal {
    match error {
        AppError::Unauthenticated | AppError::WrongAccount => (UNAUTHORIZED, "unauthorized"),
        AppError::NotFound(Resource::Room) => (ROOM_NOT_FOUND, "room not found"),
        AppError::NotFound(_) => (UNAUTHORIZED, "unauthorized"),
        AppError::Forbidden(_) => (ACCESS_DENIED, "access denied"),
        _ => (1011, "server error"),
    }
}

/// The query of a socket URL.
#[derive(Debug, Default, Deserialize)]
struct SocketQuery {
    token: Option<String>,
    user_id: Option<String>,
    since_seq: Option<String>,
}

fn socket_query(req: &HttpRequest) -> SocketQuery {
    serde_urlencoded::from_str(req.query_string()).unwrap_or_default()
}

/// Upgrades the request and runs `admitted` (or closes with its refusal).
fn upgrade<F>(
    req: &HttpRequest,
    body: Payload,
    admitted: F,
) -> Result<HttpResponse, actix_web::Error>
where
    F: std::future::Future<Output = Result<Open, Refusal>> + 'static,
{
    let (response, session, stream) = actix_ws::handle(req, body)?;
    actix_web::rt::spawn(async move {
        // Boxed, here and below: a connection's task lives as long as the socket, and
        // its state machine would otherwise hold room for the largest future it ever
        // awaits (a use case's) for all that time — per idle socket.
        match Box::pin(admitted).await {
            Ok(open) => Box::pin(open.run(session, stream)).await,
            Err((code, reason)) => close(session, code, reason).await,
        }
    });
    Ok(response)
}

async fn close(session: Session, code: u16, reason: &'static str) {
    let reason = CloseReason {
        code: CloseCode::Other(code),
        description: Some(reason.to_owned()),
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), session.close(Some(reason))).await;
}

/// A room's live events in the ChatAPI dialect. `token` is any credential; with the
/// API key, `user_id` names the participant the socket speaks for (without it, the
/// socket only listens). `since_seq` replays the messages after it first.
#[utoipa::path(
    tag = "live",
    params(
        ("room_id" = String, Path, description = "The room's UUID"),
        ("token" = String, Query, description = "API key or user access token"),
        ("user_id" = Option<String>, Query, description = "With the API key: the participant the socket speaks for"),
        ("user_name" = Option<String>, Query, description = "Accepted for compatibility; names come from the user"),
        ("since_seq" = Option<i64>, Query, description = "Replay the room's messages after this seq before live events"),
    ),
    responses(
        (status = 101, description = "WebSocket; frames as in docs/asyncapi.yaml. Refusals are closes: 4001 unauthorized, 4002 room not found, 4003 access denied; later 4004 rate limited, 1013 too slow"),
        (status = 400, description = "Not a WebSocket upgrade request"),
    )
)]
#[get("/ws/{room_id}")]
pub async fn room_socket(
    req: HttpRequest,
    body: Payload,
    state: Data<AppState>,
    path: Path<String>,
) -> Result<HttpResponse, actix_web::Error> {
    let query = socket_query(&req);
    let links = Links::for_request(&req, &state);
    let room = path.into_inner();
    upgrade(&req, body, admit_room(state, query, room, links))
}

/// A user's live events in every room they belong to, in the account dialect. `token`
/// is the user's access token.
#[utoipa::path(
    tag = "live",
    params(
        ("account_id" = i64, Path, description = "Account id"),
        ("token" = String, Query, description = "The user's access token"),
    ),
    responses(
        (status = 101, description = "WebSocket; frames as in docs/asyncapi.yaml. Refusals are closes: 4001 unauthorized, 4003 access denied; later 4004 rate limited, 1013 too slow"),
        (status = 400, description = "Not a WebSocket upgrade request"),
    )
)]
#[get("/ws")]
pub async fn user_stream(
    req: HttpRequest,
    body: Payload,
    state: Data<AppState>,
    path: Path<String>,
) -> Result<HttpResponse, actix_web::Error> {
    let query = socket_query(&req);
    let links = Links::for_request(&req, &state);
    let account = path.into_inner();
    upgrade(&req, body, admit_stream(state, query, account, links))
}

async fn authenticate(state: &AppState, query: &SocketQuery) -> Result<Actor, Refusal> {
    let token = query
        .token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err((UNAUTHORIZED, "unauthorized"));
    };
    state
        .app
        .auth
        .authenticate(Some(token))
        .await
        .map_err(|e| refusal(&e))
}

fn live_of(state: &AppState) -> Result<Live, Refusal> {
    state
        .live
        .clone()
        .ok_or((1011, "live events are not enabled"))
}

async fn admit_room(
    state: Data<AppState>,
    query: SocketQuery,
    room: String,
    links: Links,
) -> Result<Open, Refusal> {
    let live = live_of(&state)?;
    let actor = authenticate(&state, &query).await?;
    let room_ref = match Uuid::parse_str(room.trim()) {
        Ok(uuid) => RoomRef::Uuid(uuid),
        Err(_) => return Err((ROOM_NOT_FOUND, "room not found")),
    };
    let since = match query.since_seq.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .map(Seq)
                .ok_or((ROOM_NOT_FOUND, "since_seq must be a non-negative integer"))?,
        ),
    };
    let socket = state
        .app
        .sockets
        .room(&actor, room_ref, query.user_id.as_deref())
        .await
        .map_err(|e| refusal(&e))?;
    let account = socket.room.account_id;
    let client_id = actor.account().map(|a| a.uuid).unwrap_or_default();
    Ok(Open {
        state,
        live,
        links,
        actor: socket.actor,
        participant: socket.participant,
        account,
        kind: Kind::Room {
            room: socket.room,
            client_id,
            since,
        },
    })
}

async fn admit_stream(
    state: Data<AppState>,
    query: SocketQuery,
    account: String,
    links: Links,
) -> Result<Open, Refusal> {
    let live = live_of(&state)?;
    let actor = authenticate(&state, &query).await?;
    let Ok(account) = account.trim().parse::<i64>().map(AccountId) else {
        return Err((UNAUTHORIZED, "unauthorized"));
    };
    let stream = state
        .app
        .sockets
        .stream(&actor, account)
        .await
        .map_err(|e| refusal(&e))?;
    Ok(Open {
        state,
        live,
        links,
        actor,
        participant: Some(stream.user),
        account,
        kind: Kind::Stream {
            rooms: stream.rooms,
        },
    })
}

/// What a connection is (one per connection, never moved around: no need to box).
#[allow(clippy::large_enum_variant)]
enum Kind {
    /// One room, rendered in the ChatAPI dialect.
    Room {
        room: Room,
        client_id: Uuid,
        since: Option<Seq>,
    },
    /// Every room of the user, rendered in the account dialect.
    Stream { rooms: Vec<RoomId> },
}

/// An admitted connection, about to run.
struct Open {
    state: Data<AppState>,
    live: Live,
    links: Links,
    /// Who the socket acts as.
    actor: Actor,
    /// The connected person (none for an API-key observer).
    participant: Option<User>,
    account: AccountId,
    kind: Kind,
}

/// A frame from the client: `{"type": ..., "data": {...}}`.
#[derive(Debug, Deserialize)]
struct ClientFrame {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: Option<Value>,
    /// On a user's stream: the room a frame is about (`data.room_id` works too).
    #[serde(default)]
    room_id: Option<Value>,
}

/// Why a connection loop ended.
enum Exit {
    /// The client closed, went silent or vanished: nothing more to say.
    Gone,
    /// Close with this code.
    Close(u16, &'static str),
}

/// A token bucket over client frames.
struct RateLimit {
    tokens: f64,
    burst: f64,
    per_second: f64,
    at: Instant,
    refused: u32,
}

impl RateLimit {
    fn new(settings: &LiveSettings) -> Self {
        let burst = f64::from(settings.frame_burst.max(1));
        Self {
            tokens: burst,
            burst,
            per_second: f64::from(settings.frames_per_second.max(1)),
            at: Instant::now(),
            refused: 0,
        }
    }

    /// Whether one more frame may be handled now.
    fn allow(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.at).as_secs_f64();
        self.at = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.refused = 0;
            true
        } else {
            self.refused += 1;
            false
        }
    }
}

/// Tries at closing a socket's presence session (250 ms, then doubling, between them).
const PRESENCE_CLOSE_ATTEMPTS: u32 = 5;

/// Frames refused in a row before the connection is closed with 4004.
const REFUSALS_BEFORE_CLOSE: u32 = 20;

struct Running {
    open: Open,
    session: Session,
    connection: Connection,
    presence: Option<(Uuid, PresenceTarget)>,
}

/// Whom a presence session stands for, to announce their going offline.
struct PresenceTarget {
    room: Option<(RoomId, Uuid)>,
    user_key: String,
    user: Option<chat_domain::UserId>,
}

impl Open {
    fn hub(&self) -> &Hub {
        &self.live.hub
    }

    fn user_key(&self) -> Option<String> {
        self.participant.as_ref().map(User::chat_user_id)
    }

    async fn run(self, session: Session, stream: actix_ws::MessageStream) {
        let mut stream = stream
            .max_frame_size(self.live.settings.max_frame)
            .aggregate_continuations()
            .max_continuation_size(self.live.settings.max_frame);
        let scope = match &self.kind {
            Kind::Room { room, .. } => Scope::Room {
                account: self.account,
                room: room.id,
            },
            Kind::Stream { rooms } => match &self.participant {
                Some(user) => Scope::User {
                    account: self.account,
                    user: user.id,
                    rooms: rooms.clone(),
                },
                None => return close(session, UNAUTHORIZED, "unauthorized").await,
            },
        };
        let presence = match Box::pin(self.open_presence()).await {
            Ok(presence) => presence,
            Err(error) => {
                tracing::warn!(%error, "a presence session could not be opened");
                None
            }
        };
        let connection = match Box::pin(self.hub().subscribe(scope, self.user_key())).await {
            Ok(connection) => connection,
            Err(error) => {
                tracing::warn!(%error, "a socket could not subscribe");
                let mut running = Running {
                    open: self,
                    session,
                    connection: Connection {
                        id: Uuid::nil(),
                        deliveries: tokio::sync::mpsc::channel(1).1,
                        start: HashMap::new(),
                        state: Default::default(),
                    },
                    presence,
                };
                Box::pin(running.finish(Exit::Close(1011, "server error"))).await;
                return;
            }
        };
        let mut running = Running {
            open: self,
            session,
            connection,
            presence,
        };
        let exit = running.serve(&mut stream).await;
        Box::pin(running.finish(exit)).await;
    }

    /// Records the socket in presence; announces the person online in a room where it
    /// is their first socket.
    async fn open_presence(&self) -> Result<Option<(Uuid, PresenceTarget)>, chat_app::StoreError> {
        let Some(user) = &self.participant else {
            return Ok(None);
        };
        let id = Uuid::new_v4();
        let room = match &self.kind {
            Kind::Room { room, .. } => Some((room.id, room.uuid)),
            Kind::Stream { .. } => None,
        };
        let session = PresenceSession {
            id,
            node: self.hub().node(),
            account: self.account,
            room: room.map(|(id, _)| id),
            user_key: user.chat_user_id(),
            user: Some(user.id),
        };
        let live = self
            .hub()
            .presence()
            .open_session(session, self.hub().config().presence_ttl)
            .await?;
        let target = PresenceTarget {
            room,
            user_key: user.chat_user_id(),
            user: Some(user.id),
        };
        if live == 1 {
            self.announce(&target, true);
        }
        Ok(Some((id, target)))
    }

    fn announce(&self, target: &PresenceTarget, online: bool) {
        if let Some((room, room_uuid)) = target.room {
            self.hub().publish_live(LiveEvent::Presence(PresenceChange {
                account: self.account,
                room,
                room_uuid,
                user_key: target.user_key.clone(),
                user: target.user,
                online,
            }));
        }
    }
}

impl Running {
    async fn serve(&mut self, stream: &mut actix_ws::AggregatedMessageStream) -> Exit {
        match self.serve_loop(stream).await {
            Err(exit) => exit,
            Ok(never) => match never {},
        }
    }

    async fn serve_loop(
        &mut self,
        stream: &mut actix_ws::AggregatedMessageStream,
    ) -> Result<std::convert::Infallible, Exit> {
        Box::pin(self.greet()).await?;
        Box::pin(self.replay()).await?;
        let settings = self.open.live.settings;
        let mut heartbeat = tokio::time::interval(settings.heartbeat);
        heartbeat.tick().await;
        let mut heard = Instant::now();
        let mut limit = RateLimit::new(&settings);
        loop {
            tokio::select! {
                frame = stream.next() => {
                    heard = Instant::now();
                    match frame {
                        None => return Err(Exit::Gone),
                        Some(Ok(AggregatedMessage::Text(text))) => {
                            if !limit.allow() {
                                if limit.refused >= REFUSALS_BEFORE_CLOSE {
                                    return Err(Exit::Close(RATE_LIMITED, "rate limited"));
                                }
                                self.error("rate_limited", "Too many frames; slow down").await?;
                                continue;
                            }
                            Box::pin(self.client_frame(&text)).await?;
                        }
                        Some(Ok(AggregatedMessage::Binary(_))) => {
                            self.error("invalid_frame", "Frames are JSON text").await?;
                        }
                        Some(Ok(AggregatedMessage::Ping(bytes))) => {
                            self.send_raw(|s| s.pong(&bytes)).await?;
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => {}
                        Some(Ok(AggregatedMessage::Close(_))) => return Err(Exit::Gone),
                        Some(Err(error)) => {
                            let overflow = matches!(error, actix_ws::ProtocolError::Overflow);
                            if overflow {
                                self.error("frame_too_large", &format!("Frames may be at most {} bytes", settings.max_frame)).await?;
                                return Err(Exit::Close(1009, "frame too large"));
                            }
                            self.error("invalid_frame", &error.to_string()).await?;
                            return Err(Exit::Close(1002, "protocol error"));
                        }
                    }
                }
                delivery = self.connection.deliveries.recv() => {
                    match delivery {
                        Some(delivery) => self.deliver(&delivery).await?,
                        None if self.connection.state.was_too_slow() => {
                            return Err(Exit::Close(TOO_SLOW, "too slow: reconnect with since_seq"));
                        }
                        None if self.connection.state.was_removed() => {
                            return Err(Exit::Close(ACCESS_DENIED, "no longer a member"));
                        }
                        None => return Err(Exit::Close(ROOM_NOT_FOUND, "room deleted")),
                    }
                }
                _ = heartbeat.tick() => {
                    if heard.elapsed() > settings.idle_timeout {
                        return Err(Exit::Close(1001, "idle"));
                    }
                    self.send_raw(|s| s.ping(b"")).await?;
                }
            }
        }
    }

    async fn finish(&mut self, exit: Exit) {
        self.open.hub().unsubscribe(self.connection.id);
        if let Some((id, target)) = self.presence.take() {
            // The node's heartbeat renews every session it has, so one left open here
            // would stay "online" for good: a failed close (the pool busy with a burst of
            // closes) is retried before giving up.
            let mut wait = Duration::from_millis(250);
            for attempt in 1..=PRESENCE_CLOSE_ATTEMPTS {
                match self.open.hub().presence().close_session(id).await {
                    Ok(0) => self.open.announce(&target, false),
                    Ok(_) => {}
                    Err(error) if attempt < PRESENCE_CLOSE_ATTEMPTS => {
                        tracing::debug!(%error, attempt, "closing a presence session failed; retrying");
                        tokio::time::sleep(wait).await;
                        wait *= 2;
                        continue;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "a presence session could not be closed")
                    }
                }
                break;
            }
        }
        if let Exit::Close(code, reason) = exit {
            close(self.session.clone(), code, reason).await;
        }
    }

    /// Sends one frame; a client that does not take it in time is gone.
    async fn send_text(&mut self, text: String) -> Result<(), Exit> {
        let timeout = self.open.live.settings.send_timeout;
        match tokio::time::timeout(timeout, self.session.text(text)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Exit::Gone),
            Err(_) => Err(Exit::Close(TOO_SLOW, "too slow")),
        }
    }

    async fn send_raw<'a, F, Fut>(&'a mut self, send: F) -> Result<(), Exit>
    where
        F: FnOnce(&'a mut Session) -> Fut,
        Fut: std::future::Future<Output = Result<(), actix_ws::Closed>> + 'a,
    {
        let timeout = self.open.live.settings.send_timeout;
        match tokio::time::timeout(timeout, send(&mut self.session)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Exit::Gone),
            Err(_) => Err(Exit::Close(TOO_SLOW, "too slow")),
        }
    }

    async fn frame(&mut self, kind: &str, data: Value, room: Value) -> Result<(), Exit> {
        self.send_text(envelope(kind, data, room)).await
    }

    async fn error(&mut self, code: &str, message: &str) -> Result<(), Exit> {
        let room = self.default_room_value();
        self.frame("error", json!({ "code": code, "message": message }), room)
            .await
    }

    /// The `room_id` of frames that concern the connection rather than a room.
    fn default_room_value(&self) -> Value {
        match &self.open.kind {
            Kind::Room { room, .. } => json!(room.uuid),
            Kind::Stream { .. } => Value::Null,
        }
    }

    fn room_value(&self, room: RoomId, room_uuid: Uuid) -> Value {
        match &self.open.kind {
            Kind::Room { .. } => json!(room_uuid),
            Kind::Stream { .. } => json!(room.0),
        }
    }

    async fn greet(&mut self) -> Result<(), Exit> {
        let user_id = match &self.open.kind {
            Kind::Room { .. } => self.open.user_key().map_or(Value::Null, Value::String),
            Kind::Stream { .. } => self
                .open
                .participant
                .as_ref()
                .map_or(Value::Null, |u| json!(u.id.0)),
        };
        match &self.open.kind {
            Kind::Room { room, .. } => {
                let (room_id, room_uuid, total) = (room.id, room.uuid, room.member_count);
                let online = self.online(room_id).await;
                let data = json!({
                    "status": "connected",
                    "user_id": user_id,
                    "room_id": room_uuid,
                    "online_users": online,
                    "total_participants": total,
                });
                self.frame("connection_status", data, json!(room_uuid))
                    .await
            }
            Kind::Stream { .. } => {
                let data = json!({
                    "status": "connected",
                    "user_id": user_id,
                    "account_id": self.open.account.0,
                });
                self.frame("connection_status", data, Value::Null).await
            }
        }
    }

    async fn online(&self, room: RoomId) -> Vec<String> {
        match self
            .open
            .hub()
            .presence()
            .online_in_room(self.open.account, room)
            .await
        {
            Ok(users) => users,
            Err(error) => {
                tracing::warn!(%error, "online users could not be read");
                Vec::new()
            }
        }
    }

    /// `since_seq`: the room's messages after it, up to where the live events start.
    async fn replay(&mut self) -> Result<(), Exit> {
        let Kind::Room {
            room,
            since: Some(since),
            ..
        } = &self.open.kind
        else {
            return Ok(());
        };
        let (room_id, room_uuid) = (room.id, room.uuid);
        let since = *since;
        let Some(start) = self.connection.start.get(&room_id).copied() else {
            return Ok(());
        };
        let mut after = since;
        while after < start {
            let mut filter = MessageFilter::newest(Window {
                offset: 0,
                limit: Window::MAX_LIMIT,
            });
            filter.order = MessageOrder::OldestFirst;
            filter.include_deleted = true;
            filter.after_seq = Some(after);
            filter.before_seq = Some(Seq(start.0 + 1));
            let page = self
                .open
                .state
                .app
                .messages
                .list(
                    &self.open.actor,
                    RoomRef::Id(room_id),
                    filter,
                    MessageDetail::Summary,
                )
                .await;
            let page = match page {
                Ok(page) => page,
                Err(error) => {
                    tracing::warn!(%error, "a replay could not be read");
                    return Err(Exit::Close(1011, "replay failed"));
                }
            };
            let Some(last) = page.items.last().map(|v| v.message.seq) else {
                break;
            };
            for view in page.items {
                let data = self.message_data(view);
                self.frame("message", data, json!(room_uuid)).await?;
            }
            after = last;
        }
        // Live messages up to where the client already is are not sent again.
        if since > start {
            self.connection.start.insert(room_id, since);
        }
        Ok(())
    }

    fn links(&self) -> Links {
        self.open.links.refreshed()
    }

    fn message_data(&self, view: MessageView) -> Value {
        let links = self.links();
        match &self.open.kind {
            Kind::Room { client_id, .. } => {
                serde_json::to_value(MessageJson::new(view, *client_id, &links))
            }
            Kind::Stream { .. } => {
                serde_json::to_value(ChatMessageJson::new(view, &self.open.actor, &links))
            }
        }
        .unwrap_or(Value::Null)
    }

    fn room_data(&self, room: Room) -> Value {
        match &self.open.kind {
            Kind::Room { client_id, .. } => serde_json::to_value(RoomJson::new(room, *client_id)),
            Kind::Stream { .. } => {
                let view = RoomView {
                    room,
                    members: None,
                    unread_count: 0,
                };
                serde_json::to_value(ChatRoomJson::new(&view, &self.open.actor, &self.links()))
            }
        }
        .unwrap_or(Value::Null)
    }

    fn user_value(&self, user: &User) -> Value {
        match &self.open.kind {
            Kind::Room { .. } => json!(user.chat_user_id()),
            Kind::Stream { .. } => json!(user.id.0),
        }
    }

    fn message_id_value(&self, message: &Message) -> Value {
        match &self.open.kind {
            Kind::Room { .. } => json!(message.uuid),
            Kind::Stream { .. } => json!(message.id.0),
        }
    }

    /// Renders a delivery for this connection and sends it.
    async fn deliver(&mut self, delivery: &Delivery) -> Result<(), Exit> {
        if let LiveEvent::Domain(DomainEvent::Message(MessageEvent::Created(m))) = &delivery.event {
            if self
                .connection
                .start
                .get(&m.room_id)
                .is_some_and(|start| m.seq <= *start)
            {
                return Ok(()); // sent by the replay already
            }
            if let Some(user) = self.open.participant.as_ref() {
                self.open
                    .hub()
                    .delivered(m.account_id, m.room_id, user.id, m.seq);
            }
        }
        let text = match &self.open.kind {
            // Every room socket of the account renders an event alike: the first one
            // renders it for all (its links' base is the key; it is the same for all).
            Kind::Room { .. } => {
                let key = self.open.links.base().to_owned();
                delivery
                    .rendered
                    .get_or_render(&key, || self.render(delivery).unwrap_or_default())
            }
            Kind::Stream { .. } => Arc::from(self.render(delivery).unwrap_or_default()),
        };
        if text.is_empty() {
            return Ok(());
        }
        self.send_text(text.to_string()).await
    }

    /// The frame of a delivery for this connection, if it shows one.
    fn render(&self, delivery: &Delivery) -> Option<String> {
        let context = &delivery.context;
        let view = |message: &Message| MessageView {
            message: message.clone(),
            room_name: context.room_name.clone().unwrap_or_default(),
            sender: context.sender.clone(),
            in_reply_to: context.replied.clone(),
            status: None,
        };
        let (kind, data, room) = match &delivery.event {
            LiveEvent::Domain(DomainEvent::Message(event)) => match event {
                MessageEvent::Created(m)
                | MessageEvent::Updated(m)
                | MessageEvent::Deleted(m)
                | MessageEvent::Restored(m) => {
                    let kind = match event {
                        MessageEvent::Created(_) => "message",
                        MessageEvent::Updated(_) => "message_updated",
                        MessageEvent::Deleted(_) => "message_deleted",
                        _ => "message_restored",
                    };
                    let room = self.room_value(m.room_id, m.room_uuid);
                    let data = self.message_data(view(m));
                    (kind, data, room)
                }
                MessageEvent::Read { room, user, seq } => {
                    let user_id = match &context.reader {
                        Some(reader) => self.user_value(reader),
                        None => json!(user.0),
                    };
                    let message_id = context
                        .read_message
                        .as_ref()
                        .map_or(Value::Null, |m| self.message_id_value(m));
                    let data = json!({
                        "user_id": user_id,
                        "last_read_message_id": message_id,
                        "last_read_seq": seq.0,
                    });
                    ("read", data, self.room_value(room.id, room.uuid))
                }
            },
            LiveEvent::Domain(DomainEvent::Member(event)) => {
                let (kind, room, user) = match event {
                    MemberEvent::Joined { room, user } => ("user_joined", room, user),
                    MemberEvent::Left { room, user } => ("user_left", room, user),
                };
                let data = json!({
                    "user_id": self.user_value(user),
                    "user_name": user.name.as_str(),
                });
                (kind, data, self.room_value(room.id, room.uuid))
            }
            LiveEvent::Domain(DomainEvent::Room(event)) => match event {
                RoomEvent::Created(_) => return None,
                RoomEvent::Updated(room)
                | RoomEvent::Activated(room)
                | RoomEvent::Deactivated(room) => {
                    let kind = match event {
                        RoomEvent::Updated(_) => "room_updated",
                        RoomEvent::Activated(_) => "room_activated",
                        _ => "room_deactivated",
                    };
                    let value = self.room_value(room.id, room.uuid);
                    (kind, self.room_data(room.clone()), value)
                }
                RoomEvent::Deleted { id, uuid, .. } => {
                    let value = self.room_value(*id, *uuid);
                    ("room_deleted", json!({ "room_id": value }), value)
                }
            },
            LiveEvent::Typing(typing) => {
                let user_id = match (&self.open.kind, typing.user) {
                    (Kind::Stream { .. }, Some(user)) => json!(user.0),
                    _ => json!(typing.user_key),
                };
                let data = json!({
                    "user_id": user_id,
                    "user_name": typing.user_name,
                    "is_typing": typing.is_typing,
                });
                (
                    "typing",
                    data,
                    self.room_value(typing.room, typing.room_uuid),
                )
            }
            LiveEvent::Presence(change) => {
                let user_id = match (&self.open.kind, change.user) {
                    (Kind::Stream { .. }, Some(user)) => json!(user.0),
                    _ => json!(change.user_key),
                };
                let status = if change.online { "online" } else { "offline" };
                let data = json!({ "user_id": user_id, "status": status });
                (
                    "presence",
                    data,
                    self.room_value(change.room, change.room_uuid),
                )
            }
        };
        Some(envelope(kind, data, room))
    }

    /// The room a client frame is about: the socket's room, or on a user's stream the
    /// `room_id` the frame names (one of the user's rooms).
    async fn frame_room(&self, frame: &ClientFrame) -> Result<Room, (&'static str, String)> {
        if let Kind::Room { room, .. } = &self.open.kind {
            return Ok(room.clone());
        }
        let named = frame
            .room_id
            .clone()
            .or_else(|| frame.data.as_ref().and_then(|d| d.get("room_id").cloned()));
        let id = named
            .and_then(|v| {
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .ok_or((
                "invalid_data",
                "room_id is required on this socket".to_owned(),
            ))?;
        let view = self
            .open
            .state
            .app
            .rooms
            .get(
                &self.open.actor,
                RoomRef::Id(RoomId(id)),
                chat_app::Detail::Summary,
            )
            .await
            .map_err(|e| app_error(&e))?;
        Ok(view.room)
    }

    async fn client_frame(&mut self, text: &str) -> Result<(), Exit> {
        let frame: ClientFrame = match serde_json::from_str(text) {
            Ok(frame) => frame,
            Err(error) => {
                let message = format!("Frames are JSON objects with a type: {error}");
                return self.error("invalid_json", &message).await;
            }
        };
        let handled = match frame.kind.as_str() {
            "ping" => Ok(Some(("pong", json!({}), self.default_room_value()))),
            "get_online_users" => self.online_users(&frame).await,
            "typing" => self.typing(&frame).await.map(|()| None),
            "read" => self.read(&frame).await.map(|()| None),
            "message" => self.message(&frame).await,
            other => Err((
                "unknown_type",
                format!(
                    "Unknown frame type {other:?}: use typing, get_online_users, ping, read or message"
                ),
            )),
        };
        match handled {
            Ok(Some((kind, data, room))) => self.frame(kind, data, room).await,
            Ok(None) => Ok(()),
            Err((code, message)) => self.error(code, &message).await,
        }
    }

    async fn online_users(&mut self, frame: &ClientFrame) -> Result<Reply, (&'static str, String)> {
        let room = self.frame_room(frame).await?;
        let online = self.online(room.id).await;
        let data = json!({ "online_users": online, "total_online": online.len() });
        Ok(Some((
            "online_users",
            data,
            self.room_value(room.id, room.uuid),
        )))
    }

    fn participant(&self) -> Result<User, (&'static str, String)> {
        self.open.participant.clone().ok_or((
            "forbidden",
            "This socket only listens: connect with user_id to act as a participant".to_owned(),
        ))
    }

    async fn typing(&mut self, frame: &ClientFrame) -> Result<(), (&'static str, String)> {
        let user = self.participant()?;
        let room = self.frame_room(frame).await?;
        let is_typing = match frame.data.as_ref().and_then(|d| d.get("is_typing")) {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(("invalid_data", "is_typing must be true or false".to_owned())),
        };
        self.open.hub().publish_live(LiveEvent::Typing(Typing {
            account: self.open.account,
            room: room.id,
            room_uuid: room.uuid,
            user_key: user.chat_user_id(),
            user: Some(user.id),
            user_name: user.name.as_str().to_owned(),
            is_typing,
        }));
        Ok(())
    }

    /// The message a client frame names: a UUID on a room socket, an id on a stream.
    async fn named_message(
        &self,
        value: Option<&Value>,
    ) -> Result<Message, (&'static str, String)> {
        let reference = match value {
            Some(Value::String(s)) => match Uuid::parse_str(s.trim()) {
                Ok(uuid) => MessageRef::Uuid(uuid),
                Err(_) => s
                    .trim()
                    .parse::<i64>()
                    .map(|id| MessageRef::Id(MessageId(id)))
                    .map_err(|_| ("invalid_data", "message_id names no message".to_owned()))?,
            },
            Some(Value::Number(n)) => MessageRef::Id(MessageId(
                n.as_i64()
                    .ok_or(("invalid_data", "message_id names no message".to_owned()))?,
            )),
            _ => return Err(("invalid_data", "message_id is required".to_owned())),
        };
        let view = self
            .open
            .state
            .app
            .messages
            .get(&self.open.actor, reference, MessageDetail::Summary)
            .await
            .map_err(|e| app_error(&e))?;
        Ok(view.message)
    }

    async fn read(&mut self, frame: &ClientFrame) -> Result<(), (&'static str, String)> {
        self.participant()?;
        let data = frame.data.as_ref();
        let message = self
            .named_message(data.and_then(|d| d.get("message_id")))
            .await?;
        if let Kind::Room { room, .. } = &self.open.kind
            && message.room_id != room.id
        {
            return Err((
                "not_found",
                "message_id names no message of this room".to_owned(),
            ));
        }
        self.open
            .state
            .app
            .messages
            .mark_read(
                &self.open.actor,
                RoomRef::Id(message.room_id),
                Some(message.seq),
            )
            .await
            .map_err(|e| app_error(&e))?;
        Ok(())
    }

    async fn message(&mut self, frame: &ClientFrame) -> Result<Reply, (&'static str, String)> {
        let room = self.frame_room(frame).await?;
        let data = match &frame.data {
            Some(Value::Object(data)) => data.clone(),
            _ => return Err(("invalid_data", "data must be an object".to_owned())),
        };
        let text = |name: &str| -> Result<Option<String>, (&'static str, String)> {
            match data.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(("invalid_data", format!("{name} must be a string"))),
            }
        };
        let content = text("content")?;
        let message_type = text("message_type")?;
        let echo_id = text("echo_id")?;
        let sender_id = text("sender_id")?;
        let meta: Option<Map<String, Value>> = match data.get("meta") {
            None | Some(Value::Null) => None,
            Some(Value::Object(meta)) => Some(meta.clone()),
            Some(_) => return Err(("invalid_data", "meta must be an object".to_owned())),
        };
        let reply_to = match data.get("reply_to") {
            None | Some(Value::Null) => None,
            value => Some(MessageRef::Id(self.named_message(value).await?.id)),
        };
        let out = Outgoing::parse(RawOutgoing {
            sender_id: sender_id.as_deref(),
            sender_name: None,
            content: content.as_deref(),
            message_type: message_type.as_deref(),
            meta,
            reply_to,
            echo_id: echo_id.as_deref(),
            has_files: false,
        })
        .map_err(|e| app_error(&e))?;
        let detail = match &self.open.kind {
            Kind::Room { .. } => MessageDetail::Summary,
            Kind::Stream { .. } => MessageDetail::Rich,
        };
        let (view, _) = self
            .open
            .state
            .app
            .messages
            .send(
                &self.open.actor,
                RoomRef::Id(room.id),
                out,
                Vec::new(),
                detail,
            )
            .await
            .map_err(|e| app_error(&e))?;
        let echo = view
            .message
            .echo_id
            .as_ref()
            .map_or(Value::Null, |e| json!(e.as_str()));
        let value = self.room_value(room.id, room.uuid);
        let message = self.message_data(view);
        Ok(Some((
            "ack",
            json!({ "echo_id": echo, "message": message }),
            value,
        )))
    }
}

/// A server frame: `{type, data, timestamp, room_id}`.
fn envelope(kind: &str, data: Value, room: Value) -> String {
    let timestamp = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    json!({ "type": kind, "data": data, "timestamp": timestamp, "room_id": room }).to_string()
}

/// A frame to answer a client frame with: type, data, room_id.
type Reply = Option<(&'static str, Value, Value)>;

/// A use-case error as an `error` frame's code and message.
fn app_error(error: &AppError) -> (&'static str, String) {
    match error {
        AppError::Invalid(errors) => ("invalid_data", errors.to_string()),
        AppError::ContentTooLong(too_long) => (
            "invalid_data",
            format!(
                "content is too long (maximum is {} characters)",
                too_long.max_length
            ),
        ),
        AppError::Forbidden(Denied::NotMember) => {
            ("forbidden", "Not a member of this room".to_owned())
        }
        AppError::Forbidden(_) => ("forbidden", "Not allowed".to_owned()),
        AppError::NotFound(resource) => ("not_found", format!("No such {resource}")),
        AppError::Conflict(Conflict::RoomInactive) => {
            ("conflict", "The room is inactive".to_owned())
        }
        AppError::Conflict(_) => ("conflict", "Conflict".to_owned()),
        AppError::Unauthenticated | AppError::WrongAccount => {
            ("unauthorized", "Unauthorized".to_owned())
        }
        AppError::Unavailable(_) => ("unavailable", "Service temporarily unavailable".to_owned()),
        AppError::Unexpected(_) => ("server_error", "Internal server error".to_owned()),
    }
}

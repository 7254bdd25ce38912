//! Messages: send (idempotently), list, read one, edit, delete and restore; read and
//! delivery positions; unread counts.
//!
//! | actor | sends | reads | edits / deletes / restores |
//! |---|---|---|---|
//! | API key | as a participant (`sender_id`), or `system` | every room | any message |
//! | administrator | as itself, in rooms it belongs to | every room | any message |
//! | agent | as itself, in rooms it belongs to | its rooms | its own messages |

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use chat_domain::{
    AccountId, Content, DeliveryStatus, EchoId, ExternalId, FieldError, FieldErrors, Message,
    MessageId, MessageKind, MessageMeta, MessageRef, PersonName, Position, Problem, Role, Room,
    RoomId, RoomRef, Sender, Seq, StorageKey, StoredUpload, User, UserId,
};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::actor::Actor;
use crate::error::{AppError, Conflict, Denied, Resource};
use crate::events::{DomainEvent, EventPublisher, MessageEvent};
use crate::files::discard;
use crate::ports::{FileStore, MessageStore, RoomStore, StoreError, UserDirectory};
use crate::rooms::{Page, Window, room_error, visible_room};

/// What the store is asked to keep: a message whose sender is settled.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub sender: Sender,
    pub sender_name: Option<String>,
    pub content: Content,
    pub kind: MessageKind,
    pub meta: MessageMeta,
    pub reply_to: Option<MessageId>,
    pub echo_id: Option<EchoId>,
    /// Files received for it, stored already; the store attaches them in the same
    /// transaction as the message.
    pub attachments: Vec<StoredUpload>,
}

/// A valid request to send a message. Who speaks is settled by the use case: a user
/// token speaks as its user; the API key speaks as the participant `sender_id`, or as
/// the system for `system` messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub sender_id: Option<ExternalId>,
    pub sender_name: Option<PersonName>,
    pub content: Content,
    pub kind: MessageKind,
    pub meta: MessageMeta,
    pub reply_to: Option<MessageRef>,
    pub echo_id: Option<EchoId>,
}

/// The raw fields of a message to send, as a dialect received them.
#[derive(Debug, Clone, Default)]
pub struct RawOutgoing<'a> {
    pub sender_id: Option<&'a str>,
    pub sender_name: Option<&'a str>,
    pub content: Option<&'a str>,
    pub message_type: Option<&'a str>,
    pub meta: Option<Map<String, Value>>,
    pub reply_to: Option<MessageRef>,
    pub echo_id: Option<&'a str>,
    /// Files come with the message: its text may then be empty.
    pub has_files: bool,
}

impl Outgoing {
    /// Checks raw input: every bad field at once, or `ContentTooLong` (with the lengths)
    /// when the content is the only problem.
    pub fn parse(raw: RawOutgoing<'_>) -> Result<Self, AppError> {
        let mut errors = FieldErrors::new();
        // `system` is the sender of system messages, not a user.
        let sender_id = raw
            .sender_id
            .filter(|s| *s != ExternalId::SYSTEM)
            .and_then(|s| errors.collect(ExternalId::parse_field("sender_id", s)));
        let sender_name = raw.sender_name.and_then(|s| {
            errors.collect(
                PersonName::parse(s).map_err(|e| FieldError::new("sender_name", e.problem)),
            )
        });
        let kind = match raw.message_type {
            None => Some(MessageKind::Text),
            Some(raw) => errors.collect(MessageKind::parse(raw)),
        };
        let meta = match raw.meta {
            None => Some(MessageMeta::default()),
            Some(object) => errors.collect(MessageMeta::parse(object)),
        };
        let echo_id = raw.echo_id.and_then(|s| errors.collect(EchoId::parse(s)));
        let content = Content::parse_allowing_empty(raw.content.unwrap_or_default(), raw.has_files);
        let content = match content {
            Ok(content) => Some(content),
            Err(chat_domain::ContentError::Invalid(field)) => {
                errors.push(field);
                None
            }
            Err(chat_domain::ContentError::TooLong(too_long)) if errors.is_empty() => {
                return Err(AppError::ContentTooLong(too_long));
            }
            Err(chat_domain::ContentError::TooLong(too_long)) => {
                errors.push(FieldError::new(
                    "content",
                    Problem::TooLong {
                        max: too_long.max_length,
                    },
                ));
                None
            }
        };
        match (content, kind, meta) {
            (Some(content), Some(kind), Some(meta)) if errors.is_empty() => Ok(Self {
                sender_id,
                sender_name,
                content,
                kind,
                meta,
                reply_to: raw.reply_to,
                echo_id,
            }),
            _ => Err(errors.into()),
        }
    }
}

/// The orders a message list comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageOrder {
    NewestFirst,
    OldestFirst,
}

/// What the store is asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageFilter {
    /// The ChatAPI `sender_id` (`system` for system messages).
    pub sender: Option<String>,
    pub kind: Option<MessageKind>,
    pub created_after: Option<OffsetDateTime>,
    pub created_before: Option<OffsetDateTime>,
    /// Case-insensitive text in the content.
    pub search: Option<String>,
    pub include_deleted: bool,
    /// Only messages with a larger `seq` (keyset cursor).
    pub after_seq: Option<Seq>,
    /// Only messages with a smaller `seq` (keyset cursor).
    pub before_seq: Option<Seq>,
    pub order: MessageOrder,
    pub window: Window,
}

impl MessageFilter {
    /// The newest messages first, nothing filtered: the account dialect's list.
    pub fn newest(window: Window) -> Self {
        Self {
            sender: None,
            kind: None,
            created_after: None,
            created_before: None,
            search: None,
            include_deleted: false,
            after_seq: None,
            before_seq: None,
            order: MessageOrder::NewestFirst,
            window,
        }
    }
}

/// How much of a message to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageDetail {
    /// The message itself (the ChatAPI dialect).
    Summary,
    /// Also its sender, the message it replies to and its delivery status (the account dialect).
    Rich,
}

/// The message a reply answers, with its sender.
#[derive(Debug, Clone, PartialEq)]
pub struct Replied {
    pub message: Message,
    pub sender: Option<User>,
}

/// A message as one caller sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageView {
    pub message: Message,
    pub room_name: String,
    /// With [`MessageDetail::Rich`]: the sending user (none for system messages).
    pub sender: Option<User>,
    /// The message replied to (its sender only with [`MessageDetail::Rich`]).
    pub in_reply_to: Option<Replied>,
    /// With [`MessageDetail::Rich`]: its delivery status.
    pub status: Option<DeliveryStatus>,
}

/// The message use cases.
#[derive(Clone)]
pub struct Messages {
    rooms: Arc<dyn RoomStore>,
    messages: Arc<dyn MessageStore>,
    users: Arc<dyn UserDirectory>,
    files: Arc<dyn FileStore>,
    events: Arc<dyn EventPublisher>,
}

impl fmt::Debug for Messages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Messages").finish_non_exhaustive()
    }
}

fn message_error(error: StoreError) -> AppError {
    error.into_app(Resource::Message)
}

fn user_error(error: StoreError) -> AppError {
    error.into_app(Resource::User)
}

/// A reply must name a message of the same room.
fn bad_reply() -> AppError {
    FieldError::new(
        "reply_to",
        Problem::Invalid("must name a message of this room".to_owned()),
    )
    .into()
}

impl Messages {
    pub fn new(
        rooms: Arc<dyn RoomStore>,
        messages: Arc<dyn MessageStore>,
        users: Arc<dyn UserDirectory>,
        files: Arc<dyn FileStore>,
        events: Arc<dyn EventPublisher>,
    ) -> Self {
        Self {
            rooms,
            messages,
            users,
            files,
            events,
        }
    }

    /// Sends a message with the files received for it (stored already, see
    /// [`crate::Files::receive`]). A retry with the same `echo_id` from the same sender
    /// in the same room answers the first message and stores nothing (`false`). Files
    /// that end up attached to nothing — the send was refused, or was a retry — are
    /// removed.
    pub async fn send(
        &self,
        actor: &Actor,
        room: RoomRef,
        out: Outgoing,
        attachments: Vec<StoredUpload>,
        detail: MessageDetail,
    ) -> Result<(MessageView, bool), AppError> {
        let keys: Vec<StorageKey> = attachments.iter().map(|file| file.key.clone()).collect();
        // Until the message is stored the files belong to nothing; once it is, they
        // belong to it, whatever happens next.
        let (room, message, created) = match self.store(actor, room, out, attachments).await {
            Ok(stored) => stored,
            Err(error) => {
                discard(self.files.as_ref(), keys).await;
                return Err(error);
            }
        };
        if created {
            self.events
                .publish(DomainEvent::Message(MessageEvent::Created(message.clone())));
        } else {
            discard(self.files.as_ref(), keys).await;
        }
        let view = self.one_view(&room, message, detail).await?;
        Ok((view, created))
    }

    /// Checks the send and stores the message: the room, the message, and whether it
    /// is new (`false` for a retried `echo_id`).
    async fn store(
        &self,
        actor: &Actor,
        room: RoomRef,
        out: Outgoing,
        attachments: Vec<StoredUpload>,
    ) -> Result<(Room, Message, bool), AppError> {
        let account = actor.account_id()?;
        let room = self
            .rooms
            .find_room(account, room)
            .await
            .map_err(room_error)?;
        let (sender, sender_name) = self.speaker(actor, account, &room, &out).await?;
        if !room.is_active {
            return Err(AppError::Conflict(Conflict::RoomInactive));
        }
        let reply_to = match out.reply_to {
            None => None,
            Some(reference) => {
                let replied = match self.messages.find_message(account, reference).await {
                    Ok(message) => message,
                    Err(StoreError::NotFound) => return Err(bad_reply()),
                    Err(other) => return Err(message_error(other)),
                };
                if replied.room_id != room.id {
                    return Err(bad_reply());
                }
                Some(replied.id)
            }
        };
        let new = NewMessage {
            sender,
            sender_name,
            content: out.content,
            kind: out.kind,
            meta: out.meta,
            reply_to,
            echo_id: out.echo_id,
            attachments,
        };
        let (message, created) = self
            .messages
            .append(account, room.id, new)
            .await
            .map_err(room_error)?;
        Ok((room, message, created))
    }

    /// Who speaks, and under which name.
    async fn speaker(
        &self,
        actor: &Actor,
        account: AccountId,
        room: &Room,
        out: &Outgoing,
    ) -> Result<(Sender, Option<String>), AppError> {
        let given_name = out.sender_name.as_ref().map(|n| n.as_str().to_owned());
        let user = match actor {
            Actor::Platform => return Err(AppError::Unauthenticated),
            Actor::User { user_id, .. } => {
                if out.kind == MessageKind::System {
                    return Err(FieldError::new(
                        "message_type",
                        Problem::Invalid("only the API key sends system messages".to_owned()),
                    )
                    .into());
                }
                self.users
                    .find_users(account, vec![*user_id])
                    .await
                    .map_err(user_error)?
                    .into_iter()
                    .next()
                    .ok_or(AppError::Unauthenticated)?
            }
            Actor::ApiKey(_) if out.kind == MessageKind::System => {
                return Ok((Sender::System, given_name));
            }
            Actor::ApiKey(_) => {
                let sender_id = out
                    .sender_id
                    .as_ref()
                    .ok_or_else(|| FieldError::new("sender_id", Problem::Blank))?;
                self.users
                    .find_by_chat_id(account, sender_id.as_str().to_owned())
                    .await
                    .map_err(user_error)?
                    .ok_or(AppError::Forbidden(Denied::NotMember))?
            }
        };
        let member = self
            .rooms
            .is_member(account, room.id, user.id)
            .await
            .map_err(room_error)?;
        if !member {
            return Err(AppError::Forbidden(Denied::NotMember));
        }
        let name = match actor {
            // A user token speaks under the user's own name, whatever the body says.
            Actor::User { .. } => user.name.as_str().to_owned(),
            Actor::ApiKey(_) | Actor::Platform => {
                given_name.unwrap_or_else(|| user.name.as_str().to_owned())
            }
        };
        let sender = Sender::User {
            id: user.id,
            label: user.chat_user_id(),
        };
        Ok((sender, Some(name)))
    }

    /// One page of a room's messages. A member who lists messages has received them: their
    /// delivered position moves to the newest one listed.
    pub async fn list(
        &self,
        actor: &Actor,
        room: RoomRef,
        filter: MessageFilter,
        detail: MessageDetail,
    ) -> Result<Page<MessageView>, AppError> {
        let account = actor.account_id()?;
        let (room, messages, total) = match actor.limited_to() {
            // Agents read their rooms only: the membership is checked first.
            Some(_) => {
                let room = visible_room(self.rooms.as_ref(), actor, account, room).await?;
                let (messages, total) = self
                    .messages
                    .list_messages(account, room.id, filter)
                    .await
                    .map_err(room_error)?;
                (room, messages, total)
            }
            // Everyone else may read every room of the account: room and page at once.
            None => self
                .messages
                .room_page(account, room, filter)
                .await
                .map_err(room_error)?,
        };
        if let (Some(viewer), Some(newest)) =
            (actor.user_id(), messages.iter().map(|m| m.seq).max())
        {
            self.messages
                .mark_delivered(account, room.id, viewer, newest)
                .await
                .map_err(room_error)?;
        }
        let items = self.views(account, &room, messages, detail).await?;
        Ok(Page { items, total })
    }

    /// One message, if the caller may see its room.
    pub async fn get(
        &self,
        actor: &Actor,
        message: MessageRef,
        detail: MessageDetail,
    ) -> Result<MessageView, AppError> {
        let (room, message) = self.visible_message(actor, message).await?;
        self.one_view(&room, message, detail).await
    }

    /// Changes a message's content and/or meta; only its sender, an administrator or the
    /// API key may.
    pub async fn edit(
        &self,
        actor: &Actor,
        message: MessageRef,
        content: Option<Content>,
        meta: Option<MessageMeta>,
    ) -> Result<MessageView, AppError> {
        let (room, message) = self.visible_message(actor, message).await?;
        require_author(actor, &message)?;
        if message.is_deleted() {
            return Err(AppError::NotFound(Resource::Message));
        }
        let edited = if content.is_none() && meta.is_none() {
            message
        } else {
            let edited = self
                .messages
                .edit_message(room.account_id, message.id, content, meta)
                .await
                .map_err(message_error)?;
            self.events
                .publish(DomainEvent::Message(MessageEvent::Updated(edited.clone())));
            edited
        };
        self.one_view(&room, edited, MessageDetail::Summary).await
    }

    /// Soft-deletes (`deleted`) or restores a message; only its sender, an administrator
    /// or the API key may. Deleting a deleted message (or restoring a live one) changes
    /// nothing and publishes nothing. A delete removes the message's files for good
    /// (after the database commits); a restore brings back its text only.
    pub async fn set_deleted(
        &self,
        actor: &Actor,
        message: MessageRef,
        deleted: bool,
    ) -> Result<Message, AppError> {
        let (room, message) = self.visible_message(actor, message).await?;
        require_author(actor, &message)?;
        if message.is_deleted() == deleted {
            return Ok(message);
        }
        let (changed, removed) = self
            .messages
            .set_message_deleted(room.account_id, message.id, deleted)
            .await
            .map_err(message_error)?;
        discard(self.files.as_ref(), removed).await;
        let event = if deleted {
            MessageEvent::Deleted(changed.clone())
        } else {
            MessageEvent::Restored(changed.clone())
        };
        self.events.publish(DomainEvent::Message(event));
        Ok(changed)
    }

    /// Marks the room read up to its newest message (or `upto`) for the calling user.
    /// The API key is nobody and has nothing to mark.
    pub async fn mark_read(
        &self,
        actor: &Actor,
        room: RoomRef,
        upto: Option<Seq>,
    ) -> Result<Option<Seq>, AppError> {
        let account = actor.account_id()?;
        let room = self
            .rooms
            .find_room(account, room)
            .await
            .map_err(room_error)?;
        let Some(user) = actor.user_id() else {
            return Ok(None);
        };
        let member = self
            .rooms
            .is_member(account, room.id, user)
            .await
            .map_err(room_error)?;
        if !member {
            return Err(AppError::Forbidden(Denied::NotMember));
        }
        let seq = self
            .messages
            .mark_read(account, room.id, user, upto)
            .await
            .map_err(room_error)?;
        self.events
            .publish(DomainEvent::Message(MessageEvent::Read { room, user, seq }));
        Ok(Some(seq))
    }

    async fn visible_message(
        &self,
        actor: &Actor,
        message: MessageRef,
    ) -> Result<(Room, Message), AppError> {
        let account = actor.account_id()?;
        let message = self
            .messages
            .find_message(account, message)
            .await
            .map_err(message_error)?;
        let room = visible_room(
            self.rooms.as_ref(),
            actor,
            account,
            RoomRef::Id(message.room_id),
        )
        .await?;
        Ok((room, message))
    }

    async fn one_view(
        &self,
        room: &Room,
        message: Message,
        detail: MessageDetail,
    ) -> Result<MessageView, AppError> {
        self.views(room.account_id, room, vec![message], detail)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("a message view went missing")))
    }

    /// Views of messages of one room: with `Rich`, their senders, the messages they reply
    /// to and their statuses, with one query each for the whole page.
    async fn views(
        &self,
        account: AccountId,
        room: &Room,
        messages: Vec<Message>,
        detail: MessageDetail,
    ) -> Result<Vec<MessageView>, AppError> {
        let room_name = room.name.as_str().to_owned();
        let reply_ids: Vec<MessageId> = messages.iter().filter_map(|m| m.reply_to).collect();
        let replied: HashMap<MessageId, Message> = if reply_ids.is_empty() {
            HashMap::new()
        } else {
            self.messages
                .find_messages(account, reply_ids)
                .await
                .map_err(message_error)?
                .into_iter()
                .map(|m| (m.id, m))
                .collect()
        };
        if detail == MessageDetail::Summary {
            return Ok(messages
                .into_iter()
                .map(|message| MessageView {
                    in_reply_to: message.reply_to.and_then(|id| replied.get(&id)).map(|m| {
                        Replied {
                            message: m.clone(),
                            sender: None,
                        }
                    }),
                    message,
                    room_name: room_name.clone(),
                    sender: None,
                    status: None,
                })
                .collect());
        }
        let mut sender_ids: Vec<UserId> = messages
            .iter()
            .chain(replied.values())
            .filter_map(|m| m.sender.user_id())
            .collect();
        sender_ids.sort();
        sender_ids.dedup();
        let users: HashMap<UserId, User> = self
            .users
            .find_users(account, sender_ids)
            .await
            .map_err(user_error)?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let positions: Vec<Position> = self
            .messages
            .positions(account, room.id)
            .await
            .map_err(room_error)?;
        let user_of = |m: &Message| m.sender.user_id().and_then(|id| users.get(&id).cloned());
        Ok(messages
            .into_iter()
            .map(|message| {
                let status = DeliveryStatus::of(message.seq, message.sender.user_id(), &positions);
                let in_reply_to =
                    message
                        .reply_to
                        .and_then(|id| replied.get(&id))
                        .map(|m| Replied {
                            sender: user_of(m),
                            message: m.clone(),
                        });
                MessageView {
                    sender: user_of(&message),
                    message,
                    room_name: room_name.clone(),
                    in_reply_to,
                    status: Some(status),
                }
            })
            .collect())
    }
}

/// Editing, deleting and restoring: the sender, an administrator or the API key.
fn require_author(actor: &Actor, message: &Message) -> Result<(), AppError> {
    match actor {
        Actor::Platform => Err(AppError::Unauthenticated),
        Actor::ApiKey(_)
        | Actor::User {
            role: Role::Administrator,
            ..
        } => Ok(()),
        Actor::User { user_id, .. } if message.sender.user_id() == Some(*user_id) => Ok(()),
        Actor::User { .. } => Err(AppError::Forbidden(Denied::NotAuthor)),
    }
}

/// The unread count of each room for a viewer: other people's messages after their read
/// position. Nobody (the API key) has nothing unread.
pub(crate) async fn unread_counts(
    messages: &dyn MessageStore,
    actor: &Actor,
    account: AccountId,
    rooms: Vec<RoomId>,
) -> Result<HashMap<RoomId, i64>, AppError> {
    let Some(user) = actor.user_id() else {
        return Ok(HashMap::new());
    };
    if rooms.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(messages
        .unread_counts(account, user, rooms)
        .await
        .map_err(room_error)?
        .into_iter()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::AccountAccess;
    use crate::events::MockEventPublisher;
    use crate::ports::{MockFileStore, MockMessageStore, MockRoomStore, MockUserDirectory};
    use chat_domain::{Availability, Features, RoomMeta, RoomName};
    use time::macros::datetime;
    use uuid::Uuid;

    const ACCOUNT: AccountId = AccountId(1);
    const ROOM: RoomRef = RoomRef::Id(RoomId(5));

    fn access() -> AccountAccess {
        AccountAccess {
            id: ACCOUNT,
            uuid: Uuid::from_u128(1),
            features: Features::default(),
        }
    }

    fn user_actor(id: i64, role: Role) -> Actor {
        Actor::User {
            account: access(),
            user_id: UserId(id),
            role,
        }
    }

    fn room(active: bool) -> Room {
        Room {
            id: RoomId(5),
            uuid: Uuid::from_u128(5),
            account_id: ACCOUNT,
            name: RoomName::parse("General").unwrap_or_else(|e| panic!("{e}")),
            description: None,
            meta: RoomMeta::default(),
            is_active: active,
            avatar: None,
            member_count: 2,
            message_count: 0,
            last_message_at: datetime!(2024-01-01 0:00 UTC),
            created_at: datetime!(2024-01-01 0:00 UTC),
            updated_at: datetime!(2024-01-01 0:00 UTC),
        }
    }

    fn user(id: i64, external: Option<&str>) -> User {
        User {
            id: UserId(id),
            account_id: ACCOUNT,
            external_id: external.and_then(|e| ExternalId::parse(e).ok()),
            name: PersonName::parse(&format!("User {id}")).unwrap_or_else(|e| panic!("{e}")),
            email: None,
            role: Role::Agent,
            availability: Availability::Offline,
            confirmed: true,
            created_at: datetime!(2024-01-01 0:00 UTC),
            updated_at: datetime!(2024-01-01 0:00 UTC),
        }
    }

    fn stored(new: &NewMessage, id: i64, room: RoomId) -> Message {
        Message {
            id: MessageId(id),
            uuid: Uuid::from_u128(id as u128),
            account_id: ACCOUNT,
            room_id: room,
            room_uuid: Uuid::from_u128(room.0 as u128),
            seq: Seq(id),
            sender: new.sender.clone(),
            sender_name: new.sender_name.clone(),
            content: new.content.clone(),
            kind: new.kind,
            meta: new.meta.clone(),
            reply_to: new.reply_to,
            echo_id: new.echo_id.clone(),
            created_at: datetime!(2024-01-01 0:00 UTC),
            updated_at: datetime!(2024-01-01 0:00 UTC),
            edited_at: None,
            deleted_at: None,
            attachments: Vec::new(),
        }
    }

    fn message_from(sender: Sender, id: i64, room: RoomId) -> Message {
        let new = NewMessage {
            sender,
            sender_name: None,
            content: Content::parse("hi").unwrap_or_else(|e| panic!("{e:?}")),
            kind: MessageKind::Text,
            meta: MessageMeta::default(),
            reply_to: None,
            echo_id: None,
            attachments: Vec::new(),
        };
        stored(&new, id, room)
    }

    fn outgoing(raw: RawOutgoing<'_>) -> Outgoing {
        Outgoing::parse(raw).unwrap_or_else(|e| panic!("{e}"))
    }

    fn text(sender_id: Option<&'static str>) -> Outgoing {
        outgoing(RawOutgoing {
            sender_id,
            content: Some("Hello"),
            ..RawOutgoing::default()
        })
    }

    struct Ports {
        rooms: MockRoomStore,
        messages: MockMessageStore,
        users: MockUserDirectory,
        files: MockFileStore,
        events: MockEventPublisher,
    }

    impl Ports {
        /// A room with members 10 and 20; user 30 is not a member.
        fn new(active: bool) -> Self {
            let mut rooms = MockRoomStore::new();
            rooms
                .expect_find_room()
                .returning(move |_, _| Ok(room(active)));
            rooms
                .expect_is_member()
                .returning(|_, _, user| Ok(user == UserId(10) || user == UserId(20)));
            let mut users = MockUserDirectory::new();
            users
                .expect_find_users()
                .returning(|_, ids| Ok(ids.into_iter().map(|id| user(id.0, None)).collect()));
            users.expect_find_by_chat_id().returning(|_, chat_id| {
                Ok(match chat_id.as_str() {
                    "ann" => Some(user(10, Some("ann"))),
                    "zed" => Some(user(30, Some("zed"))),
                    _ => None,
                })
            });
            Self {
                rooms,
                messages: MockMessageStore::new(),
                users,
                files: MockFileStore::new(),
                events: MockEventPublisher::new(),
            }
        }

        fn appending(mut self) -> Self {
            self.messages
                .expect_append()
                .returning(|_, room, new| Ok((stored(&new, 1, room), true)));
            self
        }

        fn build(self) -> Messages {
            Messages::new(
                Arc::new(self.rooms),
                Arc::new(self.messages),
                Arc::new(self.users),
                Arc::new(self.files),
                Arc::new(self.events),
            )
        }
    }

    #[tokio::test]
    async fn the_api_key_speaks_as_a_participant_named_by_sender_id() {
        let mut ports = Ports::new(true).appending();
        ports.events.expect_publish().times(1).return_const(());
        let (view, created) = ports
            .build()
            .send(
                &Actor::ApiKey(access()),
                ROOM,
                text(Some("ann")),
                Vec::new(),
                MessageDetail::Summary,
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(created);
        assert_eq!(
            view.message.sender,
            Sender::User {
                id: UserId(10),
                label: "ann".into()
            }
        );
        assert_eq!(view.message.sender_name.as_deref(), Some("User 10"));
    }

    #[tokio::test]
    async fn the_api_key_needs_a_participant_except_for_system_messages() {
        for (sender_id, expect_forbidden) in
            [(Some("zed"), true), (Some("nobody"), true), (None, false)]
        {
            let mut ports = Ports::new(true);
            ports.messages.expect_append().never();
            let result = ports
                .build()
                .send(
                    &Actor::ApiKey(access()),
                    ROOM,
                    text(sender_id),
                    Vec::new(),
                    MessageDetail::Summary,
                )
                .await;
            if expect_forbidden {
                assert!(
                    matches!(result, Err(AppError::Forbidden(Denied::NotMember))),
                    "{sender_id:?}"
                );
            } else {
                assert!(matches!(result, Err(AppError::Invalid(_))), "{result:?}");
            }
        }
        let mut ports = Ports::new(true).appending();
        ports.events.expect_publish().return_const(());
        let system = outgoing(RawOutgoing {
            content: Some("Maintenance at noon"),
            message_type: Some("system"),
            ..RawOutgoing::default()
        });
        let (view, _) = ports
            .build()
            .send(
                &Actor::ApiKey(access()),
                ROOM,
                system,
                Vec::new(),
                MessageDetail::Summary,
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(view.message.sender, Sender::System);
    }

    #[tokio::test]
    async fn a_user_speaks_as_itself_whatever_the_body_says_and_only_as_a_member() {
        let mut ports = Ports::new(true).appending();
        ports.events.expect_publish().return_const(());
        let messages = ports.build();
        let (view, _) = messages
            .send(
                &user_actor(20, Role::Agent),
                ROOM,
                text(Some("ann")),
                Vec::new(),
                MessageDetail::Summary,
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(view.message.sender.user_id(), Some(UserId(20)));
        for role in [Role::Agent, Role::Administrator] {
            let outsider = messages
                .send(
                    &user_actor(30, role),
                    ROOM,
                    text(None),
                    Vec::new(),
                    MessageDetail::Summary,
                )
                .await;
            assert!(
                matches!(outsider, Err(AppError::Forbidden(Denied::NotMember))),
                "{role:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_inactive_room_refuses_messages() {
        let mut ports = Ports::new(false);
        ports.messages.expect_append().never();
        let result = ports
            .build()
            .send(
                &user_actor(10, Role::Agent),
                ROOM,
                text(None),
                Vec::new(),
                MessageDetail::Summary,
            )
            .await;
        assert!(matches!(
            result,
            Err(AppError::Conflict(Conflict::RoomInactive))
        ));
    }

    #[tokio::test]
    async fn a_reply_must_name_a_message_of_the_same_room() {
        for (found, room_of_reply) in [(true, RoomId(6)), (false, RoomId(5))] {
            let mut ports = Ports::new(true);
            ports.messages.expect_find_message().returning(move |_, _| {
                if found {
                    Ok(message_from(Sender::System, 9, room_of_reply))
                } else {
                    Err(StoreError::NotFound)
                }
            });
            ports.messages.expect_append().never();
            let reply = outgoing(RawOutgoing {
                content: Some("Re"),
                reply_to: Some(MessageRef::Id(MessageId(9))),
                ..RawOutgoing::default()
            });
            let result = ports
                .build()
                .send(
                    &user_actor(10, Role::Agent),
                    ROOM,
                    reply,
                    Vec::new(),
                    MessageDetail::Summary,
                )
                .await;
            let fields = match &result {
                Err(AppError::Invalid(errors)) => errors.iter().map(|e| e.field).collect(),
                _ => Vec::new(),
            };
            assert_eq!(fields, ["reply_to"], "{result:?}");
        }
    }

    #[tokio::test]
    async fn a_retried_echo_id_publishes_nothing() {
        let mut ports = Ports::new(true);
        ports
            .messages
            .expect_append()
            .returning(|_, room, new| Ok((stored(&new, 1, room), false)));
        ports.events.expect_publish().never();
        let out = outgoing(RawOutgoing {
            content: Some("Hello"),
            echo_id: Some("temp-1"),
            ..RawOutgoing::default()
        });
        let (_, created) = ports
            .build()
            .send(
                &user_actor(10, Role::Agent),
                ROOM,
                out,
                Vec::new(),
                MessageDetail::Summary,
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!created);
    }

    #[tokio::test]
    async fn only_the_sender_an_administrator_or_the_api_key_edit_and_delete() {
        let by_ann = || {
            message_from(
                Sender::User {
                    id: UserId(10),
                    label: "ann".into(),
                },
                3,
                RoomId(5),
            )
        };
        for (actor, allowed) in [
            (user_actor(10, Role::Agent), true),
            (user_actor(20, Role::Agent), false),
            (user_actor(40, Role::Administrator), true),
            (Actor::ApiKey(access()), true),
        ] {
            let mut ports = Ports::new(true);
            ports
                .messages
                .expect_find_message()
                .returning(move |_, _| Ok(by_ann()));
            ports
                .messages
                .expect_set_message_deleted()
                .times(usize::from(allowed))
                .returning(move |_, _, _| Ok((by_ann(), Vec::new())));
            ports.events.expect_publish().return_const(());
            let result = ports
                .build()
                .set_deleted(&actor, MessageRef::Id(MessageId(3)), true)
                .await;
            if allowed {
                assert!(result.is_ok(), "{actor:?}: {result:?}");
            } else {
                assert!(
                    matches!(result, Err(AppError::Forbidden(Denied::NotAuthor))),
                    "{actor:?}"
                );
            }
        }
    }

    #[tokio::test]
    async fn listing_moves_the_viewers_delivered_position_to_the_newest_listed() {
        let mut ports = Ports::new(true);
        ports
            .messages
            .expect_list_messages()
            .returning(|_, room, _| {
                Ok((
                    vec![
                        message_from(Sender::System, 7, room),
                        message_from(Sender::System, 6, room),
                    ],
                    7,
                ))
            });
        ports
            .messages
            .expect_mark_delivered()
            .withf(|_, room, user, upto| {
                *room == RoomId(5) && *user == UserId(10) && *upto == Seq(7)
            })
            .times(1)
            .returning(|_, _, _, _| Ok(()));
        ports.messages.expect_positions().returning(|_, _| {
            Ok(vec![
                Position {
                    user: UserId(10),
                    delivered: Seq(7),
                    read: Seq(5),
                },
                Position {
                    user: UserId(20),
                    delivered: Seq(7),
                    read: Seq(7),
                },
            ])
        });
        let window = Window::new(0, 20, 50).unwrap_or_else(|e| panic!("{e}"));
        let page = ports
            .build()
            .list(
                &user_actor(10, Role::Agent),
                ROOM,
                MessageFilter::newest(window),
                MessageDetail::Rich,
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let statuses: Vec<_> = page.items.iter().map(|v| v.status).collect();
        // Seq 7: member 10 has not read it; seq 6 likewise: both delivered.
        assert_eq!(
            statuses,
            [
                Some(DeliveryStatus::Delivered),
                Some(DeliveryStatus::Delivered)
            ]
        );
    }

    #[tokio::test]
    async fn mark_as_read_is_for_members_and_publishes_the_position() {
        let mut ports = Ports::new(true);
        ports
            .messages
            .expect_mark_read()
            .withf(|_, _, user, upto| *user == UserId(10) && upto.is_none())
            .times(1)
            .returning(|_, _, _, _| Ok(Seq(12)));
        ports
            .events
            .expect_publish()
            .withf(|e| matches!(e, DomainEvent::Message(MessageEvent::Read { user, seq, .. }) if *user == UserId(10) && *seq == Seq(12)))
            .times(1)
            .return_const(());
        let messages = ports.build();
        let marked = messages
            .mark_read(&user_actor(10, Role::Agent), ROOM, None)
            .await;
        assert!(matches!(marked, Ok(Some(Seq(12)))));
        let outsider = messages
            .mark_read(&user_actor(30, Role::Agent), ROOM, None)
            .await;
        assert!(matches!(
            outsider,
            Err(AppError::Forbidden(Denied::NotMember))
        ));
        let nobody = messages
            .mark_read(&Actor::ApiKey(access()), ROOM, None)
            .await;
        assert!(matches!(nobody, Ok(None)));
    }

    #[test]
    fn content_too_long_is_its_own_error_unless_other_fields_are_bad_too() {
        let long = "x".repeat(10_001);
        let alone = Outgoing::parse(RawOutgoing {
            content: Some(&long),
            ..RawOutgoing::default()
        });
        assert!(matches!(alone, Err(AppError::ContentTooLong(t)) if t.current_length == 10_001));
        let with_others = Outgoing::parse(RawOutgoing {
            content: Some(&long),
            message_type: Some("outgoing"),
            ..RawOutgoing::default()
        });
        let fields = match with_others {
            Err(AppError::Invalid(errors)) => errors.iter().map(|e| e.field).collect(),
            _ => Vec::new(),
        };
        assert_eq!(fields, ["message_type", "content"]);
    }

    // --- attachments ---------------------------------------------------------------

    fn upload(n: u128) -> StoredUpload {
        let uuid = Uuid::from_u128(0xA000 + n);
        StoredUpload {
            uuid,
            key: StorageKey::for_attachment(ACCOUNT, uuid, "png").unwrap_or_else(|e| panic!("{e}")),
            kind: chat_domain::Sniffed::PNG,
            size: 100 + n as u64,
            dimensions: Some((8, 6)),
        }
    }

    fn uploads() -> Vec<StoredUpload> {
        vec![upload(1), upload(2), upload(3)]
    }

    fn keys_of(files: &[StoredUpload]) -> Vec<StorageKey> {
        files.iter().map(|file| file.key.clone()).collect()
    }

    /// The store expects each of `keys` deleted exactly once, and nothing else.
    fn expect_deleted(files: &mut MockFileStore, keys: Vec<StorageKey>) {
        for key in keys {
            files
                .expect_delete()
                .withf(move |k| *k == key)
                .times(1)
                .returning(|_| Ok(()));
        }
    }

    #[tokio::test]
    async fn a_refused_send_deletes_every_file_it_came_with_and_appends_nothing() {
        // (why, actor, active room, sender_id)
        let cases: [(&str, Actor, bool, Option<&'static str>); 4] = [
            ("inactive room", user_actor(10, Role::Agent), false, None),
            ("non-member user", user_actor(30, Role::Agent), true, None),
            (
                "non-member participant",
                Actor::ApiKey(access()),
                true,
                Some("zed"),
            ),
            ("platform token", Actor::Platform, true, None),
        ];
        for (why, actor, active, sender_id) in cases {
            let mut ports = Ports::new(active);
            ports.messages.expect_append().never();
            ports.events.expect_publish().never();
            expect_deleted(&mut ports.files, keys_of(&uploads()));
            let result = ports
                .build()
                .send(
                    &actor,
                    ROOM,
                    text(sender_id),
                    uploads(),
                    MessageDetail::Summary,
                )
                .await;
            assert!(result.is_err(), "{why}: {result:?}");
        }
    }

    #[tokio::test]
    async fn a_send_the_store_refuses_deletes_its_files() {
        let mut ports = Ports::new(true);
        ports
            .messages
            .expect_append()
            .times(1)
            .returning(|_, _, _| Err(StoreError::NotFound));
        ports.events.expect_publish().never();
        expect_deleted(&mut ports.files, keys_of(&uploads()));
        let result = ports
            .build()
            .send(
                &user_actor(10, Role::Agent),
                ROOM,
                text(None),
                uploads(),
                MessageDetail::Summary,
            )
            .await;
        assert!(
            matches!(result, Err(AppError::NotFound(Resource::Room))),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn a_file_that_cannot_be_deleted_does_not_stop_the_others_or_change_the_answer() {
        let mut ports = Ports::new(false);
        ports.messages.expect_append().never();
        let files = uploads();
        let failing = files[0].key.clone();
        ports
            .files
            .expect_delete()
            .withf(move |k| *k == failing)
            .times(1)
            .returning(|_| Err(StoreError::Unavailable(anyhow::anyhow!("disk gone"))));
        expect_deleted(&mut ports.files, keys_of(&files[1..]));
        let result = ports
            .build()
            .send(
                &user_actor(10, Role::Agent),
                ROOM,
                text(None),
                files,
                MessageDetail::Summary,
            )
            .await;
        assert!(
            matches!(result, Err(AppError::Conflict(Conflict::RoomInactive))),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn an_echo_retry_deletes_the_files_it_came_with_and_answers_the_first_message() {
        let mut ports = Ports::new(true);
        let first_file = chat_domain::Attachment {
            id: chat_domain::AttachmentId(77),
            uuid: Uuid::from_u128(0xF1),
            account_id: ACCOUNT,
            message_id: MessageId(1),
            key: StorageKey::for_attachment(ACCOUNT, Uuid::from_u128(0xF1), "png")
                .unwrap_or_else(|e| panic!("{e}")),
            kind: chat_domain::Sniffed::PNG,
            size: 1,
            dimensions: None,
        };
        let original = first_file.clone();
        ports
            .messages
            .expect_append()
            .times(1)
            .returning(move |_, room, new| {
                let mut first = stored(&new, 1, room);
                first.attachments = vec![original.clone()];
                Ok((first, false))
            });
        ports.events.expect_publish().never();
        // Only the retry's own files go; the first message's file is not touched.
        expect_deleted(&mut ports.files, keys_of(&uploads()));
        let out = outgoing(RawOutgoing {
            content: Some("Hello"),
            echo_id: Some("temp-1"),
            ..RawOutgoing::default()
        });
        let (view, created) = ports
            .build()
            .send(
                &user_actor(10, Role::Agent),
                ROOM,
                out,
                uploads(),
                MessageDetail::Summary,
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!created);
        assert_eq!(view.message.attachments, [first_file]);
    }

    #[tokio::test]
    async fn a_created_message_keeps_its_files_and_hands_them_to_the_store() {
        let mut ports = Ports::new(true);
        let expected = uploads();
        ports
            .messages
            .expect_append()
            .withf(move |account, room, new| {
                *account == ACCOUNT && *room == RoomId(5) && new.attachments == expected
            })
            .times(1)
            .returning(|_, room, new| Ok((stored(&new, 1, room), true)));
        ports.files.expect_delete().never();
        ports.events.expect_publish().times(1).return_const(());
        let (_, created) = ports
            .build()
            .send(
                &user_actor(10, Role::Agent),
                ROOM,
                text(None),
                uploads(),
                MessageDetail::Summary,
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(created);
    }

    #[test]
    fn a_message_with_only_files_may_have_empty_text() {
        let out = outgoing(RawOutgoing {
            content: Some(""),
            has_files: true,
            ..RawOutgoing::default()
        });
        assert_eq!(out.content.as_str(), "");
        let empty = Outgoing::parse(RawOutgoing {
            content: Some(""),
            ..RawOutgoing::default()
        });
        assert!(matches!(empty, Err(AppError::Invalid(_))), "{empty:?}");
    }

    #[tokio::test]
    async fn deleting_a_message_deletes_its_files_after_the_store_commits() {
        let by_ann = || {
            message_from(
                Sender::User {
                    id: UserId(10),
                    label: "ann".into(),
                },
                3,
                RoomId(5),
            )
        };
        let mut order = mockall::Sequence::new();
        let mut ports = Ports::new(true);
        ports
            .messages
            .expect_find_message()
            .returning(move |_, _| Ok(by_ann()));
        let removed = keys_of(&uploads());
        ports
            .messages
            .expect_set_message_deleted()
            .withf(|account, id, deleted| *account == ACCOUNT && *id == MessageId(3) && *deleted)
            .times(1)
            .in_sequence(&mut order)
            .returning(move |_, _, _| {
                let deleted = Message {
                    deleted_at: Some(datetime!(2024-01-02 0:00 UTC)),
                    ..by_ann()
                };
                Ok((deleted, removed.clone()))
            });
        for key in keys_of(&uploads()) {
            ports
                .files
                .expect_delete()
                .withf(move |k| *k == key)
                .times(1)
                .in_sequence(&mut order)
                .returning(|_| Ok(()));
        }
        ports.events.expect_publish().times(1).return_const(());
        let deleted = ports
            .build()
            .set_deleted(&Actor::ApiKey(access()), MessageRef::Id(MessageId(3)), true)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(deleted.is_deleted());
    }

    #[tokio::test]
    async fn a_delete_the_store_refuses_or_a_restore_deletes_no_file() {
        let live = || message_from(Sender::System, 3, RoomId(5));
        let gone = move || Message {
            deleted_at: Some(datetime!(2024-01-02 0:00 UTC)),
            ..live()
        };
        // The store fails the delete.
        let mut ports = Ports::new(true);
        ports
            .messages
            .expect_find_message()
            .returning(move |_, _| Ok(live()));
        ports
            .messages
            .expect_set_message_deleted()
            .times(1)
            .returning(|_, _, _| Err(StoreError::Unavailable(anyhow::anyhow!("down"))));
        ports.files.expect_delete().never();
        ports.events.expect_publish().never();
        let failed = ports
            .build()
            .set_deleted(&Actor::ApiKey(access()), MessageRef::Id(MessageId(3)), true)
            .await;
        assert!(
            matches!(failed, Err(AppError::Unavailable(_))),
            "{failed:?}"
        );
        // A restore answers no keys and deletes nothing.
        let mut ports = Ports::new(true);
        ports
            .messages
            .expect_find_message()
            .returning(move |_, _| Ok(gone()));
        ports
            .messages
            .expect_set_message_deleted()
            .withf(|_, _, deleted| !*deleted)
            .times(1)
            .returning(move |_, _, _| Ok((live(), Vec::new())));
        ports.files.expect_delete().never();
        ports.events.expect_publish().times(1).return_const(());
        let restored = ports
            .build()
            .set_deleted(
                &Actor::ApiKey(access()),
                MessageRef::Id(MessageId(3)),
                false,
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!restored.is_deleted());
    }

    /// Once `append` has committed the message with its files, they are its files: a
    /// failure while building the answer (here the positions of a `Rich` view) must
    /// not remove them.
    #[tokio::test]
    async fn a_committed_message_keeps_its_files_even_when_its_view_fails() {
        let mut ports = Ports::new(true);
        ports
            .messages
            .expect_append()
            .times(1)
            .returning(|_, room, new| Ok((stored(&new, 1, room), true)));
        ports
            .messages
            .expect_positions()
            .returning(|_, _| Err(StoreError::Unavailable(anyhow::anyhow!("down"))));
        ports.events.expect_publish().return_const(());
        ports.files.expect_delete().never();
        let result = ports
            .build()
            .send(
                &user_actor(10, Role::Agent),
                ROOM,
                text(None),
                uploads(),
                MessageDetail::Rich,
            )
            .await;
        assert!(result.is_err(), "{result:?}");
    }
}

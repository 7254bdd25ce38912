//! Messages: send (idempotently, in `send`), list, read one, edit, delete and restore;
//! read and delivery positions. How a message is shown to a caller is in `views`.
//!
//! | actor | sends | reads | edits / deletes / restores |
//! |---|---|---|---|
//! | API key | as a participant (`sender_id`), or `system` | every room | any message |
//! | administrator | as itself, in rooms it belongs to | every room | any message |
//! | agent | as itself, in rooms it belongs to | its rooms | its own messages |
//! | scoped credential | as its user, with `send_messages` | with `read_messages`, its rooms | its own, with `send_messages` |

mod receipts;
mod send;
mod views;

pub use receipts::Receipt;
pub use views::{MessageView, Replied};

use std::fmt;
use std::sync::Arc;

use chat_domain::{Content, Message, MessageMeta, MessageRef, Permission, Room, RoomRef, Seq};

use crate::access::{message_error, message_for, require_author, room_error, visible_room};
use crate::actor::Actor;
use crate::error::{AppError, Denied, Resource};
use crate::events::{DomainEvent, EventPublisher, MessageEvent};
use crate::files::discard;
use crate::model::{MessageDetail, MessageFilter, Page};
use crate::ports::{DeliveredMark, FileStore, MessageStore, RoomStore, UserDirectory};
pub(crate) use views::Views;

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

impl Messages {
    /// Message use cases over these ports, publishing to `events`.
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
            let mark = DeliveredMark {
                room: room.id,
                user: viewer,
                upto: newest,
            };
            self.messages
                .mark_delivered(account, vec![mark])
                .await
                .map_err(room_error)?;
        }
        let items = self.views().of(account, &room, messages, detail).await?;
        Ok(Page { items, total })
    }

    /// One message, if the caller may see its room.
    pub async fn get(
        &self,
        actor: &Actor,
        message: MessageRef,
        detail: MessageDetail,
    ) -> Result<MessageView, AppError> {
        let (room, message) = self
            .visible_message(actor, message, Permission::ReadMessages)
            .await?;
        self.views().one(&room, message, detail).await
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
        let (room, message) = self
            .visible_message(actor, message, Permission::SendMessages)
            .await?;
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
        self.views()
            .one(&room, edited, MessageDetail::Summary)
            .await
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
        let (room, message) = self
            .visible_message(actor, message, Permission::SendMessages)
            .await?;
        require_author(actor, &message)?;
        if message.is_deleted() == deleted {
            return Ok(message);
        }
        let (changed, removed) = self
            .messages
            .set_message_deleted(room.account_id, message.id, deleted, actor.user_id())
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
        actor.require(Permission::ReadMessages)?;
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

    /// The message and its room, if the actor may see the room (a scoped credential
    /// also needs `permission`: `read_messages` to read, `send_messages` to change its
    /// own message).
    async fn visible_message(
        &self,
        actor: &Actor,
        message: MessageRef,
        permission: Permission,
    ) -> Result<(Room, Message), AppError> {
        message_for(
            self.rooms.as_ref(),
            self.messages.as_ref(),
            actor,
            None,
            message,
            permission,
        )
        .await
    }

    /// Where views of this room's messages are read from.
    fn views(&self) -> Views<'_> {
        Views {
            rooms: self.rooms.as_ref(),
            messages: self.messages.as_ref(),
            users: self.users.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::AccountAccess;
    use crate::error::Conflict;
    use crate::events::MockEventPublisher;
    use crate::model::{NewMessage, Outgoing, RawOutgoing, SendContext, Speaker, Window};
    use crate::ports::{
        MockFileStore, MockMessageStore, MockRoomStore, MockUserDirectory, StoreError,
    };
    use crate::testing::send_with;
    use chat_domain::{
        AccountId, Availability, DeliveryStatus, ExternalId, Features, MessageId, MessageKind,
        PersonName, Position, Role, RoomId, RoomMeta, RoomName, Sender, StorageKey, StoredUpload,
        User, UserId,
    };
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
            scope: None,
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
            is_active: true,
            meta: chat_domain::UserMeta::default(),
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
            deleted_by: None,
            thread: chat_domain::ThreadStats::default(),
            mentions: Vec::new(),
            reactions: chat_domain::Reactions::new(),
            pin: None,
        }
    }

    fn message_from(sender: Sender, id: i64, room: RoomId) -> Message {
        let new = NewMessage {
            mentions: Vec::new(),
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

    /// The storing half of a send ([`MessageStore::send`] runs it once the rules allowed
    /// the send), for the tests to expect.
    #[mockall::automock]
    trait Appends {
        fn append(
            &self,
            account: AccountId,
            room: RoomId,
            new: NewMessage,
        ) -> Result<(Message, bool), StoreError>;
    }

    struct Ports {
        rooms: MockRoomStore,
        messages: MockMessageStore,
        users: MockUserDirectory,
        files: MockFileStore,
        events: MockEventPublisher,
        appends: MockAppends,
        /// Whether the room is active.
        active: bool,
        /// The message a send's `reply_to` names: its id and room.
        replied: Option<(MessageId, RoomId)>,
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
            let messages = MockMessageStore::new();
            Self {
                rooms,
                messages,
                users,
                files: MockFileStore::new(),
                events: MockEventPublisher::new(),
                appends: MockAppends::new(),
                active,
                replied: None,
            }
        }

        fn appending(mut self) -> Self {
            self.appends
                .expect_append()
                .returning(|_, room, new| Ok((stored(&new, 1, room), true)));
            self
        }

        /// The messages use case on these ports; a send reads the room, users and
        /// memberships of [`Ports::new`] and [`Ports::replied`], and stores with
        /// [`Ports::appends`].
        fn build(self) -> Messages {
            let Self {
                rooms,
                mut messages,
                users,
                files,
                events,
                appends,
                active,
                replied,
            } = self;
            let context = move |_, _, speaker: Option<Speaker>, _| {
                let found = speaker
                    .and_then(|speaker| match speaker {
                        Speaker::Id(id) => Some(user(id.0, None)),
                        Speaker::ChatId(chat_id) => match chat_id.as_str() {
                            "ann" => Some(user(10, Some("ann"))),
                            "zed" => Some(user(30, Some("zed"))),
                            _ => None,
                        },
                    })
                    .map(|user| {
                        let member = user.id == UserId(10) || user.id == UserId(20);
                        (user, member)
                    });
                Ok(SendContext {
                    room: room(active),
                    speaker: found,
                    replied,
                })
            };
            messages
                .expect_send()
                .returning(send_with(context, move |account, room, new| {
                    appends.append(account, room, new)
                }));
            Messages::new(
                Arc::new(rooms),
                Arc::new(messages),
                Arc::new(users),
                Arc::new(files),
                Arc::new(events),
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
            ports.appends.expect_append().never();
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
        ports.appends.expect_append().never();
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
        // The message replied to: of another room, not found, of the same room.
        for (replied, ok) in [
            (Some((MessageId(9), RoomId(6))), false),
            (None, false),
            (Some((MessageId(9), RoomId(5))), true),
        ] {
            let mut ports = Ports::new(true);
            ports.replied = replied;
            if ok {
                ports
                    .appends
                    .expect_append()
                    .withf(|_, _, new| new.reply_to == Some(MessageId(9)))
                    .times(1)
                    .returning(|_, room, new| Ok((stored(&new, 1, room), true)));
                ports.events.expect_publish().times(1).return_const(());
                ports
                    .messages
                    .expect_find_messages()
                    .returning(|_, _| Ok(vec![message_from(Sender::System, 9, RoomId(5))]));
            } else {
                ports.appends.expect_append().never();
            }
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
            if ok {
                let (view, _) = result.unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(view.message.reply_to, Some(MessageId(9)));
                continue;
            }
            let fields = match &result {
                Err(AppError::Invalid(errors)) => errors.iter().map(|e| e.field).collect(),
                _ => Vec::new(),
            };
            assert_eq!(fields, ["reply_to"], "{replied:?}: {result:?}");
        }
    }

    #[tokio::test]
    async fn a_retried_echo_id_publishes_nothing() {
        let mut ports = Ports::new(true);
        ports
            .appends
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
                .returning(move |_, _, _, _| Ok((by_ann(), Vec::new())));
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
            .withf(|_, marks| {
                marks
                    == &[DeliveredMark {
                        room: RoomId(5),
                        user: UserId(10),
                        upto: Seq(7),
                    }]
            })
            .times(1)
            .returning(|_, _| Ok(()));
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
            ports.appends.expect_append().never();
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
            .appends
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
        ports.appends.expect_append().never();
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
            .appends
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
            .appends
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
            .withf(|account, id, deleted, _| *account == ACCOUNT && *id == MessageId(3) && *deleted)
            .times(1)
            .in_sequence(&mut order)
            .returning(move |_, _, _, _| {
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
            .returning(|_, _, _, _| Err(StoreError::Unavailable(anyhow::anyhow!("down"))));
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
            .withf(|_, _, deleted, _| !*deleted)
            .times(1)
            .returning(move |_, _, _, _| Ok((live(), Vec::new())));
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
            .appends
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

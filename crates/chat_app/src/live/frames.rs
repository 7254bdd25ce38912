//! What each client frame does, once parsed into a [`LiveCommand`].

use chat_domain::{Message, MessageRef, Room, RoomId, RoomRef, User};

use crate::live::command::{FrameError, LiveCommand, MessageDraft, Reply};
use crate::live::events::{LiveEvent, Typing};
use crate::live::session::{LiveSession, SessionKind};
use crate::live::sessions::LiveSessions;
use crate::{Detail, MessageDetail, Outgoing, RawOutgoing};

impl LiveSessions {
    /// Does what a client frame says, as the connection's actor; a scoped credential
    /// without the frame's [`LiveCommand::permission`] is refused
    /// (`Forbidden(PermissionDenied)`).
    pub async fn handle(
        &self,
        session: &LiveSession,
        command: LiveCommand,
    ) -> Result<Reply, FrameError> {
        if let Some(permission) = command.permission() {
            session.actor.require(permission)?;
        }
        match command {
            LiveCommand::Ping => Ok(Reply::Pong),
            LiveCommand::OnlineUsers { room } => {
                let room = self.frame_room(session, room).await?;
                let online = self.online(session.account, room.id).await;
                Ok(Reply::OnlineUsers { room, online })
            }
            LiveCommand::Typing { room, is_typing } => {
                let user = participant(session)?;
                let room = self.frame_room(session, room).await?;
                self.hub.publish_live(LiveEvent::Typing(Typing {
                    account: session.account,
                    room: room.id,
                    room_uuid: room.uuid,
                    user_key: user.chat_user_id(),
                    user: Some(user.id),
                    user_name: user.name.as_str().to_owned(),
                    is_typing: is_typing?,
                }));
                Ok(Reply::Nothing)
            }
            LiveCommand::Read { message } => {
                participant(session)?;
                let message = self.named_message(session, message?).await?;
                if let Some(room) = session.room()
                    && message.room_id != room.id
                {
                    return Err(FrameError::NotInRoom);
                }
                self.messages
                    .mark_read(
                        &session.actor,
                        RoomRef::Id(message.room_id),
                        Some(message.seq),
                    )
                    .await?;
                Ok(Reply::Nothing)
            }
            LiveCommand::Message { room, draft } => {
                let room = self.frame_room(session, room).await?;
                self.send(session, room, draft?).await
            }
        }
    }

    /// The room a frame is about: the socket's room, or on a user's stream the room the
    /// frame names (one the user may see).
    async fn frame_room(
        &self,
        session: &LiveSession,
        named: Option<RoomId>,
    ) -> Result<Room, FrameError> {
        match &session.kind {
            SessionKind::Room { room, .. } => Ok(room.clone()),
            SessionKind::Stream { .. } => {
                let id = named.ok_or_else(|| {
                    FrameError::InvalidData("room_id is required on this socket".to_owned())
                })?;
                let view = self
                    .rooms
                    .get(&session.actor, RoomRef::Id(id), Detail::Summary)
                    .await?;
                Ok(view.room)
            }
        }
    }

    async fn named_message(
        &self,
        session: &LiveSession,
        reference: MessageRef,
    ) -> Result<Message, FrameError> {
        let view = self
            .messages
            .get(&session.actor, reference, MessageDetail::Summary)
            .await?;
        Ok(view.message)
    }

    async fn send(
        &self,
        session: &LiveSession,
        room: Room,
        draft: MessageDraft,
    ) -> Result<Reply, FrameError> {
        let reply_to = match draft.reply_to {
            None => None,
            Some(reference) => Some(MessageRef::Id(
                self.named_message(session, reference?).await?.id,
            )),
        };
        let out = Outgoing::parse(RawOutgoing {
            sender_id: draft.sender_id.as_deref(),
            sender_name: None,
            content: draft.content.as_deref(),
            message_type: draft.message_type.as_deref(),
            meta: draft.meta,
            reply_to,
            echo_id: draft.echo_id.as_deref(),
            has_files: false,
            mentions: Vec::new(),
        })?;
        let (message, _) = self
            .messages
            .send(
                &session.actor,
                RoomRef::Id(room.id),
                out,
                Vec::new(),
                session.detail(),
            )
            .await?;
        Ok(Reply::Ack { room, message })
    }
}

/// The connected person; a socket that only listens cannot act.
fn participant(session: &LiveSession) -> Result<&User, FrameError> {
    session.participant.as_ref().ok_or(FrameError::Listener)
}

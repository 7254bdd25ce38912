//! Sending: who speaks, what the reply names, and the files that come along.

use chat_domain::{
    FieldError, Message, MessageKind, Permission, Problem, Room, RoomRef, Sender, StorageKey,
    StoredUpload, User,
};

use super::Messages;
use super::views::MessageView;
use crate::access::room_error;
use crate::actor::Actor;
use crate::error::{AppError, Conflict, Denied};
use crate::events::{DomainEvent, MessageEvent};
use crate::files::discard;
use crate::model::{MessageDetail, NewMessage, Outgoing, SendContext, SendRules, Speaker};

/// A reply must name a message of the same room.
fn bad_reply() -> AppError {
    FieldError::new(
        "reply_to",
        Problem::Invalid("must name a message of this room".to_owned()),
    )
    .into()
}

impl Messages {
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
        let view = self.views().one(&room, message, detail).await?;
        Ok((view, created))
    }

    /// Checks the send and stores the message: the room, the message, and whether it
    /// is new (`false` for a retried `echo_id`). The store reads the room, the speaker,
    /// their membership and the message replied to, runs [`rules`] on them and stores,
    /// in one unit of work; what is wrong is answered in this order: no such room (404),
    /// no permission to send (403), the speaker (422 or 403), an inactive room (409), the
    /// reply (422).
    async fn store(
        &self,
        actor: &Actor,
        room: RoomRef,
        out: Outgoing,
        attachments: Vec<StoredUpload>,
    ) -> Result<(Room, Message, bool), AppError> {
        let account = actor.account_id()?;
        let named = named_speaker(actor, &out);
        let wanted = named.as_ref().ok().cloned().flatten();
        let reply_to = out.reply_to;
        let rules = rules(*actor, named, out, attachments);
        let sent = self
            .messages
            .send(account, room, wanted, reply_to, rules)
            .await
            .map_err(room_error)??;
        Ok((sent.room, sent.message, sent.created))
    }
}

/// The rules of a send by `actor` of `out` as the speaker `named`, for the store to run
/// on what it read ([`crate::MessageStore::send`]): the message to store, or why not.
fn rules(
    actor: Actor,
    named: Result<Option<Speaker>, AppError>,
    out: Outgoing,
    attachments: Vec<StoredUpload>,
) -> SendRules {
    Box::new(move |context: &SendContext| {
        actor.require(Permission::SendMessages)?;
        let (sender, sender_name) = speaker(&actor, &out, named?, context.speaker.clone())?;
        if !context.room.is_active {
            return Err(AppError::Conflict(Conflict::RoomInactive));
        }
        let reply_to = match (&out.reply_to, context.replied) {
            (None, _) => None,
            (Some(_), Some((id, room))) if room == context.room.id => Some(id),
            (Some(_), _) => return Err(bad_reply()),
        };
        Ok(NewMessage {
            sender,
            sender_name,
            content: out.content,
            kind: out.kind,
            meta: out.meta,
            reply_to,
            echo_id: out.echo_id,
            attachments,
            mentions: out.mentions,
        })
    })
}

/// The user the send speaks as, as the caller names them; `None` for the system (the API
/// key's `system` messages). An error is answered only once the room is known.
fn named_speaker(actor: &Actor, out: &Outgoing) -> Result<Option<Speaker>, AppError> {
    match actor {
        Actor::Platform => Err(AppError::Unauthenticated),
        Actor::User { .. } if out.kind == MessageKind::System => Err(FieldError::new(
            "message_type",
            Problem::Invalid("only the API key sends system messages".to_owned()),
        )
        .into()),
        Actor::User { user_id, .. } => Ok(Some(Speaker::Id(*user_id))),
        Actor::ApiKey(_) if out.kind == MessageKind::System => Ok(None),
        Actor::ApiKey(_) => out
            .sender_id
            .as_ref()
            .map(|id| Some(Speaker::ChatId(id.as_str().to_owned())))
            .ok_or_else(|| FieldError::new("sender_id", Problem::Blank).into()),
    }
}

/// Who speaks, and under which name: the system, or the user `named` when they were found
/// (`found`) and belong to the room.
fn speaker(
    actor: &Actor,
    out: &Outgoing,
    named: Option<Speaker>,
    found: Option<(User, bool)>,
) -> Result<(Sender, Option<String>), AppError> {
    let given_name = out.sender_name.as_ref().map(|n| n.as_str().to_owned());
    if named.is_none() {
        return Ok((Sender::System, given_name));
    }
    let (user, member) = match (actor, found) {
        (_, Some(found)) => found,
        // A user credential whose user is gone.
        (Actor::User { .. }, None) => return Err(AppError::Unauthenticated),
        (_, None) => return Err(AppError::Forbidden(Denied::NotMember)),
    };
    if !member {
        return Err(AppError::Forbidden(Denied::NotMember));
    }
    let name = match actor {
        // A user's credential speaks under the user's own name, whatever the body says.
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

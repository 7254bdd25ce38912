//! Reactions: one row per (message, emoji, user) in `message_reactions`, and the summary
//! on the message (`messages.reactions`) that renders a page without another query,
//! rebuilt in the transaction that changes the rows.

use chat_app::StoreError;
use chat_domain::{
    AccountId, Emoji, MAX_EMOJI_PER_MESSAGE, Message, MessageId, MessageRef, Person, RoomId,
    UserId, WebhookEvent,
};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Rollback;
use crate::messages::load::{Wanted, first_message, load};
use crate::schema::{message_reactions, messages};
use crate::users::chat_label;
use crate::webhooks::record::{EventMessage, Recorded, record_event};

/// The reactions of message `m` in the stored form of [`chat_domain::Reactions`], built
/// from its rows: a line per emoji, in the order it was first used (of the reactions there
/// now), its users oldest first; `''` without reactions.
macro_rules! summary_of_m {
    () => {
        "COALESCE((
       SELECT string_agg(e.emoji || e.users || E'\\n', '' ORDER BY e.first, e.emoji)
         FROM (SELECT r.emoji, min(r.created_at) AS first,
                      string_agg(E'\\t' || r.user_id || E'\\x1f' || r.user_label, ''
                                 ORDER BY r.created_at, r.user_id) AS users
                 FROM message_reactions AS r
                WHERE r.message_id = m.id
                GROUP BY r.emoji) AS e), '')"
    };
}

/// Rebuilds the message's summary (`messages.reactions`) from its rows.
const REBUILD: &str = concat!(
    "UPDATE messages AS m SET reactions = ",
    summary_of_m!(),
    " WHERE m.account_id = $1 AND m.id = $2"
);

/// Rebuilds the summaries of the room's messages that have reactions (for reactions
/// written in bulk, as `make bench` seeds them). Answers the messages rebuilt.
pub(crate) fn rebuild_room(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomId,
) -> QueryResult<usize> {
    diesel::sql_query(concat!(
        "UPDATE messages AS m SET reactions = ",
        summary_of_m!(),
        " WHERE m.account_id = $1 AND m.room_id = $2 \
           AND m.id IN (SELECT message_id FROM message_reactions \
                         WHERE account_id = $1 AND room_id = $2)"
    ))
    .bind::<BigInt, _>(account.0)
    .bind::<BigInt, _>(room.0)
    .execute(conn)
}

/// [`chat_app::ConversationStore::react`]: in one transaction, the message row locked
/// (reactions to one message take turns, so the limit holds), the reaction row added or
/// removed, the summary rebuilt and the webhook event recorded, when something changed.
pub(super) fn react(
    conn: &mut PgConnection,
    account: AccountId,
    message: MessageId,
    emoji: &Emoji,
    user: UserId,
    add: bool,
) -> Result<(Message, Option<Person>), StoreError> {
    let (rows, person) = conn
        .transaction(|conn| {
            // NotFound when the account has no such message.
            let (room, uuid, deleted_at): (i64, Uuid, Option<OffsetDateTime>) = messages::table
                .filter(messages::account_id.eq(account.0))
                .filter(messages::id.eq(message.0))
                .select((messages::room_id, messages::uuid, messages::deleted_at))
                .for_no_key_update()
                .first(conn)?;
            if deleted_at.is_some() {
                return Err(Rollback::Store(StoreError::NotFound));
            }
            // NotFound when the account has no such user.
            let label = chat_label(conn, account, user)?;
            let reactions = message_reactions::table
                .filter(message_reactions::message_id.eq(message.0))
                .filter(message_reactions::room_id.eq(room));
            let changed = if add {
                let used: Vec<String> = reactions
                    .select(message_reactions::emoji)
                    .distinct()
                    .load(conn)?;
                if used.len() >= MAX_EMOJI_PER_MESSAGE
                    && !used.iter().any(|used| used == emoji.as_str())
                {
                    return Err(Rollback::Store(StoreError::LimitReached));
                }
                diesel::insert_into(message_reactions::table)
                    .values((
                        message_reactions::account_id.eq(account.0),
                        message_reactions::room_id.eq(room),
                        message_reactions::message_id.eq(message.0),
                        message_reactions::emoji.eq(emoji.as_str()),
                        message_reactions::user_id.eq(user.0),
                        message_reactions::user_label.eq(&label),
                    ))
                    .on_conflict_do_nothing()
                    .execute(conn)?
            } else {
                diesel::delete(
                    reactions
                        .filter(message_reactions::emoji.eq(emoji.as_str()))
                        .filter(message_reactions::user_id.eq(user.0)),
                )
                .execute(conn)?
            } > 0;
            if changed {
                diesel::sql_query(REBUILD)
                    .bind::<BigInt, _>(account.0)
                    .bind::<BigInt, _>(message.0)
                    .execute(conn)?;
            }
            let rows = load(conn, account, Wanted::One(MessageRef::Id(message)))?;
            if changed && let Some((_, room_uuid)) = rows.first() {
                let event = if add {
                    WebhookEvent::ReactionAdded
                } else {
                    WebhookEvent::ReactionRemoved
                };
                let users = [user];
                record_event(
                    conn,
                    &Recorded {
                        room_uuid: Some(*room_uuid),
                        message: EventMessage::Id(message.0),
                        users: &users,
                        data: Some(serde_json::json!({
                            "message_id": uuid,
                            "room_id": room_uuid,
                            "emoji": emoji.as_str(),
                            "user_id": label,
                        })),
                        ..Recorded::of_room(account, event.as_str(), RoomId(room))
                    },
                )?;
            }
            let person = changed.then_some(Person { id: user, label });
            Ok::<_, Rollback>((rows, person))
        })
        .map_err(Rollback::into_store)?;
    Ok((first_message(conn, account, rows)?, person))
}

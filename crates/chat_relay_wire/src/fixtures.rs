//! What the relays' tests send (feature `fixtures`).

use chat_domain::{
    AccountId, Content, Message, MessageId, MessageKind, MessageMeta, Reactions, RoomId, Sender,
    Seq, ThreadStats, UserId,
};
use uuid::Uuid;

/// A message as sending makes it: the `seq`-th of room 2 of account 1, `content` its
/// text, sent by user 6 (`user_6`) as "Ada"; a notice may carry it whole. Panics when
/// `content` is not valid message text (a test's own mistake).
pub fn just_sent(seq: i64, content: &str) -> Message {
    let Ok(content) = Content::parse(content) else {
        panic!("not valid message text: {content:?}");
    };
    let at = time::macros::datetime!(2026-12-07 10:11:12.123456 UTC);
    Message {
        id: MessageId(seq + 100),
        uuid: Uuid::new_v4(),
        account_id: AccountId(1),
        room_id: RoomId(2),
        room_uuid: Uuid::new_v4(),
        seq: Seq(seq),
        sender: Sender::User {
            id: UserId(6),
            label: "user_6".to_owned(),
        },
        sender_name: Some("Ada".to_owned()),
        content,
        kind: MessageKind::Text,
        meta: MessageMeta::default(),
        reply_to: None,
        echo_id: None,
        created_at: at,
        updated_at: at,
        edited_at: None,
        deleted_at: None,
        attachments: Vec::new(),
        deleted_by: None,
        thread: ThreadStats::default(),
        mentions: Vec::new(),
        reactions: Reactions::default(),
        pin: None,
    }
}

//! Notices on PostgreSQL's wire: the channel every node listens on, and the notification
//! payload, which is the shared JSON form of `chat_relay_wire` within PostgreSQL's size
//! limit.

use chat_app::Notice;
pub use chat_relay_wire::decode_notice;
use uuid::Uuid;

/// The notification channel every node listens on.
pub(crate) const CHANNEL: &str = "chat_events";

/// PostgreSQL refuses a notification payload of 8000 bytes or more (the default
/// `BLCKSZ`); anything longer is refused here, before it is sent. The limit is
/// PostgreSQL's, so it lives here and not in the shared codec (NATS takes 1 MiB).
pub(crate) const MAX_PAYLOAD_BYTES: usize = 7999;

/// The notification payload that carries `notice` from `node`: the shared compact JSON
/// ([`chat_relay_wire::encode_notice`]), a new message whole when it fits. Errors when
/// even the ids would not fit a PostgreSQL notification (8000 bytes or more: a typing
/// signal with an enormous name, say).
pub fn encode_notice(node: Uuid, notice: &Notice) -> anyhow::Result<String> {
    chat_relay_wire::encode_notice(node, notice, MAX_PAYLOAD_BYTES)
}

#[cfg(test)]
// Tests stop at the first surprise, with the reason.
#[allow(clippy::expect_used)]
mod tests {
    use chat_app::Typing;
    use chat_domain::{AccountId, RoomId, Seq};

    use super::*;

    #[test]
    fn relay_payloads_are_the_shared_wire_form() {
        let node = Uuid::new_v4();
        let notice = Notice::MessageCreated {
            account: AccountId(1),
            room: RoomId(2),
            seq: Seq(3),
            message: None,
        };
        let payload = encode_notice(node, &notice).expect("encodes");
        assert_eq!(
            payload,
            chat_relay_wire::encode_notice(node, &notice, MAX_PAYLOAD_BYTES).expect("encodes")
        );
        assert_eq!(decode_notice(&payload), Some((node, notice)));
    }

    #[test]
    fn relay_refuses_notices_too_large_for_a_notification() {
        let typing = |name_len: usize| {
            Notice::Typing(Typing {
                account: AccountId(1),
                room: RoomId(2),
                room_uuid: Uuid::nil(),
                user_key: "k".to_owned(),
                user: None,
                user_name: "n".repeat(name_len),
                is_typing: true,
            })
        };
        assert!(encode_notice(Uuid::nil(), &typing(7000)).is_ok());
        assert!(encode_notice(Uuid::nil(), &typing(8000)).is_err());
        // The largest that fits is 7999 bytes.
        let base = encode_notice(Uuid::nil(), &typing(0))
            .expect("encodes")
            .len();
        let fits = encode_notice(Uuid::nil(), &typing(7999 - base)).expect("fits");
        assert_eq!(fits.len(), 7999);
        assert!(encode_notice(Uuid::nil(), &typing(8000 - base)).is_err());
    }
}

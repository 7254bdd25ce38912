//! New messages with their notice: whole when just sent and within the limit, by their
//! ids otherwise, and never a notice lost to a body that does not decode.

use chat_app::Notice;
use chat_domain::{
    AccountId, Attachment, AttachmentId, Content, EchoId, Message, MessageId, MessageKind,
    MessageMeta, Person, Pin, Reactions, RoomId, Sender, Seq, StorageKey, ThreadStats, UserId,
    sniff,
};
use serde_json::json;
use time::macros::datetime;
use uuid::Uuid;

use crate::{decode_notice, encode_notice};

const NO_LIMIT: usize = usize::MAX;

/// A message as sending makes it, with every field the wire form carries set.
fn just_sent() -> Message {
    let Some(meta) = json!({"order": 17, "tags": ["a", "b"], "deep": {"x": null}})
        .as_object()
        .cloned()
    else {
        panic!("an object");
    };
    Message {
        id: MessageId(9_007_199_254_740_993),
        uuid: Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
        account_id: AccountId(7),
        room_id: RoomId(42),
        room_uuid: Uuid::from_u128(0xfedc_ba98_7654_3210_fedc_ba98_7654_3210),
        seq: Seq(1_000),
        sender: Sender::User {
            id: UserId(5),
            label: "user_5 \"quoted\" \\ été".to_owned(),
        },
        sender_name: Some("Ada\nLovelace 🎉".to_owned()),
        content: Content::parse("hello @bo and @cy: \u{1F44B} <b>not html</b>").expect("content"),
        kind: MessageKind::parse("order_update").expect("a custom kind"),
        meta: MessageMeta::parse(meta).expect("meta"),
        reply_to: Some(MessageId(3)),
        echo_id: Some(EchoId::parse("client-1").expect("an echo id")),
        created_at: datetime!(2026-12-07 10:11:12.123456789 UTC),
        updated_at: datetime!(2026-12-07 10:11:12.123456789 UTC),
        edited_at: None,
        deleted_at: None,
        attachments: Vec::new(),
        deleted_by: None,
        thread: ThreadStats::default(),
        mentions: vec![
            Person {
                id: UserId(8),
                label: "bo".to_owned(),
            },
            Person {
                id: UserId(9),
                label: "cy".to_owned(),
            },
        ],
        reactions: Reactions::default(),
        pin: None,
    }
}

fn created(message: &Message) -> Notice {
    Notice::MessageCreated {
        account: message.account_id,
        room: message.room_id,
        seq: message.seq,
        message: Some(Box::new(message.clone())),
    }
}

fn by_ids(message: &Message) -> Notice {
    Notice::MessageCreated {
        account: message.account_id,
        room: message.room_id,
        seq: message.seq,
        message: None,
    }
}

#[test]
fn a_just_sent_message_travels_whole_and_arrives_as_it_was_sent() {
    let node = Uuid::new_v4();
    let user = just_sent();
    let system = Message {
        sender: Sender::System,
        sender_name: None,
        content: Content::parse("the room was renamed").expect("content"),
        kind: MessageKind::System,
        meta: MessageMeta::default(),
        reply_to: None,
        echo_id: None,
        mentions: Vec::new(),
        ..just_sent()
    };
    for message in [user, system] {
        let payload = encode_notice(node, &created(&message), NO_LIMIT).expect("encodes");
        assert!(payload.contains(r#""message":{"#), "{payload}");
        assert_eq!(
            decode_notice(&payload),
            Some((node, created(&message))),
            "{payload}"
        );
    }
}

#[test]
fn a_message_with_more_than_sending_gives_it_travels_as_its_ids() {
    let node = Uuid::nil();
    let at = datetime!(2026-12-07 11:00 UTC);
    let file = Attachment {
        id: AttachmentId(1),
        uuid: Uuid::nil(),
        account_id: AccountId(7),
        message_id: MessageId(9_007_199_254_740_993),
        key: StorageKey::parse("7/ab/abcdef.png").expect("a key"),
        kind: sniff(b"\x89PNG\r\n\x1a\n"),
        size: 8,
        dimensions: Some((1, 1)),
    };
    let mut reactions = Reactions::default();
    reactions
        .push_stored("👍", [(UserId(8), "bo")])
        .expect("a reaction");
    let more: Vec<Message> = vec![
        Message {
            attachments: vec![file],
            ..just_sent()
        },
        Message {
            edited_at: Some(at),
            ..just_sent()
        },
        Message {
            deleted_at: Some(at),
            deleted_by: Some(Sender::System),
            ..just_sent()
        },
        Message {
            thread: ThreadStats {
                reply_count: 1,
                last_reply_at: Some(at),
            },
            ..just_sent()
        },
        Message {
            reactions,
            ..just_sent()
        },
        Message {
            pin: Some(Pin {
                pinned_at: at,
                pinned_by: Sender::System,
            }),
            ..just_sent()
        },
    ];
    for message in more {
        let payload = encode_notice(node, &created(&message), NO_LIMIT).expect("encodes");
        assert_eq!(
            payload,
            r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"message_created","account":7,"room":42,"seq":1000}"#
        );
        assert_eq!(decode_notice(&payload), Some((node, by_ids(&message))));
    }
}

#[test]
fn a_message_past_the_transports_limit_travels_as_its_ids() {
    let node = Uuid::nil();
    let message = just_sent();
    let whole = encode_notice(node, &created(&message), NO_LIMIT).expect("encodes");
    let ids = encode_notice(node, &by_ids(&message), NO_LIMIT).expect("encodes");
    assert_eq!(
        encode_notice(node, &created(&message), whole.len()).expect("fits"),
        whole
    );
    for limit in [whole.len() - 1, ids.len()] {
        let payload = encode_notice(node, &created(&message), limit).expect("the ids fit");
        assert_eq!(payload, ids);
        assert_eq!(decode_notice(&payload), Some((node, by_ids(&message))));
    }
    assert!(encode_notice(node, &created(&message), ids.len() - 1).is_err());
}

#[test]
fn a_carried_message_that_does_not_decode_leaves_the_notice_naming_it_by_seq() {
    let node = Uuid::nil();
    let message = just_sent();
    let whole = encode_notice(node, &created(&message), NO_LIMIT).expect("encodes");
    let broken = [
        whole.replace(r#""kind":"order_update""#, r#""kind":"Not A Kind""#),
        whole.replace(r#""echo_id":"client-1""#, r#""echo_id":"""#),
        whole.replace(r#""id":9007199254740993"#, r#""id":"nine""#),
        whole.replace(
            r#""created_at":"2026-12-07T10:11:12.123456789Z""#,
            r#""created_at":"today""#,
        ),
        whole.replace(r#""content":"hello"#, r#""content":"\u0000hello"#),
        whole.replace(r#""message":{"#, r#""message":[1],"ignored":{"#),
    ];
    for payload in broken {
        assert_ne!(payload, whole, "the replacement applies");
        assert_eq!(
            decode_notice(&payload),
            Some((node, by_ids(&message))),
            "{payload}"
        );
    }
}

#[test]
fn a_carried_message_takes_the_notices_account_room_and_seq() {
    // The body has no fields of its own for them: what the notice names is what arrives.
    let node = Uuid::nil();
    let message = just_sent();
    let whole = encode_notice(node, &created(&message), NO_LIMIT).expect("encodes");
    let elsewhere = whole.replace(
        r#""account":7,"room":42,"seq":1000"#,
        r#""account":8,"room":43,"seq":1001"#,
    );
    match decode_notice(&elsewhere) {
        Some((
            _,
            Notice::MessageCreated {
                message: Some(m),
                account,
                room,
                seq,
            },
        )) => {
            assert_eq!((m.account_id, m.room_id, m.seq), (account, room, seq));
            assert_eq!((account, room, seq), (AccountId(8), RoomId(43), Seq(1001)));
        }
        other => panic!("{other:?}"),
    }
}

//! Notices through their wire form and back; what is not a notice.

use chat_app::{CredentialEvent, MembershipChange, Notice, Typing};
use chat_domain::{AccountId, RoomId, Seq, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{decode_notice, encode_notice};
use crate::fixtures::every_notice;

/// No transport's limit: what the codec itself writes.
const NO_LIMIT: usize = usize::MAX;

#[test]
fn every_relay_notice_survives_encoding_and_decoding() {
    let node = Uuid::new_v4();
    for notice in every_notice() {
        let payload = encode_notice(node, &notice, NO_LIMIT).expect("encodes");
        assert!(!payload.contains('\n'), "compact: {payload}");
        assert_eq!(decode_notice(&payload), Some((node, notice)), "{payload}");
    }
}

#[test]
fn relay_payloads_are_compact_json_naming_the_node_and_the_fields() {
    let node = Uuid::nil();
    let payload = encode_notice(
        node,
        &Notice::MessageCreated {
            account: AccountId(1),
            room: RoomId(2),
            seq: Seq(3),
            message: None,
        },
        NO_LIMIT,
    )
    .expect("encodes");
    assert_eq!(
        payload,
        r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"message_created","account":1,"room":2,"seq":3}"#
    );
    // Fields a later version adds are ignored.
    let later = r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"read","account":1,"room":2,"user":5,"seq":3,"extra":[1]}"#;
    assert_eq!(
        decode_notice(later),
        Some((
            node,
            Notice::Read {
                account: AccountId(1),
                room: RoomId(2),
                user: UserId(5),
                seq: Seq(3)
            }
        ))
    );
}

#[test]
fn a_credential_notice_names_the_account_and_the_user_only_when_there_is_one() {
    let node = Uuid::nil();
    let of_user = Notice::Credentials(CredentialEvent {
        account: AccountId(1),
        user: Some(UserId(5)),
    });
    assert_eq!(
        encode_notice(node, &of_user, NO_LIMIT).expect("encodes"),
        r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"credentials","account":1,"user":5}"#
    );
    let of_account = Notice::Credentials(CredentialEvent {
        account: AccountId(1),
        user: None,
    });
    assert_eq!(
        encode_notice(node, &of_account, NO_LIMIT).expect("encodes"),
        r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"credentials","account":1}"#
    );
}

#[test]
fn relay_payloads_that_are_not_notices_decode_to_none() {
    for garbage in [
        "",
        "garbage",
        "{}",
        "null",
        "[]",
        r#"{"node":"not-a-uuid","kind":"message_created","account":1,"room":2,"seq":3}"#,
        r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"unknown"}"#,
        r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"message_created","account":1,"room":2}"#,
        r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"message_created","account":"1","room":2,"seq":3}"#,
        r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"message_created","account":1e30,"room":2,"seq":3}"#,
        r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"message_changed","account":1,"message":2,"change":"exploded"}"#,
        r#"{"kind":"message_created","account":1,"room":2,"seq":3}"#,
        "{\"node\":",
    ] {
        assert_eq!(decode_notice(garbage), None, "{garbage}");
    }
}

#[test]
fn a_notice_past_the_transports_limit_is_refused() {
    // A typing signal with an enormous name: PostgreSQL would refuse it, NATS would not.
    let notice = Notice::Typing(Typing {
        account: AccountId(1),
        room: RoomId(2),
        room_uuid: Uuid::nil(),
        user_key: "k".to_owned(),
        user: None,
        user_name: "n".repeat(100_000),
        is_typing: true,
    });
    let payload = encode_notice(Uuid::nil(), &notice, NO_LIMIT).expect("encodes");
    assert!(payload.len() > 100_000);
    assert_eq!(decode_notice(&payload), Some((Uuid::nil(), notice.clone())));
    assert_eq!(
        encode_notice(Uuid::nil(), &notice, payload.len()).expect("fits exactly"),
        payload
    );
    let refused = encode_notice(Uuid::nil(), &notice, payload.len() - 1)
        .expect_err("one byte too many")
        .to_string();
    assert!(refused.contains(&payload.len().to_string()), "{refused}");
}

#[test]
fn a_leave_carries_when_to_the_nanosecond_and_a_join_carries_no_time() {
    let node = Uuid::nil();
    let at = time::macros::datetime!(2026-12-06 15:32:53.123456789 UTC);
    let left = Notice::Membership {
        account: AccountId(1),
        room: RoomId(2),
        user: UserId(3),
        change: MembershipChange::Left { at },
    };
    let payload = encode_notice(node, &left, NO_LIMIT).expect("encodes");
    assert_eq!(
        payload,
        r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"membership","account":1,"room":2,"user":3,"joined":false,"left_at":"2026-12-06T15:32:53.123456789Z"}"#
    );
    assert_eq!(decode_notice(&payload), Some((node, left)));
    let joined = Notice::Membership {
        account: AccountId(1),
        room: RoomId(2),
        user: UserId(3),
        change: MembershipChange::Joined,
    };
    assert_eq!(
        encode_notice(node, &joined, NO_LIMIT).expect("encodes"),
        r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"membership","account":1,"room":2,"user":3,"joined":true}"#
    );
}

#[test]
fn a_leave_from_a_node_that_sends_no_time_is_taken_as_of_its_arrival() {
    let earlier = r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"membership","account":1,"room":2,"user":3,"joined":false}"#;
    let before = OffsetDateTime::now_utc();
    let decoded = decode_notice(earlier);
    let after = OffsetDateTime::now_utc();
    match decoded {
        Some((
            _,
            Notice::Membership {
                change: MembershipChange::Left { at },
                user,
                ..
            },
        )) => {
            assert_eq!(user, UserId(3));
            assert!(before <= at && at <= after, "{at}");
        }
        other => panic!("{other:?}"),
    }
    // A time that is not RFC 3339 is not a notice.
    let bad = r#"{"node":"00000000-0000-0000-0000-000000000000","kind":"membership","account":1,"room":2,"user":3,"joined":false,"left_at":"yesterday"}"#;
    assert_eq!(decode_notice(bad), None);
}

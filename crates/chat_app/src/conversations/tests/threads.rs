//! Threads: visible parents only; the summary comes from the parent and its participants.

use chat_domain::{MessageId, MessageRef, Permission};
use time::macros::datetime;

use super::*;
use crate::model::{MessageDetail, Window};

fn window() -> Window {
    Window {
        offset: 0,
        limit: 10,
    }
}

#[tokio::test]
async fn the_thread_of_a_readable_message_is_its_replies() {
    for actor in [
        as_user(ANN),
        as_user(ROOT),
        api_key(),
        scoped(Permissions::DEFAULT),
    ] {
        let mut ports = Ports::new();
        ports
            .conversations
            .expect_thread()
            .withf(|account, parent, window| {
                *account == ACCOUNT && *parent == MessageId(1) && window.limit == 10
            })
            .times(1)
            .returning(|_, _, _| Ok((vec![known(2)], 4)));
        let page = ports
            .build()
            .thread(
                &actor,
                MessageRef::Id(MessageId(1)),
                window(),
                MessageDetail::Summary,
            )
            .await
            .unwrap_or_else(|e| panic!("{actor:?}: {e}"));
        assert_eq!(page.total, 4);
        let replies: Vec<(i64, &str)> = page
            .items
            .iter()
            .map(|v| (v.message.id.0, v.room_name.as_str()))
            .collect();
        assert_eq!(replies, [(2, "General")]);
    }
}

#[tokio::test]
async fn the_thread_of_a_room_the_caller_may_not_read_is_refused() {
    let cases = [
        // Cat is an agent outside room 5.
        (as_user(CAT), 1, "Forbidden(NotMember)"),
        (
            scoped(all_but(Permission::ReadMessages)),
            1,
            "Forbidden(PermissionDenied(ReadMessages))",
        ),
        (api_key(), 999, "NotFound(Message)"),
        (Actor::Platform, 1, "Unauthenticated"),
    ];
    for (actor, id, expected) in cases {
        let mut ports = Ports::new();
        ports.conversations.expect_thread().never();
        ports.conversations.expect_thread_participants().never();
        let conversations = ports.build();
        let thread = conversations
            .thread(
                &actor,
                MessageRef::Id(MessageId(id)),
                window(),
                MessageDetail::Summary,
            )
            .await;
        assert_eq!(failure(&thread), expected, "thread, {actor:?}");
        let summary = conversations
            .thread_summary(&actor, MessageRef::Id(MessageId(id)))
            .await;
        assert_eq!(failure(&summary), expected, "summary, {actor:?}");
    }
}

#[tokio::test]
async fn a_summary_counts_from_the_parent_and_lists_participants() {
    let mut ports = Ports::new();
    let replied_at = datetime!(2024-03-01 12:00 UTC);
    ports.messages.checkpoint();
    ports.messages.expect_find_message().returning(move |_, _| {
        let mut parent = known(1);
        parent.thread = ThreadStats {
            reply_count: 2,
            last_reply_at: Some(replied_at),
        };
        Ok(parent)
    });
    ports
        .conversations
        .expect_thread_participants()
        .withf(|account, parent| *account == ACCOUNT && *parent == MessageId(1))
        .times(1)
        .returning(|_, _| Ok(vec![person(BOB), person(DEE)]));
    let summary = ports
        .build()
        .thread_summary(&as_user(ANN), MessageRef::Id(MessageId(1)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.message.id, MessageId(1));
    assert_eq!(summary.reply_count, 2);
    assert_eq!(summary.last_reply_at, Some(replied_at));
    assert_eq!(summary.participants, [person(BOB), person(DEE)]);
}

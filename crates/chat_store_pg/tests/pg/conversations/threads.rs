//! Threads (kept on the parent across send, delete and restore), mentions (kept per
//! member, re-counted by reading), who deleted a message, and a user's membership.

use chat_app::{ConversationStore, Mention, MessageStore, RoomStore};
use chat_domain::{MessageId, Sender, Seq, ThreadStats};

use super::{
    Scene, assert_not_found, contents, find, mentioning, person, reply, scene, send, system, text,
    window,
};
use crate::common::{Fixture, fixture};
use crate::webhooks::number;

#[tokio::test]
async fn a_thread_is_the_replies_kept_counted_across_delete_and_restore() {
    let Fixture { store, db: _db } = fixture();
    let Scene {
        acme,
        ann,
        ben,
        general,
        other,
        ..
    } = scene(&store).await;
    let (a, g) = (acme.id, general.id);
    let parent = send(&store, a, g, text(&ann, "shall we?")).await;
    assert_eq!(parent.thread, ThreadStats::default());
    let first = send(&store, a, g, reply(text(&ann, "I say yes"), &parent)).await;
    send(&store, a, g, text(&ben, "not in the thread")).await;
    let second = send(&store, a, g, reply(text(&ben, "me too"), &parent)).await;
    let third = send(&store, a, g, reply(system("Cid joined"), &parent)).await;
    let fourth = send(&store, a, g, reply(text(&ann, "then go"), &parent)).await;
    // A reply to a reply is in the reply's thread, not the parent's.
    send(&store, a, g, reply(text(&ben, "nested"), &first)).await;

    let stats = |reply_count, last: &chat_domain::Message| ThreadStats {
        reply_count,
        last_reply_at: Some(last.created_at),
    };
    assert_eq!(find(&store, a, parent.id).await.thread, stats(4, &fourth));
    assert_eq!(find(&store, a, first.id).await.thread.reply_count, 1);
    let (replies, total) = store
        .thread(a, parent.id, window(0, 50))
        .await
        .expect("thread");
    assert_eq!(
        contents(&replies),
        ["I say yes", "me too", "Cid joined", "then go"]
    );
    assert_eq!(total, 4);
    for reply in &replies {
        assert_eq!(reply.reply_to, Some(parent.id));
        assert_eq!(reply.room_uuid, general.uuid);
    }
    let (page, total) = store
        .thread(a, parent.id, window(1, 2))
        .await
        .expect("thread");
    assert_eq!((contents(&page), total), (vec!["me too", "Cid joined"], 4));
    // Users only, each once, in the order of their first reply.
    assert_eq!(
        store
            .thread_participants(a, parent.id)
            .await
            .expect("participants"),
        [person(&ann), person(&ben)]
    );

    // Deleting the newest reply: one fewer, and the one before is the newest.
    store
        .set_message_deleted(a, fourth.id, true, None)
        .await
        .expect("deleted");
    assert_eq!(find(&store, a, parent.id).await.thread, stats(3, &third));
    // Deleting twice changes nothing more.
    store
        .set_message_deleted(a, fourth.id, true, None)
        .await
        .expect("deleted again");
    store
        .set_message_deleted(a, second.id, true, None)
        .await
        .expect("deleted");
    assert_eq!(find(&store, a, parent.id).await.thread, stats(2, &third));
    let (replies, total) = store
        .thread(a, parent.id, window(0, 50))
        .await
        .expect("thread");
    assert_eq!(
        (contents(&replies), total),
        (vec!["I say yes", "Cid joined"], 2)
    );
    assert_eq!(
        store
            .thread_participants(a, parent.id)
            .await
            .expect("participants"),
        [person(&ann)]
    );
    for reply in [first.id, third.id] {
        store
            .set_message_deleted(a, reply, true, None)
            .await
            .expect("deleted");
    }
    assert_eq!(
        find(&store, a, parent.id).await.thread,
        ThreadStats::default()
    );

    // Restoring brings them back.
    for reply in [first.id, second.id, third.id, fourth.id] {
        store
            .set_message_deleted(a, reply, false, None)
            .await
            .expect("restored");
    }
    assert_eq!(find(&store, a, parent.id).await.thread, stats(4, &fourth));

    // Deleting the parent leaves its thread alone.
    store
        .set_message_deleted(a, parent.id, true, None)
        .await
        .expect("deleted");
    assert_eq!(find(&store, a, parent.id).await.thread.reply_count, 4);

    // Another account's message, or none: not found.
    assert_not_found(store.thread(other.id, parent.id, window(0, 50)).await);
    assert_not_found(store.thread_participants(other.id, parent.id).await);
    assert_not_found(store.thread(a, MessageId(i64::MAX), window(0, 50)).await);
    assert_not_found(store.thread_participants(a, MessageId(i64::MAX)).await);
}

#[tokio::test]
async fn mentions_keep_members_of_the_room_once_in_order_never_the_sender() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let (a, g) = (s.acme.id, s.general.id);
    let message = send(
        &store,
        a,
        g,
        mentioning(
            text(&s.ann, "hello all"),
            vec![
                Mention::Id(s.ben.id),
                // By chat user_id: an external id, or an id written as a string.
                Mention::Label("dee".to_owned()),
                Mention::Label(s.cid.id.0.to_string()),
                // The sender, a user in no room, someone unknown, a repeat, another
                // account's user, and Dee's integer id as a label (she has an external
                // id: only that names her).
                Mention::Id(s.ann.id),
                Mention::Id(s.out.id),
                Mention::Label("nobody".to_owned()),
                Mention::Id(s.ben.id),
                Mention::Label("dee".to_owned()),
                Mention::Id(s.eve.id),
                Mention::Label(s.eve.id.0.to_string()),
                Mention::Label(s.dee.id.0.to_string()),
            ],
        ),
    )
    .await;
    let expected = [person(&s.ben), person(&s.dee), person(&s.cid)];
    assert_eq!(message.mentions, expected);
    assert_eq!(find(&store, a, message.id).await.mentions, expected);
    assert_eq!(
        number(
            &db,
            &format!(
                "SELECT count(*) AS n FROM message_mentions WHERE message_id = {}",
                message.id.0
            )
        ),
        3
    );
    // Random: Ben is a member, Cid is not.
    let elsewhere = send(
        &store,
        a,
        s.random.id,
        mentioning(
            text(&s.ann, "psst"),
            vec![Mention::Id(s.cid.id), Mention::Id(s.ben.id)],
        ),
    )
    .await;
    assert_eq!(elsewhere.mentions, [person(&s.ben)]);
    // A system message mentions too.
    let notice = send(
        &store,
        a,
        g,
        mentioning(system("Ben, look"), vec![Mention::Id(s.ben.id)]),
    )
    .await;
    assert_eq!(notice.mentions, [person(&s.ben)]);
    // A user with an external id is not named by their integer id written as a string.
    let by_number = send(
        &store,
        a,
        g,
        mentioning(
            text(&s.ann, "hi"),
            vec![Mention::Label(s.dee.id.0.to_string())],
        ),
    )
    .await;
    assert_eq!(by_number.mentions, []);
}

#[tokio::test]
async fn unread_mentions_are_kept_per_member_and_recounted_by_reading() {
    let Fixture { store, db: _db } = fixture();
    let s = scene(&store).await;
    let (a, g) = (s.acme.id, s.general.id);
    let rooms = vec![g, s.random.id];
    let unread = async |user: &chat_domain::User| {
        let mut counts = store
            .unread_counts(a, user.id, rooms.clone())
            .await
            .expect("unread counts");
        counts.sort();
        counts
            .into_iter()
            .map(|(room, unread)| (room, unread.messages, unread.mentions))
            .collect::<Vec<_>>()
    };
    let to_ben = |content| mentioning(text(&s.ann, content), vec![Mention::Id(s.ben.id)]);
    let first = send(&store, a, g, to_ben("one")).await;
    send(&store, a, g, text(&s.ann, "no mention")).await;
    let third = send(&store, a, g, to_ben("three")).await;
    send(&store, a, s.random.id, to_ben("elsewhere")).await;
    assert_eq!(unread(&s.ben).await, [(g, 3, 2), (s.random.id, 1, 1)]);
    assert_eq!(unread(&s.cid).await, [(g, 3, 0)]);

    // Reading up to the first: one mention left; then everything: none.
    store
        .mark_read(a, g, s.ben.id, Some(first.seq))
        .await
        .expect("read");
    assert_eq!(unread(&s.ben).await, [(g, 2, 1), (s.random.id, 1, 1)]);
    // Reading backwards moves nothing and counts nothing.
    store
        .mark_read(a, g, s.ben.id, Some(Seq(0)))
        .await
        .expect("read");
    assert_eq!(unread(&s.ben).await[0], (g, 2, 1));
    assert_eq!(
        store.mark_read(a, g, s.ben.id, None).await.expect("read"),
        third.seq
    );
    assert_eq!(unread(&s.ben).await, [(g, 0, 0), (s.random.id, 1, 1)]);

    // Sending reads up to one's own message: no mention of the sender is unread then.
    send(&store, a, g, to_ben("four")).await;
    assert_eq!(unread(&s.ben).await[0], (g, 1, 1));
    send(&store, a, g, text(&s.ben, "I am here")).await;
    assert_eq!(unread(&s.ben).await[0], (g, 0, 0));
}

#[tokio::test]
async fn a_deleted_message_says_who_deleted_it_until_restored() {
    let Fixture { store, db: _db } = fixture();
    let s = scene(&store).await;
    let (a, g) = (s.acme.id, s.general.id);
    let by_dee = send(&store, a, g, text(&s.ann, "one")).await;
    let by_key = send(&store, a, g, text(&s.ann, "two")).await;

    let (deleted, _) = store
        .set_message_deleted(a, by_dee.id, true, Some(s.dee.id))
        .await
        .expect("deleted");
    let dee = Sender::User {
        id: s.dee.id,
        label: "dee".to_owned(),
    };
    assert_eq!(deleted.deleted_by, Some(dee.clone()));
    assert_eq!(
        find(&store, a, by_dee.id).await.deleted_by,
        Some(dee.clone())
    );
    // A second delete changes nothing, not even who did it.
    let (again, _) = store
        .set_message_deleted(a, by_dee.id, true, Some(s.ben.id))
        .await
        .expect("deleted again");
    assert_eq!(again.deleted_by, Some(dee));
    let (restored, _) = store
        .set_message_deleted(a, by_dee.id, false, Some(s.ben.id))
        .await
        .expect("restored");
    assert_eq!((restored.deleted_at, restored.deleted_by), (None, None));

    let (deleted, _) = store
        .set_message_deleted(a, by_key.id, true, None)
        .await
        .expect("deleted");
    assert_eq!(deleted.deleted_by, Some(Sender::System));
    // A user of another account is no one here.
    let live = send(&store, a, g, text(&s.ann, "three")).await;
    assert_not_found(
        store
            .set_message_deleted(a, live.id, true, Some(s.eve.id))
            .await,
    );
    assert_eq!(find(&store, a, live.id).await.deleted_at, None);
}

#[tokio::test]
async fn a_membership_is_found_only_for_a_member_of_the_accounts_room() {
    let Fixture { store, db: _db } = fixture();
    let s = scene(&store).await;
    let found = store
        .find_membership(s.acme.id, s.general.id, s.dee.id)
        .await
        .expect("looked up")
        .expect("a member");
    assert_eq!(found.user.id, s.dee.id);
    assert_eq!(
        found.user.external_id.as_ref().map(|e| e.as_str()),
        Some("dee")
    );
    for (account, room, user) in [
        (s.acme.id, s.random.id, s.cid.id),
        (s.acme.id, s.general.id, s.out.id),
        (s.other.id, s.general.id, s.dee.id),
        (s.acme.id, s.elsewhere.id, s.eve.id),
    ] {
        assert!(
            store
                .find_membership(account, room, user)
                .await
                .expect("looked up")
                .is_none()
        );
    }
}

//! Delivered positions written in batches (`MessageStore::mark_delivered`): each member
//! forward to its mark, never past the room's newest message, only the account's members,
//! and batches of several nodes side by side without deadlocks.

use chat_app::MessageStore;
use chat_domain::{Seq, User, UserId};

use crate::common::{create_user, execute, fixture, mark, racing_store};
use crate::messages::{add, position_of, scene, send, text};

#[tokio::test]
async fn a_batch_moves_each_member_forward_to_its_mark_within_the_account() {
    let f = fixture();
    let store = &f.store;
    let s = scene(store).await;
    let (acme, general, random) = (s.acme.id, s.general.id, s.random.id);
    for i in 0..5 {
        send(store, acme, general, text(&s.ann, &format!("g{i}"))).await;
    }
    for i in 0..3 {
        send(store, acme, random, text(&s.ann, &format!("r{i}"))).await;
    }
    send(store, s.other.id, s.elsewhere.id, text(&s.eve, "hi")).await;
    // Ann sent everything: she has it all delivered already.
    assert_eq!(position_of(store, acme, general, &s.ann).await, (5, 5));
    assert_eq!(position_of(store, acme, general, &s.ben).await, (0, 0));

    store
        .mark_delivered(
            acme,
            vec![
                // Ben twice in General: the furthest counts, whatever the order.
                mark(general, s.ben.id, Seq(4)),
                mark(general, s.ben.id, Seq(2)),
                // Past Random's newest message: up to it.
                mark(random, s.ben.id, Seq(99)),
                // Backwards for Ann: nothing moves.
                mark(general, s.ann.id, Seq(1)),
                // Cid is no member; Eve and her room are another account's.
                mark(general, s.cid.id, Seq(3)),
                mark(general, s.eve.id, Seq(3)),
                mark(s.elsewhere.id, s.eve.id, Seq(1)),
            ],
        )
        .await
        .expect("delivered");

    assert_eq!(position_of(store, acme, general, &s.ben).await, (4, 0));
    assert_eq!(position_of(store, acme, random, &s.ben).await, (3, 0));
    assert_eq!(position_of(store, acme, general, &s.ann).await, (5, 5));
    assert_eq!(
        position_of(store, s.other.id, s.elsewhere.id, &s.eve).await,
        (1, 1),
        "her own message; another account's batch cannot move her"
    );
    assert!(
        store
            .positions(acme, general)
            .await
            .expect("positions")
            .iter()
            .all(|p| p.user != s.cid.id),
        "no row appears for a non-member"
    );
    // An empty batch writes nothing and is no error.
    store.mark_delivered(acme, Vec::new()).await.expect("empty");
}

#[tokio::test]
async fn batches_of_the_same_members_in_opposite_orders_do_not_deadlock() {
    let f = fixture();
    let s = scene(&f.store).await;
    let (acme, general) = (s.acme.id, s.general.id);
    let mut members: Vec<User> = Vec::new();
    for i in 0..40 {
        members.push(create_user(&f.store, acme, &format!("m{i}"), "agent").await);
    }
    let refs: Vec<&User> = members.iter().collect();
    add(&f.store, acme, general, &refs).await;
    const ROUNDS: i64 = 30;
    for i in 0..ROUNDS {
        send(&f.store, acme, general, text(&s.ann, &format!("m{i}"))).await;
    }

    // Two nodes write what their sockets delivered, each batch naming the same members,
    // one in the opposite order of the other, round after round at the same time. The
    // planner is steered to the plan of a large table (the members' rows found by index
    // in the batch's order), in which the locks would follow each batch's order.
    for setting in ["enable_seqscan", "enable_hashjoin", "enable_mergejoin"] {
        execute(
            &f.db,
            &format!("ALTER DATABASE \"{}\" SET {setting} = off", f.db.name()),
        );
    }
    let (a, b) = (racing_store(&f.db, 2), racing_store(&f.db, 2));
    let ids: Vec<UserId> = members.iter().map(|m| m.id).collect();
    let node = |store: chat_store_pg::PgStore, reversed: bool| {
        let mut ids = ids.clone();
        if reversed {
            ids.reverse();
        }
        tokio::spawn(async move {
            for round in 1..=ROUNDS {
                let marks = ids.iter().map(|u| mark(general, *u, Seq(round))).collect();
                store.mark_delivered(acme, marks).await?;
            }
            Ok::<_, chat_app::StoreError>(())
        })
    };
    let (one, other) = tokio::join!(node(a, false), node(b, true));
    one.expect("the task ran").expect("every batch written");
    other.expect("the task ran").expect("every batch written");
    for member in &members {
        assert_eq!(
            position_of(&f.store, acme, general, member).await,
            (ROUNDS, 0)
        );
    }
}

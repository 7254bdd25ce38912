//! Which connections hear that a new message names their person.

use super::*;
use chat_domain::Person;

fn mentioning(people: &[i64]) -> Message {
    Message {
        mentions: people
            .iter()
            .map(|id| Person {
                id: UserId(*id),
                label: format!("user_{id}"),
            })
            .collect(),
        ..message(ROOM, 4)
    }
}

fn delivery(event: MessageEvent) -> Delivery {
    Delivery::new(
        LiveEvent::Domain(DomainEvent::Message(event)),
        Context::default(),
    )
}

#[test]
fn a_new_message_naming_the_sockets_person_is_a_mention_for_it_and_for_nobody_else() {
    let sessions = Ports::default().sessions();
    // Bob is user 7: named second.
    let created = delivery(MessageEvent::Created(mentioning(&[3, 7])));
    for session in [room_session(None), stream_session()] {
        let Some((message, person)) = sessions.mentioned(&session, &created) else {
            panic!("Bob is mentioned on {:?}", session.kind);
        };
        assert_eq!(message.seq, Seq(4));
        assert_eq!(
            person,
            &Person {
                id: UserId(7),
                label: "user_7".to_owned()
            }
        );
    }
    // A socket without a person (the API key listening) is nobody mentioned.
    assert!(sessions.mentioned(&listener(None), &created).is_none());
    // Others are named, not Bob; nobody is.
    for people in [&[3, 8][..], &[]] {
        let created = delivery(MessageEvent::Created(mentioning(people)));
        assert!(
            sessions.mentioned(&room_session(None), &created).is_none(),
            "{people:?}"
        );
    }
}

#[test]
fn only_a_new_message_mentions_anyone_not_its_edits_or_pins() {
    let sessions = Ports::default().sessions();
    let named = mentioning(&[7]);
    for event in [
        MessageEvent::Updated(named.clone()),
        MessageEvent::Pinned(named.clone()),
        MessageEvent::Restored(named),
    ] {
        let delivery = delivery(event);
        assert!(
            sessions.mentioned(&stream_session(), &delivery).is_none(),
            "{:?}",
            delivery.event
        );
    }
}

//! NATS subjects of notices: `{prefix}.{account}.{room}` for a notice about a room,
//! `{prefix}.{account}._` for one about an account as a whole.
//!
//! Every node needs every notice today and subscribes to `{prefix}.*.*`; the account and
//! room in the subject are there so that an operator can watch one room
//! (`nats sub 'chat.events.7.42'`), and so that nodes could one day subscribe only to the
//! accounts they serve, without a change of format.

use chat_app::{CredentialEvent, Notice, PresenceChange, Typing};
use chat_domain::{AccountId, RoomId};

/// The subject prefix of [`NatsRelay::connect`](crate::NatsRelay::connect).
pub const SUBJECT_PREFIX: &str = "chat.events";

/// The last token of an account-wide notice's subject (`_` is no room id: ids are
/// integers).
const ACCOUNT_WIDE: &str = "_";

/// The subjects of one deployment: its prefix, checked.
#[derive(Debug, Clone)]
pub(crate) struct Subjects {
    prefix: String,
}

impl Subjects {
    /// Subjects under `prefix` (`chat.events`, say): dot-separated tokens, none empty, no
    /// whitespace and no wildcard (`*`, `>`), or NATS would refuse or misroute them.
    pub(crate) fn new(prefix: &str) -> anyhow::Result<Self> {
        let valid = prefix.split('.').all(|token| {
            !token.is_empty()
                && !token
                    .chars()
                    .any(|c| c.is_whitespace() || c == '*' || c == '>')
        });
        if !valid {
            anyhow::bail!("not a NATS subject prefix: {prefix:?}");
        }
        Ok(Self {
            prefix: prefix.to_owned(),
        })
    }

    /// What a node subscribes to: every notice of the deployment, and only its own
    /// (`{prefix}.*.*`, the account and room tokens: `{prefix}.>` would also hear a
    /// deployment whose prefix merely starts with ours, such as `chat.events.staging`).
    pub(crate) fn all(&self) -> String {
        format!("{}.*.*", self.prefix)
    }

    /// The subject `notice` is published on.
    pub(crate) fn of(&self, notice: &Notice) -> String {
        let prefix = &self.prefix;
        match about(notice) {
            (AccountId(account), Some(RoomId(room))) => format!("{prefix}.{account}.{room}"),
            (AccountId(account), None) => format!("{prefix}.{account}.{ACCOUNT_WIDE}"),
        }
    }
}

/// The account a notice is about, and its room when it names one. A message's change or
/// reaction names the message, not its room (the receiving node reads the room with the
/// message): those go account-wide, as credentials do. Every variant without a
/// wildcard: a new one does not compile until it has a subject.
fn about(notice: &Notice) -> (AccountId, Option<RoomId>) {
    match notice {
        Notice::MessageCreated { account, room, .. }
        | Notice::RoomChanged { account, room, .. }
        | Notice::RoomDeleted { account, room, .. }
        | Notice::Membership { account, room, .. }
        | Notice::Read { account, room, .. }
        | Notice::Typing(Typing { account, room, .. })
        | Notice::Presence(PresenceChange { account, room, .. }) => (*account, Some(*room)),
        Notice::MessageChanged { account, .. }
        | Notice::Reaction { account, .. }
        | Notice::Credentials(CredentialEvent { account, .. }) => (*account, None),
    }
}

#[cfg(test)]
// Tests stop at the first surprise, with the reason.
#[allow(clippy::expect_used)]
mod tests {
    use chat_app::{MembershipChange, MessageChange, RoomChange};
    use chat_domain::{Emoji, MessageId, Person, Seq, UserId};
    use uuid::Uuid;

    use super::*;

    fn subjects() -> Subjects {
        Subjects::new(SUBJECT_PREFIX).expect("a valid prefix")
    }

    #[test]
    fn notices_about_a_room_go_to_the_rooms_subject() {
        let (account, room) = (AccountId(7), RoomId(-42));
        let typing = Typing {
            account,
            room,
            room_uuid: Uuid::nil(),
            user_key: "k".to_owned(),
            user: None,
            user_name: "n".to_owned(),
            is_typing: true,
        };
        let presence = PresenceChange {
            account,
            room,
            room_uuid: Uuid::nil(),
            user_key: "k".to_owned(),
            user: None,
            online: true,
        };
        for notice in [
            Notice::MessageCreated {
                account,
                room,
                seq: Seq(1),
                message: None,
            },
            Notice::RoomChanged {
                account,
                room,
                change: RoomChange::Updated,
            },
            Notice::RoomDeleted {
                account,
                room,
                uuid: Uuid::nil(),
            },
            Notice::Membership {
                account,
                room,
                user: UserId(3),
                change: MembershipChange::Joined,
            },
            Notice::Read {
                account,
                room,
                user: UserId(3),
                seq: Seq(1),
            },
            Notice::Typing(typing),
            Notice::Presence(presence),
        ] {
            assert_eq!(subjects().of(&notice), "chat.events.7.-42", "{notice:?}");
        }
    }

    #[test]
    fn notices_that_name_no_room_go_to_the_accounts_subject() {
        let account = AccountId(7);
        for notice in [
            Notice::MessageChanged {
                account,
                message: MessageId(5),
                change: MessageChange::Deleted,
            },
            Notice::Reaction {
                account,
                message: MessageId(5),
                emoji: Emoji::parse("👍").expect("an emoji"),
                user: Person {
                    id: UserId(3),
                    label: "u".to_owned(),
                },
                added: true,
            },
            Notice::Credentials(CredentialEvent {
                account,
                user: None,
            }),
        ] {
            assert_eq!(subjects().of(&notice), "chat.events.7._", "{notice:?}");
        }
    }

    #[test]
    fn a_node_subscribes_to_every_subject_of_its_deployment_and_no_longer_one() {
        assert_eq!(subjects().all(), "chat.events.*.*");
        let other = Subjects::new("staging.chat").expect("a valid prefix");
        assert_eq!(other.all(), "staging.chat.*.*");
        // What a deployment publishes has exactly two tokens after its prefix.
        let notice = Notice::Credentials(CredentialEvent {
            account: AccountId(7),
            user: None,
        });
        let published = subjects().of(&notice);
        assert_eq!(published.split('.').count(), 4, "{published}");
    }

    #[test]
    fn a_prefix_that_is_not_a_subject_is_refused() {
        for prefix in [
            "",
            ".",
            "chat.",
            ".chat",
            "chat..events",
            "chat.*",
            "chat.>",
            "a b",
        ] {
            assert!(Subjects::new(prefix).is_err(), "{prefix:?}");
        }
        assert!(Subjects::new("chat").is_ok());
    }
}

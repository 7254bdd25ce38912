//! A message's reactions as one compact value.
//!
//! A page of 50 messages with a few reactions each names hundreds of users. Held as
//! [`Reaction`]s, each message would own a string per emoji and per user, and a list per
//! emoji: about sixteen allocations a message, made where the page is read and freed where
//! it is rendered. [`Reactions`] keeps every emoji and label of one message in a single
//! buffer, with one list of spans into it: two allocations a message, none for a message
//! without reactions. It hands out borrowed [`ReactionRef`]s to render from.

use std::fmt;

use crate::conversation::{Emoji, Person, Reaction};
use crate::user::UserId;
use crate::validation::FieldError;

/// A message's reactions, in the order each emoji was first used; each emoji once, with
/// the users who reacted with it (at least one, each once), oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reactions {
    /// Every emoji and label, one after the other.
    text: String,
    /// Each emoji's users, then the emoji: `[user, user, emoji, user, emoji]`.
    spans: Vec<Span>,
}

/// Where a user's label or an emoji is in [`Reactions::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Span {
    User { id: UserId, label: (u32, u32) },
    Emoji { text: (u32, u32) },
}

/// Why a stored reaction does not make one: an implausible emoji, no users, or a user
/// without a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidReaction {
    emoji: String,
    problem: String,
}

impl fmt::Display for InvalidReaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reaction {:?}: {}", self.emoji, self.problem)
    }
}

impl std::error::Error for InvalidReaction {}

impl Reactions {
    /// No reactions (allocates nothing).
    pub const fn new() -> Self {
        Self {
            text: String::new(),
            spans: Vec::new(),
        }
    }

    /// Room for `emoji` emoji, `users` users in all and `text` bytes of emoji and labels:
    /// filled within them, it takes exactly two allocations.
    pub fn with_capacity(emoji: usize, users: usize, text: usize) -> Self {
        Self {
            text: String::with_capacity(text),
            spans: Vec::with_capacity(emoji + users),
        }
    }

    /// Adds an emoji this server stored itself (read back from the database) and who
    /// reacted with it, in order: [`push_stored_user`](Self::push_stored_user) for each
    /// user, then [`finish_stored`](Self::finish_stored). Nothing is added on an error.
    pub fn push_stored<L: AsRef<str>>(
        &mut self,
        emoji: &str,
        users: impl IntoIterator<Item = (UserId, L)>,
    ) -> Result<(), InvalidReaction> {
        let (text_mark, spans_mark) = (self.text.len(), self.spans.len());
        let pushed = users
            .into_iter()
            .try_for_each(|(id, label)| self.push_stored_user(id, label.as_ref()))
            .map_err(|e| InvalidReaction {
                emoji: emoji.to_owned(),
                ..e
            })
            .and_then(|()| self.finish_stored(emoji));
        if pushed.is_err() {
            self.text.truncate(text_mark);
            self.spans.truncate(spans_mark);
        }
        pushed
    }

    /// Adds a user to the emoji being read back, which [`finish_stored`](Self::finish_stored)
    /// names once its users are in (a reader may meet them in either order). The label must
    /// not be empty.
    pub fn push_stored_user(&mut self, id: UserId, label: &str) -> Result<(), InvalidReaction> {
        if label.is_empty() {
            return Err(InvalidReaction {
                emoji: String::new(),
                problem: "a user without a label".to_owned(),
            });
        }
        let label = self.append(label)?;
        self.spans.push(Span::User { id, label });
        Ok(())
    }

    /// Makes the users added since the last emoji (at least one) the users of `emoji`, an
    /// emoji this server stored itself: checked as [`Emoji::from_stored`] checks it.
    pub fn finish_stored(&mut self, emoji: &str) -> Result<(), InvalidReaction> {
        let invalid = |problem: String| InvalidReaction {
            emoji: emoji.to_owned(),
            problem,
        };
        Emoji::check_stored(emoji).map_err(|e: FieldError| invalid(e.to_string()))?;
        if !matches!(self.spans.last(), Some(Span::User { .. })) {
            return Err(invalid("no users".to_owned()));
        }
        let text = self.append(emoji).map_err(|e| invalid(e.problem))?;
        self.spans.push(Span::Emoji { text });
        Ok(())
    }

    /// Adds `s` to the text; answers where it is.
    fn append(&mut self, s: &str) -> Result<(u32, u32), InvalidReaction> {
        let start = self.text.len();
        let (Ok(from), Ok(to)) = (u32::try_from(start), u32::try_from(start + s.len())) else {
            return Err(InvalidReaction {
                emoji: String::new(),
                problem: "more than 4 GiB of emoji and labels".to_owned(),
            });
        };
        self.text.push_str(s);
        Ok((from, to))
    }

    /// Empties it, keeping its room (for a reader that starts again).
    pub fn clear(&mut self) {
        self.text.clear();
        self.spans.clear();
    }

    /// Whether no one reacted.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// How many distinct emoji it has.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Each emoji with its users, in order.
    pub fn iter(&self) -> impl Iterator<Item = ReactionRef<'_>> + '_ {
        let mut first = 0;
        self.spans.iter().enumerate().filter_map(move |(at, span)| {
            let Span::Emoji { text } = *span else {
                return None;
            };
            let users = self.spans.get(first..at).unwrap_or_default();
            first = at + 1;
            Some(ReactionRef {
                text: &self.text,
                emoji: text,
                users,
            })
        })
    }

    /// The same reactions as owned [`Reaction`]s.
    pub fn to_vec(&self) -> Vec<Reaction> {
        self.iter().map(|r| r.to_owned()).collect()
    }
}

/// Reactions made of owned ones (each must already be valid: an [`Emoji`] and at least one
/// user, each with a label, as [`Reaction`] promises; one that is not is left out).
impl FromIterator<Reaction> for Reactions {
    fn from_iter<I: IntoIterator<Item = Reaction>>(iter: I) -> Self {
        let mut reactions = Self::new();
        for reaction in iter {
            let users = reaction.users.iter().map(|u| (u.id, u.label.as_str()));
            // Refused only if the promise is broken; then it is not a reaction to keep.
            let _ = reactions.push_stored(reaction.emoji.as_str(), users);
        }
        reactions
    }
}

/// One emoji of a message's [`Reactions`] and who reacted with it, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct ReactionRef<'a> {
    text: &'a str,
    emoji: (u32, u32),
    /// Only [`Span::User`]s.
    users: &'a [Span],
}

impl<'a> ReactionRef<'a> {
    /// The emoji, as given.
    pub fn emoji(&self) -> &'a str {
        slice(self.text, self.emoji)
    }

    /// How many users reacted with it (at least one).
    pub fn count(&self) -> usize {
        self.users.len()
    }

    /// Who reacted with it, oldest first: their id and their ChatAPI `user_id` then.
    pub fn users(&self) -> impl Iterator<Item = (UserId, &'a str)> + 'a {
        let text = self.text;
        self.users.iter().filter_map(move |span| match *span {
            Span::User { id, label } => Some((id, slice(text, label))),
            Span::Emoji { .. } => None,
        })
    }

    /// The same reaction, owned.
    pub fn to_owned(&self) -> Reaction {
        Reaction {
            emoji: Emoji::from_checked(self.emoji()),
            users: self
                .users()
                .map(|(id, label)| Person {
                    id,
                    label: label.to_owned(),
                })
                .collect(),
        }
    }
}

/// The text of a span [`Reactions::append`] answered.
fn slice(text: &str, (from, to): (u32, u32)) -> &str {
    text.get(from as usize..to as usize).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: i64, label: &str) -> Person {
        Person {
            id: UserId(id),
            label: label.to_owned(),
        }
    }

    fn reaction(emoji: &str, users: &[Person]) -> Reaction {
        Reaction {
            emoji: Emoji::parse(emoji).unwrap_or_else(|e| panic!("{emoji}: {e}")),
            users: users.to_vec(),
        }
    }

    #[test]
    fn reactions_keep_their_order_and_users() {
        let owned = vec![
            reaction("🎉", &[person(6, "six")]),
            reaction(":+1:", &[person(5, "bob"), person(4, "user_4")]),
        ];
        let reactions: Reactions = owned.clone().into_iter().collect();
        assert_eq!(reactions.len(), 2);
        type Read<'a> = (&'a str, usize, Vec<(i64, &'a str)>);
        let read: Vec<Read<'_>> = reactions
            .iter()
            .map(|r| {
                (
                    r.emoji(),
                    r.count(),
                    r.users().map(|(id, label)| (id.0, label)).collect(),
                )
            })
            .collect();
        assert_eq!(
            read,
            [
                ("🎉", 1, vec![(6, "six")]),
                (":+1:", 2, vec![(5, "bob"), (4, "user_4")]),
            ]
        );
        assert_eq!(reactions.to_vec(), owned);
    }

    #[test]
    fn stored_reactions_are_checked_and_a_refused_one_adds_nothing() {
        let mut reactions = Reactions::with_capacity(2, 3, 32);
        assert_eq!(
            reactions.push_stored("👍", [(UserId(1), "ann"), (UserId(2), "bo")]),
            Ok(())
        );
        for (emoji, users) in [
            ("ok", vec![(UserId(3), "cy")]),
            ("", vec![(UserId(3), "cy")]),
            ("❤️", vec![]),
            ("❤️", vec![(UserId(3), "cy"), (UserId(4), "")]),
        ] {
            let refused = reactions.push_stored(emoji, users.clone());
            assert!(refused.is_err(), "{emoji:?} {users:?} was taken");
        }
        assert_eq!(
            reactions.to_vec(),
            [reaction("👍", &[person(1, "ann"), person(2, "bo")])]
        );
        assert_eq!(reactions.push_stored(":x:", [(UserId(3), "cy")]), Ok(()));
        let emoji: Vec<&str> = reactions.iter().map(|r| r.emoji()).collect();
        assert_eq!(emoji, ["👍", ":x:"]);
    }

    #[test]
    fn no_reactions_allocate_nothing() {
        let none = Reactions::new();
        assert!(none.is_empty() && none.iter().next().is_none());
        assert_eq!(none, Reactions::default());
        assert_eq!(none.text.capacity() + none.spans.capacity(), 0);
    }
}

//! A message's reactions as one compact value, in the form the store keeps.
//!
//! A page of 50 messages with a few reactions each names hundreds of users. Held as
//! [`Reaction`]s, each message would own a string per emoji and per user, and a list per
//! emoji: about sixteen allocations a message, made where the page is read and freed where
//! it is rendered. [`Reactions`] is one string in its *stored form* (below): read back from
//! a database it is checked in one pass and kept as it is (one allocation a message, none
//! without reactions), and it hands out borrowed [`ReactionRef`]s to render from.
//!
//! # The stored form
//!
//! One line per emoji, in order: the emoji, then for each user a tab (U+0009), the user's
//! id in decimal, a unit separator (U+001F) and the user's label; each line ends with a
//! newline (U+000A). No reactions is the empty string. `👍` by users 5 (`bob`) and 4
//! (`user_4`), then `🎉` by 6 (`6`):
//!
//! ```text
//! 👍\t5\x1fbob\t4\x1fuser_4\n🎉\t6\x1f6\n
//! ```
//!
//! Neither an emoji nor a label has a control character (their rules forbid them), so the
//! form needs no escaping. A store can build it in SQL from its rows.

use std::fmt::{self, Write as _};

use crate::conversation::{Emoji, Person, Reaction};
use crate::user::UserId;

/// Ends an emoji's line of the stored form.
const LINE: u8 = b'\n';
/// Comes before each user of the stored form.
const USER: u8 = b'\t';
/// Separates a user's id from its label in the stored form.
const LABEL: u8 = b'\x1f';

/// A message's reactions, in the order each emoji was first used; each emoji once, with
/// the users who reacted with it (at least one, each once), oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reactions {
    /// The stored form, checked.
    stored: String,
}

/// Why a stored reaction does not make one: an implausible emoji, no users, or a user
/// without a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidReaction {
    emoji: String,
    problem: String,
}

impl InvalidReaction {
    fn new(emoji: &str, problem: impl Into<String>) -> Self {
        Self {
            emoji: emoji.to_owned(),
            problem: problem.into(),
        }
    }
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
            stored: String::new(),
        }
    }

    /// Reactions in their [stored form](self#the-stored-form), as a store that wrote them
    /// reads them back: each line is checked (the emoji as [`Emoji::from_stored`] checks
    /// it, at least one user, each with a decimal id and a label without control
    /// characters) and the text is kept as it is.
    pub fn from_stored(stored: String) -> Result<Self, InvalidReaction> {
        let mut at = 0;
        while at < stored.len() {
            at = check_line(&stored, at)?;
        }
        Ok(Self { stored })
    }

    /// The [stored form](self#the-stored-form).
    pub fn as_stored(&self) -> &str {
        &self.stored
    }

    /// Adds an emoji this server stored itself (checked as [`Emoji::from_stored`] checks
    /// it) and who reacted with it, in order: at least one user, each with a label without
    /// control characters. Nothing is added on an error.
    pub fn push_stored<L: AsRef<str>>(
        &mut self,
        emoji: &str,
        users: impl IntoIterator<Item = (UserId, L)>,
    ) -> Result<(), InvalidReaction> {
        let mark = self.stored.len();
        self.stored.push_str(emoji);
        for (id, label) in users {
            // Writing to a String cannot fail.
            let _ = write!(
                self.stored,
                "{}{}{}{}",
                char::from(USER),
                id.0,
                char::from(LABEL),
                label.as_ref()
            );
        }
        self.stored.push(char::from(LINE));
        let checked = check_line(&self.stored, mark);
        if checked.is_err() {
            self.stored.truncate(mark);
        }
        checked.map(drop)
    }

    /// Whether no one reacted.
    pub fn is_empty(&self) -> bool {
        self.stored.is_empty()
    }

    /// How many distinct emoji it has.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Each emoji with its users, in order.
    pub fn iter(&self) -> impl Iterator<Item = ReactionRef<'_>> + '_ {
        // One pass over each line (checked): the emoji ends at the first tab, and each tab
        // starts a user.
        let text = self.stored.as_str();
        let mut at = 0;
        std::iter::from_fn(move || {
            let line = text.as_bytes().get(at..).filter(|rest| !rest.is_empty())?;
            let (mut emoji_end, mut count, mut end) = (None, 0, line.len());
            for (i, &b) in line.iter().enumerate() {
                if b == USER {
                    count += 1;
                    emoji_end.get_or_insert(i);
                } else if b == LINE {
                    end = i;
                    break;
                }
            }
            let emoji_end = emoji_end.unwrap_or(end);
            let start = at;
            at += end + 1;
            Some(ReactionRef {
                emoji: text.get(start..start + emoji_end)?,
                users: text
                    .get(start + emoji_end + 1..start + end)
                    .unwrap_or_default(),
                count,
            })
        })
    }

    /// The same reactions as owned [`Reaction`]s.
    pub fn to_vec(&self) -> Vec<Reaction> {
        self.iter().map(|r| r.to_owned()).collect()
    }
}

/// Checks the line of `stored` that starts at byte `start` (the emoji, then its users);
/// answers where the next line starts. One pass over its bytes: a page reads hundreds of
/// users.
fn check_line(stored: &str, start: usize) -> Result<usize, InvalidReaction> {
    let bytes = stored.as_bytes();
    let emoji_end = plain_end(bytes, start);
    let emoji = stored.get(start..emoji_end).unwrap_or_default();
    let invalid = |problem: &str| Err(InvalidReaction::new(emoji, problem));
    match bytes.get(emoji_end) {
        Some(&USER) => {}
        Some(&LINE) => return invalid("no users"),
        Some(_) => return invalid("a control character in the emoji"),
        None => return invalid("the last line does not end"),
    }
    if let Err(e) = Emoji::check_stored(emoji) {
        return invalid(&e.to_string());
    }
    let mut user = emoji_end;
    loop {
        let id_start = user + 1;
        let id_end = id_start
            + bytes
                .get(id_start..)
                .unwrap_or_default()
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
        let id = stored.get(id_start..id_end).unwrap_or_default();
        if id.parse::<i64>().is_err() {
            return invalid("a user id that is not a number");
        }
        let label_start = id_end + 1;
        let label_end = plain_end(bytes, label_start);
        if bytes.get(id_end) != Some(&LABEL) || label_end == label_start {
            return invalid("a user without a label");
        }
        match bytes.get(label_end) {
            Some(&USER) => user = label_end,
            Some(&LINE) => return Ok(label_end + 1),
            Some(_) => return invalid("a control character in a label"),
            None => return invalid("the last line does not end"),
        }
    }
}

/// Where the text from `start` on ends: the first ASCII control character, or the end.
fn plain_end(bytes: &[u8], start: usize) -> usize {
    let rest = bytes.get(start..).unwrap_or_default();
    start
        + rest
            .iter()
            .position(u8::is_ascii_control)
            .unwrap_or(rest.len())
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
    emoji: &'a str,
    /// The users of its stored line: `id␟label`, separated by tabs.
    users: &'a str,
    /// How many they are.
    count: usize,
}

impl<'a> ReactionRef<'a> {
    /// The emoji, as given.
    pub fn emoji(&self) -> &'a str {
        self.emoji
    }

    /// How many users reacted with it (at least one).
    pub fn count(&self) -> usize {
        self.count
    }

    /// Who reacted with it, oldest first: their id and their ChatAPI `user_id` then.
    pub fn users(&self) -> impl Iterator<Item = (UserId, &'a str)> + 'a {
        // Read as checked (`id␟label`, tab-separated): digits, then the label.
        let text = self.users;
        let mut at = 0;
        std::iter::from_fn(move || {
            let bytes = text.as_bytes();
            let rest = bytes.get(at..).filter(|rest| !rest.is_empty())?;
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            let id = rest.get(..digits)?.iter().fold(0_i64, |id, &digit| {
                id.wrapping_mul(10).wrapping_add(i64::from(digit - b'0'))
            });
            let label_start = at + digits + 1;
            let label = bytes.get(label_start..)?;
            let label_end =
                label_start + label.iter().position(|&b| b == USER).unwrap_or(label.len());
            at = label_end + 1;
            Some((UserId(id), text.get(label_start..label_end)?))
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
        let mut reactions = Reactions::new();
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
        assert_eq!(none.stored.capacity(), 0);
        assert_eq!(Reactions::from_stored(String::new()), Ok(none));
    }

    #[test]
    fn the_stored_form_reads_back_as_written() {
        let stored = "👍\t5\x1fbob\t4\x1fuser_4\n🎉\t6\x1f6\n";
        let read =
            Reactions::from_stored(stored.to_owned()).unwrap_or_else(|e| panic!("{stored:?}: {e}"));
        assert_eq!(
            read.to_vec(),
            [
                reaction("👍", &[person(5, "bob"), person(4, "user_4")]),
                reaction("🎉", &[person(6, "6")]),
            ]
        );
        assert_eq!(read.iter().map(|r| r.count()).collect::<Vec<_>>(), [2, 1]);
        let rebuilt: Reactions = read.to_vec().into_iter().collect();
        assert_eq!(rebuilt.as_stored(), stored);
        let quoted = "❤️\t7\x1fsay \"hi\" \\o/\n";
        let read = Reactions::from_stored(quoted.to_owned());
        assert_eq!(
            read.map(|r| r.to_vec()),
            Ok(vec![reaction("❤️", &[person(7, "say \"hi\" \\o/")])])
        );
    }

    #[test]
    fn a_stored_form_that_is_not_one_is_refused() {
        for bad in [
            "👍\t5\x1fbob",
            "👍\n",
            "👍\t\n",
            "👍\t5\n",
            "👍\t5\x1f\n",
            "👍\tfive\x1fbob\n",
            "👍\t\x1fbob\n",
            "👍\t-5\x1fbob\n",
            "👍\t99999999999999999999\x1fbob\n",
            "👍\t5\x1fbob\t\n",
            "👍\t5\x1fb\x1fob\n",
            "👍\t5\x1fb\rob\n",
            "👍\x1f\t5\x1fbob\n",
            "ok\t5\x1fbob\n",
            "\t5\x1fbob\n",
            "👍\t5\x1fbob\n\n",
            "👍\t5\x1fbob\n🎉",
        ] {
            let read = Reactions::from_stored(bad.to_owned());
            assert!(read.is_err(), "{bad:?} was taken: {read:?}");
        }
        let error = Reactions::from_stored("👍\t5\x1f\n".to_owned()).err();
        assert_eq!(
            error.map(|e| e.to_string()),
            Some("reaction \"👍\": a user without a label".to_owned())
        );
    }
}

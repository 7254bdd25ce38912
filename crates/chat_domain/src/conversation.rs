//! What people do around messages: react to them, mention each other, pin them, reply in
//! threads.
//!
//! A reaction is an [`Emoji`] one user put on a message; a message carries at most
//! [`MAX_EMOJI_PER_MESSAGE`] distinct ones, each user at most once per emoji. Mentions name
//! members of the message's room; pins mark messages a room wants to keep in sight.

use time::OffsetDateTime;
use unicode_segmentation::UnicodeSegmentation;

use crate::sender::Sender;
use crate::user::UserId;
use crate::validation::{FieldError, Problem};

/// The most distinct emoji one message may carry.
pub const MAX_EMOJI_PER_MESSAGE: usize = 20;

/// The most users one message may mention.
pub const MAX_MENTIONS: usize = 50;

/// A reaction's emoji: either exactly one grapheme cluster that is not ASCII, not
/// whitespace and not a control character (`👍`, `👩🏽‍💻`, `🇫🇷`), or a short code
/// `:name:` whose name has 1 to [`Emoji::MAX_SHORT_CODE`] characters of `a-z`, `0-9`,
/// `_`, `+` and `-` (`:thumbsup:`, `:+1:`). Kept exactly as given: `👍` and
/// `:thumbsup:` are two different reactions (the server does not map short codes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Emoji(String);

impl Emoji {
    /// The most characters a short code's name may have (between the colons).
    pub const MAX_SHORT_CODE: usize = 32;
    /// The most bytes one grapheme cluster may take (a long ZWJ sequence is about 35).
    pub const MAX_BYTES: usize = 64;
    /// The rule, as error messages and the OpenAPI document say it.
    pub const RULE: &'static str = "one emoji (a single grapheme cluster) or a short code like :thumbsup: (1-32 of a-z 0-9 _ + -)";

    /// `raw` if it follows [`RULE`](Self::RULE), else [`Problem::Invalid`] on field `emoji`
    /// ([`Problem::Blank`] when empty).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.is_empty() {
            return Err(FieldError::new("emoji", Problem::Blank));
        }
        let valid = Self::is_short_code(raw) || Self::is_one_symbol(raw);
        if !valid {
            return Err(FieldError::new(
                "emoji",
                Problem::Invalid(Self::RULE.to_owned()),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// An emoji this server stored itself after [`parse`](Self::parse) accepted it (a
    /// reaction read back from the database), without parsing it again: reading a page
    /// reads hundreds of them, and counting grapheme clusters is the costly part of the
    /// rule. Only what is cheap is checked: not empty, at most [`MAX_BYTES`](Self::MAX_BYTES),
    /// and a short code's shape or not ASCII, so that a corrupt value still shows as one.
    /// Anything from outside (a request, a relayed frame) goes through
    /// [`parse`](Self::parse) instead.
    pub fn from_stored(raw: String) -> Result<Self, FieldError> {
        Self::check_stored(&raw)?;
        Ok(Self(raw))
    }

    /// What [`from_stored`](Self::from_stored) checks, without taking the text.
    pub fn check_stored(raw: &str) -> Result<(), FieldError> {
        let plausible = !raw.is_empty()
            && raw.len() <= Self::MAX_BYTES
            && (Self::is_short_code(raw) || !raw.is_ascii());
        if !plausible {
            return Err(FieldError::new(
                "emoji",
                Problem::Invalid(Self::RULE.to_owned()),
            ));
        }
        Ok(())
    }

    /// An emoji already checked, as held in [`Reactions`](crate::Reactions).
    pub(crate) fn from_checked(raw: &str) -> Self {
        Self(raw.to_owned())
    }

    fn is_short_code(raw: &str) -> bool {
        let Some(name) = raw.strip_prefix(':').and_then(|r| r.strip_suffix(':')) else {
            return false;
        };
        (1..=Self::MAX_SHORT_CODE).contains(&name.len())
            && name
                .bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'+' | b'-'))
    }

    fn is_one_symbol(raw: &str) -> bool {
        raw.len() <= Self::MAX_BYTES
            && raw.graphemes(true).count() == 1
            && !raw.is_ascii()
            && !raw.chars().any(|c| c.is_whitespace() || c.is_control())
            // Not only invisible format characters (zero-width joiners and spaces,
            // variation selectors, the byte-order mark).
            && raw.chars().any(|c| {
                !matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
                    | '\u{2060}'..='\u{206F}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}')
            })
    }

    /// The emoji as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The emoji as given, as an owned string (for a rendering that takes the message).
    pub fn into_string(self) -> String {
        self.0
    }
}

/// A user as a message names them: the integer id (the account dialect) and the ChatAPI
/// `user_id` they had when they acted (as a message's `sender_id`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Person {
    /// The user's integer id.
    pub id: UserId,
    /// Their ChatAPI `user_id` at the time.
    pub label: String,
}

/// One emoji on a message and who put it there, in the order they did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    /// The emoji.
    pub emoji: Emoji,
    /// Who reacted with it (never empty; each user once), oldest first.
    pub users: Vec<Person>,
}

impl Reaction {
    /// How many users reacted with it.
    pub fn count(&self) -> usize {
        self.users.len()
    }
}

/// A message's pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// When it was pinned.
    pub pinned_at: OffsetDateTime,
    /// Who pinned it ([`Sender::System`]: the API key speaking for nobody).
    pub pinned_by: Sender,
}

/// The replies to a message, summed up (kept on the message as replies come and go).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ThreadStats {
    /// How many replies it has that are not deleted.
    pub reply_count: i64,
    /// When the newest reply was sent, if any.
    pub last_reply_at: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_are_one_symbol_or_a_short_code() {
        for ok in [
            "👍",
            "👩🏽‍💻",
            "🇫🇷",
            "❤️",
            ":thumbsup:",
            ":+1:",
            ":a:",
            &format!(":{}:", "x".repeat(32)),
        ] {
            assert_eq!(Emoji::parse(ok).map(|e| e.0), Ok(ok.to_owned()), "{ok:?}");
        }
        for bad in [
            "a",
            "ok",
            "👍👍",
            "👍 ",
            " ",
            "::",
            ":Thumbs:",
            &format!(":{}:", "x".repeat(33)),
            ":a b:",
            "\u{0}",
            "\u{200b}",
        ] {
            assert!(Emoji::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Emoji::parse(""),
            Err(FieldError::new("emoji", Problem::Blank))
        );
    }

    #[test]
    fn stored_emoji_are_checked_only_for_their_shape() {
        for ok in ["👍", "👩🏽‍💻", ":thumbsup:"] {
            assert_eq!(
                Emoji::from_stored(ok.to_owned()),
                Emoji::parse(ok),
                "{ok:?}"
            );
        }
        for bad in ["", "ok", ":Thumbs:", "a b", &"é".repeat(33)] {
            assert!(Emoji::from_stored(bad.to_owned()).is_err(), "{bad:?}");
        }
        // Not the whole rule: parse is what outside input goes through.
        assert!(Emoji::from_stored("👍👍".to_owned()).is_ok());
        assert!(Emoji::parse("👍👍").is_err());
    }
}

//! Conversations: what a caller asks to search, and how a dialect names mentioned users.

use chat_domain::{FieldError, FieldErrors, MessageKind, Problem, RoomRef, UserId, storable};
use time::OffsetDateTime;

use crate::model::paging::Window;

/// How a dialect names a user it mentions: the account dialect by integer id, the
/// ChatAPI dialect by its `user_id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Mention {
    /// By integer id (`content_attributes.mentions`).
    Id(UserId),
    /// By ChatAPI `user_id` (`meta.mentions`).
    Label(String),
}

impl Mention {
    /// The users `meta.mentions` names (the ChatAPI dialect): an array of `user_id`s
    /// (strings; an integer is read as its decimal string, which is how a user without an
    /// external id is named). Absent or null: none. Anything else is
    /// [`Problem::Invalid`] on field `mentions`.
    pub fn from_meta(
        meta: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Vec<Self>, FieldError> {
        use serde_json::Value;
        let invalid = || {
            FieldError::new(
                "mentions",
                Problem::Invalid("meta.mentions must be an array of user ids".to_owned()),
            )
        };
        match meta.get("mentions") {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(label) if !label.is_empty() => Ok(Mention::Label(label.clone())),
                    Value::Number(n) if n.is_u64() => Ok(Mention::Label(n.to_string())),
                    _ => Err(invalid()),
                })
                .collect(),
            Some(_) => Err(invalid()),
        }
    }
}

/// A valid search across an account's rooms.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    /// What to look for: words (any inflection) and "quoted phrases", as
    /// `websearch_to_tsquery` reads them; `-word` leaves a word out, `or` gives choices.
    pub text: String,
    /// The language the words are in (an ISO 639-1 code or PostgreSQL's name for it,
    /// one of [`SearchQuery::LANGUAGES`]); English when not given.
    pub language: Option<String>,
    /// Only in these rooms (none: every room the caller may read).
    pub rooms: Vec<RoomRef>,
    /// Only from these senders (ChatAPI `sender_id`s; `system` for system messages).
    pub senders: Vec<String>,
    /// Only of these kinds.
    pub kinds: Vec<MessageKind>,
    /// Only sent at or after this instant.
    pub from: Option<OffsetDateTime>,
    /// Only sent at or before this instant.
    pub to: Option<OffsetDateTime>,
    /// Only messages that mention someone (`true`) or no one (`false`).
    pub has_mentions: Option<bool>,
    /// Only messages with files (`true`) or without (`false`).
    pub has_attachments: Option<bool>,
    /// Only rooms this user belongs to (set by the use case for callers limited to their
    /// rooms: agents and end users).
    pub reader: Option<UserId>,
    /// Which slice of the results.
    pub window: Window,
}

/// The raw fields of a search, as a dialect received them (lists already split).
#[derive(Debug, Clone, Default)]
pub struct RawSearch<'a> {
    /// `q`.
    pub q: Option<&'a str>,
    /// `lang`.
    pub language: Option<&'a str>,
    /// `room_ids`, resolved to references (a malformed id is the dialect's to refuse).
    pub rooms: Vec<RoomRef>,
    /// `sender_ids`.
    pub senders: Vec<&'a str>,
    /// `message_types`.
    pub kinds: Vec<&'a str>,
    /// `date_from`.
    pub from: Option<OffsetDateTime>,
    /// `date_to`.
    pub to: Option<OffsetDateTime>,
    /// `has_mentions`.
    pub has_mentions: Option<bool>,
    /// `has_attachments`.
    pub has_attachments: Option<bool>,
}

impl SearchQuery {
    /// The most characters `q` may have.
    pub const MAX_CHARS: usize = 256;
    /// The most entries a list filter may have.
    pub const MAX_LIST: usize = 100;
    /// The languages `lang` accepts: ISO 639-1 codes and PostgreSQL's configuration
    /// names (the migration's `chat_search_config` maps the same).
    pub const LANGUAGES: &'static [&'static str] = &[
        "ar",
        "ca",
        "da",
        "nl",
        "en",
        "fi",
        "fr",
        "de",
        "el",
        "hu",
        "id",
        "ga",
        "it",
        "lt",
        "no",
        "nb",
        "pt",
        "ro",
        "ru",
        "es",
        "sv",
        "tr",
        "arabic",
        "catalan",
        "danish",
        "dutch",
        "english",
        "finnish",
        "french",
        "german",
        "greek",
        "hungarian",
        "indonesian",
        "irish",
        "italian",
        "lithuanian",
        "norwegian",
        "portuguese",
        "romanian",
        "russian",
        "spanish",
        "swedish",
        "turkish",
        "simple",
    ];

    /// Checks raw input, reporting every bad field at once: `q` non-blank and at most
    /// [`MAX_CHARS`](Self::MAX_CHARS); `lang` one of [`LANGUAGES`](Self::LANGUAGES); each
    /// list at most [`MAX_LIST`](Self::MAX_LIST) entries; `message_types` valid kinds;
    /// `date_from` not after `date_to`.
    pub fn parse(raw: RawSearch<'_>, window: Window) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let text = raw.q.map(str::trim).unwrap_or_default();
        if text.is_empty() {
            errors.push(FieldError::new("q", Problem::Blank));
        } else if text.chars().count() > Self::MAX_CHARS {
            errors.push(FieldError::new(
                "q",
                Problem::TooLong {
                    max: Self::MAX_CHARS,
                },
            ));
        } else {
            errors.collect(storable::text("q", text));
        }
        let language = raw.language.map(str::to_ascii_lowercase);
        if let Some(language) = &language
            && !Self::LANGUAGES.contains(&language.as_str())
        {
            errors.push(FieldError::new(
                "lang",
                Problem::NotIncluded {
                    allowed: Self::LANGUAGES,
                },
            ));
        }
        for (field, len) in [
            ("room_ids", raw.rooms.len()),
            ("sender_ids", raw.senders.len()),
            ("message_types", raw.kinds.len()),
        ] {
            if len > Self::MAX_LIST {
                errors.push(FieldError::new(
                    field,
                    Problem::Invalid(format!("at most {} entries", Self::MAX_LIST)),
                ));
            }
        }
        let mut kinds = Vec::new();
        for kind in &raw.kinds {
            match MessageKind::parse(kind) {
                Ok(kind) => kinds.push(kind),
                Err(e) => errors.push(FieldError::new("message_types", e.problem)),
            }
        }
        for sender in &raw.senders {
            errors.collect(storable::text("sender_ids", sender));
        }
        if let (Some(from), Some(to)) = (raw.from, raw.to)
            && from > to
        {
            errors.push(FieldError::new(
                "date_from",
                Problem::Invalid("must not be after date_to".to_owned()),
            ));
        }
        errors.into_result()?;
        Ok(Self {
            text: text.to_owned(),
            language,
            rooms: raw.rooms,
            senders: raw.senders.into_iter().map(str::to_owned).collect(),
            kinds,
            from: raw.from,
            to: raw.to,
            has_mentions: raw.has_mentions,
            has_attachments: raw.has_attachments,
            reader: None,
            window,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window() -> Window {
        Window {
            offset: 0,
            limit: 20,
        }
    }

    #[test]
    fn a_search_needs_words_and_reports_every_bad_filter() {
        let fields = |raw| match SearchQuery::parse(raw, window()) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.iter().map(|e| e.field).collect(),
        };
        assert_eq!(fields(RawSearch::default()), ["q"]);
        assert_eq!(
            fields(RawSearch {
                q: Some("run"),
                language: Some("klingon"),
                kinds: vec!["Poll!"],
                ..RawSearch::default()
            }),
            ["lang", "message_types"]
        );
        let ok = SearchQuery::parse(
            RawSearch {
                q: Some("  \"quick fox\" run "),
                language: Some("DE"),
                kinds: vec!["poll"],
                ..RawSearch::default()
            },
            window(),
        );
        let ok = ok.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ok.text, "\"quick fox\" run");
        assert_eq!(ok.language.as_deref(), Some("de"));
    }
}

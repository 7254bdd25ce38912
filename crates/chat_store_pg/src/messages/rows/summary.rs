//! The reaction summary column `messages.reactions`, read straight into the domain's
//! [`Reaction`]s.
//!
//! The column is `json` (sent by PostgreSQL as stored, where `jsonb` is printed again for
//! every row): `[{"emoji": e, "users": [[id, "label"], ...]}, ...]`. A page of 50 messages
//! with a few reactions each carries hundreds of users, so it is not read as a
//! [`serde_json::Value`] (a tree of maps and arrays, then copied into the domain's types):
//! the JSON text is parsed into typed entries whose strings move into the [`Reaction`]s.
//! A corrupt summary
//! does not fail the read: its error waits for the row's conversion, which reports it with
//! its message's id.

use chat_domain::{Emoji, Person, Reaction, UserId};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::Json;
use serde::Deserialize;

/// The reactions of a `messages.reactions` value, or what is wrong with it (reported
/// by the row's conversion, with the message's id).
#[derive(Debug, Clone, PartialEq, Eq, FromSqlRow)]
pub(crate) struct ReactionSummary(Result<Vec<Reaction>, String>);

impl ReactionSummary {
    /// The summary of this JSON (for tests).
    #[cfg(test)]
    pub(crate) fn of(json: &serde_json::Value) -> Self {
        Self(parse(json.to_string().as_bytes()))
    }

    /// The reactions it lists, in its order; an error names what does not fit
    /// `[{"emoji": e, "users": [[id, "label"], ...]}, ...]` (with at least one user, each
    /// label not empty, each emoji of the shape [`Emoji::from_stored`] checks).
    pub(crate) fn reactions(self) -> Result<Vec<Reaction>, String> {
        self.0
    }
}

/// The JSON text as stored (docs/benchmarks/findings.md: why not `jsonb`).
impl FromSql<Json, Pg> for ReactionSummary {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(Self(parse(value.as_bytes())))
    }
}

/// The reactions of the summary's JSON text.
fn parse(json: &[u8]) -> Result<Vec<Reaction>, String> {
    let entries: Vec<Entry> = serde_json::from_slice(json).map_err(|e| {
        format!(
            "reactions {} are not [{{emoji, users: [[id, label]]}}]: {e}",
            String::from_utf8_lossy(json)
        )
    })?;
    entries.into_iter().map(Entry::into_reaction).collect()
}

/// One emoji of the summary, as stored.
#[derive(Deserialize)]
struct Entry {
    emoji: String,
    users: Vec<(i64, String)>,
}

impl Entry {
    fn into_reaction(self) -> Result<Reaction, String> {
        if self.users.is_empty() {
            return Err(format!("reaction {} has no users", self.emoji));
        }
        if self.users.iter().any(|(_, label)| label.is_empty()) {
            return Err(format!(
                "reaction {} has a user without a label",
                self.emoji
            ));
        }
        let emoji = Emoji::from_stored(self.emoji).map_err(|e| format!("reaction emoji: {e}"))?;
        let users = self
            .users
            .into_iter()
            .map(|(id, label)| Person {
                id: UserId(id),
                label,
            })
            .collect();
        Ok(Reaction { emoji, users })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The column's type as PostgreSQL sends it (a database of no schema).
    #[test]
    fn summaries_are_read_from_json_values() {
        use diesel::dsl::sql;
        use diesel::{Connection, PgConnection, RunQueryDsl};

        let database = chat_test_db::TestDatabase::new();
        let mut conn = PgConnection::establish(database.url())
            .unwrap_or_else(|e| panic!("the test database: {e}"));
        let text = r#"'[{"emoji": "👍", "users": [[5, "bob"], [4, "user_4"]]}]'"#;
        let json: ReactionSummary = diesel::select(sql::<Json>(&format!("{text}::json")))
            .get_result(&mut conn)
            .unwrap_or_else(|e| panic!("json: {e}"));
        let read = json.reactions();
        assert_eq!(read.as_ref().map(|r| r[0].users.len()), Ok(2), "{read:?}");
        let labels: Vec<&str> = read
            .iter()
            .flatten()
            .flat_map(|r| &r.users)
            .map(|u| u.label.as_str())
            .collect();
        assert_eq!(labels, ["bob", "user_4"]);
    }

    #[test]
    fn summaries_become_reactions_in_their_order() {
        let summary = ReactionSummary::of(&json!([
            { "emoji": "🎉", "users": [[6, "6"]] },
            { "emoji": ":+1:", "users": [[5, "bob"], [4, "user_4"]], "extra": true },
        ]));
        let person = |id, label: &str| Person {
            id: UserId(id),
            label: label.to_owned(),
        };
        let emoji = |e| Emoji::parse(e).unwrap_or_else(|error| panic!("{e}: {error}"));
        assert_eq!(
            summary.reactions(),
            Ok(vec![
                Reaction {
                    emoji: emoji("🎉"),
                    users: vec![person(6, "6")]
                },
                Reaction {
                    emoji: emoji(":+1:"),
                    users: vec![person(5, "bob"), person(4, "user_4")]
                },
            ])
        );
    }

    #[test]
    fn summaries_of_another_shape_are_refused() {
        for bad in [
            json!({ "👍": [5] }),
            json!("not json of reactions"),
            json!([{ "emoji": "ok", "users": [[5, "bob"]] }]),
            json!([{ "emoji": "", "users": [[5, "bob"]] }]),
            json!([{ "emoji": "👍", "users": [] }]),
            json!([{ "emoji": "👍", "users": [[5]] }]),
            json!([{ "emoji": "👍", "users": [[5, "bob", 1]] }]),
            json!([{ "emoji": "👍", "users": [["5", "bob"]] }]),
            json!([{ "emoji": "👍", "users": [[5, ""]] }]),
            json!([{ "emoji": "👍", "users": [[5.5, "bob"]] }]),
            json!([{ "users": [[5, "bob"]] }]),
        ] {
            let read = ReactionSummary::of(&bad).reactions();
            assert!(read.is_err(), "{bad}: {read:?}");
        }
        assert!(parse(b"[{").is_err());
        assert!(parse(b"").is_err());
    }
}

//! The reaction summary column `messages.reactions`, read straight into the domain's
//! [`Reactions`].
//!
//! The column is `json` (sent by PostgreSQL as stored, where `jsonb` is printed again for
//! every row): `[{"emoji": e, "users": [[id, "label"], ...]}, ...]`. A page of 50 messages
//! with a few reactions each carries hundreds of users, so it is read without a string per
//! emoji or label: the JSON text is parsed by visitors that copy each string (borrowed from
//! the text unless escaped) straight into one [`Reactions`], sized from the text. A corrupt
//! summary does not fail the read: its error waits for the row's conversion, which reports
//! it with its message's id.

mod scan;

use std::borrow::Cow;
use std::fmt;

use chat_domain::{Reactions, UserId};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::Json;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The reactions of a `messages.reactions` value, or what is wrong with it (reported
/// by the row's conversion, with the message's id).
#[derive(Debug, Clone, PartialEq, Eq, FromSqlRow)]
pub(crate) struct ReactionSummary(Result<Reactions, String>);

impl ReactionSummary {
    /// The summary of this JSON (for tests).
    #[cfg(test)]
    pub(crate) fn of(json: &serde_json::Value) -> Self {
        Self(parse(json.to_string().as_bytes()))
    }

    /// The reactions it lists, in its order; an error names what does not fit
    /// `[{"emoji": e, "users": [[id, "label"], ...]}, ...]` (with at least one user, each
    /// label not empty, each emoji of the shape [`chat_domain::Emoji::check_stored`]
    /// checks).
    pub(crate) fn reactions(self) -> Result<Reactions, String> {
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
fn parse(json: &[u8]) -> Result<Reactions, String> {
    if json == b"[]" {
        return Ok(Reactions::new());
    }
    let shape_error = |e: &dyn std::fmt::Display| {
        format!(
            "reactions {} are not [{{emoji, users: [[id, label]]}}]: {e}",
            String::from_utf8_lossy(json)
        )
    };
    // Room enough without counting (which took a tenth of the reading): the text holds
    // every emoji and label, a user takes at least 8 bytes of it (`[1,"a"],`) and an emoji
    // at least 24 (`{"emoji":"👍","users":[`).
    let mut reactions = Reactions::with_capacity(json.len() / 24, json.len() / 8, json.len());
    let text = std::str::from_utf8(json).map_err(|e| shape_error(&e))?;
    if scan::scan(text, &mut reactions).is_some() {
        return Ok(reactions);
    }
    reactions.clear();
    visit(text, &mut reactions).map_err(|e| shape_error(&e))?;
    Ok(reactions)
}

/// The reactions of any JSON text of the summary's shape added to `reactions`, through
/// serde (what [`scan::scan`] does not read).
fn visit(text: &str, reactions: &mut Reactions) -> Result<(), serde_json::Error> {
    let mut reader = serde_json::Deserializer::from_str(text);
    Summary(reactions).deserialize(&mut reader)?;
    reader.end()
}

/// The summary's list, read into the reactions: `[entry, ...]`.
struct Summary<'r>(&'r mut Reactions);

/// One emoji of the summary, `{"emoji": e, "users": [[id, "label"], ...]}`, its users added
/// as they are read (other keys are skipped).
struct Entry<'r>(&'r mut Reactions);

/// An emoji's users, `[[id, "label"], ...]`, added to the reactions.
struct Users<'r>(&'r mut Reactions);

impl<'de> DeserializeSeed<'de> for Summary<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Summary<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of reactions")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Entry(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Entry<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Entry<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a reaction {emoji, users}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut emoji: Option<Cow<'de, str>> = None;
        let mut users = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match &*key {
                "emoji" => emoji = Some(map.next_value()?),
                "users" => {
                    map.next_value_seed(Users(&mut *self.0))?;
                    users = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let emoji = emoji.ok_or_else(|| de::Error::missing_field("emoji"))?;
        if !users {
            return Err(de::Error::missing_field("users"));
        }
        self.0.finish_stored(&emoji).map_err(de::Error::custom)
    }
}

impl<'de> DeserializeSeed<'de> for Users<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Users<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of [id, label]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some((id, label)) = seq.next_element::<(i64, Cow<'de, str>)>()? {
            self.0
                .push_stored_user(UserId(id), &label)
                .map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chat_domain::{Emoji, Person, Reaction};
    use serde_json::json;

    use super::*;

    /// The column's type as PostgreSQL sends it, printed as the store's SQL prints it
    /// (a database of no schema): read by the scan, or by serde where a label is escaped.
    #[test]
    fn summaries_are_read_from_json_values() {
        use diesel::dsl::sql;
        use diesel::sql_types::Text;
        use diesel::{Connection, PgConnection, RunQueryDsl};

        let database = chat_test_db::TestDatabase::new();
        let mut conn = PgConnection::establish(database.url())
            .unwrap_or_else(|e| panic!("the test database: {e}"));
        for (second, labels) in [
            ("user_4", ["bob", "user_4"]),
            ("say \"hi\"", ["bob", "say \"hi\""]),
        ] {
            let print = format!(
                "(SELECT json_agg(json_build_object('emoji', e, 'users', u)) \
                   FROM (VALUES ('👍', json_build_array(json_build_array(5, 'bob'), \
                                                        json_build_array(4, '{}')))) AS v(e, u))",
                second.replace('\'', "''")
            );
            let text: String = diesel::select(sql::<Text>(&format!("{print}::text")))
                .get_result(&mut conn)
                .unwrap_or_else(|e| panic!("text: {e}"));
            let scanned = scan::scan(&text, &mut Reactions::new()).is_some();
            assert_eq!(scanned, !second.contains('"'), "{text}");
            let json: ReactionSummary = diesel::select(sql::<Json>(&print))
                .get_result(&mut conn)
                .unwrap_or_else(|e| panic!("json: {e}"));
            let read = json.reactions().map(|r| r.to_vec());
            let read: Vec<&str> = read
                .iter()
                .flatten()
                .flat_map(|r| &r.users)
                .map(|u| u.label.as_str())
                .collect();
            assert_eq!(read, labels, "{text}");
        }
    }

    #[test]
    fn summaries_become_reactions_in_their_order() {
        let summary = ReactionSummary::of(&json!([
            { "users": [[6, "6"]], "emoji": "🎉" },
            { "emoji": ":+1:", "users": [[5, "bob"], [4, "say \"hi\"\n"]], "extra": true },
        ]));
        let person = |id, label: &str| Person {
            id: UserId(id),
            label: label.to_owned(),
        };
        let emoji = |e| Emoji::parse(e).unwrap_or_else(|error| panic!("{e}: {error}"));
        assert_eq!(
            summary.reactions().map(|r| r.to_vec()),
            Ok(vec![
                Reaction {
                    emoji: emoji("🎉"),
                    users: vec![person(6, "6")]
                },
                Reaction {
                    emoji: emoji(":+1:"),
                    users: vec![person(5, "bob"), person(4, "say \"hi\"\n")]
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
        let escaped = parse(br#"[{"emoji": "\ud83d\udc4d", "users": [[1, "a\u00e9"]]}]"#);
        let read: Vec<(String, Vec<String>)> = escaped
            .iter()
            .flat_map(|r| r.to_vec())
            .map(|r| {
                (
                    r.emoji.as_str().to_owned(),
                    r.users.into_iter().map(|u| u.label).collect(),
                )
            })
            .collect();
        assert_eq!(
            read,
            [("👍".to_owned(), vec!["aé".to_owned()])],
            "{escaped:?}"
        );
        let error = parse(r#"[{"emoji": "👍", "users": [[5, ""]]}]"#.as_bytes());
        assert!(
            error
                .as_ref()
                .is_err_and(|e| e.contains("without a label") && e.contains(r#"[[5, ""]]"#)),
            "{error:?}"
        );
        assert_eq!(parse(b"[]"), Ok(Reactions::new()));
        assert_eq!(parse(b" [ ] "), Ok(Reactions::new()));
        assert!(parse(b"[{").is_err());
        assert!(parse(b"").is_err());
    }
}

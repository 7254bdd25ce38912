//! Membership: who joins a room, and which users a change names.

use std::collections::HashSet;

use chat_domain::{ExternalId, FieldError, FieldErrors, MemberMeta, PersonName, Problem, UserId};
use serde_json::{Map, Value};

/// A valid ChatAPI join: who (`user_id`, the integrator's id), their name for a user
/// made by the join, and the membership's meta.
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    /// The integrator's id of who joins.
    pub user_id: ExternalId,
    /// The name of a user the join creates (default: the `user_id`).
    pub user_name: Option<PersonName>,
    /// The membership's meta.
    pub meta: MemberMeta,
}

impl Join {
    /// Checks raw input, reporting every bad field at once.
    pub fn parse(
        user_id: Option<&str>,
        user_name: Option<&str>,
        meta: Option<Map<String, Value>>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let user_id = errors.collect(ExternalId::parse_field(
            "user_id",
            user_id.unwrap_or_default(),
        ));
        let user_name = user_name.and_then(|raw| {
            errors.collect(
                PersonName::parse(raw).map_err(|e| FieldError::new("user_name", e.problem)),
            )
        });
        let meta = match meta {
            None => Some(MemberMeta::default()),
            Some(object) => errors.collect(MemberMeta::parse(object)),
        };
        match (user_id, meta) {
            (Some(user_id), Some(meta)) if errors.is_empty() => Ok(Self {
                user_id,
                user_name,
                meta,
            }),
            _ => Err(errors),
        }
    }
}

/// A valid list of account-dialect `user_ids`: not empty, at most 1,000, duplicates dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserIds(Vec<UserId>);

impl UserIds {
    /// The most users one request may name.
    pub const MAX: usize = 1_000;

    /// Checks the raw list: given, not empty, at most [`UserIds::MAX`]; keeps the first of duplicates.
    pub fn parse(ids: Option<Vec<i64>>) -> Result<Self, FieldError> {
        let ids = ids.unwrap_or_default();
        if ids.is_empty() {
            return Err(FieldError::new("user_ids", Problem::Blank));
        }
        if ids.len() > Self::MAX {
            return Err(FieldError::new(
                "user_ids",
                Problem::Invalid(format!("at most {} users at a time", Self::MAX)),
            ));
        }
        let mut seen = HashSet::new();
        Ok(Self(
            ids.into_iter()
                .filter(|id| seen.insert(*id))
                .map(UserId)
                .collect(),
        ))
    }

    /// The users, in the order given.
    pub fn as_slice(&self) -> &[UserId] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_must_be_given_bounded_and_are_deduplicated() {
        let blank = FieldError::new("user_ids", Problem::Blank);
        assert_eq!(UserIds::parse(None), Err(blank.clone()));
        assert_eq!(UserIds::parse(Some(vec![])), Err(blank));
        assert!(UserIds::parse(Some((0..1001).collect())).is_err());
        let ids = UserIds::parse(Some(vec![3, 1, 3])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ids.as_slice(), [UserId(3), UserId(1)]);
    }

    #[test]
    fn a_join_needs_a_user_id() {
        let errors = Join::parse(None, Some(" "), None).err();
        let fields: Option<Vec<_>> = errors.map(|e| e.iter().map(|f| f.field).collect());
        assert_eq!(fields, Some(vec!["user_id", "user_name"]));
    }

    #[test]
    fn a_nul_in_a_join_is_refused_naming_the_field() {
        let meta = serde_json::json!({ "\u{0}": 1 }).as_object().cloned();
        let errors = Join::parse(Some("u\u{0}"), Some("Ann\u{0}"), meta).err();
        let problems: Option<Vec<_>> =
            errors.map(|e| e.iter().map(|f| (f.field, f.problem.clone())).collect());
        let nul = Problem::InvalidCharacter;
        assert_eq!(
            problems,
            Some(vec![
                ("user_id", nul.clone()),
                ("user_name", nul.clone()),
                ("meta", nul)
            ])
        );
    }
}

//! Commands and queries of end users and their credentials (CONTRACT §7, ChatAPI
//! `/api/v1/users/*`). Each `parse` reports every bad field at once; the HTTP
//! adapters hand raw input in and never check rules themselves.

use std::time::Duration;

use chat_domain::{
    Email, ExternalId, FieldError, FieldErrors, Permissions, PersonName, Problem, UserMeta,
    storable,
};
use serde_json::{Map, Value};

use super::paging::Window;

/// `POST /api/v1/users/`: a person of the account, named by the integrator's `user_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEndUser {
    /// The integrator's id (stored as the user's external id).
    pub user_id: ExternalId,
    /// Display name; the `user_id` when none is given.
    pub name: PersonName,
    /// E-mail address, unique in the account.
    pub email: Option<Email>,
    /// The application's data.
    pub meta: UserMeta,
}

/// `PUT /api/v1/users/{user_id}`: the fields present change.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EndUserPatch {
    /// A new display name.
    pub name: Option<PersonName>,
    /// A new e-mail address.
    pub email: Option<Email>,
    /// New application data (replaces the old object).
    pub meta: Option<UserMeta>,
    /// Deactivate (`false`: its credentials refused, its sockets closed) or reactivate.
    pub is_active: Option<bool>,
}

/// `GET /api/v1/users/`: a window of the account's users, optionally those whose
/// `user_id`, name or e-mail contains `search` (ignoring case).
#[derive(Debug, Clone, PartialEq)]
pub struct UserQuery {
    /// Which slice.
    pub window: Window,
    /// Text to look for, trimmed; `None` lists everyone.
    pub search: Option<String>,
}

/// `POST /api/v1/users/login`: issue a scoped key to a user (made if unknown).
#[derive(Debug, Clone, PartialEq)]
pub struct Login {
    /// Who logs in.
    pub user_id: ExternalId,
    /// The name a new user is made with (the `user_id` when none is given); an existing
    /// user's name is left alone.
    pub name: Option<PersonName>,
    /// How long the key works: default [`Login::DEFAULT_TTL`], at most [`Login::MAX_TTL`].
    pub ttl: Duration,
    /// What the key may do: default [`Permissions::DEFAULT`].
    pub permissions: Permissions,
    /// `false` (the default) revokes the user's earlier scoped keys (rotate on login).
    pub keep_other_sessions: bool,
}

impl Login {
    /// Seven days.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
    /// Ninety days.
    pub const MAX_TTL: Duration = Duration::from_secs(90 * 24 * 3600);
}

/// A display name given as `user_name`: errors are reported on that field.
fn user_name(raw: &str) -> Result<PersonName, FieldError> {
    PersonName::parse(raw).map_err(|e| FieldError::new("user_name", e.problem))
}

impl NewEndUser {
    /// Checks raw input, reporting every bad field at once: `user_id` required,
    /// `user_name` optional (defaults to the `user_id`), `email` optional, `meta` a JSON
    /// object of at most 16 KiB if present.
    pub fn parse(
        user_id: Option<&str>,
        user_name: Option<&str>,
        email: Option<&str>,
        meta: Option<Map<String, Value>>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let user_id = errors.collect(ExternalId::parse_field(
            "user_id",
            user_id.unwrap_or_default(),
        ));
        let name = match (user_name, &user_id) {
            (Some(raw), _) => errors.collect(self::user_name(raw)),
            // An id is at most as long as a name may be, and never blank.
            (None, Some(id)) => errors.collect(
                PersonName::parse(id.as_str()).map_err(|e| FieldError::new("user_id", e.problem)),
            ),
            (None, None) => None,
        };
        let email = email.and_then(|raw| errors.collect(Email::parse(raw)));
        let meta = match meta {
            None => Some(UserMeta::default()),
            Some(object) => errors.collect(UserMeta::parse(object)),
        };
        match (user_id, name, meta) {
            (Some(user_id), Some(name), Some(meta)) if errors.is_empty() => Ok(Self {
                user_id,
                name,
                email,
                meta,
            }),
            _ => Err(errors),
        }
    }
}

impl EndUserPatch {
    /// Checks raw input, reporting every bad field at once; an absent field is kept, an
    /// empty string is blank (422), not "unchanged".
    pub fn parse(
        user_name: Option<&str>,
        email: Option<&str>,
        meta: Option<Map<String, Value>>,
        is_active: Option<bool>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let patch = Self {
            name: user_name.and_then(|raw| errors.collect(self::user_name(raw))),
            email: email.and_then(|raw| errors.collect(Email::parse(raw))),
            meta: meta.and_then(|object| errors.collect(UserMeta::parse(object))),
            is_active,
        };
        errors.into_result()?;
        Ok(patch)
    }

    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl UserQuery {
    /// The largest `limit` a user list accepts (the adapter clamps larger ones first).
    pub const MAX_LIMIT: i64 = 100;
    /// The longest `search` accepted, in characters (once trimmed).
    pub const MAX_SEARCH_CHARS: usize = 100;

    /// Checks the query, reporting every bad field at once: `skip` ≥ 0, `limit`
    /// 1..=[`UserQuery::MAX_LIMIT`], `search` trimmed (blank means none), at most
    /// [`UserQuery::MAX_SEARCH_CHARS`] characters and storable (no NUL).
    pub fn parse(skip: i64, limit: i64, search: Option<&str>) -> Result<Self, FieldErrors> {
        let (window, mut errors) = match Window::new(skip, limit, Self::MAX_LIMIT) {
            Ok(window) => (Some(window), FieldErrors::new()),
            Err(errors) => (None, errors),
        };
        let search = search
            .and_then(|raw| errors.collect(storable::text("search", raw).map(|()| raw.trim())))
            .filter(|text| !text.is_empty());
        if search.is_some_and(|text| text.chars().count() > Self::MAX_SEARCH_CHARS) {
            errors.push(FieldError::new(
                "search",
                Problem::TooLong {
                    max: Self::MAX_SEARCH_CHARS,
                },
            ));
        }
        match window {
            Some(window) if errors.is_empty() => Ok(Self {
                window,
                search: search.map(str::to_owned),
            }),
            _ => Err(errors),
        }
    }
}

impl Login {
    /// Checks raw input, reporting every bad field at once: `user_id` required,
    /// `user_name` optional, `ttl_secs` 1..=[`Login::MAX_TTL`] (default
    /// [`Login::DEFAULT_TTL`]), `permissions` names from
    /// [`chat_domain::Permission::NAMES`] (default [`Permissions::DEFAULT`]; an explicit
    /// empty list is refused: a key that can do nothing is a mistake),
    /// `keep_other_sessions` default `false`.
    pub fn parse(
        user_id: Option<&str>,
        user_name: Option<&str>,
        ttl_secs: Option<i64>,
        permissions: Option<Vec<&str>>,
        keep_other_sessions: Option<bool>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let user_id = errors.collect(ExternalId::parse_field(
            "user_id",
            user_id.unwrap_or_default(),
        ));
        let name = user_name.and_then(|raw| errors.collect(self::user_name(raw)));
        let max_secs = i64::try_from(Self::MAX_TTL.as_secs()).unwrap_or(i64::MAX);
        let ttl = match ttl_secs {
            None => Some(Self::DEFAULT_TTL),
            Some(secs) if (1..=max_secs).contains(&secs) => {
                Some(Duration::from_secs(secs.unsigned_abs()))
            }
            Some(_) => {
                errors.push(FieldError::new(
                    "ttl_secs",
                    Problem::OutOfRange {
                        min: 1,
                        max: max_secs,
                    },
                ));
                None
            }
        };
        let permissions = match permissions {
            None => Some(Permissions::DEFAULT),
            Some(names) if names.is_empty() => {
                errors.push(FieldError::new("permissions", Problem::Blank));
                None
            }
            Some(names) => errors.collect(Permissions::parse("permissions", names)),
        };
        match (user_id, ttl, permissions) {
            (Some(user_id), Some(ttl), Some(permissions)) if errors.is_empty() => Ok(Self {
                user_id,
                name,
                ttl,
                permissions,
                keep_other_sessions: keep_other_sessions.unwrap_or(false),
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_domain::Permission;
    use serde_json::json;

    fn fields(errors: Option<FieldErrors>) -> Option<Vec<&'static str>> {
        errors.map(|e| e.iter().map(|f| f.field).collect())
    }

    fn object(value: Value) -> Option<Map<String, Value>> {
        value.as_object().cloned()
    }

    #[test]
    fn a_new_end_user_is_named_by_its_user_id_unless_a_name_is_given() {
        let user =
            NewEndUser::parse(Some("u-1"), None, None, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(user.user_id.as_str(), "u-1");
        assert_eq!(user.name.as_str(), "u-1");
        assert_eq!(user.email, None);
        assert_eq!(user.meta, UserMeta::default());
        let named = NewEndUser::parse(
            Some("u-1"),
            Some(" Ann "),
            Some("ann@example.com"),
            object(json!({"plan": "pro"})),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(named.name.as_str(), "Ann");
        assert_eq!(
            named.email.map(|e| e.as_str().to_owned()),
            Some("ann@example.com".to_owned())
        );
        assert_eq!(named.meta.as_map().get("plan"), Some(&json!("pro")));
    }

    #[test]
    fn every_bad_field_of_a_new_end_user_is_reported() {
        let big = object(json!({"x": "y".repeat(UserMeta::MAX_BYTES)}));
        let errors = NewEndUser::parse(None, Some(" "), Some("nope"), big).err();
        assert_eq!(
            fields(errors),
            Some(vec!["user_id", "user_name", "email", "meta"])
        );
        let errors = NewEndUser::parse(Some("system"), None, None, None).err();
        assert_eq!(fields(errors), Some(vec!["user_id"]));
        let errors = NewEndUser::parse(Some("a\u{0}"), None, Some(""), None).err();
        assert_eq!(fields(errors), Some(vec!["user_id", "email"]));
    }

    #[test]
    fn a_patch_keeps_absent_fields_and_refuses_blank_ones() {
        let empty = EndUserPatch::parse(None, None, None, None);
        assert_eq!(empty, Ok(EndUserPatch::default()));
        assert!(EndUserPatch::default().is_empty());
        let patch = EndUserPatch::parse(Some("Bo"), None, object(json!({})), Some(false))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(patch.name.as_ref().map(PersonName::as_str), Some("Bo"));
        assert_eq!(patch.meta, Some(UserMeta::default()));
        assert_eq!(patch.is_active, Some(false));
        assert!(!patch.is_empty());
        let big = object(json!({"x": "y".repeat(UserMeta::MAX_BYTES)}));
        let errors = EndUserPatch::parse(Some(""), Some(" "), big, None).err();
        assert_eq!(fields(errors), Some(vec!["user_name", "email", "meta"]));
    }

    #[test]
    fn a_user_query_checks_its_window_and_trims_its_search() {
        let query = UserQuery::parse(5, 20, Some("  ann ")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((query.window.offset, query.window.limit), (5, 20));
        assert_eq!(query.search.as_deref(), Some("ann"));
        let blank = UserQuery::parse(0, 1, Some("   ")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(blank.search, None);
        let long = "x".repeat(UserQuery::MAX_SEARCH_CHARS + 1);
        let errors = UserQuery::parse(-1, 101, Some(&long)).err();
        assert_eq!(fields(errors), Some(vec!["skip", "limit", "search"]));
        let errors = UserQuery::parse(0, 0, Some("a\u{0}")).err();
        assert_eq!(fields(errors), Some(vec!["limit", "search"]));
        let longest = "é".repeat(UserQuery::MAX_SEARCH_CHARS);
        assert!(UserQuery::parse(0, 100, Some(&longest)).is_ok());
    }

    #[test]
    fn a_login_has_defaults() {
        let login =
            Login::parse(Some("u-1"), None, None, None, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(login.user_id.as_str(), "u-1");
        assert_eq!(login.name, None);
        assert_eq!(login.ttl, Login::DEFAULT_TTL);
        assert_eq!(login.ttl, Duration::from_secs(604_800));
        assert_eq!(login.permissions, Permissions::DEFAULT);
        assert!(!login.keep_other_sessions);
    }

    #[test]
    fn a_login_takes_a_ttl_and_permissions() {
        let login = Login::parse(
            Some("u-1"),
            Some("Ann"),
            Some(7_776_000),
            Some(vec!["manage_rooms", "read_messages"]),
            Some(true),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(login.name.as_ref().map(PersonName::as_str), Some("Ann"));
        assert_eq!(login.ttl, Login::MAX_TTL);
        assert_eq!(
            login.permissions,
            Permissions::NONE
                .with(Permission::ReadMessages)
                .with(Permission::ManageRooms)
        );
        assert!(login.keep_other_sessions);
        let shortest = Login::parse(Some("u"), None, Some(1), None, None).map(|l| l.ttl);
        assert_eq!(shortest, Ok(Duration::from_secs(1)));
    }

    #[test]
    fn every_bad_field_of_a_login_is_reported() {
        let errors = Login::parse(None, Some(""), Some(0), Some(vec!["admin"]), None).err();
        assert_eq!(
            fields(errors),
            Some(vec!["user_id", "user_name", "ttl_secs", "permissions"])
        );
        for ttl in [-5, 7_776_001, i64::MAX, i64::MIN] {
            let errors = Login::parse(Some("u"), None, Some(ttl), None, None).err();
            assert_eq!(fields(errors), Some(vec!["ttl_secs"]), "{ttl}");
        }
        // A key that can do nothing is a mistake.
        let errors = Login::parse(Some("u"), None, None, Some(vec![]), None).err();
        assert_eq!(
            errors.map(|e| e.iter().cloned().collect::<Vec<_>>()),
            Some(vec![FieldError::new("permissions", Problem::Blank)])
        );
    }
}

//! Commands and queries of end users and their credentials (CONTRACT §7, ChatAPI
//! `/api/v1/users/*`). Each `parse` reports every bad field at once; the HTTP
//! adapters hand raw input in and never check rules themselves.

use std::time::Duration;

use chat_domain::{Email, ExternalId, FieldErrors, Permissions, PersonName, UserMeta};

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

/// Parsers are written by the use-case owner; the signatures are the contract the
/// HTTP adapter calls.
impl NewEndUser {
    /// Checks raw input: `user_id` required, `user_name` optional (defaults to the
    /// `user_id`), `email` optional, `meta` an object if present.
    pub fn parse(
        user_id: Option<&str>,
        user_name: Option<&str>,
        email: Option<&str>,
        meta: Option<serde_json::Map<String, serde_json::Value>>,
    ) -> Result<Self, FieldErrors> {
        let _ = (user_id, user_name, email, meta);
        todo!("issue 14: NewEndUser::parse")
    }
}

impl EndUserPatch {
    /// Checks raw input; an empty string is blank (422), not "unchanged".
    pub fn parse(
        user_name: Option<&str>,
        email: Option<&str>,
        meta: Option<serde_json::Map<String, serde_json::Value>>,
        is_active: Option<bool>,
    ) -> Result<Self, FieldErrors> {
        let _ = (user_name, email, meta, is_active);
        todo!("issue 14: EndUserPatch::parse")
    }
}

impl UserQuery {
    /// `skip` ≥ 0, `limit` 1..=100 (larger clamped by the adapter), `search` trimmed
    /// (blank means none).
    pub fn parse(skip: i64, limit: i64, search: Option<&str>) -> Result<Self, FieldErrors> {
        let _ = (skip, limit, search);
        todo!("issue 14: UserQuery::parse")
    }
}

impl Login {
    /// Checks raw input: `ttl_secs` 1..=90 days, `permissions` names from
    /// [`chat_domain::Permission::NAMES`].
    pub fn parse(
        user_id: Option<&str>,
        user_name: Option<&str>,
        ttl_secs: Option<i64>,
        permissions: Option<Vec<&str>>,
        keep_other_sessions: Option<bool>,
    ) -> Result<Self, FieldErrors> {
        let _ = (
            user_id,
            user_name,
            ttl_secs,
            permissions,
            keep_other_sessions,
        );
        todo!("issue 14: Login::parse")
    }
}

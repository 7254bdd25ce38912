//! The end-user use cases over mocks of their ports: the fixtures here, the cases by
//! concern in `people` (users and `me`), `sessions` (login, logout, revoking tokens) and
//! `signing` (the signing secret).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_domain::{
    AccountId, Availability, CredentialKind, ExternalId, Features, FieldError, Permission,
    Permissions, PersonName, Problem, Role, TokenHash, User, UserId, UserMeta,
};
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

use super::*;
use crate::actor::{AccountAccess, Actor};
use crate::auth::{CredentialCache, SigningMaster};
use crate::error::{AppError, Conflict, Denied, Resource};
use crate::events::{CredentialEvent, DomainEvent, MockEventPublisher};
use crate::model::{EndUserPatch, Login, NewEndUser, UserQuery};
use crate::ports::{CredentialOwner, MockEndUserStore, MockUserDirectory, SigningSeed, StoreError};

const ACCOUNT: AccountId = AccountId(4);

fn access() -> AccountAccess {
    AccountAccess {
        id: ACCOUNT,
        uuid: Uuid::from_u128(4),
        features: Features::default(),
    }
}

fn api_key() -> Actor {
    Actor::ApiKey(access())
}

fn scoped(user: i64, scope: Permissions) -> Actor {
    Actor::User {
        account: access(),
        user_id: UserId(user),
        role: Role::Agent,
        scope: Some(scope),
    }
}

fn user_token(role: Role) -> Actor {
    Actor::User {
        account: access(),
        user_id: UserId(3),
        role,
        scope: None,
    }
}

/// Every credential but the API key and scoped ones.
fn others() -> [Actor; 3] {
    [
        Actor::Platform,
        user_token(Role::Administrator),
        user_token(Role::Agent),
    ]
}

fn user(id: i64, external: &str, is_active: bool) -> User {
    User {
        id: UserId(id),
        account_id: ACCOUNT,
        external_id: ExternalId::parse(external).ok(),
        name: PersonName::parse(external).unwrap_or_else(|e| panic!("{e}")),
        email: None,
        role: Role::Agent,
        availability: Availability::Offline,
        confirmed: true,
        is_active,
        meta: UserMeta::default(),
        created_at: datetime!(2026-01-01 0:00 UTC),
        updated_at: datetime!(2026-01-01 0:00 UTC),
    }
}

/// A directory with `ann` (user 3, active) and `bob` (user 5, inactive).
fn directory() -> MockUserDirectory {
    let mut directory = MockUserDirectory::new();
    directory
        .expect_find_by_chat_id()
        .withf(|account, _| *account == ACCOUNT)
        .returning(|_, chat_id| {
            Ok(match chat_id.as_str() {
                "ann" => Some(user(3, "ann", true)),
                "bob" => Some(user(5, "bob", false)),
                _ => None,
            })
        });
    directory
}

/// Publishes nothing.
fn quiet() -> MockEventPublisher {
    let mut events = MockEventPublisher::new();
    events.expect_publish().never();
    events
}

/// Expects exactly one credential event, for `user` of the account.
fn announcing(user: i64) -> MockEventPublisher {
    let mut events = MockEventPublisher::new();
    events
        .expect_publish()
        .withf(move |event| {
            *event
                == DomainEvent::Credentials(CredentialEvent {
                    account: ACCOUNT,
                    user: Some(UserId(user)),
                })
        })
        .times(1)
        .return_const(());
    events
}

/// A cache holding one remembered credential, to see whether a use case empties it.
fn warm_cache() -> Arc<CredentialCache> {
    let cache = Arc::new(CredentialCache::new(Duration::from_secs(60)));
    cache.put(
        TokenHash::of("sk_cached"),
        CredentialOwner {
            kind: CredentialKind::ScopedKey,
            account: access(),
            account_active: true,
            user: Some((UserId(3), Role::Agent)),
            user_active: true,
            scope: Some(Permissions::DEFAULT),
            expires_at: None,
        },
    );
    cache
}

fn is_warm(cache: &CredentialCache) -> bool {
    cache.get(&TokenHash::of("sk_cached")).is_some()
}

struct Setup {
    store: MockEndUserStore,
    directory: MockUserDirectory,
    events: MockEventPublisher,
    cache: Arc<CredentialCache>,
    master: Option<SigningMaster>,
}

impl Setup {
    fn new(store: MockEndUserStore) -> Self {
        Self {
            store,
            directory: directory(),
            events: quiet(),
            cache: warm_cache(),
            master: None,
        }
    }

    fn events(self, events: MockEventPublisher) -> Self {
        Self { events, ..self }
    }

    fn build(self) -> (EndUsers, Arc<CredentialCache>) {
        let cache = self.cache.clone();
        let end_users = EndUsers::new(
            Arc::new(self.store),
            Arc::new(self.directory),
            self.cache,
            Arc::new(self.events),
            self.master,
        );
        (end_users, cache)
    }
}

/// End users over a store that must not be called.
fn untouched() -> EndUsers {
    Setup::new(MockEndUserStore::new()).build().0
}

fn new_user(user_id: &str) -> NewEndUser {
    NewEndUser::parse(Some(user_id), None, Some("a@b.co"), None).unwrap_or_else(|e| panic!("{e}"))
}

fn login(keep_other_sessions: bool) -> Login {
    Login::parse(
        Some("ann"),
        None,
        Some(60),
        Some(vec!["read_messages", "manage_rooms"]),
        Some(keep_other_sessions),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn unauthenticated<T: std::fmt::Debug>(result: Result<T, AppError>, actor: &Actor) {
    assert!(
        matches!(result, Err(AppError::Unauthenticated)),
        "{actor:?}: {result:?}"
    );
}

mod people;
mod sessions;
mod signing;

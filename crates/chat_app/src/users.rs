//! Users of an account: created by the platform operator, and managed (as the account
//! dialect's agents) by the account's API key and administrators.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chat_domain::{AccountId, CredentialKind, SecretToken, User, UserId};

use crate::actor::Actor;
use crate::auth::CredentialCache;
use crate::error::{AppError, Denied, Resource};
use crate::events::{CredentialEvent, DiscardEvents, DomainEvent, EventPublisher};
use crate::model::{NewUser, UserPatch};
use crate::ports::UserStore;

/// A freshly made user: the only time its access token is seen in clear.
#[derive(Debug, Clone)]
pub struct IssuedUser {
    /// The user.
    pub user: User,
    /// Its access token, in clear: shown once, stored only as a hash.
    pub access_token: SecretToken,
}

/// The user use cases.
#[derive(Clone)]
pub struct Users {
    users: Arc<dyn UserStore>,
    credentials: Arc<CredentialCache>,
    events: Arc<dyn EventPublisher>,
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Users").finish_non_exhaustive()
    }
}

impl Users {
    /// User use cases over `users`, with no credential cache.
    pub fn new(users: Arc<dyn UserStore>) -> Self {
        Self::with_cache(users, Arc::new(CredentialCache::new(Duration::ZERO)))
    }

    /// Users whose changes empty `credentials` (the authenticator's cache), so that a
    /// changed role, a replaced token or a deleted user takes effect at once on this node.
    pub fn with_cache(users: Arc<dyn UserStore>, credentials: Arc<CredentialCache>) -> Self {
        Self {
            users,
            credentials,
            events: Arc::new(DiscardEvents),
        }
    }

    /// The same use cases, announcing on `events` every change that stops a user's
    /// credentials (or changes what they act as): a [`CredentialEvent`] after the
    /// change commits, so every node forgets them and re-checks their open sockets.
    pub fn with_events(self, events: Arc<dyn EventPublisher>) -> Self {
        Self { events, ..self }
    }

    fn credentials_changed(&self, account: AccountId, user: UserId) {
        self.events
            .publish(DomainEvent::Credentials(CredentialEvent {
                account,
                user: Some(user),
            }));
    }

    /// Creates a user of `account` with its access token: the platform token for any
    /// account, or a manager (the API key or an administrator) of `account` itself.
    pub async fn create(
        &self,
        actor: &Actor,
        account: AccountId,
        new: NewUser,
    ) -> Result<IssuedUser, AppError> {
        if !matches!(actor, Actor::Platform) {
            Self::manage(actor, account)?;
        }
        let access_token = SecretToken::generate(CredentialKind::UserToken)?;
        let user = self
            .users
            .create_user(account, new, access_token.hash())
            .await
            .map_err(|e| e.into_app(Resource::Account))?;
        Ok(IssuedUser { user, access_token })
    }

    /// `Ok` when `actor` may change the users of `account`: the API key or an
    /// administrator of that account (403 for an agent, 401 for anyone else).
    fn manage(actor: &Actor, account: AccountId) -> Result<(), AppError> {
        if actor.require_manager()? == account {
            Ok(())
        } else {
            Err(AppError::WrongAccount)
        }
    }

    /// Every user of `account`, oldest first: anyone of the account may read them,
    /// except an end user's scoped credential (`Forbidden(NotAdministrator)`): the
    /// account's people are not its business.
    pub async fn list(&self, actor: &Actor, account: AccountId) -> Result<Vec<User>, AppError> {
        if actor.account_id()? != account {
            return Err(AppError::WrongAccount);
        }
        if actor.scope().is_some() {
            return Err(AppError::Forbidden(Denied::NotAdministrator));
        }
        self.users
            .list_users(account)
            .await
            .map_err(|e| e.into_app(Resource::Account))
    }

    /// Changes a user's name, email, role or availability. Managers only.
    pub async fn update(
        &self,
        actor: &Actor,
        account: AccountId,
        id: UserId,
        patch: UserPatch,
    ) -> Result<User, AppError> {
        Self::manage(actor, account)?;
        let role_changes = patch.role.is_some();
        let updated = self.users.update_user(account, id, patch).await;
        // A role travels with the user's credentials.
        self.credentials.clear();
        let updated = updated.map_err(|e| e.into_app(Resource::User))?;
        if role_changes {
            self.credentials_changed(account, id);
        }
        Ok(updated)
    }

    /// Issues a new access token for a user; the old one stops working at once.
    /// Managers only.
    pub async fn replace_token(
        &self,
        actor: &Actor,
        account: AccountId,
        id: UserId,
    ) -> Result<IssuedUser, AppError> {
        Self::manage(actor, account)?;
        let access_token = SecretToken::generate(CredentialKind::UserToken)?;
        let replaced = self
            .users
            .replace_user_token(account, id, access_token.hash())
            .await;
        self.credentials.clear();
        let user = replaced.map_err(|e| e.into_app(Resource::User))?;
        self.credentials_changed(account, id);
        Ok(IssuedUser { user, access_token })
    }

    /// Deletes a user: its messages stay (their sender is then nobody), its memberships
    /// and credentials go at once. Managers only.
    pub async fn delete(
        &self,
        actor: &Actor,
        account: AccountId,
        id: UserId,
    ) -> Result<(), AppError> {
        Self::manage(actor, account)?;
        let deleted = self.users.delete_user(account, id).await;
        self.credentials.clear();
        deleted.map_err(|e| e.into_app(Resource::User))?;
        self.credentials_changed(account, id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockUserStore, StoreError};
    use chat_domain::{Availability, FieldError, Problem, Role, UserId};
    use time::macros::datetime;

    fn stored(account: AccountId, new: NewUser) -> User {
        User {
            id: UserId(10),
            account_id: account,
            external_id: new.external_id,
            name: new.name,
            email: new.email,
            role: new.role,
            availability: new.availability.unwrap_or(Availability::Offline),
            confirmed: true,
            is_active: true,
            meta: chat_domain::UserMeta::default(),
            created_at: datetime!(2024-01-01 0:00 UTC),
            updated_at: datetime!(2024-01-01 0:00 UTC),
        }
    }

    #[tokio::test]
    async fn the_platform_creates_a_user_with_a_token() {
        let mut store = MockUserStore::new();
        store
            .expect_create_user()
            .withf(|account, _, _| *account == AccountId(3))
            .times(1)
            .returning(|account, new, _| Ok(stored(account, new)));
        let new = NewUser::parse(
            Some("Ada"),
            Some("ada@example.com"),
            Some("administrator"),
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let issued = Users::new(Arc::new(store))
            .create(&Actor::Platform, AccountId(3), new)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(issued.user.role, Role::Administrator);
        assert!(issued.access_token.expose().starts_with("ut_"));
    }

    #[tokio::test]
    async fn a_taken_email_is_a_validation_error_and_a_missing_account_not_found() {
        let mut store = MockUserStore::new();
        store
            .expect_create_user()
            .withf(|account, _, _| *account == AccountId(1))
            .returning(|_, _, _| Err(StoreError::Duplicate("email")));
        store
            .expect_create_user()
            .withf(|account, _, _| *account == AccountId(2))
            .returning(|_, _, _| Err(StoreError::NotFound));
        let users = Users::new(Arc::new(store));
        let new = || NewUser::parse(Some("Ada"), Some("a@b.co"), None, None);
        let new = new().unwrap_or_else(|e| panic!("{e}"));
        let taken = users
            .create(&Actor::Platform, AccountId(1), new.clone())
            .await;
        match taken {
            Err(AppError::Invalid(errors)) => assert_eq!(
                errors.iter().cloned().collect::<Vec<_>>(),
                vec![FieldError::new("email", Problem::Taken)]
            ),
            other => panic!("expected a validation error, got {other:?}"),
        }
        let missing = users.create(&Actor::Platform, AccountId(2), new).await;
        assert!(matches!(
            missing,
            Err(AppError::NotFound(Resource::Account))
        ));
    }

    fn actor(account: i64, role: Option<Role>) -> Actor {
        let access = crate::actor::AccountAccess {
            id: AccountId(account),
            uuid: uuid::Uuid::nil(),
            features: chat_domain::Features { chat_rooms: true },
        };
        match role {
            None => Actor::ApiKey(access),
            Some(role) => Actor::User {
                account: access,
                user_id: UserId(1),
                role,
                scope: None,
            },
        }
    }

    #[tokio::test]
    async fn managers_of_the_account_manage_its_users_and_nobody_else_does() {
        // No store call is expected: every refusal comes first.
        let users = Users::new(Arc::new(MockUserStore::new()));
        let agent = actor(3, Some(Role::Agent));
        assert!(matches!(
            users.delete(&agent, AccountId(3), UserId(9)).await,
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            users
                .replace_token(&actor(4, None), AccountId(3), UserId(9))
                .await,
            Err(AppError::WrongAccount)
        ));
        assert!(matches!(
            users.list(&Actor::Platform, AccountId(3)).await,
            Err(AppError::Unauthenticated)
        ));
        let new = NewUser::parse(Some("Ada"), None, None, None).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            users.create(&agent, AccountId(3), new).await,
            Err(AppError::Forbidden(_))
        ));
    }

    #[tokio::test]
    async fn an_administrator_creates_a_user_of_its_account_and_a_missing_user_is_not_found() {
        let mut store = MockUserStore::new();
        store
            .expect_create_user()
            .times(1)
            .returning(|account, new, _| Ok(stored(account, new)));
        store
            .expect_delete_user()
            .times(1)
            .returning(|_, _| Err(StoreError::NotFound));
        let users = Users::new(Arc::new(store));
        let admin = actor(3, Some(Role::Administrator));
        let new = NewUser::parse_agent(Some("Ada"), Some("a@b.co"), None, Some("busy"))
            .unwrap_or_else(|e| panic!("{e}"));
        let issued = users
            .create(&admin, AccountId(3), new)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(issued.user.availability, Availability::Busy);
        assert!(matches!(
            users.delete(&admin, AccountId(3), UserId(9)).await,
            Err(AppError::NotFound(Resource::User))
        ));
    }

    fn announcing(user: i64, times: usize) -> crate::events::MockEventPublisher {
        let mut events = crate::events::MockEventPublisher::new();
        events
            .expect_publish()
            .withf(move |event| {
                *event
                    == DomainEvent::Credentials(CredentialEvent {
                        account: AccountId(3),
                        user: Some(UserId(user)),
                    })
            })
            .times(times)
            .return_const(());
        events
    }

    #[tokio::test]
    async fn a_new_role_a_new_token_and_a_deletion_announce_the_users_credentials() {
        let mut store = MockUserStore::new();
        store.expect_update_user().returning(|account, id, _| {
            let new =
                NewUser::parse(Some("Ada"), None, None, None).unwrap_or_else(|e| panic!("{e}"));
            Ok(User {
                id,
                ..stored(account, new)
            })
        });
        store
            .expect_replace_user_token()
            .returning(|account, id, _| {
                let new =
                    NewUser::parse(Some("Ada"), None, None, None).unwrap_or_else(|e| panic!("{e}"));
                Ok(User {
                    id,
                    ..stored(account, new)
                })
            });
        store.expect_delete_user().returning(|_, _| Ok(()));
        // The role change, the new token and the deletion: three announcements.
        let users = Users::new(Arc::new(store)).with_events(Arc::new(announcing(9, 3)));
        let admin = actor(3, Some(Role::Administrator));
        let promote = UserPatch::parse(None, None, Some("administrator"), None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            users
                .update(&admin, AccountId(3), UserId(9), promote)
                .await
                .is_ok()
        );
        // A new name changes nothing a credential acts as.
        let rename =
            UserPatch::parse(Some("Ada B"), None, None, None).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            users
                .update(&admin, AccountId(3), UserId(9), rename)
                .await
                .is_ok()
        );
        assert!(
            users
                .replace_token(&admin, AccountId(3), UserId(9))
                .await
                .is_ok()
        );
        assert!(users.delete(&admin, AccountId(3), UserId(9)).await.is_ok());
    }

    #[tokio::test]
    async fn a_change_the_store_refuses_announces_nothing() {
        let mut store = MockUserStore::new();
        store
            .expect_replace_user_token()
            .returning(|_, _, _| Err(StoreError::NotFound));
        store
            .expect_delete_user()
            .returning(|_, _| Err(StoreError::NotFound));
        let users = Users::new(Arc::new(store)).with_events(Arc::new(announcing(9, 0)));
        let admin = actor(3, None);
        assert!(
            users
                .replace_token(&admin, AccountId(3), UserId(9))
                .await
                .is_err()
        );
        assert!(users.delete(&admin, AccountId(3), UserId(9)).await.is_err());
    }

    #[tokio::test]
    async fn a_scoped_credential_does_not_read_the_accounts_people() {
        let mut store = MockUserStore::new();
        store.expect_list_users().never();
        let users = Users::new(Arc::new(store));
        let scoped = Actor::User {
            account: crate::actor::AccountAccess {
                id: AccountId(3),
                uuid: uuid::Uuid::nil(),
                features: chat_domain::Features { chat_rooms: true },
            },
            user_id: UserId(1),
            role: Role::Agent,
            scope: Some(chat_domain::Permissions::ALL),
        };
        assert!(matches!(
            users.list(&scoped, AccountId(3)).await,
            Err(AppError::Forbidden(Denied::NotAdministrator))
        ));
    }
}

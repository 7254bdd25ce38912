//! Accounts (ChatAPI clients): creation and changes by the platform operator, and the
//! account's own view of itself and its API key.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chat_domain::{Account, AccountId, CredentialKind, SecretToken};

use crate::actor::Actor;
use crate::auth::CredentialCache;
use crate::error::{AppError, Denied, Resource};
use crate::events::{CredentialEvent, DiscardEvents, DomainEvent, EventPublisher};
use crate::model::{AccountPatch, NewAccount};
use crate::ports::{AccountStore, StoreError};

/// A freshly made account or key: the only time the API key is seen in clear.
#[derive(Debug, Clone)]
pub struct IssuedAccount {
    /// The account.
    pub account: Account,
    /// Its API key, in clear: shown once, stored only as a hash.
    pub api_key: SecretToken,
}

/// The account use cases.
#[derive(Clone)]
pub struct Accounts {
    accounts: Arc<dyn AccountStore>,
    credentials: Arc<CredentialCache>,
    events: Arc<dyn EventPublisher>,
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accounts").finish_non_exhaustive()
    }
}

impl Accounts {
    /// Account use cases over `accounts`, with no credential cache.
    pub fn new(accounts: Arc<dyn AccountStore>) -> Self {
        Self::with_cache(accounts, Arc::new(CredentialCache::new(Duration::ZERO)))
    }

    /// Accounts whose changes empty `credentials` (the authenticator's cache).
    pub fn with_cache(accounts: Arc<dyn AccountStore>, credentials: Arc<CredentialCache>) -> Self {
        Self {
            accounts,
            credentials,
            events: Arc::new(DiscardEvents),
        }
    }

    /// The same use cases, announcing on `events` every change that stops the
    /// account's credentials (or changes what they may do): a [`CredentialEvent`] for
    /// the whole account after the change commits, so every node forgets them and
    /// re-checks the account's open sockets.
    pub fn with_events(self, events: Arc<dyn EventPublisher>) -> Self {
        Self { events, ..self }
    }

    fn credentials_changed(&self, account: AccountId) {
        self.events
            .publish(DomainEvent::Credentials(CredentialEvent {
                account,
                user: None,
            }));
    }

    /// Creates an account with its first API key. Platform only.
    pub async fn create(&self, actor: &Actor, new: NewAccount) -> Result<IssuedAccount, AppError> {
        actor.require_platform()?;
        let api_key = SecretToken::generate(CredentialKind::ApiKey)?;
        let account = self
            .accounts
            .create_account(new, api_key.hash())
            .await
            .map_err(|e| e.into_app(Resource::Account))?;
        Ok(IssuedAccount { account, api_key })
    }

    /// Changes an account's name, description, activity or features. Platform only.
    pub async fn update(
        &self,
        actor: &Actor,
        id: AccountId,
        patch: AccountPatch,
    ) -> Result<Account, AppError> {
        actor.require_platform()?;
        self.apply(id, patch).await
    }

    /// Changes the calling integration's own account: only its name and description
    /// (activity and features stay the platform's). API key only.
    pub async fn update_own(
        &self,
        actor: &Actor,
        patch: AccountPatch,
    ) -> Result<Account, AppError> {
        let access = actor.require_api_key()?;
        let patch = AccountPatch {
            name: patch.name,
            description: patch.description,
            ..AccountPatch::default()
        };
        self.apply(access.id, patch).await
    }

    /// Deactivates the calling integration's own account: its API key (and every other
    /// credential of the account) stops working at once and its open sockets close; its
    /// data is kept. API key only.
    pub async fn deactivate_own(&self, actor: &Actor) -> Result<Account, AppError> {
        let access = actor.require_api_key()?;
        let patch = AccountPatch {
            is_active: Some(false),
            ..AccountPatch::default()
        };
        self.apply(access.id, patch).await
    }

    /// Writes `patch` to account `id`, forgetting cached credentials and announcing the
    /// account's credentials when activity or features change.
    async fn apply(&self, id: AccountId, patch: AccountPatch) -> Result<Account, AppError> {
        if patch == AccountPatch::default() {
            return self
                .accounts
                .get_account(id)
                .await
                .map_err(|e| e.into_app(Resource::Account));
        }
        let access_changes = patch.is_active.is_some() || patch.chat_rooms.is_some();
        let updated = self.accounts.update_account(id, patch).await;
        // Activity and features travel with credentials.
        self.credentials.clear();
        let updated = updated.map_err(|e| e.into_app(Resource::Account))?;
        if access_changes {
            self.credentials_changed(id);
        }
        Ok(updated)
    }

    /// Checks that `actor` may use the chat rooms of account `id` (the account dialect's
    /// `/api/v1/accounts/{id}/…`): the platform token is `Unauthenticated`; another
    /// account's id is `WrongAccount`, an id that names no account `NotFound`; an account
    /// whose `chat_rooms` feature is off is `Forbidden(FeatureDisabled)`. The feature is
    /// read with the credential, so switching it off takes effect on the next request.
    pub async fn enter_chat_rooms(&self, actor: &Actor, id: AccountId) -> Result<(), AppError> {
        let access = actor.account().ok_or(AppError::Unauthenticated)?;
        if access.id != id {
            return match self.accounts.get_account(id).await {
                Ok(_) => Err(AppError::WrongAccount),
                Err(StoreError::NotFound) => Err(AppError::NotFound(Resource::Account)),
                Err(other) => Err(other.into_app(Resource::Account)),
            };
        }
        if !access.features.chat_rooms {
            return Err(AppError::Forbidden(Denied::FeatureDisabled("chat_rooms")));
        }
        Ok(())
    }

    /// The calling integration's own account. API key only. Remembered like credentials
    /// (and forgotten with them on any change made here).
    pub async fn current(&self, actor: &Actor) -> Result<Account, AppError> {
        let access = actor.require_api_key()?;
        if let Some(account) = self.credentials.account(access.id) {
            return Ok(account);
        }
        let account = self
            .accounts
            .get_account(access.id)
            .await
            .map_err(|e| e.into_app(Resource::Account))?;
        self.credentials.put_account(account.clone());
        Ok(account)
    }

    /// Replaces the calling integration's API key; the old one stops working at once.
    pub async fn regenerate_api_key(&self, actor: &Actor) -> Result<IssuedAccount, AppError> {
        let access = actor.require_api_key()?;
        let api_key = SecretToken::generate(CredentialKind::ApiKey)?;
        let account = self
            .accounts
            .replace_api_key(access.id, api_key.hash())
            .await
            .map_err(|e| e.into_app(Resource::Account))?;
        self.credentials.clear();
        self.credentials_changed(access.id);
        Ok(IssuedAccount { account, api_key })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::AccountAccess;
    use crate::ports::{MockAccountStore, StoreError};
    use chat_domain::{AccountName, Features, Role, UserId};
    use time::macros::datetime;
    use uuid::Uuid;

    fn account(id: i64, name: &str) -> Account {
        Account {
            id: AccountId(id),
            uuid: Uuid::from_u128(id as u128),
            name: AccountName::parse(name).unwrap_or_else(|e| panic!("{e}")),
            description: None,
            is_active: true,
            features: Features::default(),
            created_at: datetime!(2024-01-01 0:00 UTC),
            updated_at: datetime!(2024-01-01 0:00 UTC),
        }
    }

    fn access(id: i64) -> AccountAccess {
        AccountAccess {
            id: AccountId(id),
            uuid: Uuid::from_u128(id as u128),
            features: Features::default(),
        }
    }

    fn use_cases(store: MockAccountStore) -> Accounts {
        Accounts::new(Arc::new(store))
    }

    fn non_platform_actors() -> [Actor; 2] {
        [
            Actor::ApiKey(access(1)),
            Actor::User {
                account: access(1),
                user_id: UserId(1),
                role: Role::Administrator,
                scope: None,
            },
        ]
    }

    #[tokio::test]
    async fn the_platform_creates_an_account_and_stores_only_the_key_hash() {
        let mut store = MockAccountStore::new();
        let stored_hash = Arc::new(std::sync::Mutex::new(None));
        let seen = stored_hash.clone();
        store
            .expect_create_account()
            .times(1)
            .returning(move |new, hash| {
                *seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(hash);
                Ok(account(1, new.name.as_str()))
            });
        let new = NewAccount::parse(Some("Acme"), None).unwrap_or_else(|e| panic!("{e}"));
        let issued = use_cases(store)
            .create(&Actor::Platform, new)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(issued.account.name.as_str(), "Acme");
        assert!(issued.api_key.expose().starts_with("ck_"));
        let hash = *stored_hash.lock().unwrap_or_else(|e| e.into_inner());
        assert_eq!(hash, Some(issued.api_key.hash()));
    }

    #[tokio::test]
    async fn only_the_platform_creates_or_updates_accounts() {
        for actor in non_platform_actors() {
            let mut store = MockAccountStore::new();
            store.expect_create_account().never();
            store.expect_update_account().never();
            let use_cases = use_cases(store);
            let new = NewAccount::parse(Some("Acme"), None).unwrap_or_else(|e| panic!("{e}"));
            let created = use_cases.create(&actor, new).await;
            assert!(
                matches!(created, Err(AppError::Unauthenticated)),
                "{actor:?}"
            );
            let updated = use_cases
                .update(&actor, AccountId(1), AccountPatch::default())
                .await;
            assert!(
                matches!(updated, Err(AppError::Unauthenticated)),
                "{actor:?}"
            );
        }
    }

    #[tokio::test]
    async fn updating_a_missing_account_is_not_found() {
        let mut store = MockAccountStore::new();
        store
            .expect_update_account()
            .returning(|_, _| Err(StoreError::NotFound));
        let patch = AccountPatch {
            is_active: Some(false),
            ..AccountPatch::default()
        };
        let result = use_cases(store)
            .update(&Actor::Platform, AccountId(99), patch)
            .await;
        assert!(
            matches!(result, Err(AppError::NotFound(Resource::Account))),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn an_empty_patch_reads_without_writing() {
        let mut store = MockAccountStore::new();
        store.expect_update_account().never();
        store
            .expect_get_account()
            .times(1)
            .returning(|id| Ok(account(id.0, "Acme")));
        let result = use_cases(store)
            .update(&Actor::Platform, AccountId(5), AccountPatch::default())
            .await;
        assert!(matches!(result, Ok(a) if a.id == AccountId(5)));
    }

    #[tokio::test]
    async fn regenerating_replaces_the_callers_own_key() {
        let mut store = MockAccountStore::new();
        store
            .expect_replace_api_key()
            .withf(|id, _| *id == AccountId(4))
            .times(1)
            .returning(|id, _| Ok(account(id.0, "Acme")));
        let issued = use_cases(store)
            .regenerate_api_key(&Actor::ApiKey(access(4)))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(issued.account.id, AccountId(4));
    }

    #[tokio::test]
    async fn entering_chat_rooms_checks_account_and_feature() {
        let mut store = MockAccountStore::new();
        store
            .expect_get_account()
            .withf(|id| *id == AccountId(2))
            .returning(|id| Ok(account(id.0, "Other")));
        store
            .expect_get_account()
            .withf(|id| *id == AccountId(99))
            .returning(|_| Err(StoreError::NotFound));
        let use_cases = use_cases(store);
        let own = Actor::ApiKey(access(1));
        assert!(use_cases.enter_chat_rooms(&own, AccountId(1)).await.is_ok());
        assert!(matches!(
            use_cases.enter_chat_rooms(&own, AccountId(2)).await,
            Err(AppError::WrongAccount)
        ));
        assert!(matches!(
            use_cases.enter_chat_rooms(&own, AccountId(99)).await,
            Err(AppError::NotFound(Resource::Account))
        ));
        assert!(matches!(
            use_cases
                .enter_chat_rooms(&Actor::Platform, AccountId(1))
                .await,
            Err(AppError::Unauthenticated)
        ));
        let mut switched_off = access(1);
        switched_off.features.chat_rooms = false;
        let agent = Actor::User {
            account: switched_off,
            user_id: UserId(3),
            role: Role::Agent,
            scope: None,
        };
        assert!(matches!(
            use_cases.enter_chat_rooms(&agent, AccountId(1)).await,
            Err(AppError::Forbidden(Denied::FeatureDisabled("chat_rooms")))
        ));
    }

    #[tokio::test]
    async fn client_routes_need_the_api_key() {
        let mut store = MockAccountStore::new();
        store.expect_get_account().never();
        store.expect_replace_api_key().never();
        let use_cases = use_cases(store);
        let user = Actor::User {
            account: access(1),
            user_id: UserId(2),
            role: Role::Administrator,
            scope: None,
        };
        for actor in [Actor::Platform, user] {
            assert!(matches!(
                use_cases.current(&actor).await,
                Err(AppError::Unauthenticated)
            ));
            assert!(matches!(
                use_cases.regenerate_api_key(&actor).await,
                Err(AppError::Unauthenticated)
            ));
        }
    }

    #[tokio::test]
    async fn the_api_key_changes_only_its_own_name_and_description() {
        let mut store = MockAccountStore::new();
        store
            .expect_update_account()
            .withf(|id, patch| {
                *id == AccountId(4)
                    && patch.name.as_ref().map(AccountName::as_str) == Some("Acme 2")
                    && patch.is_active.is_none()
                    && patch.chat_rooms.is_none()
            })
            .times(1)
            .returning(|id, _| Ok(account(id.0, "Acme 2")));
        // A new name closes nothing.
        let use_cases = use_cases(store).with_events(Arc::new(announcing(4, 0)));
        let patch = AccountPatch::parse(Some(Some("Acme 2")), None, Some(false), Some(false))
            .unwrap_or_else(|e| panic!("{e}"));
        let updated = use_cases.update_own(&Actor::ApiKey(access(4)), patch).await;
        assert!(updated.is_ok(), "{updated:?}");
    }

    #[tokio::test]
    async fn deactivating_its_own_account_announces_its_credentials() {
        let mut store = MockAccountStore::new();
        store
            .expect_update_account()
            .withf(|id, patch| *id == AccountId(4) && patch.is_active == Some(false))
            .times(1)
            .returning(|id, _| {
                let mut account = account(id.0, "Acme");
                account.is_active = false;
                Ok(account)
            });
        let use_cases = use_cases(store).with_events(Arc::new(announcing(4, 1)));
        let deactivated = use_cases.deactivate_own(&Actor::ApiKey(access(4))).await;
        assert!(matches!(deactivated, Ok(a) if !a.is_active));
    }

    #[tokio::test]
    async fn only_the_api_key_changes_or_deactivates_its_own_account() {
        let mut store = MockAccountStore::new();
        store.expect_update_account().never();
        store.expect_get_account().never();
        let use_cases = use_cases(store);
        let user = Actor::User {
            account: access(1),
            user_id: UserId(2),
            role: Role::Administrator,
            scope: None,
        };
        for actor in [Actor::Platform, user] {
            assert!(matches!(
                use_cases.update_own(&actor, AccountPatch::default()).await,
                Err(AppError::Unauthenticated)
            ));
            assert!(matches!(
                use_cases.deactivate_own(&actor).await,
                Err(AppError::Unauthenticated)
            ));
        }
    }

    fn announcing(account: i64, times: usize) -> crate::events::MockEventPublisher {
        let mut events = crate::events::MockEventPublisher::new();
        events
            .expect_publish()
            .withf(move |event| {
                *event
                    == DomainEvent::Credentials(CredentialEvent {
                        account: AccountId(account),
                        user: None,
                    })
            })
            .times(times)
            .return_const(());
        events
    }

    #[tokio::test]
    async fn a_regenerated_key_announces_the_accounts_credentials() {
        let mut store = MockAccountStore::new();
        store
            .expect_replace_api_key()
            .returning(|id, _| Ok(account(id.0, "Acme")));
        let use_cases = use_cases(store).with_events(Arc::new(announcing(4, 1)));
        let issued = use_cases
            .regenerate_api_key(&Actor::ApiKey(access(4)))
            .await;
        assert!(issued.is_ok(), "{issued:?}");
    }

    #[tokio::test]
    async fn switching_an_account_or_its_chat_rooms_off_announces_its_credentials() {
        let mut store = MockAccountStore::new();
        store
            .expect_update_account()
            .returning(|id, _| Ok(account(id.0, "Acme")));
        // Activity and the feature: two announcements; a new name: none.
        let use_cases = use_cases(store).with_events(Arc::new(announcing(5, 2)));
        for patch in [
            AccountPatch::parse(None, None, Some(false), None),
            AccountPatch::parse(None, None, None, Some(false)),
            AccountPatch::parse(Some(Some("Acme 2")), None, None, None),
        ] {
            let patch = patch.unwrap_or_else(|e| panic!("{e}"));
            let updated = use_cases
                .update(&Actor::Platform, AccountId(5), patch)
                .await;
            assert!(updated.is_ok(), "{updated:?}");
        }
    }
}

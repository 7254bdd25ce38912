//! Users of an account, created by the platform operator.

use std::fmt;
use std::sync::Arc;

use chat_domain::{AccountId, CredentialKind, SecretToken, User};

use crate::actor::Actor;
use crate::error::{AppError, Resource};
use crate::model::NewUser;
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
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Users").finish_non_exhaustive()
    }
}

impl Users {
    /// User use cases over `users`.
    pub fn new(users: Arc<dyn UserStore>) -> Self {
        Self { users }
    }

    /// Creates a user of `account` with its access token. Platform only.
    pub async fn create(
        &self,
        actor: &Actor,
        account: AccountId,
        new: NewUser,
    ) -> Result<IssuedUser, AppError> {
        actor.require_platform()?;
        let access_token = SecretToken::generate(CredentialKind::UserToken)?;
        let user = self
            .users
            .create_user(account, new, access_token.hash())
            .await
            .map_err(|e| e.into_app(Resource::Account))?;
        Ok(IssuedUser { user, access_token })
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
            availability: Availability::Offline,
            confirmed: true,
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
}

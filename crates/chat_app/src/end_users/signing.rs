//! The account's signing secret, from which its integration mints signed tokens.

use time::OffsetDateTime;

use super::people::EndUsers;
use crate::actor::Actor;
use crate::auth::SigningSecret;
use crate::error::{AppError, Resource};

/// A new signing secret, the only time it is seen in clear.
#[derive(Debug, Clone)]
pub struct IssuedSigningSecret {
    /// The secret (HMAC key of HS256 tokens).
    pub secret: SigningSecret,
    /// When it was made.
    pub created_at: OffsetDateTime,
}

impl EndUsers {
    /// `POST /api/v1/clients/signing-secret` (API key): a new signing secret, shown
    /// once. The previous one keeps working 24 hours, so tokens can roll over; older
    /// ones are forgotten. Only a random seed is stored: the secret is derived from it
    /// with the server's key, so without `CHAT_SECRET_KEY` there is none
    /// ([`AppError::SigningUnavailable`]).
    pub async fn replace_signing_secret(
        &self,
        actor: &Actor,
    ) -> Result<IssuedSigningSecret, AppError> {
        let account = actor.require_api_key()?.id;
        let master = self.master.as_ref().ok_or(AppError::SigningUnavailable)?;
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| {
            AppError::from(chat_domain::credential::EntropyUnavailable(e.to_string()))
        })?;
        let stored = self
            .store
            .replace_signing_seed(account, seed)
            .await
            .map_err(|e| e.into_app(Resource::Account))?;
        Ok(IssuedSigningSecret {
            secret: master.derive(&stored.seed),
            created_at: stored.created_at,
        })
    }
}

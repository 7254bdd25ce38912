//! Signed tokens (JWT, HS256) minted by an integration with its account's signing
//! secret. The secret is never stored: it is `HMAC-SHA256(server key, seed)`, and only
//! the seed is kept (see docs/decisions.md).
//!
//! A token names its account by `iss` (the client's UUID) and its user by `sub` (the
//! ChatAPI `user_id`); `exp` is required, `iat`, `name` and `perms` are optional. Its
//! header must say exactly `HS256`. It is checked against the account's current secret,
//! then against the one it replaced (for 24 hours after the replacement), newest first.

use std::fmt;
use std::sync::Arc;

use chat_domain::{
    CredentialKind, ExternalId, FieldError, Permissions, PersonName, Problem, Role, UserId,
};
use hmac::{Hmac, Mac};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::Sha256;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{AppError, Resource};
use crate::ports::{CredentialOwner, EndUserStore, StoreError, UserDirectory};

type HmacSha256 = Hmac<Sha256>;

/// The server's secret key (`CHAT_SECRET_KEY`), from which every signing secret is
/// derived. The same on every node.
#[derive(Clone)]
pub struct SigningMaster(HmacSha256);

impl fmt::Debug for SigningMaster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningMaster(<redacted>)")
    }
}

impl SigningMaster {
    /// At least this many characters once trimmed.
    pub const MIN_CHARS: usize = 32;

    /// At least [`SigningMaster::MIN_CHARS`] characters once trimmed (field
    /// `secret_key`); the trimmed text's UTF-8 bytes are the HMAC key.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        let invalid = |reason: String| FieldError::new("secret_key", Problem::Invalid(reason));
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(invalid(format!(
                "must be at least {} characters of random text",
                Self::MIN_CHARS
            )));
        }
        // HMAC takes keys of any length, so this does not fail.
        HmacSha256::new_from_slice(raw.as_bytes())
            .map(Self)
            .map_err(|e| invalid(e.to_string()))
    }

    /// The signing secret a seed stands for: `ss_` and the 64 lowercase hex digits of
    /// `HMAC-SHA256(key = the server key, message = seed)`.
    pub fn derive(&self, seed: &[u8; 32]) -> SigningSecret {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut mac = self.0.clone();
        mac.update(seed);
        let tag = mac.finalize().into_bytes();
        let mut text = String::with_capacity(3 + tag.len() * 2);
        text.push_str(SigningSecret::PREFIX);
        for byte in tag {
            text.push(char::from(HEX[usize::from(byte >> 4)]));
            text.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        SigningSecret(text)
    }
}

/// An account's signing secret in clear: shown once, and the HMAC key of its tokens
/// (the UTF-8 bytes of [`SigningSecret::expose`]). `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(String);

impl SigningSecret {
    /// What every signing secret starts with.
    pub const PREFIX: &'static str = "ss_";

    /// The secret's text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(<redacted>)")
    }
}

/// Whether `presented` has the shape of a JWT: three base64url segments separated by
/// dots, the last (the signature) possibly empty, as `alg: none` writes it. The secrets
/// this server issues never contain a dot.
pub(crate) fn looks_like_jwt(presented: &str) -> bool {
    let base64url = |segment: &str| {
        segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let mut segments = presented.split('.');
    match (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) {
        (Some(header), Some(claims), Some(signature), None) => {
            !header.is_empty()
                && !claims.is_empty()
                && base64url(header)
                && base64url(claims)
                && base64url(signature)
        }
        _ => false,
    }
}

/// The claims a token must (or may) carry.
#[derive(Debug, Deserialize)]
struct Claims {
    /// The ChatAPI `user_id`.
    sub: String,
    /// Expiry, unix seconds.
    exp: i64,
    /// Issued at, unix seconds.
    iat: Option<i64>,
    /// The name of a user made by the token's first use.
    name: Option<String>,
    /// Permission names; absent: [`Permissions::DEFAULT`].
    perms: Option<Vec<String>>,
    // `iss`, required too, is read by [`Issuer`] to find the secrets to check with.
}

/// Only the issuer (the client's UUID), read before the signature is checked to know
/// whose secrets to check it with.
#[derive(Debug, Deserialize)]
struct Issuer {
    iss: String,
}

/// Checks signed tokens: the server key, the accounts' seeds, and the directory that
/// makes a token's unknown user.
#[derive(Clone)]
pub(crate) struct SignedTokens {
    master: SigningMaster,
    store: Arc<dyn EndUserStore>,
    directory: Arc<dyn UserDirectory>,
}

impl fmt::Debug for SignedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedTokens").finish_non_exhaustive()
    }
}

/// A failed look-up while checking a token: the database's trouble is reported as such
/// (503), anything that names nothing is an unknown credential.
fn lookup_error(error: StoreError) -> AppError {
    match error {
        StoreError::NotFound | StoreError::Duplicate(_) | StoreError::LimitReached => {
            AppError::Unauthenticated
        }
        other => other.into_app(Resource::Account),
    }
}

fn refused<E>(_: E) -> AppError {
    AppError::Unauthenticated
}

impl SignedTokens {
    pub(crate) fn new(
        master: SigningMaster,
        store: Arc<dyn EndUserStore>,
        directory: Arc<dyn UserDirectory>,
    ) -> Self {
        Self {
            master,
            store,
            directory,
        }
    }

    /// The owner of a valid token, as a scoped credential of its user that expires at
    /// its `exp`. `TokenExpired` when its signature is good but `exp` has passed; every
    /// other fault is `Unauthenticated`.
    pub(crate) async fn verify(&self, token: &str) -> Result<CredentialOwner, AppError> {
        if jsonwebtoken::crypto::CryptoProvider::try_get_default().is_none() {
            tracing::error!("jsonwebtoken has no crypto provider: every signed token is refused");
            return Err(AppError::Unauthenticated);
        }
        let header = jsonwebtoken::decode_header(token).map_err(refused)?;
        if header.alg != Algorithm::HS256 {
            return Err(AppError::Unauthenticated);
        }
        // Whose secrets to try; nothing of the claims is believed before the signature
        // is checked.
        let Issuer { iss } =
            jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(refused)?;
        let client = Uuid::try_parse(&iss).map_err(refused)?;
        let keys = self
            .store
            .find_signing_keys(client)
            .await
            .map_err(lookup_error)?
            .ok_or(AppError::Unauthenticated)?;
        if !keys.account_active {
            return Err(AppError::Unauthenticated);
        }
        let claims = self.checked_claims(token, &keys.seeds)?;
        let expires_at = OffsetDateTime::from_unix_timestamp(claims.exp).map_err(refused)?;
        let scope = match &claims.perms {
            None => Permissions::DEFAULT,
            Some(names) => {
                Permissions::parse("perms", names.iter().map(String::as_str)).map_err(refused)?
            }
        };
        let user_id = self.subject(keys.account.id, &claims).await?;
        Ok(CredentialOwner {
            kind: CredentialKind::ScopedKey,
            account: keys.account,
            account_active: true,
            user: Some((user_id, Role::Agent)),
            user_active: true,
            scope: Some(scope),
            expires_at: Some(expires_at),
        })
    }

    /// The claims of a token signed with one of `seeds`' secrets (newest first), checked:
    /// `exp` (no leeway), `sub` and `iss` present.
    fn checked_claims(
        &self,
        token: &str,
        seeds: &[crate::ports::SigningSeed],
    ) -> Result<Claims, AppError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.leeway = 0;
        validation.validate_exp = true;
        // A token not valid yet (`nbf` in the future) is refused like a bad one.
        validation.validate_nbf = true;
        // No audience is defined: a token that names one is not refused for it.
        validation.validate_aud = false;
        for seed in seeds {
            let secret = self.master.derive(&seed.seed);
            let key = DecodingKey::from_secret(secret.expose().as_bytes()).map_err(refused)?;
            match jsonwebtoken::decode::<Claims>(token, &key, &validation) {
                Ok(data) => return Ok(data.claims),
                // Maybe signed with an older secret.
                Err(error) if matches!(error.kind(), ErrorKind::InvalidSignature) => {}
                // The signature is good (it is checked first): the claims are at fault.
                Err(error) if matches!(error.kind(), ErrorKind::ExpiredSignature) => {
                    return Err(AppError::TokenExpired);
                }
                Err(_) => return Err(AppError::Unauthenticated),
            }
        }
        Err(AppError::Unauthenticated)
    }

    /// The user `sub` names, made (an agent named `name`, else `sub`) on first use. An
    /// inactive user, and a token issued before the user's tokens were revoked (or whose
    /// issue time is unknown when they were), are refused. `iat` is in whole seconds and
    /// the revocation is an instant: a token issued in the second of the revocation is
    /// refused too (it cannot be proved to be newer).
    async fn subject(
        &self,
        account: chat_domain::AccountId,
        claims: &Claims,
    ) -> Result<UserId, AppError> {
        let sub = ExternalId::parse_field("sub", &claims.sub).map_err(refused)?;
        let found = self
            .store
            .find_token_subject(account, sub.clone())
            .await
            .map_err(lookup_error)?;
        let (user_id, active, valid_after) = match found {
            Some(subject) => (
                subject.user_id,
                subject.is_active,
                subject.tokens_valid_after,
            ),
            None => {
                let name = claims.name.as_deref().unwrap_or(sub.as_str());
                let name = PersonName::parse(name).map_err(refused)?;
                // A user made a moment ago has revoked nothing yet.
                let user = self
                    .directory
                    .ensure_external_user(account, sub, name)
                    .await
                    .map_err(lookup_error)?;
                (user.id, user.is_active, None)
            }
        };
        if !active {
            return Err(AppError::Unauthenticated);
        }
        if let Some(valid_after) = valid_after {
            let issued = claims
                .iat
                .and_then(|iat| OffsetDateTime::from_unix_timestamp(iat).ok())
                .ok_or(AppError::Unauthenticated)?;
            if issued < valid_after {
                return Err(AppError::Unauthenticated);
            }
        }
        Ok(user_id)
    }
}

#[cfg(test)]
mod tests;

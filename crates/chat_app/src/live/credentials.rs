//! What an open socket was let in with, and how it learns that this no longer holds:
//! [`SocketCredential`] (the presented secret, in memory only, and who it
//! authenticated as until when), [`CredentialWatch`] (resolves when the credential is
//! revoked or expires), and [`CredentialEnd`] (why; the adapter closes with 4001).
//!
//! The hub tells a [`CredentialWatcher`] of every [`CredentialEvent`] — published on
//! this node or relayed from another — and the live sessions re-check the open sockets
//! it names (see `follow`).

use std::fmt;
use std::future::pending;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use time::OffsetDateTime;

use chat_domain::Features;

use crate::actor::{AccountAccess, Actor};
use crate::auth::Authenticated;
use crate::error::AppError;
use crate::events::CredentialEvent;

/// A secret as a client presented it. Kept in memory only, to authenticate it again;
/// never printed (`Debug` hides it).
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Presented(String);

impl Presented {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Presented {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Presented(<redacted>)")
    }
}

/// The credential a socket was let in with: the secret it presented, who that
/// authenticated as, and until when it works.
#[derive(Clone, PartialEq)]
pub struct SocketCredential {
    pub(crate) secret: Presented,
    pub(crate) actor: Actor,
    pub(crate) expires_at: Option<OffsetDateTime>,
    /// The count of credential changes seen on this node before the secret was
    /// authenticated: a change counted after it may have been missed.
    pub(crate) generation: u64,
}

impl SocketCredential {
    /// What `secret` authenticated as (`authenticated`).
    pub fn new(secret: &str, authenticated: Authenticated) -> Self {
        Self {
            secret: Presented(secret.trim().to_owned()),
            actor: authenticated.actor,
            expires_at: authenticated.expires_at,
            generation: 0,
        }
    }

    /// Who the secret authenticated as (for the API key: the key itself, whatever
    /// participant the socket speaks for).
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// When the credential stops working (`None`: it does not expire).
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        self.expires_at
    }
}

impl fmt::Debug for SocketCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketCredential")
            .field("actor", &self.actor)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Why an open socket's credential no longer lets it listen: it is closed with 4001 and
/// [`CredentialEnd::reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialEnd {
    /// The credential no longer authenticates: revoked (logout, revoke-tokens),
    /// rotated (a login, a new access token, a regenerated API key), or its user or
    /// account deactivated or deleted.
    Revoked,
    /// The credential's `expires_at` passed.
    Expired,
    /// The credential authenticates as someone else now (another role, other
    /// permissions, the account's features changed): reconnect to be let in anew.
    Changed,
    /// The participant an API-key socket spoke for was deactivated or deleted.
    UserInactive,
}

impl CredentialEnd {
    /// The close frame's reason.
    pub fn reason(self) -> &'static str {
        match self {
            CredentialEnd::Revoked => "credential revoked",
            CredentialEnd::Expired => "credential expired",
            CredentialEnd::Changed => "credential changed",
            CredentialEnd::UserInactive => "user deactivated",
        }
    }

    /// A label for metrics and logs.
    pub fn label(self) -> &'static str {
        match self {
            CredentialEnd::Revoked => "credential_revoked",
            CredentialEnd::Expired => "credential_expired",
            CredentialEnd::Changed => "credential_changed",
            CredentialEnd::UserInactive => "user_inactive",
        }
    }
}

/// What a re-check of a credential found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// It still authenticates as the same actor.
    Keep,
    /// The socket must close.
    End(CredentialEnd),
    /// The check itself failed (the store unreachable): try again, or leave it open.
    Unsure,
}

/// The verdict on a socket opened as `before`, whose secret now authenticates as `now`.
/// A user's stream (`stream`) is the account dialect's, and needs the account's
/// `chat_rooms` feature; the features matter to nothing else here.
pub(crate) fn verdict(
    before: &Actor,
    stream: bool,
    now: &Result<Authenticated, AppError>,
) -> Verdict {
    match now {
        Ok(found)
            if stream
                && found
                    .actor
                    .account()
                    .is_some_and(|a| !a.features.chat_rooms) =>
        {
            Verdict::End(CredentialEnd::Changed)
        }
        Ok(found) if featureless(found.actor) == featureless(*before) => Verdict::Keep,
        Ok(_) => Verdict::End(CredentialEnd::Changed),
        Err(AppError::TokenExpired) => Verdict::End(CredentialEnd::Expired),
        Err(AppError::Unavailable(_) | AppError::Unexpected(_)) => Verdict::Unsure,
        Err(
            AppError::Unauthenticated
            | AppError::WrongAccount
            | AppError::SigningUnavailable
            | AppError::Forbidden(_)
            | AppError::NotFound(_)
            | AppError::Conflict(_)
            | AppError::ContentTooLong(_)
            | AppError::Invalid(_),
        ) => Verdict::End(CredentialEnd::Revoked),
    }
}

/// `actor` with its account's features left out (who acts, not what the account has
/// switched on).
fn featureless(actor: Actor) -> Actor {
    let plain = |access: AccountAccess| AccountAccess {
        features: Features::default(),
        ..access
    };
    match actor {
        Actor::Platform => Actor::Platform,
        Actor::ApiKey(access) => Actor::ApiKey(plain(access)),
        Actor::User {
            account,
            user_id,
            role,
            scope,
        } => Actor::User {
            account: plain(account),
            user_id,
            role,
            scope,
        },
    }
}

/// Told of every credential change by the hub (on the hub's task: it must not wait).
pub trait CredentialWatcher: Send + Sync {
    /// Credentials of `event.account` (of `event.user` only, when given) changed, here
    /// or on another node.
    fn changed(&self, event: CredentialEvent);

    /// Changes may have been missed (the relay reconnected): re-check everything.
    fn missed(&self);
}

/// A level-triggered signal: once raised it stays raised; waiting on it is
/// cancel-safe.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    state: Mutex<(Option<CredentialEnd>, Option<Waker>)>,
}

impl Signal {
    /// Raises the signal (the first reason stays) and wakes its waiter.
    pub(crate) fn raise(&self, end: CredentialEnd) {
        let waker = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.0.get_or_insert(end);
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    pub(crate) fn raised(&self) -> Option<CredentialEnd> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).0
    }

    pub(crate) fn poll(&self, cx: &mut Context<'_>) -> Poll<CredentialEnd> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match state.0 {
            Some(end) => Poll::Ready(end),
            None => {
                state.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// The longest single wait for an expiry (a far `exp` is waited for a day at a time).
const LONGEST_WAIT: Duration = Duration::from_secs(24 * 3600);

/// Waits until `at` (wall clock) has passed; forever for `None`.
pub(crate) async fn until(at: Option<OffsetDateTime>) {
    let Some(at) = at else {
        return pending().await;
    };
    loop {
        let left = at - OffsetDateTime::now_utc();
        match Duration::try_from(left) {
            Ok(left) if !left.is_zero() => tokio::time::sleep(left.min(LONGEST_WAIT)).await,
            _ => return,
        }
    }
}

//! The live-session use case: who may open a live connection ([`Sockets`] decides), and
//! everything a connection then does (in `lifecycle`, `frames` and `follow`).

use std::fmt;
use std::sync::Arc;

use chat_domain::{AccountId, RoomRef, Seq};
use uuid::Uuid;

use crate::auth::CredentialCache;
use crate::live::credentials::SocketCredential;
use crate::live::follow::{Checker, CredentialWatch, Followed};
use crate::live::hub::LiveHub;
use crate::live::presence::PresenceStore;
use crate::live::session::{LiveSession, Refusal, SessionKind};
use crate::live::sockets_per_user::{OpenSockets, SocketPlace};
use crate::{Authenticator, Messages, Rooms, Sockets};

/// The live-session use cases: admission, presence, subscription and replay, and what
/// each client frame does. Cheap to clone.
#[derive(Clone)]
pub struct LiveSessions {
    pub(crate) auth: Authenticator,
    pub(crate) sockets: Sockets,
    pub(crate) rooms: Rooms,
    pub(crate) messages: Messages,
    pub(crate) presence: Arc<dyn PresenceStore>,
    pub(crate) hub: Arc<dyn LiveHub>,
    /// The open sockets of each person on this node.
    pub(crate) open: OpenSockets,
    /// The open sockets' credentials, followed.
    pub(crate) followed: Arc<Followed>,
}

impl fmt::Debug for LiveSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveSessions").finish_non_exhaustive()
    }
}

impl LiveSessions {
    /// Live sessions over the use cases they call, presence, and this node's hub, which
    /// tells them of credential changes (see [`LiveSessions::follow`]).
    pub fn new(
        auth: Authenticator,
        sockets: Sockets,
        rooms: Rooms,
        messages: Messages,
        presence: Arc<dyn PresenceStore>,
        hub: Arc<dyn LiveHub>,
    ) -> Self {
        let sessions = Self {
            auth,
            sockets,
            rooms,
            messages,
            presence,
            hub,
            open: OpenSockets::new(),
            followed: Arc::default(),
        };
        sessions.hub.watch_credentials(Arc::new(sessions.checker()));
        sessions
    }

    /// Takes an admitted socket's place among its person's open sockets on this node
    /// (room sockets and user streams alike), refusing one past `limit`; the place is
    /// given back when the connection drops it. A socket without a person (an API-key
    /// listener) is not counted.
    pub fn take_place(&self, session: &LiveSession, limit: u32) -> Result<SocketPlace, Refusal> {
        match &session.participant {
            None => Ok(SocketPlace::uncounted()),
            Some(user) => self
                .open
                .take(session.account, user.id, limit)
                .ok_or(Refusal::TooManySockets),
        }
    }

    /// Lets in a room's socket: `token` is any credential; with the API key, `user_id`
    /// names the participant the socket speaks for (without it, it only listens); with a
    /// scoped credential it may only name the credential's own user; `since_seq` asks
    /// for a replay of the messages after it.
    pub async fn admit_room(
        &self,
        token: Option<&str>,
        room: &str,
        user_id: Option<&str>,
        since_seq: Option<&str>,
    ) -> Result<LiveSession, Refusal> {
        let credential = self.authenticate(token).await?;
        let actor = credential.actor;
        let room = Uuid::parse_str(room.trim()).map_err(|_| Refusal::RoomNotFound)?;
        let since = match since_seq.map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(
                raw.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .map(Seq)
                    .ok_or(Refusal::InvalidSince)?,
            ),
        };
        let socket = self
            .sockets
            .room(&actor, RoomRef::Uuid(room), user_id)
            .await?;
        Ok(LiveSession {
            actor: socket.actor,
            account: socket.room.account_id,
            participant: socket.participant,
            kind: SessionKind::Room {
                room: socket.room,
                since,
            },
            credential,
        })
    }

    /// Lets in a user's stream of all their rooms in `account`: `token` is the user's
    /// access token.
    pub async fn admit_stream(
        &self,
        token: Option<&str>,
        account: &str,
    ) -> Result<LiveSession, Refusal> {
        let credential = self.authenticate(token).await?;
        let actor = credential.actor;
        let Ok(account) = account.trim().parse::<i64>().map(AccountId) else {
            return Err(Refusal::Unauthorized);
        };
        let stream = self.sockets.stream(&actor, account).await?;
        Ok(LiveSession {
            actor,
            account,
            participant: Some(stream.user),
            kind: SessionKind::Stream {
                rooms: stream.rooms,
            },
            credential,
        })
    }

    /// The credential `token` is, remembered with the count of credential changes seen
    /// before it was checked.
    async fn authenticate(&self, token: Option<&str>) -> Result<SocketCredential, Refusal> {
        let token = token.map(str::trim).filter(|t| !t.is_empty());
        let Some(token) = token else {
            return Err(Refusal::Unauthorized);
        };
        let generation = self.followed.generation();
        let found = self.auth.credential(Some(token)).await?;
        let mut credential = SocketCredential::new(token, found);
        credential.generation = generation;
        Ok(credential)
    }
}

impl LiveSessions {
    /// The same sessions, forgetting `cache` (the authenticator's) on every credential
    /// change, including those relayed from other nodes.
    pub fn with_credential_cache(self, cache: Arc<CredentialCache>) -> Self {
        self.followed.set_cache(cache);
        self
    }

    /// Follows an admitted socket's credential for as long as the returned watch lives:
    /// it resolves when the credential is revoked or expires. A credential
    /// authenticated before a change this node has seen since is re-checked at once.
    pub fn follow(&self, session: &LiveSession) -> CredentialWatch {
        let (watch, recheck) = self.followed.follow(
            session.account,
            session.participant.as_ref().map(|user| user.id),
            &session.credential,
            matches!(session.kind, SessionKind::Stream { .. }),
        );
        if recheck {
            self.checker().start();
        }
        watch
    }

    /// How many sockets this node follows (for tests and metrics).
    pub fn followed_sockets(&self) -> usize {
        self.followed.count()
    }

    pub(crate) fn checker(&self) -> Checker {
        Checker {
            followed: self.followed.clone(),
            auth: self.auth.clone(),
            sockets: self.sockets.clone(),
        }
    }
}

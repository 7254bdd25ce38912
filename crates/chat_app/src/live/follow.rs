//! Open sockets follow their credential. Every admitted socket is followed (its secret,
//! actor and participant, in memory) for as long as it runs. On a credential change of
//! an account (of one user, when it names one) — made here or relayed from another
//! node — this node forgets its cached credentials at once and re-checks, on a task of
//! its own, the followed sockets the change names: each distinct secret is
//! authenticated again (a few at a time), and a socket whose credential fails, or now
//! authenticates as someone else, is told to end ([`CredentialEnd`]). A socket the API
//! key opened for a participant ends when that participant is deactivated or deleted.
//!
//! A change that lands while a socket is being let in is not lost: each change is
//! counted, and a socket whose credential was authenticated before the latest change
//! is re-checked as soon as it is followed.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::future::poll_fn;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;
use std::time::Duration;

use chat_domain::{AccountId, UserId};
use time::OffsetDateTime;

use crate::actor::Actor;
use crate::auth::{Authenticator, CredentialCache};
use crate::error::AppError;
use crate::events::CredentialEvent;
use crate::live::credentials::{
    CredentialEnd, CredentialWatcher, Presented, Signal, SocketCredential, Verdict, until, verdict,
};
use crate::sockets::Sockets;

/// Credentials re-checked at the same time, at most.
pub const RECHECK_CONCURRENCY: usize = 8;

/// Tries at re-checking one credential when the store cannot answer.
pub const RECHECK_ATTEMPTS: u32 = 3;

/// The wait after the first failed try at re-checking a credential; it doubles.
pub const RECHECK_BACKOFF: Duration = Duration::from_millis(250);

/// One followed socket.
struct FollowedSocket {
    account: AccountId,
    /// The user the credential authenticated as (none for the API key).
    user: Option<UserId>,
    /// The person the socket speaks for (the API key's participant, or the user).
    participant: Option<UserId>,
    secret: Presented,
    actor: Actor,
    /// A user's stream (the account dialect), which needs the `chat_rooms` feature.
    stream: bool,
    signal: Arc<Signal>,
}

/// Which followed sockets to re-check.
#[derive(Debug, Default)]
struct Wanted {
    /// Every socket (changes may have been missed).
    everything: bool,
    /// Every socket of an account (`None`), or of some of its users.
    accounts: HashMap<AccountId, Option<HashSet<UserId>>>,
    /// Single sockets (let in around a change).
    sockets: HashSet<u64>,
}

impl Wanted {
    fn is_empty(&self) -> bool {
        !self.everything && self.accounts.is_empty() && self.sockets.is_empty()
    }

    fn add(&mut self, event: CredentialEvent) {
        match event.user {
            None => {
                self.accounts.insert(event.account, None);
            }
            Some(user) => {
                if let Some(users) = self
                    .accounts
                    .entry(event.account)
                    .or_insert_with(|| Some(HashSet::new()))
                {
                    users.insert(user);
                }
            }
        }
    }

    fn wants(&self, id: u64, socket: &FollowedSocket) -> bool {
        if self.everything || self.sockets.contains(&id) {
            return true;
        }
        match self.accounts.get(&socket.account) {
            None => false,
            Some(None) => true,
            Some(Some(users)) => [socket.user, socket.participant]
                .into_iter()
                .flatten()
                .any(|user| users.contains(&user)),
        }
    }
}

#[derive(Debug, Default)]
struct Queue {
    wanted: Wanted,
    /// A task is re-checking (it takes what is queued until nothing is).
    running: bool,
}

/// The sockets of this node, followed; shared by every clone of the live sessions.
#[derive(Default)]
pub(crate) struct Followed {
    sockets: Mutex<HashMap<u64, FollowedSocket>>,
    next_id: AtomicU64,
    /// Credential changes seen so far.
    generation: AtomicU64,
    /// The authenticator's cache, forgotten on every change.
    cache: Mutex<Option<Arc<CredentialCache>>>,
    queue: Mutex<Queue>,
}

impl fmt::Debug for Followed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Followed")
            .field("sockets", &self.count())
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

impl Followed {
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub(crate) fn set_cache(&self, cache: Arc<CredentialCache>) {
        *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = Some(cache);
    }

    /// How many sockets are followed.
    pub(crate) fn count(&self) -> usize {
        self.sockets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// A change: the cache is forgotten first, then the change counted, so that a
    /// socket let in meanwhile either authenticated afresh or is re-checked.
    fn note_change(&self) {
        let cache = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(cache) = cache {
            cache.clear();
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn remove(&self, id: u64) {
        self.sockets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }

    /// Queues `wanted`; answers whether a task must be started to re-check it.
    fn queue(&self, add: impl FnOnce(&mut Wanted)) -> bool {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        add(&mut queue.wanted);
        !std::mem::replace(&mut queue.running, true)
    }

    /// Drops what is queued, with no task to re-check it.
    fn abandon(&self) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.wanted = Wanted::default();
        queue.running = false;
    }

    /// What is queued, or `None` (and no task running) once nothing is.
    fn take(&self) -> Option<Wanted> {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.wanted.is_empty() {
            queue.running = false;
            return None;
        }
        Some(std::mem::take(&mut queue.wanted))
    }
}

/// A socket's place among the followed ones, given back when dropped.
pub(crate) struct Following {
    followed: Arc<Followed>,
    id: u64,
}

impl Drop for Following {
    fn drop(&mut self) {
        self.followed.remove(self.id);
    }
}

/// Re-checks followed sockets; the hub's [`CredentialWatcher`].
#[derive(Clone)]
pub(crate) struct Checker {
    pub(crate) followed: Arc<Followed>,
    pub(crate) auth: Authenticator,
    pub(crate) sockets: Sockets,
}

impl CredentialWatcher for Checker {
    fn changed(&self, event: CredentialEvent) {
        self.followed.note_change();
        if self.followed.queue(|wanted| wanted.add(event)) {
            self.start();
        }
    }

    fn missed(&self) {
        self.followed.note_change();
        if self.followed.queue(|wanted| wanted.everything = true) {
            self.start();
        }
    }
}

/// A socket a secret opened, as its re-check needs it.
struct Opened {
    /// Who the secret authenticated as when the socket opened.
    actor: Actor,
    /// A user's stream (which needs the `chat_rooms` feature)?
    stream: bool,
    signal: Arc<Signal>,
}

/// One re-check: a secret and the sockets it opened, or an API key's participant and
/// the sockets that speak for them.
enum Job {
    Secret(Presented, Vec<Opened>),
    Participant(AccountId, UserId, Vec<Arc<Signal>>),
}

impl Checker {
    /// Starts the task that re-checks what is queued (the caller runs on the runtime:
    /// the hub's task).
    pub(crate) fn start(&self) {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let checker = self.clone();
                runtime.spawn(async move { checker.drain().await });
            }
            Err(_) => {
                tracing::error!("credential changes cannot be followed off the async runtime");
                self.followed.abandon();
            }
        }
    }

    /// Re-checks what is queued until nothing is.
    pub(crate) async fn drain(&self) {
        while let Some(wanted) = self.followed.take() {
            self.check(&wanted).await;
        }
    }

    /// Re-checks the sockets `wanted` names, [`RECHECK_CONCURRENCY`] at a time.
    async fn check(&self, wanted: &Wanted) {
        let jobs = self.jobs(wanted);
        if jobs.is_empty() {
            return;
        }
        let jobs_count = jobs.len();
        let jobs = Arc::new(Mutex::new(jobs));
        let workers: Vec<_> = (0..RECHECK_CONCURRENCY.min(jobs_count))
            .map(|_| {
                let checker = self.clone();
                let jobs = jobs.clone();
                tokio::spawn(async move {
                    loop {
                        let job = jobs
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .pop_front();
                        let Some(job) = job else { return };
                        checker.run(job).await;
                    }
                })
            })
            .collect();
        for worker in workers {
            if let Err(error) = worker.await {
                tracing::error!(%error, "a credential re-check failed");
            }
        }
    }

    /// The re-checks `wanted` needs: one per distinct secret, one per participant.
    fn jobs(&self, wanted: &Wanted) -> VecDeque<Job> {
        let sockets = self
            .followed
            .sockets
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut secrets: HashMap<&Presented, Vec<Opened>> = HashMap::new();
        let mut participants: HashMap<(AccountId, UserId), Vec<Arc<Signal>>> = HashMap::new();
        for (id, socket) in sockets.iter() {
            if !wanted.wants(*id, socket) || socket.signal.raised().is_some() {
                continue;
            }
            secrets.entry(&socket.secret).or_default().push(Opened {
                actor: socket.actor,
                stream: socket.stream,
                signal: socket.signal.clone(),
            });
            if let (Actor::ApiKey(_), Some(participant)) = (socket.actor, socket.participant) {
                participants
                    .entry((socket.account, participant))
                    .or_default()
                    .push(socket.signal.clone());
            }
        }
        let mut jobs: VecDeque<Job> = secrets
            .into_iter()
            .map(|(secret, sockets)| Job::Secret(secret.clone(), sockets))
            .collect();
        jobs.extend(
            participants
                .into_iter()
                .map(|((account, user), signals)| Job::Participant(account, user, signals)),
        );
        jobs
    }

    async fn run(&self, job: Job) {
        match job {
            Job::Secret(secret, sockets) => {
                let found = retried("a credential", || async {
                    match self.auth.credential(Some(secret.expose())).await {
                        Err(error @ (AppError::Unavailable(_) | AppError::Unexpected(_))) => {
                            Err(error)
                        }
                        answered => Ok(answered),
                    }
                })
                .await;
                let Some(found) = found else { return };
                for opened in &sockets {
                    if let Verdict::End(end) = verdict(&opened.actor, opened.stream, &found) {
                        opened.signal.raise(end);
                    }
                }
            }
            Job::Participant(account, user, signals) => {
                let active = retried("a participant", || self.sockets.is_active(account, user));
                if active.await == Some(false) {
                    for signal in &signals {
                        signal.raise(CredentialEnd::UserInactive);
                    }
                }
            }
        }
    }
}

/// What `check` answers, asked up to [`RECHECK_ATTEMPTS`] times while it fails (waiting
/// [`RECHECK_BACKOFF`], doubling); `None`, logged, when it never answered: the sockets
/// it was about stay open.
async fn retried<T, F, Fut>(what: &str, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    let mut wait = RECHECK_BACKOFF;
    for attempt in 1..=RECHECK_ATTEMPTS {
        match check().await {
            Ok(answer) => return Some(answer),
            Err(error) if attempt < RECHECK_ATTEMPTS => {
                tracing::debug!(%error, attempt, "{what} could not be re-checked; retrying");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            Err(error) => {
                tracing::warn!(%error, "{what} could not be re-checked: its sockets stay open");
            }
        }
    }
    None
}

impl Followed {
    /// Follows a socket of `account` speaking for `participant`, opened with
    /// `credential`; answers its watch, and whether a re-check must start now (the
    /// credential was authenticated before a change this node has seen since).
    pub(crate) fn follow(
        self: &Arc<Self>,
        account: AccountId,
        participant: Option<UserId>,
        credential: &SocketCredential,
        stream: bool,
    ) -> (CredentialWatch, bool) {
        let signal = Arc::new(Signal::default());
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        self.sockets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                id,
                FollowedSocket {
                    account,
                    user: credential.actor.user_id(),
                    participant,
                    secret: credential.secret.clone(),
                    actor: credential.actor,
                    stream,
                    signal: signal.clone(),
                },
            );
        let watch = CredentialWatch {
            signal,
            expires_at: credential.expires_at,
            _following: Following {
                followed: self.clone(),
                id,
            },
        };
        let recheck = credential.generation != self.generation()
            && self.queue(|wanted| {
                wanted.sockets.insert(id);
            });
        (watch, recheck)
    }
}

/// An open socket's hold on its credential: [`CredentialWatch::ended`] resolves when
/// the credential is revoked (a re-check found it so) or expires. Dropping it stops
/// following the credential (every way out of a connection drops it).
pub struct CredentialWatch {
    pub(crate) signal: Arc<Signal>,
    pub(crate) expires_at: Option<OffsetDateTime>,
    /// Takes the socket out of the followed ones when dropped.
    pub(crate) _following: Following,
}

impl fmt::Debug for CredentialWatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialWatch")
            .field("expires_at", &self.expires_at)
            .field("ended", &self.signal.raised())
            .finish_non_exhaustive()
    }
}

impl CredentialWatch {
    /// Resolves when the socket's credential no longer lets it listen, saying why.
    /// Cancel-safe (for `select!`): a revocation is never lost, and the expiry is read
    /// from the wall clock on every call.
    pub async fn ended(&mut self) -> CredentialEnd {
        let signal = self.signal.clone();
        let mut expired = pin!(until(self.expires_at));
        poll_fn(move |cx| {
            if let Poll::Ready(end) = signal.poll(cx) {
                return Poll::Ready(end);
            }
            match expired.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(CredentialEnd::Expired),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }
}

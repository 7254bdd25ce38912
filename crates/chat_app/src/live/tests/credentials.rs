//! Open sockets follow their credential: the re-check after a credential change, its
//! verdicts, and the expiry.

use std::sync::atomic::{AtomicUsize, Ordering};

use chat_domain::{CredentialKind, Permission, Permissions, TokenHash};
use time::OffsetDateTime;

use super::*;
use crate::CredentialCache;
use crate::events::CredentialEvent;
use crate::live::RECHECK_ATTEMPTS;
use crate::live::credentials::{Verdict, verdict};
use crate::ports::CredentialOwner;

/// How long a test waits for a socket that must end.
const ENDS_WITHIN: Duration = Duration::from_secs(3);

/// How long a socket that must stay open is watched.
const STAYS_FOR: Duration = Duration::from_millis(150);

fn bob_actor(role: Role, scope: Option<Permissions>) -> Actor {
    Actor::User {
        account: access(),
        user_id: UserId(7),
        role,
        scope,
    }
}

fn owner(kind: CredentialKind, user: Option<(UserId, Role)>) -> CredentialOwner {
    CredentialOwner {
        kind,
        account: access(),
        account_active: true,
        user,
        user_active: true,
        scope: None,
        expires_at: None,
    }
}

fn bobs_token() -> CredentialOwner {
    owner(CredentialKind::UserToken, Some((UserId(7), Role::Agent)))
}

/// Bob's socket to room 5 opened with `secret` (a user token).
fn bobs_socket(secret: &str) -> LiveSession {
    let mut session = room_session(None);
    session.credential = credential(secret, session.actor);
    session
}

/// Carol's (user 8) socket to room 5 with her user token.
fn carols_socket() -> LiveSession {
    let carol = User {
        id: UserId(8),
        ..user(8)
    };
    let actor = Actor::User {
        account: access(),
        user_id: carol.id,
        role: Role::Agent,
        scope: None,
    };
    LiveSession {
        actor,
        participant: Some(carol),
        credential: credential("ut_carol", actor),
        ..room_session(None)
    }
}

/// The API key's socket to room 5, speaking for Bob.
fn api_key_for_bob() -> LiveSession {
    LiveSession {
        credential: credential("ck_key", Actor::ApiKey(access())),
        ..room_session(None)
    }
}

/// The watcher the sessions gave the hub.
fn watcher_of(slot: &Watcher) -> Arc<dyn CredentialWatcher> {
    slot.lock()
        .ok()
        .and_then(|watcher| watcher.clone())
        .unwrap_or_else(|| panic!("the live sessions gave the hub no credential watcher"))
}

fn bob_changed() -> CredentialEvent {
    CredentialEvent {
        account: ACCOUNT,
        user: Some(UserId(7)),
    }
}

async fn ends(watch: &mut CredentialWatch) -> CredentialEnd {
    tokio::time::timeout(ENDS_WITHIN, watch.ended())
        .await
        .unwrap_or_else(|_| panic!("the socket should have ended: {watch:?}"))
}

async fn stays_open(watch: &mut CredentialWatch) {
    let ended = tokio::time::timeout(STAYS_FOR, watch.ended()).await;
    assert!(ended.is_err(), "the socket should stay open: {ended:?}");
}

/// A credential store answering `secret` with `answer`, counting the look-ups.
fn store_answering(
    secret: &'static str,
    answer: impl Fn() -> Result<Option<CredentialOwner>, StoreError> + Send + 'static,
    lookups: Arc<AtomicUsize>,
) -> MockCredentialStore {
    let mut store = MockCredentialStore::new();
    store
        .expect_find_credential()
        .withf(move |hash| *hash == TokenHash::of(secret))
        .returning(move |_| {
            lookups.fetch_add(1, Ordering::SeqCst);
            answer()
        });
    store
}

async fn wait_for(lookups: &AtomicUsize, count: usize) {
    let deadline = tokio::time::Instant::now() + ENDS_WITHIN;
    while lookups.load(Ordering::SeqCst) < count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {count} look-ups, saw {}",
            lookups.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[test]
fn the_verdict_keeps_the_same_actor_and_ends_every_other_outcome() {
    let bob = bob_actor(Role::Agent, None);
    let found = |actor| -> Result<Authenticated, AppError> {
        Ok(Authenticated {
            actor,
            expires_at: None,
        })
    };
    assert_eq!(verdict(&bob, false, &found(bob)), Verdict::Keep);
    let promoted = bob_actor(Role::Administrator, None);
    assert_eq!(
        verdict(&bob, false, &found(promoted)),
        Verdict::End(CredentialEnd::Changed)
    );
    let scoped = bob_actor(Role::Agent, Some(Permissions::DEFAULT));
    let narrowed = bob_actor(
        Role::Agent,
        Some(Permissions::NONE.with(Permission::ReadMessages)),
    );
    assert_eq!(
        verdict(&scoped, false, &found(narrowed)),
        Verdict::End(CredentialEnd::Changed)
    );
    for revoked in [AppError::Unauthenticated, AppError::WrongAccount] {
        assert_eq!(
            verdict(&bob, false, &Err(revoked)),
            Verdict::End(CredentialEnd::Revoked)
        );
    }
    assert_eq!(
        verdict(&bob, false, &Err(AppError::TokenExpired)),
        Verdict::End(CredentialEnd::Expired)
    );
    let down = AppError::Unavailable(anyhow::anyhow!("the database is away"));
    assert_eq!(verdict(&bob, false, &Err(down)), Verdict::Unsure);
}

#[test]
fn the_accounts_features_matter_to_user_streams_only() {
    let bob = bob_actor(Role::Agent, None);
    let mut switched_off = access();
    switched_off.features.chat_rooms = false;
    let now = Ok(Authenticated {
        actor: Actor::User {
            account: switched_off,
            user_id: UserId(7),
            role: Role::Agent,
            scope: None,
        },
        expires_at: None,
    });
    assert_eq!(verdict(&bob, false, &now), Verdict::Keep, "a room socket");
    assert_eq!(
        verdict(&bob, true, &now),
        Verdict::End(CredentialEnd::Changed),
        "a user stream"
    );
    // Switched on again: a stream opened while it was off would not exist, and one
    // opened before stays.
    let on = Ok(Authenticated {
        actor: bob,
        expires_at: None,
    });
    assert_eq!(verdict(&bob, true, &on), Verdict::Keep);
}

#[test]
fn each_end_closes_with_its_own_reason() {
    let reasons = [
        (CredentialEnd::Revoked, "credential revoked"),
        (CredentialEnd::Expired, "credential expired"),
        (CredentialEnd::Changed, "credential changed"),
        (CredentialEnd::UserInactive, "user deactivated"),
    ];
    for (end, reason) in reasons {
        assert_eq!(end.reason(), reason);
        assert!(reason.len() <= 123, "a close reason fits a close frame");
    }
}

#[test]
fn a_socket_credential_never_prints_its_secret() {
    let printed = format!(
        "{:?}",
        credential("sk_secret-value", Actor::ApiKey(access()))
    );
    assert!(!printed.contains("secret-value"), "{printed}");
    let printed = format!("{:?}", bobs_socket("ut_secret-value"));
    assert!(!printed.contains("secret-value"), "{printed}");
}

#[tokio::test]
async fn a_revoked_credential_ends_its_socket_once_the_change_is_heard() {
    let lookups = Arc::new(AtomicUsize::new(0));
    let slot = Watcher::default();
    let sessions = Ports {
        credentials: store_answering("ut_bob", || Ok(None), lookups.clone()),
        ..Ports::default()
    }
    .sessions_watched(slot.clone());
    let mut watch = sessions.follow(&bobs_socket("ut_bob"));
    stays_open(&mut watch).await;
    assert_eq!(
        lookups.load(Ordering::SeqCst),
        0,
        "nothing checked before a change"
    );

    watcher_of(&slot).changed(bob_changed());
    assert_eq!(ends(&mut watch).await, CredentialEnd::Revoked);
    assert_eq!(lookups.load(Ordering::SeqCst), 1);
    // It stays ended, however often it is asked.
    assert_eq!(ends(&mut watch).await, CredentialEnd::Revoked);
}

#[tokio::test]
async fn a_credential_that_still_works_keeps_its_socket_open() {
    let lookups = Arc::new(AtomicUsize::new(0));
    let slot = Watcher::default();
    let sessions = Ports {
        credentials: store_answering("ut_bob", || Ok(Some(bobs_token())), lookups.clone()),
        ..Ports::default()
    }
    .sessions_watched(slot.clone());
    let mut watch = sessions.follow(&bobs_socket("ut_bob"));
    watcher_of(&slot).changed(bob_changed());
    wait_for(&lookups, 1).await;
    stays_open(&mut watch).await;
}

#[tokio::test]
async fn a_credential_that_now_acts_as_someone_else_ends_its_socket() {
    let lookups = Arc::new(AtomicUsize::new(0));
    let slot = Watcher::default();
    let promoted = || {
        Ok(Some(owner(
            CredentialKind::UserToken,
            Some((UserId(7), Role::Administrator)),
        )))
    };
    let sessions = Ports {
        credentials: store_answering("ut_bob", promoted, lookups.clone()),
        ..Ports::default()
    }
    .sessions_watched(slot.clone());
    let mut watch = sessions.follow(&bobs_socket("ut_bob"));
    watcher_of(&slot).changed(bob_changed());
    assert_eq!(ends(&mut watch).await, CredentialEnd::Changed);
}

#[tokio::test]
async fn an_expired_credential_found_on_the_re_check_ends_as_expired() {
    let lookups = Arc::new(AtomicUsize::new(0));
    let slot = Watcher::default();
    let expired = || {
        Ok(Some(CredentialOwner {
            expires_at: Some(OffsetDateTime::now_utc() - time::Duration::seconds(1)),
            ..bobs_token()
        }))
    };
    let sessions = Ports {
        credentials: store_answering("ut_bob", expired, lookups.clone()),
        ..Ports::default()
    }
    .sessions_watched(slot.clone());
    let mut watch = sessions.follow(&bobs_socket("ut_bob"));
    watcher_of(&slot).changed(bob_changed());
    assert_eq!(ends(&mut watch).await, CredentialEnd::Expired);
}

#[tokio::test]
async fn a_change_of_one_user_leaves_other_users_sockets_unchecked() {
    let lookups = Arc::new(AtomicUsize::new(0));
    let slot = Watcher::default();
    let mut credentials = store_answering("ut_bob", || Ok(None), lookups.clone());
    credentials
        .expect_find_credential()
        .withf(|hash| *hash == TokenHash::of("ut_carol"))
        .never();
    let sessions = Ports {
        credentials,
        ..Ports::default()
    }
    .sessions_watched(slot.clone());
    let mut bob = sessions.follow(&bobs_socket("ut_bob"));
    let mut carol = sessions.follow(&carols_socket());
    watcher_of(&slot).changed(bob_changed());
    assert_eq!(ends(&mut bob).await, CredentialEnd::Revoked);
    stays_open(&mut carol).await;
    // Nor does another account's change touch anyone here.
    watcher_of(&slot).changed(CredentialEvent {
        account: AccountId(2),
        user: None,
    });
    stays_open(&mut carol).await;
}

#[tokio::test]
async fn a_change_of_the_whole_account_re_checks_each_secret_once() {
    let lookups = Arc::new(AtomicUsize::new(0));
    let slot = Watcher::default();
    let mut credentials = store_answering("ut_bob", || Ok(None), lookups.clone());
    let carols = Arc::new(AtomicUsize::new(0));
    let counted = carols.clone();
    credentials
        .expect_find_credential()
        .withf(|hash| *hash == TokenHash::of("ut_carol"))
        .returning(move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(Some(owner(
                CredentialKind::UserToken,
                Some((UserId(8), Role::Agent)),
            )))
        });
    let sessions = Ports {
        credentials,
        ..Ports::default()
    }
    .sessions_watched(slot.clone());
    // Three sockets on Bob's one token, one on Carol's.
    let mut bobs: Vec<CredentialWatch> = (0..3)
        .map(|_| sessions.follow(&bobs_socket("ut_bob")))
        .collect();
    let mut carol = sessions.follow(&carols_socket());
    watcher_of(&slot).changed(CredentialEvent {
        account: ACCOUNT,
        user: None,
    });
    for watch in &mut bobs {
        assert_eq!(ends(watch).await, CredentialEnd::Revoked);
    }
    wait_for(&carols, 1).await;
    stays_open(&mut carol).await;
    assert_eq!(lookups.load(Ordering::SeqCst), 1, "one look-up per secret");
    assert_eq!(carols.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_cache_is_forgotten_so_the_re_check_sees_the_change() {
    let lookups = Arc::new(AtomicUsize::new(0));
    let answers = lookups.clone();
    let slot = Watcher::default();
    // The first look-up finds the token; after that, it is gone.
    let credentials = store_answering(
        "ut_bob",
        move || Ok((answers.load(Ordering::SeqCst) <= 1).then(bobs_token)),
        lookups.clone(),
    );
    let cache = Arc::new(CredentialCache::new(Duration::from_secs(60)));
    let sessions = Ports {
        credentials,
        cache: Some(cache),
        ..Ports::default()
    }
    .sessions_watched(slot.clone());
    let found = sessions.auth.credential(Some("ut_bob")).await;
    assert!(found.is_ok(), "{found:?}");
    let mut watch = sessions.follow(&bobs_socket("ut_bob"));
    watcher_of(&slot).changed(bob_changed());
    assert_eq!(ends(&mut watch).await, CredentialEnd::Revoked);
    assert_eq!(
        lookups.load(Ordering::SeqCst),
        2,
        "looked up again, not cached"
    );
}

#[tokio::test]
async fn an_api_key_socket_ends_when_its_participant_is_deactivated() {
    let lookups = Arc::new(AtomicUsize::new(0));
    let slot = Watcher::default();
    let api_key = || Ok(Some(owner(CredentialKind::ApiKey, None)));
    let mut users = MockUserDirectory::new();
    users
        .expect_find_users()
        .withf(|account, ids| *account == ACCOUNT && ids == &vec![UserId(7)])
        .times(1)
        .returning(|_, _| {
            Ok(vec![User {
                is_active: false,
                ..user(7)
            }])
        });
    let sessions = Ports {
        credentials: store_answering("ck_key", api_key, lookups.clone()),
        users,
        ..Ports::default()
    }
    .sessions_watched(slot.clone());
    let mut for_bob = sessions.follow(&api_key_for_bob());
    let mut listening = sessions.follow(&listener(None));
    watcher_of(&slot).changed(bob_changed());
    assert_eq!(ends(&mut for_bob).await, CredentialEnd::UserInactive);
    stays_open(&mut listening).await;
}

#[tokio::test]
async fn a_store_that_cannot_answer_is_asked_again_and_then_the_socket_stays_open() {
    let lookups = Arc::new(AtomicUsize::new(0));
    let slot = Watcher::default();
    let down = || {
        Err(StoreError::Unavailable(anyhow::anyhow!(
            "the database is away"
        )))
    };
    let sessions = Ports {
        credentials: store_answering("ut_bob", down, lookups.clone()),
        ..Ports::default()
    }
    .sessions_watched(slot.clone());
    let mut watch = sessions.follow(&bobs_socket("ut_bob"));
    watcher_of(&slot).changed(bob_changed());
    wait_for(&lookups, RECHECK_ATTEMPTS as usize).await;
    stays_open(&mut watch).await;
    assert_eq!(lookups.load(Ordering::SeqCst), RECHECK_ATTEMPTS as usize);
}

#[tokio::test]
async fn a_socket_let_in_around_a_change_is_re_checked_when_it_is_followed() {
    let lookups = Arc::new(AtomicUsize::new(0));
    let slot = Watcher::default();
    let sessions = Ports {
        credentials: store_answering("ut_bob", || Ok(None), lookups.clone()),
        ..Ports::default()
    }
    .sessions_watched(slot.clone());
    // Authenticated before the change (generation 0), followed after it.
    let session = bobs_socket("ut_bob");
    watcher_of(&slot).changed(bob_changed());
    // The change is handled (no socket followed yet) before this one is followed.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(lookups.load(Ordering::SeqCst), 0);
    let mut watch = sessions.follow(&session);
    assert_eq!(ends(&mut watch).await, CredentialEnd::Revoked);
}

#[tokio::test]
async fn missed_changes_re_check_every_socket() {
    let lookups = Arc::new(AtomicUsize::new(0));
    let slot = Watcher::default();
    let sessions = Ports {
        credentials: store_answering("ut_bob", || Ok(None), lookups.clone()),
        ..Ports::default()
    }
    .sessions_watched(slot.clone());
    let mut watch = sessions.follow(&bobs_socket("ut_bob"));
    watcher_of(&slot).missed();
    assert_eq!(ends(&mut watch).await, CredentialEnd::Revoked);
}

#[tokio::test]
async fn a_socket_is_followed_until_its_watch_is_dropped() {
    let sessions = Ports::default().sessions();
    let first = sessions.follow(&bobs_socket("ut_bob"));
    let second = sessions.follow(&carols_socket());
    assert_eq!(sessions.followed_sockets(), 2);
    drop(first);
    assert_eq!(sessions.followed_sockets(), 1);
    drop(second);
    assert_eq!(sessions.followed_sockets(), 0);
}

#[tokio::test]
async fn a_credential_ends_its_socket_when_it_expires() {
    let sessions = Ports::default().sessions();
    let mut session = bobs_socket("sk_bob");
    session.credential = SocketCredential::new(
        "sk_bob",
        Authenticated {
            actor: session.actor,
            expires_at: Some(OffsetDateTime::now_utc() + time::Duration::milliseconds(300)),
        },
    );
    let mut watch = sessions.follow(&session);
    stays_open(&mut watch).await;
    assert_eq!(ends(&mut watch).await, CredentialEnd::Expired);
}

#[tokio::test]
async fn admission_remembers_the_secret_and_its_expiry() {
    let expires_at = OffsetDateTime::now_utc() + time::Duration::hours(1);
    let mut credentials = MockCredentialStore::new();
    credentials.expect_find_credential().returning(move |_| {
        Ok(Some(CredentialOwner {
            kind: CredentialKind::ScopedKey,
            scope: Some(Permissions::DEFAULT),
            expires_at: Some(expires_at),
            ..bobs_token()
        }))
    });
    let mut users = MockUserDirectory::new();
    users
        .expect_find_users()
        .returning(|_, _| Ok(vec![user(7)]));
    let mut rooms = MockRoomStore::new();
    rooms
        .expect_list_rooms()
        .returning(|_, _, _| Ok((vec![crate::testing::listed(room(ROOM))], 1)));
    let sessions = Ports {
        credentials,
        users,
        rooms,
        ..Ports::default()
    }
    .sessions();
    let admitted = sessions.admit_stream(Some(" sk_bob "), "1").await;
    let session = admitted.unwrap_or_else(|e| panic!("{e}"));
    let scoped = bob_actor(Role::Agent, Some(Permissions::DEFAULT));
    assert_eq!(session.credential.actor(), &scoped);
    assert_eq!(session.credential.expires_at(), Some(expires_at));
    assert_eq!(session.credential.secret.expose(), "sk_bob");
}

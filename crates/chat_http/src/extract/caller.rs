//! Who is calling: the credential presented, the authenticated caller, and the rules
//! a caller must pass before the handler runs (the platform token, a manager).

use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use chat_app::{Actor, AppError, RoomAction};
use chat_domain::{Permission, RoomRef};
use futures_util::future::LocalBoxFuture;

use crate::AppState;
use crate::error::{ApiError, Dialect};

/// The headers that may carry a credential, besides `Authorization: Bearer`.
const CREDENTIAL_HEADERS: [&str; 2] = ["x-api-key", "api_access_token"];

/// The credential presented with a request, from `X-API-Key`, `api_access_token` or
/// `Authorization: Bearer`. Several headers must agree; if they differ, or a header is
/// not text, the request carries no usable credential.
pub(crate) fn presented_credential(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let mut found: Option<String> = None;
    let bearer = headers.get_all(AUTHORIZATION).map(|value| {
        let text = value.to_str().map_err(|_| AppError::Unauthenticated)?;
        match text.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                Ok(token.trim().to_owned())
            }
            _ => Err(AppError::Unauthenticated),
        }
    });
    let others = CREDENTIAL_HEADERS.iter().flat_map(|name| {
        headers.get_all(*name).map(|value| {
            value
                .to_str()
                .map(|text| text.trim().to_owned())
                .map_err(|_| AppError::Unauthenticated)
        })
    });
    for candidate in bearer.chain(others) {
        let candidate = candidate?;
        match &found {
            Some(previous) if *previous != candidate => return Err(AppError::Unauthenticated),
            Some(_) => {}
            None => found = Some(candidate),
        }
    }
    Ok(found)
}

/// The application state, registered by [`crate::build_app`].
pub(crate) fn state_of(req: &HttpRequest) -> Result<Data<AppState>, AppError> {
    req.app_data::<Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("application state is not registered")))
}

/// The authenticated caller. Fails with 401 in dialect `D`.
#[derive(Debug)]
pub struct Authenticated<D> {
    pub actor: Actor,
    dialect: PhantomData<D>,
}

impl<D: Dialect> FromRequest for Authenticated<D> {
    type Error = ApiError<D>;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let presented = presented_credential(req.headers());
        let state = state_of(req);
        Box::pin(async move {
            let actor = state?.app.auth.authenticate(presented?.as_deref()).await?;
            Ok(Self {
                actor,
                dialect: PhantomData,
            })
        })
    }
}

/// An extractor that yields the caller once it has passed its checks.
pub trait Caller {
    /// The caller, admitted.
    fn into_actor(self) -> Actor;

    /// The room the request's path names, read by the dialect's rule (a segment that is
    /// not an id names nothing: `NotFound(Room)`); `None` for a path without a room.
    fn room_in_path(req: &HttpRequest) -> Option<Result<RoomRef, AppError>>;
}

impl<D> Caller for Authenticated<D> {
    fn into_actor(self) -> Actor {
        self.actor
    }

    /// A ChatAPI room: the `{room_id}` segment, a UUID. (The account dialect's caller is
    /// `ChatRoomsCaller`, and no platform route names a room.)
    fn room_in_path(req: &HttpRequest) -> Option<Result<RoomRef, AppError>> {
        req.match_info().get("room_id").map(|raw| {
            uuid::Uuid::parse_str(raw)
                .map(RoomRef::Uuid)
                .map_err(|_| AppError::NotFound(chat_app::Resource::Room))
        })
    }
}

/// A rule about who may call a route, checked during extraction.
pub trait Rule {
    /// `Ok` for a caller the rule admits, else the refusal.
    fn check(actor: &Actor) -> Result<(), AppError>;

    /// What the rule guards on a route that names a room: a caller the rule refuses is
    /// told 404 rather than 403 when the room is not in their account (see
    /// [`chat_app::Rooms::admit`]). `None` for a rule about the caller alone.
    const ROOM_ACTION: Option<RoomAction>;
}

/// A caller that extractor `C` admits and that passes rule `R`, else `R`'s refusal in
/// `C`'s dialect.
///
/// This is where an ordering such as "403 before validation" holds: the rule runs during
/// extraction, and bodies are read by the handler, after every extractor succeeded, so a
/// caller refused by the rule learns nothing from the body's validation. The use case
/// checks again.
///
/// On a route that names a room, the room comes first ("404, then 403, then
/// validation"): a caller the rule refuses is refused by the use case's own check
/// ([`chat_app::Rooms::admit`]), which answers `NotFound(Room)` for a room that is not in
/// the caller's account. A caller the rule admits costs no look-up here.
pub struct Admitted<C, R> {
    pub actor: Actor,
    rule: PhantomData<fn() -> (C, R)>,
}

impl<C, R> std::fmt::Debug for Admitted<C, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admitted")
            .field("actor", &self.actor)
            .finish()
    }
}

impl<C: Caller, R> Caller for Admitted<C, R> {
    fn into_actor(self) -> Actor {
        self.actor
    }

    fn room_in_path(req: &HttpRequest) -> Option<Result<RoomRef, AppError>> {
        C::room_in_path(req)
    }
}

impl<C, R> FromRequest for Admitted<C, R>
where
    C: FromRequest + Caller + 'static,
    C::Error: From<AppError>,
    R: Rule + 'static,
{
    type Error = C::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = C::from_request(req, payload);
        let room = R::ROOM_ACTION.and_then(|action| Some((C::room_in_path(req)?, action)));
        let state = state_of(req);
        Box::pin(async move {
            let actor = caller.await?.into_actor();
            if let Err(refusal) = R::check(&actor) {
                if let Some((room, action)) = room {
                    state?.app.rooms.admit(&actor, room?, action).await?;
                }
                return Err(refusal.into());
            }
            Ok(Self {
                actor,
                rule: PhantomData,
            })
        })
    }
}

/// Admits the holder of the platform token; any other credential is refused with 401.
#[derive(Debug)]
pub struct HoldsPlatformToken;

impl Rule for HoldsPlatformToken {
    fn check(actor: &Actor) -> Result<(), AppError> {
        actor.require_platform()
    }

    const ROOM_ACTION: Option<RoomAction> = None;
}

/// Admits the account's API key (its integration); any other credential is refused
/// with 401, as the use cases refuse it ([`Actor::require_api_key`]).
#[derive(Debug)]
pub struct HoldsApiKey;

impl Rule for HoldsApiKey {
    fn check(actor: &Actor) -> Result<(), AppError> {
        actor.require_api_key().map(drop)
    }

    const ROOM_ACTION: Option<RoomAction> = None;
}

/// Admits who may manage the account: an administrator or the API key (403 otherwise).
#[derive(Debug)]
pub struct Manages;

impl Rule for Manages {
    fn check(actor: &Actor) -> Result<(), AppError> {
        actor.require_manager().map(drop)
    }

    const ROOM_ACTION: Option<RoomAction> = Some(RoomAction::Manage);
}

/// Admits who may create and change rooms: an administrator, the API key, or a scoped
/// credential holding `manage_rooms` (the use case then allows it only the rooms it
/// belongs to). Anyone else is refused: an agent's own token with 403 (not an
/// administrator), a scoped credential without the permission with 403
/// `PERMISSION_DENIED`.
#[derive(Debug)]
pub struct ManagesRooms;

impl Rule for ManagesRooms {
    fn check(actor: &Actor) -> Result<(), AppError> {
        scoped_or_manager(actor, Permission::ManageRooms)
    }

    const ROOM_ACTION: Option<RoomAction> = Some(RoomAction::Manage);
}

/// Admits who may change a room's members: an administrator, the API key, or a scoped
/// credential holding `invite_users` (the use case then allows it only the rooms it
/// belongs to); anyone else as [`ManagesRooms`] refuses them.
#[derive(Debug)]
pub struct ManagesMembers;

impl Rule for ManagesMembers {
    fn check(actor: &Actor) -> Result<(), AppError> {
        scoped_or_manager(actor, Permission::InviteUsers)
    }

    const ROOM_ACTION: Option<RoomAction> = Some(RoomAction::ManageMembers);
}

/// A scoped credential needs `permission`; any other caller must manage the account.
fn scoped_or_manager(actor: &Actor, permission: Permission) -> Result<(), AppError> {
    match actor.scope() {
        Some(_) => actor.require(permission),
        None => actor.require_manager().map(drop),
    }
}

/// A caller holding the platform token; any other credential fails with 401 in dialect
/// `D`, before the body is read, so that other callers learn nothing from validation.
pub type PlatformCaller<D> = Admitted<Authenticated<D>, HoldsPlatformToken>;

/// A caller holding its account's API key; any other credential fails with 401 in
/// dialect `D`, before the body is read.
pub type ApiKeyCaller<D> = Admitted<Authenticated<D>, HoldsApiKey>;

/// A caller that `C` admits and who may manage the account, else 403 in `C`'s dialect,
/// before the body is read.
pub type Manager<C> = Admitted<C, Manages>;

/// A caller that `C` admits and who may create or change rooms ([`ManagesRooms`]), else
/// 403 in `C`'s dialect, before the body is read.
pub type RoomManager<C> = Admitted<C, ManagesRooms>;

/// A caller that `C` admits and who may change rooms' members ([`ManagesMembers`]), else
/// 403 in `C`'s dialect, before the body is read.
pub type MemberManager<C> = Admitted<C, ManagesMembers>;

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};
    use chat_app::{AccountAccess, Denied};
    use chat_domain::{AccountId, Features, Permissions, Role, UserId};

    fn access() -> AccountAccess {
        AccountAccess {
            id: AccountId(1),
            uuid: uuid::Uuid::nil(),
            features: Features::default(),
        }
    }

    fn user(role: Role, scope: Option<Permissions>) -> Actor {
        Actor::User {
            account: access(),
            user_id: UserId(7),
            role,
            scope,
        }
    }

    fn denied(result: Result<(), AppError>) -> Option<Denied> {
        match result {
            Err(AppError::Forbidden(denied)) => Some(denied),
            _ => None,
        }
    }

    #[test]
    fn only_the_api_key_holds_the_api_key() {
        assert!(HoldsApiKey::check(&Actor::ApiKey(access())).is_ok());
        for actor in [
            Actor::Platform,
            user(Role::Administrator, None),
            user(Role::Agent, Some(Permissions::ALL)),
        ] {
            assert!(
                matches!(HoldsApiKey::check(&actor), Err(AppError::Unauthenticated)),
                "{actor:?}"
            );
        }
    }

    #[test]
    fn a_scoped_credential_changes_rooms_and_members_with_their_permissions() {
        let rooms = Permissions::NONE.with(Permission::ManageRooms);
        let members = Permissions::NONE.with(Permission::InviteUsers);
        assert!(ManagesRooms::check(&user(Role::Agent, Some(rooms))).is_ok());
        assert!(ManagesMembers::check(&user(Role::Agent, Some(members))).is_ok());
        assert_eq!(
            denied(ManagesRooms::check(&user(Role::Agent, Some(members)))),
            Some(Denied::PermissionDenied(Permission::ManageRooms))
        );
        assert_eq!(
            denied(ManagesMembers::check(&user(Role::Agent, Some(rooms)))),
            Some(Denied::PermissionDenied(Permission::InviteUsers))
        );
        // Managing the account (agents) is never a scoped credential's.
        assert_eq!(
            denied(Manages::check(&user(Role::Agent, Some(Permissions::ALL)))),
            Some(Denied::NotAdministrator)
        );
    }

    #[test]
    fn other_callers_manage_rooms_by_their_role() {
        for rule in [ManagesRooms::check, ManagesMembers::check] {
            assert!(rule(&Actor::ApiKey(access())).is_ok());
            assert!(rule(&user(Role::Administrator, None)).is_ok());
            assert_eq!(
                denied(rule(&user(Role::Agent, None))),
                Some(Denied::NotAdministrator)
            );
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    #[test]
    fn each_credential_header_is_accepted() {
        for pairs in [
            [("x-api-key", "k1")],
            [("api_access_token", "k1")],
            [("authorization", "Bearer k1")],
            [("authorization", "bearer   k1 ")],
        ] {
            assert_eq!(
                presented_credential(&headers(&pairs)).ok(),
                Some(Some("k1".to_owned())),
                "{pairs:?}"
            );
        }
        assert_eq!(presented_credential(&headers(&[])).ok(), Some(None));
    }

    #[test]
    fn disagreeing_or_non_bearer_credentials_are_refused() {
        let cases: [&[(&'static str, &'static str)]; 3] = [
            &[("x-api-key", "k1"), ("api_access_token", "k2")],
            &[("authorization", "Basic dXNlcjpwYXNz")],
            &[("authorization", "Bearer k1"), ("x-api-key", "k2")],
        ];
        for pairs in cases {
            assert!(presented_credential(&headers(pairs)).is_err(), "{pairs:?}");
        }
        let agreeing = headers(&[("authorization", "Bearer k1"), ("x-api-key", "k1")]);
        assert_eq!(
            presented_credential(&agreeing).ok(),
            Some(Some("k1".to_owned()))
        );
    }
}

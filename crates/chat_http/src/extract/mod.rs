//! Extractors shared by both dialects; their failures render in the route's dialect.
//!
//! Actix runs a handler's extractors concurrently and answers the first failure, so
//! only the caller extractors ([`caller`]) may fail during extraction: bodies
//! ([`body`], [`multipart`]), query strings ([`query`]) and path ids ([`path`]) are
//! read when the handler asks, which makes "401, then 403, then anything else" hold.

pub mod body;
pub mod caller;
pub mod multipart;
pub mod path;
pub mod query;

pub use body::{Body, Json};
pub use caller::{
    Admitted, ApiKeyCaller, Authenticated, Caller, HoldsApiKey, HoldsPlatformToken, Manager,
    Manages, ManagesMembers, ManagesRooms, MemberManager, PlatformCaller, RoomManager, Rule,
};
pub use multipart::{FileField, UploadForm, unless_refused};
pub use path::{FromPath, PathIds};
pub use query::Query;

//! Ids from a route's path, parsed by the dialect's rule.

use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::web::Path;
use actix_web::{FromRequest, HttpRequest};
use chat_app::AppError;

/// How a dialect reads the ids of a route's path from its segments (percent-decoded,
/// in order, the scope's first).
pub trait FromPath {
    /// The ids, in domain terms.
    type Ids;

    /// The ids, or the failure of a segment that names nothing.
    fn from_path(segments: &[String]) -> Result<Self::Ids, AppError>;
}

/// The ids of the route's path, read by rule `P`.
///
/// Extraction never fails: a segment that is not an id names nothing, and that 404 is
/// answered when the handler asks for the ids ([`PathIds::ids`]). Extractors run
/// concurrently, so failing here would answer before authentication does; asking in the
/// handler keeps "401, then 403, then the rest" and each handler's order of checks.
pub struct PathIds<P: FromPath> {
    ids: Result<P::Ids, AppError>,
    rule: PhantomData<fn() -> P>,
}

impl<P: FromPath> PathIds<P> {
    /// The ids, or the failure of the segment that names nothing.
    pub fn ids(self) -> Result<P::Ids, AppError> {
        self.ids
    }
}

impl<P: FromPath> std::fmt::Debug for PathIds<P>
where
    P::Ids: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PathIds").field(&self.ids).finish()
    }
}

impl<P: FromPath> FromRequest for PathIds<P> {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Deserialised as `web::Path` does, so segments are decoded the same way.
        let segments = Path::<Vec<String>>::extract(req)
            .into_inner()
            .map(Path::into_inner)
            .unwrap_or_default();
        std::future::ready(Ok(Self {
            ids: P::from_path(&segments),
            rule: PhantomData,
        }))
    }
}

/// Segments as the extractor passes them, for the dialects' unit tests.
#[cfg(test)]
pub(crate) fn segments(raw: &[&str]) -> Vec<String> {
    raw.iter().map(|s| (*s).to_owned()).collect()
}

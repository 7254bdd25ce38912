//! The query string, parsed only when the handler asks.

use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use chat_domain::storable;

use crate::error::{ApiError, Dialect, RequestError};

/// The query string, parsed only when the handler asks (so that it never answers
/// before authentication does). Values are the last of each name.
#[derive(Debug)]
pub struct Query<D> {
    raw: String,
    dialect: PhantomData<fn() -> D>,
}

impl<D: Dialect> Query<D> {
    /// Every `name=value` pair, decoded.
    pub fn pairs(&self) -> Result<Vec<(String, String)>, ApiError<D>> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&self.raw)
            .map_err(|e| RequestError::MalformedQuery(e.to_string()).into())
    }

    /// The last value of `name`, if any. A value the database could not store (a NUL)
    /// is refused here, for every parameter, as a field error on `name`.
    pub fn get(&self, name: &'static str) -> Result<Option<String>, ApiError<D>> {
        let value = self
            .pairs()?
            .into_iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value);
        if let Some(value) = &value {
            storable::text(name, value)?;
        }
        Ok(value)
    }

    /// Every value of `name` as a list: each occurrence split on commas
    /// (`room_ids=a,b&room_ids=c` is `[a, b, c]`), entries trimmed, empty ones dropped.
    /// Each value is refused as [`Query::get`] refuses one (a NUL).
    pub fn list(&self, name: &'static str) -> Result<Vec<String>, ApiError<D>> {
        let mut items = Vec::new();
        for (key, value) in self.pairs()? {
            if key != name {
                continue;
            }
            storable::text(name, &value)?;
            items.extend(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_owned),
            );
        }
        Ok(items)
    }

    /// `name` as an integer; a value that is not one is the wrong type.
    pub fn integer(&self, name: &'static str) -> Result<Option<i64>, ApiError<D>> {
        self.get(name)?
            .map(|raw| {
                raw.trim().parse::<i64>().map_err(|_| {
                    RequestError::WrongField {
                        field: name.to_owned(),
                        reason: format!("must be an integer, got {raw:?}"),
                    }
                    .into()
                })
            })
            .transpose()
    }

    /// `name` as a boolean (`true`/`false`, `1`/`0`).
    pub fn boolean(&self, name: &'static str) -> Result<Option<bool>, ApiError<D>> {
        self.get(name)?
            .map(|raw| match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err(RequestError::WrongField {
                    field: name.to_owned(),
                    reason: format!("must be true or false, got {raw:?}"),
                }
                .into()),
            })
            .transpose()
    }
}

impl<D: Dialect> FromRequest for Query<D> {
    type Error = ApiError<D>;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self {
            raw: req.query_string().to_owned(),
            dialect: PhantomData,
        }))
    }
}

#[cfg(test)]
mod tests;

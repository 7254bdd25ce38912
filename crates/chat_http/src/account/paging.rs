//! Paginated lists of the account dialect: `?page=&per_page=` in, the body and the
//! `X-Total-Count`, `X-Current-Page`, `X-Per-Page` and `X-Total-Pages` headers out.

use actix_web::HttpResponse;
use chat_app::Window;
use chat_domain::{FieldError, Problem};
use serde::Serialize;

use super::{Error, Query};

/// The page a list request asks for.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    /// From 1.
    pub page: i64,
    pub per_page: i64,
    /// The same page as an offset and a limit.
    pub window: Window,
}

impl Paging {
    /// `page` (≥ 1, default 1) and `per_page` (default `default`, clamped to `max`).
    pub fn from_query(query: &Query, default: i64, max: i64) -> Result<Self, Error> {
        let page = query.integer("page")?.unwrap_or(1);
        let per_page = query.integer("per_page")?.unwrap_or(default).min(max);
        if page < 1 {
            return Err(FieldError::new(
                "page",
                Problem::OutOfRange {
                    min: 1,
                    max: i64::MAX,
                },
            )
            .into());
        }
        if per_page < 1 {
            return Err(FieldError::new("per_page", Problem::OutOfRange { min: 1, max }).into());
        }
        let offset = (page - 1).saturating_mul(per_page);
        Ok(Self {
            page,
            per_page,
            window: Window::new(offset, per_page, max)?,
        })
    }

    /// `200` with the page's items and the page headers, out of `total` items in all
    /// (at least one page).
    pub fn respond<T: Serialize>(&self, total: i64, items: Vec<T>) -> HttpResponse {
        let pages = ((total + self.per_page - 1) / self.per_page).max(1);
        let mut response = HttpResponse::Ok();
        response
            .insert_header(("X-Total-Count", total.to_string()))
            .insert_header(("X-Current-Page", self.page.to_string()))
            .insert_header(("X-Per-Page", self.per_page.to_string()))
            .insert_header(("X-Total-Pages", pages.to_string()));
        crate::json_body::json(response, &items)
    }
}

//! Paging: which slice of a list to read, and one page of it.

use chat_domain::{FieldError, FieldErrors, Problem};

/// Which slice of a list: `offset` items skipped, at most `limit` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Items skipped.
    pub offset: i64,
    /// At most this many items returned.
    pub limit: i64,
}

impl Window {
    /// The largest `limit` a list accepts.
    pub const MAX_LIMIT: i64 = 100;

    /// `offset` ≥ 0 and `limit` in 1..=`max_limit` (the caller clamps larger limits first).
    pub fn new(offset: i64, limit: i64, max_limit: i64) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        if offset < 0 {
            errors.push(FieldError::new(
                "skip",
                Problem::OutOfRange {
                    min: 0,
                    max: i64::MAX,
                },
            ));
        }
        if !(1..=max_limit).contains(&limit) {
            errors.push(FieldError::new(
                "limit",
                Problem::OutOfRange {
                    min: 1,
                    max: max_limit,
                },
            ));
        }
        errors.into_result()?;
        Ok(Self { offset, limit })
    }
}

/// One page of a list and the number of items in all pages.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many items all pages hold.
    pub total: i64,
}

//! The shape shared by required free text (names, e-mail addresses).

use crate::storable;
use crate::validation::{FieldError, Problem};

/// Trims `raw` and checks it holds 1..=`max` characters, all storable.
pub(crate) fn required_text(
    field: &'static str,
    raw: &str,
    max: usize,
) -> Result<String, FieldError> {
    storable::text(field, raw)?;
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, Problem::Blank));
    }
    if trimmed.chars().count() > max {
        return Err(FieldError::new(field, Problem::TooLong { max }));
    }
    Ok(trimmed.to_owned())
}

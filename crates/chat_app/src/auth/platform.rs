//! The operator's platform token.

use std::fmt;

use chat_domain::{FieldError, Problem, TokenHash};

/// The operator's platform token, kept only as its hash.
#[derive(Clone, Copy)]
pub struct PlatformToken(TokenHash);

impl PlatformToken {
    /// At least 32 characters: 128 bits of entropy at 4 bits per hex digit.
    pub const MIN_CHARS: usize = 32;

    /// Checks the configured platform token: at least [`PlatformToken::MIN_CHARS`] characters once trimmed.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(FieldError::new(
                "platform_token",
                Problem::Invalid(format!(
                    "must be at least {} characters of random text",
                    Self::MIN_CHARS
                )),
            ));
        }
        Ok(Self(TokenHash::of(raw)))
    }

    /// Whether `presented` (its hash) is the platform token, compared in constant time.
    pub(crate) fn matches(&self, presented: &TokenHash) -> bool {
        self.0.constant_time_eq(presented)
    }
}

impl fmt::Debug for PlatformToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlatformToken(<redacted>)")
    }
}

use std::fmt;

/// What is wrong with one field. Dialects turn it into their own words; [`Display`]
/// gives the English phrase that follows the field's name (`"can't be blank"`).
///
/// [`Display`]: fmt::Display
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Missing, null, or only whitespace.
    Blank,
    /// Longer than `max` characters.
    TooLong {
        /// The most characters the field accepts.
        max: usize,
    },
    /// Larger than `max_bytes` once serialised (JSON documents).
    TooLarge {
        /// The most bytes the serialised value may take.
        max_bytes: usize,
    },
    /// Out of the accepted range.
    OutOfRange {
        /// The smallest accepted value.
        min: i64,
        /// The largest accepted value.
        max: i64,
    },
    /// Not one of the accepted values.
    NotIncluded {
        /// Every accepted value, in the order a message should list them.
        allowed: &'static [&'static str],
    },
    /// Already used by another record of the same account.
    Taken,
    /// Malformed, with a human reason.
    Invalid(String),
    /// Holds the NUL character (U+0000), which the database cannot store.
    InvalidCharacter,
    /// Holds a number (the one given) that the database would not give back unchanged.
    UnstorableNumber(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Blank => f.write_str("can't be blank"),
            Problem::TooLong { max } => write!(f, "is too long (maximum is {max} characters)"),
            Problem::TooLarge { max_bytes } => {
                write!(f, "is too large (maximum is {max_bytes} bytes)")
            }
            Problem::OutOfRange { min, max } => write!(f, "must be between {min} and {max}"),
            Problem::NotIncluded { allowed } => {
                write!(f, "is not included in the list ({})", allowed.join(", "))
            }
            Problem::Taken => f.write_str("has already been taken"),
            Problem::Invalid(reason) => write!(f, "is invalid ({reason})"),
            Problem::InvalidCharacter => f.write_str("must not contain the NUL character (U+0000)"),
            Problem::UnstorableNumber(number) => {
                write!(f, "holds a number that cannot be stored exactly ({number})")
            }
        }
    }
}

/// A problem with one named input field. Displays as `"{field} {problem}"`, e.g.
/// `"name can't be blank"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The input field at fault, as the client named it (`"name"`,
    /// `"meta.max_participants"`).
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: Problem,
}

impl FieldError {
    /// The error `problem` on `field`.
    pub fn new(field: &'static str, problem: Problem) -> Self {
        Self { field, problem }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.problem)
    }
}

/// Every problem found in one input, in field order. Never empty when returned as an error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// An empty collection, to fill while checking every field of one input.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one more problem, after those already recorded.
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Keeps the value when `result` is `Ok`, records the error otherwise.
    pub fn collect<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.push(error);
                None
            }
        }
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The recorded problems, in the order they were found.
    pub fn iter(&self) -> impl Iterator<Item = &FieldError> {
        self.0.iter()
    }

    /// `Ok(())` when nothing was recorded.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl From<FieldError> for FieldErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(", "))
    }
}

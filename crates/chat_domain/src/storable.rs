//! What the database can keep: the one rule every text and JSON value passes before it
//! is accepted, so that no valid value is refused later by the store.
//!
//! PostgreSQL refuses the NUL character (U+0000) in `text` and in `jsonb` (keys and
//! strings alike). It keeps a JSON number as a `numeric` and prints it back in plain
//! decimal, without an exponent: `1.7976931348623155e308` comes back as 309 digits. A
//! number is storable when that printed form reads back, with serde_json, as the same
//! number. With the workspace's serde_json (feature `float_roundtrip`) every number it
//! can hold does; without that feature the largest doubles come back as another number
//! or as an error, which is what this check exists to catch.
//!
//! Every `parse` of free text (names, descriptions, content, ids chosen by clients) and
//! of a `meta` object calls this module. Values parsed against a fixed list of names
//! (roles, message kinds, sort orders) need no check: no listed name holds a NUL.

use serde_json::{Map, Number, Value};

use crate::validation::{FieldError, Problem};

/// The one character PostgreSQL cannot store in text.
const NUL: char = '\0';

/// `Ok` if `raw` can be stored as text: it holds no NUL, else
/// [`Problem::InvalidCharacter`] on `field`.
///
/// ```
/// use chat_domain::{Problem, storable};
///
/// assert!(storable::text("search", "café").is_ok());
/// let error = storable::text("search", "a\u{0}b").map_err(|e| e.problem);
/// assert_eq!(error, Err(Problem::InvalidCharacter));
/// ```
pub fn text(field: &'static str, raw: &str) -> Result<(), FieldError> {
    if raw.contains(NUL) {
        return Err(FieldError::new(field, Problem::InvalidCharacter));
    }
    Ok(())
}

/// `Ok` if `object` can be stored as `jsonb` and read back unchanged: no NUL in any key
/// or string at any depth ([`Problem::InvalidCharacter`] on `field`), and every number
/// [`number`] ([`Problem::UnstorableNumber`] on `field`).
pub fn json(field: &'static str, object: &Map<String, Value>) -> Result<(), FieldError> {
    let mut pending: Vec<&Value> = Vec::new();
    keys_then_values(field, object, &mut pending)?;
    while let Some(value) = pending.pop() {
        match value {
            Value::Null | Value::Bool(_) => {}
            Value::String(s) => text(field, s)?,
            Value::Number(n) if number(n) => {}
            Value::Number(n) => {
                return Err(FieldError::new(
                    field,
                    Problem::UnstorableNumber(n.to_string()),
                ));
            }
            Value::Array(items) => pending.extend(items),
            Value::Object(map) => keys_then_values(field, map, &mut pending)?,
        }
    }
    Ok(())
}

/// Checks the keys of `map` and leaves its values in `pending`: a walk without
/// recursion, however deep the object.
fn keys_then_values<'a>(
    field: &'static str,
    map: &'a Map<String, Value>,
    pending: &mut Vec<&'a Value>,
) -> Result<(), FieldError> {
    for key in map.keys() {
        text(field, key)?;
    }
    pending.extend(map.values());
    Ok(())
}

/// Whether `number` reads back unchanged once stored: the plain decimal PostgreSQL
/// prints for it parses, with serde_json, to the same number.
pub fn number(written: &Number) -> bool {
    reads_back(written, |printed| serde_json::from_str(printed).ok())
}

/// Whether `read`, given the plain decimal PostgreSQL prints for `written`, gives back
/// the same number.
fn reads_back(written: &Number, read: impl Fn(&str) -> Option<Number>) -> bool {
    match plain_decimal(&written.to_string()).and_then(|printed| read(&printed)) {
        Some(back) => same_number(written, &back),
        None => false,
    }
}

/// Equal as JSON numbers: integers exactly, anything else as `f64` (PostgreSQL may
/// print a float as an integer: `1e16` comes back as `10000000000000000`).
fn same_number(a: &Number, b: &Number) -> bool {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x == y;
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// How PostgreSQL prints the `numeric` it reads from the JSON number `written`
/// (serde_json's form: `-12`, `0.1`, `1.5e300`, `5e-324`): plain decimal, as many
/// fraction digits as the mantissa had less the exponent (at least none). `None` for
/// text that is not a JSON number.
fn plain_decimal(written: &str) -> Option<String> {
    let (sign, unsigned) = match written.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", written),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i64>().ok()?),
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let digits = format!("{whole}{fraction}");
    // The decimal point sits after `point` digits of `digits` (may be outside them).
    let point = i64::try_from(whole.len()).ok()?.checked_add(exponent)?;
    let scale = (i64::try_from(fraction.len()).ok()? - exponent).max(0);
    let length = i64::try_from(digits.len()).ok()?;
    // A number far beyond anything `f64` or `u64` holds is refused, not expanded.
    if point.abs() > 2_000 || scale > 2_000 {
        return None;
    }
    let mut integer = String::new();
    let mut decimals = String::new();
    for position in 0..point.max(length) {
        let digit = usize::try_from(position)
            .ok()
            .and_then(|i| digits.as_bytes().get(i))
            .map_or('0', |b| char::from(*b));
        if position < point {
            integer.push(digit);
        } else {
            decimals.push(digit);
        }
    }
    if point < 0 {
        decimals.insert_str(0, &"0".repeat(usize::try_from(-point).ok()?));
    }
    let integer = integer.trim_start_matches('0');
    let integer = if integer.is_empty() { "0" } else { integer };
    let scale = usize::try_from(scale).ok()?;
    let mut decimals: String = decimals.chars().take(scale).collect();
    while decimals.len() < scale {
        decimals.push('0');
    }
    Some(if decimals.is_empty() {
        format!("{sign}{integer}")
    } else {
        format!("{sign}{integer}.{decimals}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(raw: &str) -> Number {
        serde_json::from_str(raw).unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn nul_is_the_one_character_text_cannot_hold() {
        assert_eq!(text("name", "tab\there, émoji 🎉, \u{1}"), Ok(()));
        assert_eq!(
            text("name", "nul\u{0}"),
            Err(FieldError::new("name", Problem::InvalidCharacter))
        );
    }

    #[test]
    fn numbers_are_printed_as_postgresql_prints_them() {
        // Each pair was checked once against PostgreSQL: `SELECT '<left>'::jsonb`.
        let cases = [
            ("0.1", "0.1"),
            ("1.0", "1.0"),
            ("-12", "-12"),
            ("1.5e3", "1500"),
            ("1.25e-3", "0.00125"),
            ("1e16", "10000000000000000"),
            ("1.5e-1", "0.15"),
            ("1e-7", "0.0000001"),
            ("123.456e1", "1234.56"),
        ];
        for (written, printed) in cases {
            assert_eq!(
                plain_decimal(written).as_deref(),
                Some(printed),
                "{written}"
            );
        }
        let max = plain_decimal("1.7976931348623155e308").unwrap_or_default();
        assert_eq!(max.len(), 309);
        assert!(max.starts_with("17976931348623155000"), "{max}");
        let tiny = plain_decimal("5e-324").unwrap_or_default();
        assert_eq!(tiny, format!("0.{}5", "0".repeat(323)));
        assert_eq!(plain_decimal("1e99999"), None);
        assert_eq!(plain_decimal("x"), None);
    }

    #[test]
    fn a_number_is_storable_when_it_reads_back_unchanged() {
        // Learned against PostgreSQL 15 (`SELECT '<number>'::jsonb` prints plain decimal)
        // with this workspace's serde_json: each of these reads back as written.
        for fine in [
            "1.7976931348623155e308",
            "1.7976931348623157e308",
            "-1.7976931348623157e308",
            "1e308",
            "-1e308",
            "5e-324",
            "1e-300",
            "123456789012345678901234567890",
            "18446744073709551615",
            "-9223372036854775808",
            "0.1",
            "1e16",
            "2.2250738585072014e-308",
            "42",
        ] {
            assert!(number(&parsed(fine)), "{fine} should be storable");
        }
        assert!(number(&Number::from(u64::MAX)));
        assert!(number(&Number::from(i64::MIN)));
        for extreme in [f64::MAX, f64::MIN, 1.797_693_134_862_315_5e308, 5e-324] {
            let written = Number::from_f64(extreme).unwrap_or_else(|| panic!("{extreme}"));
            assert!(number(&written), "{extreme} should be storable");
        }
    }

    #[test]
    fn a_number_that_reads_back_as_another_or_not_at_all_is_refused() {
        // What serde_json without `float_roundtrip` did with the 309 digits PostgreSQL
        // prints: `1.7976931348623155e308` came back as `1.7976931348623157e308`, and
        // that one as "number out of range".
        let lossy = |printed: &str| match printed.len() {
            309 if printed.starts_with("17976931348623155") => Number::from_f64(f64::MAX),
            309 => None,
            _ => serde_json::from_str(printed).ok(),
        };
        let written = |x: f64| Number::from_f64(x).unwrap_or_else(|| panic!("{x}"));
        assert!(!reads_back(&written(1.797_693_134_862_315_5e308), lossy));
        assert!(!reads_back(&written(f64::MAX), lossy));
        assert!(reads_back(&written(1e300), lossy));
        assert!(reads_back(&written(0.1), lossy));
    }

    #[test]
    fn json_is_checked_at_every_depth_keys_included() {
        let fine = object(json!({ "a": [1, "two", { "b": null, "c": 0.5 }], "d": true }));
        assert_eq!(json("meta", &fine), Ok(()));
        let invalid = Err(FieldError::new("meta", Problem::InvalidCharacter));
        assert_eq!(json("meta", &object(json!({ "a\u{0}": 1 }))), invalid);
        assert_eq!(
            json("meta", &object(json!({ "a": { "b": ["\u{0}"] } }))),
            invalid
        );
        assert_eq!(
            json("meta", &object(json!({ "a": [{ "b\u{0}": 1 }] }))),
            invalid
        );
        let fine = object(json!({ "a": { "b": [parsed("1.7976931348623157e308")] } }));
        assert_eq!(json("meta", &fine), Ok(()));
    }
}

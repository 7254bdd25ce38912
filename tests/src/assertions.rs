//! Assertions and readers of what the server answers: JSON shapes, identifiers,
//! secrets, timestamps, and both dialects' error bodies.

use serde_json::Value;

use crate::app::Reply;

/// `value[key]` as a string; panics when absent.
pub fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {value}"))
}

/// Asserts `text` is a UUID in its canonical lowercase hyphenated form.
pub fn assert_uuid(text: &str) {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    assert_eq!(lengths, [8, 4, 4, 4, 12], "not a UUID: {text:?}");
    assert!(
        groups.iter().all(|g| g
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))),
        "not a lowercase hex UUID: {text:?}"
    );
}

/// Asserts `text` is `prefix` followed by 64 lowercase hex digits (a 256-bit secret).
pub fn assert_secret(text: &str, prefix: &str) {
    let hex = text
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{text:?} does not start with {prefix:?}"));
    assert_eq!(hex.len(), 64, "{text:?} is not {prefix} + 64 hex digits");
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{text:?} is not {prefix} + 64 lowercase hex digits"
    );
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> i64 {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(elapsed.as_secs()).expect("seconds fit in i64")
}

/// Asserts `value` is an integer number of unix seconds within a minute of now; answers it.
pub fn assert_unix_near_now(value: &Value) -> i64 {
    let seconds = value
        .as_i64()
        .unwrap_or_else(|| panic!("not an integer unix timestamp: {value}"));
    let now = unix_now();
    assert!(
        (seconds - now).abs() <= 60,
        "timestamp {seconds} is not near now ({now})"
    );
    seconds
}

/// Parses an RFC 3339 UTC timestamp (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`) to unix seconds
/// (the fraction is dropped); panics when `text` is not one.
pub fn parse_rfc3339_utc(text: &str) -> i64 {
    fn not_rfc3339(text: &str) -> ! {
        panic!("not an RFC 3339 UTC timestamp: {text:?}")
    }
    let body = text.strip_suffix('Z').unwrap_or_else(|| not_rfc3339(text));
    let bytes = body.as_bytes();
    if bytes.len() < 19
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || bytes[10] != b'T'
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        not_rfc3339(text);
    }
    let number = |range: std::ops::Range<usize>| -> i64 {
        let part = &body[range];
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            not_rfc3339(text);
        }
        part.parse::<i64>().unwrap_or_else(|_| not_rfc3339(text))
    };
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let (hour, minute, second) = (number(11..13), number(14..16), number(17..19));
    let fraction = &body[19..];
    let fraction_ok = fraction.is_empty()
        || (fraction.len() >= 2
            && fraction.starts_with('.')
            && fraction[1..].bytes().all(|b| b.is_ascii_digit()));
    if !fraction_ok {
        not_rfc3339(text);
    }
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        not_rfc3339(text);
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hour * 3_600 + minute * 60 + second
}

/// Asserts `value` is an RFC 3339 UTC string within a minute of now; answers its unix seconds.
pub fn assert_rfc3339_near_now(value: &Value) -> i64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not an RFC 3339 string: {value}"));
    let seconds = parse_rfc3339_utc(text);
    let now = unix_now();
    assert!(
        (seconds - now).abs() <= 60,
        "timestamp {text} is not near now"
    );
    seconds
}

/// The keys of a JSON object, sorted.
pub fn keys_of(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("not a JSON object: {value}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// Asserts the ChatAPI error shape with `status` and `code`; answers the error object.
pub fn assert_chatapi_error(reply: &Reply, status: u16, code: &str, context: &str) -> Value {
    assert_eq!(reply.status, status, "{context}: {}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{context}"
    );
    let body = reply.json();
    assert_eq!(keys_of(&body), ["error", "status"], "{context}: {body}");
    assert_eq!(body["status"], "error", "{context}: {body}");
    assert_eq!(body["error"]["code"], code, "{context}: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{context}: {body}"
    );
    body["error"].clone()
}

/// Asserts the account dialect's `{"error": "..."}` with `status`; answers the text.
pub fn assert_account_error(reply: &Reply, status: u16, context: &str) -> String {
    assert_eq!(reply.status, status, "{context}: {}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{context}"
    );
    let body = reply.json();
    assert_eq!(keys_of(&body), ["error"], "{context}: {body}");
    let text = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{context}: `error` is not a string in {body}"));
    assert!(!text.is_empty(), "{context}");
    text.to_owned()
}

/// Parses an RFC 3339 UTC timestamp to nanoseconds since the epoch (keeping the fraction).
pub fn rfc3339_nanos(text: &str) -> i128 {
    let seconds = parse_rfc3339_utc(text);
    let fraction = text
        .strip_suffix('Z')
        .and_then(|body| body.get(19..))
        .and_then(|f| f.strip_prefix('.'))
        .unwrap_or("");
    let mut digits: String = fraction.chars().take(9).collect();
    while digits.len() < 9 {
        digits.push('0');
    }
    let nanos: i128 = digits
        .parse()
        .unwrap_or_else(|_| panic!("bad fraction in {text:?}"));
    i128::from(seconds) * 1_000_000_000 + nanos
}

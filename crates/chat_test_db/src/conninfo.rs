//! Connection strings: another database on the same server, and the options every test
//! connection gets.

/// `url` with `sslmode=disable` and `gssencmode=disable`, each unless the URL chooses it.
///
/// Test servers talk to a PostgreSQL on loopback, where encryption buys nothing. It also
/// costs crashes: libpq's OpenSSL and GSSAPI (krb5) register exit-time cleanups, and a test
/// process that ends while the server's pool threads still use their connections (the
/// database is being dropped with `FORCE`) can race them: SIGSEGV in OpenSSL, or SIGABRT in
/// krb5 (`k5_mutex_lock: Received error 22`). `gssencmode=disable` also spares each new
/// connection libpq's look for a Kerberos credential cache.
pub(crate) fn plain(url: &str) -> String {
    let url = with_default(url, "sslmode", "disable");
    with_default(&url, "gssencmode", "disable")
}

/// `url` with the parameter `key=value`, unless it sets `key` itself.
fn with_default(url: &str, key: &str, value: &str) -> String {
    if url.contains(&format!("{key}=")) {
        return url.to_owned();
    }
    if !is_uri(url) {
        return format!("{url} {key}={value}");
    }
    let (head, tail) = url.split_at(url.find('#').unwrap_or(url.len()));
    let separator = if head.contains('?') { '&' } else { '?' };
    format!("{head}{separator}{key}={value}{tail}")
}

fn is_uri(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `url` with its database replaced by `database`.
///
/// Handles URIs (`postgres://user:pw@host:port/db?params`, any part optional, the
/// database also dropped from the parameters) and keyword/value strings
/// (`host=... dbname=...`, where a later keyword wins).
pub(crate) fn with_database(url: &str, database: &str) -> String {
    let Some(scheme_end) = ["postgres://", "postgresql://"]
        .iter()
        .find(|scheme| url.starts_with(*scheme))
        .map(|scheme| scheme.len())
    else {
        return format!("{url} dbname={database}");
    };
    let (before_fragment, fragment) = match url.find('#') {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    let (before_query, query) = match before_fragment.find('?') {
        Some(at) => (&before_fragment[..at], Some(&before_fragment[at + 1..])),
        None => (before_fragment, None),
    };
    // The authority ends at the first '/' after the scheme ('/' in a password or a
    // socket path must be percent-encoded in a URI).
    let authority_end = before_query[scheme_end..]
        .find('/')
        .map_or(before_query.len(), |at| scheme_end + at);
    let mut result = format!("{}/{database}", &before_query[..authority_end]);
    if let Some(query) = query {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| !pair.is_empty() && !pair.starts_with("dbname="))
            .collect();
        if !kept.is_empty() {
            result.push('?');
            result.push_str(&kept.join("&"));
        }
    }
    result.push_str(fragment);
    result
}

#[cfg(test)]
mod tests {
    use super::{plain, with_database};

    #[test]
    fn tls_and_gss_encryption_are_turned_off_unless_the_url_chooses() {
        assert_eq!(
            plain("postgres://h/t"),
            "postgres://h/t?sslmode=disable&gssencmode=disable"
        );
        assert_eq!(
            plain("postgres:///t?host=/run/pg"),
            "postgres:///t?host=/run/pg&sslmode=disable&gssencmode=disable"
        );
        assert_eq!(
            plain("postgresql://h/t#f"),
            "postgresql://h/t?sslmode=disable&gssencmode=disable#f"
        );
        assert_eq!(
            plain("host=h dbname=t"),
            "host=h dbname=t sslmode=disable gssencmode=disable"
        );
        assert_eq!(
            plain("postgres://h/t?sslmode=require"),
            "postgres://h/t?sslmode=require&gssencmode=disable"
        );
        assert_eq!(
            plain("postgres://h/t?gssencmode=prefer"),
            "postgres://h/t?gssencmode=prefer&sslmode=disable"
        );
    }

    #[test]
    fn the_database_of_a_uri_is_replaced() {
        let cases = [
            (
                "postgres://postgres@127.0.0.1:5432/postgres",
                "postgres://postgres@127.0.0.1:5432/t",
            ),
            ("postgres://u:p%2Fw@h/db", "postgres://u:p%2Fw@h/t"),
            ("postgresql://h:5433", "postgresql://h:5433/t"),
            ("postgres://h/", "postgres://h/t"),
            (
                "postgres:///postgres?host=/run/pg&port=5433",
                "postgres:///t?host=/run/pg&port=5433",
            ),
            ("postgres://?host=/tmp/x", "postgres:///t?host=/tmp/x"),
            (
                "postgres://h/db?dbname=other&sslmode=disable",
                "postgres://h/t?sslmode=disable",
            ),
            ("postgres://h/db?dbname=other", "postgres://h/t"),
        ];
        for (url, expected) in cases {
            assert_eq!(with_database(url, "t"), expected, "{url}");
        }
    }

    #[test]
    fn a_keyword_value_string_gets_a_later_dbname() {
        assert_eq!(
            with_database("host=/tmp dbname=postgres", "t"),
            "host=/tmp dbname=postgres dbname=t"
        );
    }
}

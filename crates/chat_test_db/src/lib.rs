//! A fresh, empty PostgreSQL database per test, dropped when the test ends.
//!
//! Tests run in parallel, each in its own database, on the server named by the
//! `DATABASE_URL` environment variable (default [`DEFAULT_DATABASE_URL`]). The
//! database is created with `CREATE DATABASE` and dropped with
//! `DROP DATABASE … WITH (FORCE)`, so connections left open by the test do not
//! keep it alive. Migrations are the caller's business.

// Test-only: a missing server should stop the test at once, with a clear message.
#![allow(clippy::expect_used, clippy::panic)]

use std::fmt;

use diesel::{Connection, PgConnection, RunQueryDsl};

/// The server used when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists for as long as this value does.
pub struct TestDatabase {
    name: String,
    /// The server's URL as given, used to create and drop the database.
    admin_url: String,
    url: String,
}

impl TestDatabase {
    /// Creates `chat_test_<uuid>` on the server of `DATABASE_URL`.
    ///
    /// # Panics
    /// When the server cannot be reached or refuses to create the database.
    pub fn new() -> Self {
        let admin_url =
            std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned());
        let name = format!("chat_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(&admin_url).unwrap_or_else(|e| {
            panic!(
                "cannot connect to the PostgreSQL server of DATABASE_URL \
                 (or {DEFAULT_DATABASE_URL} when unset) to create a test database: {e}"
            )
        });
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let url = without_tls(&with_database(&admin_url, &name));
        Self {
            name,
            admin_url,
            url,
        }
    }

    /// The URL of the new database: the server's URL with the database replaced.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The new database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl TestDatabase {
    /// Drops the database now, closing every connection to it: lets a test watch a
    /// server lose its database. Dropping the value afterwards does nothing more.
    ///
    /// # Panics
    /// When the server refuses.
    pub fn drop_now(&self) {
        self.try_drop()
            .unwrap_or_else(|e| panic!("cannot drop test database {}: {e}", self.name));
    }

    fn try_drop(&self) -> Result<(), String> {
        let mut conn = PgConnection::establish(&self.admin_url).map_err(|e| e.to_string())?;
        diesel::sql_query(format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .map(drop)
        .map_err(|e| e.to_string())
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password.
        f.debug_struct("TestDatabase")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Err(e) = self.try_drop() {
            eprintln!(
                "chat_test_db: could not drop test database {}: {e}",
                self.name
            );
        }
    }
}

/// `url` with `sslmode=disable` unless it chooses an `sslmode` itself.
///
/// Test servers talk to a PostgreSQL on loopback, where TLS buys nothing. It also costs a
/// crash: libpq's OpenSSL registers an exit-time cleanup, and a test process that ends
/// while the server's pool threads still hold TLS connections (its database is being
/// dropped with `FORCE`) could race that cleanup and die of SIGSEGV.
fn without_tls(url: &str) -> String {
    if url.contains("sslmode=") {
        return url.to_owned();
    }
    let is_uri = url.starts_with("postgres://") || url.starts_with("postgresql://");
    match (is_uri, url.find('#')) {
        (false, _) => format!("{url} sslmode=disable"),
        (true, fragment) => {
            let (head, tail) = url.split_at(fragment.unwrap_or(url.len()));
            let separator = if head.contains('?') { '&' } else { '?' };
            format!("{head}{separator}sslmode=disable{tail}")
        }
    }
}

/// `url` with its database replaced by `database`.
///
/// Handles URIs (`postgres://user:pw@host:port/db?params`, any part optional, the
/// database also dropped from the parameters) and keyword/value strings
/// (`host=... dbname=...`, where a later keyword wins).
fn with_database(url: &str, database: &str) -> String {
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
    use super::{with_database, without_tls};

    #[test]
    fn tls_is_turned_off_unless_the_url_chooses() {
        assert_eq!(
            without_tls("postgres://h/t"),
            "postgres://h/t?sslmode=disable"
        );
        assert_eq!(
            without_tls("postgres:///t?host=/run/pg"),
            "postgres:///t?host=/run/pg&sslmode=disable"
        );
        assert_eq!(
            without_tls("host=h dbname=t"),
            "host=h dbname=t sslmode=disable"
        );
        assert_eq!(
            without_tls("postgres://h/t?sslmode=require"),
            "postgres://h/t?sslmode=require"
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

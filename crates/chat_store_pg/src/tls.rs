//! TLS to PostgreSQL: what the URL says; on the loopback interface, none unless it says so.
//!
//! libpq's default (`sslmode=prefer`) encrypts whenever the server offers TLS, loopback
//! included, where it protects nothing (the bytes never leave the kernel) and cost about
//! 7 % of the server's CPU under send load (docs/benchmarks/findings.md). So a URL whose
//! every host is loopback (`localhost`, `127.0.0.0/8`, `::1`) or a Unix socket directory,
//! and that names no `sslmode`, gets `sslmode=disable`. Any other host keeps libpq's
//! default, and a URL that names an `sslmode` keeps it, whatever its host.

use std::borrow::Cow;
use std::net::IpAddr;

/// `url` with `sslmode=disable` added when it connects over loopback only and names no
/// `sslmode` (see the module's documentation). Connection strings of the `key=value` form,
/// and URLs this does not understand, are left as they are.
pub fn with_default_sslmode(url: &str) -> Cow<'_, str> {
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        return Cow::Borrowed(url);
    };
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let params: Vec<(&str, &str)> = query
        .split('&')
        .filter(|param| !param.is_empty())
        .map(|param| param.split_once('=').unwrap_or((param, "")))
        .collect();
    if params.iter().any(|(key, _)| *key == "sslmode") {
        return Cow::Borrowed(url);
    }
    let authority = before_query.split('/').next().unwrap_or("");
    let hosts = authority
        .rsplit_once('@')
        .map_or(authority, |(_, hosts)| hosts);
    let mut all_local = hosts.split(',').all(is_local_host);
    // `?host=` overrides the URL's hosts: a directory is a Unix socket.
    for (key, value) in &params {
        if *key == "host" || *key == "hostaddr" {
            all_local &= value.split(',').all(is_local_host);
        }
    }
    if !all_local {
        return Cow::Borrowed(url);
    }
    let separator = if query.is_empty() {
        if url.ends_with('?') { "" } else { "?" }
    } else {
        "&"
    };
    Cow::Owned(format!("{url}{separator}sslmode=disable"))
}

/// Whether a host of a URL (with or without its port) is loopback or a Unix socket: empty
/// (libpq's default socket), a directory (`/run/postgresql`, or `%2F…` encoded),
/// `localhost`, or a loopback address.
fn is_local_host(host: &str) -> bool {
    let host = host.trim();
    if host.is_empty() || host.starts_with('/') || host.to_ascii_lowercase().starts_with("%2f") {
        return true;
    }
    // `[::1]:5432`, `[::1]`, `127.0.0.1:5432`, `localhost:5432`.
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_without_a_sslmode_get_none() {
        for (url, expected) in [
            (
                "postgres://postgres@127.0.0.1:5432/chat",
                "postgres://postgres@127.0.0.1:5432/chat?sslmode=disable",
            ),
            (
                "postgresql://u:p@localhost/chat?application_name=x",
                "postgresql://u:p@localhost/chat?application_name=x&sslmode=disable",
            ),
            (
                "postgres://u@[::1]:5433/chat",
                "postgres://u@[::1]:5433/chat?sslmode=disable",
            ),
            (
                "postgres:///chat?host=/run/postgresql",
                "postgres:///chat?host=/run/postgresql&sslmode=disable",
            ),
            (
                "postgres://u@%2Frun%2Fpostgresql/chat",
                "postgres://u@%2Frun%2Fpostgresql/chat?sslmode=disable",
            ),
            (
                "postgres://u@127.0.0.2,localhost/chat?",
                "postgres://u@127.0.0.2,localhost/chat?sslmode=disable",
            ),
        ] {
            assert_eq!(with_default_sslmode(url), expected, "{url}");
        }
    }

    #[test]
    fn other_hosts_and_chosen_modes_are_left_alone() {
        for url in [
            "postgres://u@db.example.com/chat",
            "postgres://u@10.0.0.5:5432/chat",
            "postgres://u@127.0.0.1,db.example.com/chat",
            "postgres://u@127.0.0.1/chat?host=db.example.com",
            "postgres://u@127.0.0.1/chat?sslmode=require",
            "postgres://u@db.example.com/chat?sslmode=disable",
            "host=127.0.0.1 dbname=chat",
            "mysql://127.0.0.1/chat",
        ] {
            assert_eq!(with_default_sslmode(url), url);
        }
    }
}

//! Connection strings of the relay's own connections.

/// `url` with `application_name` set to `name` (a later setting wins in libpq, so this
/// overrides one the URL has). Handles URIs (`postgres://…`) and keyword/value strings.
pub(crate) fn with_application_name(url: &str, name: &str) -> String {
    let is_uri = url.starts_with("postgres://") || url.starts_with("postgresql://");
    if !is_uri {
        return format!("{url} application_name={name}");
    }
    let (head, fragment) = url.split_at(url.find('#').unwrap_or(url.len()));
    let separator = if head.contains('?') { '&' } else { '?' };
    format!("{head}{separator}application_name={name}{fragment}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_connections_name_their_application() {
        assert_eq!(
            with_application_name("postgres://u:p@h:5432/db", "x"),
            "postgres://u:p@h:5432/db?application_name=x"
        );
        assert_eq!(
            with_application_name("postgresql://h/db?sslmode=disable#f", "x"),
            "postgresql://h/db?sslmode=disable&application_name=x#f"
        );
        assert_eq!(
            with_application_name("host=h dbname=db", "x"),
            "host=h dbname=db application_name=x"
        );
    }
}

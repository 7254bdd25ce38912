//! Resolving a webhook's host to the addresses it may be sent to.

use std::net::{IpAddr, SocketAddr};

use crate::address::refusal;

/// Resolves `host:port` (an IP literal, bracketed or not, as is; a name through the system
/// resolver), then checks every address unless `allow_private`.
///
/// Errors are human reasons, fit for `Problem::Invalid` and for a delivery log: no address
/// at all, a resolver failure, or the first non-public address found. One non-public address
/// refuses the whole host, so a name that mixes a public and a private address cannot be
/// used to reach the private one.
pub async fn checked_addresses(
    host: &str,
    port: u16,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, String> {
    let bare = host
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host);
    let addresses: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .map_err(|error| format!("{bare} could not be resolved: {error}"))?
            .collect(),
    };
    check(bare, addresses, allow_private)
}

/// Refuses an empty list, and (unless `allow_private`) any non-public address in it.
fn check(
    host: &str,
    addresses: Vec<SocketAddr>,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, String> {
    if addresses.is_empty() {
        return Err(format!("{host} resolves to no address"));
    }
    if !allow_private {
        for address in &addresses {
            if let Some(kind) = refusal(address.ip()) {
                return Err(format!(
                    "{host} resolves to {}, {kind}; webhooks may only reach public addresses",
                    address.ip()
                ));
            }
        }
    }
    Ok(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ip_literals_are_taken_as_they_are() {
        let found = checked_addresses("[2606:4700:4700::1111]", 443, false).await;
        assert_eq!(
            found,
            Ok(vec![
                "[2606:4700:4700::1111]:443"
                    .parse()
                    .unwrap_or_else(|_| unreachable!())
            ])
        );
        let found = checked_addresses("8.8.8.8", 80, false).await;
        assert_eq!(found.map(|all| all.len()), Ok(1));
    }

    #[tokio::test]
    async fn a_private_literal_is_refused_unless_allowed() {
        let refused = checked_addresses("10.0.0.7", 80, false).await;
        assert!(
            matches!(&refused, Err(reason) if reason.contains("10.0.0.7, a private address")),
            "{refused:?}"
        );
        assert!(checked_addresses("10.0.0.7", 80, true).await.is_ok());
        let refused = checked_addresses("[::ffff:127.0.0.1]", 80, false).await;
        assert!(
            matches!(&refused, Err(reason) if reason.contains("loopback")),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn localhost_is_refused() {
        let refused = checked_addresses("localhost", 8080, false).await;
        assert!(
            matches!(&refused, Err(reason) if reason.contains("loopback")),
            "{refused:?}"
        );
    }

    #[test]
    fn one_private_address_among_public_ones_refuses_the_host() {
        let addresses = vec![
            SocketAddr::from(([8, 8, 8, 8], 443)),
            SocketAddr::from(([192, 168, 0, 1], 443)),
        ];
        assert!(check("mixed.example", addresses.clone(), false).is_err());
        assert_eq!(
            check("mixed.example", addresses.clone(), true),
            Ok(addresses)
        );
        assert!(check("none.example", Vec::new(), true).is_err());
    }
}

//! The client's address: the peer's, or what `X-Forwarded-For` says when the peer is a
//! trusted proxy.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// The proxies (IPs or CIDR networks) whose `X-Forwarded-For` is believed
/// (`CHAT_TRUSTED_PROXIES`, comma-separated). Empty: the peer is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// True if `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request that `peer` sent with `forwarded` (its `X-Forwarded-For`):
    /// the peer, unless it is trusted; then the nearest address of the header that is not
    /// a trusted proxy (or the farthest one, if all are). A header that does not parse is
    /// ignored.
    pub fn client(&self, peer: Option<IpAddr>, forwarded: Option<&str>) -> Option<IpAddr> {
        let peer = peer?;
        if !self.contains(peer) {
            return Some(peer);
        }
        let Some(header) = forwarded else {
            return Some(peer);
        };
        let hops: Result<Vec<IpAddr>, _> = header
            .split(',')
            .map(|hop| IpAddr::from_str(hop.trim()))
            .collect();
        let Ok(hops) = hops else {
            return Some(peer);
        };
        let nearest_untrusted = hops.iter().rev().find(|hop| !self.contains(**hop));
        Some(
            nearest_untrusted
                .or_else(|| hops.first())
                .copied()
                .unwrap_or(peer),
        )
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// `10.0.0.1, 192.168.0.0/16, ::1`: IPs and CIDR networks, comma-separated.
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        list.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                IpNet::from_str(item)
                    .or_else(|_| IpAddr::from_str(item).map(IpNet::from))
                    .map_err(|_| format!("`{item}` is not an IP address or a CIDR network"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    fn proxies(list: &str) -> TrustedProxies {
        list.parse().unwrap_or_default()
    }

    #[test]
    fn proxies_parse_as_ips_and_networks() {
        let proxies = proxies("10.0.0.1, 192.168.0.0/16,::1");
        assert_eq!(proxies.0.len(), 3);
        assert!(proxies.contains(ip("10.0.0.1")));
        assert!(proxies.contains(ip("192.168.4.5")));
        assert!(proxies.contains(ip("::1")));
        assert!(!proxies.contains(ip("10.0.0.2")));
        assert_eq!("".parse::<TrustedProxies>(), Ok(TrustedProxies::default()));
        assert!("10.0.0.300".parse::<TrustedProxies>().is_err());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_peer() {
        let proxies = proxies("10.0.0.0/8");
        assert_eq!(proxies.0.len(), 1);
        let header = Some("203.0.113.9, 10.0.0.7");
        assert_eq!(
            proxies.client(Some(ip("10.0.0.1")), header),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            proxies.client(Some(ip("198.51.100.1")), header),
            Some(ip("198.51.100.1"))
        );
        assert_eq!(
            proxies.client(Some(ip("10.0.0.1")), Some("not an ip")),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(
            proxies.client(Some(ip("10.0.0.1")), Some("10.0.0.9")),
            Some(ip("10.0.0.9"))
        );
        assert_eq!(
            TrustedProxies::default().client(Some(ip("10.0.0.1")), header),
            Some(ip("10.0.0.1"))
        );
    }
}

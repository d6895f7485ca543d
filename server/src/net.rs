//! The client's IP address: the socket's peer, or — only when that peer is a proxy we trust
//! (`TRUSTED_PROXIES`) — the address the proxies saw, read from `X-Forwarded-For`.
//!
//! A forged `X-Forwarded-For` from anyone else changes nothing: the header is read only when the
//! connection comes from a trusted proxy, and then only the hops our proxies appended (walking
//! from the right, skipping trusted hops) are believed. Every capability takes the address from
//! the one [`ClientIp`] extractor, resolved once per request by [`resolve_client_ip`].

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, FromRequestParts, Request},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{HeaderMap, StatusCode, request::Parts};

/// One network written as CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a single address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    network: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `address` or `address/prefix`; host bits after the prefix are ignored.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let (address, prefix) = match raw.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (raw, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{raw:?} is not an IP address or CIDR network"))?;
        let network = network.to_canonical();
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max && !prefix.starts_with('+'))
                .ok_or_else(|| {
                    format!("{raw:?} has an invalid prefix length (0-{max} for this address)")
                })?,
        };
        Ok(Self { network, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// `TRUSTED_PROXIES`: the reverse proxies and load balancers allowed to say who the client is.
/// Empty (the default) means the socket's peer is always the client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn none() -> Self {
        Self::default()
    }

    /// A comma-separated list of networks; every invalid entry is reported.
    pub fn parse(list: &str) -> Result<Self, Vec<String>> {
        let mut networks = Vec::new();
        let mut problems = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match IpNet::parse(entry) {
                Ok(net) => networks.push(net),
                Err(problem) => problems.push(problem),
            }
        }
        if problems.is_empty() {
            Ok(Self(networks))
        } else {
            Err(problems)
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The client behind `peer`: `peer` itself unless it is trusted; then the right-most
    /// `X-Forwarded-For` hop that is not trusted. A malformed hop ends the walk at the last
    /// trusted address (what our own proxies vouch for), and so does a list of only trusted hops.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        // Several header lines are one list, in order (RFC 9110 §5.3).
        let lines: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|value| value.to_str().unwrap_or(""))
            .collect();
        for hop in lines.iter().rev().flat_map(|line| line.rsplit(',')) {
            match parse_hop(hop) {
                Some(ip) if self.contains(ip) => client = ip,
                Some(ip) => return ip,
                None => return client,
            }
        }
        client
    }
}

/// One `X-Forwarded-For` element: an address, optionally `[v6]`, `[v6]:port` or `v4:port` as
/// some proxies write them. Anything else (`unknown`, obfuscated ids, garbage) is `None`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = hop.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        let port_ok = after.is_empty()
            || after
                .strip_prefix(':')
                .is_some_and(|port| port.parse::<u16>().is_ok());
        return port_ok
            .then(|| v6.parse::<Ipv6Addr>().ok())
            .flatten()
            .map(|ip| IpAddr::V6(ip).to_canonical());
    }
    let (v4, port) = hop.split_once(':')?;
    port.parse::<u16>().ok()?;
    v4.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

/// The client's address, as [`TrustedProxies::client_ip`] decided it for this request.
///
/// An axum extractor (`ClientIp(ip): ClientIp`) that server functions read too, through
/// `leptos_axum::extract::<ClientIp>()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl fmt::Display for ClientIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The request was served without connection info, so nobody knows who sent it.
#[derive(Debug)]
pub struct ClientIpUnknown;

impl fmt::Display for ClientIpUnknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the client's address is unknown: the server was not started with connection info",
        )
    }
}

impl IntoResponse for ClientIpUnknown {
    fn into_response(self) -> Response {
        tracing::error!("{self}");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ClientIpUnknown;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(ip) = parts.extensions.get::<ClientIp>() {
            return Ok(*ip);
        }
        // Without the resolving layer nobody is trusted: the peer is the client.
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| ClientIp(peer.ip().to_canonical()))
            .ok_or(ClientIpUnknown)
    }
}

/// Middleware (`axum::middleware::from_fn_with_state(trusted, resolve_client_ip)`): decides
/// the client's address once and leaves it in the request for [`ClientIp`].
pub async fn resolve_client_ip(
    axum::extract::State(trusted): axum::extract::State<Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    if let Some(peer) = peer {
        let ip = trusted.client_ip(peer, request.headers());
        request.extensions_mut().insert(ClientIp(ip));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn trusted(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    /// The client for a request from `peer` carrying these `X-Forwarded-For` lines.
    fn client(proxies: &str, peer: &str, xff: &[&str]) -> IpAddr {
        let mut headers = HeaderMap::new();
        for line in xff {
            headers.append("x-forwarded-for", HeaderValue::from_str(line).unwrap());
        }
        trusted(proxies).client_ip(ip(peer), &headers)
    }

    #[test]
    fn networks_parse_in_cidr_and_single_address_forms() {
        let list = trusted(" 10.0.0.0/8, 192.168.1.7 ,2001:db8::/32,::1, 172.16.5.4/12 ,");
        assert_eq!(list.0.len(), 5);
        assert!(list.contains(ip("10.255.1.2")));
        assert!(list.contains(ip("192.168.1.7")));
        assert!(!list.contains(ip("192.168.1.8")));
        assert!(list.contains(ip("2001:db8:ffff::1")));
        assert!(!list.contains(ip("2001:db9::1")));
        assert!(list.contains(ip("::1")));
        assert!(list.contains(ip("172.31.255.255")), "host bits are ignored");
        assert!(!list.contains(ip("172.32.0.0")));
        assert!(
            list.contains(ip("::ffff:10.1.2.3")),
            "IPv4-mapped IPv6 is IPv4"
        );
        assert!(trusted("0.0.0.0/0").contains(ip("8.8.8.8")));
        assert!(!trusted("0.0.0.0/0").contains(ip("::2")));
        assert!(trusted("::/0").contains(ip("2a00::1")));
        assert!(trusted("").is_empty());
    }

    #[test]
    fn every_invalid_network_is_reported() {
        let problems = TrustedProxies::parse(
            "10.0.0.0/33, fe80::/129, proxy.internal, 10.0.0.1/8, 1.2.3.4/-1, 1.2.3.4/+8, ::1/",
        )
        .unwrap_err();
        assert_eq!(problems.len(), 6, "{problems:?}");
        assert!(problems[0].contains("10.0.0.0/33"), "{problems:?}");
        assert!(problems[2].contains("proxy.internal"), "{problems:?}");
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        assert_eq!(client("", "203.0.113.9", &["1.1.1.1"]), ip("203.0.113.9"));
        assert_eq!(
            client("10.0.0.0/8", "203.0.113.9", &["1.1.1.1, 10.0.0.2"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            client("10.0.0.0/8", "::ffff:203.0.113.9", &[]),
            ip("203.0.113.9"),
            "IPv4-mapped peers are reported as IPv4"
        );
    }

    #[test]
    fn a_trusted_peer_names_the_right_most_untrusted_hop() {
        // The client forged the first entries; only what our proxies appended counts.
        assert_eq!(
            client("10.0.0.0/8", "10.0.0.1", &["6.6.6.6, 198.51.100.4"]),
            ip("198.51.100.4")
        );
        assert_eq!(
            client(
                "10.0.0.0/8, 192.168.0.0/16",
                "10.0.0.1",
                &["6.6.6.6, 198.51.100.4, 192.168.3.3, 10.9.9.9"]
            ),
            ip("198.51.100.4"),
            "trusted hops are skipped from the right"
        );
        assert_eq!(
            client("10.0.0.0/8", "10.0.0.1", &["198.51.100.4"]),
            ip("198.51.100.4")
        );
    }

    #[test]
    fn spaces_and_several_header_lines_are_one_list() {
        assert_eq!(
            client("10.0.0.0/8", "10.0.0.1", &["  198.51.100.4 ,10.1.1.1  "]),
            ip("198.51.100.4")
        );
        assert_eq!(
            client(
                "10.0.0.0/8",
                "10.0.0.1",
                &["6.6.6.6", "198.51.100.4,10.2.2.2", "10.3.3.3"]
            ),
            ip("198.51.100.4")
        );
        assert_eq!(
            client("10.0.0.0/8", "10.0.0.1", &["6.6.6.6", "198.51.100.4"]),
            ip("198.51.100.4"),
            "the last line is the right-most"
        );
    }

    #[test]
    fn ipv6_hops_and_proxies() {
        assert_eq!(
            client(
                "2001:db8::/32",
                "2001:db8::1",
                &["2a00:1450::5, 2001:db8::2"]
            ),
            ip("2a00:1450::5")
        );
        assert_eq!(
            client("::1, fd00::/8", "::1", &["[2a00:1450::5]:4431, fd12::7"]),
            ip("2a00:1450::5"),
            "bracketed with a port"
        );
        assert_eq!(
            client("::1", "::1", &["[2a00:1450::6]"]),
            ip("2a00:1450::6"),
            "bracketed without a port"
        );
        assert_eq!(
            client("::1", "::1", &["::ffff:198.51.100.4"]),
            ip("198.51.100.4"),
            "IPv4-mapped hop"
        );
        assert_eq!(
            client("10.0.0.0/8, ::1", "::1", &["198.51.100.4, 10.0.0.3"]),
            ip("198.51.100.4"),
            "an IPv6 proxy in front of an IPv4 one"
        );
        assert_eq!(
            client("10.0.0.0/8", "10.0.0.1", &["198.51.100.4:51234"]),
            ip("198.51.100.4"),
            "IPv4 with a port"
        );
    }

    #[test]
    fn garbage_stops_the_walk_at_the_last_trusted_address() {
        let proxies = "10.0.0.0/8";
        assert_eq!(client(proxies, "10.0.0.1", &["unknown"]), ip("10.0.0.1"));
        assert_eq!(
            client(proxies, "10.0.0.1", &["198.51.100.4, garbage, 10.0.0.7"]),
            ip("10.0.0.7"),
            "a hop our proxy vouched for, then garbage"
        );
        assert_eq!(
            client(proxies, "10.0.0.1", &["198.51.100.4, "]),
            ip("10.0.0.1"),
            "an empty hop is malformed"
        );
        for junk in [
            "_hidden",
            "1.2.3",
            "1.2.3.4.5",
            "[::1",
            "[::1]x",
            "::1]:80",
            "1.2.3.4:99999",
            "1.2.3.4:",
            "300.1.1.1",
            "for=1.2.3.4",
            "1.2.3.4 5.6.7.8",
            "\u{0}",
        ] {
            let mut headers = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(&format!("198.51.100.4, {junk}")) {
                headers.insert("x-forwarded-for", value);
                assert_eq!(
                    trusted(proxies).client_ip(ip("10.0.0.1"), &headers),
                    ip("10.0.0.1"),
                    "{junk:?}"
                );
            }
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"198.51.100.4, \xff\xfe").unwrap(),
        );
        assert_eq!(
            trusted(proxies).client_ip(ip("10.0.0.1"), &headers),
            ip("10.0.0.1"),
            "non-UTF-8 bytes"
        );
    }

    #[test]
    fn only_trusted_hops_name_the_left_most_one() {
        assert_eq!(
            client("10.0.0.0/8", "10.0.0.1", &["10.0.0.5, 10.0.0.4"]),
            ip("10.0.0.5")
        );
        assert_eq!(client("10.0.0.0/8", "10.0.0.1", &[]), ip("10.0.0.1"));
    }

    #[test]
    fn many_hops_are_walked_without_trouble() {
        let mut hops: Vec<String> = (0..2000)
            .map(|i| format!("10.{}.{}.1", i / 256, i % 256))
            .collect();
        hops.insert(0, "198.51.100.4".into());
        hops.insert(0, "6.6.6.6".into());
        let line = hops.join(", ");
        assert_eq!(
            client("10.0.0.0/8", "10.0.0.1", &[&line]),
            ip("198.51.100.4")
        );
        // Forged hops on the left are never reached.
        let forged: Vec<String> = (0..2000)
            .map(|i| format!("1.2.{}.{}", i / 256, i % 256))
            .collect();
        let line = format!("{}, 198.51.100.4", forged.join(","));
        assert_eq!(
            client("10.0.0.0/8", "10.0.0.1", &[&line]),
            ip("198.51.100.4")
        );
    }
}

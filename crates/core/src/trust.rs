//! Who may name a task. An explicit task (header, query parameter, path prefix) picks a tier
//! outright, the most expensive one included; with `explicit_tasks.trusted` configured only
//! the callers it lists may do so, and anyone else's task is ignored and the body classified.
//! The adapter reads the caller's facts from the host (mTLS peer SANs, the downstream
//! address, a header an earlier filter adds); this module only compares them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What the proxy knows about the caller. Empty (the default) trusts no one under an
/// allow-list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caller<'a> {
    /// The first URI SAN of the peer's certificate (Istio: `spiffe://<td>/ns/<ns>/sa/<sa>`).
    pub peer_uri_san: Option<&'a str>,
    /// The first DNS SAN of the peer's certificate.
    pub peer_dns_san: Option<&'a str>,
    /// The downstream remote address as Envoy gives it: `ip:port`, `[ipv6]:port` or a bare IP.
    pub source_address: Option<&'a str>,
    /// The request carries the trusted header (which an earlier filter sets).
    pub trusted_header: bool,
}

impl Caller<'static> {
    /// Nothing known (the [`Default`], usable in `const`s).
    pub const UNKNOWN: Caller<'static> = Caller {
        peer_uri_san: None,
        peer_dns_san: None,
        source_address: None,
        trusted_header: false,
    };
}

/// Why an explicit task was ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UntrustedReason {
    /// The value names no configured task or tier.
    UnknownTask,
    /// The task is configured, but the caller is not on the allow-list.
    CallerNotTrusted,
}

impl UntrustedReason {
    pub const ALL: [UntrustedReason; 2] = [
        UntrustedReason::UnknownTask,
        UntrustedReason::CallerNotTrusted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UntrustedReason::UnknownTask => "unknown_task",
            UntrustedReason::CallerNotTrusted => "caller_not_trusted",
        }
    }
}

/// The compiled allow-list; any one match trusts the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedCallers {
    pub principals: Vec<Principal>,
    pub source_cidrs: Vec<Cidr>,
    /// A header whose presence trusts the caller.
    pub header: Option<String>,
}

impl TrustedCallers {
    pub fn trusts(&self, caller: &Caller<'_>) -> bool {
        if self.header.is_some() && caller.trusted_header {
            return true;
        }
        let sans = [caller.peer_uri_san, caller.peer_dns_san];
        if sans
            .into_iter()
            .flatten()
            .any(|san| self.principals.iter().any(|p| p.matches(san)))
        {
            return true;
        }
        let ip = caller.source_address.and_then(parse_address_ip);
        ip.is_some_and(|ip| self.source_cidrs.iter().any(|c| c.contains(ip)))
    }

    /// The peer certificate is worth reading (two host calls) only when principals are listed.
    pub fn reads_principals(&self) -> bool {
        !self.principals.is_empty()
    }

    pub fn reads_source(&self) -> bool {
        !self.source_cidrs.is_empty()
    }
}

/// A principal as written: exact, or a prefix ending in `*`
/// (`spiffe://cluster.local/ns/batch/*` is every service account of namespace `batch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Exact(String),
    Prefix(String),
}

impl Principal {
    /// `None` when the pattern is empty, has a space, or a `*` anywhere but at the end.
    pub fn parse(pattern: &str) -> Option<Principal> {
        let invalid =
            |s: &str| s.is_empty() || s.contains('*') || s.chars().any(char::is_whitespace);
        match pattern.strip_suffix('*') {
            Some(prefix) if !invalid(prefix) => Some(Principal::Prefix(prefix.to_string())),
            Some(_) => None,
            None if !invalid(pattern) => Some(Principal::Exact(pattern.to_string())),
            None => None,
        }
    }

    pub fn matches(&self, san: &str) -> bool {
        match self {
            Principal::Exact(p) => san == p,
            Principal::Prefix(p) => san.starts_with(p.as_str()),
        }
    }
}

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix_len: u8,
}

/// Why a CIDR was refused, for the config error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CidrError {
    /// Not `address/length` with a valid address and length.
    Malformed,
    /// Address bits set beyond the prefix; the network that was probably meant.
    HostBits(String),
}

impl Cidr {
    /// `10.0.0.0/8`, `fd00::/8`; a bare address is a single host (`/32`, `/128`).
    pub fn parse(text: &str) -> Result<Cidr, CidrError> {
        let (addr, len) = match text.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (text, None),
        };
        let network: IpAddr = addr.parse().map_err(|_| CidrError::Malformed)?;
        let max = max_len(network);
        let prefix_len = match len {
            None => max,
            // Digits only: `u8::from_str` would accept `+8`.
            Some(l) if !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()) => {
                l.parse::<u8>().map_err(|_| CidrError::Malformed)?
            }
            Some(_) => return Err(CidrError::Malformed),
        };
        if prefix_len > max {
            return Err(CidrError::Malformed);
        }
        let masked = mask(network, prefix_len);
        if masked != network {
            return Err(CidrError::HostBits(format!("{masked}/{prefix_len}")));
        }
        Ok(Cidr {
            network,
            prefix_len,
        })
    }

    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// An IPv4 network also contains the IPv4-mapped IPv6 form of its addresses
    /// (`::ffff:10.1.2.3`), which dual-stack listeners report.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.network, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            (_, ip) => ip,
        };
        ip.is_ipv4() == self.network.is_ipv4() && mask(ip, self.prefix_len) == self.network
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix_len)
    }
}

fn max_len(ip: IpAddr) -> u8 {
    if ip.is_ipv4() {
        32
    } else {
        128
    }
}

fn mask(ip: IpAddr, prefix_len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::MAX
                .checked_shl(32 - u32::from(prefix_len))
                .unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & bits))
        }
        IpAddr::V6(v6) => {
            let bits = u128::MAX
                .checked_shl(128 - u32::from(prefix_len))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & bits))
        }
    }
}

/// The IP of `1.2.3.4:5678`, `[::1]:5678`, or a bare address.
pub fn parse_address_ip(address: &str) -> Option<IpAddr> {
    if let Ok(ip) = address.parse() {
        return Some(ip);
    }
    if let Some(rest) = address.strip_prefix('[') {
        let (ip, _port) = rest.split_once(']')?;
        return ip.parse().ok();
    }
    let (ip, _port) = address.rsplit_once(':')?;
    ip.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

//! Finding a domain's IDMEFv2 receivers by DNS (transport draft §4.6): the
//! SRV records of `_idmef._tcp.<domain>` name the hosts and ports, ordered
//! as RFC 2782 says (lowest priority first; within one priority, a random
//! order in which a larger weight comes earlier more often).
//!
//! [`Client::discover`](super::client::Client::discover) builds a client on
//! it: each send takes the targets in that order and moves on to the next
//! when it cannot connect to one (nothing listening, no route, no
//! connection within 5 seconds, a reset before any answer); a TLS failure
//! or any answer ends the send. A target that could not be reached is
//! tried after the others for the next 30 seconds. The records are looked up again when their TTL
//! runs out (kept 5 s at least). Only the name built from the domain is
//! queried: no search list is applied and, when it has no SRV record, no
//! parent domain is tried (the draft says not to walk up the tree).
//!
//! The target host names are resolved by the same resolver, so that one
//! nameserver ([`ClientBuilder::dns_server`](super::client::ClientBuilder::dns_server))
//! answers for both. The receiver's certificate is then checked against
//! the **target's** name (its DNS-ID), as if the URL had been
//! `https://TARGET:PORT/`, or it may instead carry the SRV-ID
//! `_idmef.<domain>` (RFC 4985) of the domain that was looked up. The
//! target's name comes from a DNS answer that nothing here authenticates
//! (no DNSSEC validation), so a DNS-ID match only proves the receiver is
//! the host DNS pointed to; an SRV-ID ties the certificate to the domain
//! the sender asked for, and is the stronger check where the CA issues
//! them.

use std::{
    collections::HashMap,
    fmt,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use hickory_resolver::{
    config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts},
    net::runtime::TokioRuntimeProvider,
    proto::rr::RData,
    TokioResolver,
};

use super::{client::SendError, tls::ConfigError};

/// The shortest time looked-up records are used before asking again.
const MIN_TTL: Duration = Duration::from_secs(5);
/// The longest.
const MAX_TTL: Duration = Duration::from_secs(3600);
/// How long a target that could not be reached is tried last.
const DOWN_FOR: Duration = Duration::from_secs(30);

/// One SRV record: where a receiver is, and how it ranks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SrvTarget {
    /// Lower is tried first.
    pub priority: u16,
    /// Among one priority, the relative share of first tries.
    pub weight: u16,
    /// The receiver's port.
    pub port: u16,
    /// The receiver's host name, without the final dot.
    pub host: String,
}

impl fmt::Display for SrvTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// Puts targets in the order RFC 2782 gives: by priority, then, within a
/// priority, by repeated weighted draws — `random(n)` returns a number in
/// `0..n`. Among the remaining targets of a priority, those of weight 0
/// are placed first, a number from 0 to the sum of weights (inclusive) is
/// drawn, and the first target whose running sum of weights reaches it is
/// next.
pub fn order_targets(
    mut targets: Vec<SrvTarget>,
    mut random: impl FnMut(u64) -> u64,
) -> Vec<SrvTarget> {
    targets.sort_by_key(|t| t.priority);
    let mut ordered = Vec::with_capacity(targets.len());
    let mut rest = targets.as_slice();
    while let Some(first) = rest.first() {
        let same = rest
            .iter()
            .take_while(|t| t.priority == first.priority)
            .count();
        let (group, after) = rest.split_at(same);
        rest = after;
        let mut group: Vec<SrvTarget> = group.to_vec();
        // Weight 0 first (stable for the others).
        group.sort_by_key(|t| t.weight != 0);
        while !group.is_empty() {
            let total: u64 = group.iter().map(|t| u64::from(t.weight)).sum();
            let draw = random(total + 1);
            let mut running = 0;
            let index = group
                .iter()
                .position(|t| {
                    running += u64::from(t.weight);
                    running >= draw
                })
                .unwrap_or(group.len() - 1);
            ordered.push(group.remove(index));
        }
    }
    ordered
}

/// The records of a domain, as last looked up.
struct Cached {
    targets: Vec<SrvTarget>,
    until: Instant,
}

/// Looks up and orders a domain's receivers; shared by a client's clones.
pub(crate) struct Discovery {
    domain: String,
    query: String,
    resolver: TokioResolver,
    cache: Mutex<Option<Cached>>,
    down: Mutex<HashMap<(String, u16), Instant>>,
}

impl fmt::Debug for Discovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Discovery")
            .field("query", &self.query)
            .finish()
    }
}

/// A domain name as the user gave it, checked and without the final dot.
fn check_domain(domain: &str) -> Result<String, ConfigError> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if domain.is_empty() || domain.len() > 253 || !domain.split('.').all(label_ok) {
        return Err(ConfigError::new(format!(
            "{domain:?} is not a domain name (letters, digits and hyphens in dot-separated labels)"
        )));
    }
    Ok(domain)
}

impl Discovery {
    /// Discovery for `domain`, asking `nameserver` (UDP, then TCP) or, when
    /// `None`, the system's nameservers (`/etc/resolv.conf`).
    pub(crate) fn new(domain: &str, nameserver: Option<SocketAddr>) -> Result<Self, ConfigError> {
        let domain = check_domain(domain)?;
        let provider = TokioRuntimeProvider::default();
        let mut builder = match nameserver {
            Some(address) => {
                let mut server = NameServerConfig::udp_and_tcp(address.ip());
                for connection in &mut server.connections {
                    connection.port = address.port();
                }
                let config = ResolverConfig::from_parts(None, Vec::new(), vec![server]);
                let mut builder = TokioResolver::builder_with_config(config, provider);
                // Only that nameserver answers: not /etc/hosts either.
                builder.options_mut().use_hosts_file = ResolveHosts::Never;
                builder
            }
            None => TokioResolver::builder(provider).map_err(|e| {
                ConfigError::new(format!("cannot read the system's DNS set-up: {e}"))
            })?,
        };
        let options: &mut ResolverOpts = builder.options_mut();
        options.timeout = Duration::from_secs(3);
        options.attempts = 2;
        let resolver = builder
            .build()
            .map_err(|e| ConfigError::new(format!("cannot set up the DNS resolver: {e}")))?;
        Ok(Discovery {
            query: format!("_idmef._tcp.{domain}."),
            domain,
            resolver,
            cache: Mutex::new(None),
            down: Mutex::new(HashMap::new()),
        })
    }

    /// The domain looked up.
    pub(crate) fn domain(&self) -> &str {
        &self.domain
    }

    /// The targets to try for one send, in order.
    pub(crate) async fn targets(&self) -> Result<Vec<SrvTarget>, SendError> {
        let cached = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache
                .as_ref()
                .filter(|c| c.until > Instant::now())
                .map(|c| c.targets.clone())
        };
        let targets = match cached {
            Some(targets) => targets,
            None => {
                let (targets, until) = self.look_up().await?;
                *self.cache.lock().unwrap_or_else(|e| e.into_inner()) = Some(Cached {
                    targets: targets.clone(),
                    until,
                });
                targets
            }
        };
        let ordered = order_targets(targets, super::random_below);
        // Targets that failed lately go last, in their order.
        let now = Instant::now();
        let mut down = self.down.lock().unwrap_or_else(|e| e.into_inner());
        down.retain(|_, until| *until > now);
        let (up, failed): (Vec<SrvTarget>, Vec<SrvTarget>) = ordered
            .into_iter()
            .partition(|t| !down.contains_key(&(t.host.clone(), t.port)));
        Ok(up.into_iter().chain(failed).collect())
    }

    /// Notes that `target` could not be reached.
    pub(crate) fn mark_down(&self, target: &SrvTarget) {
        self.down.lock().unwrap_or_else(|e| e.into_inner()).insert(
            (target.host.clone(), target.port),
            Instant::now() + DOWN_FOR,
        );
    }

    /// Asks DNS for the SRV records.
    async fn look_up(&self) -> Result<(Vec<SrvTarget>, Instant), SendError> {
        let failed = |reason: String| SendError::Discovery {
            domain: self.domain.clone(),
            reason,
        };
        let lookup = self
            .resolver
            .srv_lookup(self.query.as_str())
            .await
            .map_err(|e| {
                if e.is_no_records_found() {
                    failed(format!("no SRV record for {}", self.query))
                } else {
                    failed(format!("looking up {}: {e}", self.query))
                }
            })?;
        let mut ttl = MAX_TTL;
        let mut targets = Vec::new();
        for record in lookup.answers() {
            if let RData::SRV(srv) = &record.data {
                ttl = ttl.min(Duration::from_secs(u64::from(record.ttl)));
                let host = srv.target.to_ascii();
                targets.push(SrvTarget {
                    priority: srv.priority,
                    weight: srv.weight,
                    port: srv.port,
                    host: host.trim_end_matches('.').to_ascii_lowercase(),
                });
            }
        }
        if targets.is_empty() {
            return Err(failed(format!("no SRV record for {}", self.query)));
        }
        // A lone target "." says the domain offers no such service.
        if targets.len() == 1 && targets[0].host.is_empty() {
            return Err(failed(format!(
                "{} says the domain offers no IDMEFv2 receiver (target \".\")",
                self.query
            )));
        }
        targets.retain(|t| !t.host.is_empty());
        Ok((targets, Instant::now() + ttl.max(MIN_TTL)))
    }

    /// The addresses of a target host, by the same resolver.
    pub(crate) fn resolver(&self) -> &TokioResolver {
        &self.resolver
    }
}

/// Resolves host names for the HTTP connector: the system's resolver for
/// clients with a URL, the discovery's for clients that discover.
#[derive(Clone)]
pub(crate) enum HostResolver {
    /// getaddrinfo, on a blocking thread.
    System(hyper_util::client::legacy::connect::dns::GaiResolver),
    /// The discovery's DNS resolver.
    Dns(Arc<Discovery>),
}

type Addresses = std::vec::IntoIter<SocketAddr>;
type Resolving = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = Result<Addresses, Box<dyn std::error::Error + Send + Sync>>,
            > + Send,
    >,
>;

impl tower_service::Service<hyper_util::client::legacy::connect::dns::Name> for HostResolver {
    type Response = Addresses;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    type Future = Resolving;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        match self {
            HostResolver::System(gai) => gai.poll_ready(cx).map_err(Into::into),
            HostResolver::Dns(_) => std::task::Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, name: hyper_util::client::legacy::connect::dns::Name) -> Self::Future {
        match self {
            HostResolver::System(gai) => {
                let resolving = gai.call(name);
                Box::pin(async move {
                    let addresses: Vec<SocketAddr> = resolving.await?.collect();
                    Ok(addresses.into_iter())
                })
            }
            HostResolver::Dns(discovery) => {
                let discovery = discovery.clone();
                Box::pin(async move {
                    let host = format!("{}.", name.as_str().trim_end_matches('.'));
                    let found = discovery.resolver().lookup_ip(host.as_str()).await?;
                    let addresses: Vec<SocketAddr> =
                        found.iter().map(|ip| SocketAddr::new(ip, 0)).collect();
                    Ok(addresses.into_iter())
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(priority: u16, weight: u16, host: &str) -> SrvTarget {
        SrvTarget {
            priority,
            weight,
            port: 4690,
            host: host.into(),
        }
    }

    #[test]
    fn priorities_come_first_and_weights_share_the_first_place() {
        let targets = vec![
            target(20, 0, "backup"),
            target(10, 60, "big"),
            target(10, 20, "small"),
            target(10, 0, "zero"),
        ];
        // With draws of 0, the weight-0 target of priority 10 comes first,
        // then the others by their order after it.
        let always_zero = order_targets(targets.clone(), |_| 0);
        let hosts: Vec<&str> = always_zero.iter().map(|t| t.host.as_str()).collect();
        assert_eq!(hosts, ["zero", "big", "small", "backup"]);
        // The highest draw picks the last of the running sums.
        let always_top = order_targets(targets.clone(), |n| n - 1);
        let hosts: Vec<&str> = always_top.iter().map(|t| t.host.as_str()).collect();
        assert_eq!(hosts, ["small", "big", "zero", "backup"]);

        // Over many draws, "big" comes first about three times as often
        // as "small", and "zero" almost never (a draw of exactly 0).
        let mut first: HashMap<String, u32> = HashMap::new();
        for _ in 0..8000 {
            let ordered = order_targets(targets.clone(), crate::http::random_below);
            assert_eq!(ordered[3].host, "backup");
            *first.entry(ordered[0].host.clone()).or_default() += 1;
        }
        let big = f64::from(first["big"]);
        let small = f64::from(first["small"]);
        assert!((2.4..3.8).contains(&(big / small)), "{first:?}");
        assert!(first.get("zero").copied().unwrap_or(0) < 400, "{first:?}");
    }

    #[test]
    fn domains_are_checked() {
        assert_eq!(check_domain("Example.NET.").unwrap(), "example.net");
        assert!(check_domain("").is_err());
        assert!(check_domain("a..b").is_err());
        assert!(check_domain("exa mple.net").is_err());
    }
}

//! The sending end: each message its own `POST` to a receiver, over TLS 1.3
//! with a client certificate, HTTP/2 when the receiver offers it by ALPN,
//! HTTP/1.1 with persistent connections otherwise.
//!
//! A [`Client`] is cheap to clone and meant to be shared: any number of
//! sends may be in flight at once (multiplexed on one HTTP/2 connection, or
//! spread over a pool of HTTP/1.1 connections).
//!
//! [`Client::send`] resolves `Ok` when the receiver answered 2xx, which by
//! the transport draft means it has kept the message. Otherwise the
//! [`SendError`] says what to do with the message:
//! [`is_permanent`](SendError::is_permanent) when the receiver judged and
//! refused it (sending it again unchanged cannot help), transient
//! otherwise (5xx, a lost connection, a timeout: send it again later,
//! after [`retry_after`](SendError::retry_after) when the receiver gave
//! one).
//!
//! ```no_run
//! use idmefv2::{http::client::Client, Analyzer, Message};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder("https://siem.example.org:4690/")
//!     .identity_pem(&std::fs::read("sensor.pem")?, &std::fs::read("sensor.key")?)
//!     .ca_pem(&std::fs::read("ca.pem")?)
//!     .build()?;
//! let message = Message::builder(Analyzer::builder("edge-ids")).build()?;
//! match client.send(&message).await {
//!     Ok(()) => {}
//!     Err(e) if e.is_permanent() => eprintln!("refused, not sending again: {e}"),
//!     Err(e) => eprintln!("not delivered, keep it for later: {e}"),
//! }
//! # Ok(()) }
//! ```

use std::{fmt, net::SocketAddr, sync::Arc, time::Duration};

use bytes::Bytes;
use http::{header, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client as HyperClient},
    rt::{TokioExecutor, TokioTimer},
};

use super::{
    discovery::{Discovery, HostResolver},
    tls::{self, ConfigError, Pin, ServerVerifier},
};
use crate::{
    outbox::{Deliver, DeliverError, DeliverErrorKind},
    Message, Violation,
};

/// How long a discovering client tries to connect to one target.
const CONNECT_TIMEOUT_PER_TARGET: Duration = Duration::from_secs(5);

/// The most of a refusal body read and kept.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Which HTTP versions the client offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Versions {
    Both,
    Http1,
    Http2,
}

/// Where the receiver is: a URL, or a domain whose SRV records say.
#[derive(Clone, Debug)]
enum Endpoint {
    Url(String),
    Domain(String),
}

/// Sets up a [`Client`]: the receiver's URL (or domain), the client's
/// identity, and what to trust the receiver by.
#[derive(Clone)]
pub struct ClientBuilder {
    endpoint: Endpoint,
    dns_server: Option<SocketAddr>,
    identity: Option<(Vec<u8>, Vec<u8>)>,
    ca: Vec<u8>,
    pins: Vec<Pin>,
    timeout: Duration,
    versions: Versions,
    plaintext: bool,
    authorization: Option<http::HeaderValue>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("endpoint", &self.endpoint)
            .field("identity", &self.identity.is_some())
            .field("pins", &self.pins)
            .field("timeout", &self.timeout)
            .field("plaintext", &self.plaintext)
            .field("authorization", &self.authorization.is_some())
            .finish()
    }
}

impl ClientBuilder {
    /// Allows `http://` URLs: messages then travel with no TLS at all,
    /// readable and changeable by anyone on the way, and the receiver is
    /// not authenticated. For receivers that speak nothing else, on a
    /// network one trusts; `https://` URLs are still sent over TLS.
    #[must_use]
    pub fn insecure_plaintext(mut self) -> Self {
        self.plaintext = true;
        self
    }

    /// Sends HTTP Basic credentials (`Authorization: Basic …`) with every
    /// request, for receivers that authenticate senders by user name and
    /// password rather than by client certificate.
    #[must_use]
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        let token = base64(format!("{user}:{password}").as_bytes());
        let mut value = http::HeaderValue::from_str(&format!("Basic {token}"))
            .expect("base64 is a valid header value");
        value.set_sensitive(true);
        self.authorization = Some(value);
        self
    }

    /// The client's certificate chain (leaf first) and private key, as PEM
    /// text: what mutual TLS presents to the receiver.
    #[must_use]
    pub fn identity_pem(mut self, certificate_pem: &[u8], key_pem: &[u8]) -> Self {
        self.identity = Some((certificate_pem.to_vec(), key_pem.to_vec()));
        self
    }

    /// Trusts receivers whose certificate chains to a CA in this PEM
    /// bundle and names the URL's host in a DNS-ID (or IP address entry).
    /// May be given several times.
    #[must_use]
    pub fn ca_pem(mut self, pem: &[u8]) -> Self {
        self.ca.extend_from_slice(pem);
        self.ca.push(b'\n');
        self
    }

    /// Trusts only a receiver presenting exactly this certificate (its
    /// SHA-256 fingerprint); may be given several times. With a CA too,
    /// the certificate must also chain to it; without one, the pin is the
    /// whole trust (the certificate must still name the URL's host).
    #[must_use]
    pub fn pin(mut self, pin: Pin) -> Self {
        self.pins.push(pin);
        self
    }

    /// How long one send may take, connecting included (default 30 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The nameserver that answers the SRV query and the target hosts'
    /// addresses, for a client made by [`Client::discover`] (by default
    /// the system's, from `/etc/resolv.conf`). With it, `/etc/hosts` is not
    /// read either: that server alone answers.
    #[must_use]
    pub fn dns_server(mut self, address: SocketAddr) -> Self {
        self.dns_server = Some(address);
        self
    }

    /// Offers HTTP/1.1 only (by default HTTP/2 is offered too and used
    /// when the receiver picks it).
    #[must_use]
    pub fn http1_only(mut self) -> Self {
        self.versions = Versions::Http1;
        self
    }

    /// Offers HTTP/2 only; a receiver without it fails the handshake.
    #[must_use]
    pub fn http2_only(mut self) -> Self {
        self.versions = Versions::Http2;
        self
    }

    /// The client, once the URL (or domain) and the TLS set-up check out.
    /// A discovering client looks its domain up at its first send, not
    /// here.
    pub fn build(self) -> Result<Client, ConfigError> {
        let (target, resolver, srv_id) = match &self.endpoint {
            Endpoint::Url(url) => {
                if self.dns_server.is_some() {
                    return Err(ConfigError::new(
                        "a DNS server is for a client that discovers its receiver by domain",
                    ));
                }
                let uri: Uri = url
                    .parse()
                    .map_err(|e| ConfigError::new(format!("URL {url:?}: {e}")))?;
                match uri.scheme_str() {
                    Some("https") => {}
                    Some("http") if self.plaintext => {}
                    Some("http") => {
                        return Err(ConfigError::new(format!(
                            "URL {url:?}: IDMEFv2 is sent over https; an http:// receiver \
                             needs plaintext allowed explicitly (insecure_plaintext)"
                        )))
                    }
                    _ => {
                        return Err(ConfigError::new(format!(
                            "URL {url:?}: IDMEFv2 is sent over https only"
                        )))
                    }
                }
                if uri.host().is_none_or(str::is_empty) {
                    return Err(ConfigError::new(format!("URL {url:?}: no host")));
                }
                let resolver = HostResolver::System(
                    hyper_util::client::legacy::connect::dns::GaiResolver::new(),
                );
                (Target::Url(uri), resolver, None)
            }
            Endpoint::Domain(domain) => {
                let discovery = Arc::new(Discovery::new(domain, self.dns_server)?);
                let srv_id = format!("_idmef.{}", discovery.domain());
                (
                    Target::Srv(discovery.clone()),
                    HostResolver::Dns(discovery),
                    Some(srv_id),
                )
            }
        };
        let roots = if self.ca.is_empty() {
            None
        } else {
            Some(tls::roots(&self.ca, "CA")?)
        };
        let identity = match &self.identity {
            Some((certificate, key)) => Some((
                tls::certificates(certificate, "client certificate")?,
                tls::private_key(key)?,
            )),
            None => None,
        };
        let plain_url = matches!(&target, Target::Url(uri) if uri.scheme_str() == Some("http"));
        let config = if plain_url && roots.is_none() && self.pins.is_empty() {
            // No TLS will be spoken: a set-up that trusts nothing.
            rustls::ClientConfig::builder_with_provider(tls::provider())
                .with_protocol_versions(&[&rustls::version::TLS13])
                .map_err(|e| ConfigError::new(format!("TLS versions: {e}")))?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
        } else {
            tls::client_config(
                identity,
                ServerVerifier::new(roots, self.pins.clone())?.srv_id(srv_id),
            )?
        };

        let mut http = HttpConnector::new_with_resolver(resolver);
        http.enforce_http(false);
        http.set_nodelay(true);
        // A discovering client moves on from a target it cannot reach:
        // give up connecting well before the whole send's deadline.
        let connect_timeout = match self.endpoint {
            Endpoint::Url(_) => self.timeout,
            Endpoint::Domain(_) => self.timeout.min(CONNECT_TIMEOUT_PER_TARGET),
        };
        http.set_connect_timeout(Some(connect_timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config);
        let https = if self.plaintext {
            https.https_or_http()
        } else {
            https.https_only()
        };
        let connector = match self.versions {
            Versions::Both => https.enable_http1().enable_http2().wrap_connector(http),
            Versions::Http1 => https.enable_http1().wrap_connector(http),
            Versions::Http2 => https.enable_http2().wrap_connector(http),
        };
        let alert = Arc::new(std::sync::Mutex::new(None));
        let connector = AlertWatch {
            inner: connector,
            alert: alert.clone(),
        };
        let mut builder = HyperClient::builder(TokioExecutor::new());
        builder
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .http2_only(self.versions == Versions::Http2);
        Ok(Client {
            inner: Arc::new(Inner {
                target,
                http: builder.build(connector),
                timeout: self.timeout,
                authorization: self.authorization,
                alert,
            }),
        })
    }

    /// A [`blocking::Client`] with this set-up.
    pub fn build_blocking(self) -> Result<blocking::Client, ConfigError> {
        blocking::Client::new(self.build()?)
    }
}

/// Where requests go.
enum Target {
    Url(Uri),
    Srv(Arc<Discovery>),
}

struct Inner {
    target: Target,
    http: HyperClient<AlertWatch<HttpsConnector<HttpConnector<HostResolver>>>, Full<Bytes>>,
    timeout: Duration,
    authorization: Option<http::HeaderValue>,
    /// The last TLS failure seen on a connection after its handshake (the
    /// receiver's alert refusing our certificate arrives then, in TLS 1.3),
    /// in words.
    alert: Arc<std::sync::Mutex<Option<String>>>,
}

/// Sends IDMEFv2 messages to one receiver. Clones share connections.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Client");
        match &self.inner.target {
            Target::Url(uri) => debug.field("url", uri),
            Target::Srv(discovery) => debug.field("domain", &discovery.domain()),
        };
        debug.finish()
    }
}

impl Client {
    /// Starts setting up a client for the receiver at `url` (`https://`
    /// only).
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        Client::with_endpoint(Endpoint::Url(url.into()))
    }

    /// Starts setting up a client for the receivers that `domain`
    /// publishes in DNS (`_idmef._tcp.DOMAIN` SRV records), at path `/`;
    /// see [`discovery`](super::discovery) for the order in which they are
    /// tried and the name their certificates must carry.
    pub fn discover(domain: impl Into<String>) -> ClientBuilder {
        Client::with_endpoint(Endpoint::Domain(domain.into()))
    }

    fn with_endpoint(endpoint: Endpoint) -> ClientBuilder {
        ClientBuilder {
            endpoint,
            dns_server: None,
            identity: None,
            ca: Vec::new(),
            pins: Vec::new(),
            timeout: Duration::from_secs(30),
            versions: Versions::Both,
            plaintext: false,
            authorization: None,
        }
    }

    /// Sends one message as `application/json`.
    pub async fn send(&self, message: &Message) -> Result<(), SendError> {
        self.send_bytes(message.to_vec(), "application/json").await
    }

    /// Sends one encoded message as it is, with `content_type`: for
    /// messages of any draft (older senders' `2.D.V04`, say) or of another
    /// codec. Nothing is checked here; the receiver judges.
    ///
    /// A discovering client tries the domain's targets in turn while it
    /// cannot connect; the error is then the last target's.
    pub async fn send_bytes(
        &self,
        body: impl Into<Bytes>,
        content_type: &str,
    ) -> Result<(), SendError> {
        let body = body.into();
        let discovery = match &self.inner.target {
            Target::Url(uri) => return self.exchange(uri.clone(), body, content_type).await,
            Target::Srv(discovery) => discovery,
        };
        let mut last = None;
        for target in discovery.targets().await? {
            let uri: Uri = match format!("https://{}:{}/", target.host, target.port).parse() {
                Ok(uri) => uri,
                Err(e) => {
                    last = Some(SendError::Discovery {
                        domain: discovery.domain().to_string(),
                        reason: format!("target {target} is not a usable host name: {e}"),
                    });
                    continue;
                }
            };
            match self.exchange(uri, body.clone(), content_type).await {
                Err(e @ SendError::Connection { .. }) => {
                    discovery.mark_down(&target);
                    last = Some(e);
                }
                outcome => return outcome,
            }
        }
        Err(last.unwrap_or_else(|| SendError::Discovery {
            domain: discovery.domain().to_string(),
            reason: "no target to try".into(),
        }))
    }

    /// One request to `uri`.
    async fn exchange(&self, uri: Uri, body: Bytes, content_type: &str) -> Result<(), SendError> {
        let mut request = http::Request::post(uri)
            .header(header::CONTENT_TYPE, content_type)
            .header(header::ACCEPT, "application/json");
        if let Some(authorization) = &self.inner.authorization {
            request = request.header(header::AUTHORIZATION, authorization.clone());
        }
        let request = request
            .body(Full::new(body))
            .map_err(|e| SendError::Connection {
                reason: format!("cannot make the request: {e}"),
            })?;
        let exchange = async {
            let response = match self.inner.http.request(request).await {
                Ok(response) => response,
                Err(e) => {
                    let error = from_hyper(e);
                    // A connection lost after the receiver sent a TLS alert
                    // is that alert's doing (a refused client certificate).
                    // Every send lost with that connection is; the note
                    // stays until a send succeeds.
                    let alert = self
                        .inner
                        .alert
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .clone();
                    return Err(match (error, alert) {
                        (SendError::Connection { .. }, Some(reason)) => SendError::Tls { reason },
                        (error, _) => error,
                    });
                }
            };
            let status = response.status();
            let retry_after = response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            Ok::<_, SendError>((status, retry_after, body))
        };
        let (status, retry_after, body) =
            match tokio::time::timeout(self.inner.timeout, exchange).await {
                Ok(answer) => answer?,
                Err(_) => {
                    return Err(SendError::Timeout {
                        after: self.inner.timeout,
                    })
                }
            };
        if status.is_success() {
            // The receiver took our TLS session: an earlier alert is over.
            let mut alert = self.inner.alert.lock().unwrap_or_else(|e| e.into_inner());
            if alert.is_some() {
                *alert = None;
            }
        }
        judge(status, retry_after, &body)
    }
}

/// The outcome of a send from the receiver's answer.
fn judge(status: StatusCode, retry_after: Option<Duration>, body: &[u8]) -> Result<(), SendError> {
    let code = status.as_u16();
    let text = || summary(body);
    if status.is_success() {
        Ok(())
    } else if code == 408 || code == 429 || status.is_server_error() {
        Err(SendError::Unavailable {
            status: code,
            retry_after,
            body: text(),
        })
    } else if status.is_client_error() {
        Err(SendError::Refused {
            status: code,
            violations: super::parse_violations(body).unwrap_or_default(),
            body: text(),
        })
    } else {
        Err(SendError::UnexpectedStatus {
            status: code,
            body: text(),
        })
    }
}

/// The most characters of a receiver's answer kept in a [`SendError`].
pub const MAX_SUMMARY_CHARS: usize = 200;

/// A receiver's answer in one line: the `<title>` of an HTML page, the
/// first non-empty line of anything else, with runs of white space made
/// one space and cut at [`MAX_SUMMARY_CHARS`].
fn summary(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    let title = lower.find("<title").and_then(|start| {
        let open = start + lower[start..].find('>')? + 1;
        let close = open + lower[open..].find("</title")?;
        Some(&text[open..close])
    });
    let line = title.unwrap_or_else(|| {
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or_default()
    });
    let mut out = String::new();
    for (i, word) in line.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.chars().count() > MAX_SUMMARY_CHARS {
        out = out.chars().take(MAX_SUMMARY_CHARS).collect();
        out.push('…');
    }
    out
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Sorts a failed exchange into TLS and connection failures.
fn from_hyper(error: hyper_util::client::legacy::Error) -> SendError {
    let mut reasons: Vec<String> = Vec::new();
    let connecting = error.is_connect();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = source {
        if let Some(reason) = tls::explain(e) {
            return SendError::Tls {
                reason: about_alert(e, reason),
            };
        }
        if connecting
            && e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::UnexpectedEof)
        {
            return SendError::Tls {
                reason: "the receiver closed the connection during the TLS handshake \
                         (it may have refused our client certificate, or sent none)"
                    .to_string(),
            };
        }
        let text = e.to_string();
        if !reasons.iter().any(|r| r.contains(&text)) {
            reasons.push(text);
        }
        source = e.source();
    }
    let reason = reasons.join(": ");
    // A layer that kept only the words of the TLS error (h2 does).
    if let Some((_, after)) = reason.split_once("received fatal alert: ") {
        let alert = after.split(|c: char| !c.is_ascii_alphanumeric()).next();
        let meaning = if alert.is_some_and(refuses_certificate) {
            OUR_CERTIFICATE_REFUSED
        } else {
            "the receiver ended the TLS session"
        };
        return SendError::Tls {
            reason: format!("{reason}: {meaning}"),
        };
    }
    SendError::Connection { reason }
}

/// `reason` (a TLS failure in words), with what it likely means when the
/// failure is an alert by which the receiver refused our certificate.
fn about_alert(error: &(dyn std::error::Error + 'static), reason: String) -> String {
    let alert = error.downcast_ref::<rustls::Error>().or_else(|| {
        error
            .downcast_ref::<std::io::Error>()
            .and_then(|e| e.get_ref())
            .and_then(|e| e.downcast_ref::<rustls::Error>())
    });
    match alert {
        Some(rustls::Error::AlertReceived(alert)) if refuses_certificate(&format!("{alert:?}")) => {
            format!("{reason}: {OUR_CERTIFICATE_REFUSED}")
        }
        _ => reason,
    }
}

/// What the alerts of [`refuses_certificate`] tell a sender.
const OUR_CERTIFICATE_REFUSED: &str =
    "the receiver refused our client certificate (or we sent none)";

/// Whether a TLS alert (by its name) is a receiver's refusal of the
/// client's certificate.
fn refuses_certificate(alert: &str) -> bool {
    [
        "BadCertificate",
        "UnsupportedCertificate",
        "CertificateRevoked",
        "CertificateExpired",
        "CertificateUnknown",
        "UnknownCA",
        "CertificateRequired",
        "AccessDenied",
    ]
    .contains(&alert)
}

/// Watches the connections a client makes for TLS failures after the
/// handshake (in TLS 1.3 the receiver judges our certificate once the
/// client has finished its part, and says so by an alert on the first
/// read), so that a send lost to one is told as a TLS failure.
#[derive(Clone)]
struct AlertWatch<C> {
    inner: C,
    alert: Arc<std::sync::Mutex<Option<String>>>,
}

impl<C> tower_service::Service<Uri> for AlertWatch<C>
where
    C: tower_service::Service<Uri>,
    C::Future: Send + 'static,
{
    type Response = Watched<C::Response>;
    type Error = C::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let alert = self.alert.clone();
        Box::pin(async move {
            Ok(Watched {
                inner: connecting.await?,
                alert,
                failed_write: None,
            })
        })
    }
}

/// A connection whose TLS failures are noted; see [`AlertWatch`].
struct Watched<S> {
    inner: S,
    alert: Arc<std::sync::Mutex<Option<String>>>,
    /// A write failure held back while the connection is read to its end.
    failed_write: Option<std::io::Error>,
}

impl<S> Watched<S> {
    /// Notes a TLS failure; whether it was one.
    fn note_error(&self, error: &std::io::Error) -> bool {
        match tls::explain(error) {
            Some(reason) => {
                let reason = about_alert(error, reason);
                *self.alert.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
                true
            }
            None => false,
        }
    }
}

impl<S: hyper::rt::Read + Unpin> Watched<S> {
    /// A write's outcome, once what the receiver sent before it closed has
    /// been read: a failed write is held back (`Pending`) until a read of
    /// the connection ends, since a receiver refusing our certificate
    /// sends its alert and closes while our request is on its way, and the
    /// alert waits there to be read and noted.
    fn after_write<T>(
        &mut self,
        cx: &mut std::task::Context<'_>,
        outcome: std::task::Poll<std::io::Result<T>>,
    ) -> std::task::Poll<std::io::Result<T>> {
        match outcome {
            std::task::Poll::Ready(Err(e)) if !self.note_error(&e) => {
                self.failed_write = Some(e);
                self.drain(cx)
            }
            other => other,
        }
    }

    /// Reads until the connection ends (at most a few reads), then gives
    /// the held write failure.
    fn drain<T>(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<T>> {
        use std::task::Poll;
        let mut scratch = [std::mem::MaybeUninit::<u8>::uninit(); 1024];
        for _ in 0..64 {
            let mut buffer = hyper::rt::ReadBuf::uninit(&mut scratch);
            match std::pin::Pin::new(&mut self.inner).poll_read(cx, buffer.unfilled()) {
                Poll::Ready(Ok(())) if !buffer.filled().is_empty() => continue,
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => {
                    self.note_error(&e);
                    break;
                }
                Poll::Ready(Ok(())) => break,
            }
        }
        Poll::Ready(Err(self
            .failed_write
            .take()
            .unwrap_or_else(|| std::io::ErrorKind::BrokenPipe.into())))
    }
}

impl<S: hyper::rt::Read + Unpin> hyper::rt::Read for Watched<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let outcome = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if let std::task::Poll::Ready(Err(e)) = &outcome {
            self.note_error(e);
        }
        outcome
    }
}

impl<S: hyper::rt::Write + hyper::rt::Read + Unpin> hyper::rt::Write for Watched<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.failed_write.is_some() {
            return self.drain(cx);
        }
        let outcome = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        self.after_write(cx, outcome)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.failed_write.is_some() {
            return self.drain(cx);
        }
        let outcome = std::pin::Pin::new(&mut self.inner).poll_flush(cx);
        self.after_write(cx, outcome)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.failed_write.is_some() {
            return self.drain(cx);
        }
        let outcome = std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.after_write(cx, outcome)
    }
}

impl<S: hyper_util::client::legacy::connect::Connection>
    hyper_util::client::legacy::connect::Connection for Watched<S>
{
    fn connected(&self) -> hyper_util::client::legacy::connect::Connected {
        self.inner.connected()
    }
}

/// Standard base64 (RFC 4648, with padding), for Basic credentials.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Why a message was not delivered.
///
/// [`Refused`](SendError::Refused) is permanent: the receiver judged the
/// message and will refuse it again. Every other variant is transient: the
/// message was not judged and may be sent again later.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// A 4xx answer (other than 408 and 429): the receiver refused the
    /// message itself or how it was sent (400 invalid, 413 too large, 415
    /// media type, …).
    Refused {
        /// The status code.
        status: u16,
        /// The receiver's violations, when its body lists them; empty
        /// otherwise.
        violations: Vec<Violation>,
        /// The body in one line (see [`MAX_SUMMARY_CHARS`]), for receivers
        /// that explain themselves otherwise.
        body: String,
    },
    /// A 5xx answer, or 408 (timeout) or 429 (too many requests): the
    /// receiver could not deal with the message now.
    Unavailable {
        /// The status code.
        status: u16,
        /// How long the receiver asked to wait (`Retry-After`).
        retry_after: Option<Duration>,
        /// The body in one line (see [`MAX_SUMMARY_CHARS`]).
        body: String,
    },
    /// A status that is neither success nor error (1xx, 3xx): the
    /// receiver is not an IDMEFv2 endpoint as configured.
    UnexpectedStatus {
        /// The status code.
        status: u16,
        /// The body in one line (see [`MAX_SUMMARY_CHARS`]).
        body: String,
    },
    /// TLS failed: one side refused the other's certificate, or the
    /// receiver does not speak TLS 1.3.
    Tls {
        /// What failed, from the TLS library.
        reason: String,
    },
    /// The connection could not be made or was lost.
    Connection {
        /// What failed.
        reason: String,
    },
    /// No answer within the client's timeout.
    Timeout {
        /// The timeout in force.
        after: Duration,
    },
    /// A discovering client found no receiver to try: no SRV record, a
    /// failed DNS lookup, or a domain that says it has none.
    Discovery {
        /// The domain looked up.
        domain: String,
        /// What went wrong.
        reason: String,
    },
}

impl SendError {
    /// Whether the receiver refused the message for good: do not send it
    /// again unchanged.
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Refused { .. })
    }

    /// How long the receiver asked to wait before sending again.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SendError::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The receiver's status code, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            SendError::Refused { status, .. }
            | SendError::Unavailable { status, .. }
            | SendError::UnexpectedStatus { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The receiver's violations (a 400 from a receiver that lists them).
    pub fn violations(&self) -> &[Violation] {
        match self {
            SendError::Refused { violations, .. } => violations,
            _ => &[],
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let answered = |f: &mut fmt::Formatter<'_>, what: &str, status: u16, body: &str| {
            write!(f, "{what} (HTTP {status})")?;
            if !body.is_empty() {
                write!(f, ": {body}")?;
            }
            Ok(())
        };
        match self {
            SendError::Refused {
                status,
                violations,
                body,
            } => {
                if violations.is_empty() {
                    answered(f, "refused", *status, body)
                } else {
                    write!(f, "refused (HTTP {status}): ")?;
                    for (i, v) in violations.iter().enumerate() {
                        if i > 0 {
                            f.write_str("; ")?;
                        }
                        write!(f, "{v}")?;
                    }
                    Ok(())
                }
            }
            SendError::Unavailable {
                status,
                retry_after,
                body,
            } => {
                answered(f, "receiver unavailable", *status, body)?;
                if let Some(after) = retry_after {
                    write!(f, " (retry after {} s)", after.as_secs())?;
                }
                Ok(())
            }
            SendError::UnexpectedStatus { status, body } => {
                answered(f, "unexpected answer", *status, body)
            }
            SendError::Tls { reason } => write!(f, "TLS failed: {reason}"),
            SendError::Connection { reason } => write!(f, "connection failed: {reason}"),
            SendError::Timeout { after } => {
                write!(f, "no answer within {} s", after.as_secs_f64())
            }
            SendError::Discovery { domain, reason } => {
                write!(f, "no receiver found for {domain}: {reason}")
            }
        }
    }
}

impl std::error::Error for SendError {}

impl SendError {
    /// What a delivery engine does after this failure: a 4xx refusal is
    /// [`Refused`](DeliverErrorKind::Refused); a 500 (the receiver failed
    /// on this message) [`Failed`](DeliverErrorKind::Failed); a TLS failure
    /// [`Fatal`](DeliverErrorKind::Fatal); anything else (502, 503, 504,
    /// 408, 429, other statuses, no connection, a timeout, no receiver
    /// found) [`Unavailable`](DeliverErrorKind::Unavailable).
    pub fn kind(&self) -> DeliverErrorKind {
        match self {
            SendError::Refused { .. } => DeliverErrorKind::Refused,
            SendError::Unavailable { status: 500, .. } => DeliverErrorKind::Failed,
            SendError::Tls { .. } => DeliverErrorKind::Fatal,
            _ => DeliverErrorKind::Unavailable,
        }
    }
}

impl From<SendError> for DeliverError {
    fn from(error: SendError) -> Self {
        let kind = error.kind();
        let status = error.status();
        let retry_after = error.retry_after();
        let violations = error.violations().to_vec();
        let mut converted = DeliverError::new(kind, error)
            .with_retry_after(retry_after)
            .with_violations(violations);
        if let Some(status) = status {
            converted = converted.with_status(status);
        }
        converted
    }
}

/// The HTTPS client as a transport of the [`outbox`](crate::outbox): each
/// message one `POST`, judged as [`SendError::kind`] says.
impl Deliver for Client {
    async fn deliver(&self, body: &[u8], content_type: &str) -> Result<(), DeliverError> {
        self.send_bytes(Bytes::copy_from_slice(body), content_type)
            .await
            .map_err(DeliverError::from)
    }
}

/// A client for code that is not async: each call blocks until the
/// receiver answers.
pub mod blocking {
    use super::{Bytes, ConfigError, Message, SendError};

    /// The blocking face of [`super::Client`], with a runtime of its own
    /// (one worker thread, which keeps connections alive between calls).
    ///
    /// ```no_run
    /// use idmefv2::{http::client::Client, Analyzer, Message};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = Client::builder("https://siem.example.org:4690/")
    ///     .identity_pem(&std::fs::read("sensor.pem")?, &std::fs::read("sensor.key")?)
    ///     .ca_pem(&std::fs::read("ca.pem")?)
    ///     .build_blocking()?;
    /// client.send(&Message::builder(Analyzer::builder("edge-ids")).build()?)?;
    /// # Ok(()) }
    /// ```
    #[derive(Debug)]
    pub struct Client {
        runtime: tokio::runtime::Runtime,
        inner: super::Client,
    }

    impl Client {
        pub(super) fn new(inner: super::Client) -> Result<Client, ConfigError> {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("idmefv2-client")
                .enable_all()
                .build()
                .map_err(|e| ConfigError::new(format!("cannot start the client runtime: {e}")))?;
            Ok(Client { runtime, inner })
        }

        /// Sends one message as `application/json`; see
        /// [`super::Client::send`].
        pub fn send(&self, message: &Message) -> Result<(), SendError> {
            self.wait(self.inner.send(message))
        }

        /// Sends one encoded message as it is; see
        /// [`super::Client::send_bytes`].
        pub fn send_bytes(
            &self,
            body: impl Into<Bytes>,
            content_type: &str,
        ) -> Result<(), SendError> {
            let body = body.into();
            self.wait(self.inner.send_bytes(body, content_type))
        }

        /// Runs `future` on the client's runtime. Called from inside
        /// another runtime (where blocking its thread is not allowed), it
        /// waits on a thread of its own.
        fn wait<T: Send>(&self, future: impl std::future::Future<Output = T> + Send) -> T {
            if tokio::runtime::Handle::try_current().is_ok() {
                std::thread::scope(|scope| {
                    scope
                        .spawn(|| self.runtime.block_on(future))
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
            } else {
                self.runtime.block_on(future)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_sort_into_permanent_and_transient() {
        assert_eq!(judge(StatusCode::NO_CONTENT, None, b""), Ok(()));
        let body = br#"{"violations":[{"pointer":"/ID","reason":"not a UUID"}]}"#;
        let refused = judge(StatusCode::BAD_REQUEST, None, body).unwrap_err();
        assert!(refused.is_permanent());
        assert_eq!(refused.violations()[0].pointer(), "/ID");
        assert_eq!(refused.to_string(), "refused (HTTP 400): /ID: not a UUID");
        let foreign = judge(StatusCode::BAD_REQUEST, None, b"bad alert").unwrap_err();
        assert_eq!(foreign.to_string(), "refused (HTTP 400): bad alert");
        let busy = judge(
            StatusCode::SERVICE_UNAVAILABLE,
            Some(Duration::from_secs(7)),
            b"",
        )
        .unwrap_err();
        assert!(!busy.is_permanent());
        assert_eq!(busy.retry_after(), Some(Duration::from_secs(7)));
        assert!(!judge(StatusCode::TOO_MANY_REQUESTS, None, b"")
            .unwrap_err()
            .is_permanent());
        assert!(!judge(StatusCode::FOUND, None, b"")
            .unwrap_err()
            .is_permanent());
    }

    #[test]
    fn a_receivers_answer_is_summed_up_in_one_bounded_line() {
        let page = b"<!DOCTYPE html>\n<html><head>\n<TITLE>500 Internal\n Server Error</TITLE>\n</head><body><h1>Oops</h1>\n<p>lines</p></body></html>\n";
        assert_eq!(summary(page), "500 Internal Server Error");
        assert_eq!(summary(b"\n\n  first line  \nsecond\n"), "first line");
        let long = "x".repeat(MAX_SUMMARY_CHARS + 50);
        let cut = summary(long.as_bytes());
        assert_eq!(cut.chars().count(), MAX_SUMMARY_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"a"), "YQ==");
    }

    #[test]
    fn answers_sort_into_the_kinds_the_outbox_acts_on() {
        use crate::outbox::DeliverErrorKind as K;
        let kind = |code: u16| {
            judge(StatusCode::from_u16(code).unwrap(), None, b"")
                .unwrap_err()
                .kind()
        };
        assert_eq!(kind(400), K::Refused);
        assert_eq!(kind(500), K::Failed);
        for code in [502, 503, 504, 408, 429] {
            assert_eq!(kind(code), K::Unavailable, "{code}");
        }
        let tls = SendError::Tls { reason: "x".into() };
        assert_eq!(DeliverError::from(tls).kind(), K::Fatal);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}

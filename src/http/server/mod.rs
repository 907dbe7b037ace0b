//! The receiving end: one IDMEFv2 message per `POST`, answered with a
//! status that acknowledges it only once it is kept.
//!
//! - [`Idmef`] is an axum extractor: in your own service, a handler taking
//!   `Idmef` gets a checked message, and every refusal is answered with the
//!   status the transport draft gives it (table below).
//! - A [`Sink`] keeps accepted messages; [`FileSink`] appends them to an
//!   NDJSON file and syncs it to disk before the acknowledgement, sharing
//!   one sync among the requests that arrive together.
//! - [`Server`] is the whole endpoint, built on the two: TLS 1.3 with
//!   client certificates required, HTTP/2 by ALPN or HTTP/1.1 with
//!   persistent connections and chunked bodies, one path, graceful
//!   shutdown.
//!
//! | request | answer |
//! |---|---|
//! | another path than the endpoint's | 404 |
//! | another method than `POST` | 405, `Allow: POST` |
//! | with [`Server::basic_auth`]: no client certificate, and credentials missing or wrong | 401, `WWW-Authenticate: Basic realm=…` |
//! | `Content-Type` missing or without a codec in [`crate::codec`] | 415, the supported types listed |
//! | `Accept` names none of `application/json`, `text/json` | 406, the alternatives listed |
//! | body over [`ReceiveOptions::max_bytes`] (by `Content-Length` or while reading) | 413 |
//! | body that does not decode or fails validation (after the repairs, with [`ReceiveOptions::repair`]), or fails the strict rules with [`ReceiveOptions::strict`] | 400, every violation (pointer and reason) |
//! | the sink could not keep the message | 503 with `Retry-After`, or 500 |
//! | kept | 204 |
//!
//! A message is accepted when it is valid under the draft its `Version`
//! names: `2.D.V02` to `2.D.V09-Dev`. The sink receives the body as it
//! came, or, with [`ReceiveOptions::upgrade`], a message of a draft older
//! than `2.D.V08` carried forward to `2.D.V08` (see [`crate::upgrade`]).
//!
//! ```no_run
//! use std::sync::Arc;
//! use idmefv2::http::{server::{FileSink, Server}, tls::ServerTls};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let tls = ServerTls::from_pem(
//!     &std::fs::read("server.pem")?,
//!     &std::fs::read("server.key")?,
//!     &std::fs::read("sensors-ca.pem")?,
//! )?;
//! let sink = Arc::new(FileSink::open("alerts.ndjson")?);
//! let listener = tokio::net::TcpListener::bind("[::]:4690").await?;
//! // Until SIGINT or SIGTERM; requests in flight are finished first.
//! Server::new(tls)?.run(listener, sink).await?;
//! # Ok(()) }
//! ```
//!
//! Embedding the extractor in an axum service of your own:
//!
//! ```
//! use axum::{routing::post, Router};
//! use idmefv2::http::server::{Idmef, ReceiveOptions};
//!
//! async fn alert(Idmef(received): Idmef) -> axum::http::StatusCode {
//!     // Keep `received.body` safely before answering 2xx.
//!     println!("{} bytes of {}", received.body.len(), received.version);
//!     axum::http::StatusCode::NO_CONTENT
//! }
//!
//! let app: Router = Router::new()
//!     .route("/", post(alert))
//!     .layer(axum::Extension(ReceiveOptions::default().max_bytes(256 * 1024)));
//! ```
//!
//! The module is in rooms: request judging (the extractor, its options
//! and its refusals) in `judge`, the server below; the sinks themselves
//! live in [`crate::sink`] and are re-exported here.

use std::{fmt, future::Future, io, net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    body::Body,
    extract::{FromRequest, Request, State},
    response::{IntoResponse, Response},
    Router,
};
use http::{header, HeaderValue, Method, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;

use super::tls::{ConfigError, PeerIdentity, ServerTls};
pub use crate::sink::{Dedup, FileSink, FileSinkStats, Received, Sink, SinkError};
use crate::{
    sink::{Kept, Peer},
    upgrade::UpgradeNote,
    Violation,
};
use bytes::Bytes;

mod basic;
mod judge;

pub use basic::{BasicAuth, VERIFIED_FOR};

use judge::json_response;
pub use judge::{Idmef, ReceiveOptions, Rejection};

/// What the accept loop knows about a connection, passed to each request. knows about a connection, passed to each request.
#[derive(Clone, Debug)]
struct Connection {
    remote: SocketAddr,
    peer: Option<Peer>,
}

/// One answered request, for logs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Outcome {
    /// The client's address.
    pub remote: SocketAddr,
    /// The client, from its certificate (`None` over plain HTTP).
    pub peer: Option<Peer>,
    /// The request method.
    pub method: String,
    /// The request path.
    pub path: String,
    /// The status answered.
    pub status: u16,
    /// Every violation the refusal listed (400 only; empty otherwise).
    pub violations: Vec<Violation>,
    /// What the upgrade and the repairs changed in an accepted message
    /// (see [`ReceiveOptions::upgrade`] and [`ReceiveOptions::repair`]).
    pub changes: Vec<UpgradeNote>,
    /// What the sink did with an accepted message; `None` for a refusal.
    pub kept: Option<Kept>,
    /// What went wrong on our side, for a 5xx (not sent to the client), or
    /// writing the refused body to the [`Server::rejects`] file.
    pub detail: Option<String>,
}

/// What the server reports to its observer.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Event {
    /// A request was answered.
    Request(Outcome),
    /// A connection was dropped before any request: the TLS handshake
    /// failed (no client certificate, an untrusted one, TLS 1.2 only, …)
    /// or timed out.
    Refused {
        /// The client's address.
        remote: SocketAddr,
        /// Why.
        reason: String,
    },
}

type Observer = Arc<dyn Fn(&Event) + Send + Sync>;

/// The endpoint's shared state.
struct Endpoint<S> {
    path: String,
    options: ReceiveOptions,
    sink: S,
    observer: Option<Observer>,
    rejects: Option<Arc<FileSink>>,
    basic: Option<BasicAuth>,
}

/// The handler behind every path: path and method first, then the
/// extractor, then the sink.
async fn endpoint<S: Sink>(
    State(endpoint): State<Arc<Endpoint<S>>>,
    mut request: Request,
) -> Response {
    let mut connection = request.extensions().get::<Connection>().cloned();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    request.extensions_mut().insert(endpoint.options.clone());
    let mut violations = Vec::new();
    let mut changes = Vec::new();
    let mut kept = None;
    let mut detail = None;
    let limit = endpoint.options.max_bytes_limit();
    let response = if path != endpoint.path {
        discard_body(request, limit).await;
        let body = serde_json::to_vec(&serde_json::json!({
            "error": "no IDMEFv2 endpoint at this path"
        }))
        .unwrap_or_default();
        json_response(StatusCode::NOT_FOUND, super::ANSWER_TYPES[0], body)
    } else if method != Method::POST {
        discard_body(request, limit).await;
        let body = serde_json::to_vec(&serde_json::json!({
            "error": "IDMEFv2 messages are sent with POST"
        }))
        .unwrap_or_default();
        let mut response =
            json_response(StatusCode::METHOD_NOT_ALLOWED, super::ANSWER_TYPES[0], body);
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        response
    } else if let Some(refusal) = authenticate(&endpoint, &mut request, &mut connection).await {
        discard_body(request, limit).await;
        refusal
    } else {
        match Idmef::from_request(request, &()).await {
            Err(rejection) => {
                if let (Some(rejects), Some(connection)) = (&endpoint.rejects, &connection) {
                    if let Some(line) = refused_line(connection, &rejection) {
                        if let Err(e) = rejects.append(line).await {
                            detail = Some(format!("refused body not kept: {e}"));
                        }
                    }
                }
                violations = rejection.violations().to_vec();
                rejection.into_response()
            }
            Ok(Idmef(received)) => {
                changes.clone_from(&received.upgrade_report);
                match endpoint.sink.keep_noted(received).await {
                    Ok(what) => {
                        kept = Some(what);
                        StatusCode::NO_CONTENT.into_response()
                    }
                    Err(e) => {
                        detail = Some(e.reason().to_string());
                        sink_error_response(&e)
                    }
                }
            }
        }
    };
    if let (Some(observer), Some(connection)) = (&endpoint.observer, connection) {
        observer(&Event::Request(Outcome {
            remote: connection.remote,
            peer: connection.peer,
            method: method.to_string(),
            path,
            status: response.status().as_u16(),
            violations,
            changes,
            kept,
            detail,
        }));
    }
    response
}

/// How long a body answered without being read may take to arrive.
const DISCARD_TIME: Duration = Duration::from_secs(5);

/// Reads and drops the body of a request that is answered without it (a
/// wrong path or method, missing credentials), up to `limit` bytes and for
/// at most [`DISCARD_TIME`]. Over HTTP/2 an answer that comes while the
/// client is still sending resets its stream, and the client may then
/// lose the answer itself (curl: "Stream error in the HTTP/2 framing
/// layer"): letting a body of a sensible size in first avoids that, as
/// nginx does when it discards a body. A larger or slower one is cut off.
async fn discard_body(request: Request, limit: usize) {
    use http_body_util::BodyExt;
    let mut body = request.into_body();
    let _ = tokio::time::timeout(DISCARD_TIME, async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            seen += frame.data_ref().map_or(0, |data| data.len());
            if seen > limit {
                break;
            }
        }
    })
    .await;
}

/// Under [`Server::basic_auth`], checks the credentials of a request
/// whose connection has no client certificate: the 401 to answer when
/// they are missing or wrong; otherwise `None`, the user name then being
/// the peer of the request and its connection.
async fn authenticate<S>(
    endpoint: &Endpoint<S>,
    request: &mut Request,
    connection: &mut Option<Connection>,
) -> Option<Response> {
    let basic = endpoint.basic.as_ref()?;
    let certified = connection
        .as_ref()
        .is_some_and(|c| matches!(c.peer, Some(Peer::Certificate { .. })));
    if certified {
        return None;
    }
    match basic
        .user(request.headers().get(header::AUTHORIZATION))
        .await
    {
        Some(name) => {
            if let Some(connection) = connection.as_mut() {
                connection.peer = Some(Peer::User(name));
                request.extensions_mut().insert(connection.clone());
            }
            None
        }
        None => {
            let body = serde_json::to_vec(&serde_json::json!({
                "error": "a client certificate or a user name and password (HTTP Basic) is required"
            }))
            .unwrap_or_default();
            let mut response =
                json_response(StatusCode::UNAUTHORIZED, super::ANSWER_TYPES[0], body);
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, basic.challenge());
            Some(response)
        }
    }
}

/// The line of the [`Server::rejects`] file for a refusal whose body was
/// read: `time`, `remote`, `peer`, `status`, `violations`, and the body as
/// received, as a JSON string `body` when it is UTF-8 text, or
/// `body_base64` otherwise. `None` for a refusal without a body.
fn refused_line(connection: &Connection, rejection: &Rejection) -> Option<Bytes> {
    let body = rejection.body()?;
    let time = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut record = serde_json::Map::new();
    record.insert("time".into(), time.into());
    record.insert("remote".into(), connection.remote.to_string().into());
    record.insert(
        "peer".into(),
        connection
            .peer
            .as_ref()
            .map_or(serde_json::Value::Null, |p| p.to_string().into()),
    );
    record.insert("status".into(), rejection.status().as_u16().into());
    record.insert(
        "violations".into(),
        serde_json::to_value(rejection.violations()).unwrap_or_default(),
    );
    match std::str::from_utf8(body) {
        Ok(text) => record.insert("body".into(), text.into()),
        Err(_) => record.insert("body_base64".into(), base64(body).into()),
    };
    serde_json::to_vec(&record).ok().map(Bytes::from)
}

/// Standard base64 with padding (RFC 4648), for refused bodies that are
/// not text.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
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

/// The answer to a request whose message the sink could not keep: 503
/// with `Retry-After` when the sink says when to try again, 500 otherwise.
fn sink_error_response(error: &SinkError) -> Response {
    let (status, text) = match error.retry_after() {
        Some(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the receiver cannot keep messages right now; send this one again later",
        ),
        None => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the receiver failed to keep the message",
        ),
    };
    let body = serde_json::to_vec(&serde_json::json!({ "error": text })).unwrap_or_default();
    let mut response = json_response(status, super::ANSWER_TYPES[0], body);
    if let Some(after) = error.retry_after() {
        let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    }
    response
}

/// How long a client has to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client has to send its request headers (HTTP/1.1).
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long shutdown waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// A ready IDMEFv2 endpoint: the accept loop, TLS, HTTP/1.1 and HTTP/2,
/// the [`Idmef`] checks and a [`Sink`].
pub struct Server {
    tls: Option<tokio_rustls::TlsAcceptor>,
    /// Whether TLS lets clients in without a certificate.
    certificate_optional: bool,
    path: String,
    options: ReceiveOptions,
    observer: Option<Observer>,
    rejects: Option<Arc<FileSink>>,
    basic: Option<BasicAuth>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("tls", &self.tls.is_some())
            .field("path", &self.path)
            .field("options", &self.options)
            .finish()
    }
}

impl Server {
    /// A server with mutual TLS as `tls` sets it up, at path `/`.
    pub fn new(tls: ServerTls) -> Result<Server, ConfigError> {
        let config = tls.config()?;
        Ok(Server {
            tls: Some(tokio_rustls::TlsAcceptor::from(config)),
            certificate_optional: tls.is_client_certificate_optional(),
            basic: None,
            path: "/".into(),
            options: ReceiveOptions::default(),
            observer: None,
            rejects: None,
        })
    }

    /// A server over plain HTTP/1.1, without TLS and so without any
    /// authentication of senders or protection of the messages in
    /// transit. The transport draft requires mutual TLS; this exists for
    /// the deployed senders that post over plain HTTP, on networks where
    /// that risk is accepted.
    pub fn insecure_plaintext() -> Server {
        Server {
            tls: None,
            certificate_optional: false,
            basic: None,
            path: "/".into(),
            options: ReceiveOptions::default(),
            observer: None,
            rejects: None,
        }
    }

    /// The endpoint's path (default `/`); it must start with `/`. Requests
    /// for other paths get 404.
    pub fn path(mut self, path: impl Into<String>) -> Result<Server, ConfigError> {
        let path = path.into();
        if !path.starts_with('/') {
            return Err(ConfigError::new(format!(
                "the endpoint path must start with '/', not {path:?}"
            )));
        }
        self.path = path;
        Ok(self)
    }

    /// How messages are read and checked.
    #[must_use]
    pub fn options(mut self, options: ReceiveOptions) -> Server {
        self.options = options;
        self
    }

    /// Lets senders in by HTTP Basic authentication, as `users` lists
    /// them: over TLS, a client without a certificate (see
    /// [`ServerTls::client_certificate_optional`]) must send the
    /// credentials of one of them, and a client with a verified
    /// certificate need not; over plain HTTP
    /// ([`insecure_plaintext`](Self::insecure_plaintext)) every request
    /// must. Missing or wrong credentials are answered 401 with
    /// `WWW-Authenticate: Basic realm="…"`; the user name is the request's
    /// peer ([`Peer::User`]). See [`BasicAuth`] for why this departs from
    /// the transport draft's mutual TLS.
    #[must_use]
    pub fn basic_auth(mut self, users: BasicAuth) -> Server {
        self.basic = Some(users);
        self
    }

    /// Appends every message refused with 400 to `rejects`, one NDJSON
    /// line each, synced to disk before the refusal is answered, so that
    /// an operator can read why, fix it and send it again: `time` (RFC
    /// 3339, UTC), `remote` (the client's address), `peer` (its
    /// certificate's DNS-ID or its user name, or `null`), `status`,
    /// `violations` (each `pointer`, `keyword`, `reason`) and the body as
    /// received, as the JSON string `body` (or `body_base64` when it is not
    /// UTF-8). A body is never over [`ReceiveOptions::max_bytes`], since a
    /// larger one is refused with 413 before it is read. Refusals that
    /// come before the body is read (404, 405, 406, 413, 415) are not
    /// written.
    #[must_use]
    pub fn rejects(mut self, rejects: FileSink) -> Server {
        self.rejects = Some(Arc::new(rejects));
        self
    }

    /// Calls `observer` for every answered request and refused connection
    /// (a log line, a metric).
    #[must_use]
    pub fn observe(mut self, observer: impl Fn(&Event) + Send + Sync + 'static) -> Server {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Serves until SIGINT or SIGTERM (Ctrl-C elsewhere), then stops as
    /// [`serve`](Self::serve) does.
    pub async fn run<S: Sink>(self, listener: TcpListener, sink: S) -> io::Result<()> {
        self.serve(listener, sink, shutdown_signal()).await
    }

    /// Serves connections from `listener` until `shutdown` resolves; then
    /// stops accepting, lets the requests in flight finish (30 seconds at
    /// most), and closes the sink.
    pub async fn serve<S: Sink>(
        self,
        listener: TcpListener,
        sink: S,
        shutdown: impl Future<Output = ()> + Send,
    ) -> io::Result<()> {
        let Server {
            tls,
            certificate_optional,
            path,
            options,
            observer,
            rejects,
            basic,
        } = self;
        if certificate_optional && basic.is_none() {
            return Err(io::Error::other(
                "client certificates are optional but no other authentication is set \
                 (Server::basic_auth)",
            ));
        }
        // Built only for a sink that uses it.
        let options = if sink.needs_typed_message() {
            options
        } else {
            options.typed(false)
        };
        let state = Arc::new(Endpoint {
            path,
            options,
            sink,
            observer: observer.clone(),
            rejects,
            basic,
        });
        let router = Router::new()
            .fallback(endpoint::<S>)
            .with_state(state.clone());
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let (stream, remote) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    // Out of descriptors or an aborted connection: wait a
                    // little rather than spin.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let watcher = graceful.watcher();
            let router = router.clone();
            let tls = tls.clone();
            let observer = observer.clone();
            tokio::spawn(async move {
                let refused = |reason: String| {
                    if let Some(observer) = &observer {
                        observer(&Event::Refused { remote, reason });
                    }
                };
                match tls {
                    None => {
                        let connection = Connection { remote, peer: None };
                        let conn = http1_builder()
                            .serve_connection(TokioIo::new(stream), service(router, connection));
                        let _ = watcher.watch(conn).await;
                    }
                    Some(acceptor) => {
                        let handshake =
                            tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                        let stream = match handshake {
                            Ok(Ok(stream)) => stream,
                            // A client that left without a word (a sender whose
                            // process ended, a port probe) was not refused.
                            Ok(Err(e)) => match super::tls::handshake_end(&e) {
                                super::tls::HandshakeEnd::HungUp => return,
                                super::tls::HandshakeEnd::Failed(problem) => {
                                    return refused(format!("TLS handshake failed: {problem}"));
                                }
                            },
                            Err(_) => return refused("TLS handshake timed out".into()),
                        };
                        let (_, session) = stream.get_ref();
                        let peer = session
                            .peer_certificates()
                            .and_then(|chain| chain.first())
                            .and_then(|leaf| PeerIdentity::from_certificate(leaf))
                            .map(|identity| Peer::Certificate {
                                dns_ids: identity.dns_ids().to_vec(),
                                fingerprint: *identity.fingerprint().as_bytes(),
                            });
                        let h2 = session.alpn_protocol() == Some(b"h2");
                        let connection = Connection { remote, peer };
                        let io = TokioIo::new(stream);
                        if h2 {
                            let conn =
                                hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                                    .timer(TokioTimer::new())
                                    .serve_connection(io, service(router, connection));
                            let _ = watcher.watch(conn).await;
                        } else {
                            let conn =
                                http1_builder().serve_connection(io, service(router, connection));
                            let _ = watcher.watch(conn).await;
                        }
                    }
                }
            });
        }
        drop(listener);
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await;
        state
            .sink
            .close()
            .await
            .map_err(|e| io::Error::other(e.to_string()))
    }
}

/// HTTP/1.1 with persistent connections and a deadline for headers.
fn http1_builder() -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true);
    builder
}

/// The router as a hyper service, each request told about its connection.
fn service(router: Router, connection: Connection) -> PerConnection {
    PerConnection { router, connection }
}

/// See [`service`].
#[derive(Clone)]
struct PerConnection {
    router: Router,
    connection: Connection,
}

impl hyper::service::Service<http::Request<hyper::body::Incoming>> for PerConnection {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = tower::util::Oneshot<Router, Request>;

    fn call(&self, request: http::Request<hyper::body::Incoming>) -> Self::Future {
        use tower::ServiceExt;
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(self.connection.clone());
        self.router.clone().oneshot(request)
    }
}

/// Resolves on SIGINT or SIGTERM (on other systems, Ctrl-C).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

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
//! | `Content-Type` missing or without a codec in [`crate::codec`] | 415, the supported types listed |
//! | `Accept` names none of `application/json`, `text/json` | 406, the alternatives listed |
//! | body over [`ReceiveOptions::max_bytes`] (by `Content-Length` or while reading) | 413 |
//! | body that does not decode or fails validation | 400, every violation (pointer and reason) |
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
use crate::sink::Peer;
pub use crate::sink::{Dedup, FileSink, FileSinkStats, Received, Sink, SinkError};

mod judge;

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
    /// How many violations the refusal listed (400 only).
    pub violations: usize,
    /// What went wrong on our side, for a 5xx (not sent to the client).
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
}

/// The handler behind every path: path and method first, then the
/// extractor, then the sink.
async fn endpoint<S: Sink>(
    State(endpoint): State<Arc<Endpoint<S>>>,
    mut request: Request,
) -> Response {
    let connection = request.extensions().get::<Connection>().cloned();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    request.extensions_mut().insert(endpoint.options.clone());
    let mut violations = 0;
    let mut detail = None;
    let response = if path != endpoint.path {
        let body = serde_json::to_vec(&serde_json::json!({
            "error": "no IDMEFv2 endpoint at this path"
        }))
        .unwrap_or_default();
        json_response(StatusCode::NOT_FOUND, super::ANSWER_TYPES[0], body)
    } else if method != Method::POST {
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
    } else {
        match Idmef::from_request(request, &()).await {
            Err(rejection) => {
                violations = rejection.violations().len();
                rejection.into_response()
            }
            Ok(Idmef(received)) => match endpoint.sink.keep(received).await {
                Ok(()) => StatusCode::NO_CONTENT.into_response(),
                Err(e) => {
                    detail = Some(e.reason().to_string());
                    sink_error_response(&e)
                }
            },
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
            detail,
        }));
    }
    response
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
    path: String,
    options: ReceiveOptions,
    observer: Option<Observer>,
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
            path: "/".into(),
            options: ReceiveOptions::default(),
            observer: None,
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
            path: "/".into(),
            options: ReceiveOptions::default(),
            observer: None,
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
            path,
            options,
            observer,
        } = self;
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

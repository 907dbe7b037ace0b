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

use std::{
    borrow::Cow,
    fmt,
    fs::{File, OpenOptions},
    future::Future,
    io::{self, Read, Seek, SeekFrom, Write},
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc, Arc, Mutex,
    },
    time::Duration,
};

use axum::{
    body::Body,
    extract::{FromRequest, Request, State},
    response::{IntoResponse, Response},
    Router,
};
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;

use super::tls::{ConfigError, PeerIdentity, ServerTls};
use crate::{
    codec,
    upgrade::{upgrade_slice, UpgradeNote},
    Error, Limits, Message, Version, Violation,
};

/// How the endpoint reads and checks a message.
#[derive(Clone, Debug, Default)]
pub struct ReceiveOptions {
    limits: Limits,
    upgrade: bool,
    untyped: bool,
}

impl ReceiveOptions {
    /// Refuses bodies over `max_bytes` with 413 (default: 1 MiB, as
    /// [`Limits::default`]).
    #[must_use]
    pub fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.limits = self.limits.with_max_bytes(max_bytes);
        self
    }

    /// The decoding limits (size and nesting depth).
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Hands the sink messages of drafts older than `2.D.V08` carried
    /// forward to `2.D.V08` instead of as they came. A valid message that
    /// cannot be carried forward is then refused with 400.
    #[must_use]
    pub fn upgrade(mut self, upgrade: bool) -> Self {
        self.upgrade = upgrade;
        self
    }

    /// Whether a JSON message is built into the typed model for the sink
    /// (default: yes). With `false` it is only checked, by the same rules
    /// and with the same answers, and [`Received::message`] is `None`: for
    /// sinks that keep the body as it came, at well under half the cost of
    /// building it (`cargo bench --bench decode`, the `check` row).
    /// [`Server`] turns it off for a sink whose
    /// [`needs_typed_message`](Sink::needs_typed_message) says `false`.
    /// Messages in other encodings are always built (the line a
    /// [`FileSink`] writes for them is the typed message's JSON).
    #[must_use]
    pub fn typed(mut self, typed: bool) -> Self {
        self.untyped = !typed;
        self
    }

    /// The largest body accepted, in bytes.
    pub fn max_bytes_limit(&self) -> usize {
        self.limits.max_bytes
    }
}

/// A message that passed every check, as the sink receives it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Received {
    /// The request body exactly as sent, or the upgraded message encoded
    /// as compact JSON.
    pub body: Bytes,
    /// The media type of `body`: the request's `Content-Type`, or
    /// `application/json` for an upgraded message.
    pub content_type: String,
    /// The `Version` of `body`.
    pub version: String,
    /// The `ID` of `body`, as written.
    pub id: String,
    /// The typed message, for `2.D.V08` and `2.D.V09-Dev` (and upgraded)
    /// messages; `None` for an older draft passed on as it came, and for a
    /// JSON message that was only checked ([`ReceiveOptions::typed`]).
    pub message: Option<Message>,
    /// The draft the sender wrote, when the message was upgraded.
    pub upgraded_from: Option<String>,
    /// What the upgrade changed, when it did (see [`crate::upgrade`]).
    pub upgrade_report: Vec<UpgradeNote>,
    /// The client, from its certificate; `None` over plain HTTP or when
    /// the extractor runs behind another TLS terminator.
    pub peer: Option<PeerIdentity>,
}

impl Received {
    /// The message as one line of NDJSON (without the line end).
    ///
    /// A JSON body is kept byte for byte except for line breaks between
    /// tokens, which become spaces (a JSON string cannot hold a raw line
    /// break, so no value changes). A body of another media type is
    /// written as the typed message's JSON encoding.
    pub fn json_line(&self) -> Cow<'_, [u8]> {
        self.other_line()
            .map_or(Cow::Borrowed(&self.body), Cow::Owned)
    }

    /// [`json_line`](Self::json_line) as shared bytes: the body itself,
    /// without a copy, when it is already the line.
    fn line_bytes(&self) -> Bytes {
        self.other_line()
            .map_or_else(|| self.body.clone(), Bytes::from)
    }

    /// The line when it differs from the body; `None` when the body is
    /// the line as it is.
    fn other_line(&self) -> Option<Vec<u8>> {
        if super::is_json(&self.content_type) {
            // `contains` on bytes is a word-at-a-time search; a closure
            // over each byte was 1.5 % of the server's time under load.
            (self.body.contains(&b'\n') || self.body.contains(&b'\r')).then(|| {
                self.body
                    .iter()
                    .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b })
                    .collect()
            })
        } else {
            self.message.as_ref().map(Message::to_vec)
        }
    }
}

/// Why a request was refused, with the status the draft gives it; axum
/// answers with it when [`Idmef`] is rejected.
#[derive(Clone, Debug)]
pub struct Rejection {
    status: StatusCode,
    error: String,
    violations: Vec<Violation>,
    list: Option<(&'static str, Vec<String>)>,
    answer_type: &'static str,
}

impl Rejection {
    fn new(status: StatusCode, error: impl Into<String>) -> Self {
        Rejection {
            status,
            error: error.into(),
            violations: Vec::new(),
            list: None,
            answer_type: super::ANSWER_TYPES[0],
        }
    }

    /// A message that failed decoding or validation.
    fn invalid(error: &Error) -> Self {
        if let Error::TooLarge { limit, .. } = error {
            return Rejection::too_large(*limit);
        }
        let mut rejection = Rejection::new(StatusCode::BAD_REQUEST, "invalid IDMEFv2 message");
        rejection.violations = error.violations().to_vec();
        rejection
    }

    fn too_large(limit: usize) -> Self {
        Rejection::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the message exceeds the limit of {limit} bytes"),
        )
    }

    /// The status code answered.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What was wrong, in words.
    pub fn reason(&self) -> &str {
        &self.error
    }

    /// Every failure found in the message (400 only; empty otherwise).
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status.as_u16(), self.error)
    }
}

impl std::error::Error for Rejection {}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let body = if self.status == StatusCode::BAD_REQUEST {
            super::refusal_body(&self.error, &self.violations)
        } else {
            let mut object = serde_json::Map::new();
            object.insert("error".into(), self.error.into());
            if let Some((name, list)) = self.list {
                object.insert(name.into(), list.into());
            }
            serde_json::to_vec(&object).unwrap_or_default()
        };
        json_response(self.status, self.answer_type, body)
    }
}

/// A response with a JSON body.
fn json_response(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// An axum extractor for one IDMEFv2 message.
///
/// It checks `Content-Type` (415), `Accept` (406), the size (413) and the
/// message itself (400) as the [module](self) describes, under the
/// [`ReceiveOptions`] found in the request's extensions (add them with
/// `axum::Extension`; defaults otherwise). Path and method are the
/// router's business.
#[derive(Clone, Debug)]
pub struct Idmef(pub Received);

impl<S: Send + Sync> FromRequest<S> for Idmef {
    type Rejection = Rejection;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Rejection> {
        receive(request).await.map(Idmef)
    }
}

/// What the accept loop knows about a connection, passed to each request.
#[derive(Clone, Debug)]
struct Connection {
    remote: SocketAddr,
    peer: Option<PeerIdentity>,
}

/// Every header value of `name` joined by commas, or `None` without any.
/// A value that is not text makes the whole `Err`.
fn joined(headers: &HeaderMap, name: header::HeaderName) -> Result<Option<String>, ()> {
    let mut values = headers.get_all(name).iter().peekable();
    if values.peek().is_none() {
        return Ok(None);
    }
    let texts: Result<Vec<&str>, _> = values.map(HeaderValue::to_str).collect();
    texts.map(|t| Some(t.join(","))).map_err(|_| ())
}

async fn receive(request: Request) -> Result<Received, Rejection> {
    let options = request
        .extensions()
        .get::<ReceiveOptions>()
        .cloned()
        .unwrap_or_default();
    let peer = request
        .extensions()
        .get::<Connection>()
        .and_then(|c| c.peer.clone());
    let headers = request.headers();

    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().map(str::to_string));
    let answer = match joined(headers, header::ACCEPT) {
        Ok(accept) => super::negotiate(accept.as_deref()),
        Err(()) => None,
    };
    let unsupported = |reason: String| {
        let mut rejection = Rejection::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, reason);
        rejection.list = Some(("supported", codec::supported()));
        rejection.answer_type = answer.unwrap_or(super::ANSWER_TYPES[0]);
        rejection
    };
    let content_type = match content_type {
        None => return Err(unsupported("the request has no Content-Type".into())),
        Some(Err(_)) => return Err(unsupported("the Content-Type is not text".into())),
        Some(Ok(t)) => t,
    };
    let codec = codec::find(&content_type).map_err(|_| {
        unsupported(format!(
            "no codec for the media type {:?}",
            codec::essence(&content_type)
        ))
    })?;
    let Some(answer) = answer else {
        let mut rejection = Rejection::new(
            StatusCode::NOT_ACCEPTABLE,
            "none of the media types in Accept can be answered in",
        );
        rejection.list = Some((
            "alternatives",
            super::ANSWER_TYPES.iter().map(|t| t.to_string()).collect(),
        ));
        return Err(rejection);
    };
    let with_answer = |mut r: Rejection| {
        r.answer_type = answer;
        r
    };

    let max = options.limits.max_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(with_answer(Rejection::too_large(max)));
    }
    let body = match http_body_util::Limited::new(request.into_body(), max)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(with_answer(Rejection::too_large(max)))
        }
        Err(e) => {
            return Err(with_answer(Rejection::new(
                StatusCode::BAD_REQUEST,
                format!("the request body could not be read: {e}"),
            )))
        }
    };

    judge(body, content_type, codec.as_ref(), &options, peer).map_err(with_answer)
}

/// Decodes and checks one body.
fn judge(
    body: Bytes,
    content_type: String,
    codec: &dyn codec::Codec,
    options: &ReceiveOptions,
    peer: Option<PeerIdentity>,
) -> Result<Received, Rejection> {
    let limits = &options.limits;
    let received = |body, content_type, version: &str, id: String, message| Received {
        body,
        content_type,
        version: version.to_string(),
        id,
        message,
        upgraded_from: None,
        upgrade_report: Vec::new(),
        peer: peer.clone(),
    };
    if !super::is_json(codec.media_type()) {
        let message = codec
            .decode(&body, limits)
            .map_err(|e| Rejection::invalid(&e))?;
        let (version, id) = (message.version.as_str(), message.id.as_str().to_owned());
        return Ok(received(body, content_type, version, id, Some(message)));
    }
    let checked = if options.untyped {
        crate::message::check_slice_with(&body, limits)
            .map(|(version, id)| (version, id.into_string(), None))
    } else {
        Message::from_slice_with(&body, limits)
            .map(|m| (m.version, m.id.as_str().to_owned(), Some(m)))
    };
    match checked {
        Ok((version, id, message)) => {
            Ok(received(body, content_type, version.as_str(), id, message))
        }
        Err(Error::OlderDraft { version }) if options.upgrade => {
            let upgraded = upgrade_slice(&body, limits, Version::LATEST).map_err(|e| {
                let mut rejection = Rejection::invalid(&e);
                rejection.error = format!("valid {version} message that cannot be upgraded");
                rejection
            })?;
            let body = Bytes::from(upgraded.message.to_vec());
            let id = upgraded.message.id.as_str().to_owned();
            let mut kept = received(
                body,
                "application/json".to_string(),
                Version::LATEST.as_str(),
                id,
                Some(upgraded.message),
            );
            kept.upgraded_from = Some(version);
            kept.upgrade_report = upgraded.report;
            Ok(kept)
        }
        Err(Error::OlderDraft { version }) => {
            // Every draft requires a text `ID`, which its schema checked.
            let id = crate::json::message_id(&body).ok_or_else(|| {
                Rejection::new(StatusCode::BAD_REQUEST, "the message has no text ID")
            })?;
            Ok(received(body, content_type, &version, id, None))
        }
        Err(e) => Err(Rejection::invalid(&e)),
    }
}

/// Why a sink could not keep a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkError {
    reason: String,
    retry_after: Option<Duration>,
}

impl SinkError {
    /// The sink cannot keep messages for now (answered 503 with
    /// `Retry-After`, in whole seconds, at least one).
    pub fn unavailable(reason: impl Into<String>, retry_after: Duration) -> Self {
        SinkError {
            reason: reason.into(),
            retry_after: Some(retry_after),
        }
    }

    /// Something went wrong inside the receiver (answered 500).
    pub fn internal(reason: impl Into<String>) -> Self {
        SinkError {
            reason: reason.into(),
            retry_after: None,
        }
    }

    /// What went wrong. It goes to the server's log, not to the client.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// When to try again, for a 503.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    fn response(&self) -> Response {
        let (status, text) = match self.retry_after {
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
        if let Some(after) = self.retry_after {
            let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for SinkError {}

/// Where accepted messages go.
///
/// [`keep`](Sink::keep) resolves `Ok` only once the message is safe
/// (written to disk and synced, stored in a database, acknowledged by the
/// next system): the 2xx is sent then, and the sender forgets the
/// message. An error is answered with 503 or 500, so the sender keeps it.
pub trait Sink: Send + Sync + 'static {
    /// Keeps one message.
    fn keep(&self, message: Received) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// Whether [`keep`](Sink::keep) needs [`Received::message`], the typed
    /// message (default: yes). A sink that keeps the body as it came says
    /// no, and [`Server`] then only checks JSON messages without building
    /// them ([`ReceiveOptions::typed`]).
    fn needs_typed_message(&self) -> bool {
        true
    }

    /// Called once when the server stops, after the last request: flush
    /// and release what the sink holds.
    fn close(&self) -> impl Future<Output = Result<(), SinkError>> + Send {
        std::future::ready(Ok(()))
    }
}

impl<T: Sink> Sink for Arc<T> {
    fn keep(&self, message: Received) -> impl Future<Output = Result<(), SinkError>> + Send {
        T::keep(self, message)
    }

    fn needs_typed_message(&self) -> bool {
        T::needs_typed_message(self)
    }

    fn close(&self) -> impl Future<Output = Result<(), SinkError>> + Send {
        T::close(self)
    }
}

/// Counts of a [`FileSink`]'s work so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileSinkStats {
    /// Messages written and synced (acknowledged).
    pub messages: u64,
    /// Calls to `fdatasync` that succeeded; with concurrent requests,
    /// fewer than `messages`.
    pub syncs: u64,
    /// Batches that failed to write or sync (their requests got 503).
    pub failures: u64,
}

/// One message waiting for the writer: its line, and who to tell.
struct Job {
    line: Bytes,
    done: tokio::sync::oneshot::Sender<Result<(), String>>,
}

#[derive(Default)]
struct Counters {
    messages: AtomicU64,
    syncs: AtomicU64,
    failures: AtomicU64,
}

/// A [`Sink`] that appends each message to a file as one NDJSON line
/// ([`Received::json_line`]) and syncs the file to disk before the
/// message is acknowledged.
///
/// A writer thread takes every message waiting, writes them in one go and
/// syncs once for all of them (group commit): under load, one `fdatasync`
/// covers many requests instead of one each. When a write or sync fails,
/// the file is cut back to where the batch began and every request of the
/// batch is answered 503, so that its sender tries again (a message whose
/// sync failed may then be in the file twice: delivery is at least once).
pub struct FileSink {
    path: PathBuf,
    queue: Mutex<Option<mpsc::Sender<Job>>>,
    worker: Mutex<Option<std::thread::JoinHandle<()>>>,
    counters: Arc<Counters>,
}

impl fmt::Debug for FileSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSink")
            .field("path", &self.path)
            .field("stats", &self.stats())
            .finish()
    }
}

/// How long a sender is asked to wait after a failed write.
const RETRY_AFTER_WRITE_FAILURE: Duration = Duration::from_secs(5);

/// The most messages written under one sync.
const MAX_BATCH: usize = 4096;

impl FileSink {
    /// Opens (or creates) `path` for appending. A new file's directory
    /// entry is synced too, and a line left unfinished by an earlier crash
    /// is ended, so that the next message starts a line of its own.
    pub fn open(path: impl AsRef<Path>) -> io::Result<FileSink> {
        let path = path.as_ref().to_path_buf();
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)?;
        let mut length = file.metadata()?.len();
        if length > 0 {
            let mut last = [0u8];
            file.seek(SeekFrom::End(-1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
                length += 1;
            }
        }
        file.sync_all()?;
        if !existed {
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            File::open(parent)?.sync_all()?;
        }
        let (sender, receiver) = mpsc::channel();
        let counters = Arc::new(Counters::default());
        let worker = {
            let counters = counters.clone();
            std::thread::Builder::new()
                .name("idmefv2-file-sink".into())
                .spawn(move || write_batches(file, length, &receiver, &counters))?
        };
        Ok(FileSink {
            path,
            queue: Mutex::new(Some(sender)),
            worker: Mutex::new(Some(worker)),
            counters,
        })
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the sink has done so far.
    pub fn stats(&self) -> FileSinkStats {
        FileSinkStats {
            messages: self.counters.messages.load(Ordering::Relaxed),
            syncs: self.counters.syncs.load(Ordering::Relaxed),
            failures: self.counters.failures.load(Ordering::Relaxed),
        }
    }

    /// Queues a line; the receiver resolves once it is synced.
    fn enqueue(
        &self,
        line: Bytes,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<(), String>>, SinkError> {
        let (done, waiting) = tokio::sync::oneshot::channel();
        let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let closed =
            || SinkError::unavailable("the file sink is closed", RETRY_AFTER_WRITE_FAILURE);
        let sender = queue.as_ref().ok_or_else(closed)?;
        sender.send(Job { line, done }).map_err(|_| closed())?;
        Ok(waiting)
    }
}

/// The writer thread: batches, writes, syncs, answers.
fn write_batches(
    mut file: File,
    mut length: u64,
    queue: &mpsc::Receiver<Job>,
    counters: &Counters,
) {
    let mut buffer = Vec::new();
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        buffer.clear();
        for job in &batch {
            buffer.extend_from_slice(&job.line);
            buffer.push(b'\n');
        }
        let outcome = file.write_all(&buffer).and_then(|()| file.sync_data());
        let answer = match outcome {
            Ok(()) => {
                length += buffer.len() as u64;
                counters.syncs.fetch_add(1, Ordering::Relaxed);
                counters
                    .messages
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                // Take back what may have been written of this batch.
                let _ = file.set_len(length);
                let _ = file.sync_data();
                counters.failures.fetch_add(1, Ordering::Relaxed);
                Err(e.to_string())
            }
        };
        for job in batch {
            let _ = job.done.send(answer.clone());
        }
    }
}

impl Sink for FileSink {
    fn keep(&self, message: Received) -> impl Future<Output = Result<(), SinkError>> + Send {
        // Queued now, so that requests arriving together share a sync.
        let queued = self.enqueue(message.line_bytes());
        // Borrowed: shown only in the rare error, not formatted per message.
        let path = self.path.display();
        async move {
            let waiting = queued?;
            match waiting.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(SinkError::unavailable(
                    format!("{path}: {e}"),
                    RETRY_AFTER_WRITE_FAILURE,
                )),
                Err(_) => Err(SinkError::unavailable(
                    format!("{path}: the writer stopped"),
                    RETRY_AFTER_WRITE_FAILURE,
                )),
            }
        }
    }

    /// No: a JSON body is written as it came, and a body of another media
    /// type is always built.
    fn needs_typed_message(&self) -> bool {
        false
    }

    fn close(&self) -> impl Future<Output = Result<(), SinkError>> + Send {
        // Dropping the queue lets the writer finish what is queued and end.
        let sender = self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(sender);
        let worker = self.worker.lock().unwrap_or_else(|e| e.into_inner()).take();
        async move {
            if let Some(worker) = worker {
                tokio::task::spawn_blocking(move || worker.join())
                    .await
                    .map_err(|e| SinkError::internal(format!("file sink writer: {e}")))?
                    .map_err(|_| SinkError::internal("file sink writer panicked"))?;
            }
            Ok(())
        }
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        let sender = self
            .queue
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(sender);
        if let Some(worker) = self
            .worker
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = worker.join();
        }
    }
}

/// A [`Sink`] that drops repeats: a message whose `ID` is among the
/// last `capacity` IDs this sink kept is acknowledged (204) without being
/// passed on, since it is kept already.
///
/// Senders that retry (such as the durable outbox,
/// `idmefv2::outbox`) deliver at least once, so a message whose
/// acknowledgement was lost (the receiver was killed after its sync and
/// before its answer, or the connection dropped) comes again. The window
/// is the `capacity` most recently kept IDs, in memory: a repeat older
/// than that is kept again. An ID enters the window only once the inner
/// sink has kept its message, so a failed keep never hides the message's
/// next try. Two copies arriving at the same moment, before either is
/// kept, may both be kept.
///
/// The window is not written anywhere of its own. To carry it across a
/// restart, fill it from what the inner sink kept with
/// [`seed_from_ndjson`](Self::seed_from_ndjson) (for a [`FileSink`], its
/// file): `idmefv2 serve --dedup` does so, which makes its window the
/// last `capacity` messages of its output file, restarts included.
///
/// The `ID` compared is [`Received::id`], as written.
pub struct Dedup<S> {
    inner: S,
    window: Mutex<Window>,
    repeats: AtomicU64,
}

/// The most recently kept IDs.
struct Window {
    capacity: usize,
    order: std::collections::VecDeque<Arc<str>>,
    seen: std::collections::HashSet<Arc<str>>,
}

impl Window {
    fn insert(&mut self, id: &str) {
        if self.capacity == 0 || self.seen.contains(id) {
            return;
        }
        let id: Arc<str> = id.into();
        self.seen.insert(id.clone());
        self.order.push_back(id);
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
    }
}

impl<S> fmt::Debug for Dedup<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("Dedup")
            .field("capacity", &window.capacity)
            .field("remembered", &window.order.len())
            .field("repeats", &self.repeats())
            .finish()
    }
}

impl<S> Dedup<S> {
    /// Drops repeats among the last `capacity` kept IDs in front of
    /// `inner`.
    pub fn new(inner: S, capacity: usize) -> Dedup<S> {
        Dedup {
            inner,
            window: Mutex::new(Window {
                capacity,
                order: std::collections::VecDeque::new(),
                seen: std::collections::HashSet::new(),
            }),
            repeats: AtomicU64::new(0),
        }
    }

    /// Adds IDs to the window, oldest first, as if their messages had
    /// just been kept.
    pub fn seed<I: AsRef<str>>(&self, ids: impl IntoIterator<Item = I>) {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            window.insert(id.as_ref());
        }
    }

    /// Fills the window from the last lines of an NDJSON file of kept
    /// messages (as [`FileSink`] writes it), reading backwards from its
    /// end no further than the window needs. Lines that are not a JSON
    /// object with a text `ID` (a line cut short by a crash, say) add
    /// nothing. Returns how many IDs were added; a missing file adds none.
    pub fn seed_from_ndjson(&self, path: impl AsRef<Path>) -> io::Result<usize> {
        let capacity = self
            .window
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .capacity;
        let lines = match last_lines(path.as_ref(), capacity) {
            Ok(lines) => lines,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let ids: Vec<String> = lines
            .iter()
            .filter_map(|line| crate::json::message_id(line))
            .collect();
        let count = ids.len();
        self.seed(ids);
        Ok(count)
    }

    /// How many repeats were acknowledged without being passed on.
    pub fn repeats(&self) -> u64 {
        self.repeats.load(Ordering::Relaxed)
    }

    /// The sink behind.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

/// The last `count` non-empty lines of a file, oldest first.
fn last_lines(path: &Path, count: usize) -> io::Result<Vec<Vec<u8>>> {
    const CHUNK: u64 = 64 * 1024;
    let mut file = File::open(path)?;
    let mut end = file.metadata()?.len();
    let mut tail: Vec<u8> = Vec::new();
    let mut lines: Vec<Vec<u8>> = Vec::new();
    while end > 0 && lines.len() < count {
        let start = end.saturating_sub(CHUNK);
        let mut chunk = vec![0; (end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&tail);
        end = start;
        // Everything after the first line end is whole lines; what comes
        // before it may continue in the chunk before.
        let keep_from = if start == 0 {
            0
        } else {
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => i + 1,
                None => {
                    tail = chunk;
                    continue;
                }
            }
        };
        let mut found: Vec<Vec<u8>> = chunk[keep_from..]
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        tail = chunk[..keep_from].to_vec();
        found.append(&mut lines);
        lines = found;
    }
    let skip = lines.len().saturating_sub(count);
    Ok(lines.split_off(skip))
}

impl<S: Sink> Sink for Dedup<S> {
    fn keep(&self, message: Received) -> impl Future<Output = Result<(), SinkError>> + Send {
        let id = message.id.clone();
        async move {
            let seen = {
                let window = self.window.lock().unwrap_or_else(|e| e.into_inner());
                window.seen.contains(id.as_str())
            };
            if seen {
                self.repeats.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            self.inner.keep(message).await?;
            self.window
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(&id);
            Ok(())
        }
    }

    fn needs_typed_message(&self) -> bool {
        self.inner.needs_typed_message()
    }

    fn close(&self) -> impl Future<Output = Result<(), SinkError>> + Send {
        self.inner.close()
    }
}

/// One answered request, for logs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Outcome {
    /// The client's address.
    pub remote: SocketAddr,
    /// The client, from its certificate (`None` over plain HTTP).
    pub peer: Option<PeerIdentity>,
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
                violations = rejection.violations.len();
                rejection.into_response()
            }
            Ok(Idmef(received)) => match endpoint.sink.keep(received).await {
                Ok(()) => StatusCode::NO_CONTENT.into_response(),
                Err(e) => {
                    detail = Some(e.reason().to_string());
                    e.response()
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
                            Ok(Err(e)) => {
                                let reason =
                                    super::tls::explain(&e).unwrap_or_else(|| e.to_string());
                                return refused(format!("TLS handshake failed: {reason}"));
                            }
                            Err(_) => return refused("TLS handshake timed out".into()),
                        };
                        let (_, session) = stream.get_ref();
                        let peer = session
                            .peer_certificates()
                            .and_then(|chain| chain.first())
                            .and_then(|leaf| PeerIdentity::from_certificate(leaf));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_lines_are_read_backwards_across_chunks() {
        let dir = tempfile::tempdir().expect("folder");
        let path = dir.path().join("kept.ndjson");
        let lines: Vec<String> = (0..3000)
            .map(|n| format!("{{\"ID\":\"id-{n}\",\"pad\":\"{}\"}}", "x".repeat(n % 150)))
            .collect();
        fs_write(&path, &format!("{}\n", lines.join("\n")));
        let last = last_lines(&path, 2500).unwrap();
        assert_eq!(last.len(), 2500);
        assert_eq!(last[0], lines[500].as_bytes());
        assert_eq!(last[2499], lines[2999].as_bytes());
        assert_eq!(last_lines(&path, 5000).unwrap().len(), 3000);
        assert!(last_lines(&path, 0).unwrap().is_empty());

        // A line cut short at the end (a crash) adds no ID; the rest do.
        fs_write(
            &path,
            &format!("{}\n{{\"ID\":\"cut", lines[..10].join("\n")),
        );
        let dedup = Dedup::new((), 100);
        assert_eq!(dedup.seed_from_ndjson(&path).unwrap(), 10);
        assert_eq!(
            dedup.seed_from_ndjson(dir.path().join("missing")).unwrap(),
            0
        );
    }

    fn fs_write(path: &Path, text: &str) {
        std::fs::write(path, text).expect("write");
    }
}

//! Request judging: the [`Idmef`] extractor reads one request under its
//! [`ReceiveOptions`] and either hands back a [`Received`] message or a
//! [`Rejection`] carrying the status the transport draft gives it.

use std::fmt;

use axum::{
    extract::{FromRequest, Request},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use http_body_util::BodyExt;

use super::Connection;
use crate::{
    codec,
    sink::{Peer, Received},
    upgrade::{self, UpgradeNote},
    Draft, Error, Limits, Message, Version, Violation, ViolationKind,
};

/// How the endpoint reads and checks a message.
#[derive(Clone, Debug, Default)]
pub struct ReceiveOptions {
    limits: Limits,
    upgrade: bool,
    repair: bool,
    strict: bool,
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

    /// Hands the sink messages of drafts older than [`Version::LATEST`]
    /// carried forward to it instead of as they came. A valid message that
    /// cannot be carried forward is then refused with 400.
    #[must_use]
    pub fn upgrade(mut self, upgrade: bool) -> Self {
        self.upgrade = upgrade;
        self
    }

    /// Repairs a message that its own draft's schema refuses, with the
    /// repairs of [`upgrade::repair`] (a single text where a list of texts
    /// is wanted; never a guessed value), and hands the sink the repaired
    /// message, as compact JSON, with each repair in
    /// [`Received::upgrade_report`]. A message still invalid is refused
    /// with the violations of the message as sent. Valid messages are
    /// untouched.
    #[must_use]
    pub fn repair(mut self, repair: bool) -> Self {
        self.repair = repair;
        self
    }

    /// Refuses with 400 a message that fails the strict rules
    /// ([`crate::strict`]) as the sink would receive it (after the
    /// repairs and the upgrade, when asked for). The strict rules apply to
    /// the typed model's drafts: a message of an older draft is refused
    /// unless [`upgrade`](Self::upgrade) carries it forward.
    #[must_use]
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Whether a JSON message is built into the typed model for the sink
    /// (default: yes). With `false` it is only checked, by the same rules
    /// and with the same answers, and [`Received::message`] is `None`: for
    /// sinks that keep the body as it came, at well under half the cost of
    /// building it (`cargo bench --bench decode`, the `check` row).
    /// [`Server`](super::Server) turns it off for a sink whose
    /// [`needs_typed_message`](crate::sink::Sink::needs_typed_message) says `false`.
    /// Messages in other encodings are always built (the line a
    /// [`FileSink`](crate::sink::FileSink) writes for them is the typed message's JSON).
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

/// Why a request was refused, with the status the draft gives it; axum
/// answers with it when [`Idmef`] is rejected.
#[derive(Clone, Debug)]
pub struct Rejection {
    status: StatusCode,
    error: String,
    violations: Vec<Violation>,
    /// The supported or acceptable media types (415, 406), boxed to keep
    /// the refusal small.
    list: Option<Box<(&'static str, Vec<String>)>>,
    answer_type: &'static str,
    body: Option<Bytes>,
}

impl Rejection {
    fn new(status: StatusCode, error: impl Into<String>) -> Self {
        Rejection {
            status,
            error: error.into(),
            violations: Vec::new(),
            list: None,
            answer_type: super::super::ANSWER_TYPES[0],
            body: None,
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

    /// The request body as received, when it was read whole before the
    /// refusal (a message refused with 400); `None` otherwise.
    pub fn body(&self) -> Option<&Bytes> {
        self.body.as_ref()
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
            super::super::refusal_body(&self.error, &self.violations)
        } else {
            let mut object = serde_json::Map::new();
            object.insert("error".into(), self.error.into());
            if let Some((name, list)) = self.list.map(|b| *b) {
                object.insert(name.into(), list.into());
            }
            serde_json::to_vec(&object).unwrap_or_default()
        };
        json_response(self.status, self.answer_type, body)
    }
}

/// A response with a JSON body.
pub(super) fn json_response(
    status: StatusCode,
    content_type: &'static str,
    body: Vec<u8>,
) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// An axum extractor for one IDMEFv2 message.
///
/// It checks `Content-Type` (415), `Accept` (406), the size (413) and the
/// message itself (400) as the [module](super) describes, under the
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
        Ok(accept) => super::super::negotiate(accept.as_deref()),
        Err(()) => None,
    };
    let unsupported = |reason: String| {
        let mut rejection = Rejection::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, reason);
        rejection.list = Some(Box::new(("supported", codec::supported())));
        rejection.answer_type = answer.unwrap_or(super::super::ANSWER_TYPES[0]);
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
        rejection.list = Some(Box::new((
            "alternatives",
            super::super::ANSWER_TYPES
                .iter()
                .map(|t| t.to_string())
                .collect(),
        )));
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

    judge(body.clone(), content_type, codec.as_ref(), &options, peer).map_err(|mut r| {
        r.body = Some(body);
        with_answer(r)
    })
}

/// Decodes and checks one body.
fn judge(
    body: Bytes,
    content_type: String,
    codec: &dyn codec::Codec,
    options: &ReceiveOptions,
    peer: Option<Peer>,
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
    if !crate::codec::is_json(codec.media_type()) {
        let message = codec
            .decode(&body, limits)
            .map_err(|e| Rejection::invalid(&e))?;
        strict_check(options, Some(&message))?;
        let (version, id) = (message.version.as_str(), message.id.as_str().to_owned());
        return Ok(received(body, content_type, version, id, Some(message)));
    }
    // Typed when the sink wants it or the strict rules need it.
    let checked = if options.untyped && !options.strict {
        crate::message::check_slice_with(&body, limits)
            .map(|(version, id)| (version.draft(), id.into_string(), None))
    } else {
        Message::from_slice_with(&body, limits)
            .map(|m| (m.version.draft(), m.id.as_str().to_owned(), Some(m)))
    };
    let checked = match checked {
        Err(Error::OlderDraft { version }) => {
            // Every draft requires a text `ID`, which its schema checked.
            let id = crate::json::message_id(&body).ok_or_else(|| {
                Rejection::new(StatusCode::BAD_REQUEST, "the message has no text ID")
            })?;
            let draft = version
                .parse::<Draft>()
                .map_err(|v| Rejection::invalid(&Error::Invalid(vec![v.at("/Version")].into())))?;
            Ok((draft, id, None))
        }
        other => other,
    };
    match checked {
        Ok((draft, _, _)) if options.upgrade && draft < Version::LATEST.draft() => {
            let upgraded = upgrade::Options::default()
                .limits(*limits)
                .upgrade_slice(&body)
                .map_err(|e| cannot_upgrade(draft, &e))?;
            kept(
                received,
                upgraded.message,
                Some(draft),
                upgraded.report,
                options,
            )
        }
        Ok((draft, id, message)) => {
            strict_check(options, message.as_ref())?;
            if options.strict && message.is_none() {
                return Err(not_strict_draft(draft));
            }
            Ok(received(body, content_type, draft.as_str(), id, message))
        }
        Err(refused @ Error::Invalid(_)) if options.repair => {
            let value = crate::json::parse_value(&body, limits.document_depth(), limits.max_depth)
                .map_err(|e| Rejection::invalid(&e))?;
            let repaired = upgrade::repair(&value).map_err(|_| Rejection::invalid(&refused))?;
            let draft = repaired.draft;
            let mut report = repaired.report;
            if options.upgrade && draft < Version::LATEST.draft() {
                let upgraded = upgrade::Options::default()
                    .limits(*limits)
                    .upgrade(&repaired.message)
                    .map_err(|e| cannot_upgrade(draft, &e))?;
                report.extend(upgraded.report);
                return kept(received, upgraded.message, Some(draft), report, options);
            }
            match draft.version() {
                Some(_) => {
                    let message = Message::from_slice_with(
                        &repaired.message.to_string().into_bytes(),
                        limits,
                    )
                    .map_err(|e| Rejection::invalid(&e))?;
                    kept(received, message, None, report, options)
                }
                None if options.strict => Err(not_strict_draft(draft)),
                None => {
                    let id = crate::json::message_id(&body).ok_or_else(|| {
                        Rejection::new(StatusCode::BAD_REQUEST, "the message has no text ID")
                    })?;
                    let body = Bytes::from(repaired.message.to_string());
                    let mut kept =
                        received(body, "application/json".into(), draft.as_str(), id, None);
                    kept.upgrade_report = report;
                    Ok(kept)
                }
            }
        }
        Err(e) => Err(Rejection::invalid(&e)),
    }
}

/// A message changed on the way in (upgraded or repaired), as the sink
/// receives it: its compact JSON encoding.
fn kept(
    received: impl Fn(Bytes, String, &str, String, Option<Message>) -> Received,
    message: Message,
    upgraded_from: Option<Draft>,
    report: Vec<UpgradeNote>,
    options: &ReceiveOptions,
) -> Result<Received, Rejection> {
    strict_check(options, Some(&message))?;
    let body = Bytes::from(message.to_vec());
    let id = message.id.as_str().to_owned();
    let version = message.version;
    let mut kept = received(
        body,
        "application/json".to_string(),
        version.as_str(),
        id,
        Some(message),
    );
    kept.upgraded_from = upgraded_from.map(|d| d.as_str().to_string());
    kept.upgrade_report = report;
    Ok(kept)
}

/// The refusal of a valid message the upgrade could not carry forward.
fn cannot_upgrade(draft: Draft, error: &Error) -> Rejection {
    let mut rejection = Rejection::invalid(error);
    rejection.error = format!("valid {draft} message that cannot be upgraded");
    rejection
}

/// Under [`ReceiveOptions::strict`], the strict rules on a typed message.
fn strict_check(options: &ReceiveOptions, message: Option<&Message>) -> Result<(), Rejection> {
    match message {
        Some(message) if options.strict => message.validate_strict().map_err(|e| {
            let mut rejection = Rejection::invalid(&e);
            rejection.error = "IDMEFv2 message that fails the strict rules".into();
            rejection
        }),
        _ => Ok(()),
    }
}

/// The refusal, under [`ReceiveOptions::strict`], of a message of a draft
/// the strict rules do not apply to.
fn not_strict_draft(draft: Draft) -> Rejection {
    let typed: Vec<&str> = Version::ALL.iter().map(|v| v.as_str()).collect();
    let violation = Violation::new(
        ViolationKind::Version,
        format!(
            "the strict rules apply to {} messages; this {draft} message would need an upgrade",
            typed.join(", ")
        ),
    )
    .at("/Version");
    let mut rejection = Rejection::invalid(&Error::Invalid(vec![violation].into()));
    rejection.error = "IDMEFv2 message that fails the strict rules".into();
    rejection
}

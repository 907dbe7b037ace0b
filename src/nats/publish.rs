//! Publishing alerts and waiting for JetStream to store them.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context as TaskContext, Poll},
    time::{Duration, Instant},
};

use async_nats::{
    header::{HeaderMap, HeaderValue, NATS_MESSAGE_ID},
    jetstream::{
        self,
        context::{PublishAckFuture, PublishError, PublishErrorKind},
    },
};
use bytes::Bytes;
use tokio::{sync::Semaphore, task::JoinHandle};

use super::Error;
use crate::{
    codec,
    outbox::{Deliver, DeliverError, DeliverErrorKind},
    Limits, Message,
};

/// A valid alert, encoded, with the `ID` that names it: what a
/// [`Publisher`] sends.
///
/// Making one is where validation happens, so it can be done away from the
/// task that publishes (a reader thread, a request handler).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    id: String,
    content_type: String,
    payload: Bytes,
    /// The JetStream message ID when it is not `id` (see
    /// [`Envelope::msg_id`]).
    msg_id: Option<String>,
}

impl Envelope {
    /// Encodes `message` with the codec for `media_type` (kept as given,
    /// parameters included, for the `Content-Type` header).
    pub fn encode(message: &Message, media_type: &str) -> Result<Self, crate::Error> {
        header_safe(media_type)?;
        let payload = codec::find(media_type)?.encode(message)?;
        Ok(Envelope {
            id: message.id.as_str().to_string(),
            content_type: media_type.to_string(),
            payload: payload.into(),
            msg_id: None,
        })
    }

    /// A JSON alert of any supported draft (`2.D.V02` on: deployed senders
    /// still emit older ones), checked against the schema of its own
    /// `Version` and kept byte for byte, with `Content-Type:
    /// application/json`.
    pub fn from_json(payload: impl Into<Bytes>, limits: &Limits) -> Result<Self, crate::Error> {
        let payload = payload.into();
        // Checked, not built: only the ID is kept.
        let id = match crate::message::check_slice_with(&payload, limits) {
            Ok((_, id)) => id.into_string(),
            Err(crate::Error::OlderDraft { .. }) => id_of(&payload)?,
            Err(e) => return Err(e),
        };
        Ok(Envelope {
            id,
            content_type: "application/json".to_string(),
            payload,
            msg_id: None,
        })
    }

    /// A message a receiver accepted (and so validated), as it is to be
    /// kept: its body and media type unchanged, published under `msg_id`
    /// (text fit for a header) as its JetStream message ID.
    #[cfg(feature = "server")]
    pub(crate) fn accepted(
        id: String,
        content_type: String,
        payload: Bytes,
        msg_id: String,
    ) -> Result<Self, crate::Error> {
        header_safe(&content_type)?;
        Ok(Envelope {
            id,
            content_type,
            payload,
            msg_id: Some(msg_id),
        })
    }

    /// The alert's `ID`, which becomes its JetStream message ID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The JetStream message ID (`Nats-Msg-Id`) the alert is published
    /// under: its `ID`, except for what a receiver's gateway publishes,
    /// which adds the digest of the content
    /// ([`StreamSink`](crate::gateway::nats::StreamSink)).
    pub fn msg_id(&self) -> &str {
        self.msg_id.as_deref().unwrap_or(&self.id)
    }

    /// The media type of the payload.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The encoded alert.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
}

/// Refuses a media type that cannot go in a `Content-Type` header as it
/// is (a control character, a line break above all).
fn header_safe(media_type: &str) -> Result<(), crate::Error> {
    if media_type.chars().any(char::is_control) {
        return Err(crate::Error::UnsupportedMediaType {
            media_type: media_type.escape_debug().to_string(),
            supported: codec::supported(),
        });
    }
    Ok(())
}

/// The `ID` of a JSON alert that its own draft's schema accepted (every
/// draft requires one, a string).
fn id_of(payload: &[u8]) -> Result<String, crate::Error> {
    crate::json::message_id(payload).ok_or_else(|| crate::Error::Codec {
        media_type: "application/json".to_string(),
        reason: "cannot read the ID: no text ID at the top level".to_string(),
    })
}

/// What JetStream said once it stored an alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    stream: String,
    sequence: u64,
    duplicate: bool,
    attempts: u32,
}

impl Receipt {
    /// The stream that stored the alert.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// The alert's sequence number in the stream (for a duplicate, that of
    /// the copy stored first).
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// Whether the stream already held an alert with this `ID` (within its
    /// duplicate window) and so did not store it again.
    pub fn duplicate(&self) -> bool {
        self.duplicate
    }

    /// How many times the alert was sent before it was acknowledged.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

/// Sets up a [`Publisher`].
#[must_use]
pub struct PublisherBuilder {
    client: async_nats::Client,
    subject: String,
    media_type: String,
    limits: Limits,
    max_in_flight: usize,
    ack_timeout: Duration,
    retry_for: Duration,
}

impl PublisherBuilder {
    /// Media type in which [`Publisher::publish`] encodes alerts
    /// (`application/json` by default).
    pub fn media_type(mut self, media_type: impl Into<String>) -> Self {
        self.media_type = media_type.into();
        self
    }

    /// Bounds for [`Publisher::publish_json`] (the crate's defaults
    /// otherwise).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// How many alerts may be sent and not yet acknowledged at once (256 by
    /// default, at least 1). Past that, [`Publisher::send`] waits.
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max.max(1);
        self
    }

    /// How long to wait for an acknowledgement before sending again (2 s by
    /// default).
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.ack_timeout = timeout;
        self
    }

    /// For how long an unacknowledged alert is sent again (30 s by
    /// default; zero sends it once). Every attempt carries the same message
    /// ID, so the stream stores it once however many attempts reach it.
    pub fn retry_for(mut self, window: Duration) -> Self {
        self.retry_for = window;
        self
    }

    /// The publisher. The subject must be a plain subject (no wildcards)
    /// and the media type one with a codec.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime (async-nats starts a task here).
    pub fn build(self) -> Result<Publisher, Error> {
        if !super::subject_is_valid(&self.subject, false) {
            return Err(Error::Address {
                address: self.subject,
                reason: "a publisher needs a subject of dot-separated tokens, \
                         without spaces or wildcards"
                    .to_string(),
            });
        }
        codec::find(&self.media_type).map_err(Error::Refused)?;
        let jetstream = jetstream::ContextBuilder::new()
            .timeout(self.ack_timeout)
            .max_ack_inflight(self.max_in_flight)
            .backpressure_on_inflight(true)
            .build(self.client);
        Ok(Publisher {
            inner: Arc::new(Inner {
                jetstream,
                subject: self.subject,
                media_type: self.media_type,
                limits: self.limits,
                in_flight: Arc::new(Semaphore::new(self.max_in_flight)),
                retry_for: self.retry_for,
            }),
        })
    }
}

/// Publishes alerts on one subject and waits for JetStream to store them.
///
/// Cheap to clone: clones share the connection and the bound on alerts in
/// flight, so one publisher can serve many tasks (request handlers of a
/// gateway, say), each waiting only for its own alert.
///
/// Every alert goes out with `Nats-Msg-Id` set to its `ID` and
/// `Content-Type` set to its media type; an alert that is not acknowledged
/// in time is sent again, with the same ID, until
/// [`PublisherBuilder::retry_for`] runs out.
#[derive(Clone)]
pub struct Publisher {
    inner: Arc<Inner>,
}

struct Inner {
    jetstream: jetstream::Context,
    subject: String,
    media_type: String,
    limits: Limits,
    in_flight: Arc<Semaphore>,
    retry_for: Duration,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("subject", &self.inner.subject)
            .field("media_type", &self.inner.media_type)
            .finish_non_exhaustive()
    }
}

impl Publisher {
    /// A publisher of alerts on `subject` over `client`; see the builder's
    /// methods for the defaults.
    pub fn builder(client: async_nats::Client, subject: impl Into<String>) -> PublisherBuilder {
        PublisherBuilder {
            client,
            subject: subject.into(),
            media_type: "application/json".to_string(),
            limits: Limits::default(),
            max_in_flight: 256,
            ack_timeout: Duration::from_secs(2),
            retry_for: Duration::from_secs(30),
        }
    }

    /// The subject alerts are published on.
    pub fn subject(&self) -> &str {
        &self.inner.subject
    }

    /// Encodes `message`, publishes it and returns once JetStream has stored
    /// it (or recognised it as a duplicate).
    pub async fn publish(&self, message: &Message) -> Result<Receipt, Error> {
        let envelope = Envelope::encode(message, &self.inner.media_type).map_err(Error::Refused)?;
        self.send(envelope).await?.await
    }

    /// Validates a JSON alert of any supported draft (see
    /// [`Envelope::from_json`]), publishes it unchanged and returns once
    /// JetStream has stored it. An invalid alert is [`Error::Refused`] and
    /// not sent.
    pub async fn publish_json(&self, payload: impl Into<Bytes>) -> Result<Receipt, Error> {
        let envelope = Envelope::from_json(payload, &self.inner.limits).map_err(Error::Refused)?;
        self.send(envelope).await?.await
    }

    /// Sends an alert without waiting for its acknowledgement, so that many
    /// can be in flight: it waits only while
    /// [`PublisherBuilder::max_in_flight`] alerts are unacknowledged, then
    /// returns a [`Pending`] that resolves to the [`Receipt`].
    ///
    /// The publish goes on (retries included) even if the `Pending` is
    /// dropped; only its outcome is lost then.
    pub async fn send(&self, envelope: Envelope) -> Result<Pending, Error> {
        let permit = self
            .inner
            .in_flight
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| self.inner.failed(0, &e))?;
        let headers = headers(&envelope);
        let payload = envelope.payload;
        let first = self.inner.send_once(&headers, &payload).await;
        let inner = Arc::clone(&self.inner);
        let task = tokio::spawn(async move {
            let receipt = inner.settle(first, &headers, &payload).await;
            drop(permit);
            receipt
        });
        Ok(Pending { task })
    }
}

/// The publisher as a transport of the [`outbox`](crate::outbox): a JSON
/// alert is checked (an invalid one is
/// [`Refused`](DeliverErrorKind::Refused) with its violations, as is a
/// media type other than JSON, which the outbox cannot check), then
/// published and acknowledged as [`publish_json`](Publisher::publish_json)
/// does; a publish not acknowledged within
/// [`PublisherBuilder::retry_for`] is
/// [`Unavailable`](DeliverErrorKind::Unavailable).
impl Deliver for Publisher {
    async fn deliver(&self, body: &[u8], content_type: &str) -> Result<(), DeliverError> {
        if codec::essence(content_type) != "application/json" {
            return Err(DeliverError::new(
                DeliverErrorKind::Refused,
                format!("the NATS publisher takes application/json from an outbox, not {content_type:?}"),
            ));
        }
        match self.publish_json(Bytes::copy_from_slice(body)).await {
            Ok(_) => Ok(()),
            Err(Error::Refused(e)) => {
                let violations = e.violations().into_owned();
                Err(
                    DeliverError::new(DeliverErrorKind::Refused, Error::Refused(e))
                        .with_violations(violations),
                )
            }
            Err(e) => Err(DeliverError::new(DeliverErrorKind::Unavailable, e)),
        }
    }
}

fn headers(envelope: &Envelope) -> HeaderMap {
    let mut headers = HeaderMap::new();
    // Both were checked: a UUID, and a media type without control
    // characters.
    headers.insert(NATS_MESSAGE_ID, HeaderValue::from(envelope.msg_id()));
    headers.insert(
        "Content-Type",
        HeaderValue::from(envelope.content_type.as_str()),
    );
    headers
}

impl Inner {
    async fn send_once(
        &self,
        headers: &HeaderMap,
        payload: &Bytes,
    ) -> Result<PublishAckFuture, PublishError> {
        self.jetstream
            .publish_with_headers(self.subject.clone(), headers.clone(), payload.clone())
            .await
    }

    /// Waits for the acknowledgement of the first send, sending again while
    /// the failure is one that may pass and the retry window lasts.
    async fn settle(
        &self,
        first: Result<PublishAckFuture, PublishError>,
        headers: &HeaderMap,
        payload: &Bytes,
    ) -> Result<Receipt, Error> {
        let start = Instant::now();
        let mut sent = first;
        let mut attempts = 1;
        let mut pause = Duration::from_millis(50);
        loop {
            let outcome = match sent {
                Ok(ack) => ack.await,
                Err(e) => Err(e),
            };
            match outcome {
                Ok(ack) => {
                    return Ok(Receipt {
                        stream: ack.stream,
                        sequence: ack.sequence,
                        duplicate: ack.duplicate,
                        attempts,
                    })
                }
                Err(e) if may_pass(&e) && start.elapsed() + pause < self.retry_for => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                    attempts += 1;
                    sent = self.send_once(headers, payload).await;
                }
                Err(e) => return Err(self.failed(attempts, &e)),
            }
        }
    }

    fn failed(&self, attempts: u32, reason: &dyn std::fmt::Display) -> Error {
        Error::Publish {
            subject: self.subject.clone(),
            attempts,
            reason: reason.to_string(),
        }
    }
}

/// Whether a failed publish may succeed if sent again: no answer in time,
/// a lost connection, no stream listening yet (a leader being elected), a
/// server error; not a refusal such as a message over the size limit.
fn may_pass(error: &PublishError) -> bool {
    match error.kind() {
        PublishErrorKind::TimedOut
        | PublishErrorKind::BrokenPipe
        | PublishErrorKind::StreamNotFound
        | PublishErrorKind::MaxAckPending => true,
        PublishErrorKind::MaxPayloadExceeded
        | PublishErrorKind::WrongLastMessageId
        | PublishErrorKind::WrongLastSequence => false,
        // The server's own refusals come with an HTTP-like code: 4xx says
        // the message is at fault, 5xx that the server is.
        _ => std::error::Error::source(error)
            .and_then(|s| s.downcast_ref::<jetstream::Error>())
            .is_none_or(|e| e.code() >= 500),
    }
}

/// An alert sent and not yet acknowledged; await it for the [`Receipt`].
#[derive(Debug)]
#[must_use = "the publish goes on, but only awaiting it tells whether the alert was stored"]
pub struct Pending {
    task: JoinHandle<Result<Receipt, Error>>,
}

impl Future for Pending {
    type Output = Result<Receipt, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.task).poll(cx).map(|joined| {
            joined.unwrap_or_else(|e| {
                Err(Error::Publish {
                    subject: String::new(),
                    attempts: 0,
                    reason: format!("the publishing task ended early: {e}"),
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_drafts_keep_their_bytes_and_give_their_id() {
        let v04 = br#"{"Version": "2.D.V04", "ID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
            "CreateTime": "2021-05-01T10:00:00Z", "Status": "Event",
            "Analyzer": {"Name": "ids", "IP": "192.0.2.1"}}"#;
        let envelope = Envelope::from_json(&v04[..], &Limits::default()).unwrap();
        assert_eq!(envelope.id(), "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
        assert_eq!(envelope.payload(), v04);
        assert_eq!(envelope.content_type(), "application/json");
    }

    #[test]
    fn invalid_json_is_refused_with_its_pointer() {
        let bad = br#"{"Version": "2.D.V04", "ID": "x", "CreateTime": "2021-05-01T10:00:00Z",
            "Analyzer": {"Name": "ids", "IP": "192.0.2.1"}}"#;
        let error = Envelope::from_json(&bad[..], &Limits::default()).unwrap_err();
        let pointers: Vec<String> = error
            .violations()
            .iter()
            .map(|v| v.pointer().to_string())
            .collect();
        assert!(pointers.contains(&"/ID".to_string()), "{pointers:?}");
    }

    #[test]
    fn media_types_with_line_breaks_are_refused() {
        let message = Message::builder(crate::Analyzer::builder("a"))
            .build()
            .unwrap();
        let error = Envelope::encode(&message, "application/json\r\nX: y").unwrap_err();
        assert!(matches!(error, crate::Error::UnsupportedMediaType { .. }));
        let envelope = Envelope::encode(&message, "application/json; charset=utf-8").unwrap();
        assert_eq!(envelope.id(), message.id.as_str());
        assert_eq!(envelope.payload(), message.to_vec());
    }
}

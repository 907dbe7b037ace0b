//! Producing alerts and waiting for the broker to acknowledge them.

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    task::{Context as TaskContext, Poll},
    time::Duration,
};

use rdkafka::{
    error::{KafkaError, RDKafkaErrorCode},
    message::{Header, OwnedHeaders},
    producer::{future_producer::DeliveryFuture, FutureProducer, FutureRecord, Producer as _},
};

use super::{Connection, Error, ErrorKind, CONTENT_TYPE_HEADER, VERSION_HEADER};
use crate::{codec, Limits, Message};

/// A valid alert, encoded, with the `ID` and draft that name it: what a
/// [`Producer`] sends.
///
/// Making one is where validation happens, so it can be done away from the
/// task that produces (a reader thread, a request handler).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    id: String,
    version: String,
    content_type: String,
    payload: Vec<u8>,
}

impl Envelope {
    /// Encodes `message` with the codec for `media_type` (kept as given,
    /// parameters included, for the `Content-Type` header).
    pub fn encode(message: &Message, media_type: &str) -> Result<Self, crate::Error> {
        header_safe(media_type)?;
        let payload = codec::find(media_type)?.encode(message)?;
        Ok(Envelope {
            id: message.id.as_str().to_string(),
            version: message.version.as_str().to_string(),
            content_type: media_type.to_string(),
            payload,
        })
    }

    /// A JSON alert of any supported draft (`2.D.V02` on: deployed senders
    /// still emit older ones), checked against the schema of its own
    /// `Version` and kept byte for byte, with `Content-Type:
    /// application/json`.
    pub fn from_json(payload: impl Into<Vec<u8>>, limits: &Limits) -> Result<Self, crate::Error> {
        let payload = payload.into();
        let (version, id) = match crate::message::check_slice_with(&payload, limits) {
            Ok((version, id)) => (version.as_str().to_string(), id.into_string()),
            Err(crate::Error::OlderDraft { version }) => (version, id_of(&payload)?),
            Err(e) => return Err(e),
        };
        Ok(Envelope {
            id,
            version,
            content_type: "application/json".to_string(),
            payload,
        })
    }

    /// An encoded alert of media type `content_type`, checked by that
    /// media type's codec (JSON of any supported draft, as
    /// [`Envelope::from_json`]) and kept byte for byte: what a transport
    /// that is handed bodies, such as a delivery queue, produces.
    pub fn from_body(
        payload: impl Into<Vec<u8>>,
        content_type: &str,
        limits: &Limits,
    ) -> Result<Self, crate::Error> {
        header_safe(content_type)?;
        let codec = codec::find(content_type)?;
        let mut envelope = if codec.media_type() == "application/json" {
            Envelope::from_json(payload, limits)?
        } else {
            let payload = payload.into();
            let message = codec.decode(&payload, limits)?;
            Envelope {
                id: message.id.as_str().to_string(),
                version: message.version.as_str().to_string(),
                content_type: String::new(),
                payload,
            }
        };
        envelope.content_type = content_type.to_string();
        Ok(envelope)
    }

    /// A message an HTTPS receiver accepted (and so validated), as it is to
    /// be kept: its body and media type unchanged.
    #[cfg(feature = "server")]
    pub(crate) fn received(received: crate::sink::Received) -> Result<Self, crate::Error> {
        header_safe(&received.content_type)?;
        Ok(Envelope {
            id: received.id,
            version: received.version,
            content_type: received.content_type,
            payload: received.body.to_vec(),
        })
    }

    /// The alert's `ID`, which becomes the record's key.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The alert's `Version`.
    pub fn version(&self) -> &str {
        &self.version
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

/// Refuses a media type that cannot go in a header as it is (a control
/// character, a line break above all).
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

/// Where the broker stored an alert it acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receipt {
    partition: i32,
    offset: i64,
}

impl Receipt {
    /// The partition that holds the alert.
    pub fn partition(&self) -> i32 {
        self.partition
    }

    /// The alert's offset in its partition.
    pub fn offset(&self) -> i64 {
        self.offset
    }
}

/// Sets up a [`Producer`].
#[must_use]
pub struct ProducerBuilder {
    connection: Connection,
    topic: String,
    media_type: String,
    limits: Limits,
    deliver_within: Duration,
    linger: Duration,
}

impl ProducerBuilder {
    /// Media type in which [`Producer::publish`] encodes alerts
    /// (`application/json` by default).
    pub fn media_type(mut self, media_type: impl Into<String>) -> Self {
        self.media_type = media_type.into();
        self
    }

    /// Bounds for [`Producer::publish_json`] and [`Producer::deliver`]
    /// (the crate's defaults otherwise).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// For how long librdkafka keeps sending an unacknowledged alert (a
    /// broker restarting, a leader moving) before reporting it not
    /// acknowledged (`message.timeout.ms`; 30 s by default).
    pub fn deliver_within(mut self, window: Duration) -> Self {
        self.deliver_within = window;
        self
    }

    /// How long librdkafka waits to fill a batch (`linger.ms`; 5 ms by
    /// default).
    pub fn linger(mut self, linger: Duration) -> Self {
        self.linger = linger;
        self
    }

    /// The producer: idempotent, `acks=all`. The topic must be a legal
    /// topic name and the media type one with a codec.
    pub fn build(self) -> Result<Producer, Error> {
        super::check_name(&self.topic).map_err(|reason| {
            Error::new(
                ErrorKind::Address,
                format!("topic {:?}: {reason}", self.topic),
            )
        })?;
        codec::find(&self.media_type).map_err(Error::refused)?;
        let mut config = self.connection.config();
        config
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set(
                "message.timeout.ms",
                millis(self.deliver_within).to_string(),
            )
            .set("linger.ms", millis(self.linger).to_string());
        self.connection.finish(&mut config);
        let producer: FutureProducer = config
            .create()
            .map_err(|e| Error::caused(ErrorKind::Config, "Kafka producer", e))?;
        Ok(Producer {
            inner: Arc::new(Inner {
                current: Mutex::new((0, producer)),
                config,
                topic: self.topic,
                media_type: self.media_type,
                limits: self.limits,
                deliver_within: self.deliver_within,
            }),
        })
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Produces alerts to one topic and waits for the broker to acknowledge
/// them.
///
/// Cheap to clone: clones share librdkafka's producer (its connections,
/// queue and batches), so one producer can serve many tasks, each waiting
/// only for its own alert.
#[derive(Clone)]
pub struct Producer {
    inner: Arc<Inner>,
}

struct Inner {
    /// The librdkafka producer in use, and how many were replaced before
    /// it.
    current: Mutex<(u64, FutureProducer)>,
    /// Its settings, to make a new one.
    config: rdkafka::ClientConfig,
    topic: String,
    media_type: String,
    limits: Limits,
    deliver_within: Duration,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("topic", &self.inner.topic)
            .field("media_type", &self.inner.media_type)
            .finish_non_exhaustive()
    }
}

impl Producer {
    /// A producer of alerts to `topic` through `connection`; see the
    /// builder's methods for the defaults.
    pub fn builder(connection: Connection, topic: impl Into<String>) -> ProducerBuilder {
        ProducerBuilder {
            connection,
            topic: topic.into(),
            media_type: "application/json".to_string(),
            limits: Limits::default(),
            deliver_within: Duration::from_secs(30),
            linger: Duration::from_millis(5),
        }
    }

    /// The topic alerts are produced to.
    pub fn topic(&self) -> &str {
        &self.inner.topic
    }

    /// Encodes `message`, produces it and returns once the broker has
    /// acknowledged it.
    pub async fn publish(&self, message: &Message) -> Result<Receipt, Error> {
        let envelope = Envelope::encode(message, &self.inner.media_type).map_err(Error::refused)?;
        self.send(envelope).await?.await
    }

    /// Validates a JSON alert of any supported draft (see
    /// [`Envelope::from_json`]), produces it unchanged and returns once the
    /// broker has acknowledged it. An invalid alert is
    /// [`ErrorKind::Refused`] and not sent.
    pub async fn publish_json(&self, payload: impl Into<Vec<u8>>) -> Result<Receipt, Error> {
        let envelope = Envelope::from_json(payload, &self.inner.limits).map_err(Error::refused)?;
        self.send(envelope).await?.await
    }

    /// What a delivery queue calls: checks `body` by the codec of
    /// `content_type` ([`Envelope::from_body`]), produces it unchanged and
    /// returns once the broker has acknowledged it. A failure's
    /// [`Error::class`] says whether to try again (transient), give the
    /// body up (permanent), or stop (fatal).
    pub async fn deliver(&self, body: &[u8], content_type: &str) -> Result<Receipt, Error> {
        let envelope =
            Envelope::from_body(body, content_type, &self.inner.limits).map_err(Error::refused)?;
        self.send(envelope).await?.await
    }

    /// Hands an alert to librdkafka without waiting for its
    /// acknowledgement, so that many can be in flight: it waits only while
    /// librdkafka's queue is full, then returns a [`Pending`] that resolves
    /// to the [`Receipt`].
    ///
    /// The send goes on (retries included) even if the `Pending` is
    /// dropped; only its outcome is lost then.
    pub async fn send(&self, envelope: Envelope) -> Result<Pending, Error> {
        let headers = OwnedHeaders::new_with_capacity(2)
            .insert(Header {
                key: CONTENT_TYPE_HEADER,
                value: Some(envelope.content_type.as_bytes()),
            })
            .insert(Header {
                key: VERSION_HEADER,
                value: Some(envelope.version.as_bytes()),
            });
        let mut record = FutureRecord::to(&self.inner.topic)
            .key(envelope.id.as_bytes())
            .payload(&envelope.payload[..])
            .headers(headers);
        let started = tokio::time::Instant::now();
        loop {
            let (generation, producer) = self.inner.producer();
            match producer.send_result(record) {
                Ok(future) => {
                    return Ok(Pending {
                        future,
                        generation,
                        producer,
                        topic: Arc::clone(&self.inner),
                    })
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                    if started.elapsed() < self.inner.deliver_within =>
                {
                    record = back;
                    // librdkafka's queue drains as acknowledgements come.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((e, _)) => return Err(self.inner.failed(e)),
            }
        }
    }

    /// Waits until every alert handed to librdkafka was acknowledged or
    /// failed, for at most `limit`.
    pub async fn flush(&self, limit: Duration) -> Result<(), Error> {
        let (_, producer) = self.inner.producer();
        tokio::task::spawn_blocking(move || producer.flush(limit))
            .await
            .map_err(|e| Error::caused(ErrorKind::Publish, "flush", e))?
            .map_err(|e| self.inner.failed(e))
    }
}

impl Inner {
    /// The producer in use, with its generation.
    fn producer(&self) -> (u64, FutureProducer) {
        let current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        (current.0, current.1.clone())
    }

    /// Replaces a producer that met a fatal error (librdkafka's idempotent
    /// producer stops for good when, say, the broker refuses to carry its
    /// sequence on after messages timed out), unless another caller did
    /// already. Alerts it had not delivered were reported failed; they are
    /// the callers' to send again.
    fn renew(&self, generation: u64) {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if current.0 != generation {
            return;
        }
        if let Ok(fresh) = self.config.create::<FutureProducer>() {
            *current = (generation + 1, fresh);
        }
    }

    fn failed(&self, e: KafkaError) -> Error {
        Error::caused(
            ErrorKind::Publish,
            format!("produce to {} not acknowledged", self.topic),
            e,
        )
    }
}

/// Whether a delivery error says the broker will not take this producer's
/// records any more (its producer ID or epoch refused), so that only a new
/// producer gets through: what some brokers answer an idempotent producer
/// that asks to carry on after messages timed out.
fn ends_producer(error: &KafkaError) -> bool {
    matches!(
        error.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::ProducerFenced
                | RDKafkaErrorCode::OutOfOrderSequenceNumber
                | RDKafkaErrorCode::UnknownProducerId
                | RDKafkaErrorCode::InvalidProducerEpoch
                | RDKafkaErrorCode::InvalidProducerIdMapping
        )
    )
}

/// An alert handed to librdkafka and not yet acknowledged; await it for the
/// [`Receipt`].
#[must_use = "the send goes on, but only awaiting it tells whether the alert was stored"]
pub struct Pending {
    future: DeliveryFuture,
    generation: u64,
    producer: FutureProducer,
    topic: Arc<Inner>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("topic", &self.topic.topic)
            .finish_non_exhaustive()
    }
}

impl Future for Pending {
    type Output = Result<Receipt, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.future).poll(cx).map(|outcome| {
            match outcome {
                Ok(Ok(delivery)) => Ok(Receipt {
                    partition: delivery.partition,
                    offset: delivery.offset,
                }),
                Ok(Err((e, _))) => {
                    if self.producer.client().fatal_error().is_some() || ends_producer(&e) {
                        self.topic.renew(self.generation);
                    }
                    Err(self.topic.failed(e))
                }
                // librdkafka dropped the report: the producer is gone.
                Err(e) => Err(Error::caused(
                    ErrorKind::Publish,
                    format!("produce to {}: no delivery report", self.topic.topic),
                    e,
                )),
            }
        })
    }
}

/// The Kafka producer as a deliverer of the delivery engine
/// ([`crate::outbox`]): `idmefv2 send --url kafka://…` and any outbox
/// deliver through it, each body checked by its codec and produced once
/// the broker acknowledges it. A refused alert is dead-lettered with its
/// violations, a broker out of reach is waited for, and a fault of the
/// client's settings stops delivery ([`Error::class`]).
impl crate::outbox::Deliver for Producer {
    async fn deliver(
        &self,
        body: &[u8],
        content_type: &str,
    ) -> Result<(), crate::outbox::DeliverError> {
        use crate::outbox::{DeliverError, DeliverErrorKind};
        match Producer::deliver(self, body, content_type).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let violations = e
                    .refusal()
                    .map(|refusal| refusal.violations().into_owned())
                    .unwrap_or_default();
                let kind = match e.class() {
                    super::Class::Permanent => DeliverErrorKind::Refused,
                    super::Class::Transient => DeliverErrorKind::Unavailable,
                    super::Class::Fatal => DeliverErrorKind::Fatal,
                };
                Err(DeliverError::new(kind, e).with_violations(violations))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_drafts_keep_their_bytes_and_give_their_id_and_draft() {
        let v04 = br#"{"Version": "2.D.V04", "ID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
            "CreateTime": "2021-05-01T10:00:00Z", "Status": "Event",
            "Analyzer": {"Name": "ids", "IP": "192.0.2.1"}}"#;
        let envelope = Envelope::from_json(&v04[..], &Limits::default()).unwrap();
        assert_eq!(envelope.id(), "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
        assert_eq!(envelope.version(), "2.D.V04");
        assert_eq!(envelope.payload(), v04);
        let body = Envelope::from_body(
            &v04[..],
            "application/json; charset=utf-8",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(body.content_type(), "application/json; charset=utf-8");
    }

    #[test]
    fn invalid_bodies_are_refused_with_their_pointer() {
        let bad = br#"{"Version": "2.D.V04", "ID": "x", "CreateTime": "2021-05-01T10:00:00Z",
            "Analyzer": {"Name": "ids", "IP": "192.0.2.1"}}"#;
        let error =
            Envelope::from_body(&bad[..], "application/json", &Limits::default()).unwrap_err();
        let pointers: Vec<String> = error
            .violations()
            .iter()
            .map(|v| v.pointer().to_string())
            .collect();
        assert!(pointers.contains(&"/ID".to_string()), "{pointers:?}");
        let wrapped = Error::refused(error);
        assert_eq!(wrapped.class(), super::super::Class::Permanent);
        assert!(std::error::Error::source(&wrapped).is_some());
        assert!(wrapped.refusal().is_some());
    }

    #[test]
    fn typed_alerts_carry_their_draft() {
        let message = Message::builder(crate::Analyzer::builder("a"))
            .build()
            .unwrap();
        let envelope = Envelope::encode(&message, "application/json").unwrap();
        assert_eq!(envelope.version(), message.version.as_str());
        assert!(Envelope::encode(&message, "application/json\r\nX: y").is_err());
    }
}

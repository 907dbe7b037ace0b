//! A durable pull consumer handing out decoded alerts, and the dead-letter
//! path for payloads that are not alerts.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use async_nats::{
    header::{HeaderMap, HeaderValue, NATS_MESSAGE_ID},
    jetstream::{
        self,
        consumer::{pull, AckPolicy, DeliverPolicy, PullConsumer},
        context::{GetStreamByNameErrorKind, GetStreamErrorKind, PublishError, PublishErrorKind},
        AckKind,
    },
};
use futures_util::StreamExt;

use super::{
    Error, StreamSpec, MAX_LISTED_VIOLATIONS, PAYLOAD_OMITTED_HEADER, SOURCE_SEQUENCE_HEADER,
    SOURCE_STREAM_HEADER, SOURCE_SUBJECT_HEADER, VIOLATIONS_HEADER, VIOLATION_COUNT_HEADER,
};
use crate::{codec, Limits, Message, Violation};

/// How long a delivery may stay unacknowledged before JetStream delivers it
/// again, unless [`ConsumerBuilder::ack_wait`] says otherwise: 30 seconds.
pub const DEFAULT_ACK_WAIT: Duration = Duration::from_secs(30);

/// How many pulls in a row may fail (a quarter of a second apart) before
/// [`Consumer::next`] gives up: about 15 seconds, longer than a leader
/// election takes.
const MAX_FAILURES: u32 = 60;

/// The longest a single pull request waits on the server.
const MAX_PULL_WAIT: Duration = Duration::from_secs(30);

/// Sets up a [`Consumer`].
#[must_use]
pub struct ConsumerBuilder {
    client: async_nats::Client,
    stream: String,
    durable: String,
    filter: Option<String>,
    dead_letter: Option<String>,
    ack_wait: Duration,
    batch: usize,
    limits: Limits,
    max_messages: Option<u64>,
    idle_timeout: Option<Duration>,
}

impl ConsumerBuilder {
    /// Only messages on subjects matching `subject` (wildcards allowed);
    /// all of the stream's otherwise.
    pub fn filter_subject(mut self, subject: impl Into<String>) -> Self {
        self.filter = Some(subject.into());
        self
    }

    /// Where payloads that are not valid alerts are copied
    /// (`STREAM.dead-letter` by default). When no stream captures that
    /// subject, [`ConsumerBuilder::build`] creates `STREAM_DEAD_LETTER` for
    /// it, with the source stream's number of replicas.
    pub fn dead_letter_subject(mut self, subject: impl Into<String>) -> Self {
        self.dead_letter = Some(subject.into());
        self
    }

    /// How long a delivery may stay unacknowledged before it is delivered
    /// again ([`DEFAULT_ACK_WAIT`]). Used when the durable consumer is
    /// created; an existing one keeps its own.
    pub fn ack_wait(mut self, wait: Duration) -> Self {
        self.ack_wait = wait;
        self
    }

    /// How many messages one pull asks for (256 by default, at least 1).
    pub fn batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Bounds on each payload (the crate's defaults otherwise); a payload
    /// over them is dead-lettered.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Hand out at most `count` deliveries, then end; no more than that is
    /// pulled from the server, so nothing is left waiting for redelivery.
    pub fn max_messages(mut self, count: u64) -> Self {
        self.max_messages = Some(count);
        self
    }

    /// End once no message has come for `idle`: [`Consumer::next`] gives
    /// `None` when a call waited that long for nothing (a later call waits
    /// again) and the server has nothing left for this consumer.
    ///
    /// Before ending, the consumer asks the server how many messages it
    /// still holds for it: not yet delivered (`num_pending`), or delivered
    /// but acknowledged by nobody, beyond the deliveries this consumer has
    /// handed out and not yet settled (`num_ack_pending`; a delivery lost
    /// on its way, during a leader change or a node restart, comes again
    /// once the acknowledgement wait has passed). While there are any, it
    /// waits on: an idle timeout ends a consumer that has read everything,
    /// never one that a slow or recovering cluster keeps waiting.
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = Some(idle);
        self
    }

    /// Binds to the stream, creating the durable consumer (explicit
    /// acknowledgement, from the start of the stream) when missing, and the
    /// dead-letter stream when nothing captures the dead-letter subject.
    ///
    /// A stream that does not exist is [`Error::NoStream`]; an existing
    /// consumer with another filter subject, or a dead-letter subject that
    /// the source stream itself captures (dead letters would come back), is
    /// [`Error::Request`].
    pub async fn build(self) -> Result<Consumer, Error> {
        let js = jetstream::ContextBuilder::new()
            .timeout(Duration::from_secs(5))
            .build(self.client);
        let mut stream = match js.get_stream(&self.stream).await {
            Ok(stream) => stream,
            Err(e) => {
                return Err(match e.kind() {
                    GetStreamErrorKind::JetStream(j)
                        if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND =>
                    {
                        Error::NoStream {
                            stream: self.stream,
                        }
                    }
                    _ => match Error::no_jetstream(&js).await {
                        Some(missing) => missing,
                        None => Error::request(format!("look up stream {}", self.stream), e),
                    },
                })
            }
        };
        let replicas = stream
            .info()
            .await
            .map_err(|e| Error::request(format!("look up stream {}", self.stream), e))?
            .config
            .num_replicas
            .max(1);
        let dead_letter = self
            .dead_letter
            .unwrap_or_else(|| format!("{}.dead-letter", self.stream));
        if !super::subject_is_valid(&dead_letter, false) {
            return Err(Error::Address {
                address: dead_letter,
                reason: "a dead-letter subject has no wildcards or spaces".to_string(),
            });
        }
        match js.stream_by_subject(dead_letter.clone()).await {
            Ok(name) if name == self.stream => {
                return Err(Error::request(
                    format!("dead-letter subject {dead_letter}"),
                    format!("stream {name} captures it, so dead letters would come back"),
                ))
            }
            Ok(_) => {}
            Err(e) if e.kind() == GetStreamByNameErrorKind::NotFound => {
                StreamSpec::new(format!("{}_DEAD_LETTER", self.stream), dead_letter.clone())
                    .replicas(replicas)
                    .ensure_in(&js)
                    .await?;
            }
            Err(e) => {
                return Err(Error::request(
                    format!("look up the stream of {dead_letter}"),
                    e,
                ))
            }
        }
        let filter = self.filter.unwrap_or_default();
        let config = pull::Config {
            durable_name: Some(self.durable.clone()),
            ack_policy: AckPolicy::Explicit,
            deliver_policy: DeliverPolicy::All,
            ack_wait: self.ack_wait,
            filter_subject: filter.clone(),
            ..pull::Config::default()
        };
        let what = || format!("consumer {} on stream {}", self.durable, self.stream);
        let mut consumer: PullConsumer = stream
            .get_or_create_consumer(&self.durable, config)
            .await
            .map_err(|e| Error::request(what(), e))?;
        let found = consumer
            .info()
            .await
            .map_err(|e| Error::request(what(), e))?
            .config
            .filter_subject
            .clone();
        if found != filter {
            return Err(Error::request(
                what(),
                format!("it exists with filter subject {found:?}, not {filter:?}"),
            ));
        }
        Ok(Consumer {
            js,
            consumer,
            stream: self.stream,
            durable: self.durable.into(),
            dead_letter,
            limits: self.limits,
            batch_size: self.batch,
            remaining: self.max_messages,
            idle_timeout: self.idle_timeout,
            batch: None,
            dead_letters: Vec::new(),
            dead_lettered: 0,
            failures: 0,
            held: Arc::new(AtomicU64::new(0)),
        })
    }
}

/// A payload that was not a valid alert, as it was copied to the
/// dead-letter subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its sequence number in the source stream.
    pub sequence: u64,
    /// The subject it was published on.
    pub subject: String,
    /// Why it was refused.
    pub violations: Vec<Violation>,
}

/// How many dead letters [`Consumer::drain_dead_letters`] keeps between two
/// calls; older ones are counted only.
const KEPT_DEAD_LETTERS: usize = 1024;

/// A durable pull consumer of one stream that hands out decoded, valid
/// alerts and acknowledges each only when told to.
///
/// ```no_run
/// # async fn run(client: async_nats::Client) -> Result<(), idmefv2::nats::Error> {
/// let mut consumer = idmefv2::nats::Consumer::builder(client, "IDMEFV2", "indexer")
///     .build()
///     .await?;
/// while let Some(delivery) = consumer.next().await? {
///     if let Some(alert) = delivery.message() {
///         println!("{}", alert.id.as_str());
///     }
///     delivery.ack().await?; // only now will it not come again
/// }
/// # Ok(())
/// # }
/// ```
pub struct Consumer {
    js: jetstream::Context,
    consumer: PullConsumer,
    stream: String,
    durable: Arc<str>,
    dead_letter: String,
    limits: Limits,
    batch_size: usize,
    remaining: Option<u64>,
    idle_timeout: Option<Duration>,
    batch: Option<pull::Batch>,
    dead_letters: Vec<DeadLetter>,
    dead_lettered: u64,
    /// Pulls failed in a row.
    failures: u32,
    /// Deliveries handed out and not yet acknowledged, handed back or
    /// dropped: the server counts them as awaiting acknowledgement.
    held: Arc<AtomicU64>,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("stream", &self.stream)
            .field("durable", &self.durable)
            .field("dead_letter", &self.dead_letter)
            .finish_non_exhaustive()
    }
}

impl Consumer {
    /// A consumer named `durable` of `stream`; see the builder's methods
    /// for the choices and their defaults.
    pub fn builder(
        client: async_nats::Client,
        stream: impl Into<String>,
        durable: impl Into<String>,
    ) -> ConsumerBuilder {
        ConsumerBuilder {
            client,
            stream: stream.into(),
            durable: durable.into(),
            filter: None,
            dead_letter: None,
            ack_wait: DEFAULT_ACK_WAIT,
            batch: 256,
            limits: Limits::default(),
            max_messages: None,
            idle_timeout: None,
        }
    }

    /// The subject dead letters are copied to.
    pub fn dead_letter_subject(&self) -> &str {
        &self.dead_letter
    }

    /// How many payloads this consumer has dead-lettered.
    pub fn dead_lettered(&self) -> u64 {
        self.dead_lettered
    }

    /// The dead letters since the last call (up to the last 1024).
    pub fn drain_dead_letters(&mut self) -> std::vec::Drain<'_, DeadLetter> {
        self.dead_letters.drain(..)
    }

    /// The next valid alert, or `None` once
    /// [`ConsumerBuilder::max_messages`] were handed out or nothing came for
    /// [`ConsumerBuilder::idle_timeout`] and the server holds nothing more
    /// for this consumer. Without either it waits for ever.
    ///
    /// Payloads that are not valid alerts are dead-lettered on the way (see
    /// the [module documentation](super)); an error copying one leaves it
    /// unacknowledged, to be delivered again, and is returned.
    pub async fn next(&mut self) -> Result<Option<Delivery>, Error> {
        let mut last = Instant::now();
        loop {
            let remaining = self.remaining.unwrap_or(u64::MAX);
            let idle_left = self
                .idle_timeout
                .map(|idle| idle.saturating_sub(last.elapsed()));
            if (remaining == 0 || idle_left == Some(Duration::ZERO)) && self.batch.is_none() {
                self.flush().await?;
                if remaining > 0 && self.more_to_come().await? {
                    // Idle, but not done: wait another round.
                    last = Instant::now();
                    continue;
                }
                return Ok(None);
            }
            let batch = match &mut self.batch {
                Some(batch) => batch,
                None => {
                    let wait = idle_left
                        .unwrap_or(MAX_PULL_WAIT)
                        .clamp(Duration::from_millis(100), MAX_PULL_WAIT);
                    let size = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(self.batch_size);
                    match self
                        .consumer
                        .batch()
                        .max_messages(size)
                        .expires(wait)
                        .messages()
                        .await
                    {
                        Ok(batch) => self.batch.insert(batch),
                        Err(e) => {
                            self.pause_or_fail(&e, idle_left).await?;
                            continue;
                        }
                    }
                }
            };
            match batch.next().await {
                None => self.batch = None,
                Some(Err(e)) => {
                    self.batch = None;
                    self.pause_or_fail(&*e, idle_left).await?;
                }
                Some(Ok(message)) => {
                    last = Instant::now();
                    self.failures = 0;
                    if let Some(delivery) = self.examine(message).await? {
                        if let Some(remaining) = &mut self.remaining {
                            *remaining -= 1;
                        }
                        return Ok(Some(delivery));
                    }
                }
            }
        }
    }

    /// Runs `handler` on every alert until [`Consumer::next`] ends,
    /// acknowledging each alert once the handler returned `Ok` for it, and
    /// gives the number handled.
    ///
    /// When the handler fails, its alert is handed back for immediate
    /// redelivery (negatively acknowledged) and the error is returned.
    pub async fn run<F, E>(&mut self, mut handler: F) -> Result<u64, RunError<E>>
    where
        F: AsyncFnMut(&Delivery) -> Result<(), E>,
    {
        let mut handled = 0;
        while let Some(delivery) = self.next().await.map_err(RunError::Nats)? {
            match handler(&delivery).await {
                Ok(()) => {
                    delivery.ack().await.map_err(RunError::Nats)?;
                    handled += 1;
                }
                Err(e) => {
                    // If the negative acknowledgement is lost too, the alert
                    // still comes back once the ack wait has passed.
                    let _ = delivery.nak(None).await;
                    let _ = self.flush().await;
                    return Err(RunError::Handler(e));
                }
            }
        }
        Ok(handled)
    }

    /// Whether the server still holds messages for this consumer: some not
    /// yet delivered, or some delivered that nobody here holds (lost on
    /// their way; they come again after the acknowledgement wait). A
    /// failed question counts as a failed pull.
    ///
    /// The consumer's leader counts what is pending from its own copy of
    /// the stream; while a copy is catching up (a node restarted), that
    /// count may be short, so a stream with a copy that is online and not
    /// current has more to come too.
    async fn more_to_come(&mut self) -> Result<bool, Error> {
        let held = self.held.load(Ordering::SeqCst);
        let waiting = match self.consumer.info().await {
            Ok(info) => {
                let unsettled = u64::try_from(info.num_ack_pending).unwrap_or(u64::MAX);
                info.num_pending > 0 || unsettled > held || catching_up(info.cluster.as_ref())
            }
            Err(e) => {
                self.pause_or_fail(&e, None).await?;
                return Ok(true);
            }
        };
        if waiting {
            return Ok(true);
        }
        let stream = match self.js.get_stream(&self.stream).await {
            Ok(mut stream) => stream.info().await.map(|info| info.cluster.clone()),
            Err(e) => {
                self.pause_or_fail(&e, None).await?;
                return Ok(true);
            }
        };
        match stream {
            Ok(cluster) => Ok(catching_up(cluster.as_ref())),
            Err(e) => {
                self.pause_or_fail(&e, None).await?;
                Ok(true)
            }
        }
    }

    /// Sends what is buffered on the connection (acknowledgements
    /// included) to the server.
    pub async fn flush(&self) -> Result<(), Error> {
        self.js.client().flush().await.map_err(|e| self.failed(&e))
    }

    /// Waits a little after a pull failed for a reason that may pass (a
    /// server restarting, a leader election), as long as the idle timeout
    /// leaves time; fails otherwise.
    async fn pause_or_fail(
        &mut self,
        error: &dyn std::error::Error,
        idle_left: Option<Duration>,
    ) -> Result<(), Error> {
        let pause = Duration::from_millis(250);
        self.failures += 1;
        if self.failures > MAX_FAILURES || idle_left.is_some_and(|left| left < pause) {
            return Err(self.failed(&error));
        }
        tokio::time::sleep(pause).await;
        Ok(())
    }

    fn failed(&self, reason: &dyn std::fmt::Display) -> Error {
        Error::Consume {
            consumer: self.durable.to_string(),
            reason: reason.to_string(),
        }
    }

    /// Decodes one message: a [`Delivery`] when it is a valid alert;
    /// otherwise it is dead-lettered and `None` returned.
    async fn examine(&mut self, message: jetstream::Message) -> Result<Option<Delivery>, Error> {
        let (sequence, delivered) = match message.info() {
            Ok(info) => (
                info.stream_sequence,
                u64::try_from(info.delivered).unwrap_or(0),
            ),
            Err(e) => return Err(self.failed(&format!("a delivery without its metadata: {e}"))),
        };
        let content_type = message
            .headers
            .as_ref()
            .and_then(|h| h.get("Content-Type"))
            .map_or("application/json", HeaderValue::as_str)
            .to_string();
        let decoded = codec::find(&content_type)
            .and_then(|codec| codec.decode(&message.payload, &self.limits));
        let (alert, version) = match decoded {
            Ok(alert) => {
                let version = alert.version.as_str().to_string();
                (Some(alert), version)
            }
            Err(crate::Error::OlderDraft { version }) => (None, version),
            Err(error) => {
                self.bury(&message, sequence, &error).await?;
                return Ok(None);
            }
        };
        Ok(Some(Delivery {
            alert,
            version,
            content_type,
            sequence,
            delivered,
            durable: Arc::clone(&self.durable),
            message,
            _held: Held::new(&self.held),
        }))
    }

    /// Publishes one dead letter and waits for it to be stored.
    async fn copy(
        &self,
        headers: HeaderMap,
        payload: bytes::Bytes,
    ) -> Result<jetstream::publish::PublishAck, PublishError> {
        self.js
            .publish_with_headers(self.dead_letter.clone(), headers, payload)
            .await?
            .await
    }

    /// Copies a refused payload to the dead-letter subject, with why in its
    /// headers, and terminates it on the source stream once the copy is
    /// stored.
    async fn bury(
        &mut self,
        message: &jetstream::Message,
        sequence: u64,
        error: &crate::Error,
    ) -> Result<(), Error> {
        let violations = error.violations();
        let mut headers = HeaderMap::new();
        headers.insert(
            NATS_MESSAGE_ID,
            HeaderValue::from(format!("{}:{sequence}", self.stream)),
        );
        if let Some(ct) = message.headers.as_ref().and_then(|h| h.get("Content-Type")) {
            headers.insert("Content-Type", ct.clone());
        }
        headers.insert(
            SOURCE_STREAM_HEADER,
            HeaderValue::from(self.stream.as_str()),
        );
        headers.insert(
            SOURCE_SUBJECT_HEADER,
            HeaderValue::from(message.subject.as_str()),
        );
        headers.insert(
            SOURCE_SEQUENCE_HEADER,
            HeaderValue::from(sequence.to_string()),
        );
        headers.insert(
            VIOLATION_COUNT_HEADER,
            HeaderValue::from(violations.len().to_string()),
        );
        let listed: Vec<serde_json::Value> = violations
            .iter()
            .take(MAX_LISTED_VIOLATIONS)
            // The one JSON shape of a violation (its own Serialize), which
            // cannot fail: three texts.
            .map(|v| serde_json::to_value(v).unwrap_or_default())
            .collect();
        // Compact JSON escapes every control character, so the value holds
        // no line break.
        headers.insert(
            VIOLATIONS_HEADER,
            HeaderValue::from(serde_json::Value::from(listed).to_string()),
        );
        let mut stored = self.copy(headers.clone(), message.payload.clone()).await;
        if matches!(&stored, Err(e) if e.kind() == PublishErrorKind::MaxPayloadExceeded) {
            // The payload fitted alone but not with our headers: record the
            // refusal without it; the source stream still holds it at this
            // sequence (termination does not delete).
            headers.insert(
                PAYLOAD_OMITTED_HEADER,
                HeaderValue::from(message.payload.len().to_string()),
            );
            stored = self.copy(headers, bytes::Bytes::new()).await;
        }
        if let Err(e) = stored {
            return Err(self.failed(&format!(
                "cannot copy {}:{sequence} to dead-letter subject {}: {e}",
                self.stream, self.dead_letter
            )));
        }
        message.ack_with(AckKind::Term).await.map_err(|e| {
            self.failed(&format!("cannot terminate {}:{sequence}: {e}", self.stream))
        })?;
        self.dead_lettered += 1;
        if self.dead_letters.len() == KEPT_DEAD_LETTERS {
            self.dead_letters.remove(0);
        }
        self.dead_letters.push(DeadLetter {
            sequence,
            subject: message.subject.to_string(),
            violations: violations.to_vec(),
        });
        Ok(())
    }
}

/// One valid alert taken from the stream and not yet acknowledged.
///
/// Dropping it without [`Delivery::ack`] leaves it to be delivered again
/// once the consumer's ack wait has passed.
#[derive(Debug)]
pub struct Delivery {
    alert: Option<Message>,
    version: String,
    content_type: String,
    sequence: u64,
    delivered: u64,
    durable: Arc<str>,
    message: jetstream::Message,
    _held: Held,
}

/// Whether a clustered stream or consumer is between states: no leader,
/// or a copy on a server that is up but not current. A server that is
/// down does not count: it may never come back.
fn catching_up(cluster: Option<&jetstream::stream::ClusterInfo>) -> bool {
    cluster.is_some_and(|cluster| {
        !cluster.replicas.is_empty()
            && (cluster.leader.is_none()
                || cluster
                    .replicas
                    .iter()
                    .any(|peer| !peer.current && !peer.offline))
    })
}

/// One delivery counted in its consumer's `held` until it is settled or
/// dropped.
#[derive(Debug)]
struct Held(Arc<AtomicU64>);

impl Held {
    fn new(count: &Arc<AtomicU64>) -> Held {
        count.fetch_add(1, Ordering::SeqCst);
        Held(Arc::clone(count))
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Delivery {
    /// The decoded alert, for `2.D.V08` and `2.D.V09-Dev`; `None` for a
    /// valid alert of an older draft (its bytes are in
    /// [`Delivery::payload`]; [`crate::upgrade`] carries it forward).
    pub fn message(&self) -> Option<&Message> {
        self.alert.as_ref()
    }

    /// The alert's `Version`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The payload as stored.
    pub fn payload(&self) -> &[u8] {
        &self.message.payload
    }

    /// The payload's media type (`application/json` when the message had
    /// no `Content-Type`).
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The subject the alert was published on.
    pub fn subject(&self) -> &str {
        self.message.subject.as_str()
    }

    /// The alert's sequence number in the stream.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// How many times it has been delivered, this time included (more than
    /// 1: an earlier delivery was not acknowledged in time).
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Tells JetStream the alert is handled, so that it is not delivered
    /// again.
    pub async fn ack(self) -> Result<(), Error> {
        self.message.ack().await.map_err(|e| self.failed(&e))
    }

    /// Hands the alert back, to be delivered again after `delay` (at once
    /// without one).
    pub async fn nak(self, delay: Option<Duration>) -> Result<(), Error> {
        self.message
            .ack_with(AckKind::Nak(delay))
            .await
            .map_err(|e| self.failed(&e))
    }

    fn failed(&self, e: &dyn std::fmt::Display) -> Error {
        Error::Consume {
            consumer: self.durable.to_string(),
            reason: format!("cannot acknowledge {}: {e}", self.sequence),
        }
    }
}

/// Why [`Consumer::run`] stopped early.
#[derive(Debug, thiserror::Error)]
pub enum RunError<E> {
    /// Pulling or acknowledging failed.
    #[error(transparent)]
    Nats(Error),
    /// The handler failed; its alert was handed back.
    #[error("handler: {0}")]
    Handler(E),
}

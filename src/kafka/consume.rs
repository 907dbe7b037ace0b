//! A consumer in a consumer group handing out decoded alerts, and the
//! dead-letter path for records that are not alerts.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use rdkafka::{
    consumer::{CommitMode, Consumer as _, StreamConsumer},
    error::{KafkaError, RDKafkaErrorCode},
    message::{Header, Headers, Message as _, OwnedHeaders},
    producer::{FutureProducer, FutureRecord},
};

use super::{
    Connection, Error, ErrorKind, CONTENT_TYPE_HEADER, MAX_LISTED_VIOLATIONS, SOURCE_OFFSET_HEADER,
    SOURCE_PARTITION_HEADER, SOURCE_TOPIC_HEADER, VIOLATIONS_HEADER, VIOLATION_COUNT_HEADER,
};
use crate::{codec, Limits, Message, Violation};

/// How many receives in a row may fail (a quarter of a second apart)
/// before [`Consumer::next`] gives up: about 15 seconds.
const MAX_FAILURES: u32 = 60;

/// How long [`ConsumerBuilder::idle_timeout`] waits for the group to give
/// this member partitions before its clock starts anyway.
const JOIN_WAIT: Duration = Duration::from_secs(30);

/// Sets up a [`Consumer`].
#[must_use]
pub struct ConsumerBuilder {
    connection: Connection,
    topic: String,
    group: String,
    dead_letter: Option<String>,
    limits: Limits,
    max_messages: Option<u64>,
    idle_timeout: Option<Duration>,
    session_timeout: Duration,
    typed: bool,
}

impl ConsumerBuilder {
    /// Whether deliveries carry the typed [`Message`] (the default). A
    /// caller that only passes the bytes on says no: JSON alerts are then
    /// checked against their draft without being built, which is quicker,
    /// and [`Delivery::message`] is `None`.
    pub fn typed(mut self, typed: bool) -> Self {
        self.typed = typed;
        self
    }

    /// Where records that are not valid alerts are copied
    /// (`TOPIC.dead-letter` by default; created when missing).
    pub fn dead_letter_topic(mut self, topic: impl Into<String>) -> Self {
        self.dead_letter = Some(topic.into());
        self
    }

    /// Bounds on each payload (the crate's defaults otherwise); a payload
    /// over them is dead-lettered.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Hand out at most `count` deliveries, then end.
    pub fn max_messages(mut self, count: u64) -> Self {
        self.max_messages = Some(count);
        self
    }

    /// End once no alert has come for `idle`: [`Consumer::next`] gives
    /// `None` when a call waited that long for nothing. The clock starts
    /// once the group has given this member partitions (joining takes a
    /// few seconds), or after 30 s without any.
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = Some(idle);
        self
    }

    /// How long the group waits for a silent member before handing its
    /// partitions to others (`session.timeout.ms`, 6 s by default).
    pub fn session_timeout(mut self, timeout: Duration) -> Self {
        self.session_timeout = timeout;
        self
    }

    /// Joins the group, subscribed to the topic, reading from the start of
    /// any partition the group has no committed offset for; creates the
    /// dead-letter topic when missing.
    pub async fn build(self) -> Result<Consumer, Error> {
        let dead_letter = self
            .dead_letter
            .unwrap_or_else(|| format!("{}.dead-letter", self.topic));
        for (what, name) in [("topic", &self.topic), ("dead-letter topic", &dead_letter)] {
            super::check_name(name).map_err(|reason| {
                Error::new(ErrorKind::Address, format!("{what} {name:?}: {reason}"))
            })?;
        }
        if dead_letter == self.topic {
            return Err(Error::new(
                ErrorKind::Address,
                "the dead-letter topic is the topic read: dead letters would come back",
            ));
        }
        if self.group.is_empty() {
            return Err(Error::new(ErrorKind::Address, "an empty group name"));
        }
        self.connection.ensure_topic(&dead_letter, 1).await?;
        let mut config = self.connection.config();
        config
            .set("group.id", &self.group)
            // Only offsets stored by Delivery::ack are committed.
            .set("enable.auto.offset.store", "false")
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "1000")
            .set("auto.offset.reset", "earliest")
            .set(
                "session.timeout.ms",
                self.session_timeout.as_millis().to_string(),
            )
            .set("enable.partition.eof", "false");
        self.connection.finish(&mut config);
        let consumer: StreamConsumer = config
            .create()
            .map_err(|e| Error::caused(ErrorKind::Config, "Kafka consumer", e))?;
        consumer.subscribe(&[&self.topic]).map_err(|e| {
            Error::caused(
                ErrorKind::Consume,
                format!("subscribe to {}", self.topic),
                e,
            )
        })?;
        let mut config = self.connection.config();
        config
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("message.timeout.ms", "30000");
        self.connection.finish(&mut config);
        let dead_letters: FutureProducer = config
            .create()
            .map_err(|e| Error::caused(ErrorKind::Config, "Kafka dead-letter producer", e))?;
        Ok(Consumer {
            consumer: Arc::new(consumer),
            dead_letter_producer: dead_letters,
            topic: self.topic,
            group: self.group,
            dead_letter,
            limits: self.limits,
            remaining: self.max_messages,
            idle_timeout: self.idle_timeout,
            dead_letters: Vec::new(),
            dead_lettered: 0,
            started: Instant::now(),
            joined: false,
            typed: self.typed,
        })
    }
}

/// A record that was not a valid alert, as it was copied to the
/// dead-letter topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its partition in the source topic.
    pub partition: i32,
    /// Its offset there.
    pub offset: i64,
    /// Why it was refused.
    pub violations: Vec<Violation>,
}

/// How many dead letters [`Consumer::drain_dead_letters`] keeps between two
/// calls; older ones are counted only.
const KEPT_DEAD_LETTERS: usize = 1024;

/// A member of a consumer group that hands out decoded, valid alerts and
/// stores an alert's offset for commit only when told to.
///
/// Offsets stored are committed every second, by [`Consumer::commit`], and
/// when the consumer is dropped.
pub struct Consumer {
    consumer: Arc<StreamConsumer>,
    dead_letter_producer: FutureProducer,
    topic: String,
    group: String,
    dead_letter: String,
    limits: Limits,
    remaining: Option<u64>,
    idle_timeout: Option<Duration>,
    dead_letters: Vec<DeadLetter>,
    dead_lettered: u64,
    started: Instant,
    joined: bool,
    typed: bool,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("topic", &self.topic)
            .field("group", &self.group)
            .field("dead_letter", &self.dead_letter)
            .finish_non_exhaustive()
    }
}

impl Consumer {
    /// A member of `group` reading `topic`; see the builder's methods for
    /// the choices and their defaults.
    pub fn builder(
        connection: Connection,
        topic: impl Into<String>,
        group: impl Into<String>,
    ) -> ConsumerBuilder {
        ConsumerBuilder {
            connection,
            topic: topic.into(),
            group: group.into(),
            dead_letter: None,
            limits: Limits::default(),
            max_messages: None,
            idle_timeout: None,
            session_timeout: Duration::from_secs(6),
            typed: true,
        }
    }

    /// The topic dead letters are copied to.
    pub fn dead_letter_topic(&self) -> &str {
        &self.dead_letter
    }

    /// How many records this consumer has dead-lettered.
    pub fn dead_lettered(&self) -> u64 {
        self.dead_lettered
    }

    /// The dead letters since the last call (up to the last 1024).
    pub fn drain_dead_letters(&mut self) -> std::vec::Drain<'_, DeadLetter> {
        self.dead_letters.drain(..)
    }

    /// The next valid alert, or `None` once
    /// [`ConsumerBuilder::max_messages`] were handed out or nothing came for
    /// [`ConsumerBuilder::idle_timeout`]. Without either it waits for ever.
    ///
    /// Records that are not valid alerts are dead-lettered on the way; an
    /// error copying one leaves its offset unstored and is returned.
    pub async fn next(&mut self) -> Result<Option<Delivery>, Error> {
        let mut last = Instant::now();
        let mut failures = 0;
        loop {
            if self.remaining == Some(0) {
                return Ok(None);
            }
            let received = match self.idle_timeout {
                Some(idle) => {
                    if !self.joined() {
                        // Joining the group takes a few seconds: the idle
                        // clock runs only once there is something to read.
                        last = Instant::now();
                    }
                    let left = idle.saturating_sub(last.elapsed());
                    if left.is_zero() {
                        return Ok(None);
                    }
                    let slice = left.min(Duration::from_millis(250));
                    match tokio::time::timeout(slice, self.consumer.recv()).await {
                        Ok(received) => received,
                        Err(_) => continue,
                    }
                }
                None => self.consumer.recv().await,
            };
            let message = match received {
                Ok(message) => message.detach(),
                Err(e) => {
                    failures += 1;
                    if failures > MAX_FAILURES {
                        return Err(self.failed("receive", e));
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    continue;
                }
            };
            last = Instant::now();
            if let Some(delivery) = self.examine(message).await? {
                if let Some(remaining) = &mut self.remaining {
                    *remaining -= 1;
                }
                return Ok(Some(delivery));
            }
        }
    }

    /// Whether this member has partitions to read, or has waited
    /// [`JOIN_WAIT`] for them (a group with more members than partitions
    /// leaves some without).
    fn joined(&mut self) -> bool {
        if self.joined {
            return true;
        }
        let assigned = self
            .consumer
            .assignment()
            .is_ok_and(|assignment| assignment.count() > 0);
        self.joined = assigned || self.started.elapsed() >= JOIN_WAIT;
        self.joined
    }

    /// Commits the offsets stored so far, now, and waits for the broker's
    /// answer.
    pub async fn commit(&self) -> Result<(), Error> {
        let consumer = Arc::clone(&self.consumer);
        let outcome =
            tokio::task::spawn_blocking(move || consumer.commit_consumer_state(CommitMode::Sync))
                .await
                .map_err(|e| Error::caused(ErrorKind::Consume, "commit", e))?;
        match outcome {
            // Nothing stored since the last commit.
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) | Ok(()) => Ok(()),
            Err(e) => Err(self.failed("commit", e)),
        }
    }

    fn failed(&self, what: &str, e: KafkaError) -> Error {
        Error::caused(
            ErrorKind::Consume,
            format!("group {} on {}: {what}", self.group, self.topic),
            e,
        )
    }

    /// Decodes one record: a [`Delivery`] when it is a valid alert;
    /// otherwise it is dead-lettered and `None` returned.
    async fn examine(
        &mut self,
        message: rdkafka::message::OwnedMessage,
    ) -> Result<Option<Delivery>, Error> {
        let content_type = message
            .headers()
            .and_then(|headers| {
                headers
                    .iter()
                    .find(|h| h.key.eq_ignore_ascii_case(CONTENT_TYPE_HEADER))
                    .and_then(|h| h.value)
                    .and_then(|v| std::str::from_utf8(v).ok())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "application/json".to_string());
        let payload = message.payload().unwrap_or_default();
        let decoded = codec::find(&content_type).and_then(|codec| {
            if !self.typed && codec.media_type() == "application/json" {
                crate::message::check_slice_with(payload, &self.limits)
                    .map(|(version, _)| (None, version.as_str().to_string()))
            } else {
                codec.decode(payload, &self.limits).map(|alert| {
                    let version = alert.version.as_str().to_string();
                    (Some(alert), version)
                })
            }
        });
        let (alert, version) = match decoded {
            Ok(decoded) => decoded,
            Err(crate::Error::OlderDraft { version }) => (None, version),
            Err(error) => {
                self.bury(&message, &error).await?;
                return Ok(None);
            }
        };
        Ok(Some(Delivery {
            alert,
            version,
            content_type,
            consumer: Arc::clone(&self.consumer),
            message,
        }))
    }

    /// Copies a refused record to the dead-letter topic, with why in its
    /// headers, and stores its offset once the copy is acknowledged.
    async fn bury(
        &mut self,
        message: &rdkafka::message::OwnedMessage,
        error: &crate::Error,
    ) -> Result<(), Error> {
        let violations = error.violations();
        let listed: Vec<serde_json::Value> = violations
            .iter()
            .take(MAX_LISTED_VIOLATIONS)
            // The one JSON shape of a violation (its own Serialize), which
            // cannot fail: three texts.
            .map(|v| serde_json::to_value(v).unwrap_or_default())
            .collect();
        let listed = serde_json::Value::from(listed).to_string();
        let (partition, offset) = (message.partition(), message.offset());
        let (partition_text, offset_text, count) = (
            partition.to_string(),
            offset.to_string(),
            violations.len().to_string(),
        );
        let mut headers = OwnedHeaders::new();
        if let Some(original) = message.headers() {
            for header in original.iter() {
                headers = headers.insert(header);
            }
        }
        for (key, value) in [
            (SOURCE_TOPIC_HEADER, self.topic.as_str()),
            (SOURCE_PARTITION_HEADER, &partition_text),
            (SOURCE_OFFSET_HEADER, &offset_text),
            (VIOLATION_COUNT_HEADER, &count),
            (VIOLATIONS_HEADER, &listed),
        ] {
            headers = headers.insert(Header {
                key,
                value: Some(value.as_bytes()),
            });
        }
        let mut record = FutureRecord::to(&self.dead_letter)
            .payload(message.payload().unwrap_or_default())
            .headers(headers);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        let copied = self
            .dead_letter_producer
            .send(record, Duration::from_secs(30))
            .await;
        if let Err((e, _)) = copied {
            return Err(Error::caused(
                ErrorKind::DeadLetter,
                format!(
                    "cannot copy {}:{partition}:{offset} to dead-letter topic {}",
                    self.topic, self.dead_letter
                ),
                e,
            ));
        }
        store(&self.consumer, &self.topic, partition, offset)
            .map_err(|e| self.failed("store the offset of a dead letter", e))?;
        self.dead_lettered += 1;
        if self.dead_letters.len() == KEPT_DEAD_LETTERS {
            self.dead_letters.remove(0);
        }
        self.dead_letters.push(DeadLetter {
            partition,
            offset,
            violations: violations.to_vec(),
        });
        Ok(())
    }
}

/// Stores `offset` as handled, for the next commit. A partition this member
/// no longer holds (the group rebalanced) is not an error: its new holder
/// reads the record again, which at-least-once allows.
fn store(
    consumer: &StreamConsumer,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<(), KafkaError> {
    match consumer.store_offset(topic, partition, offset) {
        Err(KafkaError::StoreOffset(RDKafkaErrorCode::State)) => Ok(()),
        other => other,
    }
}

/// One valid alert taken from the topic, its offset not yet stored.
///
/// Dropping it without [`Delivery::ack`] leaves its offset uncommitted; an
/// offset past it acknowledged later in the same partition commits it too
/// (Kafka commits a position, not single records), so a caller handles a
/// partition's alerts in order.
pub struct Delivery {
    alert: Option<Message>,
    version: String,
    content_type: String,
    consumer: Arc<StreamConsumer>,
    message: rdkafka::message::OwnedMessage,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("version", &self.version)
            .field("content_type", &self.content_type)
            .field("partition", &self.partition())
            .field("offset", &self.offset())
            .finish_non_exhaustive()
    }
}

impl Delivery {
    /// The decoded alert, for `2.D.V08` and `2.D.V09-Dev`; `None` for a
    /// valid alert of an older draft, or when the consumer was built with
    /// [`ConsumerBuilder::typed`] off (its bytes are in
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
        self.message.payload().unwrap_or_default()
    }

    /// The payload's media type (`application/json` when the record had
    /// no `Content-Type`).
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The record's key (the alert's `ID` when this crate produced it).
    pub fn key(&self) -> Option<&[u8]> {
        self.message.key()
    }

    /// The partition the alert was read from.
    pub fn partition(&self) -> i32 {
        self.message.partition()
    }

    /// The alert's offset in its partition.
    pub fn offset(&self) -> i64 {
        self.message.offset()
    }

    /// Stores the alert's offset as handled: it is committed with the next
    /// commit (within a second, or at [`Consumer::commit`]).
    pub fn ack(self) -> Result<(), Error> {
        store(
            &self.consumer,
            self.message.topic(),
            self.message.partition(),
            self.message.offset(),
        )
        .map_err(|e| {
            Error::caused(
                ErrorKind::Consume,
                format!(
                    "store offset {}:{}:{}",
                    self.message.topic(),
                    self.message.partition(),
                    self.message.offset()
                ),
                e,
            )
        })
    }
}

//! An HTTPS receiver's sink that produces every accepted message to a
//! Kafka topic (features `server` and `kafka`).

use std::time::Duration;

use crate::http::server::{Received, Sink, SinkError};
use crate::kafka::{Class, Envelope, Error, Producer};

/// A [`Sink`] for [`crate::http::server`] that produces each accepted
/// message to a Kafka topic, so that the receiver answers `2xx` only once
/// the broker has acknowledged it (`acks=all`).
///
/// The message goes on as it came (the request body, with its
/// `Content-Type`), or upgraded when the server's options ask for it,
/// keyed by its `ID`. When the broker does not acknowledge within the
/// producer's [`deliver_within`](crate::kafka::ProducerBuilder::deliver_within),
/// the request gets `503` with `Retry-After` (one second unless
/// [`TopicSink::retry_after`] says otherwise); the sender keeps the message
/// and tries again.
///
/// ```no_run
/// use idmefv2::http::server::Server;
/// use idmefv2::gateway::kafka::TopicSink;
/// use idmefv2::kafka::{Connection, Producer};
/// use std::time::Duration;
///
/// # async fn run(server: Server, listener: tokio::net::TcpListener) -> Result<(), Box<dyn std::error::Error>> {
/// let connection = Connection::new("127.0.0.1:9092");
/// let producer = Producer::builder(connection, "alerts")
///     .deliver_within(Duration::from_secs(10))
///     .build()?;
/// server.run(listener, TopicSink::new(producer)).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct TopicSink {
    producer: Producer,
    retry_after: Duration,
}

impl TopicSink {
    /// A sink producing with `producer`; its `deliver_within` bounds how
    /// long a request waits for the broker: keep it below the senders'
    /// timeout.
    pub fn new(producer: Producer) -> Self {
        TopicSink {
            producer,
            retry_after: Duration::from_secs(1),
        }
    }

    /// The `Retry-After` given to a sender when the broker did not
    /// acknowledge its message.
    #[must_use]
    pub fn retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// The producer this sink sends with.
    pub fn producer(&self) -> &Producer {
        &self.producer
    }

    fn failed(&self, error: Error) -> SinkError {
        match error.class() {
            // The message itself cannot be produced (the server accepted
            // it, so the fault is the server's), or the producer is set up
            // wrong: a retry of the sender changes nothing.
            Class::Permanent | Class::Fatal => {
                SinkError::internal(format!("cannot produce: {error}"))
            }
            Class::Transient => SinkError::unavailable(error.to_string(), self.retry_after),
        }
    }
}

impl Sink for TopicSink {
    async fn keep(&self, message: Received) -> Result<(), SinkError> {
        let envelope = Envelope::received(message).map_err(|e| self.failed(Error::refused(e)))?;
        let pending = self
            .producer
            .send(envelope)
            .await
            .map_err(|e| self.failed(e))?;
        pending.await.map(|_| ()).map_err(|e| self.failed(e))
    }

    /// No: the body goes on as it came, under its `ID`.
    fn needs_typed_message(&self) -> bool {
        false
    }
}

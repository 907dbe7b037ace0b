//! A receiver's sink that hands every accepted message to a JetStream
//! stream (features `server` and `nats`).

use std::time::Duration;

use crate::{
    nats::{Envelope, Error, Publisher},
    sink::{Received, Sink, SinkError},
};

/// A [`Sink`] (for [`crate::http::server`], say) that publishes each accepted
/// message into a JetStream stream, so that the receiver answers `2xx`
/// only once the stream has stored the message (on as many servers as the
/// stream has replicas): the gateway of a receiver in front of a cluster.
///
/// The message goes on as it came (the request body, with its
/// `Content-Type`), or upgraded or repaired when the server's options ask
/// for it. Its JetStream message ID (`Nats-Msg-Id`) is its `ID` and the
/// digest of its content (`ID:` then 32 hexadecimal digits of its
/// SHA-256), so that within the stream's duplicate window a sender retrying
/// a message it got no answer for does not store it twice, while another
/// alert under a reused `ID` (deployed senders do this) is stored: with the
/// `ID` alone, JetStream would acknowledge that alert as a duplicate and
/// drop it. When the stream
/// does not acknowledge in time, the request gets `503` with
/// `Retry-After` (one second unless [`StreamSink::retry_after`] says
/// otherwise); the sender keeps the message and tries again.
///
/// ```no_run
/// use idmefv2::http::server::Server;
/// use idmefv2::gateway::nats::StreamSink;
/// use idmefv2::nats::{self, Publisher, StreamSpec};
///
/// # async fn run(server: Server, listener: tokio::net::TcpListener) -> Result<(), Box<dyn std::error::Error>> {
/// let client = nats::connect("nats://127.0.0.1:4222").await?;
/// StreamSpec::new("IDMEFV2", "alerts").replicas(3).ensure(&client).await?;
/// let publisher = Publisher::builder(client, "alerts").build()?;
/// server.run(listener, StreamSink::new(publisher)).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct StreamSink {
    publisher: Publisher,
    retry_after: Duration,
}

impl StreamSink {
    /// A sink publishing with `publisher`. Its
    /// [`retry_for`](crate::nats::PublisherBuilder::retry_for) bounds how long a
    /// request waits for the stream: keep it below the senders' timeout.
    pub fn new(publisher: Publisher) -> Self {
        StreamSink {
            publisher,
            retry_after: Duration::from_secs(1),
        }
    }

    /// The `Retry-After` given to a sender when the stream did not
    /// acknowledge its message.
    #[must_use]
    pub fn retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// The publisher this sink sends with.
    pub fn publisher(&self) -> &Publisher {
        &self.publisher
    }

    fn failed(&self, error: Error) -> SinkError {
        match error {
            // The message itself cannot be published: nothing a retry of
            // the sender would change, and the server's fault, since it
            // accepted the message.
            Error::Refused(e) => SinkError::internal(format!("cannot publish: {e}")),
            other => SinkError::unavailable(other.to_string(), self.retry_after),
        }
    }
}

/// The JetStream message ID of an accepted message: its `ID`, a colon, and
/// the first 16 bytes of the SHA-256 of its stored line in hexadecimal.
fn msg_id(message: &Received) -> String {
    use std::fmt::Write;
    let digest = crate::sink::digest(&message.json_line());
    let mut id = String::with_capacity(message.id.len() + 33);
    id.push_str(&message.id);
    id.push(':');
    for byte in &digest[..16] {
        let _ = write!(id, "{byte:02x}");
    }
    id
}

impl Sink for StreamSink {
    async fn keep(&self, message: Received) -> Result<(), SinkError> {
        let msg_id = msg_id(&message);
        let envelope = Envelope::accepted(message.id, message.content_type, message.body, msg_id)
            .map_err(|e| self.failed(Error::Refused(e)))?;
        let pending = self
            .publisher
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

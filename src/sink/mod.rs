//! Where accepted messages go, whatever carried them: the [`Sink`] a
//! receiver hands each message to once it passed every check, the
//! [`Received`] message it gets, and two sinks of general use (feature
//! `server`):
//!
//! - [`FileSink`] appends each message to an NDJSON file and syncs it to
//!   disk before the acknowledgement, sharing one sync among the messages
//!   that arrive together;
//! - [`Dedup`] drops repeats in front of another sink.
//!
//! The HTTPS receiver ([`crate::http::server`]) feeds a sink; so can any
//! other receiver. The gateways of [`crate::gateway`] are sinks that pass
//! messages on to another transport.

use crate::codec::is_json;
use std::{borrow::Cow, fmt, future::Future, sync::Arc, time::Duration};

use bytes::Bytes;

use crate::{upgrade::UpgradeNote, Message};

mod dedup;
mod file;

#[cfg(feature = "nats")]
pub(crate) use dedup::digest;
pub use dedup::Dedup;
pub use file::{FileSink, FileSinkStats};

/// Who sent a message, as the receiver established it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Peer {
    /// The client's verified certificate (mutual TLS).
    Certificate {
        /// Its DNS-IDs, in the certificate's order.
        dns_ids: Vec<String>,
        /// The SHA-256 of its DER encoding.
        fingerprint: [u8; 32],
    },
    /// A user name whose password the receiver checked (HTTP Basic
    /// authentication).
    User(String),
}

impl fmt::Display for Peer {
    /// The certificate's first DNS-ID, or the user name: what logs show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Certificate { dns_ids, .. } => {
                f.write_str(dns_ids.first().map_or("(no DNS-ID)", String::as_str))
            }
            Peer::User(name) => f.write_str(name),
        }
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
    /// JSON message that was only checked ([`ReceiveOptions::typed`](crate::http::server::ReceiveOptions::typed)).
    pub message: Option<Message>,
    /// The draft the sender wrote, when the message was upgraded.
    pub upgraded_from: Option<String>,
    /// What the upgrade changed, when it did (see [`crate::upgrade`]).
    pub upgrade_report: Vec<UpgradeNote>,
    /// The client, from its certificate or its HTTP Basic credentials;
    /// `None` when the receiver did not authenticate it (plain HTTP
    /// without credentials, an extractor behind another TLS terminator).
    pub peer: Option<Peer>,
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
    pub(crate) fn line_bytes(&self) -> Bytes {
        self.other_line()
            .map_or_else(|| self.body.clone(), Bytes::from)
    }

    /// The line when it differs from the body; `None` when the body is
    /// the line as it is.
    fn other_line(&self) -> Option<Vec<u8>> {
        if is_json(&self.content_type) {
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

/// What a sink did with a message it acknowledged
/// ([`Sink::keep_noted`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kept {
    /// Stored.
    Stored,
    /// Stored, though a message with the same `ID` and other content was
    /// kept already: the sender reused the ID for another alert.
    IdReused,
    /// Not stored again: a message with the same `ID` and the same content
    /// was kept already (a sender's retry).
    Repeat,
    /// Not stored: the sink keeps only the messages that match a
    /// selection (`idmefv2 serve --where`), and this one does not.
    Unmatched,
}

impl Kept {
    /// A word for logs: `stored`, `id-reused`, `repeat` or `unmatched`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kept::Stored => "stored",
            Kept::IdReused => "id-reused",
            Kept::Repeat => "repeat",
            Kept::Unmatched => "unmatched",
        }
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

    /// Keeps one message as [`keep`](Sink::keep) does, saying what became
    /// of it: for sinks that may acknowledge a message without storing it
    /// again ([`Dedup`]). The default stores every message with `keep`.
    fn keep_noted(
        &self,
        message: Received,
    ) -> impl Future<Output = Result<Kept, SinkError>> + Send {
        let kept = self.keep(message);
        async move { kept.await.map(|()| Kept::Stored) }
    }

    /// Whether [`keep`](Sink::keep) needs [`Received::message`], the typed
    /// message (default: yes). A sink that keeps the body as it came says
    /// no, and [`Server`](crate::http::server::Server) then only checks JSON messages without building
    /// them ([`ReceiveOptions::typed`](crate::http::server::ReceiveOptions::typed)).
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

    fn keep_noted(
        &self,
        message: Received,
    ) -> impl Future<Output = Result<Kept, SinkError>> + Send {
        T::keep_noted(self, message)
    }

    fn needs_typed_message(&self) -> bool {
        T::needs_typed_message(self)
    }

    fn close(&self) -> impl Future<Output = Result<(), SinkError>> + Send {
        T::close(self)
    }
}

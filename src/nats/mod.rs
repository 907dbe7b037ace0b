//! IDMEFv2 alerts on NATS JetStream: a publisher that returns only once the
//! stream has stored the alert, a durable pull consumer that acknowledges an
//! alert only once the caller has handled it, and the set-up of the streams
//! they use.
//!
//! Behind the `nats` feature (async-nats on tokio); call it from inside a
//! tokio runtime.
//!
//! ```no_run
//! use idmefv2::nats::{self, Consumer, Publisher, StreamSpec};
//! use idmefv2::{Analyzer, Message};
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = nats::connect("nats://127.0.0.1:4222").await?;
//!
//! // A stream capturing `alerts`, kept on disk on three servers of a
//! // cluster (on a single server, leave `.replicas(3)` out).
//! StreamSpec::new("IDMEFV2", "alerts").replicas(3).ensure(&client).await?;
//!
//! // Publish: the call returns once JetStream has acknowledged the alert.
//! let publisher = Publisher::builder(client.clone(), "alerts").build()?;
//! let alert = Message::builder(Analyzer::builder("edge-ids")).build()?;
//! let receipt = publisher.publish(&alert).await?;
//! println!("stored as {} #{}", receipt.stream(), receipt.sequence());
//!
//! // Consume: each alert is acknowledged once the handler returns Ok.
//! let mut consumer = Consumer::builder(client, "IDMEFV2", "archiver")
//!     .idle_timeout(Duration::from_secs(5))
//!     .build()
//!     .await?;
//! consumer
//!     .run(async |delivery| {
//!         println!("{}", delivery.version());
//!         Ok::<(), std::io::Error>(())
//!     })
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Guarantees
//!
//! - **Stored once.** Every alert is published with the JetStream message
//!   ID (`Nats-Msg-Id`) set to its IDMEF `ID`, so an alert published again
//!   within the stream's duplicate window (two minutes unless
//!   [`StreamSpec::duplicate_window`] says otherwise) is recognised and not
//!   stored a second time: its [`Receipt::duplicate`] is true. The
//!   publisher relies on this to retry an unacknowledged publish (a server
//!   restarting, a stream leader being elected) without storing it twice.
//! - **Validated on the way in and out.** Only valid alerts are published
//!   ([`Envelope`]); an invalid payload found in a stream (put there by
//!   another producer) is copied to the consumer's dead-letter subject, its
//!   violations in headers, then terminated on the source stream: never
//!   dropped without a trace, never handed to the caller.
//! - **At least once.** A delivery is acknowledged only when the caller says
//!   so ([`Delivery::ack`], or the handler of [`Consumer::run`] returning
//!   `Ok`); one that is not is delivered again once the consumer's
//!   acknowledgement wait has passed. A handler must therefore accept seeing
//!   an alert twice (its `ID` tells).
//!
//! # Headers
//!
//! | header | on | value |
//! |---|---|---|
//! | `Nats-Msg-Id` | every alert | the IDMEF `ID`, as written; from a receiver's gateway (`idmefv2::gateway::nats::StreamSink`, feature `server`), the `ID`, a colon and a digest of the content, so that another alert under a reused `ID` is not taken for a duplicate |
//! | `Content-Type` | every alert | the media type of the payload's codec |
//! | `Idmefv2-Source-Stream`, `Idmefv2-Source-Subject`, `Idmefv2-Source-Sequence` | dead letters | where the refused payload came from |
//! | `Idmefv2-Violation-Count` | dead letters | how many failures |
//! | `Idmefv2-Violations` | dead letters | a JSON array, one `{"pointer":…,"keyword":…,"reason":…}` per failure (the first 32), never the value |
//!
//! The payload of a dead letter is the refused payload, byte for byte, and
//! its `Nats-Msg-Id` is `STREAM:SEQUENCE` of the original, so that a
//! consumer stopped between the copy and the termination does not copy it
//! twice. (A payload so close to the server's size limit that it no longer
//! fits beside these headers is left out, and `Idmefv2-Payload-Omitted`
//! gives its size; termination does not delete it from the source
//! stream.)

mod consume;
mod publish;
mod stream;

use std::fmt;

pub use async_nats;

pub use consume::{Consumer, ConsumerBuilder, DeadLetter, Delivery, RunError, DEFAULT_ACK_WAIT};
pub use publish::{Envelope, Pending, Publisher, PublisherBuilder, Receipt};
pub use stream::StreamSpec;

/// The stream the command-line tool publishes into, consumes from and
/// forwards to when none is named (`--stream`).
pub const DEFAULT_STREAM: &str = "IDMEFV2";

/// Header naming the stream a dead letter was taken from.
pub const SOURCE_STREAM_HEADER: &str = "Idmefv2-Source-Stream";
/// Header naming the subject a dead letter was published on.
pub const SOURCE_SUBJECT_HEADER: &str = "Idmefv2-Source-Subject";
/// Header giving the stream sequence of the original of a dead letter.
pub const SOURCE_SEQUENCE_HEADER: &str = "Idmefv2-Source-Sequence";
/// Header listing the violations of a dead letter: a JSON array of objects
/// with `pointer`, `keyword` and `reason` (the first
/// [`MAX_LISTED_VIOLATIONS`]).
pub const VIOLATIONS_HEADER: &str = "Idmefv2-Violations";
/// Header giving how many violations a dead letter has in all.
pub const VIOLATION_COUNT_HEADER: &str = "Idmefv2-Violation-Count";
/// Header present on a dead letter sent without its payload, which was too
/// large to copy with the headers: the payload's size in bytes (the source
/// stream still holds it).
pub const PAYLOAD_OMITTED_HEADER: &str = "Idmefv2-Payload-Omitted";
/// How many violations [`VIOLATIONS_HEADER`] lists at most.
pub const MAX_LISTED_VIOLATIONS: usize = 32;

/// What to do about a server without JetStream, as [`Error::NoJetStream`]
/// says it.
pub const JETSTREAM_HINT: &str = "start nats-server with -js (and -sd DIR to keep the store)";

/// What went wrong talking to NATS, or with what was to be published.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `nats://HOST:PORT/SUBJECT` address that does not parse.
    #[error("bad NATS address {address:?}: {reason}")]
    Address {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server could not be reached.
    #[error("cannot connect to {server}: {reason}")]
    Connect {
        /// The server address.
        server: String,
        /// Why.
        reason: String,
    },
    /// The alert is invalid (or could not be encoded) and was not published.
    #[error("refused: {0}")]
    Refused(crate::Error),
    /// A stream exists with a configuration other than the one asked for.
    #[error("stream {stream} exists with {field} {found}, not {expected}")]
    StreamMismatch {
        /// The stream's name.
        stream: String,
        /// The setting that differs (`subjects`, `replicas`, `storage`).
        field: &'static str,
        /// What was asked for.
        expected: String,
        /// What the stream has.
        found: String,
    },
    /// The server has no JetStream (it was started without `-js`), so there
    /// are no streams to publish into or consume from.
    #[error("the NATS server at {server} has no JetStream: {}", JETSTREAM_HINT)]
    NoJetStream {
        /// The server, as `HOST:PORT`.
        server: String,
    },
    /// No stream of that name exists.
    #[error("no stream named {stream}")]
    NoStream {
        /// The stream's name.
        stream: String,
    },
    /// A JetStream API request (stream or consumer set-up) failed.
    #[error("{what}: {reason}")]
    Request {
        /// What was being done.
        what: String,
        /// Why it failed.
        reason: String,
    },
    /// A publish was not acknowledged: the alert may not be stored.
    #[error("publish to {subject} not acknowledged after {attempts} attempt(s): {reason}")]
    Publish {
        /// The subject published to.
        subject: String,
        /// How many times it was sent.
        attempts: u32,
        /// The last failure.
        reason: String,
    },
    /// Pulling from a consumer, or acknowledging a delivery, failed.
    #[error("consumer {consumer}: {reason}")]
    Consume {
        /// The durable consumer's name.
        consumer: String,
        /// Why.
        reason: String,
    },
}

impl Error {
    /// Why a JetStream request failed when the reason is that the server
    /// has no JetStream at all: [`Error::NoJetStream`], found by asking
    /// for the account's JetStream information. `None` when JetStream
    /// answers (the failure was something else).
    pub(crate) async fn no_jetstream(js: &async_nats::jetstream::Context) -> Option<Error> {
        use async_nats::jetstream::{context::AccountErrorKind, ErrorCode};
        let missing = match js.query_account().await {
            Ok(_) => false,
            Err(e) => match e.kind() {
                AccountErrorKind::JetStreamUnavailable => true,
                AccountErrorKind::JetStream(j) => [
                    ErrorCode::JETSTREAM_NOT_ENABLED,
                    ErrorCode::JETSTREAM_NOT_ENABLED_FOR_ACCOUNT,
                ]
                .contains(&j.error_code()),
                _ => false,
            },
        };
        missing.then(|| {
            let info = js.client().server_info();
            Error::NoJetStream {
                server: format!("{}:{}", info.host, info.port),
            }
        })
    }

    fn request(what: impl Into<String>, reason: impl fmt::Display) -> Self {
        Error::Request {
            what: what.into(),
            reason: reason.to_string(),
        }
    }
}

/// Where alerts go or come from: a server and a subject, written
/// `nats://HOST:PORT/SUBJECT` (the port defaults to 4222).
///
/// ```
/// let endpoint: idmefv2::nats::Endpoint = "nats://127.0.0.1:4333/alerts.ids".parse()?;
/// assert_eq!(endpoint.server(), "nats://127.0.0.1:4333");
/// assert_eq!(endpoint.subject(), "alerts.ids");
/// # Ok::<(), idmefv2::nats::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    server: String,
    subject: String,
}

impl Endpoint {
    /// The server, as `nats://HOST:PORT`.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The subject (it may hold the `*` and `>` wildcards; a publisher
    /// refuses those).
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

impl std::str::FromStr for Endpoint {
    type Err = Error;

    fn from_str(address: &str) -> Result<Self, Error> {
        let bad = |reason: &str| Error::Address {
            address: address.to_string(),
            reason: reason.to_string(),
        };
        let rest = address
            .strip_prefix("nats://")
            .ok_or_else(|| bad("expected nats://HOST:PORT/SUBJECT"))?;
        let (authority, subject) = rest
            .split_once('/')
            .ok_or_else(|| bad("no subject: expected nats://HOST:PORT/SUBJECT"))?;
        if authority.is_empty() {
            return Err(bad("no host"));
        }
        if authority.contains('@') {
            return Err(bad("credentials in the address are not supported"));
        }
        if !subject_is_valid(subject, true) {
            return Err(bad(
                "the subject must be dot-separated tokens without spaces \
                 (`*` for one token, `>` for the rest)",
            ));
        }
        let has_port = match authority.rsplit_once(':') {
            // `[::1]` alone has colons but no port.
            Some((host, port)) => !host.ends_with(':') && !port.contains(']'),
            None => false,
        };
        if has_port {
            let port = authority.rsplit_once(':').map_or("", |(_, p)| p);
            if port.parse::<u16>().map_or(true, |p| p == 0) {
                return Err(bad("the port must be a number from 1 to 65535"));
            }
        }
        let server = if has_port {
            format!("nats://{authority}")
        } else {
            format!("nats://{authority}:4222")
        };
        Ok(Endpoint {
            server,
            subject: subject.to_string(),
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.server, self.subject)
    }
}

/// Whether `subject` is a NATS subject: non-empty tokens separated by dots,
/// without white space; with `wildcards`, a token may be `*` and the last
/// one `>`.
pub(crate) fn subject_is_valid(subject: &str, wildcards: bool) -> bool {
    let tokens: Vec<&str> = subject.split('.').collect();
    let last = tokens.len() - 1;
    tokens.iter().enumerate().all(|(i, token)| {
        let plain = !token.is_empty()
            && !token
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '*' || c == '>');
        plain || (wildcards && (*token == "*" || (*token == ">" && i == last)))
    })
}

/// Connects to a NATS server (`nats://HOST:PORT`, or several separated by
/// commas), reconnecting for as long as the client lives.
///
/// A server that cannot be reached now is an error at once; the address of
/// an [`Endpoint`] is [`Endpoint::server`].
pub async fn connect(server: &str) -> Result<async_nats::Client, Error> {
    async_nats::ConnectOptions::new()
        .name("idmefv2")
        .max_reconnects(None)
        .connect(server)
        .await
        .map_err(|e| Error::Connect {
            server: server.to_string(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_or_say_why_not() {
        let e: Endpoint = "nats://localhost/a.b".parse().unwrap();
        assert_eq!(e.server(), "nats://localhost:4222");
        let e: Endpoint = "nats://[::1]:4300/a.*.>".parse().unwrap();
        assert_eq!((e.server(), e.subject()), ("nats://[::1]:4300", "a.*.>"));
        let e: Endpoint = "nats://[::1]/a".parse().unwrap();
        assert_eq!(e.server(), "nats://[::1]:4222");
        for bad in [
            "http://localhost/a",
            "nats://localhost",
            "nats://localhost/",
            "nats:///a",
            "nats://h:0/a",
            "nats://h:x/a",
            "nats://u:p@h:1/a",
            "nats://h:1/a..b",
            "nats://h:1/a b",
            "nats://h:1/a.>.b",
            "nats://h:1/a*",
        ] {
            assert!(bad.parse::<Endpoint>().is_err(), "{bad}");
        }
    }

    #[test]
    fn wildcards_only_where_allowed() {
        assert!(subject_is_valid("alerts", false));
        assert!(!subject_is_valid("alerts.*", false));
        assert!(subject_is_valid("alerts.*", true));
        assert!(!subject_is_valid(">.a", true));
    }
}

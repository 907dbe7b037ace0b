//! IDMEFv2 alerts on Kafka topics: a producer that returns only once the
//! broker has acknowledged the alert (`acks=all`, idempotent), and a
//! consumer in a consumer group that commits an alert's offset only once
//! the caller has handled it.
//!
//! Behind the `kafka` feature: rdkafka on librdkafka (built from the copy
//! rdkafka bundles, with cmake), on tokio; call it from inside a tokio
//! runtime.
//!
//! ```no_run
//! use idmefv2::kafka::{Connection, Consumer, Producer};
//! use idmefv2::{Analyzer, Message};
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let connection = Connection::new("127.0.0.1:9092");
//! connection.ensure_topic("alerts", 1).await?;
//!
//! // Produce: the call returns once the broker has acknowledged the alert.
//! let producer = Producer::builder(connection.clone(), "alerts").build()?;
//! let alert = Message::builder(Analyzer::builder("edge-ids")).build()?;
//! let receipt = producer.publish(&alert).await?;
//! println!("stored at {}:{}", receipt.partition(), receipt.offset());
//!
//! // Consume: an offset is committed once the alert is acknowledged.
//! let mut consumer = Consumer::builder(connection, "alerts", "archiver")
//!     .idle_timeout(Duration::from_secs(5))
//!     .build()
//!     .await?;
//! while let Some(delivery) = consumer.next().await? {
//!     println!("{}", delivery.version());
//!     delivery.ack()?;
//! }
//! consumer.commit().await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Guarantees
//!
//! - **Acknowledged means stored.** Every alert is produced with
//!   `acks=all` and `enable.idempotence=true`: the producer reports success
//!   only once the partition leader has written it (with all in-sync
//!   replicas), and librdkafka's own retries of an unacknowledged batch do
//!   not store it twice within one producer session.
//! - **Validated on the way in and out.** Only valid alerts are produced
//!   ([`Envelope`]); a record found on the topic that does not decode
//!   (written by another producer) is copied to the consumer's dead-letter
//!   topic, its violations in headers, and only then committed past: never
//!   dropped without a trace, never handed to the caller.
//! - **At least once.** An offset is stored only when the caller says so
//!   ([`Delivery::ack`]); librdkafka commits stored offsets every second,
//!   and [`Consumer::commit`] commits them at once. An alert handed out but
//!   not acknowledged before a crash is handed out again to the group, so a
//!   handler must accept seeing an alert twice (its `ID` tells).
//!
//! # Records
//!
//! | part | on | value |
//! |---|---|---|
//! | key | every alert | the IDMEF `ID`, as written |
//! | `Content-Type` header | every alert | the media type of the payload's codec |
//! | `Idmefv2-Version` header | every alert | the alert's draft (`Version`) |
//! | `Idmefv2-Source-Topic`, `Idmefv2-Source-Partition`, `Idmefv2-Source-Offset` headers | dead letters | where the refused record was |
//! | `Idmefv2-Violation-Count` header | dead letters | how many failures |
//! | `Idmefv2-Violations` header | dead letters | a JSON array, one `{"pointer":…,"keyword":…,"reason":…}` per failure (the first 32), never the value |

mod consume;
mod publish;

use std::{fmt, path::PathBuf, time::Duration};

pub use rdkafka;

pub use consume::{Consumer, ConsumerBuilder, DeadLetter, Delivery};
pub use publish::{Envelope, Pending, Producer, ProducerBuilder, Receipt};

/// Header giving an alert's media type.
pub const CONTENT_TYPE_HEADER: &str = "Content-Type";
/// Header giving an alert's draft, its `Version`.
pub const VERSION_HEADER: &str = "Idmefv2-Version";
/// Header naming the topic a dead letter was taken from.
pub const SOURCE_TOPIC_HEADER: &str = "Idmefv2-Source-Topic";
/// Header giving the partition a dead letter was taken from.
pub const SOURCE_PARTITION_HEADER: &str = "Idmefv2-Source-Partition";
/// Header giving the offset of the original of a dead letter.
pub const SOURCE_OFFSET_HEADER: &str = "Idmefv2-Source-Offset";
/// Header listing the violations of a dead letter: a JSON array of objects
/// with `pointer`, `keyword` and `reason` (the first
/// [`MAX_LISTED_VIOLATIONS`]).
pub const VIOLATIONS_HEADER: &str = "Idmefv2-Violations";
/// Header giving how many violations a dead letter has in all.
pub const VIOLATION_COUNT_HEADER: &str = "Idmefv2-Violation-Count";
/// How many violations [`VIOLATIONS_HEADER`] lists at most.
pub const MAX_LISTED_VIOLATIONS: usize = 32;
/// The port of a `kafka://` address that gives none.
pub const DEFAULT_PORT: u16 = 9092;

/// What kind of failure an [`Error`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A `kafka://` address, topic or group name that does not parse.
    Address,
    /// A client setting librdkafka refused (a TLS file it cannot read, say).
    Config,
    /// The alert is invalid (or could not be encoded) and was not sent.
    Refused,
    /// An alert was not acknowledged by the broker: it may not be stored.
    Publish,
    /// Receiving from the topic, or storing or committing an offset,
    /// failed.
    Consume,
    /// A record that does not decode could not be copied to the dead-letter
    /// topic; it was left uncommitted.
    DeadLetter,
    /// Creating or looking up a topic failed.
    Topic,
}

/// How a failure bears on sending the same alert again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// The alert itself is at fault: sending it again fails again.
    Permanent,
    /// The broker did not acknowledge in time or could not be reached: it
    /// may succeed later.
    Transient,
    /// The client is at fault (its settings): nothing will go through until
    /// it is set up again.
    Fatal,
}

/// What went wrong talking to Kafka, or with what was to be sent.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    what: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    fn new(kind: ErrorKind, what: impl Into<String>) -> Self {
        Error {
            kind,
            what: what.into(),
            source: None,
        }
    }

    fn caused(
        kind: ErrorKind,
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error {
            kind,
            what: what.into(),
            source: Some(source.into()),
        }
    }

    pub(crate) fn refused(error: crate::Error) -> Self {
        Error::caused(ErrorKind::Refused, "refused", error)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether sending the same alert again may help.
    pub fn class(&self) -> Class {
        match self.kind {
            ErrorKind::Refused => Class::Permanent,
            ErrorKind::Address | ErrorKind::Config => Class::Fatal,
            ErrorKind::Publish | ErrorKind::Consume | ErrorKind::DeadLetter | ErrorKind::Topic => {
                match self.kafka_code() {
                    Some(code) if permanent_code(code) => Class::Permanent,
                    Some(code) if fatal_code(code) => Class::Fatal,
                    _ => Class::Transient,
                }
            }
        }
    }

    /// The crate's own refusal, when the alert was invalid
    /// ([`ErrorKind::Refused`]): its violations carry the JSON pointers.
    pub fn refusal(&self) -> Option<&crate::Error> {
        self.source.as_ref()?.downcast_ref::<crate::Error>()
    }

    fn kafka_code(&self) -> Option<rdkafka::types::RDKafkaErrorCode> {
        self.source
            .as_ref()?
            .downcast_ref::<rdkafka::error::KafkaError>()?
            .rdkafka_error_code()
    }
}

/// Broker answers saying the record itself will never be accepted.
fn permanent_code(code: rdkafka::types::RDKafkaErrorCode) -> bool {
    use rdkafka::types::RDKafkaErrorCode as C;
    matches!(
        code,
        C::MessageSizeTooLarge | C::InvalidRecord | C::InvalidMessageSize | C::InvalidMessage
    )
}

/// Answers saying this client cannot go on as it is set up.
fn fatal_code(code: rdkafka::types::RDKafkaErrorCode) -> bool {
    use rdkafka::types::RDKafkaErrorCode as C;
    matches!(
        code,
        C::TopicAuthorizationFailed
            | C::ClusterAuthorizationFailed
            | C::SaslAuthenticationFailed
            | C::Authentication
            | C::Fatal
            | C::InvalidArgument
            | C::UnknownTopicOrPartition
            | C::UnknownTopic
    )
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source}", self.what),
            None => f.write_str(&self.what),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// Where alerts go or come from: brokers and a topic, written
/// `kafka://HOST:PORT[,HOST:PORT…]/TOPIC` (a port defaults to
/// [`DEFAULT_PORT`]).
///
/// ```
/// let endpoint: idmefv2::kafka::Endpoint = "kafka://10.0.0.1:9093,10.0.0.2/alerts".parse()?;
/// assert_eq!(endpoint.servers(), "10.0.0.1:9093,10.0.0.2:9092");
/// assert_eq!(endpoint.topic(), "alerts");
/// # Ok::<(), idmefv2::kafka::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    servers: String,
    topic: String,
}

impl Endpoint {
    /// The brokers, `HOST:PORT` separated by commas, as
    /// `bootstrap.servers` takes them.
    pub fn servers(&self) -> &str {
        &self.servers
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }
}

impl std::str::FromStr for Endpoint {
    type Err = Error;

    fn from_str(address: &str) -> Result<Self, Error> {
        let bad = |reason: &str| {
            Error::new(
                ErrorKind::Address,
                format!("bad Kafka address {address:?}: {reason}"),
            )
        };
        let rest = address
            .strip_prefix("kafka://")
            .ok_or_else(|| bad("expected kafka://HOST:PORT[,HOST:PORT]/TOPIC"))?;
        let (authority, topic) = rest
            .split_once('/')
            .ok_or_else(|| bad("no topic: expected kafka://HOST:PORT[,HOST:PORT]/TOPIC"))?;
        if authority.contains('@') {
            return Err(bad("credentials in the address are not supported"));
        }
        let mut servers = Vec::new();
        for server in authority.split(',') {
            if server.is_empty() || server.starts_with(':') {
                return Err(bad("a broker without a host"));
            }
            let has_port = match server.rsplit_once(':') {
                // `[::1]` alone has colons but no port.
                Some((host, port)) => !host.ends_with(':') && !port.contains(']'),
                None => false,
            };
            if has_port {
                let port = server.rsplit_once(':').map_or("", |(_, p)| p);
                if port.parse::<u16>().map_or(true, |p| p == 0) {
                    return Err(bad("a port is a number from 1 to 65535"));
                }
                servers.push(server.to_string());
            } else {
                servers.push(format!("{server}:{DEFAULT_PORT}"));
            }
        }
        check_name(topic).map_err(|reason| bad(&format!("topic: {reason}")))?;
        Ok(Endpoint {
            servers: servers.join(","),
            topic: topic.to_string(),
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "kafka://{}/{}", self.servers, self.topic)
    }
}

/// Whether `name` is a legal Kafka topic name: 1 to 249 of ASCII letters,
/// digits, `.`, `_` and `-`, and not `.` or `..`.
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > 249 || name == "." || name == ".." {
        return Err("a name has 1 to 249 characters and is not `.` or `..`");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return Err("a name has only ASCII letters, digits, `.`, `_` and `-`");
    }
    Ok(())
}

/// TLS towards the brokers, from PEM files as the HTTPS side takes them.
#[derive(Clone, Debug, Default)]
pub struct Tls {
    ca: Option<PathBuf>,
    identity: Option<(PathBuf, PathBuf)>,
}

impl Tls {
    /// TLS with the system's trusted CAs and no client certificate.
    pub fn new() -> Self {
        Tls::default()
    }

    /// Trust only the CA certificates of this PEM file.
    #[must_use]
    pub fn ca(mut self, ca: impl Into<PathBuf>) -> Self {
        self.ca = Some(ca.into());
        self
    }

    /// Present this client certificate (PEM chain) with its private key
    /// (PEM, PKCS#8 or SEC1 or PKCS#1).
    #[must_use]
    pub fn identity(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.identity = Some((cert.into(), key.into()));
        self
    }
}

/// How to reach the brokers: their addresses, TLS and SASL/PLAIN, and any
/// further librdkafka setting. Producers and consumers are built from one.
#[derive(Clone, Debug)]
pub struct Connection {
    servers: String,
    tls: Option<Tls>,
    sasl: Option<(String, String)>,
    extra: Vec<(String, String)>,
}

impl Connection {
    /// Brokers `HOST:PORT`, several separated by commas (as
    /// [`Endpoint::servers`] gives them), in plain text until told
    /// otherwise.
    pub fn new(servers: impl Into<String>) -> Self {
        Connection {
            servers: servers.into(),
            tls: None,
            sasl: None,
            extra: Vec::new(),
        }
    }

    /// Talk TLS to the brokers (hostname verification on).
    #[must_use]
    pub fn tls(mut self, tls: Tls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Authenticate with SASL/PLAIN (over TLS when [`Connection::tls`] is
    /// set, in plain text otherwise).
    #[must_use]
    pub fn sasl_plain(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.sasl = Some((username.into(), password.into()));
        self
    }

    /// Any other librdkafka client setting (applied last, so it can
    /// override what this crate sets, at the caller's risk).
    #[must_use]
    pub fn set(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }

    /// The brokers.
    pub fn servers(&self) -> &str {
        &self.servers
    }

    /// The librdkafka settings of every client: brokers and security.
    fn config(&self) -> rdkafka::ClientConfig {
        let mut config = rdkafka::ClientConfig::new();
        config
            .set("bootstrap.servers", &self.servers)
            .set("client.id", "idmefv2");
        let protocol = match (&self.tls, &self.sasl) {
            (None, None) => "plaintext",
            (Some(_), None) => "ssl",
            (None, Some(_)) => "sasl_plaintext",
            (Some(_), Some(_)) => "sasl_ssl",
        };
        config.set("security.protocol", protocol);
        if let Some(tls) = &self.tls {
            if let Some(ca) = &tls.ca {
                config.set("ssl.ca.location", ca.display().to_string());
            }
            if let Some((cert, key)) = &tls.identity {
                config
                    .set("ssl.certificate.location", cert.display().to_string())
                    .set("ssl.key.location", key.display().to_string());
            }
        }
        if let Some((username, password)) = &self.sasl {
            config
                .set("sasl.mechanism", "PLAIN")
                .set("sasl.username", username)
                .set("sasl.password", password);
        }
        config
    }

    /// Applies the caller's own settings, last.
    fn finish(&self, config: &mut rdkafka::ClientConfig) {
        for (key, value) in &self.extra {
            config.set(key, value);
        }
    }

    /// Creates `topic` with `partitions` partitions (the broker's default
    /// replication) unless it exists; waits for the broker's answer (30 s
    /// at most).
    pub async fn ensure_topic(&self, topic: &str, partitions: i32) -> Result<(), Error> {
        use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
        use rdkafka::client::DefaultClientContext;
        check_name(topic).map_err(|reason| {
            Error::new(ErrorKind::Address, format!("topic {topic:?}: {reason}"))
        })?;
        let mut config = self.config();
        self.finish(&mut config);
        let admin: AdminClient<DefaultClientContext> = config
            .create()
            .map_err(|e| Error::caused(ErrorKind::Config, "Kafka admin client", e))?;
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let new = NewTopic::new(topic, partitions.max(1), TopicReplication::Fixed(-1));
        let what = || format!("create topic {topic}");
        let results = admin
            .create_topics([&new], &options)
            .await
            .map_err(|e| Error::caused(ErrorKind::Topic, what(), e))?;
        for result in results {
            match result {
                Ok(_) => {}
                Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((_, code)) => {
                    return Err(Error::caused(
                        ErrorKind::Topic,
                        what(),
                        rdkafka::error::KafkaError::AdminOp(code),
                    ))
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_or_say_why_not() {
        let e: Endpoint = "kafka://localhost/a.b".parse().unwrap();
        assert_eq!(e.servers(), "localhost:9092");
        let e: Endpoint = "kafka://[::1]:9300,h2:1/al_e-rts".parse().unwrap();
        assert_eq!((e.servers(), e.topic()), ("[::1]:9300,h2:1", "al_e-rts"));
        assert_eq!(e.to_string(), "kafka://[::1]:9300,h2:1/al_e-rts");
        for bad in [
            "nats://localhost/a",
            "kafka://localhost",
            "kafka://localhost/",
            "kafka:///a",
            "kafka://h:0/a",
            "kafka://h:x/a",
            "kafka://h:1,/a",
            "kafka://u:p@h:1/a",
            "kafka://h:1/a b",
            "kafka://h:1/..",
            "kafka://h:1/a/b",
        ] {
            let error = bad.parse::<Endpoint>().unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Address, "{bad}");
            assert_eq!(error.class(), Class::Fatal, "{bad}");
        }
    }

    #[test]
    fn settings_follow_the_security_chosen() {
        let plain = Connection::new("h:1").config();
        assert_eq!(plain.get("security.protocol"), Some("plaintext"));
        let both = Connection::new("h:1")
            .tls(Tls::new().ca("ca.pem").identity("c.pem", "c.key"))
            .sasl_plain("u", "p")
            .config();
        assert_eq!(both.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(both.get("ssl.certificate.location"), Some("c.pem"));
        assert_eq!(both.get("sasl.mechanism"), Some("PLAIN"));
    }
}

//! Gateways: sinks that hand what one transport received to another, so
//! that neither transport depends on the other (feature `server`, plus the
//! feature of the transport handed to). The receiver answers `2xx` only
//! once the bus has stored the message.
//!
//! - [`nats::StreamSink`] (feature `nats`): publishes each message into a
//!   JetStream stream.
//! - [`kafka::TopicSink`] (feature `kafka`): produces each message to a
//!   Kafka topic.

#[cfg(feature = "kafka")]
#[cfg_attr(docsrs, doc(cfg(feature = "kafka")))]
pub mod kafka;
#[cfg(feature = "nats")]
#[cfg_attr(docsrs, doc(cfg(feature = "nats")))]
pub mod nats;

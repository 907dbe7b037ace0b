//! Gateways: sinks that hand what one transport received to another, so
//! that neither transport depends on the other (feature `server`, plus the
//! feature of the transport handed to).
//!
//! - [`nats::StreamSink`] (feature `nats`): publishes each message into a
//!   JetStream stream and acknowledges it once the stream has stored it.

#[cfg(feature = "nats")]
#[cfg_attr(docsrs, doc(cfg(feature = "nats")))]
pub mod nats;

//! Gateways: sinks of the HTTPS receiver ([`crate::http::server`]) that
//! pass every accepted message on to a message bus, so that the receiver
//! answers `2xx` only once the bus has stored it.

#[cfg(feature = "kafka")]
#[cfg_attr(docsrs, doc(cfg(feature = "kafka")))]
pub mod kafka;

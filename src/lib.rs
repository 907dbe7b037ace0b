//! Typed IDMEFv2 messages.
//!
//! IDMEFv2 (Incident Detection Message Exchange Format, version 2) is the JSON
//! format in which sensors, SIEMs and monitoring systems exchange security
//! and safety alerts. This crate gives every message a Rust type generated
//! from the format's JSON schema: a message that decodes is a valid message,
//! and a message built in code cannot miss a required field or hold a value
//! the schema refuses.
//!
//! ```
//! use idmefv2::{types::Category, Analyzer, Message, Source};
//!
//! # fn main() -> Result<(), idmefv2::Error> {
//! let message = Message::builder(Analyzer::builder("edge-ids").ip("192.0.2.10"))
//!     .category(Category::ReconNetwork)
//!     .description("Port scan from a single host")
//!     .source(Source::builder(idmefv2::Id::generate()).ip("198.51.100.7").port(4444u16))
//!     .build()?;
//!
//! let encoded = message.serialize("application/json")?;
//! let decoded = Message::unserialize(&encoded)?;
//! assert_eq!(decoded, message);
//! # Ok(())
//! # }
//! ```
//!
//! # What is where
//!
//! - [`Message`] and its parts ([`Analyzer`], [`Sensor`], [`Source`],
//!   [`Target`], [`Attachment`]) with their builders; value lists and
//!   checked scalar types in [`types`].
//! - Decoding: [`Message::from_slice`] (bounded by [`Limits`]); encoding:
//!   [`Message::to_vec`]; by media type: [`Message::serialize`] and
//!   [`Message::unserialize`], with codecs in [`codec`].
//! - Untyped validation of any JSON value: [`validate()`], picking the
//!   schema by the message's `Version`; every draft from `2.D.V02` on is
//!   checked by its own schema. [`Draft`] names every draft the crate
//!   embeds, [`Version`] those the typed model holds.
//! - The specification's rules beyond the schema: [`Message::validate_strict`]
//!   and [`validate_strict_value`], described in [`strict`].
//! - IDMEF paths (`Source(0).IP`): [`Path`], with [`Message::get`] and
//!   [`Message::set`].
//! - Older drafts: [`upgrade`] carries a `2.D.V02`…`2.D.V07` message
//!   forward to a typed `2.D.V08` [`Message`], with a report of every
//!   change it made.
//! - Transport (features `client` and `server`): [`http`] sends and
//!   receives messages over HTTPS with mutual TLS 1.3, as the IDMEFv2
//!   transport draft lays it out.
//! - Errors: one [`Error`] type (and [`Result`]); schema failures are
//!   [`Violation`]s, each with the JSON pointer of the offending value and
//!   the [`ViolationKind`] of check that failed. Their `Display` never
//!   repeats the value.
//!
//! # Fidelity
//!
//! Decoding then encoding a message gives back the same JSON value: texts
//! such as timestamps and UUIDs are kept exactly as written, numbers keep
//! their JSON form, and empty lists stay empty lists. Members are written
//! back in the order they were read (members added in code follow, in the
//! specification's order); messages built in code use the specification's
//! order throughout.
//!
//! Comparing is another matter: `==`, ordering and hashing follow the
//! meaning, so that an ID in upper case equals the same ID in lower case
//! and a timestamp sorts by its instant whatever offset it is written with
//! (see [`Message`]'s "Equality" and [`Timestamp`]'s docs).
//!
//! # The crates at the edges
//!
//! [`Timestamp`] converts to and from `time::OffsetDateTime`, [`Id`] to and
//! from `uuid::Uuid`, and untyped messages are `serde_json::Value`s. The
//! three crates are re-exported ([`time`], [`uuid`], [`serde_json`]), so
//! that code can name the very versions this crate was built with. Another
//! release works as well when Cargo unifies it with these, which it does
//! within one compatible line: `serde_json` 1.0.120 or later 1.x, `time`
//! 0.3.41 or later 0.3.x, `uuid` 1.16 or later 1.x. A release of another
//! line (`time` 0.4, `uuid` 2) is a different crate to Cargo, and its types
//! do not convert.
//!
//! # Feature flags
//!
//! - `cli`: the `idmefv2` command-line tool (validate, example, schema,
//!   convert, upgrade, serve, send, publish, consume). Off by default.
//!   Turns on `preserve_order`, `client`, `server`, `nats` and `kafka`.
//! - `client`: [`http::client`], the HTTPS sender (tokio, hyper, rustls
//!   with the ring provider), with the durable [`http::outbox`] and DNS SRV
//!   [`http::discovery`] (hickory-resolver). Off by default.
//! - `server`: [`http::server`], the HTTPS receiver: axum extractor, sinks,
//!   a ready server (tokio, hyper, axum, rustls with the ring provider).
//!   Off by default.
//! - `nats`: [`nats`], alerts on NATS JetStream: a publisher that waits
//!   for the stream's acknowledgement, a durable consumer that
//!   acknowledges after the caller's handler, dead letters for invalid
//!   payloads, stream set-up. Brings in async-nats and tokio. Off by
//!   default.
//! - `kafka`: [`kafka`], alerts on Kafka topics: an idempotent `acks=all`
//!   producer that waits for the broker's acknowledgement, a group
//!   consumer that commits only what the caller acknowledged, dead letters
//!   for records that do not decode, TLS client certificates and
//!   SASL/PLAIN; with `server`, [`gateway::kafka`], the receiver's sink
//!   into a topic. Brings in rdkafka and compiles its bundled librdkafka
//!   (needs cmake, a C compiler and the OpenSSL headers). Off by default.
//!
//! With no feature enabled, none of tokio, hyper, axum, rustls,
//! async-nats or rdkafka is compiled.
//! - `preserve_order`: keeps the member order of free JSON inside
//!   attachment `Content` as well, by switching `serde_json` maps to
//!   insertion order for the whole program. Off by default.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

// The modules in layers: each uses only the layers before it.
// 1. Errors and limits.
mod error;
mod limits;
// 2. Guarded JSON reading; the drafts.
mod draft;
mod json;
// 3. The typed model (generated code and what it stands on).
mod model;
// 4. Schema validation, and the explanation of refused input.
mod validation;
// 5. Decoding and encoding whole messages.
mod message;
// 6. What builds on messages: codecs, strict checks, IDMEF paths, upgrade.
pub mod codec;
mod path;
pub mod strict;
pub mod upgrade;
// 7. Transports, each behind its feature.
#[cfg(any(feature = "client", feature = "server"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "client", feature = "server"))))]
pub mod http;
#[cfg(feature = "nats")]
#[cfg_attr(docsrs, doc(cfg(feature = "nats")))]
pub mod nats;

#[cfg(feature = "kafka")]
#[cfg_attr(docsrs, doc(cfg(feature = "kafka")))]
pub mod kafka;

#[cfg(all(feature = "server", feature = "kafka"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "server", feature = "kafka"))))]
pub mod gateway;

pub use codec::SerializedMessage;
pub use draft::{Draft, Version};
pub use error::{Error, Result, SchemaKeyword, Violation, ViolationKind, Violations};
pub use limits::Limits;
pub use message::validate_slice;
pub use model::types;
pub use path::Path;
pub use strict::validate_strict_value;
pub use types::{Analyzer, Attachment, Id, Message, Sensor, Source, Target, Timestamp};
pub use validation::{schema, supported_versions, validate};

// The crates whose types the public API takes and gives (see "The crates
// at the edges" above).
pub use serde_json;
pub use time;
pub use uuid;

// The README's transport example needs the `client` feature.
#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "client"))]
pub struct ReadmeDoctests;

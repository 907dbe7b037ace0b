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
//!   [`Message::set`]; selecting messages by what they say with the IDMEF
//!   criteria language (feature `criteria`): `criteria::Criteria`.
//! - Older drafts: [`upgrade`] carries a `2.D.V02`…`2.D.V07` message
//!   forward to a typed `2.D.V08` [`Message`], with a report of every
//!   change it made.
//! - Streams of messages (files, NDJSON, standard input): [`stream`] cuts
//!   them into messages one at a time, and finds the line of a JSON
//!   pointer for reports.
//! - Transport (features `client` and `server`): [`http`] sends and
//!   receives messages over HTTPS with mutual TLS 1.3, as the IDMEFv2
//!   transport draft lays it out.
//! - Exports (feature `export`): [`export`] maps a message to an OCSF
//!   Detection Finding or a STIX 2.1 bundle.
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
//!   convert, upgrade, export, filter, serve, send, publish, consume). Off
//!   by default. Turns on `preserve_order`, `criteria`, `client`,
//!   `server`, `nats`, `kafka` and `export`.
//! - `criteria`: [`criteria`], the IDMEF criteria filter language
//!   (`Priority == High && Source(*).IP in 10.0.0.0/8`). Brings in the
//!   `regex` crate. Off by default.
//! - `client`: [`http::client`], the HTTPS sender (tokio, hyper, rustls
//!   with the ring provider), with DNS SRV [`http::discovery`]
//!   (hickory-resolver). Turns on `outbox`. Off by default.
//! - `outbox`: [`outbox`], the delivery engine every sender shares: a
//!   journal on disk (or a queue in memory), retries with backoff, dead
//!   letters. Brings in tokio (timers and tasks) and ring, no transport.
//!   Off by default; `client` and `nats` turn it on.
//! - `server`: [`http::server`], the HTTPS receiver: axum extractor, sinks,
//!   a ready server (tokio, hyper, axum, rustls with the ring provider).
//!   Off by default.
//! - `nats`: [`nats`], alerts on NATS JetStream: a publisher that waits
//!   for the stream's acknowledgement, a durable consumer that
//!   acknowledges after the caller's handler, dead letters for invalid
//!   payloads, stream set-up. Brings in async-nats and tokio; turns on
//!   `outbox`. Off by default.
//! - `kafka`: [`kafka`], alerts on Kafka topics: an idempotent `acks=all`
//!   producer that waits for the broker's acknowledgement, a group
//!   consumer that commits only what the caller acknowledged, dead letters
//!   for records that do not decode, TLS client certificates and
//!   SASL/PLAIN; with `server`, [`gateway::kafka`], the receiver's sink
//!   into a topic. Brings in rdkafka and compiles its bundled librdkafka
//!   (needs cmake, a C compiler and the OpenSSL headers). Off by default.
//! - `export`: [`export`], alerts as OCSF Detection Findings and STIX 2.1
//!   bundles. Adds only `uuid`'s version 5 ids. Off by default.
//!
//! With no feature enabled, none of tokio, hyper, axum, rustls,
//! async-nats or rdkafka is compiled.
//! - `preserve_order`: keeps the member order of free JSON inside
//!   attachment `Content` as well, by switching `serde_json` maps to
//!   insertion order for the whole program. Off by default.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]
// The docs link to every module; built with some features off, a link to a
// module that is not compiled is shown as plain text instead of failing
// the build. The build with every feature (docs.rs, CI) still refuses any
// link that leads nowhere.
#![cfg_attr(
    not(all(
        feature = "client",
        feature = "server",
        feature = "nats",
        feature = "kafka",
        feature = "outbox",
        feature = "criteria",
        feature = "export"
    )),
    allow(rustdoc::broken_intra_doc_links)
)]

// The modules in layers: each uses only the layers before it, never one
// of its own layer or above. tests/layers.rs reads this list (a numbered
// comment opens a layer; the modules declared under it are in it) and
// checks every `crate::` path in src/ against it.
// 1. Errors and limits.
mod error;
mod limits;
// 2. Guarded JSON reading; the drafts; cutting streams into messages.
mod draft;
mod json;
pub mod stream;
// 3. The typed model (generated code and what it stands on).
mod model;
// 4. Schema validation, and the explanation of refused input.
mod validation;
// 5. Decoding and encoding whole messages.
mod message;
// 6. What builds on messages: codecs, IDMEF paths, upgrade.
pub mod codec;
mod path;
pub mod upgrade;
// 7. What builds on those: the specification's rules beyond the schema
// and the criteria (they name IDMEF paths), and the exports (older drafts
// are upgraded first).
#[cfg(feature = "criteria")]
#[cfg_attr(docsrs, doc(cfg(feature = "criteria")))]
pub mod criteria;
#[cfg(feature = "export")]
#[cfg_attr(docsrs, doc(cfg(feature = "export")))]
pub mod export;
pub mod strict;
// 8. Where received messages go, whatever carried them; the delivery
// engine that every sender shares.
#[cfg(feature = "outbox")]
#[cfg_attr(docsrs, doc(cfg(feature = "outbox")))]
pub mod outbox;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub mod sink;
// 9. Transports, each behind its feature; neither uses the other.
#[cfg(any(feature = "client", feature = "server"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "client", feature = "server"))))]
pub mod http;
#[cfg(feature = "kafka")]
#[cfg_attr(docsrs, doc(cfg(feature = "kafka")))]
pub mod kafka;
#[cfg(feature = "nats")]
#[cfg_attr(docsrs, doc(cfg(feature = "nats")))]
pub mod nats;
// 10. Gateways: sinks that hand what one transport received to another.
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
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

// The examples of the README and of the guides in docs/ run as doctests;
// the transport guide's need the `client` feature.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
#[doc = include_str!("../docs/transport.md")]
#[cfg(all(doctest, feature = "client"))]
pub struct TransportGuideDoctests;

//! Reading and writing whole messages.

use std::str::FromStr;

use serde::Deserialize;

use crate::{
    codec::{self, SerializedMessage},
    json,
    types::Content,
    validate, Error, Message, Violation,
};

/// Bounds on hostile input, checked before and while decoding.
///
/// ```
/// let limits = idmefv2::Limits::default().with_max_bytes(64 * 1024);
/// let error = idmefv2::Message::from_slice_with(&vec![b' '; 70_000], &limits).unwrap_err();
/// assert!(matches!(error, idmefv2::Error::TooLarge { .. }));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest accepted input, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of arrays and objects inside an attachment's
    /// `Content` (the content object itself is level 1). Content is the
    /// only free JSON in a message, so this bounds the whole document.
    pub max_depth: usize,
}

impl Limits {
    /// Default for [`Limits::max_bytes`]: 1 MiB.
    pub const DEFAULT_MAX_BYTES: usize = 1 << 20;
    /// Default for [`Limits::max_depth`]: 64 levels.
    pub const DEFAULT_MAX_DEPTH: usize = 64;
    /// Levels the message structure itself uses above attachment content.
    pub(crate) const STRUCTURE_DEPTH: usize = 3;

    /// These limits with another byte limit.
    #[must_use]
    pub const fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// These limits with another depth limit.
    #[must_use]
    pub const fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: Self::DEFAULT_MAX_BYTES,
            max_depth: Self::DEFAULT_MAX_DEPTH,
        }
    }
}

impl Message {
    /// Decodes and validates a JSON message under the default [`Limits`].
    ///
    /// A message that decodes is valid: the typed model checks every rule of
    /// the schema while reading, in one pass. When the input is refused, it
    /// is examined again to report every failure with its JSON pointer.
    ///
    /// A valid message of a draft older than `2.D.V08` is refused with
    /// [`Error::OlderDraft`]; [`upgrade`](crate::upgrade::upgrade) converts it.
    pub fn from_slice(bytes: &[u8]) -> Result<Message, Error> {
        Self::from_slice_with(bytes, &Limits::default())
    }

    /// Decodes and validates a JSON message under `limits`.
    pub fn from_slice_with(bytes: &[u8], limits: &Limits) -> Result<Message, Error> {
        if bytes.len() > limits.max_bytes {
            return Err(Error::TooLarge {
                size: bytes.len(),
                limit: limits.max_bytes,
            });
        }
        let typed = {
            let _budget = json::DepthBudget::set(limits.max_depth);
            let _order = crate::order::Recording::start();
            let mut de = serde_json::Deserializer::from_slice(bytes);
            de.disable_recursion_limit();
            Message::deserialize(&mut de).and_then(|m| de.end().map(|()| m))
        };
        match typed {
            Ok(message) => Ok(message),
            Err(e) if e.is_syntax() || e.is_eof() => Err(json::syntax_error(&e)),
            Err(e) => Err(explain(bytes, limits, &e)),
        }
    }

    /// The message as a JSON value.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("the model always encodes")
    }

    /// The message as compact JSON.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_size_hint());
        serde_json::to_writer(&mut out, self).expect("the model always encodes");
        out
    }

    /// A first capacity for the encoding buffer, so that it seldom grows:
    /// attachment texts (base64 files) make up most of a large message,
    /// and the rest of a typical alert takes one or two KiB.
    fn encoded_size_hint(&self) -> usize {
        let attachments: usize = self
            .attachment
            .iter()
            .flatten()
            .map(|a| match &a.content {
                Some(Content::Text(text)) => 256 + text.len(),
                _ => 256,
            })
            .sum();
        1024 + attachments
    }

    /// The message as indented JSON.
    pub fn to_string_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("the model always encodes")
    }

    /// Checks the message against the schema of its `Version`.
    ///
    /// A `Message` can only hold values its schema accepts, so this finds
    /// nothing; it is there to confirm that with the schema validator
    /// itself, as the reference implementations do.
    pub fn validate(&self) -> Result<(), Error> {
        validate::validate(&self.to_value())
    }

    /// Encodes the message with the codec registered for `media_type`
    /// (parameters such as `; charset=utf-8` and letter case are ignored
    /// when choosing the codec, and kept in the result).
    ///
    /// The message is valid by construction (see [`Message::validate`]), so
    /// no second check runs here.
    pub fn serialize(&self, media_type: &str) -> Result<SerializedMessage, Error> {
        let codec = codec::find(media_type)?;
        Ok(SerializedMessage {
            content_type: media_type.to_string(),
            payload: codec.encode(self)?,
        })
    }

    /// Decodes and validates a message with the codec for its content type.
    pub fn unserialize(message: &SerializedMessage) -> Result<Message, Error> {
        codec::find(&message.content_type)?.decode(&message.payload, &Limits::default())
    }
}

impl FromStr for Message {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Message::from_slice(s.as_bytes())
    }
}

impl TryFrom<&[u8]> for Message {
    type Error = Error;
    fn try_from(bytes: &[u8]) -> Result<Self, Error> {
        Message::from_slice(bytes)
    }
}

/// The slow path: re-reads refused input as untyped JSON and lets the schema
/// say everything that is wrong with it.
fn explain(bytes: &[u8], limits: &Limits, typed: &serde_json::Error) -> Error {
    let budget = Limits::STRUCTURE_DEPTH + limits.max_depth;
    let value = match json::parse_value(bytes, budget, limits.max_depth) {
        Ok(value) => value,
        Err(e) => return e,
    };
    let text = typed.to_string();
    let reason = text.split(" at line ").next().unwrap_or_default();
    refusal(&value, Violation::new("model", reason))
}

/// Why the typed model refused `value`, in the schema's terms: every schema
/// failure; `OlderDraft` for a valid message of an older draft; otherwise
/// `model` (what the model said), which only a disagreement between the
/// model and the schema could produce and the conformance suite rules out.
pub(crate) fn refusal(value: &serde_json::Value, model: Violation) -> Error {
    match validate::validate(value) {
        Err(e) => e,
        Ok(()) if !is_typed(value) => Error::OlderDraft {
            version: value["Version"].as_str().unwrap_or_default().to_string(),
        },
        Ok(()) => Error::invalid(model),
    }
}

/// Whether the message names a revision the typed model holds.
fn is_typed(value: &serde_json::Value) -> bool {
    value
        .get("Version")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|v| v.parse::<crate::Version>().is_ok())
}

/// Checks one encoded JSON message of any supported draft without keeping
/// it.
///
/// For `2.D.V08` and `2.D.V09-Dev` this is the typed decoder's single pass;
/// a message of an older draft (see [`supported_versions`](crate::supported_versions))
/// is read as guarded untyped JSON and checked against its own draft's
/// schema. Every failure is explained when the message is refused.
///
/// ```
/// let v04 = br#"{"Version": "2.D.V04", "ID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
///     "CreateTime": "2021-05-01T10:00:00Z", "Status": "Event",
///     "Analyzer": {"Name": "ids", "IP": "192.0.2.1"}}"#;
/// idmefv2::validate_slice(v04, &idmefv2::Limits::default())?;
/// # Ok::<(), idmefv2::Error>(())
/// ```
pub fn validate_slice(bytes: &[u8], limits: &Limits) -> Result<(), Error> {
    match Message::from_slice_with(bytes, limits) {
        Ok(_) | Err(Error::OlderDraft { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

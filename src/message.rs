//! Reading and writing whole messages.

use std::str::FromStr;

use crate::{json, model, types::Content, validation, Error, Id, Limits, Message, Result, Version};

/// Decoding and encoding.
///
/// # Equality
///
/// `==` on a `Message` (and on each of its parts) compares content by
/// meaning, member by member: value lists by value, [`Id`](crate::Id)s by
/// the UUID they denote (letter case aside) and
/// [`Timestamp`](crate::Timestamp)s by the instant they name (the offset
/// it is written with aside; see the `Timestamp` docs for timestamps
/// without offset). Numbers compare as `serde_json::Number`s (`1` and
/// `1.0` differ), texts and attachment content exactly, and the order of
/// members is not compared. Two messages that are `==` may thus encode to
/// different bytes; to ask whether two messages are written alike, compare
/// [`Message::to_value`] (which keeps every text as written) or
/// [`Message::to_vec`].
///
/// # Decoding with serde directly
///
/// `Message` implements serde's `Deserialize`, so
/// `serde_json::from_slice::<Message>`, `from_str`, `from_reader` and
/// `from_value` work too, and they apply the same rules as
/// [`Message::from_slice`]: every check of the schema, no member twice in
/// one object (class members and attachment content alike), no unknown
/// member, and attachment content nested no deeper than
/// [`Limits::DEFAULT_MAX_DEPTH`]. A message that decodes either way is the
/// same message. What only [`Message::from_slice`] and
/// [`Message::from_slice_with`] do:
///
/// - **Limits**: the size limit ([`Limits::max_bytes`]) is not checked,
///   and a depth limit other than the default cannot be given.
/// - **Member order**: the order members came in is not recorded, so
///   encoding writes the message in the specification's order rather than
///   the sender's.
/// - **Explanations**: a refusal is serde's error for the first problem
///   met, with a line and column, instead of [`Error::Invalid`] listing every
///   failure with its JSON pointer; a valid message of an older draft is not
///   told apart as [`Error::OlderDraft`]; broken JSON is not
///   [`Error::Syntax`].
///
/// `from_value` reads a `serde_json::Value`, where a repeated member is
/// already gone (the last one won); check bytes from outside with
/// [`Message::from_slice`]. Encoding with serde (`serde_json::to_vec`) writes
/// exactly what [`Message::to_vec`] writes.
impl Message {
    /// Decodes and validates a JSON message under the default [`Limits`].
    ///
    /// A message that decodes is valid: the typed model checks every rule of
    /// the schema while reading, in one pass. When the input is refused, it
    /// is examined again to report every failure with its JSON pointer.
    ///
    /// A valid message of a draft older than `2.D.V08` is refused with
    /// [`Error::OlderDraft`]; [`upgrade`](crate::upgrade::upgrade_latest) converts it.
    pub fn from_slice(bytes: &[u8]) -> Result<Message> {
        Self::from_slice_with(bytes, &Limits::default())
    }

    /// Decodes and validates a JSON message under `limits`.
    pub fn from_slice_with(bytes: &[u8], limits: &Limits) -> Result<Message> {
        if bytes.len() > limits.max_bytes {
            return Err(Error::TooLarge {
                size: bytes.len(),
                limit: limits.max_bytes,
            });
        }
        let typed = {
            let _order = model::Recording::start();
            json::read_whole::<Message>(bytes, limits.max_depth)
        };
        match typed {
            Ok(message) => Ok(message),
            Err(e) if e.is_syntax() || e.is_eof() => Err(json::syntax_error(&e, bytes)),
            Err(e) => Err(validation::explain_bytes(bytes, limits, &e)),
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
    pub fn validate(&self) -> Result<()> {
        validation::validate(&self.to_value())
    }
}

impl FromStr for Message {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Message::from_slice(s.as_bytes())
    }
}

impl TryFrom<&[u8]> for Message {
    type Error = Error;
    fn try_from(bytes: &[u8]) -> Result<Self> {
        Message::from_slice(bytes)
    }
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
pub fn validate_slice(bytes: &[u8], limits: &Limits) -> Result<()> {
    match check_slice_with(bytes, limits) {
        Ok(_) | Err(Error::OlderDraft { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Decides as [`Message::from_slice_with`] does without building the
/// message, and hands back its `Version` and `ID`.
///
/// A valid message is read once, by the checker (`model::check`), which
/// allocates only the `ID`. Anything the checker refuses is decoded again
/// in full, so that the error (or `OlderDraft`) is exactly the decoder's.
pub(crate) fn check_slice_with(bytes: &[u8], limits: &Limits) -> Result<(Version, Id)> {
    if bytes.len() > limits.max_bytes {
        return Err(Error::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    match model::check::check_only(bytes, limits.max_depth) {
        Ok(kept) => Ok(kept),
        // Should the two ever disagree, the decoder's verdict stands.
        Err(_) => Message::from_slice_with(bytes, limits).map(|m| (m.version, m.id)),
    }
}

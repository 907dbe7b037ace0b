//! Encodings of a message, keyed by media type.
//!
//! This module sits above decoding: the built-in JSON codec calls
//! [`Message::from_slice_with`] and [`Message::to_vec`], and
//! [`Message::serialize`] and [`Message::unserialize`] are defined here, so
//! that message decoding never depends on the codecs.

use std::sync::{Arc, LazyLock, RwLock};

use crate::{Error, Limits, Message, Result};

/// A message in encoded form, with the media type that says how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SerializedMessage {
    /// The media type, parameters included (`application/json; charset=utf-8`).
    pub content_type: String,
    /// The encoded message.
    pub payload: Vec<u8>,
}

/// An encoding of IDMEFv2 messages for one media type.
///
/// The built-in codecs handle `application/json` and `text/json`; add
/// others with [`register`].
pub trait Codec: Send + Sync {
    /// The media type handled, as `type/subtype` without parameters.
    fn media_type(&self) -> &str;
    /// Encodes a message.
    fn encode(&self, message: &Message) -> Result<Vec<u8>>;
    /// Decodes and validates a message.
    fn decode(&self, payload: &[u8], limits: &Limits) -> Result<Message>;
}

/// The JSON codec, under one of its media types.
struct Json(&'static str);

impl Codec for Json {
    fn media_type(&self) -> &str {
        self.0
    }
    fn encode(&self, message: &Message) -> Result<Vec<u8>> {
        Ok(message.to_vec())
    }
    fn decode(&self, payload: &[u8], limits: &Limits) -> Result<Message> {
        Message::from_slice_with(payload, limits)
    }
}

static REGISTRY: LazyLock<RwLock<Vec<Arc<dyn Codec>>>> = LazyLock::new(|| {
    RwLock::new(vec![
        Arc::new(Json("application/json")),
        Arc::new(Json("text/json")),
    ])
});

/// The essence of a media type: `type/subtype`, lowercased, without
/// parameters or surrounding space; how codecs are matched.
///
/// ```
/// assert_eq!(idmefv2::codec::essence(" Application/JSON ; charset=utf-8"), "application/json");
/// ```
pub fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Whether a media type names JSON text: `application/json`, `text/json`
/// or any `+json` type, parameters and letter case aside. Such a body can
/// be indented, or written as one NDJSON line, as it is.
///
/// ```
/// use idmefv2::codec::is_json;
/// assert!(is_json("Application/JSON; charset=utf-8"));
/// assert!(is_json("application/problem+json"));
/// assert!(!is_json("application/cbor"));
/// ```
pub fn is_json(media_type: &str) -> bool {
    let essence = essence(media_type);
    essence == "application/json" || essence == "text/json" || essence.ends_with("+json")
}

/// Adds a codec for the process, replacing any codec for the same media type.
pub fn register(codec: impl Codec + 'static) {
    let key = essence(codec.media_type());
    let mut codecs = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    codecs.retain(|c| essence(c.media_type()) != key);
    codecs.push(Arc::new(codec));
}

/// The media types that have a codec, in registration order.
pub fn supported() -> Vec<String> {
    let codecs = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    codecs.iter().map(|c| c.media_type().to_string()).collect()
}

/// The codec for `media_type`; parameters and letter case do not matter.
pub fn find(media_type: &str) -> Result<Arc<dyn Codec>> {
    let key = essence(media_type);
    let codecs = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    codecs
        .iter()
        .find(|c| essence(c.media_type()) == key)
        .cloned()
        .ok_or_else(|| Error::UnsupportedMediaType {
            media_type: media_type.to_string(),
            supported: codecs.iter().map(|c| c.media_type().to_string()).collect(),
        })
}

impl Message {
    /// Encodes the message with the codec registered for `media_type`
    /// (parameters such as `; charset=utf-8` and letter case are ignored
    /// when choosing the codec, and kept in the result).
    ///
    /// The message is valid by construction (see [`Message::validate`]), so
    /// no second check runs here.
    pub fn serialize(&self, media_type: &str) -> Result<SerializedMessage> {
        let codec = find(media_type)?;
        Ok(SerializedMessage {
            content_type: media_type.to_string(),
            payload: codec.encode(self)?,
        })
    }

    /// Decodes and validates a message with the codec for its content type,
    /// under the default [`Limits`].
    ///
    /// The name is the Python reference library's (`unserialize`), kept so
    /// that code moving between the two reads the same; it does what
    /// [`Message::from_slice`] does, through the codec.
    pub fn unserialize(message: &SerializedMessage) -> Result<Message> {
        Self::unserialize_with(message, &Limits::default())
    }

    /// Decodes and validates a message with the codec for its content type,
    /// under `limits`, as [`Message::from_slice_with`] does.
    ///
    /// ```
    /// use idmefv2::{Limits, Message, SerializedMessage};
    ///
    /// let encoded = SerializedMessage {
    ///     content_type: "application/json".into(),
    ///     payload: vec![b' '; 5000],
    /// };
    /// let small = Limits::default().with_max_bytes(4096);
    /// let error = Message::unserialize_with(&encoded, &small).unwrap_err();
    /// assert!(matches!(error, idmefv2::Error::TooLarge { size: 5000, limit: 4096 }));
    /// ```
    pub fn unserialize_with(message: &SerializedMessage, limits: &Limits) -> Result<Message> {
        find(&message.content_type)?.decode(&message.payload, limits)
    }
}

//! Setters that put content into an attachment the way the specification
//! wants it read: the encoding chosen and stated, the base64 done.
//!
//! Without `ContentEncoding` a receiver must read `Content` as `json`, a
//! serialized JSON object; so a text given with
//! [`content`](AttachmentBuilder::content) alone is a message that the
//! schema accepts and the strict rules refuse. These setters make the
//! content, its `ContentEncoding` and (when none was given) its
//! `ContentType` agree.

use serde_json::Value;

use super::types::{AttachmentBuilder, Content, MediaType};
use crate::{error::Rule, Violation};

/// The media types the setters state when the builder has none yet.
const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
const OCTET_STREAM: &str = "application/octet-stream";
const APPLICATION_JSON: &str = "application/json";

/// # Content
///
/// [`text`](Self::text), [`bytes`](Self::bytes) and [`json`](Self::json)
/// set `Content` together with the `ContentEncoding` that says how to read
/// it, so that the message passes [`Message::validate_strict`](crate::Message::validate_strict).
/// [`content`](Self::content) sets `Content` alone, as given: a text
/// without `ContentEncoding` must then be a serialized JSON object, since
/// the specification makes `json` the encoding when none is stated.
impl AttachmentBuilder {
    /// Attaches a text: `Content` is its UTF-8 bytes in base64 with
    /// `ContentEncoding` `base64`, the only encoding the specification
    /// defines for content other than a JSON object. `ContentType` becomes
    /// `text/plain; charset=utf-8` unless one was set already (set it
    /// before or after to say `text/csv`, say).
    ///
    /// ```
    /// use idmefv2::{Analyzer, Attachment, Message};
    ///
    /// # fn main() -> Result<(), idmefv2::Error> {
    /// let message = Message::builder(Analyzer::builder("edge-ids"))
    ///     .attachment(Attachment::builder("log").text("Failed password for root from 198.51.100.7"))
    ///     .build()?;
    /// message.validate_strict()?;
    /// let attachment = &message.attachment.as_ref().unwrap()[0];
    /// assert_eq!(attachment.content_encoding.as_deref(), Some("base64"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn text(self, text: impl AsRef<str>) -> Self {
        self.encoded(text.as_ref().as_bytes(), TEXT_PLAIN)
    }

    /// Attaches bytes (a file, a packet): `Content` is their base64 with
    /// `ContentEncoding` `base64`. `ContentType` becomes
    /// `application/octet-stream` unless one was set already.
    pub fn bytes(self, bytes: impl AsRef<[u8]>) -> Self {
        self.encoded(bytes.as_ref(), OCTET_STREAM)
    }

    /// Attaches a JSON object: `Content` is the object serialized to a
    /// string, as the specification's `json` encoding defines it, with
    /// `ContentEncoding` `json`. `ContentType` becomes `application/json`
    /// unless one was set already. A value that is not an object is
    /// reported by [`build`](AttachmentBuilder::build) at `/Content`.
    pub fn json(mut self, object: impl Into<Value>) -> Self {
        match object.into() {
            Value::Object(object) => {
                let text = Value::Object(object).to_string();
                self.content = Some(Content::Text(text));
                self.content_encoding = Some("json".to_string());
                self.default_type(APPLICATION_JSON);
            }
            _ => self.errors.push(
                Violation::new(
                    Rule::JsonContent,
                    "json content must be a JSON object, not another JSON value",
                )
                .at("/Content"),
            ),
        }
        self
    }

    fn encoded(mut self, bytes: &[u8], media_type: &'static str) -> Self {
        self.content = Some(Content::Text(base64(bytes)));
        self.content_encoding = Some("base64".to_string());
        self.default_type(media_type);
        self
    }

    /// States `media_type` unless a `ContentType` was given.
    fn default_type(&mut self, media_type: &'static str) {
        if self.content_type.is_none() {
            // The constants above are media types the pattern accepts.
            self.content_type = MediaType::new(media_type).ok();
        }
    }
}

/// `bytes` in base64 (RFC 4648, section 4: standard alphabet, padded).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let group = chunk
            .iter()
            .enumerate()
            .fold(0u32, |g, (i, &b)| g | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                let index = (group >> (18 - 6 * i)) & 0x3f;
                out.push(char::from(ALPHABET[index as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_gives_the_rfc_4648_test_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }
}

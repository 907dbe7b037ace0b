//! Hand-written value types that the generated model uses for the schema's
//! constrained strings, numbers and free JSON.
//!
//! Each text type keeps the exact text of the message (the schema accepts
//! forms that `time` and `uuid` would rewrite, such as uppercase hex, no UTC
//! offset or second 60) and can only hold text that the schema accepts.

use std::{cell::RefCell, fmt, str::FromStr, sync::OnceLock};

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};

use super::meaning::{self, Meaning};
use super::{builder::IntoField, pattern};
use crate::{Error, Result, SchemaKeyword, Violation};

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $check:path, $meaning:path, $keyword:path, $reason:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name(String);

        // Equality, order and hash through one key (`meaning.rs`), so that
        // they agree.
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                <$meaning as Meaning>::key(&self.0) == <$meaning as Meaning>::key(&other.0)
            }
        }

        impl Eq for $name {}

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                <$meaning as Meaning>::key(&self.0).cmp(&<$meaning as Meaning>::key(&other.0))
            }
        }

        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                <$meaning as Meaning>::key(&self.0).hash(state)
            }
        }

        impl $name {
            /// Why a text is refused, in words.
            const REFUSAL: &'static str = concat!("not ", $reason);

            /// Checks `text` against the schema and keeps it unchanged.
            pub fn new(text: impl Into<String>) -> Result<Self, Violation> {
                let text = text.into();
                if ($check)(text.as_str()) {
                    Ok(Self(text))
                } else {
                    Err(Violation::new($keyword, Self::REFUSAL))
                }
            }

            /// The text as it appears in the message.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The text, by value.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = Violation;
            fn from_str(s: &str) -> Result<Self, Violation> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = Violation;
            fn try_from(s: &str) -> Result<Self, Violation> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Violation;
            fn try_from(s: String) -> Result<Self, Violation> {
                Self::new(s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl IntoField<$name> for &str {
            fn into_field(self) -> Result<$name> {
                $name::new(self).map_err(Error::invalid)
            }
        }

        impl IntoField<$name> for String {
            fn into_field(self) -> Result<$name> {
                $name::new(self).map_err(Error::invalid)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($reason)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        if ($check)(v) {
                            Ok($name(v.to_owned()))
                        } else {
                            Err(E::custom($name::REFUSAL))
                        }
                    }
                    fn visit_string<E: de::Error>(self, v: String) -> Result<$name, E> {
                        if ($check)(v.as_str()) {
                            Ok($name(v))
                        } else {
                            Err(E::custom($name::REFUSAL))
                        }
                    }
                }
                d.deserialize_string(V)
            }
        }

        // The same matcher on the text where it lies, without a copy.
        impl super::check::Check for $name {
            type Kept = ();
            fn check<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
                struct V;
                impl de::Visitor<'_> for V {
                    type Value = ();
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($reason)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
                        if ($check)(v) {
                            Ok(())
                        } else {
                            Err(E::custom($name::REFUSAL))
                        }
                    }
                }
                d.deserialize_string(V)
            }
        }
    };
}

/// Defines, from the table in `hand_written.rs`, each text type, the words
/// that explain a refusal by definition name, the pinned patterns for the
/// matchers' tests, and the set of hand-written types.
macro_rules! hand_written {
    (
        patterns { $( $(#[$pdoc:meta])* $pname:ident = $pattern:literal,
            matched by $pcheck:path, compared as $pcmp:path, refused as $preason:literal; )* }
        formats { $( $(#[$fdoc:meta])* $fname:ident = $format:literal,
            matched by $fcheck:path, refused as $freason:literal; )* }
        values { $( $(#[$vdoc:meta])* $vname:ident = $shape:literal; )* }
    ) => {
        $( text_type!($(#[$pdoc])* $pname, $pcheck, $pcmp, SchemaKeyword::Pattern, $preason); )*
        $( text_type!($(#[$fdoc])* $fname, $fcheck, meaning::Text, SchemaKeyword::Format, $freason); )*

        /// The refusal text of the checked text type named like a schema
        /// definition, so that schema validation explains a broken pattern
        /// or format in the same words as typed decoding.
        pub(crate) fn reason_for(definition: &str) -> Option<&'static str> {
            match definition {
                $( stringify!($pname) => Some($pname::REFUSAL), )*
                $( stringify!($fname) => Some($fname::REFUSAL), )*
                _ => None,
            }
        }

        /// Each pattern definition with the expression pinned for it (which
        /// the build holds equal to the schema's) and its matcher.
        #[cfg(test)]
        pub(crate) const PATTERNS: &[(&str, &str, fn(&str) -> bool)] =
            &[$((stringify!($pname), $pattern, $pcheck)),*];

        /// Every hand-written type of the table, for the `types` module and
        /// the generated code's `support`.
        pub(crate) mod replacements {
            pub use super::{$($pname,)* $($fname,)* $($vname,)*};
        }
    };
}

include!("hand_written.rs");

/// A one-keyword validator for a `format`, so that the typed model asserts
/// formats with the very code the schema validator uses.
fn format_check(cell: &'static OnceLock<jsonschema::Validator>, format: &str, s: &str) -> bool {
    /// Longest text whose buffer is kept for the next check.
    const KEEP: usize = 1024;
    thread_local! {
        /// The validator takes a `Value`; this one is reused so that a
        /// check does not allocate.
        static SCRATCH: RefCell<Value> = const { RefCell::new(Value::String(String::new())) };
    }
    let validator = cell.get_or_init(|| {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(true)
            .build(&serde_json::json!({ "format": format }))
            .expect("a lone format keyword compiles")
    });
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut value) => {
            if let Value::String(buffer) = &mut *value {
                buffer.clear();
                buffer.push_str(s);
            } else {
                *value = Value::String(s.to_owned());
            }
            let valid = validator.is_valid(&value);
            if let Value::String(buffer) = &mut *value {
                if buffer.capacity() > KEEP {
                    *buffer = String::new();
                }
            }
            valid
        }
        // Only if a check ever ran inside another one on this thread.
        Err(_) => validator.is_valid(&Value::String(s.to_owned())),
    })
}

fn is_email(s: &str) -> bool {
    static CELL: OnceLock<jsonschema::Validator> = OnceLock::new();
    is_plain_email(s) || format_check(&CELL, "email", s)
}

/// A quick yes for the everyday shape of an e-mail address, which the
/// schema validator's `email` format (jsonschema 0.61.2: `email_address`
/// 0.2.10 with default options, then its hostname rules) accepts too; every
/// other text, valid or not, is left to that validator.
///
/// The shape: ASCII only, one `@`; a local part of 1 to 64 bytes made of
/// dot-separated non-empty runs of letters, digits, `+`, `-` and `_`; a
/// domain of 1 to 253 bytes with at least two dot-separated labels of 1 to
/// 63 letters, digits and hyphens, each starting and ending with a letter
/// or digit, and none with hyphens as third and fourth characters (which
/// would make the validator check it as an internationalised label).
fn is_plain_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = (1..=64).contains(&local.len())
        && local.split('.').all(|run| {
            !run.is_empty()
                && run
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'_'))
        });
    if !local_ok || !(1..=253).contains(&domain.len()) {
        return false;
    }
    let mut labels = 0;
    for label in domain.split('.') {
        let bytes = label.as_bytes();
        let ok = (1..=63).contains(&bytes.len())
            && bytes[0].is_ascii_alphanumeric()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric()
            && bytes
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'-')
            && !(bytes.len() >= 4 && bytes[2] == b'-' && bytes[3] == b'-');
        if !ok {
            return false;
        }
        labels += 1;
    }
    labels >= 2
}

fn is_uri(s: &str) -> bool {
    static CELL: OnceLock<jsonschema::Validator> = OnceLock::new();
    format_check(&CELL, "uri", s)
}

impl Id {
    /// A fresh UUID for a new message or entity, in lowercase.
    ///
    /// It is a version 7 UUID (RFC 9562): a millisecond timestamp followed
    /// by random bits, so IDs sort by creation time. The IDMEFv2
    /// specification advises against generating version 4 (purely random)
    /// UUIDs; use [`Id::new_v4`] only where that is what a peer expects.
    pub fn generate() -> Self {
        Id(uuid::Uuid::now_v7().hyphenated().to_string())
    }

    /// A fresh random (version 4) UUID, in lowercase.
    pub fn new_v4() -> Self {
        Id(uuid::Uuid::new_v4().hyphenated().to_string())
    }

    /// The UUID this text denotes. Never fails for a checked `Id`.
    pub fn to_uuid(&self) -> uuid::Uuid {
        // The pattern admits exactly the hyphenated form, which `uuid` parses.
        uuid::Uuid::try_parse(&self.0).unwrap_or_default()
    }
}

impl From<uuid::Uuid> for Id {
    fn from(u: uuid::Uuid) -> Self {
        Id(u.hyphenated().to_string())
    }
}

impl IntoField<Id> for uuid::Uuid {
    fn into_field(self) -> Result<Id> {
        Ok(self.into())
    }
}

impl Timestamp {
    /// The current time in UTC, with nanoseconds.
    ///
    /// A clock reading outside the years 0000–9999, which the format cannot
    /// write, gives the nearest instant it can.
    pub fn now() -> Self {
        let now = time::OffsetDateTime::now_utc();
        Timestamp::try_from(now).unwrap_or_else(|_| {
            let nearest = if now.year() < 0 {
                "0000-01-01T00:00:00Z"
            } else {
                "9999-12-31T23:59:59.999999999Z"
            };
            Timestamp(nearest.to_string())
        })
    }

    /// The instant this timestamp denotes.
    ///
    /// Fails when the text names no UTC offset (it is then a local time of
    /// unknown zone: see [`Timestamp::to_primitive_date_time`]), when the
    /// date does not exist (month 00, 30 February, …), or for a leap second
    /// (second 60), which `time` cannot represent.
    pub fn to_offset_date_time(&self) -> Result<time::OffsetDateTime> {
        let (local, offset) = self.parts()?;
        let offset = offset.ok_or_else(|| {
            Error::Conversion("timestamp has no UTC offset; its zone is unknown".into())
        })?;
        Ok(local.assume_offset(offset))
    }

    /// The date and wall-clock time, ignoring any UTC offset.
    pub fn to_primitive_date_time(&self) -> Result<time::PrimitiveDateTime> {
        self.parts().map(|(local, _)| local)
    }

    fn parts(&self) -> Result<(time::PrimitiveDateTime, Option<time::UtcOffset>)> {
        let f = TimestampFields::read(&self.0)
            .ok_or_else(|| Error::Conversion("timestamp: not of the schema's form".into()))?;
        let bad = |e: &dyn fmt::Display| Error::Conversion(format!("timestamp: {e}"));
        let month = time::Month::try_from(f.month).map_err(|e| bad(&e))?;
        let date = time::Date::from_calendar_date(f.year, month, f.day).map_err(|e| bad(&e))?;
        if f.second == 60 {
            return Err(Error::Conversion(
                "timestamp is a leap second, which time::OffsetDateTime cannot hold".into(),
            ));
        }
        let clock =
            time::Time::from_hms_nano(f.hour, f.minute, f.second, f.nanos).map_err(|e| bad(&e))?;
        let offset = match f.offset_minutes {
            None => None,
            Some(minutes) => {
                Some(time::UtcOffset::from_whole_seconds(minutes * 60).map_err(|e| bad(&e))?)
            }
        };
        Ok((time::PrimitiveDateTime::new(date, clock), offset))
    }
}

/// The numbers written in a timestamp of the schema's form, not yet checked
/// against the calendar (month 00 and 30 February read as written).
pub(crate) struct TimestampFields {
    pub(crate) year: i32,
    pub(crate) month: u8,
    pub(crate) day: u8,
    pub(crate) hour: u8,
    pub(crate) minute: u8,
    pub(crate) second: u8,
    /// The fraction, cut to nanoseconds.
    pub(crate) nanos: u32,
    /// `None` when the text names no UTC offset.
    pub(crate) offset_minutes: Option<i32>,
}

impl TimestampFields {
    /// The fields of `text`, or `None` when the schema's pattern refuses it.
    pub(crate) fn read(text: &str) -> Option<Self> {
        if !pattern::is_timestamp(text) {
            return None;
        }
        let s = text.as_bytes();
        // The pattern fixes the position and the digits of every field.
        let num = |bytes: &[u8], r: std::ops::Range<usize>| -> u32 {
            bytes
                .get(r)
                .unwrap_or_default()
                .iter()
                .fold(0, |n, d| n * 10 + u32::from(d.wrapping_sub(b'0')))
        };
        let mut rest = s.get(19..).unwrap_or_default();
        let mut nanos = 0u32;
        if let Some(fraction) = rest.strip_prefix(b".") {
            let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
            nanos = num(fraction, 0..digits.min(9)) * 10u32.pow(9 - digits.min(9) as u32);
            rest = fraction.get(digits..).unwrap_or_default();
        }
        let offset_minutes = match rest.first() {
            None => None,
            Some(b'Z') => Some(0),
            Some(sign) => {
                let minutes = (num(rest, 1..3) * 60 + num(rest, 4..6)) as i32;
                Some(if *sign == b'-' { -minutes } else { minutes })
            }
        };
        Some(TimestampFields {
            year: num(s, 0..4) as i32,
            month: num(s, 5..7) as u8,
            day: num(s, 8..10) as u8,
            hour: num(s, 11..13) as u8,
            minute: num(s, 14..16) as u8,
            second: num(s, 17..19) as u8,
            nanos,
            offset_minutes,
        })
    }
}

/// The instant in RFC 3339 form, which the schema's pattern accepts.
///
/// Fails for a year outside 0000–9999 and for a UTC offset with seconds,
/// neither of which RFC 3339 can write.
impl TryFrom<time::OffsetDateTime> for Timestamp {
    type Error = Violation;
    fn try_from(t: time::OffsetDateTime) -> Result<Self, Violation> {
        let refused = |reason| Err(Violation::new(SchemaKeyword::Pattern, reason));
        if !(0..=9999).contains(&t.year()) {
            return refused("year outside 0000-9999");
        }
        match t.format(&time::format_description::well_known::Rfc3339) {
            Ok(text) if pattern::is_timestamp(&text) => Ok(Timestamp(text)),
            _ => refused("UTC offset with seconds, which RFC 3339 cannot write"),
        }
    }
}

impl IntoField<Timestamp> for time::OffsetDateTime {
    fn into_field(self) -> Result<Timestamp> {
        Timestamp::try_from(self).map_err(Error::invalid)
    }
}

/// A JSON integer exactly as the schema's draft-04 `integer` type admits it:
/// written without a fraction (any size), kept as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Integer(Number);

impl Integer {
    /// Checks that `n` counts as an integer under draft-04 rules.
    pub fn new(n: Number) -> Result<Self, Violation> {
        if draft4_integer(&n) {
            Ok(Integer(n))
        } else {
            Err(Violation::new(SchemaKeyword::Type, "not an integer"))
        }
    }

    /// The value, when it fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.as_i64()
    }

    /// The value, when it fits a `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        self.0.as_u64()
    }

    /// The JSON number.
    pub fn as_number(&self) -> &Number {
        &self.0
    }
}

/// Draft-04 `integer`, decided exactly as the jsonschema crate decides it for
/// a `serde_json::Number`: any i64/u64, and past those the floats whose text
/// has no fraction (large values are written with an exponent and count as
/// whole numbers from 2^63 up).
fn draft4_integer(n: &Number) -> bool {
    if n.is_i64() || n.is_u64() {
        return true;
    }
    let text = n.to_string();
    if text.contains(['e', 'E']) {
        n.as_f64()
            .is_some_and(|v| v.abs() >= 9_223_372_036_854_775_808.0)
    } else {
        !text.contains('.')
    }
}

impl fmt::Display for Integer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

macro_rules! integer_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Integer {
            fn from(v: $t) -> Self {
                Integer(Number::from(v))
            }
        }
        impl IntoField<Integer> for $t {
            fn into_field(self) -> Result<Integer> {
                Ok(self.into())
            }
        }
    )*};
}
integer_from!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

impl Serialize for Integer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Integer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = Number::deserialize(d)?;
        Integer::new(n).map_err(|v| de::Error::custom(v.reason()))
    }
}

/// A confidence level: a JSON number from 0 to 1, kept as written.
#[derive(Clone, Debug, PartialEq)]
pub struct Confidence(Number);

impl Confidence {
    /// Checks that `value` lies in 0..=1.
    pub fn new(value: f64) -> Result<Self, Violation> {
        Number::from_f64(value)
            .ok_or_else(|| Violation::new(SchemaKeyword::Type, "not a finite number"))
            .and_then(Self::from_number)
    }

    /// Checks that `n` lies in 0..=1.
    pub fn from_number(n: Number) -> Result<Self, Violation> {
        match n.as_f64() {
            Some(v) if v < 0.0 => Err(Violation::new(SchemaKeyword::Minimum, "less than 0")),
            Some(v) if v > 1.0 => Err(Violation::new(SchemaKeyword::Maximum, "greater than 1")),
            Some(_) => Ok(Confidence(n)),
            None => Err(Violation::new(SchemaKeyword::Type, "not a number")),
        }
    }

    /// The value as a float.
    pub fn value(&self) -> f64 {
        self.0.as_f64().unwrap_or_default()
    }

    /// The JSON number.
    pub fn as_number(&self) -> &Number {
        &self.0
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl TryFrom<f64> for Confidence {
    type Error = Violation;
    fn try_from(v: f64) -> Result<Self, Violation> {
        Confidence::new(v)
    }
}

impl IntoField<Confidence> for f64 {
    fn into_field(self) -> Result<Confidence> {
        Confidence::new(self).map_err(Error::invalid)
    }
}

impl Serialize for Confidence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Confidence {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = Number::deserialize(d)?;
        Confidence::from_number(n).map_err(|v| de::Error::custom(v.reason()))
    }
}

/// Embedded attachment content: a JSON object or a string.
///
/// Objects are read with the same guards as the rest of the input: no
/// member twice in one object, and no deeper nesting than the decoder's
/// [`Limits`](crate::Limits) allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// Structured content (for `ContentEncoding` `json`).
    Object(Map<String, Value>),
    /// Text content, such as base64.
    Text(String),
}

impl From<Map<String, Value>> for Content {
    fn from(m: Map<String, Value>) -> Self {
        Content::Object(m)
    }
}

impl From<String> for Content {
    fn from(s: String) -> Self {
        Content::Text(s)
    }
}

impl From<&str> for Content {
    fn from(s: &str) -> Self {
        Content::Text(s.to_owned())
    }
}

impl IntoField<Content> for &str {
    fn into_field(self) -> Result<Content> {
        Ok(self.into())
    }
}

impl IntoField<Content> for String {
    fn into_field(self) -> Result<Content> {
        Ok(self.into())
    }
}

impl IntoField<Content> for Map<String, Value> {
    fn into_field(self) -> Result<Content> {
        Ok(self.into())
    }
}

impl IntoField<Content> for Value {
    fn into_field(self) -> Result<Content> {
        match self {
            Value::Object(m) => Ok(Content::Object(m)),
            Value::String(s) => Ok(Content::Text(s)),
            _ => Err(Error::invalid(Violation::new(
                SchemaKeyword::Type,
                "content must be an object or a string",
            ))),
        }
    }
}

impl Serialize for Content {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Content::Object(m) => m.serialize(s),
            Content::Text(t) => s.serialize_str(t),
        }
    }
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Content;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object or a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Content, E> {
                Ok(Content::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Content, E> {
                Ok(Content::Text(v))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Content, A::Error> {
                let budget = crate::json::content_depth_budget();
                crate::json::object_from(map, budget).map(Content::Object)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema validator's own decision, without any shortcut.
    fn reference_email(s: &str) -> bool {
        static CELL: OnceLock<jsonschema::Validator> = OnceLock::new();
        format_check(&CELL, "email", s)
    }

    fn assert_shortcut_agrees(s: &str) -> bool {
        let quick = is_plain_email(s);
        if quick {
            assert!(
                reference_email(s),
                "shortcut accepts {s:?}, the validator refuses it"
            );
        }
        quick
    }

    #[test]
    fn email_shortcut_accepts_only_what_the_validator_accepts() {
        let long = |n: usize| "a".repeat(n);
        let mut corpus: Vec<String> = [
            "a@b.c",
            "a@b",
            "a@b.",
            "a@.b",
            "a@b..c",
            ".a@b.c",
            "a.@b.c",
            "a..b@c.d",
            "a@-b.c",
            "a@b-.c",
            "a@b.c-",
            "a@b.-c",
            "a@xn--nxasmq6b.com",
            "a@ab--c.de",
            "a@abc--d.de",
            "a@xn--.de",
            "a@a-b.c-d",
            "a+b@c.d",
            "a_b@c.d",
            "a-b@c.d",
            "a@b_c.d",
            "a@b+c.d",
            "\"a\"@b.c",
            "\"\"@b.c",
            "a b@c.d",
            "a@b c.d",
            "<a@b.c>",
            "A <a@b.c>",
            "a@[1.2.3.4]",
            "a@[IPv6:::1]",
            "a@@b.c",
            "@b.c",
            "a@",
            "",
            "@",
            "a@1.2",
            "a@123.456",
            "1@2.3",
            "a@b.c\n",
            " a@b.c",
            "é@b.c",
            "a@é.c",
            "a@b.co.uk",
            "A@B.C",
            "a@B-1.c0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for (l, d) in [(64, 63), (65, 63), (64, 64), (1, 62)] {
            corpus.push(format!("{}@{}.de", long(l), long(d)));
        }
        // Domains around the 253- and 254-byte limits.
        for total in 250..=256 {
            let mut labels = Vec::new();
            let mut len = 0;
            while len + 64 <= total {
                labels.push(long(63));
                len += 64;
            }
            let rest = total - len;
            labels.push(if rest == 0 { "b".into() } else { long(rest) });
            corpus.push(format!("x@{}", labels.join(".")));
        }
        // Random texts over an alphabet of the characters that matter.
        const ALPHABET: &[u8] = b"aZ09.-+_@\" <>[]:xn!#/\\";
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            let len = (next() % 24) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            corpus.push(String::from_utf8(text).expect("ASCII"));
        }
        // Texts built from fragments, so that most are near the shape.
        const FRAGMENTS: &[&str] = &[
            "a", "b9", "Z", "0", "mail", "-", "--", "+", "_", ".", ".", "..", "xn--", "ab--", "@",
            "@", "é", "\"", " ", "[", "]", ":", "<", ">",
        ];
        for _ in 0..200_000 {
            let mut text = String::new();
            let local = 1 + next() % 3;
            for _ in 0..local {
                text.push_str(FRAGMENTS[(next() % 10) as usize]);
            }
            text.push('@');
            for _ in 0..(1 + next() % 8) {
                let pick = if next() % 8 == 0 {
                    next() % FRAGMENTS.len() as u64
                } else {
                    next() % 14
                };
                text.push_str(FRAGMENTS[pick as usize]);
            }
            corpus.push(text);
        }
        let accepted = corpus.iter().filter(|s| assert_shortcut_agrees(s)).count();
        // The shortcut must be taken often enough to matter and to be tested.
        assert!(accepted > 1_000, "shortcut taken {accepted} times");
        for s in ["a@b.c", "abuse@badhost.example", "it-ops@contoso.example"] {
            assert!(is_plain_email(s), "{s}");
        }
    }
}

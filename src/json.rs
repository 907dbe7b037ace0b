//! Guarded reading of free JSON: refuses duplicate members and nesting
//! deeper than the limit, and (on the slow path) says where.

use std::{cell::Cell, cell::RefCell, fmt};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::{Error, Limits};

thread_local! {
    /// Nesting still allowed for attachment content on this thread; set by
    /// the decoder for the duration of one decode.
    static CONTENT_DEPTH: Cell<usize> = const { Cell::new(Limits::DEFAULT_MAX_DEPTH) };
}

pub(crate) fn content_depth_budget() -> usize {
    CONTENT_DEPTH.with(Cell::get)
}

/// Sets the content nesting budget until dropped.
pub(crate) struct DepthBudget(usize);

impl DepthBudget {
    pub(crate) fn set(depth: usize) -> Self {
        DepthBudget(CONTENT_DEPTH.with(|c| c.replace(depth)))
    }
}

impl Drop for DepthBudget {
    fn drop(&mut self) {
        CONTENT_DEPTH.with(|c| c.set(self.0));
    }
}

/// Reads one `T` from the whole of `bytes`, with attachment content nested
/// no deeper than `max_depth` and no recursion limit of serde_json's (the
/// model's own nesting is bounded).
///
/// When `bytes` is UTF-8 it is checked as such once, and serde_json then
/// reads it as text without checking each string again (that check, text
/// by text, was an eighth of the time of reading a typical alert). Outside
/// strings JSON is ASCII, so the outcome is the same, errors included;
/// input that is not UTF-8 is read as bytes, as before, for its error.
pub(crate) fn read_whole<T: de::DeserializeOwned>(
    bytes: &[u8],
    max_depth: usize,
) -> serde_json::Result<T> {
    fn read<'a, R: serde_json::de::Read<'a>, T: de::Deserialize<'a>>(
        read: R,
        max_depth: usize,
    ) -> serde_json::Result<T> {
        let _budget = DepthBudget::set(max_depth);
        let mut de = serde_json::Deserializer::new(read);
        de.disable_recursion_limit();
        let value = T::deserialize(&mut de)?;
        de.end()?;
        Ok(value)
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => read(serde_json::de::StrRead::new(text), max_depth),
        Err(_) => read(serde_json::de::SliceRead::new(bytes), max_depth),
    }
}

/// Where a slow-path read records why it stopped, and where it is: a
/// chain of places on the stack, turned into a JSON pointer only when
/// something fails. (A pointer built for every value was more than half
/// the time of checking a valid older-draft message: `cargo bench --bench
/// decode -- v04`.)
#[derive(Clone, Copy)]
struct Track<'a> {
    failure: &'a RefCell<Option<Error>>,
    at: Option<&'a Place<'a>>,
}

/// One step below the document's root, and the step above it.
struct Place<'a> {
    parent: Option<&'a Place<'a>>,
    segment: Segment<'a>,
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Member(&'a str),
    Item(usize),
}

impl<'a> Track<'a> {
    /// The place of `segment` below this one, to be kept on the caller's
    /// stack while the value there is read.
    fn place(&self, segment: Segment<'a>) -> Place<'a> {
        Place {
            parent: self.at,
            segment,
        }
    }

    fn below(&self, place: &'a Place<'a>) -> Track<'a> {
        Track {
            failure: self.failure,
            at: Some(place),
        }
    }

    /// The JSON pointer of where this is.
    fn pointer(&self) -> String {
        pointer_of(self.at, None)
    }

    fn fail(&self, error: Error) {
        *self.failure.borrow_mut() = Some(error);
    }
}

/// The pointer of `at`, with `last` below it when given.
fn pointer_of(at: Option<&Place<'_>>, last: Option<Segment<'_>>) -> String {
    let mut segments: Vec<Segment<'_>> = last.into_iter().collect();
    let mut next = at;
    while let Some(place) = next {
        segments.push(place.segment);
        next = place.parent;
    }
    let mut pointer = String::new();
    for segment in segments.iter().rev() {
        pointer.push('/');
        match segment {
            Segment::Member(name) => pointer.push_str(&escape_segment(name)),
            Segment::Item(index) => pointer.push_str(&index.to_string()),
        }
    }
    pointer
}

/// Escapes one member name for use as a JSON pointer segment (RFC 6901).
pub(crate) fn escape_segment(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// Undoes [`escape_segment`].
pub(crate) fn unescape_segment(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Reads one JSON value with at most `budget` levels of arrays and objects.
struct ValueSeed<'a> {
    budget: usize,
    limit: usize,
    track: Option<Track<'a>>,
}

impl ValueSeed<'_> {
    fn too_deep<E: de::Error>(&self) -> E {
        if let Some(t) = &self.track {
            t.fail(Error::TooDeep {
                pointer: t.pointer(),
                limit: self.limit,
            });
        }
        E::custom("nesting too deep")
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.budget == 0 {
            return Err(self.too_deep());
        }
        let mut items = Vec::new();
        loop {
            let place = self.track.map(|t| t.place(Segment::Item(items.len())));
            let seed = ValueSeed {
                budget: self.budget - 1,
                limit: self.limit,
                track: self.track.zip(place.as_ref()).map(|(t, p)| t.below(p)),
            };
            match seq.next_element_seed(seed)? {
                Some(v) => items.push(v),
                None => return Ok(Value::Array(items)),
            }
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        if self.budget == 0 {
            return Err(self.too_deep());
        }
        members(map, self.budget - 1, self.limit, self.track).map(Value::Object)
    }
}

fn members<'de, A: MapAccess<'de>>(
    mut map: A,
    budget: usize,
    limit: usize,
    track: Option<Track<'_>>,
) -> Result<Map<String, Value>, A::Error> {
    let mut out = Map::new();
    while let Some(key) = map.next_key::<String>()? {
        let place = track.map(|t| t.place(Segment::Member(&key)));
        let value = map.next_value_seed(ValueSeed {
            budget,
            limit,
            track: track.zip(place.as_ref()).map(|(t, p)| t.below(p)),
        })?;
        // One lookup: insert, or find the member already there.
        match out.entry(key) {
            serde_json::map::Entry::Vacant(slot) => {
                slot.insert(value);
            }
            serde_json::map::Entry::Occupied(slot) => {
                if let Some(t) = track {
                    let pointer = pointer_of(t.at, Some(Segment::Member(slot.key())));
                    t.fail(Error::DuplicateKey { pointer });
                }
                return Err(de::Error::custom("member appears twice in one object"));
            }
        }
    }
    Ok(out)
}

/// Reads the members of a content object (which itself takes one level of
/// `budget`), for the typed decoder's fast path.
pub(crate) fn object_from<'de, A: MapAccess<'de>>(
    map: A,
    budget: usize,
) -> Result<Map<String, Value>, A::Error> {
    if budget == 0 {
        return Err(de::Error::custom("nesting too deep"));
    }
    members(map, budget - 1, budget, None)
}

/// The top-level `ID` of a JSON message, read without decoding the rest
/// into a model (any draft, valid or not): what the transports name a
/// message by. `None` when the bytes are not a JSON object with one text
/// `ID`.
#[cfg(any(feature = "outbox", feature = "server", feature = "kafka"))]
pub(crate) fn message_id(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct OnlyId {
        #[serde(rename = "ID")]
        id: Option<String>,
    }
    serde_json::from_slice::<OnlyId>(bytes).ok()?.id
}

/// Parses a whole document into a `Value`, refusing duplicate members and
/// nesting past `budget` levels, with the pointer of any such failure.
pub(crate) fn parse_value(bytes: &[u8], budget: usize, limit: usize) -> Result<Value, Error> {
    let failure = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    let seed = ValueSeed {
        budget,
        limit,
        track: Some(Track {
            failure: &failure,
            at: None,
        }),
    };
    let parsed = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(v) => Ok(v),
        Err(e) => Err(failure.take().unwrap_or_else(|| syntax_error(&e, bytes))),
    }
}

/// The UTF-8 encoding of U+FEFF, the byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The error for `bytes`, which the JSON parser refused with `e`.
///
/// A UTF-8 byte-order mark before the text is named as such: RFC 8259
/// (section 8.1) forbids adding one to JSON text sent between systems and
/// leaves ignoring one to the reader; this crate refuses it, since a
/// message is text from another system (the command-line tool skips one
/// at the start of a file, where editors put it).
pub(crate) fn syntax_error(e: &serde_json::Error, bytes: &[u8]) -> Error {
    if bytes.starts_with(BOM) {
        return Error::Syntax {
            line: 1,
            column: 1,
            reason: "the text starts with a UTF-8 byte-order mark (U+FEFF), which JSON \
                     exchanged between systems must not carry (RFC 8259, section 8.1)"
                .to_string(),
        };
    }
    let text = e.to_string();
    // serde_json appends " at line L column C"; the numbers are kept apart.
    let reason = match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    Error::Syntax {
        line: e.line(),
        column: e.column(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_value;
    use crate::Error;

    fn duplicate_at(text: &str) -> String {
        match parse_value(text.as_bytes(), 64, 64) {
            Err(Error::DuplicateKey { pointer }) => pointer,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn the_slow_path_names_where_it_stopped() {
        assert_eq!(duplicate_at(r#"{"a":1,"a":2}"#), "/a");
        assert_eq!(
            duplicate_at(r#"{"x":[0,{"y":[[],[{"a/b~c":1,"a/b~c":2}]]}]}"#),
            "/x/1/y/1/0/a~1b~0c"
        );
        // Siblings read before the duplicate leave nothing behind.
        assert_eq!(
            duplicate_at(r#"{"p":{"q":[1,2,3]},"r":{"s":1,"t":{"u":0,"u":1}}}"#),
            "/r/t/u"
        );
        assert_eq!(duplicate_at(r#"{"":{"":1,"":2}}"#), "//");
        let deep = format!("{}1{}", r#"{"k":["#.repeat(3), "]}".repeat(3));
        match parse_value(deep.as_bytes(), 5, 5) {
            Err(Error::TooDeep { pointer, limit }) => {
                assert_eq!((pointer.as_str(), limit), ("/k/0/k/0/k", 5));
            }
            other => panic!("{other:?}"),
        }
        match parse_value(b"[[[1]]]", 2, 2) {
            Err(Error::TooDeep { pointer, .. }) => assert_eq!(pointer, "/0/0"),
            other => panic!("{other:?}"),
        }
        assert!(parse_value(deep.as_bytes(), 6, 6).is_ok());
    }

    #[cfg(any(feature = "outbox", feature = "server"))]
    #[test]
    fn message_ids_are_read_from_any_json_object() {
        use super::message_id;
        assert_eq!(
            message_id(br#"{"Version":"2.D.V04","ID":"abc","x":[1,{"ID":"inner"}]}"#).as_deref(),
            Some("abc")
        );
        assert_eq!(message_id(br#"{"Version":"2.D.V08"}"#), None);
        assert_eq!(message_id(br#"{"ID":7}"#), None);
        assert_eq!(message_id(b"not json"), None);
        assert_eq!(message_id(br#"{"ID":"a","ID":"b"}"#), None);
    }
}

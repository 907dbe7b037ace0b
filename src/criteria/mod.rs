//! IDMEF criteria: the small filter language of IDMEF's first version
//! (libprelude's), over this crate's IDMEF paths, to select alerts by what
//! they say.
//!
//! ```
//! use idmefv2::criteria::Criteria;
//!
//! let wanted = Criteria::parse(
//!     r#"Priority == (High || Medium) && Source(*).IP in 10.0.0.0/8 && !Target(0).Port"#,
//! )?;
//! let alert = serde_json::json!({
//!     "Version": "2.D.V08", "Priority": "High",
//!     "Source": [{"IP": "192.0.2.1"}, {"IP": "10.1.2.3"}],
//! });
//! assert!(wanted.matches_value(&alert));
//! # Ok::<(), idmefv2::criteria::CriteriaError>(())
//! ```
//!
//! # The language
//!
//! ```text
//! criteria  := and ( "||" and )*
//! and       := unary ( "&&" unary )*
//! unary     := "!" unary | "(" criteria ")" | test
//! test      := PATH [ OPERATOR values ]
//! values    := VALUE | "(" VALUE ( "||" VALUE )* ")"
//! ```
//!
//! - `PATH` is an IDMEF path as [`Path`](crate::Path) reads it
//!   (`Analyzer.Name`, `Source(0).IP`, `Target(1).Port(2)`), where an
//!   index may also be `*`, any entry (`Source(*).IP`), and a negative
//!   index counts from the end (`Analyzer.Category(-1)`). As with
//!   [`Path`](crate::Path), a list without an index means its first entry.
//! - A bare `PATH` holds when the message has a value there.
//! - `VALUE` is quoted with `"` or `'` (a backslash escapes the quote and
//!   itself and is kept before anything else, so regular expressions keep
//!   theirs), or bare: up to a space, a parenthesis, a quote, `&&` or
//!   `||`. A list `(A || B)` holds when any of its values does.
//! - A test holds when any value at its path passes; `!` has the highest
//!   precedence, then `&&`, then `||`.
//!
//! # Operators
//!
//! | operator | holds when the value… | example |
//! |---|---|---|
//! | `==` (or `=`) | equals | `Priority == High` |
//! | `!=` | does not equal (`!` of `==`) | `Analyzer.Name != honeypot` |
//! | `=*` | equals, letter case aside | `Analyzer.Name =* "EDGE-IDS"` |
//! | `!=*` | `!` of `=*` | `Analyzer.Name !=* test` |
//! | `~` | matches the regular expression | `Description ~ "^ssh (login\|auth)"` |
//! | `~*` | matches it, letter case aside | `Description ~* "brute.?force"` |
//! | `!~` | `!` of `~` | `Analyzer.Hostname !~ "\.lab$"` |
//! | `!~*` | `!` of `~*` | `Description !~* test` |
//! | `<>` | contains the text | `Description <> root` |
//! | `<>*` | contains it, letter case aside | `Description <>* "Root"` |
//! | `!<>` | `!` of `<>` | `Description !<> scan` |
//! | `<` `<=` `>` `>=` | orders before / after (numbers, timestamps) | `CreateTime >= 2025-01-01T00:00:00Z`, `Confidence > 0.8` |
//! | `in` | is an address inside the block | `Source(*).IP in (10.0.0.0/8 \|\| 2001:db8::/32)` |
//!
//! A negated operator is exactly `!` of its positive form: it also holds
//! when the path has no value. Regular expressions are those of the
//! `regex` crate, which runs in time linear in the text (no
//! back-references, no look-around), unanchored: add `^` and `$` as
//! needed.
//!
//! # Types
//!
//! Values compare by the attribute's type in the model: numbers
//! (`Integer`, `Confidence`) as numbers (`Confidence == 0.5` holds for
//! `0.50`); timestamps by the instant they name, as
//! [`Timestamp`](crate::Timestamp) compares them (any offset, with or
//! without a fraction, leap seconds and dates the calendar lacks
//! included); UUIDs by their 128 bits; IP addresses by address; value
//! lists and texts by their JSON text. A criterion that cannot hold for
//! its type is refused when it is compiled: an ordering of texts, a text
//! operator on a number, `in` on anything but an address, a value that is
//! not of the attribute's type.
//!
//! Left out from libprelude: paths of IDMEF v1 (the table in
//! `docs/criteria.md` maps them to these), and the bitwise and `NULL`
//! comparisons (a bare path, or its `!`, says whether a value exists).
//!
//! # Costs
//!
//! A criterion is compiled once; evaluating it on a JSON value allocates
//! nothing but for the case-insensitive tests.
//! [`Criteria::matches_json`] reads from encoded bytes only the members
//! its paths name; [`Criteria::matches`] encodes a typed message to JSON
//! first.

mod compile;
mod evaluate;
mod parse;

use std::{fmt, str::FromStr};

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::{Error, Message};

/// A compiled criterion: parse it once with [`Criteria::parse`], then run
/// it on every message.
#[derive(Debug)]
pub struct Criteria {
    root: compile::Node,
    /// The members the paths read.
    members: Vec<compile::Member>,
}

/// Why a criterion was refused: the byte position in its text and the
/// reason. The text is never repeated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CriteriaError {
    position: usize,
    reason: String,
}

impl CriteriaError {
    fn new(position: usize, reason: impl Into<String>) -> Self {
        CriteriaError {
            position,
            reason: reason.into(),
        }
    }

    /// The byte offset in the criterion text where the refused part
    /// starts (the length of the text when it ended too soon).
    pub fn position(&self) -> usize {
        self.position
    }

    /// What is wrong there.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for CriteriaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "criteria, byte {}: {}", self.position, self.reason)
    }
}

impl std::error::Error for CriteriaError {}

impl Criteria {
    /// Parses and compiles a criterion: paths checked against the model
    /// (an unknown name is refused with the closest spellings), values
    /// read as their attribute's type, regular expressions built.
    ///
    /// ```
    /// use idmefv2::criteria::Criteria;
    ///
    /// let error = Criteria::parse("Priority == High && Source(*).Prot == 22").unwrap_err();
    /// assert_eq!(error.position(), 20);
    /// assert!(error.reason().contains("`Port`"));
    /// ```
    pub fn parse(text: &str) -> Result<Criteria, CriteriaError> {
        let ast = parse::parse(text)?;
        let mut members = Vec::new();
        let root = compile::compile(ast, &mut members)?;
        Ok(Criteria { root, members })
    }

    /// Whether a typed message matches.
    pub fn matches(&self, message: &Message) -> bool {
        self.root.eval(&message.to_value())
    }

    /// Whether a message, as an untyped JSON value of any draft, matches.
    /// Values that are not of their attribute's type (an older draft's
    /// forms, or an unchecked message) are compared with nothing.
    pub fn matches_value(&self, message: &Value) -> bool {
        self.root.eval(message)
    }

    /// Whether an encoded JSON message matches, keeping only the members
    /// that the criterion's paths name (and of a class, only the
    /// attributes named) while it reads. The message is
    /// not checked against the schema (do that first, with
    /// [`validate_slice`](crate::validate_slice) for instance); text that
    /// is not a JSON object is an [`Error::Syntax`].
    pub fn matches_json(&self, bytes: &[u8]) -> Result<bool, Error> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let read = Sparse(&self.members)
            .deserialize(&mut de)
            .and_then(|map| de.end().map(|()| map));
        match read {
            Ok(map) => Ok(self.root.eval(&Value::Object(map))),
            Err(e) => Err(crate::json::syntax_error(&e, bytes)),
        }
    }
}

impl FromStr for Criteria {
    type Err = CriteriaError;
    fn from_str(text: &str) -> Result<Self, CriteriaError> {
        Criteria::parse(text)
    }
}

/// Reads a JSON object keeping only the members named, and of each class
/// member only the attributes named.
struct Sparse<'a>(&'a [compile::Member]);

impl<'de> DeserializeSeed<'de> for Sparse<'_> {
    type Value = Map<String, Value>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Sparse<'_> {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kept = Map::new();
        while let Some(member) = map.next_key_seed(Wanted(self.0))? {
            match member {
                Some((name, None)) => {
                    kept.insert(name.to_string(), map.next_value()?);
                }
                Some((name, Some(attributes))) => {
                    kept.insert(name.to_string(), map.next_value_seed(Entries(attributes))?);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(kept)
    }
}

/// A member name: which of the wanted ones it is, if any.
struct Wanted<'a>(&'a [compile::Member]);

impl<'a, 'de> DeserializeSeed<'de> for Wanted<'a> {
    type Value = Option<&'a compile::Member>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'a, 'de> Visitor<'de> for Wanted<'a> {
    type Value = Option<&'a compile::Member>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().find(|(w, _)| *w == name))
    }
}

/// The value of a class member: an entry (an object, of which only the
/// attributes named are kept) or a list of them. Anything else is kept
/// as `null`, which the evaluation passes over as it does any entry that
/// is not an object.
struct Entries<'a>(&'a [&'static str]);

impl<'de> DeserializeSeed<'de> for Entries<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Entries<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let wanted: Vec<compile::Member> = self.0.iter().map(|a| (*a, None)).collect();
        let mut kept = Map::new();
        while let Some(member) = map.next_key_seed(Wanted(&wanted))? {
            match member {
                Some((name, _)) => {
                    kept.insert(name.to_string(), map.next_value()?);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(kept))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = seq.next_element_seed(Entries(self.0))? {
            entries.push(entry);
        }
        Ok(Value::Array(entries))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

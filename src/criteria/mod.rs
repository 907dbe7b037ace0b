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
    /// The top-level members the paths read.
    members: Vec<&'static str>,
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

    /// Whether an encoded JSON message matches, reading only the
    /// top-level members that the criterion's paths name. The message is
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

/// Reads a JSON object keeping only the members named.
struct Sparse<'a>(&'a [&'static str]);

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
        while let Some(name) = map.next_key_seed(Wanted(self.0))? {
            match name {
                Some(name) => {
                    kept.insert(name.to_string(), map.next_value()?);
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
struct Wanted<'a>(&'a [&'static str]);

impl<'de> DeserializeSeed<'de> for Wanted<'_> {
    type Value = Option<&'static str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Wanted<'_> {
    type Value = Option<&'static str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().copied().find(|w| *w == name))
    }
}

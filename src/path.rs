//! IDMEF paths: the specification's text notation for one attribute of a
//! message (`Analyzer.Name`, `Source(0).IP`, `Target(1).Port(2)`), used by
//! `AggrCondition` and by [`Message::get`] / [`Message::set`].

use std::{fmt, str::FromStr};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{
    model::{
        suggest,
        table::{self, Attribute},
    },
    validation, Error, Message, Result, SchemaKeyword, Violation, ViolationKind,
};

/// One segment of a path: a member name and, for lists, the entry index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Segment {
    name: &'static str,
    /// `Some` exactly when the member is a list (0 when the text gave none).
    index: Option<i64>,
}

impl Segment {
    fn of(attribute: &'static Attribute, index: Option<i64>) -> Result<Self, Violation> {
        let index = match (attribute.list, index) {
            (true, index) => Some(index.unwrap_or(0)),
            (false, None) => None,
            (false, Some(_)) => {
                return Err(Violation::new(
                    ViolationKind::Path,
                    format!("{} is not a list, so it takes no index", attribute.name),
                ))
            }
        };
        Ok(Segment {
            name: attribute.name,
            index,
        })
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)?;
        match self.index {
            Some(i) => write!(f, "({i})"),
            None => Ok(()),
        }
    }
}

/// A checked, normalized IDMEF path: one attribute of the top-level class
/// (`CreateTime`, `Category(1)`), or one attribute of an aggregate class
/// (`Analyzer.Name`, `Source(0).IP`, `Target(1).Port(2)`).
///
/// # Grammar
///
/// A path is an optional class reference — a class name, an index in
/// parentheses when the class is a list, and a dot — followed by an
/// attribute name and an index when the attribute is a list. An index is a
/// decimal integer with an optional leading minus. Class and attribute names
/// are the JSON member names of the model, which is generated from the
/// schema: the classes are `Analyzer`, `Sensor`, `Source`, `Target` and
/// `Attachment`; without a class reference the attribute belongs to the
/// top-level class (the message itself, which is never named in a path).
///
/// Parsing refuses an unknown class, an unknown attribute, an index on a
/// class or attribute that is not a list, a top-level attribute that is a
/// class (`Source` alone: name one of its attributes), and any other text.
///
/// Two choices go beyond the specification's grammar, and are ours:
///
/// - the grammar allows attribute names of letters only, which would leave
///   the extension attributes (`ext-Category`, …) unreachable; names of the
///   form `ext-` followed by letters are accepted where the model has them;
/// - the grammar puts the index after the attribute only, but the
///   specification's own example `Source(0).IP` indexes the class; both
///   places are accepted.
///
/// # Normal form
///
/// An omitted index means 0, so `Source.IP` and `Source(0).IP` are the same
/// path: parsing fills in every index of a list, equality compares the
/// normalized paths, and [`Display`](fmt::Display) writes every index
/// (`Source(0).IP`, `Source(0).Port(0)`). Leading zeros and `-0` are
/// normalized too.
///
/// A negative index counts from the end of the list: `-1` is the last
/// entry. Such a path has no JSON pointer of its own (see
/// [`Path::to_pointer`]) and is resolved against each message.
///
/// ```
/// use idmefv2::Path;
///
/// let short: Path = "Source.IP".parse()?;
/// let long: Path = "Source(0).IP".parse()?;
/// assert_eq!(short, long);
/// assert_eq!(short.to_string(), "Source(0).IP");
/// assert_eq!(short.to_pointer().as_deref(), Some("/Source/0/IP"));
///
/// assert!("Analyzer(0).Name".parse::<Path>().is_err()); // Analyzer is not a list
/// assert!("Source.Nope".parse::<Path>().is_err());
/// # Ok::<(), idmefv2::Violation>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Path {
    class: Option<Segment>,
    attribute: Segment,
}

impl Path {
    /// Every attribute of the model as a path, with index 0 wherever an
    /// index is needed, in schema order: the top-level attributes, then the
    /// attributes of each aggregate class.
    pub fn all() -> Vec<Path> {
        let root = table::root();
        let top = root.attributes.iter().filter(|a| !a.class).map(|a| Path {
            class: None,
            attribute: Segment {
                name: a.name,
                index: a.list.then_some(0),
            },
        });
        let nested = table::aggregates().flat_map(|(aggregate, class)| {
            class.attributes.iter().map(move |a| Path {
                class: Some(Segment {
                    name: aggregate.name,
                    index: aggregate.list.then_some(0),
                }),
                attribute: Segment {
                    name: a.name,
                    index: a.list.then_some(0),
                },
            })
        });
        top.chain(nested).collect()
    }

    /// The class reference (`Source`), or `None` for an attribute of the
    /// top-level class.
    pub fn class(&self) -> Option<&'static str> {
        self.class.as_ref().map(|c| c.name)
    }

    /// The index of the class reference, when that class is a list.
    pub fn class_index(&self) -> Option<i64> {
        self.class.as_ref().and_then(|c| c.index)
    }

    /// The attribute's JSON member name.
    pub fn attribute(&self) -> &'static str {
        self.attribute.name
    }

    /// The index into the attribute, when the attribute is a list.
    pub fn index(&self) -> Option<i64> {
        self.attribute.index
    }

    /// The RFC 6901 JSON pointer of the value this path names, such as
    /// `/Source/0/IP` for `Source.IP`; `None` when an index counts from the
    /// end of a list, since a pointer cannot say that.
    pub fn to_pointer(&self) -> Option<String> {
        let mut pointer = String::new();
        for segment in self.segments() {
            pointer.push('/');
            pointer.push_str(segment.name);
            if let Some(i) = segment.index {
                if i < 0 {
                    return None;
                }
                pointer.push_str(&format!("/{i}"));
            }
        }
        Some(pointer)
    }

    fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.class.iter().chain(std::iter::once(&self.attribute))
    }

    /// The pointer of the value in `root`, with indices resolved; `None`
    /// when some segment is missing.
    fn locate(&self, root: &Value) -> Option<String> {
        let mut pointer = String::new();
        let mut node = root;
        for segment in self.segments() {
            node = node.get(segment.name)?;
            pointer.push('/');
            pointer.push_str(segment.name);
            if let Some(index) = segment.index {
                let list = node.as_array()?;
                let i = position(index, list.len()).filter(|&i| i < list.len())?;
                node = &list[i];
                pointer.push_str(&format!("/{i}"));
            }
        }
        Some(pointer)
    }
}

/// Where `index` points in a list of `len` entries: itself when
/// non-negative, counted from the end when negative.
fn position(index: i64, len: usize) -> Option<usize> {
    if index >= 0 {
        usize::try_from(index).ok()
    } else {
        let back = usize::try_from(index.unsigned_abs()).ok()?;
        len.checked_sub(back)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(class) = &self.class {
            write!(f, "{class}.")?;
        }
        write!(f, "{}", self.attribute)
    }
}

/// Splits `name(index)` into its name and parsed index.
fn split_segment(text: &str) -> Result<(&str, Option<i64>), Violation> {
    let bad = |reason: &str| Violation::new(ViolationKind::Path, reason);
    let Some(open) = text.find('(') else {
        return Ok((text, None));
    };
    let inner = text[open + 1..]
        .strip_suffix(')')
        .ok_or_else(|| bad("an index must be closed by `)` at the end of its segment"))?;
    let digits = inner.strip_prefix('-').unwrap_or(inner);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("an index is a decimal integer with an optional `-`"));
    }
    let index = inner
        .parse::<i64>()
        .map_err(|_| bad("index out of range"))?;
    Ok((&text[..open], Some(index)))
}

/// Why `given` is not one of the `names` of its place (`what`): with the
/// closest names when some are close, otherwise with every name when
/// there are few. The text given is not repeated.
fn unknown(what: &str, given: &str, names: &[&str], listing: &str) -> String {
    let near = suggest::closest(given, names);
    if !near.is_empty() {
        format!(
            "unknown {what}; did you mean {}?",
            suggest::spelt(&near, "or")
        )
    } else if names.len() <= 8 {
        format!("unknown {what}; {listing} {}", suggest::spelt(names, "and"))
    } else {
        format!("unknown {what}")
    }
}

impl FromStr for Path {
    type Err = Violation;

    /// Parses and checks a path against the model; the error never repeats
    /// the text it was given.
    fn from_str(text: &str) -> Result<Self, Violation> {
        let bad = |reason: String| Violation::new(ViolationKind::Path, reason);
        let (class_text, attribute_text) = match text.split_once('.') {
            Some((class, attribute)) => (Some(class), attribute),
            None => (None, text),
        };
        let root = table::root();
        let (class, owner) = match class_text {
            None => (None, root),
            Some(class_text) => {
                let (name, index) = split_segment(class_text)?;
                let (aggregate, class) = table::aggregates()
                    .find(|(a, _)| a.name == name)
                    .ok_or_else(|| {
                        let classes: Vec<&str> = table::aggregates().map(|(a, _)| a.name).collect();
                        bad(unknown("class name", name, &classes, "the classes are"))
                    })?;
                (Some(Segment::of(aggregate, index)?), class)
            }
        };
        let (name, index) = split_segment(attribute_text)?;
        let attribute = owner.attribute(name).ok_or_else(|| {
            let names: Vec<&str> = owner.attributes.iter().map(|a| a.name).collect();
            let what = match &class {
                Some(c) => format!("attribute name for class {}", c.name),
                None => "attribute name for the top-level class".to_string(),
            };
            bad(unknown(&what, name, &names, "its attributes are"))
        })?;
        if attribute.class {
            return Err(bad(format!(
                "{} is a class: name one of its attributes, as in {}.{}",
                attribute.name,
                attribute.name,
                table::class(attribute.ty)
                    .and_then(|c| c.attributes.first())
                    .map_or("", |a| a.name)
            )));
        }
        Ok(Path {
            class,
            attribute: Segment::of(attribute, index)?,
        })
    }
}

impl Message {
    /// The value at `path`, as JSON; `None` when the message has no value
    /// there (an absent attribute or class, or an index past the end).
    ///
    /// The value is a copy, taken from the message's JSON form; it is the
    /// exact value [`Message::to_value`] would show at that place.
    ///
    /// ```
    /// use idmefv2::{Analyzer, Message, Path};
    ///
    /// let message = Message::builder(Analyzer::builder("edge-ids")).build()?;
    /// let name: Path = "Analyzer.Name".parse().unwrap();
    /// assert_eq!(message.get(&name), Some(serde_json::json!("edge-ids")));
    /// assert_eq!(message.get(&"Source.IP".parse().unwrap()), None);
    /// # Ok::<(), idmefv2::Error>(())
    /// ```
    pub fn get(&self, path: &Path) -> Option<Value> {
        let mut root = self.to_value();
        let pointer = path.locate(&root)?;
        root.pointer_mut(&pointer).map(Value::take)
    }

    /// Puts `value` at `path`, with the same checks as decoding and the
    /// builders: a value the attribute's type refuses is an error with the
    /// JSON pointer of the place, and the message is left unchanged.
    ///
    /// - An index inside a list replaces that entry; an index equal to the
    ///   list's length appends (a missing list counts as empty, so index 0
    ///   creates it); an index further out is an error rather than a list
    ///   padded with invented entries. A negative index counts from the end
    ///   and never appends.
    /// - A class entry one past the end (such as `Source(0)` on a message
    ///   without sources) is created with just this attribute. It must then
    ///   satisfy its class on its own: setting `Source(0).ID` creates a
    ///   source, setting `Source(0).IP` there fails because a source needs
    ///   an `ID` (set the `ID` first).
    /// - Nothing is ever removed: `null` is refused like any value the
    ///   schema refuses.
    ///
    /// This checks the schema, as every `Message` does; the
    /// specification's further rules are [`Message::validate_strict`]'s.
    /// It re-encodes and re-decodes the whole message, so its cost grows
    /// with the message.
    ///
    /// ```
    /// use idmefv2::{Analyzer, Message, Path};
    ///
    /// let mut message = Message::builder(Analyzer::builder("edge-ids")).build()?;
    /// let id: Path = "Source(0).ID".parse().unwrap();
    /// let ip: Path = "Source(0).IP".parse().unwrap();
    /// message.set(&id, "9d6a3b1c-5e2f-4a7b-8c9d-0e1f2a3b4c5d")?;
    /// message.set(&ip, "192.0.2.7")?;
    /// assert_eq!(message.get(&ip), Some(serde_json::json!("192.0.2.7")));
    ///
    /// let error = message.set(&ip, "not an address").unwrap_err();
    /// assert_eq!(error.violations()[0].pointer(), "/Source/0/IP");
    /// # Ok::<(), idmefv2::Error>(())
    /// ```
    pub fn set(&mut self, path: &Path, value: impl Into<Value>) -> Result<()> {
        let mut root = self.to_value();
        let pointer = place(&mut root, path, value.into())?;
        // The typed model holds only its own revisions; an older draft's
        // schema would explain the refusal in terms of the wrong revision.
        if let Some(Err(e)) = root
            .get("Version")
            .and_then(Value::as_str)
            .map(str::parse::<crate::Version>)
        {
            return Err(Error::invalid(e.at("/Version")));
        }
        match Message::deserialize(&root) {
            Ok(message) => {
                *self = message;
                Ok(())
            }
            Err(_) => Err(validation::explain_value(
                &root,
                Violation::new(ViolationKind::Model, "the typed model refuses this value")
                    .at(&pointer),
            )),
        }
    }
}

/// Puts `value` at `path` inside `root`, creating what the path allows;
/// returns the pointer of the place.
fn place(root: &mut Value, path: &Path, value: Value) -> Result<String> {
    let mut pointer = String::new();
    let mut node = root;
    if let Some(class) = &path.class {
        node = entry(node, class, &mut pointer, Value::Object(Map::new()))?;
    }
    *entry(node, &path.attribute, &mut pointer, Value::Null)? = value;
    Ok(pointer)
}

/// The member `segment` of the object `node` (the entry at its index, for a
/// list), created from `fill` when absent or one past the end.
fn entry<'a>(
    node: &'a mut Value,
    segment: &Segment,
    pointer: &mut String,
    fill: Value,
) -> Result<&'a mut Value> {
    let Value::Object(map) = node else {
        return Err(Error::invalid(
            Violation::new(SchemaKeyword::Type, "not an object").at(pointer),
        ));
    };
    pointer.push('/');
    pointer.push_str(segment.name);
    let Some(index) = segment.index else {
        return Ok(map.entry(segment.name).or_insert(fill));
    };
    let member = map
        .entry(segment.name)
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(list) = member else {
        return Err(Error::invalid(
            Violation::new(SchemaKeyword::Type, "not a list").at(pointer),
        ));
    };
    let len = list.len();
    let reachable = if index < 0 { len } else { len + 1 };
    let Some(i) = position(index, len).filter(|&i| i < reachable) else {
        return Err(Error::invalid(
            Violation::new(
                ViolationKind::Index,
                format!("index {index} is out of reach of a list of {len} entries (at most one past the end)"),
            )
            .at(pointer),
        ));
    };
    pointer.push_str(&format!("/{i}"));
    if i == len {
        list.push(fill);
    }
    Ok(&mut list[i])
}

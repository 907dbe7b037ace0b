//! Every call from the binding into the `idmefv2` crate.
//!
//! The rest of the binding deals in JSON bytes and the plain types below,
//! so a change to the crate's public API is met here and nowhere else
//! (except [`crate::path`], which wraps the crate's `Path`).

use idmefv2::{upgrade, Error, Limits, Message, Version, Violation};

pub(crate) use idmefv2::Path;

/// Default for the largest accepted input, in bytes.
pub(crate) const DEFAULT_MAX_BYTES: usize = Limits::DEFAULT_MAX_BYTES;
/// Default for the nesting allowed inside attachment content.
pub(crate) const DEFAULT_MAX_DEPTH: usize = Limits::DEFAULT_MAX_DEPTH;
/// Levels the message structure uses above attachment content (the
/// message, the `Attachment` list, one attachment).
pub(crate) const STRUCTURE_DEPTH: usize = 3;

/// The crate's bounds on one input.
pub(crate) fn limits(max_bytes: usize, max_depth: usize) -> Limits {
    Limits::default()
        .with_max_bytes(max_bytes)
        .with_max_depth(max_depth)
}

/// One failed check, as the binding hands it to Python.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fault {
    pub pointer: String,
    pub keyword: String,
    pub reason: String,
}

impl Fault {
    pub(crate) fn new(keyword: &str, reason: impl Into<String>) -> Self {
        Fault {
            pointer: String::new(),
            keyword: keyword.to_string(),
            reason: reason.into(),
        }
    }
}

/// Puts `segment` (a member name or an index) in front of `pointer`,
/// escaped as RFC 6901 asks.
pub(crate) fn prepend_segment(pointer: &mut String, segment: &str) {
    let escaped = segment.replace('~', "~0").replace('/', "~1");
    pointer.insert_str(0, &format!("/{escaped}"));
}

/// Why the crate refused something.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The bytes are not JSON: a serialization problem, with the crate's
    /// text (line and column, never the content).
    Syntax(String),
    /// The message breaks a rule: every failure.
    Invalid(Vec<Fault>),
}

impl From<Error> for Refusal {
    fn from(error: Error) -> Self {
        match error {
            Error::Syntax { .. } | Error::Codec { .. } => Refusal::Syntax(error.to_string()),
            other => Refusal::Invalid(
                other
                    .violations()
                    .iter()
                    .map(|v: &Violation| Fault {
                        pointer: v.pointer().to_string(),
                        keyword: v.keyword().to_string(),
                        reason: v.reason().to_string(),
                    })
                    .collect(),
            ),
        }
    }
}

/// Checks one encoded message of any supported draft; with `strict`, also
/// the specification's rules beyond the schema, which are stated for the
/// typed drafts only, so an older draft is refused at `/Version` then (as
/// `idmefv2 validate --strict` does).
pub(crate) fn check(bytes: &[u8], limits: &Limits, strict: bool) -> Result<(), Refusal> {
    if !strict {
        return Ok(idmefv2::validate_slice(bytes, limits)?);
    }
    match Message::from_slice_with(bytes, limits) {
        Ok(message) => Ok(message.validate_strict()?),
        Err(Error::OlderDraft { version }) => {
            let typed: Vec<&str> = Version::ALL.iter().map(|v| v.as_str()).collect();
            Err(Refusal::Invalid(vec![Fault {
                pointer: "/Version".into(),
                keyword: "older-draft".into(),
                reason: format!(
                    "the strict rules are checked on {} messages; \
                     upgrade this valid {version} message first",
                    typed.join(", ")
                ),
            }]))
        }
        Err(e) => Err(e.into()),
    }
}

/// The `Version` values the crate validates, oldest first.
pub(crate) fn supported_versions() -> Vec<&'static str> {
    idmefv2::supported_versions()
}

/// One change an upgrade made, with its value as JSON bytes.
pub(crate) struct Note {
    pub pointer: String,
    pub kind: String,
    pub draft: &'static str,
    pub reason: String,
    pub value: Option<Vec<u8>>,
    pub moved_to: Option<String>,
}

/// A message carried forward: its JSON, the draft it came from, the
/// changes.
pub(crate) struct Upgraded {
    pub json: Vec<u8>,
    pub from: &'static str,
    pub notes: Vec<Note>,
}

/// The typed draft named `text`, or why not.
fn version(text: &str) -> Result<Version, String> {
    text.parse::<Version>().map_err(|_| {
        let known: Vec<&str> = Version::ALL.iter().map(|v| v.as_str()).collect();
        format!(
            "an upgrade goes to one of {}, not to another draft",
            known.join(", ")
        )
    })
}

/// Carries an encoded message of any draft to `to` (the latest stable
/// draft when `None`). `Err(Ok(..))` is a bad target, `Err(Err(..))` a
/// refused message.
pub(crate) fn upgrade(
    bytes: &[u8],
    limits: &Limits,
    to: Option<&str>,
) -> Result<Upgraded, Result<String, Refusal>> {
    let target = match to {
        None => Version::LATEST,
        Some(text) => version(text).map_err(Ok)?,
    };
    let done = upgrade::upgrade_slice(bytes, limits, target).map_err(|e| Err(e.into()))?;
    let notes = done
        .report
        .iter()
        .map(|n| Note {
            pointer: n.pointer.clone(),
            kind: n.kind.to_string(),
            draft: n.draft,
            reason: n.reason.clone(),
            value: n.value.as_ref().map(encode_value),
            moved_to: n.moved_to.clone(),
        })
        .collect();
    Ok(Upgraded {
        json: done.message.to_vec(),
        from: done.from,
        notes,
    })
}

fn encode_value(value: &serde_json::Value) -> Vec<u8> {
    // Writing a `Value` into memory cannot fail: its keys are strings and
    // its numbers finite.
    serde_json::to_vec(value).unwrap_or_default()
}

/// The value at `path` in an encoded (typed-draft) message, as JSON.
pub(crate) fn get(bytes: &[u8], limits: &Limits, path: &Path) -> Result<Option<Vec<u8>>, Refusal> {
    let message = Message::from_slice_with(bytes, limits)?;
    Ok(message.get(path).as_ref().map(encode_value))
}

/// The encoded message with `value` (JSON bytes) put at `path`, checked as
/// decoding checks.
pub(crate) fn set(
    bytes: &[u8],
    limits: &Limits,
    path: &Path,
    value: &[u8],
) -> Result<Vec<u8>, Refusal> {
    let mut message = Message::from_slice_with(bytes, limits)?;
    message.set(path, parse_value(value)?)?;
    Ok(message.to_vec())
}

/// Reads JSON that the binding wrote from Python objects: its nesting is
/// already bounded by [`crate::write`], so serde_json's own recursion limit
/// is lifted.
fn parse_value(json: &[u8]) -> Result<serde_json::Value, Refusal> {
    use serde::Deserialize;
    let mut de = serde_json::Deserializer::from_slice(json);
    de.disable_recursion_limit();
    serde_json::Value::deserialize(&mut de).map_err(|e| Refusal::Syntax(e.to_string()))
}

/// Parses an IDMEF path such as `Source(0).IP`, or says why not.
pub(crate) fn parse_path(text: &str) -> Result<Path, String> {
    text.parse::<Path>().map_err(|v| v.reason().to_string())
}

/// The refusal of an input of `size` bytes over `max_bytes`, for inputs
/// measured without being kept whole.
pub(crate) fn too_large(size: usize, max_bytes: usize) -> Refusal {
    Error::TooLarge {
        size,
        limit: max_bytes,
    }
    .into()
}

/// Every member name of the model: the classes and attributes that IDMEF
/// paths name, at the top level and in each class.
pub(crate) fn member_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Path::all()
        .iter()
        .flat_map(|p| p.class().into_iter().chain([p.attribute()]))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

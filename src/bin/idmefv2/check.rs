//! Checking one message cut from a stream, and reporting the outcome.

use std::{
    borrow::Cow,
    io::{self, Write},
};

use idmefv2::{Error, Limits, Violation, ViolationKind};
use serde::{Deserialize, Serialize};

use crate::split::{Body, Item};

/// Why a message was refused: its `Version` (when it could be read) and
/// every failure, as the library reported it.
#[derive(Debug)]
pub struct Failure {
    pub version: Option<String>,
    pub violations: Vec<Violation>,
    /// Words that lead every reason: why a valid message was refused all
    /// the same (it could not be upgraded).
    lead: Option<String>,
    /// For each violation, the lines from the message's first line to the
    /// one its value starts on (0 when not known).
    below: Vec<usize>,
}

impl Failure {
    /// The failures of `error`, with the version of the message if known.
    pub fn from_error(error: &Error, version: Option<String>) -> Self {
        let lead = match error {
            Error::Upgrade { from, to, .. } => Some(format!("cannot upgrade from {from} to {to}")),
            _ => None,
        };
        Failure {
            version,
            violations: error.violations().into_owned(),
            lead,
            below: Vec::new(),
        }
    }

    /// Failures reported by someone else, such as a receiver's refusal.
    pub fn from_violations(violations: Vec<Violation>) -> Self {
        Failure {
            version: None,
            violations,
            lead: None,
            below: Vec::new(),
        }
    }

    /// The line of the value of the `i`th violation, for a message whose
    /// first line is `line`.
    pub fn line_of(&self, i: usize, line: usize) -> usize {
        line + self.below.get(i).copied().unwrap_or(0)
    }

    /// The reason reported for `v`: led by the rule's name for a rule of
    /// the specification beyond the schema, and by the failure's lead.
    pub fn reason(&self, v: &Violation) -> String {
        let reason = match v.kind() {
            ViolationKind::Rule(rule) => format!("{rule}: {}", v.reason()),
            _ => v.reason().to_string(),
        };
        match &self.lead {
            Some(lead) => format!("{lead}: {reason}"),
            None => reason,
        }
    }

    /// One `SOURCE:LINE: POINTER: REASON` line per failure, LINE being the
    /// line of the offending value (`line` is the message's first); the
    /// whole message is shown as `(message)`.
    pub fn write_text(&self, out: &mut impl Write, source: &str, line: usize) -> io::Result<()> {
        for (i, v) in self.violations.iter().enumerate() {
            let pointer = if v.pointer().is_empty() {
                "(message)"
            } else {
                v.pointer()
            };
            let line = self.line_of(i, line);
            writeln!(out, "{source}:{line}: {pointer}: {}", self.reason(v))?;
        }
        Ok(())
    }
}

/// Decodes `item` with `decode`, turning every refusal into a [`Failure`]
/// whose positions are those of the whole stream.
///
/// Valid messages cost what `decode` costs; the `Version` of a refused one
/// is read only then.
pub fn check<T>(
    item: Item,
    limits: &Limits,
    decode: impl FnOnce(&[u8]) -> Result<T, Error>,
) -> Result<T, Failure> {
    let bytes = match item.body {
        Body::Bytes(bytes) => bytes,
        Body::TooLarge { size, unclosed } => {
            let error = Error::TooLarge {
                size,
                limit: limits.max_bytes,
            };
            let mut failure = Failure::from_error(&error, None);
            if unclosed {
                let reason = format!("{error}; the input ends before this message is closed");
                failure.violations = vec![Violation::new(ViolationKind::Input, reason)];
            }
            return Err(failure);
        }
    };
    match decode(&bytes) {
        Ok(decoded) => Ok(decoded),
        Err(Error::Syntax {
            line,
            column,
            reason,
        }) => {
            // Positions within the message, moved to where it starts.
            let column = if line <= 1 {
                column + item.column - 1
            } else {
                column
            };
            let error = Error::Syntax {
                line: line.max(1) + item.line - 1,
                column,
                reason,
            };
            Err(Failure::from_error(&error, None))
        }
        Err(error) => {
            let mut failure = Failure::from_error(&error, version_of(&bytes));
            failure.below = failure
                .violations
                .iter()
                .map(|v| lines_before(&bytes, v.pointer()))
                .collect();
            Err(failure)
        }
    }
}

/// How many lines of `message` come before the one where the value at
/// `pointer` starts; 0 when the pointer leads nowhere (a member that is
/// missing names its object, which is found).
pub fn lines_before(message: &[u8], pointer: &str) -> usize {
    let at = locate(message, pointer).unwrap_or(0);
    message[..at].iter().filter(|&&b| b == b'\n').count()
}

/// The offset in `json` where the value at `pointer` (RFC 6901) starts.
/// It reads only as far as it needs and gives `None` for text that is not
/// what the pointer expects; it never fails otherwise.
fn locate(json: &[u8], pointer: &str) -> Option<usize> {
    let mut at = skip_space(json, 0);
    if pointer.is_empty() {
        return Some(at);
    }
    for segment in pointer.strip_prefix('/')?.split('/') {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        at = match json.get(at)? {
            b'{' => member(json, at + 1, &segment)?,
            b'[' => element(json, at + 1, segment.parse().ok()?)?,
            _ => return None,
        };
    }
    Some(at)
}

/// The start of the value of the member `name` of the object whose members
/// start at `at`.
fn member(json: &[u8], mut at: usize, name: &str) -> Option<usize> {
    loop {
        at = skip_space(json, at);
        match json.get(at)? {
            b'"' => {}
            _ => return None,
        }
        let end = skip_value(json, at)?;
        let key: String = serde_json::from_slice(json.get(at..end)?).ok()?;
        at = skip_space(json, end);
        if json.get(at) != Some(&b':') {
            return None;
        }
        at = skip_space(json, at + 1);
        if key == name {
            return Some(at);
        }
        at = skip_space(json, skip_value(json, at)?);
        match json.get(at)? {
            b',' => at += 1,
            _ => return None,
        }
    }
}

/// The start of element `index` of the array whose elements start at `at`.
fn element(json: &[u8], mut at: usize, index: usize) -> Option<usize> {
    for _ in 0..index {
        at = skip_space(json, skip_value(json, skip_space(json, at))?);
        match json.get(at)? {
            b',' => at += 1,
            _ => return None,
        }
    }
    let at = skip_space(json, at);
    (json.get(at)? != &b']').then_some(at)
}

fn skip_space(json: &[u8], mut at: usize) -> usize {
    while json.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// The offset just past the value starting at `at`.
fn skip_value(json: &[u8], at: usize) -> Option<usize> {
    match json.get(at)? {
        b'"' => skip_string(json, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match json.get(i)? {
                    b'"' => {
                        i = skip_string(json, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let end = json[at..]
                .iter()
                .position(|b| b.is_ascii_whitespace() || b",:}]".contains(b))
                .map_or(json.len(), |n| at + n);
            Some(end)
        }
    }
}

/// The offset just past the string whose opening quote is at `at`.
fn skip_string(json: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    loop {
        match json.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// The `Version` text of a refused message, if it is an object with a
/// string `Version`.
fn version_of(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Head {
        #[serde(rename = "Version")]
        version: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Head>(bytes) {
        Ok(Head {
            version: Some(serde_json::Value::String(v)),
        }) => Some(v),
        _ => None,
    }
}

/// One line of `validate --format json`.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    source: &'a str,
    index: usize,
    line: usize,
    valid: bool,
    version: Option<&'a str>,
    errors: Vec<JsonError<'a>>,
}

#[derive(Serialize)]
struct JsonError<'a> {
    path: &'a str,
    /// The line of the offending value.
    line: usize,
    message: String,
}

impl<'a> JsonReport<'a> {
    /// The report of one message: `checked` is its `Version` when it is
    /// valid, or why it was refused.
    pub fn new(
        source: &'a str,
        index: usize,
        line: usize,
        checked: &'a Result<Cow<'static, str>, Failure>,
    ) -> Self {
        let (valid, version, errors) = match checked {
            Ok(version) => (true, Some(version.as_ref()), Vec::new()),
            Err(failure) => (
                false,
                failure.version.as_deref(),
                failure
                    .violations
                    .iter()
                    .enumerate()
                    .map(|(i, v)| JsonError {
                        path: v.pointer(),
                        line: failure.line_of(i, line),
                        message: failure.reason(v),
                    })
                    .collect(),
            ),
        };
        JsonReport {
            source,
            index,
            line,
            valid,
            version,
            errors,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_lead_to_the_line_of_their_value() {
        let json = br#"{
  "Version": "2.D.V08",
  "Na\u006De": {"x": [1, "a,]}", {"y": null}]},
  "List": [
    "first",
    [2, 3],
    {
      "~/": true
    }
  ]
}"#;
        let line = |pointer: &str| lines_before(json, pointer);
        assert_eq!(line(""), 0);
        assert_eq!(line("/Version"), 1);
        assert_eq!(line("/Name/x/2/y"), 2);
        assert_eq!(line("/List"), 3);
        assert_eq!(line("/List/0"), 4);
        assert_eq!(line("/List/1/1"), 5);
        assert_eq!(line("/List/2/~0~1"), 7);
        // Nowhere to go: the message's first line.
        for nowhere in ["/Missing", "/List/3", "/Version/0", "/List/x", "Version"] {
            assert_eq!(line(nowhere), 0, "{nowhere}");
        }
        // Broken or truncated text never makes it fail.
        for cut in 0..json.len() {
            let _ = lines_before(&json[..cut], "/List/2/~0~1");
        }
    }
}

//! Checking one message cut from a stream, and reporting the outcome.

use std::{
    borrow::Cow,
    io::{self, Write},
};

use idmefv2::{Error, Limits, Violation, ViolationKind};
use serde::{Deserialize, Serialize};

use idmefv2::stream::{lines_before, Body, Item};

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

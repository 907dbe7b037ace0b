//! The crate's one error type and the per-value failures it carries.

use std::{borrow::Cow, fmt};

mod violation;

pub use violation::{Rule, SchemaKeyword, Violation, ViolationKind};

/// The result of the crate's fallible operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every failure found in one message, in the order the checks found them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// The failures.
    pub fn iter(&self) -> std::slice::Iter<'_, Violation> {
        self.0.iter()
    }

    /// How many failures there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false for the violations of an [`Error`].
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<Violation>> for Violations {
    fn from(v: Vec<Violation>) -> Self {
        Violations(v)
    }
}

impl<'a> IntoIterator for &'a Violations {
    type Item = &'a Violation;
    type IntoIter = std::slice::Iter<'a, Violation>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for Violations {
    type Item = Violation;
    type IntoIter = std::vec::IntoIter<Violation>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not JSON (or has bytes after the JSON text).
    #[error("invalid JSON at line {line}, column {column}: {reason}")]
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser expected or found.
        reason: String,
    },
    /// The message breaks the schema (or a builder was given bad values).
    #[error("invalid IDMEFv2 message: {0}")]
    Invalid(Violations),
    /// `Version` is missing or not one this crate knows.
    #[error("unsupported IDMEFv2 version{}; supported: {}", .found.as_ref().map(|_| "").unwrap_or(" (none given)"), .supported.join(", "))]
    UnsupportedVersion {
        /// The `Version` text, if there was one.
        found: Option<String>,
        /// The versions this crate validates.
        supported: Vec<&'static str>,
    },
    /// The message is valid under the older draft its `Version` names, but
    /// the typed model holds only the drafts of [`Version`](crate::Version);
    /// convert it with [`upgrade`](crate::upgrade::upgrade_latest).
    #[error("valid {version} message; the typed model holds {} only: upgrade it first (`idmefv2 upgrade` on the command line)", env!("IDMEFV2_TYPED_DRAFTS"))]
    OlderDraft {
        /// The message's `Version`.
        version: String,
    },
    /// A message could not be carried forward to a later draft.
    #[error("cannot upgrade from {from} to {to}: {violations}")]
    Upgrade {
        /// The draft of the message.
        from: String,
        /// The draft asked for.
        to: &'static str,
        /// What stands in the way, each with its pointer.
        violations: Violations,
    },
    /// An object has the same member twice; readers could disagree on which
    /// one counts, so such input is refused.
    #[error("{pointer}: member appears twice in one object")]
    DuplicateKey {
        /// Pointer of the repeated member.
        pointer: String,
    },
    /// The input exceeds [`Limits::max_bytes`](crate::Limits).
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input, or the bytes read before giving up.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// JSON nested deeper than [`Limits::max_depth`](crate::Limits).
    #[error("{pointer}: nesting exceeds the limit of {limit} levels")]
    TooDeep {
        /// Pointer of the value that went over the limit.
        pointer: String,
        /// The limit in force.
        limit: usize,
    },
    /// No codec is registered for a media type.
    #[error("no codec for media type {media_type:?}; supported: {}", .supported.join(", "))]
    UnsupportedMediaType {
        /// The media type asked for.
        media_type: String,
        /// Media types with a registered codec.
        supported: Vec<String>,
    },
    /// A codec failed for a reason of its own.
    #[error("{media_type} codec: {reason}")]
    Codec {
        /// The codec's media type.
        media_type: String,
        /// What went wrong.
        reason: String,
    },
    /// A value could not be converted to or from a `time`/`uuid` type.
    #[error("cannot convert: {0}")]
    Conversion(String),
    /// A valid message holds a value that the export format cannot hold
    /// (see [`export`](crate::export)): the message is not exported rather
    /// than exported with that value changed or left out.
    #[error("{pointer}: cannot export: {reason}")]
    Export {
        /// Pointer of the value in the message.
        pointer: String,
        /// Why the export format cannot hold it, in words (never the value).
        reason: String,
    },
}

impl Error {
    /// The failures as (pointer, kind, reason) records, one per problem:
    /// the uniform view a report or a command-line tool prints. Borrowed
    /// when the error holds them ([`Error::Invalid`], [`Error::Upgrade`]);
    /// for the other errors, one record made from the error.
    pub fn violations(&self) -> Cow<'_, [Violation]> {
        let one = |kind: ViolationKind, pointer: &str, reason: String| {
            Cow::Owned(vec![Violation::new(kind, reason).at(pointer)])
        };
        match self {
            Error::Invalid(v) => Cow::Borrowed(&v.0),
            Error::Upgrade { violations, .. } => Cow::Borrowed(&violations.0),
            Error::UnsupportedVersion { found, .. } => {
                let pointer = if found.is_some() { "/Version" } else { "" };
                one(ViolationKind::Version, pointer, self.to_string())
            }
            Error::OlderDraft { .. } => one(ViolationKind::Version, "/Version", self.to_string()),
            Error::DuplicateKey { pointer } => one(
                ViolationKind::Duplicate,
                pointer,
                "member appears twice".into(),
            ),
            Error::TooDeep { pointer, limit } => one(
                ViolationKind::Depth,
                pointer,
                format!("nesting exceeds the limit of {limit} levels"),
            ),
            Error::Export { pointer, reason } => one(
                ViolationKind::Input,
                pointer,
                format!("cannot export: {reason}"),
            ),
            other => one(ViolationKind::Input, "", other.to_string()),
        }
    }

    pub(crate) fn invalid(v: Violation) -> Self {
        Error::Invalid(vec![v].into())
    }

    /// Moves every pointer inside this error under `prefix`.
    pub(crate) fn at(self, prefix: &str) -> Vec<Violation> {
        match self {
            Error::Invalid(v) => v.into_iter().map(|v| v.at(prefix)).collect(),
            other => other
                .violations()
                .iter()
                .map(|v| v.clone().at(prefix))
                .collect(),
        }
    }
}

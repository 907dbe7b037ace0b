//! The revisions of the format that the typed model speaks.

use std::{fmt, str::FromStr};

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use crate::Violation;

/// A revision of IDMEFv2 that [`Message`](crate::Message) can hold.
///
/// `2.D.V08` is the latest stable draft and the default; `2.D.V09-Dev` is
/// the draft in development, with the same structure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Version {
    /// `2.D.V08`, the latest stable draft.
    #[default]
    V08,
    /// `2.D.V09-Dev`, the draft in development.
    V09Dev,
}

impl Version {
    /// Every revision the typed model speaks, oldest first.
    pub const ALL: [Version; 2] = [Version::V08, Version::V09Dev];

    /// The latest stable revision.
    pub const LATEST: Version = Version::V08;

    /// The `Version` text used in messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            Version::V08 => "2.D.V08",
            Version::V09Dev => "2.D.V09-Dev",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Version {
    type Err = Violation;
    fn from_str(s: &str) -> Result<Self, Violation> {
        Version::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| Violation::new("enum", "not a version the typed model speaks"))
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Version;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an IDMEFv2 version")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Version, E> {
                v.parse().map_err(|e: Violation| E::custom(e.reason()))
            }
        }
        d.deserialize_str(V)
    }
}

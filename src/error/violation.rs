//! One failed check, and the kinds of check there are.

use std::fmt;

/// One failed check: where it failed (a JSON pointer into the message), the
/// kind of check that failed, and why.
///
/// `Display` never echoes the offending value, since alerts carry sensitive
/// data: it prints `pointer: reason` only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pointer: String,
    kind: ViolationKind,
    reason: String,
}

impl Violation {
    /// A failure at the root of whatever was being checked; callers move it
    /// to its place with [`Violation::at`]. `kind` is a [`ViolationKind`],
    /// or a [`SchemaKeyword`] or [`Rule`] standing for one.
    pub fn new(kind: impl Into<ViolationKind>, reason: impl Into<String>) -> Self {
        Violation {
            pointer: String::new(),
            kind: kind.into(),
            reason: reason.into(),
        }
    }

    /// The same failure, with `prefix` (a JSON pointer) put in front of its
    /// pointer.
    #[must_use]
    pub fn at(mut self, prefix: &str) -> Self {
        self.pointer.insert_str(0, prefix);
        self
    }

    /// RFC 6901 pointer of the offending value; empty for the whole message.
    pub fn pointer(&self) -> &str {
        &self.pointer
    }

    /// The kind of check that failed.
    pub fn kind(&self) -> ViolationKind {
        self.kind
    }

    /// The kind as text, for output: the schema keyword (`pattern`,
    /// `required`, `enum`, …), the rule's name (`port-range`, …) or one of
    /// the words listed at [`ViolationKind::as_str`].
    pub fn keyword(&self) -> &'static str {
        self.kind.as_str()
    }

    /// Why the value was refused, without the value itself.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "(message)"
        } else {
            &self.pointer
        };
        write!(f, "{pointer}: {}", self.reason)
    }
}

impl std::error::Error for Violation {}

/// The one JSON shape of a violation, everywhere the crate writes one (a
/// receiver's 400 body, its refused-message file, dead letters):
/// `{"pointer": …, "keyword": …, "reason": …}`, never the value.
#[derive(serde::Serialize, serde::Deserialize)]
struct ViolationJson<'a> {
    #[serde(borrow)]
    pointer: std::borrow::Cow<'a, str>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    keyword: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    reason: std::borrow::Cow<'a, str>,
}

/// As `{"pointer": …, "keyword": …, "reason": …}`.
impl serde::Serialize for Violation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ViolationJson {
            pointer: self.pointer.as_str().into(),
            keyword: Some(self.keyword().into()),
            reason: self.reason.as_str().into(),
        }
        .serialize(serializer)
    }
}

/// From `{"pointer": …, "keyword": …, "reason": …}` as another system
/// running this crate writes it; `keyword` may be missing or unknown
/// ([`ViolationKind::Remote`] then, see [`ViolationKind::from_name`]).
impl<'de> serde::Deserialize<'de> for Violation {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = ViolationJson::deserialize(deserializer)?;
        let kind = json
            .keyword
            .as_deref()
            .map_or(ViolationKind::Remote, ViolationKind::from_name);
        Ok(Violation::new(kind, json.reason.into_owned()).at(&json.pointer))
    }
}

/// What kind of check a [`Violation`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ViolationKind {
    /// A keyword of the message's JSON schema (or of the typed model's
    /// check that stands for it, such as a pattern matcher).
    Schema(SchemaKeyword),
    /// A rule of the specification beyond the schema, checked by
    /// [`strict`](crate::strict) validation.
    Rule(Rule),
    /// The typed model refused a value its schema accepts: only a
    /// disagreement between the two could cause it, which the conformance
    /// checks rule out.
    Model,
    /// The message's `Version`: missing, unknown, of an older draft where
    /// the typed model was asked for, or newer than an upgrade's target.
    Version,
    /// A member appears twice in one object.
    Duplicate,
    /// JSON nested deeper than the limit.
    Depth,
    /// The input as a whole: not JSON, too large, no codec for it, or a
    /// value that cannot be converted.
    Input,
    /// Text that is not an IDMEF path of the model.
    Path,
    /// A list index that [`Message::set`](crate::Message::set) cannot reach.
    Index,
    /// Reported by another system (a receiver's refusal, say) under a name
    /// this crate does not know.
    Remote,
}

impl ViolationKind {
    /// The kind as text: the schema keyword or the rule's name, or `model`,
    /// `Version`, `duplicate`, `depth`, `input`, `path`, `index` or
    /// `remote`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ViolationKind::Schema(keyword) => keyword.as_str(),
            ViolationKind::Rule(rule) => rule.as_str(),
            ViolationKind::Model => "model",
            ViolationKind::Version => "Version",
            ViolationKind::Duplicate => "duplicate",
            ViolationKind::Depth => "depth",
            ViolationKind::Input => "input",
            ViolationKind::Path => "path",
            ViolationKind::Index => "index",
            ViolationKind::Remote => "remote",
        }
    }

    /// The kind whose text ([`ViolationKind::as_str`]) is `name`, as another
    /// system running this crate reports it; [`ViolationKind::Remote`] for
    /// any other name.
    pub fn from_name(name: &str) -> Self {
        const WORDS: [ViolationKind; 8] = [
            ViolationKind::Model,
            ViolationKind::Version,
            ViolationKind::Duplicate,
            ViolationKind::Depth,
            ViolationKind::Input,
            ViolationKind::Path,
            ViolationKind::Index,
            ViolationKind::Remote,
        ];
        let schema = SchemaKeyword::ALL
            .iter()
            .copied()
            .map(ViolationKind::Schema);
        let rules = Rule::ALL.iter().copied().map(ViolationKind::Rule);
        WORDS
            .into_iter()
            .chain(schema)
            .chain(rules)
            .find(|kind| kind.as_str() == name)
            .unwrap_or(ViolationKind::Remote)
    }
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<SchemaKeyword> for ViolationKind {
    fn from(keyword: SchemaKeyword) -> Self {
        ViolationKind::Schema(keyword)
    }
}

impl From<Rule> for ViolationKind {
    fn from(rule: Rule) -> Self {
        ViolationKind::Rule(rule)
    }
}

/// Declares an enum of named checks with the text of each.
macro_rules! named {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name { $($(#[$vdoc])* $variant,)* }

        impl $name {
            /// Every value, in the order declared.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The name as written in reports.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named! {
    /// A keyword of a JSON schema whose check failed: those of draft 4,
    /// which the embedded schemas are written in, and the others the
    /// schema validator can name.
    SchemaKeyword {
        /// `type`.
        Type = "type",
        /// `enum`.
        Enum = "enum",
        /// `pattern`.
        Pattern = "pattern",
        /// `format`.
        Format = "format",
        /// `required`.
        Required = "required",
        /// `additionalProperties`.
        AdditionalProperties = "additionalProperties",
        /// `additionalItems`.
        AdditionalItems = "additionalItems",
        /// `minimum`.
        Minimum = "minimum",
        /// `maximum`.
        Maximum = "maximum",
        /// `exclusiveMinimum`.
        ExclusiveMinimum = "exclusiveMinimum",
        /// `exclusiveMaximum`.
        ExclusiveMaximum = "exclusiveMaximum",
        /// `multipleOf`.
        MultipleOf = "multipleOf",
        /// `minLength`.
        MinLength = "minLength",
        /// `maxLength`.
        MaxLength = "maxLength",
        /// `minItems`.
        MinItems = "minItems",
        /// `maxItems`.
        MaxItems = "maxItems",
        /// `uniqueItems`.
        UniqueItems = "uniqueItems",
        /// `minProperties`.
        MinProperties = "minProperties",
        /// `maxProperties`.
        MaxProperties = "maxProperties",
        /// `anyOf`.
        AnyOf = "anyOf",
        /// `oneOf`.
        OneOf = "oneOf",
        /// `not`.
        Not = "not",
        /// `$ref`.
        Ref = "$ref",
        /// `const`.
        Const = "const",
        /// `contains`.
        Contains = "contains",
        /// `contentEncoding`.
        ContentEncoding = "contentEncoding",
        /// `contentMediaType`.
        ContentMediaType = "contentMediaType",
        /// `propertyNames`.
        PropertyNames = "propertyNames",
        /// `unevaluatedItems`.
        UnevaluatedItems = "unevaluatedItems",
        /// `unevaluatedProperties`.
        UnevaluatedProperties = "unevaluatedProperties",
        /// A subschema of `false`.
        FalseSchema = "falseSchema",
        /// A keyword the schema validator knows by no other name here (a
        /// custom keyword; this crate registers none).
        Other = "schema",
    }
}

impl SchemaKeyword {
    /// The keyword named `name`, or [`SchemaKeyword::Other`].
    pub(crate) fn named(name: &str) -> Self {
        SchemaKeyword::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == name)
            .unwrap_or(SchemaKeyword::Other)
    }
}

named! {
    /// A rule of the specification that its schema cannot express, as
    /// [`strict`](crate::strict) checks it; the module's docs say what each
    /// rule requires.
    Rule {
        /// `port-range`: ports from 1 to 65535.
        PortRange = "port-range",
        /// `attachment-name-unique`: no two attachments share a name.
        AttachmentNameUnique = "attachment-name-unique",
        /// `attachment-reference`: every attachment reference resolves.
        AttachmentReference = "attachment-reference",
        /// `ext-value`: `ext-value` entries and `ext-` lists go together.
        ExtValue = "ext-value",
        /// `aggr-condition`: `AggrCondition` entries are IDMEF paths.
        AggrCondition = "aggr-condition",
        /// `calendar-date`: timestamps name real instants.
        CalendarDate = "calendar-date",
        /// `timestamp-offset`: timestamps carry a UTC offset.
        TimestampOffset = "timestamp-offset",
        /// `size-non-negative`: an attachment's `Size` is not negative.
        SizeNonNegative = "size-non-negative",
        /// `base64-content`: base64 content decodes.
        Base64Content = "base64-content",
        /// `json-content`: JSON content is a serialized object.
        JsonContent = "json-content",
        /// `ti-format`: `TI` entries read `attribute:origin`.
        TiFormat = "ti-format",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_violation_is_written_and_read_as_pointer_keyword_reason() {
        let v = Violation::new(SchemaKeyword::Pattern, "not a UUID").at("/ID");
        let text = serde_json::to_string(&v).unwrap();
        assert_eq!(
            text,
            r#"{"pointer":"/ID","keyword":"pattern","reason":"not a UUID"}"#
        );
        assert_eq!(serde_json::from_str::<Violation>(&text).unwrap(), v);
        let remote: Violation =
            serde_json::from_str(r#"{"pointer":"/a","reason":"escaped \"x\""}"#).unwrap();
        assert_eq!(remote.kind(), ViolationKind::Remote);
        assert_eq!(remote.reason(), "escaped \"x\"");
        assert_eq!(remote.pointer(), "/a");
    }
}

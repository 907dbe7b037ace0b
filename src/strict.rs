//! Strict checks: the rules of the IDMEFv2 specification that its JSON
//! schema does not express.
//!
//! A message can satisfy the schema and still break a requirement the
//! specification's text states with MUST: a port of 0, a reference to an
//! attachment that does not exist, `ext-value` without the extension it
//! announces, 30 February. [`Message::validate_strict`] (for a decoded
//! message) and [`validate_strict_value`] (for untyped JSON, schema
//! included) run these checks and report every failure, each as a
//! [`Violation`] whose [`keyword`](Violation::keyword) names the rule and
//! whose [`pointer`](Violation::pointer) is the JSON pointer of the
//! offending value.
//!
//! ```
//! use idmefv2::{Analyzer, Message, Source};
//!
//! # fn main() -> Result<(), idmefv2::Error> {
//! let message = Message::builder(Analyzer::builder("edge-ids"))
//!     .source(Source::builder(idmefv2::Id::generate()).port(0u16).attachment("pcap"))
//!     .build()?;
//! message.validate()?; // the schema is satisfied
//! let error = message.validate_strict().unwrap_err();
//! let found: Vec<(String, String)> = error
//!     .violations()
//!     .iter()
//!     .map(|v| (v.keyword().to_string(), v.pointer().to_string()))
//!     .collect();
//! assert_eq!(found[0], ("port-range".to_string(), "/Source/0/Port/0".to_string()));
//! assert_eq!(found[1], ("attachment-reference".to_string(), "/Source/0/Attachment/0".to_string()));
//! # Ok(())
//! # }
//! ```
//!
//! For a command-line `--strict` option: decode with
//! [`Message::from_slice`] (which reports schema failures) and then call
//! [`Message::validate_strict`]; or, on a `serde_json::Value`, call
//! [`validate_strict_value`], which reports both kinds at once.
//!
//! # The rules checked
//!
//! | keyword | rule |
//! |---|---|
//! | `port-range` | every entry of a Source or Target `Port` list is an integer from 1 to 65535 |
//! | `attachment-name-unique` | no two attachments of a message share a `Name` (reported on the later one) |
//! | `attachment-reference` | every name in a Source or Target `Attachment` list is the `Name` of an attachment of the message |
//! | `ext-value` | a value list holding its `ext-value` entry (`Other.ext-value` for the top-level `Category`) comes with a non-empty `ext-` list of the same name, and a non-empty `ext-` list is present only with that entry (see below) |
//! | `aggr-condition` | every `AggrCondition` entry is an IDMEF path naming an attribute of the model, with an index only on a list (see [`Path`]) |
//! | `calendar-date` | every timestamp names a real instant: a month from 01 to 12, a day that exists in that month and year, and second 60 only for a leap second (see below) |
//! | `timestamp-offset` | every timestamp ends with `Z` or a `±hh:mm` offset |
//! | `size-non-negative` | an attachment's `Size` is not negative |
//! | `base64-content` | with `ContentEncoding` `base64`, `Content` is a string in the standard base64 alphabet with correct padding and no whitespace |
//! | `json-content` | with `ContentEncoding` `json`, or none (`json` is then implied), a string `Content` is a serialized JSON object |
//! | `ti-format` | every Source `TI` entry has the form `attribute:origin`, with `attribute` an attribute of the Source class and a non-empty `origin` |
//!
//! Choices made where the specification leaves room:
//!
//! - **`ext-value` without an extension attribute.** Source and Target
//!   `Category` offer `ext-value`, but the model gives those classes no
//!   `ext-Category`, so the value the entry announces cannot be written
//!   anywhere. Such an entry is reported (`ext-value`), since the MUST that
//!   the new value goes into the extension attribute cannot be met. The
//!   other extensible lists are the top-level `Category` and the Analyzer's
//!   `Category`, `Data` and `Method`; the list of them comes from the
//!   schema, not from this module. An empty `ext-` list holds no value, so
//!   it is accepted without `ext-value` (and does not satisfy it).
//! - **Encodings** are compared without regard to letter case (the
//!   specification's own example writes `JSON`). Encodings other than
//!   `json` and `base64` are not reported: the specification defines these
//!   two without forbidding others. Content given as a JSON object is
//!   accepted with `json`, and reported with `base64`.
//! - **Base64** padding bits that are not zero are accepted (the data still
//!   decodes; RFC 4648 leaves refusing them to the decoder).
//! - **Second 60** is accepted when, moved to UTC with the timestamp's
//!   offset, it is 23:59:60 on the last day of a month — the only place a
//!   leap second can occur. No table of past leap seconds is consulted.
//! - **A missing offset** is reported (`timestamp-offset`): the
//!   specification refers to RFC 3339's `date-time`, which requires one,
//!   while the schema leaves it optional. Second 60 without an offset is
//!   not judged further, since its UTC time is unknown.
//! - **`TI` attribute names** are compared with letter case, as every
//!   attribute name of the model is.
//!
//! # Requirements not checked
//!
//! - The order of stacked protocols in `Protocol` (lowest layer first): the
//!   names are free text, and deciding their layers needs knowledge no
//!   table in the specification provides.
//! - `UnLocation` codes existing in the UN/LOCODE list: the list is large,
//!   changes, and is not part of the specification.
//! - The transport's confidentiality, integrity and authenticity: a property
//!   of the channel, not of a message.
//! - The format of IANA registry keywords: about registries, not messages.
//! - The JSON serialization rules: the typed model only writes conforming
//!   JSON, and decoding refuses what does not conform.
//! - Comparing paths after normalization: [`Path`] equality
//!   compares normalized paths.
//! - Statements the specification makes with SHOULD, RECOMMENDED or
//!   without a requirement keyword (hash function names, hashes matching
//!   the content, `Size` matching the content's length, fully qualified
//!   host names, "reasonably unique" analyzer names, not using version 4
//!   UUIDs) are outside strict mode.

use std::collections::HashMap;

use serde_json::{Map, Value};
use time::{Date, Duration, Month};

use crate::{
    json,
    model::{
        scalar::TimestampFields,
        table::{self, Class},
    },
    validation, Error, Limits, Message, Path, Result, Violation,
};

/// The names of the rules, as the kinds of the violations they report.
pub use crate::error::Rule;

impl Message {
    /// Checks the rules of the specification that the schema does not
    /// express, and returns every failure (see [`strict`](crate::strict)
    /// for the list). The schema itself is not checked again: a `Message`
    /// satisfies it by construction.
    pub fn validate_strict(&self) -> Result<()> {
        finish(check(&self.to_value()))
    }
}

/// Checks untyped JSON against the schema of its `Version` and against the
/// strict rules, and returns every failure of both kinds.
///
/// An unsupported or missing `Version` is [`Error::UnsupportedVersion`],
/// as with [`validate`](crate::validate()).
///
/// ```
/// let message = serde_json::json!({
///     "Version": "2.D.V08",
///     "ID": "9d6a3b1c-5e2f-4a7b-8c9d-0e1f2a3b4c5d",
///     "CreateTime": "2025-02-30T10:00:00Z",
///     "Analyzer": {"Name": "edge-ids", "IP": "300.0.0.1"}
/// });
/// let error = idmefv2::validate_strict_value(&message).unwrap_err();
/// let mut found: Vec<(String, String)> = error
///     .violations()
///     .iter()
///     .map(|v| (v.pointer().to_string(), v.keyword().to_string()))
///     .collect();
/// found.sort();
/// assert_eq!(found[0], ("/Analyzer/IP".to_string(), "pattern".to_string()));
/// assert_eq!(found[1], ("/CreateTime".to_string(), "calendar-date".to_string()));
/// ```
pub fn validate_strict_value(message: &Value) -> Result<()> {
    let mut found: Vec<Violation> = match validation::validate(message) {
        Ok(()) => Vec::new(),
        Err(Error::Invalid(v)) => v.into_iter().collect(),
        Err(other) => return Err(other),
    };
    found.extend(check(message));
    finish(found)
}

fn finish(found: Vec<Violation>) -> Result<()> {
    if found.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(found.into()))
    }
}

/// One object of the message with its class and pointer.
struct Instance<'a> {
    class: &'static Class,
    pointer: String,
    object: &'a Map<String, Value>,
}

/// The top-level object and every aggregate class object in it. Values of
/// the wrong shape are skipped: the schema reports them.
fn instances(top: &Map<String, Value>) -> Vec<Instance<'_>> {
    let mut out = vec![Instance {
        class: table::root(),
        pointer: String::new(),
        object: top,
    }];
    for (aggregate, class) in table::aggregates() {
        match top.get(aggregate.name) {
            Some(Value::Array(list)) if aggregate.list => {
                for (i, item) in list.iter().enumerate() {
                    if let Value::Object(object) = item {
                        out.push(Instance {
                            class,
                            pointer: format!("/{}/{i}", aggregate.name),
                            object,
                        });
                    }
                }
            }
            Some(Value::Object(object)) if !aggregate.list => out.push(Instance {
                class,
                pointer: format!("/{}", aggregate.name),
                object,
            }),
            _ => {}
        }
    }
    out
}

/// The value of `name` in `instance` with its pointer: each entry for a
/// list, the value itself otherwise.
fn values<'a>(instance: &Instance<'a>, name: &str) -> Vec<(String, &'a Value)> {
    let pointer = format!("{}/{name}", instance.pointer);
    match instance.object.get(name) {
        None => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{pointer}/{i}"), v))
            .collect(),
        Some(v) => vec![(pointer, v)],
    }
}

fn check(root: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    let Some(top) = root.as_object() else {
        return out;
    };
    let instances = instances(top);
    let names = attachment_names(&instances, &mut out);
    for instance in &instances {
        for attribute in instance.class.attributes {
            let name = attribute.name;
            for (pointer, value) in values(instance, name) {
                if attribute.ty == "Timestamp" {
                    if let Some(text) = value.as_str() {
                        out.extend(timestamp(text).into_iter().map(|v| v.at(&pointer)));
                    }
                }
                let found = match name {
                    "Port" => port(value),
                    "Size" => size(value),
                    "TI" => ti(instance.class, value),
                    "AggrCondition" => aggr_condition(value),
                    "Attachment" if !attribute.class => attachment_reference(&names, value),
                    _ => None,
                };
                out.extend(found.map(|v| v.at(&pointer)));
            }
            if let Some(marker) = attribute.ext_value {
                out.extend(ext_value(instance, name, marker));
            }
        }
        if instance.class.name == "Attachment" {
            out.extend(content(instance));
        }
    }
    out
}

fn port(value: &Value) -> Option<Violation> {
    let n = value.as_f64()?;
    let ok = n.fract() == 0.0 && (1.0..=65535.0).contains(&n);
    (!ok).then(|| Violation::new(Rule::PortRange, "a port is an integer from 1 to 65535"))
}

fn size(value: &Value) -> Option<Violation> {
    let n = value.as_f64()?;
    (n < 0.0).then(|| Violation::new(Rule::SizeNonNegative, "Size must not be negative"))
}

fn ti(class: &Class, value: &Value) -> Option<Violation> {
    let text = value.as_str()?;
    let ok = match text.split_once(':') {
        Some((attribute, origin)) => class.attribute(attribute).is_some() && !origin.is_empty(),
        None => false,
    };
    (!ok).then(|| {
        Violation::new(
            Rule::TiFormat,
            format!(
                "a TI entry is `attribute:origin`, with an attribute of {} and a non-empty origin",
                class.name
            ),
        )
    })
}

fn aggr_condition(value: &Value) -> Option<Violation> {
    let text = value.as_str()?;
    let error = text.parse::<Path>().err()?;
    Some(Violation::new(
        Rule::AggrCondition,
        format!("not a valid IDMEF path: {}", error.reason()),
    ))
}

/// Every attachment name with the pointer of its first use; reports the
/// names used twice.
fn attachment_names<'a>(
    instances: &[Instance<'a>],
    out: &mut Vec<Violation>,
) -> HashMap<&'a str, String> {
    let mut names: HashMap<&'a str, String> = HashMap::new();
    for instance in instances.iter().filter(|i| i.class.name == "Attachment") {
        let Some(Value::String(name)) = instance.object.get("Name") else {
            continue;
        };
        let pointer = format!("{}/Name", instance.pointer);
        match names.get(name.as_str()) {
            Some(first) => out.push(
                Violation::new(
                    Rule::AttachmentNameUnique,
                    format!("the attachment at {first} already has this Name"),
                )
                .at(&pointer),
            ),
            None => {
                names.insert(name, pointer);
            }
        }
    }
    names
}

fn attachment_reference(names: &HashMap<&str, String>, value: &Value) -> Option<Violation> {
    let name = value.as_str()?;
    (!names.contains_key(name)).then(|| {
        Violation::new(
            Rule::AttachmentReference,
            "no attachment of the message has this Name",
        )
    })
}

fn ext_value(instance: &Instance<'_>, name: &str, marker: &str) -> Option<Violation> {
    let class = instance.class;
    let ext_name = format!("ext-{name}");
    let marked = instance
        .object
        .get(name)
        .and_then(Value::as_array)
        .and_then(|list| list.iter().position(|v| v.as_str() == Some(marker)));
    let ext = instance.object.get(&ext_name);
    let owner = if class.name == table::root().name {
        "the top-level class"
    } else {
        class.name
    };
    match (marked, class.attribute(&ext_name)) {
        (Some(i), None) => Some(
            Violation::new(
                Rule::ExtValue,
                format!(
                    "{owner} has no {ext_name} attribute, so `{marker}` in {name} cannot carry a value"
                ),
            )
            .at(&format!("{}/{name}/{i}", instance.pointer)),
        ),
        (Some(i), Some(_)) => {
            let filled = ext
                .and_then(Value::as_array)
                .is_some_and(|l| !l.is_empty());
            (!filled).then(|| {
                Violation::new(
                    Rule::ExtValue,
                    format!("{name} lists `{marker}`, so {ext_name} must hold at least one value"),
                )
                .at(&format!("{}/{name}/{i}", instance.pointer))
            })
        }
        (None, _) => ext.filter(|v| !is_empty_list(v)).map(|_| {
            Violation::new(
                Rule::ExtValue,
                format!("{ext_name} is set but {name} does not list `{marker}`"),
            )
            .at(&format!("{}/{ext_name}", instance.pointer))
        }),
    }
}

fn is_empty_list(value: &Value) -> bool {
    value.as_array().is_some_and(Vec::is_empty)
}

/// The `ContentEncoding` rules of one attachment.
fn content(instance: &Instance<'_>) -> Option<Violation> {
    let pointer = format!("{}/Content", instance.pointer);
    let content = instance.object.get("Content")?;
    let encoding = match instance.object.get("ContentEncoding") {
        None => "json".to_string(),
        Some(Value::String(e)) => e.to_ascii_lowercase(),
        Some(_) => return None,
    };
    let found = match (encoding.as_str(), content) {
        ("json", Value::String(text)) => json_object(text).err().map(|reason| {
            Violation::new(
                Rule::JsonContent,
                format!("with the json encoding (stated or implied), Content must be a serialized JSON object: {reason}"),
            )
        }),
        ("base64", Value::String(text)) => (!is_base64(text)).then(|| {
            Violation::new(
                Rule::Base64Content,
                "Content is not valid base64 (standard alphabet, padded, no whitespace)",
            )
        }),
        ("base64", _) => Some(Violation::new(
            Rule::Base64Content,
            "with the base64 encoding, Content must be a string",
        )),
        _ => None,
    };
    found.map(|v| v.at(&pointer))
}

/// Parses `text` as JSON with the decoder's guards; the reason names the
/// problem without quoting the content.
fn json_object(text: &str) -> Result<(), &'static str> {
    let depth = Limits::DEFAULT_MAX_DEPTH;
    match json::parse_value(text.as_bytes(), depth, depth) {
        Ok(Value::Object(_)) => Ok(()),
        Ok(_) => Err("it is JSON, but not an object"),
        Err(Error::DuplicateKey { .. }) => Err("an object in it has a member twice"),
        Err(Error::TooDeep { .. }) => Err("it nests too deeply"),
        Err(_) => Err("it is not JSON text"),
    }
}

/// Whether `text` is base64 as RFC 4648 section 4 defines it: the standard
/// alphabet, a length that is a multiple of four, and `=` padding only at
/// the end (at most two).
fn is_base64(text: &str) -> bool {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return false;
    }
    let body = bytes
        .strip_suffix(b"==")
        .or_else(|| bytes.strip_suffix(b"="))
        .unwrap_or(bytes);
    body.iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// The calendar checks of one timestamp. Text the schema's pattern refuses
/// is left to the schema.
fn timestamp(text: &str) -> Vec<Violation> {
    let mut out = Vec::new();
    let Some(parts) = TimestampFields::read(text) else {
        return out;
    };
    let bad_date = |reason: &str| Violation::new(Rule::CalendarDate, reason);
    let date = match Month::try_from(parts.month) {
        Err(_) => {
            out.push(bad_date("the month must be from 01 to 12"));
            None
        }
        Ok(month) => match Date::from_calendar_date(parts.year, month, parts.day) {
            Ok(date) => Some(date),
            Err(_) => {
                out.push(bad_date("that month has no such day"));
                None
            }
        },
    };
    match (parts.offset_minutes, date) {
        (None, _) => out.push(Violation::new(
            Rule::TimestampOffset,
            "a timestamp must end with Z or a ±hh:mm offset (RFC 3339)",
        )),
        (Some(offset), Some(date))
            if parts.second == 60 && !leap_second_slot(date, parts.hour, parts.minute, offset) =>
        {
            out.push(bad_date(
                "second 60 is only a leap second: 23:59:60 UTC on the last day of a month",
            ));
        }
        _ => {}
    }
    out
}

/// Whether local `hour:minute:60` at `offset` minutes from UTC on `date` is
/// 23:59:60 UTC on the last day of a month.
fn leap_second_slot(date: Date, hour: u8, minute: u8, offset: i32) -> bool {
    let utc = i32::from(hour) * 60 + i32::from(minute) - offset;
    if utc.rem_euclid(24 * 60) != 23 * 60 + 59 {
        return false;
    }
    let Some(utc_date) = date.checked_add(Duration::days(i64::from(utc.div_euclid(24 * 60))))
    else {
        return false;
    };
    utc_date.next_day().is_none_or(|next| next.day() == 1)
}

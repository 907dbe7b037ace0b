//! The reason given for each failure the schema validator finds: what was
//! expected, in words, without repeating the value that was refused.
//!
//! A value list names the closest values to the text that was sent (the
//! words typed decoding uses too, through `model::suggest`); a broken
//! pattern or format is explained by the hand-written type's refusal
//! instead of the regular expression; a wrong JSON type says which type
//! was expected and which one came; an unknown member is named with the
//! closest member of its class; a missing one with the class it belongs
//! to. Every other failure keeps the validator's own masked text.

use jsonschema::{error::TypeKind, error::ValidationErrorKind, JsonType, ValidationError};
use serde_json::Value;

use crate::model::{scalar, suggest};

/// The reason for one failure `e` of a message checked against `schema`.
pub(super) fn reason(schema: &Value, e: &ValidationError<'_>) -> String {
    let path = e.schema_path().as_str();
    // A pattern or format of one of our named types.
    if let Some(reason) = definition(path).and_then(scalar::reason_for) {
        return reason.to_string();
    }
    match e.kind() {
        ValidationErrorKind::Enum { options } => {
            let values: Vec<&str> = options
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            suggest::unlisted(definition(path), e.instance().as_str(), &values)
        }
        ValidationErrorKind::Type { kind } => {
            let expected: Vec<&str> = match kind {
                TypeKind::Single(t) => vec![article(*t)],
                TypeKind::Multiple(set) => set.iter().map(article).collect(),
            };
            let found = found_type(e.instance());
            format!("expected {}, found {found}", expected.join(" or "))
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let members = members(schema, path);
            let owner = owner(path);
            let names: Vec<String> = unexpected
                .iter()
                .map(|name| {
                    let near = suggest::closest(name, &members);
                    if near.is_empty() {
                        format!("`{name}`")
                    } else {
                        format!("`{name}` (did you mean {}?)", suggest::spelt(&near, "or"))
                    }
                })
                .collect();
            let what = if names.len() == 1 {
                "member"
            } else {
                "members"
            };
            format!(
                "unknown {what} of {}: {}",
                owner.unwrap_or("the message"),
                names.join(", ")
            )
        }
        ValidationErrorKind::Required { property } => match property.as_str() {
            Some(name) => format!(
                "{} lacks its required member `{name}`",
                owner(path).unwrap_or("the message")
            ),
            None => e.masked().to_string(),
        },
        _ => e.masked().to_string(),
    }
}

/// The definition whose keyword failed: `Priority` for
/// `/definitions/Priority/enum`.
fn definition(path: &str) -> Option<&str> {
    path.strip_prefix("/definitions/")?.split('/').next()
}

/// The class whose keyword failed: the definition or property that holds
/// it (`Source` for `/definitions/Source/additionalProperties` or
/// `/properties/Source/items/required`); `None` at the top level.
fn owner(path: &str) -> Option<&str> {
    let segments: Vec<&str> = path.split('/').collect();
    let at = segments
        .iter()
        .rposition(|s| *s == "definitions" || *s == "properties")?;
    segments.get(at + 1).copied()
}

/// The member names the object schema holding the failed keyword at
/// `path` declares.
fn members<'a>(schema: &'a Value, path: &str) -> Vec<&'a str> {
    let object = path.rsplit_once('/').map_or("", |(object, _)| object);
    schema
        .pointer(object)
        .and_then(|o| o.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn article(t: JsonType) -> &'static str {
    match t {
        JsonType::Array => "an array",
        JsonType::Boolean => "a boolean",
        JsonType::Integer => "an integer",
        JsonType::Null => "null",
        JsonType::Number => "a number",
        JsonType::Object => "an object",
        JsonType::String => "a string",
    }
}

/// The JSON type of the refused value, never the value itself.
fn found_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number with a fraction or exponent",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

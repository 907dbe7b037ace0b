//! Schema validation of untyped JSON, with the schema picked by `Version`,
//! and the explanation of what the typed decoder refused.

use std::sync::OnceLock;

use serde_json::Value;

use crate::{json, Draft, Error, Limits, Result, SchemaKeyword, Version, Violation, ViolationKind};

mod explain;

/// The schema and validator of each draft, in the order of [`Draft::ALL`],
/// made on first use and then shared by the process.
static VALIDATORS: [OnceLock<(Value, jsonschema::Validator)>; Draft::ALL.len()] =
    [const { OnceLock::new() }; Draft::ALL.len()];

fn validator(draft: Draft) -> &'static (Value, jsonschema::Validator) {
    // `Draft::ALL` lists the variants in declaration order.
    VALIDATORS[draft as usize].get_or_init(|| {
        let schema: Value =
            serde_json::from_str(draft.schema()).expect("embedded schema is valid JSON");
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(true)
            .build(&schema)
            .expect("embedded schema compiles");
        (schema, validator)
    })
}

/// The schema of `draft` as JSON, parsed once.
pub(crate) fn schema_value(draft: Draft) -> &'static Value {
    &validator(draft).0
}

/// The `Version` values whose schema this crate embeds, oldest first (the
/// texts of [`Draft::ALL`]). The typed model holds those of
/// [`Version::ALL`]; messages of the older drafts are validated here and
/// converted with [`crate::upgrade`].
pub fn supported_versions() -> Vec<&'static str> {
    Draft::ALL.iter().map(|d| d.as_str()).collect()
}

/// The JSON schema text the crate embeds for `version`.
pub fn schema(version: &str) -> Option<&'static str> {
    version.parse().ok().map(Draft::schema)
}

/// Checks `message` against the schema of the revision named by its
/// `Version` member and returns every failure.
///
/// Every draft in [`supported_versions`] is checked by its own schema, so a
/// `2.D.V04` message is judged by the `2.D.V04` rules.
///
/// A message without `Version` (or that is not an object) is checked against
/// the latest stable schema, which reports what is missing. A `Version` this
/// crate does not know is [`Error::UnsupportedVersion`].
///
/// ```
/// let message = serde_json::json!({"Version": "2.D.V08", "ID": "not-a-uuid"});
/// let error = idmefv2::validate(&message).unwrap_err();
/// let pointers: Vec<String> =
///     error.violations().iter().map(|v| v.pointer().to_string()).collect();
/// assert!(pointers.contains(&"/ID".to_string()));
/// ```
pub fn validate(message: &Value) -> Result<()> {
    let draft = match message.get("Version") {
        None => Some(Version::LATEST.draft()),
        Some(Value::String(v)) => v.parse().ok(),
        Some(_) => None,
    };
    let Some(draft) = draft else {
        return Err(unsupported(message));
    };
    let (schema, validator) = validator(draft);
    let violations: Vec<Violation> = validator
        .iter_errors(message)
        .map(|e| {
            Violation::new(
                SchemaKeyword::named(e.kind().keyword()),
                explain::reason(schema, &e),
            )
            .at(e.instance_path().as_str())
        })
        .collect();
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(violations.into()))
    }
}

/// The error for a message whose `Version` names no draft of this crate.
pub(crate) fn unsupported(message: &Value) -> Error {
    Error::UnsupportedVersion {
        found: message.get("Version").map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        supported: supported_versions(),
    }
}

/// Why the typed decoder refused `bytes`, in the schema's terms: re-reads
/// them as guarded untyped JSON (which says where a member repeats or the
/// nesting goes too deep) and explains the value with [`explain_value`].
/// `typed` is the decoder's own error, used only when the schema finds
/// nothing.
pub(crate) fn explain_bytes(bytes: &[u8], limits: &Limits, typed: &serde_json::Error) -> Error {
    let value = match json::parse_value(bytes, limits.document_depth(), limits.max_depth) {
        Ok(value) => value,
        Err(e) => return e,
    };
    let text = typed.to_string();
    let reason = text.split(" at line ").next().unwrap_or_default();
    explain_value(&value, Violation::new(ViolationKind::Model, reason))
}

/// Why the typed model refused `value`, in the schema's terms: every schema
/// failure; `OlderDraft` for a valid message of an older draft; otherwise
/// `model` (what the model said), which only a disagreement between the
/// model and the schema could produce and the conformance suite rules out.
pub(crate) fn explain_value(value: &Value, model: Violation) -> Error {
    match validate(value) {
        Err(e) => e,
        Ok(()) if !is_typed(value) => Error::OlderDraft {
            version: value["Version"].as_str().unwrap_or_default().to_string(),
        },
        Ok(()) => Error::invalid(model),
    }
}

/// Whether the message names a revision the typed model holds.
fn is_typed(value: &Value) -> bool {
    value
        .get("Version")
        .and_then(Value::as_str)
        .is_some_and(|v| v.parse::<Version>().is_ok())
}

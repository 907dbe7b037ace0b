//! Schema validation of untyped JSON, with the schema picked by `Version`.

use std::sync::OnceLock;

use serde_json::Value;

use crate::{Error, Version, Violation};

/// One embedded schema, compiled on first use and then shared by the process.
struct Schema {
    version: &'static str,
    text: &'static str,
    compiled: OnceLock<jsonschema::Validator>,
}

macro_rules! schemas {
    ($($version:literal),* $(,)?) => {
        [$(Schema {
            version: $version,
            text: include_str!(concat!("../schema/idmefv2-", $version, ".json")),
            compiled: OnceLock::new(),
        }),*]
    };
}

static SCHEMAS: [Schema; 2] = schemas!["2.D.V08", "2.D.V09-Dev"];

impl Schema {
    fn validator(&self) -> &jsonschema::Validator {
        self.compiled.get_or_init(|| {
            let schema: Value =
                serde_json::from_str(self.text).expect("embedded schema is valid JSON");
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft4)
                .should_validate_formats(true)
                .build(&schema)
                .expect("embedded schema compiles")
        })
    }
}

fn find(version: &str) -> Option<&'static Schema> {
    SCHEMAS.iter().find(|s| s.version == version)
}

/// The `Version` values whose schema this crate embeds, oldest first.
pub fn supported_versions() -> Vec<&'static str> {
    SCHEMAS.iter().map(|s| s.version).collect()
}

/// The JSON schema text the crate embeds for `version`.
pub fn schema(version: &str) -> Option<&'static str> {
    find(version).map(|s| s.text)
}

/// Checks `message` against the schema of the revision named by its
/// `Version` member and returns every failure.
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
pub fn validate(message: &Value) -> Result<(), Error> {
    let schema = match message.get("Version") {
        None => find(Version::LATEST.as_str()),
        Some(Value::String(v)) => find(v),
        Some(_) => None,
    };
    let Some(schema) = schema else {
        return Err(Error::UnsupportedVersion {
            found: message.get("Version").map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            supported: supported_versions(),
        });
    };
    let violations: Vec<Violation> = schema
        .validator()
        .iter_errors(message)
        .map(|e| {
            Violation::new(e.kind().keyword(), e.masked().to_string())
                .at(e.instance_path().as_str())
        })
        .collect();
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(violations.into()))
    }
}

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

/// Declares the drafts, oldest first, and embeds the schema of each.
macro_rules! drafts {
    ($($version:literal),* $(,)?) => {
        /// Every draft this crate checks, oldest first. The typed model
        /// holds the last two; the older ones are checked as untyped JSON
        /// and can be carried forward with [`crate::upgrade`].
        pub(crate) const DRAFTS: [&str; 8] = [$($version),*];

        /// The schema of each entry of [`DRAFTS`], in the same order.
        static SCHEMAS: [Schema; 8] = [$(Schema {
            version: $version,
            text: include_str!(concat!("../schema/idmefv2-", $version, ".json")),
            compiled: OnceLock::new(),
        }),*];
    };
}

drafts![
    "2.D.V02",
    "2.D.V03",
    "2.D.V04",
    "2.D.V05",
    "2.D.V06",
    "2.D.V07",
    "2.D.V08",
    "2.D.V09-Dev",
];

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

/// The `Version` values whose schema this crate embeds, oldest first: every
/// draft from `2.D.V02` on. Only `2.D.V08` and `2.D.V09-Dev` have a typed
/// model ([`crate::Version`]); messages of the older drafts are validated
/// here and converted with [`crate::upgrade`].
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
            // A pattern or format of one of our named types is explained in
            // words rather than by repeating the regular expression.
            let reason = e
                .schema_path()
                .as_str()
                .strip_prefix("/definitions/")
                .and_then(|rest| rest.split('/').next())
                .and_then(crate::scalar::refusal)
                .map_or_else(|| e.masked().to_string(), str::to_string);
            Violation::new(e.kind().keyword(), reason).at(e.instance_path().as_str())
        })
        .collect();
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(violations.into()))
    }
}

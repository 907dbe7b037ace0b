//! The documentation of every value of every value list, read from
//! `schema/value-docs.json` and attached to the generated enum variants.
//!
//! The file is keyed by definition name, then by value. The build fails
//! when a value of the typed model's schema has no text, and when the file
//! documents a list or a value the schema does not have, so that the docs
//! and the schema cannot drift apart. `tests/value_docs.rs` checks the
//! rest (order, wording, no text taken from the specification).

use std::{collections::BTreeMap, fs, path::Path};

use serde_json::Value;

/// The file, in `schema/` beside the drafts.
pub const FILE: &str = "value-docs.json";

/// Per value list (definition name), per value, its text.
pub struct ValueDocs(BTreeMap<String, BTreeMap<String, String>>);

impl ValueDocs {
    /// Reads the file in `dir` and holds it to the value lists of `model`
    /// (the typed model's schema): every value has a text, and every text
    /// belongs to a value.
    pub fn read(dir: &Path, model: &Value) -> Self {
        let path = dir.join(FILE);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file = file
            .as_object()
            .unwrap_or_else(|| panic!("{}: not a JSON object", path.display()));
        let mut lists = BTreeMap::new();
        for (list, entries) in file {
            if list == "$comment" {
                continue;
            }
            let entries = entries
                .as_object()
                .unwrap_or_else(|| panic!("{FILE}: {list} is not an object of texts"));
            let docs = entries
                .iter()
                .map(|(value, doc)| {
                    let doc = doc.as_str().unwrap_or_else(|| {
                        panic!("{FILE}: {list}.{value}: the text is not a string")
                    });
                    (value.clone(), doc.to_string())
                })
                .collect();
            lists.insert(list.clone(), docs);
        }
        let docs = ValueDocs(lists);
        docs.check(model);
        docs
    }

    /// Fails the build for a value without a text or a text without a
    /// value.
    fn check(&self, model: &Value) {
        let definitions = model["definitions"].as_object().expect("definitions");
        let mut problems = Vec::new();
        let mut schema_lists = Vec::new();
        for (name, definition) in definitions {
            let Some(values) = definition["enum"].as_array() else {
                continue;
            };
            if name == "Version" {
                continue;
            }
            schema_lists.push(name.as_str());
            let documented = self.0.get(name);
            for value in values.iter().filter_map(Value::as_str) {
                if documented.and_then(|d| d.get(value)).is_none() {
                    problems.push(format!("{name}: the value `{value}` has no text"));
                }
            }
            for value in documented.into_iter().flat_map(BTreeMap::keys) {
                if !values.iter().any(|v| v == value) {
                    problems.push(format!("{name}: `{value}` is not a value of the list"));
                }
            }
        }
        for list in self.0.keys() {
            if !schema_lists.contains(&list.as_str()) {
                problems.push(format!("{list}: not a value list of the schema"));
            }
        }
        assert!(
            problems.is_empty(),
            "schema/{FILE} and the schema disagree:\n  {}",
            problems.join("\n  ")
        );
    }

    /// The text of `value` in the list `list`, which [`ValueDocs::read`]
    /// has checked to exist.
    pub fn of(&self, list: &str, value: &str) -> &str {
        self.0
            .get(list)
            .and_then(|d| d.get(value))
            .unwrap_or_else(|| panic!("{FILE}: {list}.{value} has no text"))
    }
}

//! The one repair the upgrade makes when asked: a single text where the
//! schema wants a list of texts becomes a list of that one text.
//!
//! Deployed senders write `"Type": "Cyber"` in an analyzer, `"Category":
//! "Recon.Scanning"` or `"Status": "Incident"` where their draft's schema
//! wants a list. The places are not listed here: they are found in the
//! schema of the draft whose rules apply, by walking it along the message
//! (every member whose schema is an array of strings, at any depth), so
//! that each draft is repaired by its own rules. Nothing else is touched:
//! a list of objects given as one object, a number for a list of numbers,
//! a wrong value inside the list stay as they are and are refused as
//! before.

use serde_json::{Map, Value};

use super::{NoteKind, UpgradeNote};
use crate::{json, validation, Draft};

/// Wraps every single text in `value` where the schema of `draft` wants a
/// list of texts, noting each repair; `at` is the schema pointer of the
/// definition `value` must meet (empty for a whole message) and `base` the
/// JSON pointer of `value` in the message.
pub(super) fn repair(
    draft: Draft,
    at: &str,
    value: &mut Value,
    base: &str,
    notes: &mut Vec<UpgradeNote>,
) {
    let schema = validation::schema_value(draft);
    let Some(node) = schema.pointer(at) else {
        return;
    };
    let mut walk = Walk {
        schema,
        draft,
        notes,
    };
    walk.visit(node, value, base);
}

/// The places in the schema of `draft` where a list of texts is wanted, as
/// JSON pointers with `*` for any index of a list (`/Source/*/Protocol`),
/// for the tests to hold the walk to the schemas.
#[cfg(test)]
pub(super) fn places(draft: Draft) -> Vec<String> {
    let schema = validation::schema_value(draft);
    let mut out = Vec::new();
    schema_places(schema, schema, "", &mut out);
    out
}

#[cfg(test)]
fn schema_places(root: &Value, node: &Value, base: &str, out: &mut Vec<String>) {
    let node = resolve(root, node);
    if let Some(properties) = node.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            let pointer = format!("{base}/{}", json::escape_segment(name));
            let property = resolve(root, property);
            if wants_texts(root, property) {
                out.push(pointer);
            } else if let Some(items) = list_items(property) {
                schema_places(root, items, &format!("{pointer}/*"), out);
            } else {
                schema_places(root, property, &pointer, out);
            }
        }
    }
}

struct Walk<'a> {
    schema: &'a Value,
    draft: Draft,
    notes: &'a mut Vec<UpgradeNote>,
}

impl Walk<'_> {
    fn visit(&mut self, node: &Value, value: &mut Value, base: &str) {
        let node = resolve(self.schema, node);
        match value {
            Value::Object(object) => self.members(node, object, base),
            Value::Array(items) => {
                if let Some(item_schema) = list_items(node) {
                    for (i, item) in items.iter_mut().enumerate() {
                        self.visit(item_schema, item, &format!("{base}/{i}"));
                    }
                }
            }
            _ => {}
        }
    }

    fn members(&mut self, node: &Value, object: &mut Map<String, Value>, base: &str) {
        let Some(properties) = node.get("properties").and_then(Value::as_object) else {
            return;
        };
        // In name order, so that the report does not depend on map order.
        let mut names: Vec<String> = object.keys().cloned().collect();
        names.sort();
        for name in &names {
            let (Some(property), Some(member)) = (properties.get(name), object.get_mut(name))
            else {
                continue;
            };
            let property = resolve(self.schema, property);
            let pointer = format!("{base}/{}", json::escape_segment(name));
            if member.is_string() && wants_texts(self.schema, property) {
                let text = member.take();
                *member = Value::Array(vec![text.clone()]);
                self.notes.push(UpgradeNote {
                    reason: format!(
                        "the {} schema wants a list of texts for {name}; the single text \
                         became its only entry",
                        self.draft
                    ),
                    kind: NoteKind::Repaired,
                    draft: self.draft.as_str(),
                    value: Some(text),
                    moved_to: Some(format!("{pointer}/0")),
                    pointer,
                });
            } else {
                self.visit(property, member, &pointer);
            }
        }
    }
}

/// The schema a `$ref` points to (within the same schema), or `node`.
fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    let mut node = node;
    // The drafts' schemas refer only to their own definitions; a chain is
    // followed a few steps at most.
    for _ in 0..8 {
        match node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|pointer| root.pointer(pointer))
        {
            Some(target) => node = target,
            None => break,
        }
    }
    node
}

/// The schema of the items of a list schema.
fn list_items(node: &Value) -> Option<&Value> {
    (node.get("type")? == "array")
        .then(|| node.get("items"))
        .flatten()
        .filter(|items| items.is_object())
}

/// Whether `node` is a list whose items are texts (plain, patterned or
/// from a value list).
fn wants_texts(root: &Value, node: &Value) -> bool {
    let Some(items) = list_items(node) else {
        return false;
    };
    let items = resolve(root, items);
    let typed_text = items.get("type").and_then(Value::as_str) == Some("string");
    let listed_texts = items
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|values| !values.is_empty() && values.iter().all(Value::is_string));
    typed_text || listed_texts
}

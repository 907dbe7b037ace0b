//! The schema definitions that hand-written types replace, read from the
//! one table of them (`src/model/hand_written.rs`), with the check that
//! each definition in `schema/` still says what the hand-written type was
//! proven against.

use serde_json::{json, Value};

use crate::drafts::Draft;

/// What the table pins for one definition.
enum Pin {
    /// `{"type": "string", "pattern": ...}` with this exact expression.
    Pattern(&'static str),
    /// `{"type": "string", "format": ...}` with this format.
    Format(&'static str),
    /// The whole definition, as JSON text.
    Value(&'static str),
}

/// Reads the table: the definition names and their pins; the rest of each
/// row (docs, matchers, comparisons, reasons) is for the library.
macro_rules! hand_written {
    (
        patterns { $( $(#[$pdoc:meta])* $pname:ident = $pattern:literal,
            matched by $pcheck:path, compared as $pcmp:path, refused as $preason:literal; )* }
        formats { $( $(#[$fdoc:meta])* $fname:ident = $format:literal,
            matched by $fcheck:path, refused as $freason:literal; )* }
        values { $( $(#[$vdoc:meta])* $vname:ident = $shape:literal; )* }
    ) => {
        const ROWS: &[(&str, Pin)] = &[
            $((stringify!($pname), Pin::Pattern($pattern)),)*
            $((stringify!($fname), Pin::Format($format)),)*
            $((stringify!($vname), Pin::Value($shape)),)*
        ];
    };
}

include!("../src/model/hand_written.rs");

/// The file the table lives in, for `rerun-if-changed`.
pub const TABLE: &str = "src/model/hand_written.rs";

/// Every replacement typify is to make: each definition of the table by
/// its hand-written type, and `Version` by the generated `Version` type
/// (its values differ from draft to draft of one model), each named through
/// the generated code's one path into the crate.
pub fn replacements() -> Vec<(&'static str, String)> {
    let mut all = vec![("Version", "support::Version".to_string())];
    all.extend(
        ROWS.iter()
            .map(|(name, _)| (*name, format!("support::{name}"))),
    );
    all
}

/// Fails the build when a definition in any draft differs from the text
/// pinned for it (the hand-written matcher or type would then decide
/// otherwise than the schema), when the typed model's schema lacks one, or
/// when the model's schema has a pattern or format definition the table
/// does not replace.
pub fn check_pins(drafts: &[Draft], model: &Value) {
    for (name, pin) in ROWS {
        let pinned = match pin {
            Pin::Pattern(pattern) => json!({"type": "string", "pattern": pattern}),
            Pin::Format(format) => json!({"type": "string", "format": format}),
            Pin::Value(text) => serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("{}: pin of {name} is not JSON: {e}", TABLE)),
        };
        assert!(
            model["definitions"].get(*name).is_some(),
            "{TABLE}: the typed model's schema has no definition {name}"
        );
        for draft in drafts {
            let Some(definition) = draft.schema["definitions"].get(*name) else {
                continue;
            };
            let mut definition = definition.clone();
            if let Some(d) = definition.as_object_mut() {
                d.remove("description");
            }
            assert!(
                definition == pinned,
                "{}: definition {name} differs from the text pinned in {TABLE}; check the \
                 hand-written type against the new definition, then update the pin\n  \
                 schema: {definition}\n  pinned: {pinned}",
                draft.file
            );
        }
    }
    let definitions = model["definitions"].as_object().expect("definitions");
    for (name, definition) in definitions {
        let constrained = definition.get("pattern").is_some() || definition.get("format").is_some();
        assert!(
            !constrained || ROWS.iter().any(|(n, _)| n == name),
            "definition {name} has a pattern or format but no hand-written type in {TABLE}"
        );
    }
}

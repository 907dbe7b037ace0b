//! Checking a message while it is read, without building it.
//!
//! Decoding a message into the typed model checks every rule of the schema,
//! but it also copies each text into a `String` of its own and builds every
//! list and object, only for a caller that may want nothing but the verdict
//! (a receiver that stores the body as it came, `validate_slice`). The
//! [`Check`] impls here walk the same input with the same rules and keep
//! nothing: a text is looked at where it lies in the input, a list is never
//! gathered, and an object remembers only which members it has seen.
//!
//! The rules are not written twice. Texts with a pattern or format use the
//! very matcher of their type ([`crate::model::scalar`]), value lists and
//! numbers are decoded as usual (they allocate nothing), and each class's
//! impl is generated next to its `Deserialize` impl from the same member
//! list. `tests/check.rs` holds the two to the same verdict.

use std::marker::PhantomData;

use serde::{
    de::{self, DeserializeOwned, SeqAccess, Visitor},
    Deserialize, Deserializer,
};

/// A type whose values can be checked as they are read.
pub(crate) trait Check {
    /// What the check hands back: nothing for almost every type; the
    /// root's `Version` and `ID`.
    type Kept;

    /// Reads one value from `d` and refuses it exactly when decoding a
    /// `Self` from the same input would.
    fn check<'de, D: Deserializer<'de>>(d: D) -> Result<Self::Kept, D::Error>;
}

/// A value of `T` read by [`Check::check`]: what the generated code asks a
/// map for with `next_value`.
pub(crate) struct Checked<T: Check>(pub(crate) T::Kept);

impl<'de, T: Check> Deserialize<'de> for Checked<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::check(d).map(Checked)
    }
}

/// Checks by decoding `T` in full and keeping it: for the few values a
/// caller of the check needs (the root's `Version` and `ID`).
pub(crate) struct Owned<T>(PhantomData<T>);

impl<T: DeserializeOwned> Check for Owned<T> {
    type Kept = T;
    fn check<'de, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        T::deserialize(d)
    }
}

/// Checks by decoding and dropping the value: for types whose decoding
/// allocates nothing (value lists, numbers, `Version`), and for attachment
/// content, which is rare enough not to need a walk of its own.
macro_rules! check_by_decoding {
    ($($ty:ty),* $(,)?) => {$(
        impl $crate::model::check::Check for $ty {
            type Kept = ();
            fn check<'de, D: ::serde::Deserializer<'de>>(
                d: D,
            ) -> ::std::result::Result<(), D::Error> {
                <$ty as ::serde::Deserialize>::deserialize(d).map(drop)
            }
        }
    )*};
}
pub(crate) use check_by_decoding;

check_by_decoding!(
    crate::Version,
    super::scalar::Integer,
    super::scalar::Confidence,
    super::scalar::Content,
);

/// Any text: a string, looked at in place.
impl Check for String {
    type Kept = ();
    fn check<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
                Ok(())
            }
        }
        // As `String` itself asks for it.
        d.deserialize_string(V)
    }
}

/// A list: each item checked as it comes, none kept.
impl<T: Check> Check for Vec<T> {
    type Kept = ();
    fn check<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Check> Visitor<'de> for V<T> {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                while seq.next_element::<Checked<T>>()?.is_some() {}
                Ok(())
            }
        }
        // As `Vec` itself asks for it.
        d.deserialize_seq(V::<T>(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    //! The checker against the decoder, on every fixture and on mutants of
    //! every valid one: a member dropped, a value swapped for one of each
    //! JSON type, a member repeated or unknown, a text written with
    //! escapes. The two must agree on every input, and on the `Version` and
    //! `ID` of the valid ones.

    use std::{fmt::Write as _, path::Path};

    use serde::Deserialize;
    use serde_json::Value;

    use super::Checked;
    use crate::{Limits, Message};

    /// The checker alone, without the decoder to fall back on.
    fn check(bytes: &[u8]) -> Option<(String, String)> {
        let text = std::str::from_utf8(bytes).ok()?;
        let _budget = crate::json::DepthBudget::set(Limits::default().max_depth);
        let mut de = serde_json::Deserializer::from_str(text);
        de.disable_recursion_limit();
        let (version, id) = Checked::<Message>::deserialize(&mut de)
            .and_then(|c| de.end().map(|()| c.0))
            .ok()?;
        Some((version.as_str().to_string(), id.to_string()))
    }

    fn decode(bytes: &[u8]) -> Option<(String, String)> {
        Message::from_slice_with(bytes, &Limits::default())
            .ok()
            .map(|m| (m.version.as_str().to_string(), m.id.to_string()))
    }

    /// Asserts that the two agree on `bytes`; true when it is valid.
    fn agree(bytes: &[u8], what: &str) -> bool {
        let (checked, decoded) = (check(bytes), decode(bytes));
        assert_eq!(
            checked,
            decoded,
            "{what}: checker and decoder disagree on {}",
            String::from_utf8_lossy(bytes)
        );
        decoded.is_some()
    }

    /// What a mutant changes at one place of a document.
    #[derive(Clone, Copy)]
    enum Change<'a> {
        /// The member or item at the place is left out.
        Drop,
        /// The value at the place becomes this one.
        Replace(&'a Value),
        /// The object at the place gets its first member twice.
        Repeat,
        /// The object at the place gets a member no class has.
        Unknown,
        /// The text at the place is written with `\u` escapes.
        Escape,
    }

    /// `value` as JSON, with `change` applied at the pointer `at`.
    fn write(value: &Value, here: &str, at: &str, change: Change<'_>, out: &mut String) {
        let this = here == at;
        match value {
            Value::String(s) if this && matches!(change, Change::Escape) => {
                out.push('"');
                for unit in s.encode_utf16() {
                    let _ = write!(out, "\\u{unit:04x}");
                }
                out.push('"');
            }
            _ if this && matches!(change, Change::Replace(_)) => {
                if let Change::Replace(new) = change {
                    out.push_str(&new.to_string());
                }
            }
            Value::Object(map) => {
                let mut members: Vec<(String, &Value)> =
                    map.iter().map(|(k, v)| (k.clone(), v)).collect();
                if this {
                    match change {
                        Change::Repeat => {
                            if let Some(first) = members.first().cloned() {
                                members.push(first);
                            }
                        }
                        Change::Unknown => members.push(("NoSuchMember".into(), &Value::Null)),
                        _ => {}
                    }
                }
                out.push('{');
                let mut first = true;
                for (k, v) in members {
                    let child = format!("{here}/{}", crate::json::escape_segment(&k));
                    if child == at && matches!(change, Change::Drop) {
                        continue;
                    }
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    out.push_str(&Value::String(k).to_string());
                    out.push(':');
                    write(v, &child, at, change, out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                let mut first = true;
                for (i, v) in items.iter().enumerate() {
                    let child = format!("{here}/{i}");
                    if child == at && matches!(change, Change::Drop) {
                        continue;
                    }
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    write(v, &child, at, change, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }

    /// Every pointer in `value`, the root included.
    fn pointers(value: &Value, here: String, all: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    pointers(v, format!("{here}/{}", crate::json::escape_segment(k)), all);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    pointers(v, format!("{here}/{i}"), all);
                }
            }
            _ => {}
        }
        all.push(here);
    }

    fn files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("fixture folder") {
            let path = entry.expect("fixture entry").path();
            if path.is_dir() {
                files(&path, found);
            } else if path.extension().is_some_and(|e| e == "json") {
                found.push(path);
            }
        }
    }

    #[test]
    fn the_checker_decides_as_the_decoder_on_every_fixture_and_its_mutants() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut found = Vec::new();
        files(&root.join("fixtures"), &mut found);
        files(&root.join("tools/data"), &mut found);
        found.sort();
        let replacements: Vec<Value> = serde_json::from_str(
            r#"[null, true, 0, -1, 1.5, 1.0, -0.0, 18446744073709551616, "", "x",
                "Cyber", "2.D.V08", "2.D.V04", "7ec4adc2-7b0e-4846-afa6-f15cc0e6f2cb",
                "192.0.2.1", "2025-05-19T22:41:08Z", [], ["x"], [1], {}, {"Name": "x"}]"#,
        )
        .expect("replacements");
        let (mut valid, mut mutants, mut valid_mutants) = (0, 0, 0);
        for (f, path) in found.iter().enumerate() {
            let bytes = std::fs::read(path).expect("fixture");
            let what = path.display().to_string();
            if !agree(&bytes, &what) {
                continue;
            }
            valid += 1;
            let Ok(value) = serde_json::from_slice::<Value>(&bytes) else {
                continue;
            };
            let mut all = Vec::new();
            pointers(&value, String::new(), &mut all);
            // Inside attachment content both read the same free JSON with
            // the same code: the content as a whole is mutated, not its
            // inner values.
            all.retain(|p| {
                let mut segments = p.split('/');
                !(segments.nth(1) == Some("Attachment")
                    && segments.nth(1) == Some("Content")
                    && segments.next().is_some())
            });
            for (p, at) in all.iter().enumerate() {
                let mut changes = vec![
                    Change::Drop,
                    Change::Repeat,
                    Change::Unknown,
                    Change::Escape,
                ];
                changes.extend(replacements.iter().map(Change::Replace));
                // One fifth of the (place, change) pairs, a different fifth
                // for each file, to keep the test quick in a debug build.
                for (c, change) in changes.into_iter().enumerate() {
                    if (f + p * 7 + c) % 5 != 0 {
                        continue;
                    }
                    let mut out = String::new();
                    write(&value, "", at, change, &mut out);
                    mutants += 1;
                    if agree(out.as_bytes(), &format!("{what} at {at:?}")) {
                        valid_mutants += 1;
                    }
                }
            }
        }
        // The fixtures hold valid messages and the mutants both kinds.
        eprintln!("{valid} valid, {mutants} mutants, {valid_mutants} valid mutants");
        assert!(valid >= 35, "{valid} valid fixtures");
        assert!(mutants > 5_000, "{mutants} mutants");
        assert!(valid_mutants > 1_000 && valid_mutants < mutants / 2);
    }

    #[test]
    fn broken_input_is_refused_by_the_checker_too() {
        let typical =
            std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/data/typical.json"))
                .expect("typical");
        assert!(agree(&typical, "typical"));
        for cut in [1, 10, 100, typical.len() / 2, typical.len() - 1] {
            agree(&typical[..cut], "a cut message");
        }
        let mut trailing = typical.clone();
        trailing.extend_from_slice(b" {}");
        assert!(!agree(&trailing, "trailing data"));
        let mut latin1 = typical.clone();
        let at = latin1
            .windows(9)
            .position(|w| w == b"Logistics")
            .expect("a text");
        latin1[at] = 0xC9;
        assert!(!agree(&latin1, "invalid UTF-8 in a text"));
    }
}

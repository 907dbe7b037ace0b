//! Every fixture behaves as it states: valid ones decode, validate and
//! re-encode to the same JSON value, and pass the strict checks unless
//! `fixtures/valid/NOT-STRICT.tsv` lists their failures; invalid ones are
//! refused by typed decoding and by validation, at the JSON pointer listed
//! in EXPECTED.tsv.

use std::{fs, path::Path};

use idmefv2::{Error, Message};
use idmefv2_tools::fixtures::read as fixtures;
use serde_json::Value;

fn pointers(e: &Error) -> Vec<String> {
    e.violations()
        .iter()
        .map(|v| v.pointer().to_string())
        .collect()
}

#[test]
fn valid_fixtures_round_trip_unchanged() {
    let all = fixtures("valid");
    assert!(all.len() >= 20, "only {} valid fixtures", all.len());
    for (name, bytes) in all {
        let original: Value = serde_json::from_slice(&bytes).expect(&name);
        idmefv2::validate(&original).unwrap_or_else(|e| panic!("{name}: {e}"));
        let message = Message::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        message.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            message.to_value(),
            original,
            "{name}: round trip changed it"
        );
        let again: Value = serde_json::from_slice(&message.to_vec()).expect(&name);
        assert_eq!(again, original, "{name}: encoded bytes differ");
        // Member order is kept too (attachment content needs serde_json's
        // preserve_order), so the pretty form is the fixture's own text.
        #[cfg(feature = "preserve_order")]
        assert_eq!(
            message.to_string_pretty().trim_end(),
            String::from_utf8_lossy(&bytes).trim_end(),
            "{name}: pretty re-encoding differs from the file"
        );
        assert_eq!(
            message.version.as_str(),
            original["Version"].as_str().unwrap(),
            "{name}"
        );
    }
}

/// The rows of a fixture table (`#` starts a comment line), split at tabs.
fn table(path: &str) -> Vec<Vec<String>> {
    let text = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// Which valid fixtures pass `validate_strict`, and how the others fail:
/// exactly the (pointer, rule) pairs of `NOT-STRICT.tsv`.
#[test]
fn valid_fixtures_are_strict_valid_unless_listed() {
    let listed = table("fixtures/valid/NOT-STRICT.tsv");
    let all = fixtures("valid");
    for row in &listed {
        assert!(
            all.iter().any(|(name, _)| *name == row[0]),
            "NOT-STRICT.tsv names {}, which is not a valid fixture",
            row[0]
        );
    }
    let mut strict_valid = 0;
    for (name, bytes) in all {
        let message = Message::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut expected: Vec<(String, String)> = listed
            .iter()
            .filter(|row| row[0] == name)
            .map(|row| (row[1].clone(), row[2].clone()))
            .collect();
        let mut found: Vec<(String, String)> = match message.validate_strict() {
            Ok(()) => Vec::new(),
            Err(e) => e
                .violations()
                .iter()
                .map(|v| (v.pointer().to_string(), v.keyword().to_string()))
                .collect(),
        };
        expected.sort();
        found.sort();
        assert_eq!(found, expected, "{name}: strict failures");
        strict_valid += usize::from(found.is_empty());
    }
    assert!(
        strict_valid >= 25,
        "only {strict_valid} strict-valid fixtures"
    );
}

#[test]
fn invalid_fixtures_are_refused_where_stated() {
    let rows = table("fixtures/invalid/EXPECTED.tsv");
    let expected: Vec<(&str, &str)> = rows
        .iter()
        .map(|row| {
            (
                row[0].as_str(),
                row.get(1).expect("pointer column").as_str(),
            )
        })
        .collect();
    let all = fixtures("invalid");
    assert!(all.len() >= 40, "only {} invalid fixtures", all.len());
    assert_eq!(all.len(), expected.len(), "EXPECTED.tsv and files differ");
    for (name, bytes) in all {
        let (_, pointer) = expected
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{name} is not in EXPECTED.tsv"));
        let error = match Message::from_slice(&bytes) {
            Ok(_) => panic!("{name}: typed decoding accepted it"),
            Err(e) => e,
        };
        if let Some(line) = pointer.strip_prefix("line:") {
            let Error::Syntax { line: got, .. } = error else {
                panic!("{name}: expected a syntax error, got {error:?}")
            };
            assert_eq!(got.to_string(), line, "{name}: syntax error line");
            continue;
        }
        assert!(
            pointers(&error).iter().any(|p| p == pointer),
            "{name}: decoding reported {:?}, expected {pointer:?}",
            pointers(&error)
        );
        if matches!(error, Error::DuplicateKey { .. }) {
            continue;
        }
        let value: Value = serde_json::from_slice(&bytes).expect(&name);
        let error = idmefv2::validate(&value).expect_err(&name);
        assert!(
            pointers(&error).iter().any(|p| p == pointer),
            "{name}: validation reported {:?}, expected {pointer:?}",
            pointers(&error)
        );
    }
}

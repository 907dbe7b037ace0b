//! Every fixture behaves as it states: valid ones decode, validate and
//! re-encode to the same JSON value; invalid ones are refused by typed
//! decoding and by validation, at the JSON pointer listed in EXPECTED.tsv.

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

#[test]
fn invalid_fixtures_are_refused_where_stated() {
    let table = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/invalid/EXPECTED.tsv"),
    )
    .expect("EXPECTED.tsv");
    let expected: Vec<(&str, &str)> = table
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut cols = l.split('\t');
            (cols.next().unwrap(), cols.next().expect("pointer column"))
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

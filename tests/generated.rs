//! The code `build/` generates from `schema/` is kept under version control
//! in `tests/golden/`, so that a change to the schema, to the generator or
//! to typify shows up as a reviewable diff: the model (`model.rs`), the
//! table of classes and attributes that IDMEF paths and strict checks read
//! (`table.rs`), and the drafts found in `schema/` (`drafts.rs`).
//!
//! After an intended change, refresh the copies with
//! `UPDATE_GOLDEN=1 cargo test --test generated`.

use std::{fs, path::Path};

/// Compares one generated file with its reviewed copy (or refreshes it).
fn matches_golden(name: &str, generated: &str) {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.golden"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::write(&golden, generated).expect("write golden copy");
    }
    let reviewed = fs::read_to_string(&golden).unwrap_or_default();
    if reviewed != generated {
        let line = reviewed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| reviewed.lines().count().min(generated.lines().count()));
        panic!(
            "generated {name} differs from tests/golden/{name}.golden from line {}; \
             review and refresh with UPDATE_GOLDEN=1 cargo test --test generated",
            line + 1
        );
    }
}

#[test]
fn generated_model_matches_the_reviewed_copy() {
    matches_golden(
        "model.rs",
        include_str!(concat!(env!("OUT_DIR"), "/model.rs")),
    );
}

#[test]
fn generated_path_table_matches_the_reviewed_copy() {
    matches_golden(
        "table.rs",
        include_str!(concat!(env!("OUT_DIR"), "/table.rs")),
    );
}

#[test]
fn generated_drafts_match_the_reviewed_copy() {
    matches_golden(
        "drafts.rs",
        include_str!(concat!(env!("OUT_DIR"), "/drafts.rs")),
    );
}

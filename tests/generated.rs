//! The code build.rs generates from `schema/` is kept under version control
//! in `tests/golden/model.rs.golden`, so that a change to the schema, to
//! build.rs or to typify shows up as a reviewable diff of the model.
//!
//! After an intended change, refresh the copy with
//! `UPDATE_GOLDEN=1 cargo test --test generated`.

use std::{fs, path::Path};

const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/model.rs"));

#[test]
fn generated_model_matches_the_reviewed_copy() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/model.rs.golden");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::write(&golden, GENERATED).expect("write golden copy");
    }
    let reviewed = fs::read_to_string(&golden).unwrap_or_default();
    if reviewed != GENERATED {
        let line = reviewed
            .lines()
            .zip(GENERATED.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| reviewed.lines().count().min(GENERATED.lines().count()));
        panic!(
            "generated model differs from tests/golden/model.rs.golden from line {}; \
             review and refresh with UPDATE_GOLDEN=1 cargo test --test generated",
            line + 1
        );
    }
}

//! `2.D.V05` → `2.D.V06`: `Confidence` bounded to 0..=1.

use serde_json::{Map, Value};

use super::step::Change;
use super::{Changes, NoteKind};

/// The step, for the table in `mod.rs`.
pub(super) const STEP: Changes = Changes { apply, maps: &[] };

fn apply(change: &mut Change<'_>, m: &mut Map<String, Value>) {
    let out_of_range = m
        .get("Confidence")
        .and_then(Value::as_f64)
        .is_some_and(|c| !(0.0..=1.0).contains(&c));
    if !out_of_range {
        return;
    }
    let reason = format!(
        "{} bounds Confidence to 0..1; this one is outside",
        change.draft_named()
    );
    let noted = change.note(NoteKind::Dropped, "/Confidence", reason);
    if let Some(value) = m.remove("Confidence") {
        noted.value(value);
    }
}

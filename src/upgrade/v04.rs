//! `2.D.V03` → `2.D.V04`: `Entity` split, analyzer rules now applied.

use serde_json::{Map, Value};

use super::step::Change;
use super::{Changes, NoteKind};
use crate::{json, validate};

/// Stand-ins for the members a probe message needs, valid in every draft.
const PROBE_ID: &str = "00000000-0000-4000-8000-000000000000";
const PROBE_TIME: &str = "2000-01-01T00:00:00Z";

/// The step, for the table in `mod.rs`.
pub(super) const STEP: Changes = Changes { apply, maps: &[] };

fn apply(change: &mut Change<'_>, m: &mut Map<String, Value>) {
    if let Some(entity) = m.remove("Entity") {
        m.insert("EntityName".into(), entity.clone());
        let reason = format!(
            "{} splits `Entity` into `EntityName` and `EntityId`; the text is the entity's name",
            change.draft_named()
        );
        change
            .note(NoteKind::Renamed, "/Entity", reason)
            .value(entity)
            .moved_to("/EntityName");
    }
    check_loose_analyzer(change, m);
}

/// The analyzer of `2.D.V02` and `2.D.V03` was never checked (its rules sat
/// under `items`, which does not apply to an object): keep the members
/// that meet the rules of the draft reached, report the rest. With repair
/// on, the texts those rules want as lists are made lists first.
fn check_loose_analyzer(change: &mut Change<'_>, m: &mut Map<String, Value>) {
    // The checks now applied may want lists where the sender wrote texts.
    if let Some(analyzer) = m.get_mut("Analyzer") {
        change.repair("Analyzer", analyzer, "/Analyzer");
    }
    let Some(Value::Object(analyzer)) = m.get_mut("Analyzer") else {
        return;
    };
    let members = change.reached().members("Analyzer");
    // Sorted, so that the report does not depend on map order.
    let mut unknown: Vec<String> = analyzer
        .keys()
        .filter(|k| !members.contains(&k.as_str()))
        .cloned()
        .collect();
    unknown.sort();
    let mut dropped: Vec<(String, Value, &str)> = Vec::new();
    for name in unknown {
        let value = analyzer.remove(&name).unwrap_or(Value::Null);
        dropped.push((name, value, "is not part of the class"));
    }
    let probe = serde_json::json!({
        "Version": change.reached().as_str(),
        "ID": PROBE_ID,
        "CreateTime": PROBE_TIME,
        "Analyzer": Value::Object(analyzer.clone()),
    });
    if let Err(e) = validate(&probe) {
        let mut bad: Vec<String> = e
            .violations()
            .iter()
            .filter_map(|v| v.pointer().strip_prefix("/Analyzer/"))
            .map(|rest| json::unescape_segment(rest.split('/').next().unwrap_or_default()))
            .collect();
        bad.sort();
        bad.dedup();
        for name in bad {
            if let Some(value) = analyzer.remove(&name) {
                dropped.push((name, value, "breaks the rules set for it"));
            }
        }
    }
    for (name, value, why) in dropped {
        let reason = format!(
            "2.D.V02 and 2.D.V03 did not check analyzer members; {} does, and this one {why}",
            change.draft_named()
        );
        change
            .note(
                NoteKind::Dropped,
                format!("/Analyzer/{}", json::escape_segment(&name)),
                reason,
            )
            .value(value);
    }
}

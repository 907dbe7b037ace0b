//! The steps held to the schemas, and the module docs held to the steps.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{carry, step_to, Step};
use crate::{validate, Draft};

fn schema(draft: Draft) -> Value {
    serde_json::from_str(draft.schema()).unwrap()
}

/// The values of the value list `definition` in `draft`'s schema.
fn values(draft: Draft, definition: &str) -> Vec<String> {
    schema(draft)["definitions"][definition]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{draft}: {definition} is not a value list"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn previous(draft: Draft) -> Option<Draft> {
    let at = Draft::ALL.iter().position(|d| *d == draft)?;
    at.checked_sub(1).map(|i| Draft::ALL[i])
}

/// A schema without what differs between drafts of the same structure.
fn structure(draft: Draft) -> Value {
    let mut schema = schema(draft);
    let root = schema.as_object_mut().unwrap();
    root.remove("description");
    root["definitions"]
        .as_object_mut()
        .unwrap()
        .remove("Version");
    schema
}

#[test]
fn only_the_first_draft_has_no_step_before_it() {
    for draft in Draft::ALL {
        let first = matches!(step_to(draft), Step::First);
        assert_eq!(first, previous(draft).is_none(), "{draft}");
    }
}

#[test]
fn version_only_steps_change_only_version_and_the_others_change_more() {
    for draft in Draft::ALL {
        let Some(before) = previous(draft) else {
            continue;
        };
        let same = structure(before) == structure(draft);
        match step_to(draft) {
            Step::VersionOnly => assert!(same, "{before} to {draft} changes more than Version"),
            Step::Changes(_) => assert!(!same, "{before} to {draft} changes only Version"),
            Step::First => unreachable!("checked above"),
        }
    }
}

/// Every rename goes from a value the previous draft lists to one the
/// reached draft lists; a list without an extension has a rename for
/// every value the step retires, so that a valid message always carries
/// forward.
#[test]
fn value_maps_agree_with_the_schemas() {
    let mut maps = 0;
    for draft in Draft::ALL {
        let Step::Changes(changes) = step_to(draft) else {
            continue;
        };
        let before = previous(draft).unwrap();
        for map in changes.maps {
            maps += 1;
            let (old, new) = (
                values(before, map.definition),
                values(draft, map.definition),
            );
            for (from, to) in map.renames {
                assert!(
                    old.contains(&from.to_string()),
                    "{draft}: {from} was not listed"
                );
                assert!(
                    !new.contains(&from.to_string()),
                    "{draft}: {from} is still listed"
                );
                assert!(new.contains(&to.to_string()), "{draft}: {to} is not listed");
                assert!(
                    draft.retired(map.definition).contains(from),
                    "{draft}: {from}"
                );
            }
            match &map.extension {
                Some(ext) => assert!(
                    new.contains(&ext.entry.to_string()),
                    "{draft}: {}",
                    ext.entry
                ),
                None => {
                    for value in old.iter().filter(|v| !new.contains(v)) {
                        assert!(
                            map.renames.iter().any(|(from, _)| from == value),
                            "{draft}: {value} is retired without a rename or an extension"
                        );
                    }
                }
            }
        }
    }
    assert_eq!(maps, 5);
}

#[test]
fn members_and_retired_values_come_from_the_schemas() {
    let analyzer: Vec<String> = schema(Draft::V04)["definitions"]["Analyzer"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(Draft::V04.members("Analyzer"), analyzer);
    let old = values(Draft::V06, "AnalyzerData");
    let new = values(Draft::V07, "AnalyzerData");
    let gone: Vec<&String> = old.iter().filter(|v| !new.contains(v)).collect();
    assert_eq!(Draft::V07.retired("AnalyzerData"), gone);
    assert!(Draft::V07.retired("Priority").is_empty());
}

/// The rename tables in the module docs: for each section `## A → B`, the
/// rows of two code cells (one rename each).
fn documented_renames() -> Vec<(String, BTreeSet<(String, String)>)> {
    let mut sections: Vec<(String, BTreeSet<(String, String)>)> = Vec::new();
    for line in include_str!("mod.rs").lines() {
        let Some(doc) = line.strip_prefix("//!") else {
            continue;
        };
        let doc = doc.trim();
        if let Some(heading) = doc.strip_prefix("## ") {
            let to = heading.rsplit('`').nth(1).unwrap_or_default().to_string();
            sections.push((to, BTreeSet::new()));
            continue;
        }
        let cells: Vec<&str> = doc
            .strip_prefix('|')
            .and_then(|d| d.strip_suffix('|'))
            .map(|d| d.split('|').map(str::trim).collect())
            .unwrap_or_default();
        let code = |cell: &str| {
            cell.strip_prefix('`')
                .and_then(|c| c.strip_suffix('`'))
                .filter(|c| !c.contains('`'))
                .map(str::to_string)
        };
        if let ([a, b], Some((_, renames))) = (cells.as_slice(), sections.last_mut()) {
            if let (Some(a), Some(b)) = (code(a), code(b)) {
                // The header row names the two drafts.
                if !a.starts_with("2.D.") {
                    renames.insert((a, b));
                }
            }
        }
    }
    sections
}

#[test]
fn doc_tables_list_exactly_the_renames_of_each_step() {
    let documented = documented_renames();
    let mut compared = 0;
    for draft in Draft::ALL.into_iter().skip(1) {
        let (_, in_docs) = documented
            .iter()
            .find(|(to, _)| to == draft.as_str())
            .unwrap_or_else(|| panic!("the module docs have no section for {draft}"));
        let in_data: BTreeSet<(String, String)> = match step_to(draft) {
            Step::Changes(changes) => changes
                .maps
                .iter()
                .flat_map(|m| m.renames.iter())
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            _ => BTreeSet::new(),
        };
        assert_eq!(in_docs, &in_data, "the docs' rename tables for {draft}");
        compared += in_data.len();
    }
    assert_eq!(compared, 86);
}

/// Every fixture of every draft, after each step, validates against the
/// schema of the draft that step reaches (the intermediate drafts
/// included), as long as the message carries what the intermediate
/// drafts require.
#[test]
fn every_step_reaches_a_valid_message_of_its_draft() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/drafts/valid");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let from: Draft = value["Version"].as_str().unwrap().parse().unwrap();
        for draft in Draft::ALL.into_iter().filter(|d| *d >= from) {
            let (out, _, _) = carry(&value, draft, false).unwrap();
            // 2.D.V04 and 2.D.V05 require the analyzer's IP, which the
            // loose analyzers of 2.D.V02/V03 may lack.
            let needs_ip =
                matches!(draft, Draft::V04 | Draft::V05) && out["Analyzer"].get("IP").is_none();
            if !needs_ip {
                validate(&out).unwrap_or_else(|e| panic!("{} to {draft}: {e}", path.display()));
                seen += 1;
            }
        }
    }
    assert!(seen > 30, "only {seen} checks");
}

/// The places repair looks at come from each draft's own schema: the lists
/// of texts deployed senders are known to write as one text are among
/// them, in the drafts that have them, and a place is added or gone where
/// a draft changed a member between text and list.
#[test]
fn repair_places_are_read_from_each_schema() {
    let places = |draft: Draft| super::repair::places(draft);
    for draft in Draft::ALL {
        let found = places(draft);
        assert!(found.iter().any(|p| p == "/Category"), "{draft}: {found:?}");
        // The analyzer of 2.D.V02 and 2.D.V03 is not checked at all (its
        // rules sit under `items`), so nothing in it is repaired by those
        // drafts' rules; the 2.D.V04 step applies its own.
        for member in ["/Analyzer/Category", "/Analyzer/Data", "/Analyzer/Method"] {
            let checked = draft >= Draft::V04;
            assert_eq!(
                found.iter().any(|p| p == member),
                checked,
                "{draft}: {member}"
            );
        }
        // Every list of texts of the schema, at any depth.
        assert!(
            found.iter().any(|p| p == "/Source/*/Protocol"),
            "{draft}: {found:?}"
        );
        assert!(
            found.iter().any(|p| p == "/Attachment/*/Hash"),
            "{draft}: {found:?}"
        );
        // Lists of numbers and of classes are not texts.
        assert!(
            !found.iter().any(|p| p.ends_with("/Port") || p == "/Source"),
            "{draft}"
        );
        let status_is_a_list = draft >= Draft::V08Dev;
        assert_eq!(
            found.iter().any(|p| p == "/Status"),
            status_is_a_list,
            "{draft}"
        );
        let analyzer_type = matches!(draft, Draft::V04 | Draft::V05 | Draft::V06);
        assert_eq!(
            found.iter().any(|p| p == "/Analyzer/Type"),
            analyzer_type,
            "{draft}: {found:?}"
        );
        assert_eq!(
            found.iter().any(|p| p == "/Type"),
            draft >= Draft::V07,
            "{draft}"
        );
        assert_eq!(
            found.iter().any(|p| p == "/ext-Category"),
            draft >= Draft::V07,
            "{draft}"
        );
    }
}

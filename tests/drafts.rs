//! Older drafts (`2.D.V02` to `2.D.V07`): each message is judged by its own
//! draft's schema, decoding points to the upgrade, and the upgrade gives a
//! valid `2.D.V08` message with an exact report of what it changed.
//!
//! `fixtures/drafts/valid` holds valid messages of every older draft,
//! `fixtures/drafts/invalid` refused ones (with `EXPECTED.tsv`), and
//! `fixtures/drafts/upgraded` the expected upgrade of each valid one:
//! `{"from", "message", "report"}`, with `"<invented>"` standing for each
//! identifier the upgrade makes up. `fixtures/drafts/repair` holds messages
//! that need the upgrade's repair (single texts where lists are wanted),
//! and `fixtures/drafts/repaired` their expected upgrade with repair on.

use std::{collections::BTreeMap, fs, path::Path};

use idmefv2::{
    upgrade::{self, NoteKind, UpgradeNote},
    Draft, Error, Limits, Message, Version,
};
use serde_json::{json, Value};

fn dir(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/drafts")
        .join(name)
}

fn fixtures(name: &str) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, fs::read(&p).expect("read fixture"))
        })
        .collect()
}

fn value(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("fixture is JSON")
}

/// Which drafts accept each valid fixture once its `Version` is changed to
/// theirs: the older drafts listed, and the typed model's drafts when the
/// flag says so (every draft of [`Version::ALL`], so that a later draft of
/// the same structure needs no entry here). Where drafts differ on a member
/// the fixture uses, the others refuse it.
const ACCEPTED_BY: [(&str, &[&str], bool); 13] = [
    // `Entity` is gone from 2.D.V04; an unknown analyzer member passes only
    // the unchecked analyzers of 2.D.V02/V03.
    ("v02-full", &["2.D.V02", "2.D.V03"], false),
    ("v02-loose-analyzer", &["2.D.V02", "2.D.V03"], false),
    // No analyzer IP (required by V04/V05) and no analyzer ID (required
    // by V07).
    ("v02-minimal", &["2.D.V02", "2.D.V03", "2.D.V06"], true),
    ("v03-analyzer-without-ip", &["2.D.V02", "2.D.V03"], false),
    ("v03-minimal", &["2.D.V02", "2.D.V03", "2.D.V06"], true),
    // Organisation members are new in V04; Vector, analyzer Type and
    // ext-* texts are gone in V07.
    ("v04-converter", &["2.D.V04", "2.D.V05", "2.D.V06"], false),
    (
        "v04-minimal",
        &["2.D.V02", "2.D.V03", "2.D.V04", "2.D.V05", "2.D.V06"],
        true,
    ),
    // Confidence above 1 is refused from V06 on.
    (
        "v05-confidence-out-of-range",
        &["2.D.V02", "2.D.V03", "2.D.V04", "2.D.V05"],
        false,
    ),
    (
        "v05-minimal",
        &["2.D.V02", "2.D.V03", "2.D.V04", "2.D.V05", "2.D.V06"],
        true,
    ),
    // Sensor IDs are new in V06 and Vector is gone in V07.
    ("v06-ids-and-vectors", &["2.D.V06"], false),
    ("v06-minimal", &["2.D.V02", "2.D.V03", "2.D.V06"], true),
    (
        "v07-minimal",
        &["2.D.V02", "2.D.V03", "2.D.V06", "2.D.V07"],
        true,
    ),
    // Status as text, the old spellings and EntitySector: V07 only.
    ("v07-status-and-sectors", &["2.D.V07"], false),
];

/// Every file in `schema/` but the value docs is a supported draft, and
/// nothing else is.
#[test]
fn every_draft_is_supported() {
    let mut files: Vec<String> = fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("schema"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "value-docs.json")
        .map(|name| {
            name.trim_start_matches("idmefv2-")
                .trim_end_matches(".json")
                .to_string()
        })
        .collect();
    files.sort();
    let mut supported = idmefv2::supported_versions();
    supported.sort_unstable();
    assert_eq!(supported, files);
    assert!(files.len() >= 8, "{files:?}");
    for draft in Draft::ALL {
        let schema: Value = serde_json::from_str(draft.schema()).unwrap();
        assert_eq!(
            schema["definitions"]["Version"]["enum"],
            json!([draft.as_str()])
        );
        assert_eq!(idmefv2::schema(draft.as_str()), Some(draft.schema()));
    }
    // The typed model holds the newest drafts: the latest stable one, the
    // development name it was published under before it, and later ones.
    let typed: Vec<Draft> = Version::ALL.iter().map(|v| v.draft()).collect();
    assert_eq!(typed, Draft::ALL[Draft::ALL.len() - typed.len()..]);
    let latest = Version::LATEST.draft();
    let before: Vec<&str> = typed
        .iter()
        .take_while(|d| **d < latest)
        .map(|d| d.as_str())
        .collect();
    assert_eq!(before, [format!("{latest}-Dev")]);
    assert_eq!(Version::default(), Version::LATEST);
    for draft in Draft::ALL {
        assert_eq!(
            draft.version().map(Version::draft),
            typed.contains(&draft).then_some(draft)
        );
    }
}

#[test]
fn valid_messages_are_accepted_by_their_draft_and_refused_where_drafts_differ() {
    let all = fixtures("valid");
    assert_eq!(
        all.keys().map(String::as_str).collect::<Vec<_>>(),
        ACCEPTED_BY.iter().map(|(n, _, _)| *n).collect::<Vec<_>>()
    );
    for (name, older, typed) in ACCEPTED_BY {
        let mut accepted = older.to_vec();
        if typed {
            accepted.extend(Version::ALL.iter().map(|v| v.as_str()));
        }
        let original = value(&all[name]);
        let own = original["Version"].as_str().unwrap();
        assert!(accepted.contains(&own), "{name}");
        let found: Vec<&str> = idmefv2::supported_versions()
            .into_iter()
            .filter(|draft| {
                let mut relabelled = original.clone();
                relabelled["Version"] = json!(draft);
                idmefv2::validate(&relabelled).is_ok()
            })
            .collect();
        assert_eq!(found, accepted, "{name}");
    }
}

#[test]
fn invalid_messages_are_refused_at_the_stated_pointer() {
    let all = fixtures("invalid");
    let table = fs::read_to_string(dir("invalid").join("EXPECTED.tsv")).unwrap();
    let mut listed = Vec::new();
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let mut cols = line.split('\t');
        let (name, pointer, keyword) = (
            cols.next().unwrap(),
            cols.next().unwrap(),
            cols.next().unwrap(),
        );
        listed.push(name);
        let bytes = &all[name];
        let check = |e: Error| {
            let got: Vec<(String, String)> = e
                .violations()
                .iter()
                .map(|v| (v.pointer().to_string(), v.keyword().to_string()))
                .collect();
            assert_eq!(
                got,
                [(pointer.to_string(), keyword.to_string())],
                "{name}: {e}"
            );
        };
        check(idmefv2::validate(&value(bytes)).unwrap_err());
        check(idmefv2::validate_slice(bytes, &Limits::default()).unwrap_err());
        check(Message::from_slice(bytes).unwrap_err());
        check(upgrade::upgrade_latest(&value(bytes)).unwrap_err());
    }
    assert_eq!(listed, all.keys().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn older_drafts_validate_as_bytes_and_point_typed_decoding_to_the_upgrade() {
    for (name, bytes) in fixtures("valid") {
        idmefv2::validate_slice(&bytes, &Limits::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let version = value(&bytes)["Version"].as_str().unwrap().to_string();
        let error = Message::from_slice(&bytes).unwrap_err();
        assert_eq!(
            error,
            Error::OlderDraft {
                version: version.clone()
            },
            "{name}"
        );
        let text = error.to_string();
        assert!(
            text.contains(&version) && text.contains("upgrade it first"),
            "{text}"
        );
        let violations = error.violations();
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].pointer(), "/Version");
    }
    // The typed fast path still serves the current drafts.
    for file in ["minimal.json", "minimal-v09-dev.json"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/valid")
            .join(file);
        let bytes = fs::read(&path).expect("current fixture");
        idmefv2::validate_slice(&bytes, &Limits::default()).unwrap();
        Message::from_slice(&bytes).unwrap();
    }
}

/// The report of an upgrade in the form of the expected files.
fn report_json(report: &[UpgradeNote]) -> Vec<Value> {
    report
        .iter()
        .map(|n| {
            let value = if n.kind == NoteKind::Invented {
                json!("<invented>")
            } else {
                n.value
                    .clone()
                    .expect("every note but invented ones holds a value")
            };
            json!({"pointer": n.pointer, "kind": n.kind.to_string(), "draft": n.draft,
                   "reason": n.reason, "value": value, "moved_to": n.moved_to})
        })
        .collect()
}

/// Upgrades each fixture of `inputs` with `options` and holds the result
/// to its counterpart in `expected` (same file names): the message and the
/// report exactly, the invented IDs aside; the same from bytes.
fn check_upgrades(inputs: &str, expected: &str, options: upgrade::Options) -> usize {
    let expected_all = fixtures(expected);
    let inputs = fixtures(inputs);
    assert_eq!(
        expected_all.keys().collect::<Vec<_>>(),
        inputs.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &inputs {
        let original = value(bytes);
        let expected = value(&expected_all[name]);
        let upgraded = options
            .upgrade(&original)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            upgraded.from,
            original["Version"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(expected["from"], upgraded.from, "{name}");
        assert_eq!(upgraded.message.version, Version::V08, "{name}");

        // Valid 2.D.V08, by the schema and by the typed decoder.
        let produced = upgraded.message.to_value();
        idmefv2::validate(&produced).unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = Message::from_slice(&upgraded.message.to_vec()).unwrap();
        assert_eq!(again, upgraded.message, "{name}");

        // The report, exactly.
        assert_eq!(
            Value::Array(report_json(&upgraded.report)),
            expected["report"],
            "{name}"
        );

        // The message, exactly, once the invented IDs are put in place.
        let mut want = expected["message"].clone();
        let mut invented = Vec::new();
        for note in upgraded
            .report
            .iter()
            .filter(|n| n.kind == NoteKind::Invented)
        {
            let id = note.value.clone().unwrap();
            let id_text = id.as_str().unwrap();
            assert!(idmefv2::Id::new(id_text).is_ok(), "{name}: {id_text}");
            assert_eq!(produced.pointer(&note.pointer), Some(&id), "{name}");
            let slot = want.pointer_mut(&note.pointer).unwrap();
            assert_eq!(slot, "<invented>", "{name}");
            *slot = id.clone();
            invented.push(id);
        }
        let count = invented.len();
        invented.sort_by_key(|v| v.to_string());
        invented.dedup();
        assert_eq!(invented.len(), count, "{name}: invented IDs repeat");
        assert_eq!(produced, want, "{name}");

        // Bytes in, same result (the IDs aside).
        let from_bytes = options.upgrade_slice(bytes).unwrap();
        assert_eq!(
            report_json(&from_bytes.report),
            report_json(&upgraded.report)
        );
    }
    inputs.len()
}

#[test]
fn upgrades_give_the_expected_message_and_exact_report() {
    check_upgrades("valid", "upgraded", upgrade::Options::default());
    // The functions of the module are those options with a target.
    for (name, bytes) in fixtures("valid") {
        let by_function = upgrade::upgrade_slice(&bytes, &Limits::default(), Version::V08)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let by_options = upgrade::Options::default().upgrade_slice(&bytes).unwrap();
        assert_eq!(
            report_json(&by_function.report),
            report_json(&by_options.report),
            "{name}"
        );
    }
}

/// Messages shaped like those deployed connectors send (an antivirus, a web
/// application firewall, a network IDS on 2.D.V04; a 2.D.V08 sensor; a
/// loose 2.D.V03 analyzer): single texts where lists are wanted. Repair
/// wraps each and reports it; without repair they are refused, or (the
/// unchecked 2.D.V03 analyzer) lose those members on the way.
#[test]
fn repairs_give_the_expected_message_and_exact_report() {
    let repaired = check_upgrades(
        "repair",
        "repaired",
        upgrade::Options::default().repair(true),
    );
    assert_eq!(repaired, 5);
    for (name, bytes) in fixtures("repair") {
        let original = value(&bytes);
        let with = upgrade::Options::default()
            .repair(true)
            .upgrade(&original)
            .unwrap();
        let mut wrapped: Vec<&str> = with
            .report
            .iter()
            .filter(|n| n.kind == NoteKind::Repaired)
            .map(|n| n.pointer.as_str())
            .collect();
        wrapped.sort_unstable();
        assert!(!wrapped.is_empty(), "{name}");
        for note in with.report.iter().filter(|n| n.kind == NoteKind::Repaired) {
            assert_eq!(
                original.pointer(&note.pointer),
                note.value.as_ref(),
                "{name}"
            );
            assert_eq!(note.moved_to, Some(format!("{}/0", note.pointer)), "{name}");
            assert_eq!(
                note.to_string().split(": ").nth(1),
                Some("repaired"),
                "{name}"
            );
        }
        match upgrade::upgrade_latest(&original) {
            Err(Error::Invalid(violations)) => {
                let mut refused: Vec<&str> = violations.iter().map(|v| v.pointer()).collect();
                refused.sort_unstable();
                assert_eq!(refused, wrapped, "{name}: refused without repair");
            }
            Err(e) => panic!("{name}: {e}"),
            Ok(without) => {
                let mut dropped: Vec<&str> = without
                    .report
                    .iter()
                    .filter(|n| n.kind == NoteKind::Dropped)
                    .map(|n| n.pointer.as_str())
                    .collect();
                dropped.sort_unstable();
                assert_eq!(dropped, wrapped, "{name}: dropped without repair");
            }
        }
    }
    // Repair fixes nothing else: a list of classes given as one object, a
    // wrong value inside a wrapped list.
    let refused = |message: Value| {
        let error = upgrade::Options::default()
            .repair(true)
            .upgrade(&message)
            .unwrap_err();
        error
            .violations()
            .iter()
            .map(|v| v.pointer().to_string())
            .collect::<Vec<_>>()
    };
    let base = value(&fixtures("repair")["v08-status-and-type-texts"]);
    let mut one_source = base.clone();
    one_source["Source"] = base["Source"][0].clone();
    assert_eq!(refused(one_source), ["/Source"]);
    let mut bad_status = base.clone();
    bad_status["Status"] = json!("Solved");
    assert_eq!(refused(bad_status), ["/Status/0"]);
}

/// A fixture, a draft step, and the notes that step must leave.
type Coverage = (
    &'static str,
    &'static str,
    &'static [(&'static str, NoteKind)],
);

/// For each draft step: one fixture whose report shows every field that
/// step changes.
#[test]
fn each_step_is_covered_by_one_message() {
    let steps: [Coverage; 4] = [
        (
            "v02-full",
            "2.D.V04",
            &[
                ("/Entity", NoteKind::Renamed),
                ("/Analyzer/Vendor", NoteKind::Dropped),
            ],
        ),
        (
            "v05-confidence-out-of-range",
            "2.D.V06",
            &[("/Confidence", NoteKind::Dropped)],
        ),
        (
            "v02-full",
            "2.D.V07",
            &[
                ("/ext-Category", NoteKind::Restructured),
                ("/Analyzer/ext-Category", NoteKind::Restructured),
                ("/Analyzer/ext-Data", NoteKind::Restructured),
                ("/Analyzer/ext-Method", NoteKind::Restructured),
                ("/Analyzer/Type", NoteKind::Restructured),
                ("/Vector", NoteKind::Dropped),
                ("/Category/0", NoteKind::Extended),
                ("/Category/2", NoteKind::Renamed),
                ("/Analyzer/Category/0", NoteKind::Renamed),
                ("/Analyzer/Category/1", NoteKind::Extended),
                ("/Analyzer/Data/0", NoteKind::Renamed),
                ("/Analyzer/Data/1", NoteKind::Extended),
                ("/Source/0/ID", NoteKind::Invented),
                ("/Target/0/ID", NoteKind::Invented),
            ],
        ),
        (
            "v07-status-and-sectors",
            "2.D.V08",
            &[
                ("/Status", NoteKind::Restructured),
                ("/Category/0", NoteKind::Renamed),
                ("/EntitySector/0", NoteKind::Renamed),
            ],
        ),
    ];
    let valid = fixtures("valid");
    for (name, draft, wanted) in steps {
        let upgraded = upgrade::upgrade_latest(&value(&valid[name])).unwrap();
        let got: Vec<(&str, NoteKind)> = upgraded
            .report
            .iter()
            .filter(|n| n.draft == draft)
            .map(|n| (n.pointer.as_str(), n.kind))
            .collect();
        for want in wanted {
            assert!(
                got.contains(want),
                "{name} {draft}: {want:?} not in {got:?}"
            );
        }
    }
}

#[test]
fn current_drafts_pass_through_and_never_go_back() {
    let v08 = json!({"Version": "2.D.V08", "ID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
                     "CreateTime": "2025-01-01T00:00:00Z", "Status": ["Open"],
                     "Analyzer": {"Name": "a"}});
    let same = upgrade::upgrade_latest(&v08).unwrap();
    assert!(same.report.is_empty());
    assert_eq!(same.from, "2.D.V08");
    assert_eq!(same.message.to_value(), v08);

    let dev = upgrade::upgrade_to(&v08, Version::V09Dev).unwrap();
    assert!(dev.report.is_empty());
    assert_eq!(dev.message.version, Version::V09Dev);
    let mut want = v08.clone();
    want["Version"] = json!("2.D.V09-Dev");
    assert_eq!(dev.message.to_value(), want);

    let error = upgrade::upgrade_latest(&want).unwrap_err();
    assert!(
        matches!(error, Error::Upgrade { to: "2.D.V08", .. }),
        "{error:?}"
    );
    assert_eq!(error.violations()[0].pointer(), "/Version");

    // A 2.D.V04 message straight to 2.D.V09-Dev.
    let v04 = json!({"Version": "2.D.V04", "ID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
                     "CreateTime": "2021-01-01T00:00:00Z", "Status": "Event",
                     "Analyzer": {"Name": "a", "IP": "192.0.2.1"}});
    let dev = upgrade::upgrade_to(&v04, Version::V09Dev).unwrap();
    assert_eq!(dev.message.to_value()["Status"], json!(["Event"]));
    assert_eq!(dev.message.to_value()["Version"], "2.D.V09-Dev");
}

#[test]
fn what_cannot_be_upgraded_is_refused_with_pointers() {
    let base = |analyzer: Value| {
        json!({"Version": "2.D.V02", "ID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
               "CreateTime": "2020-01-01T00:00:00Z", "Analyzer": analyzer})
    };
    // 2.D.V02 accepts any analyzer object; later drafts need a name.
    let error = upgrade::upgrade_latest(&base(json!({}))).unwrap_err();
    let Error::Upgrade {
        from,
        to,
        violations,
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!((from.as_str(), *to), ("2.D.V02", "2.D.V08"));
    let pointers: Vec<&str> = violations.iter().map(|v| v.pointer()).collect();
    assert_eq!(pointers, ["/Analyzer"]);
    assert!(error
        .to_string()
        .contains("cannot upgrade from 2.D.V02 to 2.D.V08"));

    // A name that is not text is dropped (and reported), then missed.
    let error = upgrade::upgrade_latest(&base(json!({"Name": 5}))).unwrap_err();
    assert!(matches!(error, Error::Upgrade { .. }), "{error:?}");

    // Invalid under its own draft: refused before any step.
    let error = upgrade::upgrade_latest(&json!({"Version": "2.D.V04", "Status": 1})).unwrap_err();
    assert!(matches!(error, Error::Invalid(_)), "{error:?}");
    let error = upgrade::upgrade_latest(&json!({"Version": "2.D.V01"})).unwrap_err();
    assert!(
        matches!(error, Error::UnsupportedVersion { .. }),
        "{error:?}"
    );

    // Bytes are read under the limits.
    let error = upgrade::upgrade_slice(
        br#"{"Version": "2.D.V04", "Version": "2.D.V04"}"#,
        &Limits::default(),
        Version::V08,
    )
    .unwrap_err();
    assert!(matches!(error, Error::DuplicateKey { .. }), "{error:?}");
    let error = upgrade::upgrade_slice(b"{}", &Limits::default().with_max_bytes(1), Version::V08)
        .unwrap_err();
    assert!(matches!(error, Error::TooLarge { .. }), "{error:?}");
}

#[test]
fn notes_never_print_the_value() {
    let valid = fixtures("valid");
    let upgraded = upgrade::upgrade_latest(&value(&valid["v05-confidence-out-of-range"])).unwrap();
    let note = &upgraded.report[0];
    assert_eq!(note.value, Some(json!(7.5)));
    let text = note.to_string();
    assert_eq!(
        text,
        "/Confidence: dropped: 2.D.V06 bounds Confidence to 0..1; this one is outside"
    );
}

#[test]
fn the_size_limit_applies_to_the_input_not_to_what_the_upgrade_adds() {
    let pretty = &fixtures("valid")["v03-analyzer-without-ip"];
    let bytes = serde_json::to_vec(&value(pretty)).unwrap();
    let limits = Limits::default().with_max_bytes(bytes.len());
    let upgraded = upgrade::upgrade_slice(&bytes, &limits, Version::V08).unwrap();
    assert!(upgraded.message.to_vec().len() > bytes.len());
}

#[test]
fn upgraded_messages_are_written_in_the_specifications_member_order() {
    let v04 = br#"{"Status": "Event", "Analyzer": {"Name": "ids", "IP": "192.0.2.1"},
        "CreateTime": "2021-05-01T10:00:00Z", "ID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "Version": "2.D.V04"}"#;
    let upgraded = upgrade::upgrade_slice(v04, &idmefv2::Limits::default(), Version::V08).unwrap();
    let text = String::from_utf8(upgraded.message.to_vec()).unwrap();
    assert!(
        text.starts_with(r#"{"Version":"2.D.V08","ID":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","Status":["Event"],"CreateTime":"#),
        "{text}"
    );
}

/// `2.D.V08-Dev`, the name `2.D.V08` was published under before its
/// release (the Graylog plugin sends it): validated by its own schema,
/// decoded into the typed model, and upgraded to `2.D.V08` by its
/// `Version` alone.
#[test]
fn the_development_name_of_v08_is_a_draft_of_its_own() {
    let mut message: Value = serde_json::from_slice(
        &fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/valid/minimal.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(message["Version"], "2.D.V08");
    message["Version"] = json!("2.D.V08-Dev");
    idmefv2::validate(&message).unwrap();
    let bytes = serde_json::to_vec(&message).unwrap();
    let typed = idmefv2::Message::from_slice(&bytes).unwrap();
    assert_eq!(typed.version, Version::V08Dev);
    assert_eq!(typed.version.as_str(), "2.D.V08-Dev");
    let upgraded = idmefv2::upgrade::upgrade_latest(&message).unwrap();
    assert_eq!(upgraded.message.version, Version::V08);
    assert!(upgraded.report.is_empty(), "{:?}", upgraded.report);
    let mut expected = message.clone();
    expected["Version"] = json!("2.D.V08");
    assert_eq!(serde_json::to_value(&upgraded.message).unwrap(), expected);
    // A 2.D.V08 message is not a 2.D.V08-Dev one, nor the other way round.
    let mut other = message.clone();
    other["Version"] = json!("2.D.V08-Devel");
    assert!(idmefv2::validate(&other).is_err());
}

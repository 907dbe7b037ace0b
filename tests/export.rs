//! Exports to OCSF and STIX, checked by third-party validators: every valid
//! fixture (current and older drafts) and generated messages, exported
//! both ways, go through py-ocsf-models' `DetectionFinding` and OASIS's
//! stix2-validator, each in one Python process
//! (`tools/scripts/validate_exports.py`); plus field-by-field checks of
//! the mapping, the refusals, and byte-identical repeats.
#![cfg(feature = "export")]

use std::{io::Write, process::Command};

use idmefv2::{
    export::{self, Format},
    Error, Limits, Message,
};
use idmefv2_tools::{
    gen::{self, Generator, Rng},
    support::python,
};
use serde_json::{json, Value};

/// How many generated messages are tried (those that hold a value neither
/// format can hold are refused and counted apart).
const GENERATED: u64 = 2500;

/// The inputs: (name, bytes) of every valid fixture, then generated ones.
fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<(String, Vec<u8>)> = ["valid", "drafts/valid"]
        .into_iter()
        .flat_map(|dir| {
            idmefv2_tools::fixtures::read(dir)
                .into_iter()
                .map(move |(name, bytes)| (format!("{dir}/{name}"), bytes))
        })
        .collect();
    let mut generators = Generator::all();
    for seed in 0..GENERATED {
        let mut rng = Rng::new(seed);
        let which = rng.below(generators.len());
        let message = generators[which].message(&mut rng);
        all.push((
            format!("generated {seed}"),
            gen::render(&message.value, &mut rng),
        ));
    }
    all
}

/// Runs the validator script on `lines` and gives its summary.
fn validate(kind: &str, lines: &[String]) -> Value {
    let mut file = tempfile::NamedTempFile::new().expect("temporary file");
    for line in lines {
        writeln!(file, "{line}").expect("write");
    }
    let output = Command::new(python::venv())
        .arg(python::script("validate_exports.py"))
        .arg(kind)
        .arg(file.path())
        .output()
        .expect("run the validator script");
    assert!(
        output.status.success(),
        "validate_exports.py {kind}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the script's summary is JSON")
}

#[test]
fn every_export_passes_the_third_party_validators() {
    let limits = Limits::default();
    let mut exported = [Vec::new(), Vec::new()];
    let mut refused = 0usize;
    let mut fixtures_refused = Vec::new();
    for (name, bytes) in inputs() {
        for (i, format) in Format::ALL.into_iter().enumerate() {
            match format.export_slice(&bytes, &limits) {
                Ok(out) => {
                    let again = format.export_slice(&bytes, &limits).expect("exported once");
                    let text = serde_json::to_string(&out.value).expect("JSON");
                    assert_eq!(
                        text,
                        serde_json::to_string(&again.value).expect("JSON"),
                        "{name}: a second {format} export differs"
                    );
                    exported[i].push(text);
                }
                // Values neither format can hold: refused at their pointer.
                Err(Error::Export { pointer, reason }) => {
                    assert!(pointer.starts_with('/'), "{name}: {pointer}: {reason}");
                    refused += 1;
                    if !name.starts_with("generated") {
                        fixtures_refused.push(format!("{format} {name} {pointer}"));
                    }
                }
                Err(e) => panic!("{name}: {format}: {e}"),
            }
        }
    }
    // The fixtures that hold a timestamp with no instant, an IPv4 address
    // with leading zeros or an IPv6 one with a zone index, and only those,
    // are refused, both ways; and for STIX, an EndTime before the StartTime.
    fixtures_refused.sort();
    assert_eq!(
        fixtures_refused,
        [
            "ocsf valid/ipv4-leading-zeros.json /Source/0/IP",
            "ocsf valid/ipv6-compressed-forms.json /Source/2/IP",
            "ocsf valid/timestamp-leap-second.json /CreateTime",
            "ocsf valid/timestamps-without-offset.json /CreateTime",
            // STIX only: an end before the start.
            "stix drafts/valid/v02-full.json /EndTime",
            "stix valid/ipv4-leading-zeros.json /Source/0/IP",
            "stix valid/ipv6-compressed-forms.json /Source/2/IP",
            "stix valid/timestamp-leap-second.json /CreateTime",
            "stix valid/timestamps-without-offset.json /CreateTime",
        ]
    );
    // STIX refuses a few more (file sizes, two digests of one algorithm).
    assert!(exported[1].len() <= exported[0].len());
    for (i, kind) in ["ocsf", "stix"].into_iter().enumerate() {
        assert!(
            exported[i].len() >= 300,
            "{kind}: only {} messages exported",
            exported[i].len()
        );
    }
    for (i, kind) in ["ocsf", "stix"].into_iter().enumerate() {
        let summary = validate(kind, &exported[i]);
        assert_eq!(summary["checked"], exported[i].len(), "{kind}");
        assert_eq!(summary["errors"], json!([]), "{kind}");
        // The "should"s a bundle may break: {103}, on purpose, deterministic
        // (version 5) ids for the incident, identity, observed data and
        // relationships, where STIX recommends random ones; and two that
        // follow from the alert: {272} protocol names (free text in
        // IDMEFv2) outside IANA's list, {301} traffic of which the alert
        // names one port only.
        for warning in summary["warnings"].as_array().expect("warnings") {
            let w = warning.as_str().expect("text");
            assert!(
                ["{103}", "{272}", "{301}"]
                    .iter()
                    .any(|code| w.contains(code)),
                "{kind}: {w}"
            );
        }
        println!(
            "{kind}: {} exports validated, 0 errors; {refused} refusals over both formats",
            exported[i].len()
        );
    }
}

fn full_message() -> Message {
    let bytes = std::fs::read(
        idmefv2_tools::fixtures::repository().join("fixtures/valid/full-every-property.json"),
    )
    .expect("fixture");
    Message::from_slice(&bytes).expect("valid fixture")
}

#[test]
fn ocsf_fields_follow_the_mapping() {
    let text = br#"{"Version":"2.D.V08","ID":"0190a5d2-ac96-774b-bcce-b302099a8057",
        "CreateTime":"2026-03-01T10:00:00.25+01:00","StartTime":"2026-03-01T08:59:00Z",
        "EndTime":"2026-03-01T09:01:00Z","Description":"SSH brute force",
        "Category":["Access.Forced"],"Priority":"High","Confidence":0.87,
        "Analyzer":{"Name":"edge-ids","Model":"Suricata 7","ID":"0190a5d2-ac96-774b-bcce-b302099a8058"},
        "Source":[{"ID":"0190a5d2-ac96-774b-bcce-b302099a8059","IP":"198.51.100.7","Port":[4444]}],
        "Target":[{"ID":"0190a5d2-ac96-774b-bcce-b302099a805a","IP":"2001:DB8::1",
                   "Hostname":"bastion.example.org","Port":[22,2222]}]}"#;
    let f = export::to_ocsf_slice(text, &Limits::default())
        .expect("exported")
        .value;
    let created = 1_772_355_600_250i64; // 2026-03-01T09:00:00.250Z
    let table: &[(&str, Value)] = &[
        ("/class_uid", json!(2004)),
        ("/category_uid", json!(2)),
        ("/activity_id", json!(1)),
        ("/type_uid", json!(200401)),
        ("/metadata/version", json!(export::OCSF_VERSION)),
        ("/time", json!(created)),
        (
            "/finding_info/uid",
            json!("0190a5d2-ac96-774b-bcce-b302099a8057"),
        ),
        ("/finding_info/title", json!("SSH brute force")),
        ("/finding_info/desc", json!("SSH brute force")),
        ("/finding_info/types", json!(["Access.Forced"])),
        ("/finding_info/created_time", json!(created)),
        ("/finding_info/first_seen_time", json!(1_772_355_540_000i64)),
        ("/finding_info/last_seen_time", json!(1_772_355_660_000i64)),
        ("/severity_id", json!(4)),
        ("/confidence_score", json!(87)),
        ("/metadata/product/name", json!("edge-ids")),
        ("/metadata/product/vendor_name", json!("Suricata 7")),
        (
            "/metadata/product/uid",
            json!("0190a5d2-ac96-774b-bcce-b302099a8058"),
        ),
        ("/evidences/0/src_endpoint/ip", json!("198.51.100.7")),
        ("/evidences/0/src_endpoint/port", json!(4444)),
        (
            "/evidences/0/src_endpoint/uid",
            json!("0190a5d2-ac96-774b-bcce-b302099a8059"),
        ),
        ("/evidences/1/dst_endpoint/ip", json!("2001:db8::1")),
        (
            "/evidences/1/dst_endpoint/hostname",
            json!("bastion.example.org"),
        ),
        ("/evidences/1/data/ports", json!([22, 2222])),
        ("/raw_data", json!(String::from_utf8_lossy(text))),
    ];
    for (pointer, want) in table {
        assert_eq!(f.pointer(pointer), Some(want), "{pointer}");
    }
    assert_eq!(f.pointer("/evidences/1/dst_endpoint/port"), None);
    assert_eq!(f["evidences"].as_array().map(Vec::len), Some(2));
}

#[test]
fn severity_follows_priority() {
    let base = json!({"Version":"2.D.V08","ID":"0190a5d2-ac96-774b-bcce-b302099a8057",
        "CreateTime":"2026-03-01T10:00:00Z","Analyzer":{"Name":"a"}});
    let cases = [
        (None, 0),
        (Some("Unknown"), 0),
        (Some("Info"), 1),
        (Some("Low"), 2),
        (Some("Medium"), 3),
        (Some("High"), 4),
    ];
    for (priority, want) in cases {
        let mut m = base.clone();
        if let Some(p) = priority {
            m["Priority"] = json!(p);
        }
        let f = export::to_ocsf_value(&m).expect("exported").value;
        assert_eq!(f["severity_id"], want, "{priority:?}");
        // No description, no category: the analyzer names the finding.
        assert_eq!(f["finding_info"]["title"], "IDMEFv2 alert from a");
    }
}

#[test]
fn stix_bundle_follows_the_mapping() {
    let message = full_message();
    let bundle = export::to_stix(&message).expect("exported");
    assert_eq!(bundle["type"], "bundle");
    let objects = bundle["objects"].as_array().expect("objects");
    let of = |kind: &str| -> Vec<&Value> { objects.iter().filter(|o| o["type"] == kind).collect() };
    let incident = of("incident");
    assert_eq!(incident.len(), 1);
    let incident = incident[0];
    assert_eq!(
        incident["external_references"][0],
        json!({"source_name": "idmefv2", "external_id": message.id.as_str()})
    );
    assert_eq!(of("identity")[0]["name"], message.analyzer.name.as_str());
    assert_eq!(incident["created_by_ref"], of("identity")[0]["id"]);
    let created = export::to_ocsf(&message).expect("exported")["time"].clone();
    assert!(created.is_i64());
    // Every source and target address, port and e-mail has its object.
    for source in message.source.iter().flatten() {
        if let Some(ip) = &source.ip {
            let kind = if ip.as_str().contains(':') {
                "ipv6-addr"
            } else {
                "ipv4-addr"
            };
            let ip: std::net::IpAddr = ip.as_str().parse().expect("plain address");
            assert!(
                of(kind)
                    .iter()
                    .any(|o| o["value"].as_str().and_then(|v| v.parse().ok()) == Some(ip)),
                "{kind}"
            );
        }
        if let Some(e) = &source.email {
            assert!(of("email-addr").iter().any(|o| o["value"] == e.as_str()));
        }
    }
    assert!(!of("network-traffic").is_empty());
    for attachment in message.attachment.iter().flatten() {
        if attachment.hash.is_some() {
            assert!(of("file").iter().any(|f| attachment
                .file_name
                .as_deref()
                .is_none_or(|n| f["name"] == n)));
        }
    }
    // observed-data refers to every observable; each is tied to the incident.
    let observed = of("observed-data");
    let refs = observed[0]["object_refs"].as_array().expect("refs");
    let observables = objects
        .iter()
        .filter(|o| {
            !["identity", "incident", "observed-data", "relationship"]
                .contains(&o["type"].as_str().unwrap_or(""))
        })
        .count();
    assert_eq!(refs.len(), observables);
    let tied: Vec<&Value> = of("relationship")
        .iter()
        .map(|r| &r["target_ref"])
        .collect();
    for r in refs.iter().chain([&observed[0]["id"]]) {
        assert!(tied.contains(&r), "{r}");
    }
    for r in of("relationship") {
        assert_eq!(r["source_ref"], incident["id"]);
    }
    // The same message gives the same bundle, ids included.
    assert_eq!(
        serde_json::to_vec(&bundle).expect("JSON"),
        serde_json::to_vec(&export::to_stix(&message).expect("exported")).expect("JSON")
    );
}

#[test]
fn older_drafts_are_upgraded_and_the_changes_reported() {
    let v04 = std::fs::read(
        idmefv2_tools::fixtures::repository().join("fixtures/drafts/valid/v04-converter.json"),
    )
    .expect("fixture");
    let out = export::to_ocsf_slice(&v04, &Limits::default()).expect("exported");
    assert_eq!(out.from, "2.D.V04");
    assert!(!out.report.is_empty());
    // raw_data is the message as sent, in its own draft.
    assert_eq!(
        out.value["raw_data"],
        String::from_utf8_lossy(&v04).as_ref()
    );
    let value: Value = serde_json::from_slice(&v04).expect("JSON");
    let stix = export::to_stix_value(&value).expect("exported");
    // The same changes, but for the IDs made up afresh at each upgrade.
    let kinds = |r: &[idmefv2::upgrade::UpgradeNote]| -> Vec<(String, idmefv2::upgrade::NoteKind)> {
        r.iter().map(|n| (n.pointer.clone(), n.kind)).collect()
    };
    assert_eq!(kinds(&stix.report), kinds(&out.report));
    // An ID the upgrade made up is not exported.
    assert!(out.value["evidences"][0]["src_endpoint"]
        .get("uid")
        .is_none());
}

#[test]
fn refusals_name_the_pointer_and_never_the_value() {
    let cases = [
        (json!({"CreateTime": "2026-02-31T10:00:00Z"}), "/CreateTime"),
        (json!({"EndTime": "2026-06-30T23:59:60Z"}), "/EndTime"),
        (json!({"StartTime": "2026-03-01T10:00:00"}), "/StartTime"),
        (
            json!({"Target": [{"ID": "0190a5d2-ac96-774b-bcce-b302099a805a", "IP": "fe80::1%eth0"}]}),
            "/Target/0/IP",
        ),
        (
            json!({"Source": [{"ID": "0190a5d2-ac96-774b-bcce-b302099a805a", "Port": [22, 70000]}]}),
            "/Source/0/Port/1",
        ),
    ];
    for (extra, pointer) in cases {
        let mut m = json!({"Version":"2.D.V08","ID":"0190a5d2-ac96-774b-bcce-b302099a8057",
            "CreateTime":"2026-03-01T10:00:00Z","Analyzer":{"Name":"a"}});
        for (k, v) in extra.as_object().expect("object") {
            m[k] = v.clone();
        }
        for format in Format::ALL {
            match format.export_value(&m) {
                Err(e @ Error::Export { .. }) => {
                    let text = e.to_string();
                    assert!(
                        text.starts_with(&format!("{pointer}: cannot export: ")),
                        "{text}"
                    );
                    for value in ["2026-02-31", "23:59:60", "fe80", "70000"] {
                        assert!(!text.contains(value), "{text}");
                    }
                    assert_eq!(e.violations()[0].pointer(), pointer);
                }
                other => panic!("{format} {pointer}: {other:?}"),
            }
        }
    }
}

/// `idmefv2 export`: one line per message, refusals reported as `validate`
/// reports them, upgrade notes on stderr, the same output as the library.
#[cfg(feature = "cli")]
#[test]
fn the_command_line_writes_one_line_per_message() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let read = |name: &str| -> Vec<u8> {
        let bytes = std::fs::read(
            idmefv2_tools::fixtures::repository()
                .join("fixtures")
                .join(name),
        )
        .expect("fixture");
        // One line each for NDJSON.
        serde_json::to_vec(&serde_json::from_slice::<Value>(&bytes).expect("JSON")).expect("JSON")
    };
    let lines = [
        read("valid/ids-ssh-bruteforce-tcp.json"),
        read("valid/timestamp-leap-second.json"),
        br#"{"Version":"2.D.V08"}"#.to_vec(),
        read("drafts/valid/v04-converter.json"),
    ];
    let input = dir.path().join("alerts.ndjson");
    std::fs::write(&input, lines.join(&b"\n"[..])).expect("write");
    for format in Format::ALL {
        let out = Command::new(env!("CARGO_BIN_EXE_idmefv2"))
            .args(["export", "--to", format.as_str(), "--ndjson"])
            .arg(&input)
            .output()
            .expect("run idmefv2");
        let stdout = String::from_utf8(out.stdout).expect("UTF-8");
        let stderr = String::from_utf8(out.stderr).expect("UTF-8");
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        let written: Vec<&str> = stdout.lines().collect();
        assert_eq!(written.len(), 2, "{format}: {stdout}");
        for (line, bytes) in written.iter().zip([&lines[0], &lines[3]]) {
            let want = format
                .export_slice(bytes, &Limits::default())
                .expect("exported");
            let got: Value = serde_json::from_str(line).expect("JSON line");
            assert_eq!(got, want.value, "{format}");
        }
        let source = input.display().to_string();
        assert!(
            stderr.contains(&format!(
                "{source}:2: /CreateTime: cannot export: a leap second"
            )),
            "{stderr}"
        );
        assert!(stderr.contains(&format!("{source}:3: ")), "{stderr}");
        // The upgrade of line 4, change by change.
        assert!(
            stderr.contains(&format!("{source}:4: /Status: restructured")),
            "{stderr}"
        );
    }
    let unknown = Command::new(env!("CARGO_BIN_EXE_idmefv2"))
        .args(["export", "--to", "xml"])
        .arg(&input)
        .output()
        .expect("run idmefv2");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("known formats: ocsf, stix"));
}

/// docs/export.md places every member of the latest schema.
#[test]
fn the_mapping_page_names_every_member_of_the_schema() {
    let page =
        std::fs::read_to_string(idmefv2_tools::fixtures::repository().join("docs/export.md"))
            .expect("docs/export.md");
    let schema: Value =
        serde_json::from_str(idmefv2::schema(idmefv2::Version::LATEST.as_str()).expect("schema"))
            .expect("JSON");
    let classes = ["Analyzer", "Sensor", "Source", "Target", "Attachment"];
    let mut missing = Vec::new();
    for name in schema["properties"].as_object().expect("members").keys() {
        // The classes have tables of their own, below.
        if !classes.contains(&name.as_str()) && !page.contains(&format!("| `{name}` |")) {
            missing.push(name.clone());
        }
    }
    for class in classes {
        let members = schema["definitions"][class]["properties"]
            .as_object()
            .expect("members");
        for name in members.keys() {
            if !page.contains(&format!("`{class}.{name}`")) {
                missing.push(format!("{class}.{name}"));
            }
        }
    }
    assert!(missing.is_empty(), "not in docs/export.md: {missing:?}");
}

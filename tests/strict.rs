//! Strict checks: for every rule, a message that passes and one that fails
//! at the expected pointers; typed and untyped entry points agree.

use idmefv2::{Error, Message};
use serde_json::{json, Value};

fn base() -> Value {
    json!({
        "Version": "2.D.V08",
        "ID": "0b4e2d86-3a5c-4f7e-9b1d-6c8a2e4f0a11",
        "CreateTime": "2025-03-01T12:00:00Z",
        "Analyzer": {"Name": "edge-ids"}
    })
}

/// `base()` with the members of `extra` put in (top-level members replace).
fn with(extra: Value) -> Value {
    let mut m = base();
    for (k, v) in extra.as_object().expect("object") {
        m[k] = v.clone();
    }
    m
}

/// (keyword, pointer) of every strict failure, sorted; checks that the
/// typed and the untyped entry points agree.
fn strict(message: &Value) -> Vec<(String, String)> {
    let typed = Message::from_slice(&serde_json::to_vec(message).unwrap())
        .unwrap_or_else(|e| panic!("schema-invalid test message: {e}"));
    let pairs = |r: Result<(), Error>| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = match r {
            Ok(()) => Vec::new(),
            Err(e) => e
                .violations()
                .iter()
                .map(|v| (v.keyword().to_string(), v.pointer().to_string()))
                .collect(),
        };
        v.sort();
        v
    };
    let from_typed = pairs(typed.validate_strict());
    assert_eq!(
        pairs(idmefv2::validate_strict_value(message)),
        from_typed,
        "typed and untyped strict checks differ"
    );
    from_typed
}

fn expect(message: Value, keyword: &str, pointers: &[&str]) {
    let found = strict(&message);
    let mut expected: Vec<(String, String)> = pointers
        .iter()
        .map(|p| (keyword.to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(found, expected, "in {message}");
}

fn passes(message: Value) {
    assert_eq!(strict(&message), [], "in {message}");
}

#[test]
fn base_message_passes() {
    passes(base());
}

#[test]
fn ports() {
    passes(with(json!({
        "Source": [{"ID": "1c5e3f97-4b6d-4a8f-8c2e-7d9b3f5a1b22", "Port": [1, 65535]}],
        "Target": [{"ID": "2d6f4a08-5c7e-4b9a-9d3f-8e0c4a6b2c33", "Port": [443]}]
    })));
    expect(
        with(json!({
            "Source": [{"ID": "1c5e3f97-4b6d-4a8f-8c2e-7d9b3f5a1b22", "Port": [0, 22]}],
            "Target": [{"ID": "2d6f4a08-5c7e-4b9a-9d3f-8e0c4a6b2c33", "Port": [65536, -1]}]
        })),
        "port-range",
        &["/Source/0/Port/0", "/Target/0/Port/0", "/Target/0/Port/1"],
    );
}

#[test]
fn attachment_names_are_unique() {
    passes(with(
        json!({"Attachment": [{"Name": "pcap"}, {"Name": "log"}, {"Name": "Pcap"}]}),
    ));
    expect(
        with(json!({"Attachment": [{"Name": "pcap"}, {"Name": "log"}, {"Name": "pcap"}]})),
        "attachment-name-unique",
        &["/Attachment/2/Name"],
    );
}

#[test]
fn attachment_references_exist() {
    passes(with(json!({
        "Source": [{"ID": "1c5e3f97-4b6d-4a8f-8c2e-7d9b3f5a1b22", "Attachment": ["pcap"]}],
        "Target": [{"ID": "2d6f4a08-5c7e-4b9a-9d3f-8e0c4a6b2c33", "Attachment": ["pcap", "log"]}],
        "Attachment": [{"Name": "pcap"}, {"Name": "log"}]
    })));
    expect(
        with(json!({
            "Source": [{"ID": "1c5e3f97-4b6d-4a8f-8c2e-7d9b3f5a1b22", "Attachment": ["pcap", "img"]}],
            "Target": [{"ID": "2d6f4a08-5c7e-4b9a-9d3f-8e0c4a6b2c33", "Attachment": ["PCAP"]}],
            "Attachment": [{"Name": "pcap"}]
        })),
        "attachment-reference",
        &["/Source/0/Attachment/1", "/Target/0/Attachment/0"],
    );
    // Without any attachment at all.
    expect(
        with(json!({
            "Source": [{"ID": "1c5e3f97-4b6d-4a8f-8c2e-7d9b3f5a1b22", "Attachment": ["pcap"]}]
        })),
        "attachment-reference",
        &["/Source/0/Attachment/0"],
    );
}

#[test]
fn ext_value_with_its_extension() {
    passes(with(json!({
        "Category": ["Recon.Network", "Other.ext-value"],
        "ext-Category": ["Recon.Drone"],
        "Analyzer": {
            "Name": "edge-ids",
            "Category": ["ext-value"], "ext-Category": ["HoneyNet"],
            "Data": ["Network", "ext-value"], "ext-Data": ["Telemetry"],
            "Method": ["ext-value"], "ext-Method": ["Rules", "Heuristics"]
        }
    })));
}

#[test]
fn ext_value_without_its_extension() {
    expect(
        with(json!({
            "Category": ["Recon.Network", "Other.ext-value"],
            "Analyzer": {
                "Name": "edge-ids",
                "Category": ["ext-value"], "ext-Category": [],
                "Method": ["AI", "ext-value"]
            }
        })),
        "ext-value",
        &["/Category/1", "/Analyzer/Category/0", "/Analyzer/Method/1"],
    );
}

#[test]
fn extension_without_ext_value() {
    expect(
        with(json!({
            "Category": ["Recon.Network"],
            "ext-Category": ["Recon.Drone"],
            "Analyzer": {
                "Name": "edge-ids",
                "Data": ["Network"], "ext-Data": ["Telemetry"],
                "ext-Method": ["Rules"]
            }
        })),
        "ext-value",
        &[
            "/ext-Category",
            "/Analyzer/ext-Data",
            "/Analyzer/ext-Method",
        ],
    );
    // An empty extension list holds no value: accepted without ext-value.
    passes(with(json!({
        "ext-Category": [],
        "Analyzer": {"Name": "edge-ids", "Method": ["AI"], "ext-Method": []}
    })));
    // ext-value in a list of a class that has no extension attribute.
    expect(
        with(json!({
            "Source": [{"ID": "1c5e3f97-4b6d-4a8f-8c2e-7d9b3f5a1b22", "Category": ["ext-value"]}],
            "Target": [{"ID": "2d6f4a08-5c7e-4b9a-9d3f-8e0c4a6b2c33", "Category": ["Undetermined", "ext-value"]}]
        })),
        "ext-value",
        &["/Source/0/Category/0", "/Target/0/Category/1"],
    );
}

#[test]
fn aggr_conditions_are_paths() {
    passes(with(json!({
        "AggrCondition": ["Source.IP", "Source(0).IP", "Analyzer.Name", "Target(1).Port(2)",
                          "Category", "ext-Category(0)", "Attachment(-1).Name"]
    })));
    expect(
        with(json!({
            "AggrCondition": ["Source.IP", "CeaseTime", "Analyzer(0).Name", "Source.Nope",
                              "Alert.ID", "Source", "Source.IP(0)", "source.ip"]
        })),
        "aggr-condition",
        &[
            "/AggrCondition/1",
            "/AggrCondition/2",
            "/AggrCondition/3",
            "/AggrCondition/4",
            "/AggrCondition/5",
            "/AggrCondition/6",
            "/AggrCondition/7",
        ],
    );
}

#[test]
fn calendar_dates() {
    passes(with(json!({
        "CreateTime": "2024-02-29T10:00:00Z",
        "StartTime": "2000-02-29T00:00:00.000001+14:00",
        "EndTime": "2025-12-31T23:59:59-23:59",
        "ReportTime": "2025-04-30T00:00:00+00:00"
    })));
    expect(
        with(json!({
            "CreateTime": "2025-02-29T10:00:00Z",
            "StartTime": "2025-00-10T10:00:00Z",
            "EndTime": "2025-01-00T10:00:00Z",
            "ReportTime": "1900-02-29T10:00:00+01:00"
        })),
        "calendar-date",
        &["/CreateTime", "/StartTime", "/EndTime", "/ReportTime"],
    );
    expect(
        with(json!({"CreateTime": "2025-04-31T10:00:00Z", "StartTime": "2025-02-30T10:00:00Z"})),
        "calendar-date",
        &["/CreateTime", "/StartTime"],
    );
}

#[test]
fn leap_seconds() {
    passes(with(json!({
        "CreateTime": "2016-12-31T23:59:60Z",
        "StartTime": "2016-12-31T15:59:60-08:00",
        "EndTime": "2017-01-01T00:59:60.5+01:00",
        "ReportTime": "2015-06-30T23:59:60Z"
    })));
    expect(
        with(json!({
            "CreateTime": "2025-06-15T12:00:60Z",
            "StartTime": "2016-12-31T23:59:60+01:00",
            "EndTime": "2016-12-30T23:59:60Z",
            "ReportTime": "2016-12-31T23:58:60Z"
        })),
        "calendar-date",
        &["/CreateTime", "/StartTime", "/EndTime", "/ReportTime"],
    );
}

#[test]
fn timestamps_have_an_offset() {
    passes(with(
        json!({"StartTime": "2025-01-01T10:00:00+02:00", "EndTime": "2025-01-01T10:00:00.25Z"}),
    ));
    expect(
        with(json!({"StartTime": "2025-01-01T10:00:00", "EndTime": "2025-01-01T10:00:00.123"})),
        "timestamp-offset",
        &["/StartTime", "/EndTime"],
    );
    // Second 60 without an offset is only reported for the offset.
    expect(
        with(json!({"StartTime": "2016-12-31T23:59:60"})),
        "timestamp-offset",
        &["/StartTime"],
    );
}

#[test]
fn sizes_are_non_negative() {
    passes(with(
        json!({"Attachment": [{"Name": "a", "Size": 0}, {"Name": "b", "Size": 1500}]}),
    ));
    expect(
        with(json!({"Attachment": [{"Name": "a", "Size": -1}, {"Name": "b", "Size": 3}]})),
        "size-non-negative",
        &["/Attachment/0/Size"],
    );
}

fn attachments(list: Value) -> Value {
    let named: Vec<Value> = list
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut a = a.clone();
            a["Name"] = json!(format!("a{i}"));
            a
        })
        .collect();
    with(json!({ "Attachment": named }))
}

#[test]
fn base64_content() {
    passes(attachments(json!([
        {"ContentEncoding": "base64", "Content": "aGVsbG8="},
        {"ContentEncoding": "base64", "Content": "aGVsbG8h"},
        {"ContentEncoding": "base64", "Content": "aGk="},
        {"ContentEncoding": "BASE64", "Content": "aA=="},
        {"ContentEncoding": "base64", "Content": ""},
        {"ContentEncoding": "base64", "Content": "+/+/"}
    ])));
    expect(
        attachments(json!([
            {"ContentEncoding": "base64", "Content": "aGVsbG8"},
            {"ContentEncoding": "base64", "Content": "aGVs bG8="},
            {"ContentEncoding": "base64", "Content": "a==="},
            {"ContentEncoding": "base64", "Content": "=AAA"},
            {"ContentEncoding": "base64", "Content": "-_AA"},
            {"ContentEncoding": "base64", "Content": "aGVs\nbG8="},
            {"ContentEncoding": "base64", "Content": "aG=s"},
            {"ContentEncoding": "base64", "Content": {"not": "text"}}
        ])),
        "base64-content",
        &[
            "/Attachment/0/Content",
            "/Attachment/1/Content",
            "/Attachment/2/Content",
            "/Attachment/3/Content",
            "/Attachment/4/Content",
            "/Attachment/5/Content",
            "/Attachment/6/Content",
            "/Attachment/7/Content",
        ],
    );
}

#[test]
fn json_content() {
    passes(attachments(json!([
        {"Content": {"OperatorMail": "soc@example.com"}},
        {"ContentEncoding": "json", "Content": "{\"OperatorMail\": \"soc@example.com\"}"},
        {"ContentEncoding": "JSON", "Content": "{}"},
        {"Content": " {\"a\": [1, {\"b\": null}]} "},
        {"ContentEncoding": "gzip", "Content": "anything at all"},
        {"ContentEncoding": "json"}
    ])));
    expect(
        attachments(json!([
            {"Content": "plain text"},
            {"ContentEncoding": "json", "Content": "[1, 2]"},
            {"ContentEncoding": "json", "Content": "{\"a\": 1, \"a\": 2}"},
            {"ContentEncoding": "Json", "Content": "{\"a\": 1"},
            {"Content": ""}
        ])),
        "json-content",
        &[
            "/Attachment/0/Content",
            "/Attachment/1/Content",
            "/Attachment/2/Content",
            "/Attachment/3/Content",
            "/Attachment/4/Content",
        ],
    );
}

#[test]
fn json_content_reasons_do_not_quote_the_content() {
    let m = attachments(json!([{"Content": "secret-password-123"}]));
    let e = idmefv2::validate_strict_value(&m).unwrap_err();
    assert!(!e.to_string().contains("secret"), "{e}");
}

#[test]
fn threat_intelligence_entries() {
    passes(with(json!({
        "Source": [{"ID": "1c5e3f97-4b6d-4a8f-8c2e-7d9b3f5a1b22",
                    "TI": ["IP:Dshield", "IP:Spamhaus", "Hostname:VirusTotal", "Email:a:b"]}]
    })));
    expect(
        with(json!({
            "Source": [{"ID": "1c5e3f97-4b6d-4a8f-8c2e-7d9b3f5a1b22",
                        "TI": ["Dshield", "ip:Dshield", "IP:", ":Dshield", "Port:x", "Nope:x"]}]
        })),
        "ti-format",
        &[
            "/Source/0/TI/0",
            "/Source/0/TI/1",
            "/Source/0/TI/2",
            "/Source/0/TI/3",
            "/Source/0/TI/5",
        ],
    );
}

#[test]
fn every_failure_is_collected() {
    let m = with(json!({
        "StartTime": "2025-02-30T10:00:00",
        "AggrCondition": ["Nope"],
        "Source": [{"ID": "1c5e3f97-4b6d-4a8f-8c2e-7d9b3f5a1b22", "Port": [0], "Attachment": ["x"],
                    "Category": ["ext-value"], "TI": ["bad"]}],
        "Attachment": [{"Name": "a", "Size": -5, "ContentEncoding": "base64", "Content": "!"},
                       {"Name": "a", "Content": "text"}]
    }));
    let keywords: Vec<String> = strict(&m).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        keywords,
        [
            "aggr-condition",
            "attachment-name-unique",
            "attachment-reference",
            "base64-content",
            "calendar-date",
            "ext-value",
            "json-content",
            "port-range",
            "size-non-negative",
            "ti-format",
            "timestamp-offset",
        ]
    );
}

#[test]
fn untyped_check_reports_schema_and_strict_failures_together() {
    let m = with(json!({
        "Analyzer": {"Name": "edge-ids", "IP": "300.0.0.1"},
        "Source": [{"ID": "1c5e3f97-4b6d-4a8f-8c2e-7d9b3f5a1b22", "Port": [70000]}]
    }));
    let e = idmefv2::validate_strict_value(&m).unwrap_err();
    let mut found: Vec<(String, String)> = e
        .violations()
        .iter()
        .map(|v| (v.keyword().to_string(), v.pointer().to_string()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("pattern".to_string(), "/Analyzer/IP".to_string()),
            ("port-range".to_string(), "/Source/0/Port/0".to_string()),
        ]
    );
    assert!(matches!(
        idmefv2::validate_strict_value(&json!({"Version": "1.0"})),
        Err(Error::UnsupportedVersion { .. })
    ));
    // Shapes the schema refuses do not trip the strict checks up.
    let odd = json!({"Version": "2.D.V08", "Source": "x", "Attachment": [1, {"Name": 3}],
                     "CreateTime": 5, "AggrCondition": [null]});
    let e = idmefv2::validate_strict_value(&odd).unwrap_err();
    assert!(
        e.violations().iter().all(|v| !v.keyword().contains('-')),
        "{e}"
    );
}

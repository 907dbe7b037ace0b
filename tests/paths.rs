//! IDMEF paths: the grammar (with every example path of the
//! specification), normalization, pointers, and get/set on messages,
//! including a set-then-get round trip over every attribute of the model.

use idmefv2::{Analyzer, Message, Path, Violation};
use serde_json::{json, Value};

fn path(text: &str) -> Path {
    text.parse()
        .unwrap_or_else(|e: Violation| panic!("{text}: {e}"))
}

fn refused(text: &str) -> Violation {
    match text.parse::<Path>() {
        Ok(p) => panic!("{text:?} was accepted as {p}"),
        Err(e) => e,
    }
}

fn base() -> Message {
    Message::from_slice(
        br#"{"Version": "2.D.V08", "ID": "0b4e2d86-3a5c-4f7e-9b1d-6c8a2e4f0a11",
             "CreateTime": "2025-03-01T12:00:00Z", "Analyzer": {"Name": "edge-ids"},
             "Sensor": [{"Name": "cam-1"}],
             "Source": [{"ID": "1c5e3f97-4b6d-4a8f-8c2e-7d9b3f5a1b22"}],
             "Target": [{"ID": "2d6f4a08-5c7e-4b9a-9d3f-8e0c4a6b2c33"}],
             "Attachment": [{"Name": "pcap"}]}"#,
    )
    .expect("base message")
}

// The example paths of the specification's section on IDMEF paths.

#[test]
fn spec_example_analyzer_name() {
    let p = path("Analyzer.Name");
    assert_eq!(p.class(), Some("Analyzer"));
    assert_eq!(p.class_index(), None);
    assert_eq!(p.attribute(), "Name");
    assert_eq!(p.index(), None);
    assert_eq!(p.to_string(), "Analyzer.Name");
    assert_eq!(p.to_pointer().as_deref(), Some("/Analyzer/Name"));
}

#[test]
fn spec_example_source_ip_with_and_without_index_are_one_path() {
    let short = path("Source.IP");
    let long = path("Source(0).IP");
    assert_eq!(short, long);
    assert_eq!(short.to_string(), "Source(0).IP");
    assert_eq!(long.to_string(), "Source(0).IP");
    assert_eq!(short.class_index(), Some(0));
    assert_eq!(short.to_pointer().as_deref(), Some("/Source/0/IP"));
}

#[test]
fn spec_example_cease_time_names_an_attribute_the_model_lacks() {
    // The specification's first example, "CeaseTime", is not an attribute
    // of the Alert class in this revision (EndTime is), so it must be
    // refused like any unknown attribute.
    let e = refused("CeaseTime");
    assert_eq!(e.keyword(), "path");
    assert!(e.reason().contains("unknown attribute"), "{e}");
    assert_eq!(path("EndTime").to_pointer().as_deref(), Some("/EndTime"));
}

#[test]
fn index_on_an_attribute_and_on_both() {
    let p = path("Target(1).Port(2)");
    assert_eq!(p.to_string(), "Target(1).Port(2)");
    assert_eq!(p.to_pointer().as_deref(), Some("/Target/1/Port/2"));
    assert_eq!(path("Source.Port"), path("Source(0).Port(0)"));
    assert_eq!(path("Category").to_string(), "Category(0)");
    assert_eq!(
        path("Category(3)").to_pointer().as_deref(),
        Some("/Category/3")
    );
    assert_eq!(path("CreateTime").to_string(), "CreateTime");
}

#[test]
fn indices_are_normalized() {
    assert_eq!(path("Source(007).IP"), path("Source(7).IP"));
    assert_eq!(path("Source(-0).IP"), path("Source.IP"));
    let last = path("Source(-1).IP");
    assert_eq!(last.class_index(), Some(-1));
    assert_eq!(last.to_string(), "Source(-1).IP");
    assert_eq!(last.to_pointer(), None);
    assert_ne!(last, path("Source(1).IP"));
}

#[test]
fn extension_attributes_are_reachable() {
    assert_eq!(path("ext-Category").to_string(), "ext-Category(0)");
    assert_eq!(
        path("Analyzer.ext-Method(1)").to_pointer().as_deref(),
        Some("/Analyzer/ext-Method/1")
    );
}

#[test]
fn unknown_classes_and_attributes_are_refused() {
    for text in ["Alert.ID", "Foo.IP", "source.IP", "Version.IP", ".IP"] {
        assert!(refused(text).reason().contains("unknown class"), "{text}");
    }
    for text in [
        "Source.Name",
        "Analyzer.Port",
        "Nope",
        "",
        "ip",
        "Source.IP.Port",
    ] {
        assert!(
            refused(text).reason().contains("unknown attribute"),
            "{text}"
        );
    }
}

#[test]
fn index_on_a_non_list_is_refused() {
    for text in [
        "Analyzer(0).Name",
        "Version(0)",
        "Source(0).IP(0)",
        "Attachment.Size(1)",
    ] {
        let e = refused(text);
        assert!(e.reason().contains("not a list"), "{text}: {e}");
    }
}

#[test]
fn malformed_text_is_refused() {
    for text in [
        "Source().IP",
        "Source(x).IP",
        "Source(+1).IP",
        "Source(1.IP",
        "Source(1)x.IP",
        "Source( 1).IP",
        " Source.IP",
        "Source.IP ",
        "Source(99999999999999999999).IP",
        "Source(--1).IP",
    ] {
        refused(text);
    }
}

#[test]
fn a_class_alone_is_not_an_attribute() {
    for text in ["Source", "Analyzer", "Attachment(0)"] {
        let e = refused(text);
        assert!(e.reason().contains("is a class"), "{text}: {e}");
    }
}

#[test]
fn errors_do_not_repeat_the_text() {
    let e = refused("Source.secretvalue");
    assert!(!e.to_string().contains("secretvalue"), "{e}");
}

#[test]
fn get_reads_values_and_list_entries() {
    let mut m = base();
    assert_eq!(m.get(&path("Analyzer.Name")), Some(json!("edge-ids")));
    assert_eq!(m.get(&path("Source.IP")), None);
    assert_eq!(m.get(&path("Source(1).ID")), None);
    assert_eq!(m.get(&path("Source(-2).ID")), None);
    m.set(&path("Source.Port(0)"), 22).unwrap();
    m.set(&path("Source.Port(1)"), 80).unwrap();
    assert_eq!(m.get(&path("Source.Port")), Some(json!(22)));
    assert_eq!(m.get(&path("Source.Port(-1)")), Some(json!(80)));
    assert_eq!(
        m.get(&path("Source(-1).ID")),
        Some(json!("1c5e3f97-4b6d-4a8f-8c2e-7d9b3f5a1b22"))
    );
}

#[test]
fn set_appends_one_past_the_end_and_refuses_gaps() {
    let mut m = base();
    m.set(&path("Category(0)"), "Recon.Network").unwrap();
    m.set(&path("Category(1)"), "Recon.OSINT").unwrap();
    m.set(&path("Category(0)"), "Recon.Aerial").unwrap();
    assert_eq!(
        m.to_value()["Category"],
        json!(["Recon.Aerial", "Recon.OSINT"])
    );
    let before = m.clone();
    let e = m.set(&path("Category(3)"), "Recon.Network").unwrap_err();
    assert_eq!(e.violations()[0].pointer(), "/Category");
    assert_eq!(e.violations()[0].keyword(), "index");
    let e = m.set(&path("Category(-3)"), "Recon.Network").unwrap_err();
    assert_eq!(e.violations()[0].keyword(), "index");
    m.set(&path("Category(-1)"), "Recon.Network").unwrap();
    assert_eq!(
        m.to_value()["Category"],
        json!(["Recon.Aerial", "Recon.Network"])
    );
    assert_ne!(m, before);
}

#[test]
fn set_creates_a_class_entry_that_is_complete_on_its_own() {
    let mut m = Message::builder(Analyzer::builder("edge-ids"))
        .build()
        .unwrap();
    let before = m.clone();
    let e = m.set(&path("Source(0).IP"), "192.0.2.1").unwrap_err();
    let v = &e.violations()[0];
    assert_eq!((v.pointer(), v.keyword()), ("/Source/0", "required"));
    assert_eq!(m, before, "a refused set leaves the message unchanged");

    m.set(
        &path("Source(0).ID"),
        "3e7a5b19-6d8f-4cab-8e4a-9f1d5b7c3d44",
    )
    .unwrap();
    m.set(&path("Source(0).IP"), "192.0.2.1").unwrap();
    assert_eq!(
        m.to_value()["Source"],
        json!([{"ID": "3e7a5b19-6d8f-4cab-8e4a-9f1d5b7c3d44", "IP": "192.0.2.1"}])
    );
    let e = m.set(
        &path("Source(2).ID"),
        "3e7a5b19-6d8f-4cab-8e4a-9f1d5b7c3d44",
    );
    assert_eq!(e.unwrap_err().violations()[0].pointer(), "/Source");
}

#[test]
fn set_refuses_what_the_type_refuses_with_the_pointer() {
    let mut m = base();
    let before = m.clone();
    for (p, value, pointer) in [
        ("Source.IP", json!("300.1.1.1"), "/Source/0/IP"),
        ("Target(0).Port(0)", json!("eighty"), "/Target/0/Port/0"),
        ("Priority", json!("Urgent"), "/Priority"),
        ("Confidence", json!(2), "/Confidence"),
        ("Analyzer.Name", Value::Null, "/Analyzer/Name"),
        ("Attachment.Content", json!(7), "/Attachment/0/Content"),
    ] {
        let e = m.set(&path(p), value).unwrap_err();
        let pointers: Vec<String> = e
            .violations()
            .iter()
            .map(|v| v.pointer().to_string())
            .collect();
        assert_eq!(pointers, [pointer], "{p}");
    }
    for version in ["2.D.V07", "2.D.V99"] {
        let e = m.set(&path("Version"), version).unwrap_err();
        assert_eq!(e.violations()[0].pointer(), "/Version", "{version}");
    }
    assert_eq!(m, before);
}

/// A value the schema accepts for `property`: the last entry of a value
/// list, or a sample per schema type.
fn sample(schema: &Value, property: &Value) -> Value {
    let item = if property["type"] == "array" {
        &property["items"]
    } else {
        property
    };
    let Some(reference) = item["$ref"].as_str() else {
        assert_eq!(item["type"], "string", "unexpected property {property}");
        return json!("sample text");
    };
    let name = reference.trim_start_matches("#/definitions/");
    let def = &schema["definitions"][name];
    if let Some(values) = def["enum"].as_array() {
        return values.last().expect("non-empty enum").clone();
    }
    match name {
        "Id" => json!("4f8b6c2a-7e9a-4dbc-9f5b-a02e6c8d4e55"),
        "Timestamp" => json!("2024-12-31T23:59:60.5Z"),
        "IpAddress" => json!("2001:db8::7"),
        "GeoLocation" => json!("48.8584,2.2945,276.13"),
        "UnLocode" => json!("FR PAR"),
        "AttachmentName" => json!("pcap"),
        "MediaType" => json!("text/plain; charset=utf-8"),
        "Protocol" => json!("tcp"),
        "Hash" => json!("sha256:a02735ed"),
        "Confidence" => json!(0.75),
        "Email" => json!("soc@example.com"),
        "Uri" => json!("https://example.com/alert/1"),
        "Integer" => json!(4242),
        "Content" => json!({"key": ["value", 1]}),
        other => panic!("no sample value for schema type {other}: add one"),
    }
}

fn schema() -> Value {
    serde_json::from_str(idmefv2::schema("2.D.V08").expect("embedded schema")).unwrap()
}

/// The schema of the attribute a path names.
fn property<'a>(schema: &'a Value, p: &Path) -> &'a Value {
    let class = match p.class() {
        None => schema,
        Some(class) => {
            let member = &schema["properties"][class];
            let reference = member["$ref"]
                .as_str()
                .or_else(|| member["items"]["$ref"].as_str())
                .expect("class reference");
            &schema["definitions"][reference.trim_start_matches("#/definitions/")]
        }
    };
    let property = &class["properties"][p.attribute()];
    assert!(property.is_object(), "{p}: not in the schema");
    property
}

#[test]
fn every_attribute_of_the_model_is_a_path() {
    let schema = schema();
    let mut expected = 0;
    for (name, property) in schema["properties"].as_object().unwrap() {
        let reference = property["$ref"]
            .as_str()
            .or_else(|| property["items"]["$ref"].as_str());
        let class = reference
            .map(|r| &schema["definitions"][r.trim_start_matches("#/definitions/")])
            .and_then(|d| d["properties"].as_object());
        match class {
            Some(attributes) => expected += attributes.len(),
            None => {
                expected += 1;
                let p = path(name);
                assert_eq!(p.index().is_some(), property["type"] == "array", "{name}");
            }
        }
    }
    let all = Path::all();
    assert_eq!(all.len(), expected);
    for p in &all {
        assert_eq!(
            &path(&p.to_string()),
            p,
            "Display then parse gives {p} back"
        );
        let is_list = property(&schema, p)["type"] == "array";
        assert_eq!(p.index().is_some(), is_list, "{p}");
    }
}

#[test]
fn set_then_get_round_trips_every_attribute() {
    let schema = schema();
    let all = Path::all();
    assert!(all.len() > 80, "only {} paths", all.len());
    let mut message = base();
    for p in &all {
        let value = sample(&schema, property(&schema, p));
        message
            .set(p, value.clone())
            .unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(message.get(p), Some(value.clone()), "{p}");
        // The value is also where the pointer says, in the encoded message.
        let pointer = p.to_pointer().expect("non-negative indices");
        assert_eq!(message.to_value().pointer(&pointer), Some(&value), "{p}");
    }
    // Every set value survives re-decoding the encoded message.
    let again = Message::from_slice(&message.to_vec()).expect("still valid");
    assert_eq!(again, message);
    for p in &all {
        assert!(again.get(p).is_some(), "{p}");
    }
}

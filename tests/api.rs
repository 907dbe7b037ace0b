//! The builder, codecs, conversions and errors, as sensor code uses them.

use idmefv2::{
    codec::{self, Codec},
    types::{AnalyzerCategory, Category, Content, IncidentType},
    Analyzer, Attachment, Error, Id, Limits, Message, SchemaKeyword, SerializedMessage, Source,
    Timestamp, Version,
};
use serde_json::json;

fn analyzer() -> idmefv2::types::AnalyzerBuilder {
    Analyzer::builder("unit-test-analyzer")
}

#[test]
fn builder_fills_defaults_and_required_values() {
    let before = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
    let m = Message::builder(analyzer()).build().unwrap();
    assert_eq!(m.version, Version::V08);
    assert_eq!(m.id.to_uuid().get_version_num(), 7);
    let created = m.create_time.to_offset_date_time().unwrap();
    assert!(created >= before && created <= time::OffsetDateTime::now_utc());
    assert_eq!(m.analyzer.name, "unit-test-analyzer");
    // Members are written in the specification's order.
    let text = String::from_utf8(m.to_vec()).unwrap();
    let at = |member: &str| text.find(&format!("\"{member}\":")).unwrap();
    assert!(at("Version") < at("ID") && at("ID") < at("CreateTime"));
    assert!(at("CreateTime") < at("Analyzer"), "{text}");
    m.validate().unwrap();
}

#[test]
fn builder_reports_every_bad_value_with_its_pointer() {
    let err = Message::builder(analyzer().ip("999.0.0.1").un_location("paris"))
        .id("not-a-uuid")
        .source(Source::builder(Id::generate()).ip("10.0.0.1"))
        .source(Source::builder("also-bad").port(80u16).email("nobody"))
        .confidence(1.5)
        .build()
        .unwrap_err();
    let Error::Invalid(violations) = &err else {
        panic!("{err:?}")
    };
    let got: Vec<(&str, &str)> = violations
        .iter()
        .map(|v| (v.pointer(), v.keyword()))
        .collect();
    assert_eq!(
        got,
        [
            ("/Analyzer/IP", "pattern"),
            ("/Analyzer/UnLocation", "pattern"),
            ("/ID", "pattern"),
            ("/Source/1/ID", "pattern"),
            ("/Source/1/Email", "format"),
            ("/Confidence", "maximum"),
        ]
    );
    // Display names places and reasons, never the values given.
    let text = err.to_string();
    assert!(text.contains("/Source/1/Email"), "{text}");
    for secret in ["999.0.0.1", "paris", "not-a-uuid", "also-bad", "nobody"] {
        assert!(!text.contains(secret), "{text} echoes {secret}");
    }
}

#[test]
fn list_setters_append_and_ext_values_are_usable() {
    let m = Message::builder(
        analyzer()
            .category(AnalyzerCategory::ExtValue)
            .ext_category("honeypot-mesh"),
    )
    .type_(IncidentType::Cyber)
    .category(Category::ReconNetwork)
    .category(Category::OtherExtValue)
    .ext_category("lab-scanner")
    .attachment(
        Attachment::builder("pcap1")
            .content(json!({"frames": [1, 2, 3]}))
            .content_type("application/vnd.tcpdump.pcap"),
    )
    .build()
    .unwrap();
    let v = m.to_value();
    assert_eq!(v["Category"], json!(["Recon.Network", "Other.ext-value"]));
    assert_eq!(v["ext-Category"], json!(["lab-scanner"]));
    assert_eq!(v["Analyzer"]["Category"], json!(["ext-value"]));
    assert_eq!(v["Attachment"][0]["Content"], json!({"frames": [1, 2, 3]}));
    m.validate().unwrap();
}

#[test]
fn enums_use_the_spec_strings() {
    assert_eq!(
        Category::OperationalPolicyViolation.to_string(),
        "Operational.Policy Violation"
    );
    assert_eq!(
        "Availability.DDoS".parse::<Category>().unwrap(),
        Category::AvailabilityDdos
    );
    assert!("availability.ddos".parse::<Category>().is_err());
    assert_eq!(AnalyzerCategory::ALL.len(), 79);
    for c in Category::ALL {
        assert_eq!(c.as_str().parse::<Category>().unwrap(), c);
    }
}

#[test]
fn media_types_are_matched_loosely_and_unknown_ones_listed() {
    let m = Message::builder(analyzer()).build().unwrap();
    for mt in [
        "application/json",
        "Application/JSON; charset=utf-8",
        "text/json",
    ] {
        let s = m.serialize(mt).unwrap();
        assert_eq!(s.content_type, mt);
        assert_eq!(Message::unserialize(&s).unwrap(), m);
    }
    let err = m.serialize("application/cbor").unwrap_err();
    let Error::UnsupportedMediaType { supported, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(supported.contains(&"application/json".to_string()));
}

struct Shouting;

impl Codec for Shouting {
    fn media_type(&self) -> &str {
        "application/x-idmef-test"
    }
    fn encode(&self, message: &Message) -> Result<Vec<u8>, Error> {
        Ok(message.to_vec().into_iter().rev().collect())
    }
    fn decode(&self, payload: &[u8], limits: &Limits) -> Result<Message, Error> {
        let forward: Vec<u8> = payload.iter().rev().copied().collect();
        Message::from_slice_with(&forward, limits)
    }
}

#[test]
fn users_can_register_codecs() {
    codec::register(Shouting);
    let m = Message::builder(analyzer()).build().unwrap();
    let s = m.serialize("application/x-idmef-test").unwrap();
    assert_eq!(s.payload.first(), Some(&b'}'));
    assert_eq!(Message::unserialize(&s).unwrap(), m);
    assert!(codec::supported().contains(&"application/x-idmef-test".to_string()));
}

#[test]
fn syntax_errors_give_line_and_column() {
    let err = Message::unserialize(&SerializedMessage {
        content_type: "application/json".into(),
        payload: b"{\n  \"Version\": \"2.D.V08\",\n  \"ID\": }".to_vec(),
    })
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Syntax {
                line: 3,
                column: 9,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn unknown_versions_name_the_supported_ones() {
    let err = idmefv2::validate(&json!({"Version": "2.D.V99"})).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("2.D.V08") && text.contains("2.D.V09-Dev"),
        "{text}"
    );
    assert_eq!(err.violations()[0].pointer(), "/Version");
    let err = Message::from_slice(br#"{"Version": "2.D.V99"}"#).unwrap_err();
    assert!(matches!(err, Error::UnsupportedVersion { .. }), "{err:?}");
}

#[test]
fn timestamps_and_ids_keep_their_text_and_convert() {
    let t = Timestamp::new("2025-06-30T23:59:60.5").unwrap();
    assert_eq!(t.as_str(), "2025-06-30T23:59:60.5");
    assert!(t.to_offset_date_time().is_err());
    let t = Timestamp::new("2025-02-03T04:05:06.7+05:30").unwrap();
    let odt = t.to_offset_date_time().unwrap();
    assert_eq!(odt.offset(), time::UtcOffset::from_hms(5, 30, 0).unwrap());
    assert_eq!(odt.nanosecond(), 700_000_000);
    assert_eq!(odt.unix_timestamp(), 1_738_535_706);
    let t = Timestamp::new("2025-03-01T00:00:00-01:15").unwrap();
    assert_eq!(
        t.to_offset_date_time().unwrap().offset().whole_minutes(),
        -75
    );
    assert!(Timestamp::new("2025-02-30T00:00:00Z")
        .unwrap()
        .to_offset_date_time()
        .is_err());
    assert!(Timestamp::new("2025-00-10T00:00:00Z")
        .unwrap()
        .to_offset_date_time()
        .is_err());
    let no_offset = Timestamp::new("2025-02-03T04:05:06").unwrap();
    assert_eq!(no_offset.to_primitive_date_time().unwrap().hour(), 4);
    let from_time = Timestamp::try_from(odt).unwrap();
    assert_eq!(from_time.as_str(), "2025-02-03T04:05:06.7+05:30");

    let upper = Id::new("6BA7B810-9DAD-11D1-80B4-00C04FD430C8").unwrap();
    assert_eq!(upper.as_str(), "6BA7B810-9DAD-11D1-80B4-00C04FD430C8");
    let u = upper.to_uuid();
    assert_eq!(Id::from(u).as_str(), "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
}

#[test]
fn numbers_keep_their_json_form() {
    let text = r#"{"Version":"2.D.V08","ID":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","Confidence":1,
        "CreateTime":"2025-01-01T00:00:00Z","Analyzer":{"Name":"a"},
        "Source":[{"ID":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","Port":[18446744073709551615,-3]}]}"#;
    let m: Message = text.parse().unwrap();
    assert_eq!(
        m.to_value(),
        serde_json::from_str::<serde_json::Value>(text).unwrap()
    );
    assert!(m.to_string_pretty().contains("\"Confidence\": 1,"));
}

#[test]
fn null_arrays_and_duplicates_are_refused() {
    let base = r#""Version":"2.D.V08","ID":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","CreateTime":"2025-01-01T00:00:00Z""#;
    let cases = [
        (
            format!(r#"{{{base},"Analyzer":{{"Name":"a"}},"Note":null}}"#),
            "/Note",
        ),
        (format!(r#"[{base}]"#), ""),
        (
            format!(r#"{{{base},"Analyzer":{{"Name":"a","Name":"b"}}}}"#),
            "/Analyzer/Name",
        ),
        (
            format!(r#"{{{base},"Analyzer":{{"Name":"a"}},"Type":[{{"Cyber":null}}]}}"#),
            "/Type/0",
        ),
        (
            format!(
                r#"{{{base},"Analyzer":{{"Name":"a"}},"Attachment":[{{"Name":"a","Content":{{"k":{{"x":1,"x":2}}}}}}]}}"#
            ),
            "/Attachment/0/Content/k/x",
        ),
    ];
    for (text, pointer) in cases {
        let err = Message::from_slice(text.as_bytes()).unwrap_err();
        let got: Vec<String> = err
            .violations()
            .iter()
            .map(|v| v.pointer().to_string())
            .collect();
        assert!(got.contains(&pointer.to_string()), "{text}: {got:?}");
    }
}

#[test]
fn content_is_an_object_or_a_string() {
    let a = Attachment::builder("x")
        .content("aGVsbG8=")
        .build()
        .unwrap();
    assert_eq!(a.content, Some(Content::Text("aGVsbG8=".into())));
    let err = Attachment::builder("x")
        .content(json!([1]))
        .build()
        .unwrap_err();
    assert_eq!(err.violations()[0].pointer(), "/Content");
}

#[test]
fn member_order_survives_a_round_trip() {
    let text = r#"{"CreateTime":"2025-01-01T00:00:00Z","Analyzer":{"Name":"a","IP":"192.0.2.1"},"ID":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","Version":"2.D.V08","Note":"n"}"#;
    let mut m = Message::from_slice(text.as_bytes()).unwrap();
    assert_eq!(String::from_utf8(m.to_vec()).unwrap(), text);
    // Members set later follow the recorded ones, in schema order.
    m.description = Some("d".into());
    m.priority = None;
    m.note = None;
    let again = String::from_utf8(m.to_vec()).unwrap();
    assert!(
        again.starts_with(
            r#"{"CreateTime":"2025-01-01T00:00:00Z","Analyzer":{"Name":"a","IP":"192.0.2.1"},"ID":"#
        ),
        "{again}"
    );
    assert!(
        again.ends_with(r#""Version":"2.D.V08","Description":"d"}"#),
        "{again}"
    );
    // Order is presentation only.
    let canonical: Message = serde_json::from_value(m.to_value()).unwrap();
    assert_eq!(canonical, m);
    assert!(String::from_utf8(canonical.to_vec())
        .unwrap()
        .starts_with(r#"{"Version":"2.D.V08","ID":"#));
}

#[test]
fn broken_patterns_are_explained_in_words_everywhere() {
    let built = Message::builder(analyzer().ip("1.2.3.999"))
        .build()
        .unwrap_err();
    let value = json!({"Version": "2.D.V08", "ID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "CreateTime": "2025-01-01T00:00:00Z", "Analyzer": {"Name": "a", "IP": "1.2.3.999"}});
    let validated = idmefv2::validate(&value).unwrap_err();
    let decoded = Message::from_slice(value.to_string().as_bytes()).unwrap_err();
    for e in [&built, &validated, &decoded] {
        let v = &e.violations()[0];
        assert_eq!((v.pointer(), v.keyword()), ("/Analyzer/IP", "pattern"));
        assert_eq!(v.reason(), "not an IPv4 or IPv6 address");
    }
}

#[test]
fn format_checks_agree_with_the_schema_validator_whatever_came_before() {
    use idmefv2::types::{Email, Uri};
    // The typed checks reuse one buffer per thread: a long text, a text
    // with a trailing part of an earlier one, and a short text must each be
    // judged alone, exactly as the schema validator judges them.
    let email = |s: &str| {
        let schema = serde_json::json!({"format": "email"});
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        validator.is_valid(&serde_json::Value::String(s.to_owned()))
    };
    let long_local = format!("{}@example.org", "a".repeat(2000));
    let cases = [
        long_local.as_str(),
        "a@example.org",
        "a@",
        "user.name+tag@sub.example.org",
        "@example.org",
        "a@example.org ",
        "",
    ];
    for s in cases {
        assert_eq!(Email::new(s).is_ok(), email(s), "{s:?}");
    }
    assert!(Email::new("a@example.org").is_ok());
    assert!(Email::new("a@").is_err());
    assert!(Uri::new(format!("https://example.org/{}", "p".repeat(3000))).is_ok());
    assert!(Uri::new("https://example.org/").is_ok());
    assert!(Uri::new("no scheme").is_err());
    assert!(Uri::new("https://example.org/").is_ok());
}

#[test]
fn to_vec_writes_what_serde_json_writes() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/valid");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let message = Message::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let bytes = message.to_vec();
            assert_eq!(bytes, serde_json::to_vec(&message).unwrap(), "{path:?}");
            assert_eq!(Message::from_slice(&bytes).unwrap(), message, "{path:?}");
            seen += 1;
        }
    }
    assert!(seen > 10, "fixtures not found in {dir}");
}

/// What `Message`'s docs say of decoding with serde directly: the same
/// rules and the same messages, but no size limit, no member order and no
/// explanations.
#[test]
fn direct_serde_decoding_keeps_the_rules_and_skips_what_the_docs_say() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let read = |dir: &str| -> Vec<(String, Vec<u8>)> {
        let mut all: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
            .collect();
        all.sort();
        all
    };
    let mut reordered = 0;
    for (name, bytes) in read("valid") {
        let ours = Message::from_slice(&bytes).unwrap();
        let direct: Message =
            serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(direct, ours, "{name}");
        assert_eq!(direct.to_value(), ours.to_value(), "{name}");
        // Member order is the one thing the direct path loses.
        if direct.to_vec() != ours.to_vec() {
            reordered += 1;
        }
    }
    assert!(
        reordered > 0,
        "no fixture shows the member order difference"
    );
    for (name, bytes) in read("invalid") {
        assert!(Message::from_slice(&bytes).is_err(), "{name}");
        assert!(
            serde_json::from_slice::<Message>(&bytes).is_err(),
            "{name}: the direct serde path accepted it"
        );
    }
    // Content nested past the default depth is refused both ways.
    let deep = format!(
        r#"{{"Version": "2.D.V08", "ID": "6ba7b801-9dad-11d1-80b4-00c04fd430c8",
            "CreateTime": "2025-01-01T00:00:00Z", "Analyzer": {{"Name": "a"}},
            "Attachment": [{{"Name": "a", "Content": {}{}}}]}}"#,
        r#"{"a":["#.repeat(40),
        "]}".repeat(40)
    );
    assert!(matches!(
        Message::from_slice(deep.as_bytes()),
        Err(Error::TooDeep { .. })
    ));
    assert!(serde_json::from_slice::<Message>(deep.as_bytes()).is_err());
    // The size limit is from_slice's only.
    let mut padded = br#"{"Version": "2.D.V08", "ID": "6ba7b801-9dad-11d1-80b4-00c04fd430c8",
        "CreateTime": "2025-01-01T00:00:00Z", "Analyzer": {"Name": "a"}}"#
        .to_vec();
    padded.resize(Limits::DEFAULT_MAX_BYTES + 1, b' ');
    assert!(matches!(
        Message::from_slice(&padded),
        Err(Error::TooLarge { .. })
    ));
    assert!(serde_json::from_slice::<Message>(&padded).is_ok());
}

#[test]
fn timestamps_from_instants_that_rfc_3339_cannot_write_are_refused() {
    let before_year_0 = time::Date::from_calendar_date(-1, time::Month::June, 1)
        .unwrap()
        .midnight()
        .assume_utc();
    let error = Timestamp::try_from(before_year_0).unwrap_err();
    assert_eq!(error.reason(), "year outside 0000-9999");
    let odd_offset =
        time::OffsetDateTime::UNIX_EPOCH.to_offset(time::UtcOffset::from_hms(1, 0, 30).unwrap());
    assert!(Timestamp::try_from(odd_offset).is_err());
    // The builder reports the same, at the field's pointer.
    let error = Message::builder(analyzer())
        .create_time(before_year_0)
        .build()
        .unwrap_err();
    assert_eq!(error.violations()[0].pointer(), "/CreateTime");
    assert_eq!(error.violations()[0].kind(), SchemaKeyword::Pattern.into());
    let fine = time::OffsetDateTime::UNIX_EPOCH;
    assert_eq!(
        Timestamp::try_from(fine).unwrap().as_str(),
        "1970-01-01T00:00:00Z"
    );
}

#[test]
fn violation_kinds_keep_their_text() {
    use idmefv2::{strict::Rule, ViolationKind};
    let bad = br#"{"Version": "2.D.V08", "ID": "nope", "CreateTime": "2025-01-01T00:00:00Z",
                   "Analyzer": {"Name": "x"}}"#;
    let error = Message::from_slice(bad).unwrap_err();
    let v = &error.violations()[0];
    assert_eq!(v.kind(), ViolationKind::Schema(SchemaKeyword::Pattern));
    assert_eq!(v.keyword(), "pattern");
    assert_eq!(ViolationKind::Rule(Rule::PortRange).as_str(), "port-range");
    assert_eq!(ViolationKind::Model.to_string(), "model");
    // The violations of an Invalid error are borrowed, not copied.
    assert!(matches!(error.violations(), std::borrow::Cow::Borrowed(_)));
    let error = Message::from_slice(b"[").unwrap_err();
    assert_eq!(error.violations()[0].kind(), ViolationKind::Input);
    for rule in Rule::ALL {
        assert!(rule.as_str().contains('-') || rule.as_str() == "ext-value");
    }
}

/// One casing rule for every generated value name: each word of the value
/// is capitalised with the rest in lower case, so acronyms are one word and
/// no name has two capitals in a row.
#[test]
fn value_names_follow_one_casing_rule() {
    use idmefv2::types::*;
    fn names<T: std::fmt::Debug>(all: &[T]) -> Vec<String> {
        all.iter().map(|v| format!("{v:?}")).collect()
    }
    let all: Vec<String> = [
        names(&AnalyzerCategory::ALL),
        names(&AnalyzerData::ALL),
        names(&AnalyzerMethod::ALL),
        names(&Category::ALL),
        names(&Cause::ALL),
        names(&EntitySector::ALL),
        names(&IncidentType::ALL),
        names(&Priority::ALL),
        names(&SourceCategory::ALL),
        names(&Status::ALL),
        names(&TargetCategory::ALL),
    ]
    .concat();
    assert!(all.len() > 600, "{}", all.len());
    for name in &all {
        let capitals_in_a_row = name
            .as_bytes()
            .windows(2)
            .any(|w| w[0].is_ascii_uppercase() && w[1].is_ascii_uppercase());
        assert!(!capitals_in_a_row, "{name}");
    }
    for (value, name) in [
        (Category::AvailabilityDdos.as_str(), "Availability.DDoS"),
        (Category::TheftIp.as_str(), "Theft.IP"),
        (Category::ReconOsint.as_str(), "Recon.OSINT"),
        (AnalyzerCategory::Phy3dLidar.as_str(), "PHY.3D-LiDAR"),
        (AnalyzerCategory::OtIotIds.as_str(), "OT.IoT-IDS"),
        (EntitySector::CivilNgos.as_str(), "Civil.NGOs"),
        (
            SourceCategory::CyberNetworkIpv4.as_str(),
            "Cyber.Network.IPv4",
        ),
        (
            SourceCategory::CyberWebHttpMethod.as_str(),
            "Cyber.Web.HTTPMethod",
        ),
        (
            SourceCategory::ChemBioPropertiesPhLevel.as_str(),
            "ChemBio.Properties.pHLevel",
        ),
        (
            EntitySector::ReligiousPlacesOfWorship.as_str(),
            "Religious.PlacesOfWorship",
        ),
    ] {
        assert_eq!(value, name);
    }
}

/// Sizes come from `len()`, a `usize`; the builders take one directly.
#[test]
fn sizes_accept_usize() {
    let data = b"MZ\x90\x00".to_vec();
    let attachment = Attachment::builder("sample")
        .size(data.len())
        .build()
        .unwrap();
    assert_eq!(attachment.size.unwrap().as_u64(), Some(4));
    let port: usize = 8443;
    let source = Source::builder(Id::generate()).port(port).build().unwrap();
    assert_eq!(source.port.unwrap()[0].as_u64(), Some(8443));
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn hash_of(value: &impl std::hash::Hash) -> u64 {
    use std::hash::{BuildHasher, RandomState};
    static STATE: std::sync::OnceLock<RandomState> = std::sync::OnceLock::new();
    STATE.get_or_init(RandomState::new).hash_one(value)
}

#[test]
fn timestamps_compare_by_instant_and_keep_their_text() {
    let earlier = ts("2025-01-01T00:30:00+01:00");
    let later = ts("2025-01-01T00:00:00Z");
    assert!(earlier < later);
    assert_eq!(earlier.as_str(), "2025-01-01T00:30:00+01:00");
    // One instant, three ways of writing it.
    let same = [
        ts("2024-12-31T23:30:00Z"),
        ts("2024-12-31T23:30:00.000-00:00"),
        ts("2025-01-01T01:00:00.0+01:30"),
    ];
    for t in &same {
        assert_eq!(*t, earlier, "{t}");
        assert_eq!(hash_of(t), hash_of(&earlier), "{t}");
    }
    let set: std::collections::HashSet<Timestamp> = same.iter().cloned().collect();
    assert_eq!(set.len(), 1);
    // Fractions compare as decimals.
    assert!(ts("2025-01-01T00:00:00.05Z") < ts("2025-01-01T00:00:00.5Z"));
    assert!(ts("2025-01-01T00:00:00.5Z") < ts("2025-01-01T00:00:00.51Z"));
    assert_eq!(ts("2025-01-01T00:00:00.500Z"), ts("2025-01-01T00:00:00.5Z"));
    // Precision past nanoseconds is not lost.
    assert!(ts("2025-01-01T00:00:00.1234567891Z") < ts("2025-01-01T00:00:00.1234567892Z"));
    // A leap second sits between second 59 and the next minute, whatever
    // the offset it is written with.
    let leap = ts("2016-12-31T23:59:60.5Z");
    assert!(ts("2016-12-31T23:59:59.999Z") < leap);
    assert!(leap < ts("2017-01-01T00:00:00Z"));
    assert_eq!(leap, ts("2017-01-01T00:59:60.5+01:00"));
}

#[test]
fn timestamps_without_offset_and_impossible_dates_compare_as_documented() {
    let local = ts("2025-01-01T12:00:00");
    // A wall-clock time of unknown zone equals no instant...
    assert_ne!(local, ts("2025-01-01T12:00:00Z"));
    assert_eq!(local, ts("2025-01-01T12:00:00.000"));
    // ...and sorts as if it were UTC, right after that instant.
    assert!(ts("2025-01-01T12:00:00Z") < local);
    assert!(local < ts("2025-01-01T12:00:00.001Z"));
    assert!(ts("2025-01-01T12:30:00+01:00") < local);
    // A date the calendar lacks equals only itself, and sorts where its
    // days run on to.
    let feb30 = ts("2025-02-30T00:00:00Z");
    assert_ne!(feb30, ts("2025-03-02T00:00:00Z"));
    assert_eq!(feb30, ts("2025-02-30T00:00:00Z"));
    assert!(ts("2025-02-28T00:00:00Z") < feb30);
    assert!(feb30 < ts("2025-03-03T00:00:00Z"));
    assert!(ts("2024-12-31T00:00:00Z") < ts("2025-00-31T12:00:00Z"));
    // Sorting a mixed list gives the order of the instants.
    let mut list = [
        ts("2025-01-01T00:00:00Z"),
        ts("2025-01-01T00:30:00+01:00"),
        ts("2024-12-31T23:45:00"),
        ts("2024-12-31T23:59:59.9-00:00"),
    ];
    list.sort();
    let texts: Vec<&str> = list.iter().map(Timestamp::as_str).collect();
    assert_eq!(
        texts,
        [
            "2025-01-01T00:30:00+01:00",
            "2024-12-31T23:45:00",
            "2024-12-31T23:59:59.9-00:00",
            "2025-01-01T00:00:00Z",
        ]
    );
}

#[test]
fn ids_compare_by_uuid_and_keep_their_text() {
    let lower: Id = "6ba7b810-9dad-11d1-80b4-00c04fd430c8".parse().unwrap();
    let upper: Id = "6BA7B810-9DAD-11D1-80B4-00C04FD430C8".parse().unwrap();
    assert_eq!(lower, upper);
    assert_eq!(hash_of(&lower), hash_of(&upper));
    assert_eq!(upper.as_str(), "6BA7B810-9DAD-11D1-80B4-00C04FD430C8");
    let next: Id = "6BA7B810-9DAD-11D1-80B4-00C04FD430C9".parse().unwrap();
    assert!(lower < next && upper < next);
    // Ordered by value, as uuid::Uuid orders.
    let (a, b) = (
        Id::from(uuid::Uuid::from_u128(0xA)),
        Id::from(uuid::Uuid::from_u128(0x1_0)),
    );
    assert_eq!(a.cmp(&b), a.to_uuid().cmp(&b.to_uuid()));
}

/// `==` on a message compares content by meaning: an ID in another case
/// or a timestamp with another offset is the same message, although it is
/// written differently.
#[test]
fn messages_are_equal_by_meaning_and_differ_as_values() {
    let message = |id: &str, time: &str| -> Message {
        format!(
            r#"{{"Version": "2.D.V08", "ID": "{id}", "CreateTime": "{time}",
                "Analyzer": {{"Name": "ids", "IP": "192.0.2.1"}}}}"#
        )
        .parse()
        .unwrap()
    };
    let id = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
    let a = message(id, "2025-01-01T00:30:00+01:00");
    let b = message(&id.to_uppercase(), "2024-12-31T23:30:00Z");
    assert_eq!(a, b);
    assert_ne!(a.to_value(), b.to_value());
    assert_ne!(a, message(id, "2024-12-31T23:30:01Z"));
}

/// Text and bytes go in with their encoding stated and base64 done, so the
/// strict checks pass; a bare text `Content` keeps the meaning the
/// specification gives it (JSON), which the strict checks refuse.
#[test]
fn attachments_take_text_bytes_and_json_the_strict_way() {
    let log = "Failed password for root from 198.51.100.7 port 4242 ssh2\n";
    let built = |attachment: idmefv2::types::AttachmentBuilder| {
        Message::builder(analyzer())
            .attachment(attachment)
            .build()
            .map(|m| m.attachment.unwrap().remove(0))
    };
    let bare = Message::builder(analyzer())
        .attachment(
            Attachment::builder("log")
                .content_type("text/plain")
                .content(log),
        )
        .build()
        .unwrap();
    bare.validate().unwrap();
    let refused = bare.validate_strict().unwrap_err();
    assert_eq!(refused.violations()[0].keyword(), "json-content");

    let text = built(Attachment::builder("log").text(log)).unwrap();
    assert_eq!(
        text.content_type.unwrap().as_str(),
        "text/plain; charset=utf-8"
    );
    assert_eq!(text.content_encoding.as_deref(), Some("base64"));
    let Some(Content::Text(encoded)) = &text.content else {
        panic!("{:?}", text.content)
    };
    assert_eq!(
        encoded,
        "RmFpbGVkIHBhc3N3b3JkIGZvciByb290IGZyb20gMTk4LjUxLjEwMC43IHBvcnQgNDI0MiBzc2gyCg=="
    );
    // A content type given before or after is kept.
    for csv in [
        Attachment::builder("t")
            .content_type("text/csv")
            .text("a,b\n"),
        Attachment::builder("t")
            .text("a,b\n")
            .content_type("text/csv"),
    ] {
        assert_eq!(
            built(csv).unwrap().content_type.unwrap().as_str(),
            "text/csv"
        );
    }
    let bytes = built(Attachment::builder("pcap").bytes([0xd4, 0xc3, 0xb2, 0xa1])).unwrap();
    assert_eq!(
        bytes.content_type.unwrap().as_str(),
        "application/octet-stream"
    );
    assert_eq!(bytes.content, Some(Content::Text("1MOyoQ==".into())));

    let object =
        built(Attachment::builder("ctx").json(json!({"OperatorMail": "soc@example.org"}))).unwrap();
    assert_eq!(object.content_encoding.as_deref(), Some("json"));
    assert_eq!(
        object.content,
        Some(Content::Text(
            r#"{"OperatorMail":"soc@example.org"}"#.into()
        ))
    );
    let error = built(Attachment::builder("ctx").json(json!([1, 2]))).unwrap_err();
    let pointers: Vec<String> = error
        .violations()
        .iter()
        .map(|v| v.pointer().to_string())
        .collect();
    assert_eq!(pointers, ["/Attachment/0/Content"]);

    let message = Message::builder(analyzer())
        .attachment(Attachment::builder("log").text(log))
        .attachment(Attachment::builder("pcap").bytes(b"\x00\x01"))
        .attachment(Attachment::builder("ctx").json(json!({"k": "v"})))
        .build()
        .unwrap();
    message.validate_strict().unwrap();
}

/// An unknown value of a value list is answered with the closest valid
/// spellings, a letter-case match first, in the same words whether typed
/// decoding, untyped validation, `FromStr` or `Message::set` refused it.
#[test]
fn unknown_values_name_the_closest_spellings_everywhere() {
    use idmefv2::types::Priority;
    let message = |priority: &str| {
        json!({"Version": "2.D.V08", "ID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
               "CreateTime": "2025-01-01T00:00:00Z", "Analyzer": {"Name": "ids"},
               "Priority": priority})
    };
    let expected = "not a value of the Priority list; did you mean `High`?";
    let typed = Message::from_slice(&serde_json::to_vec(&message("high")).unwrap()).unwrap_err();
    let untyped = idmefv2::validate(&message("high")).unwrap_err();
    let parsed = "high".parse::<Priority>().unwrap_err();
    let mut built = Message::builder(analyzer()).build().unwrap();
    let set = built.set(&"Priority".parse().unwrap(), "high").unwrap_err();
    for (how, v) in [
        ("typed", typed.violations()[0].clone()),
        ("untyped", untyped.violations()[0].clone()),
        ("FromStr", parsed),
        ("set", set.violations()[0].clone()),
    ] {
        assert_eq!(v.reason(), expected, "{how}");
        assert_eq!(v.keyword(), "enum", "{how}");
    }
    let reason = |text: &str| {
        idmefv2::validate(&message(text)).unwrap_err().violations()[0]
            .reason()
            .to_string()
    };
    assert_eq!(
        reason("Hihg"),
        "not a value of the Priority list; did you mean `High`?"
    );
    // Nothing close: the short list is spelt out, and the text sent is
    // never repeated.
    let far = reason("customer-4711");
    assert_eq!(
        far,
        "not a value of the Priority list; expected `Unknown`, `Info`, `Low`, `Medium` or `High`"
    );
    let category = "Recon.Netwrok".parse::<Category>().unwrap_err();
    assert_eq!(
        category.reason(),
        "not a value of the Category list; did you mean `Recon.Network`?"
    );
    let far = "Zzz.customer-4711".parse::<Category>().unwrap_err();
    assert!(!far.reason().contains("4711"), "{far}");
}

/// Other refusals say what was expected: the JSON type wanted and the one
/// found, the closest member name, the class missing a member.
#[test]
fn refusals_say_what_was_expected() {
    let error = idmefv2::validate(&json!({
        "Version": "2.D.V08", "ID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "CreateTime": "2025-01-01T00:00:00Z", "Analyzer": {"IP": "192.0.2.1"},
        "Category": "Recon.Network", "Confidence": "high", "Hostname": "x",
        "Source": [{"ID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "Hostame": "db"}]
    }))
    .unwrap_err();
    let mut found: Vec<(String, String)> = error
        .violations()
        .iter()
        .map(|v| (v.pointer().to_string(), v.reason().to_string()))
        .collect();
    found.sort();
    let expected: Vec<(String, String)> = [
        ("", "unknown member of the message: `Hostname`"),
        ("/Analyzer", "Analyzer lacks its required member `Name`"),
        ("/Category", "expected an array, found a string"),
        ("/Confidence", "expected a number, found a string"),
        (
            "/Source/0",
            "unknown member of Source: `Hostame` (did you mean `Hostname`?)",
        ),
    ]
    .iter()
    .map(|(p, r)| (p.to_string(), r.to_string()))
    .collect();
    assert_eq!(found, expected);
    let path = |text: &str| {
        text.parse::<idmefv2::Path>()
            .unwrap_err()
            .reason()
            .to_string()
    };
    assert_eq!(
        path("Source.Hostame"),
        "unknown attribute name for class Source; did you mean `Hostname`?"
    );
    assert_eq!(
        path("Sourse.IP"),
        "unknown class name; did you mean `Source`?"
    );
    assert_eq!(
        path("Vector.Name"),
        "unknown class name; the classes are `Analyzer`, `Sensor`, `Source`, `Target` and `Attachment`"
    );
}

/// A message with a UTF-8 byte-order mark is refused, and the mark named,
/// by every entry point that reads bytes.
#[test]
fn a_byte_order_mark_is_refused_by_name() {
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend(Message::builder(analyzer()).build().unwrap().to_vec());
    let errors = [
        Message::from_slice(&bytes).unwrap_err(),
        idmefv2::validate_slice(&bytes, &Limits::default()).unwrap_err(),
        idmefv2::upgrade::upgrade_slice(&bytes, &Limits::default(), Version::V08).unwrap_err(),
        Message::unserialize_with(
            &SerializedMessage {
                content_type: "application/json".into(),
                payload: bytes.clone(),
            },
            &Limits::default(),
        )
        .unwrap_err(),
    ];
    for error in errors {
        let Error::Syntax {
            line,
            column,
            reason,
        } = &error
        else {
            panic!("{error:?}")
        };
        assert_eq!((*line, *column), (1, 1));
        assert!(reason.contains("byte-order mark"), "{reason}");
    }
    // Without it, the same bytes are a message.
    Message::from_slice(&bytes[3..]).unwrap();
}

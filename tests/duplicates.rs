//! Duplicate members are refused wherever they appear: at the top level, in
//! every class, at any depth of attachment content, and whatever escapes
//! spell the repeated name. The error names the repeated member's pointer.

use idmefv2::{Error, Limits, Message};

const ID: &str = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";

/// A valid message with every class present; `{X}` marks where a test
/// puts extra members.
fn message(
    top: &str,
    analyzer: &str,
    sensor: &str,
    source: &str,
    target: &str,
    attachment: &str,
    content: &str,
) -> String {
    format!(
        r#"{{"Version":"2.D.V08","ID":"{ID}","CreateTime":"2025-01-01T00:00:00Z"{top},
            "Analyzer":{{"Name":"a"{analyzer}}},
            "Sensor":[{{"Name":"s0"}},{{"Name":"s1"{sensor}}}],
            "Source":[{{"ID":"{ID}"}},{{"ID":"{ID}"{source}}}],
            "Target":[{{"ID":"{ID}"{target}}}],
            "Attachment":[{{"Name":"x"}},{{"Name":"y"{attachment},"Content":{{"k":[1,{{"deep":{{"v":1{content}}}}}]}}}}]}}"#
    )
}

fn assert_duplicate(text: &str, pointer: &str) {
    let error = Message::from_slice(text.as_bytes()).unwrap_err();
    assert_eq!(
        error,
        Error::DuplicateKey {
            pointer: pointer.to_string()
        },
        "{text}"
    );
    assert_eq!(error.violations()[0].pointer(), pointer);
    assert_eq!(error.violations()[0].keyword(), "duplicate");
    assert!(idmefv2::validate_slice(text.as_bytes(), &Limits::default()).is_err());
}

#[test]
fn the_base_message_is_valid() {
    let text = message("", "", "", "", "", "", "");
    Message::from_slice(text.as_bytes()).expect("base message");
}

#[test]
fn duplicates_are_refused_in_every_class() {
    let cases = [
        (
            message(r#","Note":"a","Note":"b""#, "", "", "", "", "", ""),
            "/Note",
        ),
        (
            message(r#","Version":"2.D.V08""#, "", "", "", "", "", ""),
            "/Version",
        ),
        (
            message(
                r#","ID":"{ID}""#.replace("{ID}", ID).as_str(),
                "",
                "",
                "",
                "",
                "",
                "",
            ),
            "/ID",
        ),
        (
            message("", r#","Name":"b""#, "", "", "", "", ""),
            "/Analyzer/Name",
        ),
        (
            message(
                "",
                r#","Category":[],"Category":["NET.NIDS"]"#,
                "",
                "",
                "",
                "",
                "",
            ),
            "/Analyzer/Category",
        ),
        (
            message("", "", r#","Name":"again""#, "", "", "", ""),
            "/Sensor/1/Name",
        ),
        (
            message("", "", "", &format!(r#","ID":"{ID}""#), "", "", ""),
            "/Source/1/ID",
        ),
        (
            message("", "", "", r#","Port":[1],"Port":[2]"#, "", "", ""),
            "/Source/1/Port",
        ),
        (
            message("", "", "", "", r#","Service":"a","Service":"a""#, "", ""),
            "/Target/0/Service",
        ),
        (
            message("", "", "", "", "", r#","Name":"z""#, ""),
            "/Attachment/1/Name",
        ),
        (
            message("", "", "", "", "", r#","Content":"again""#, ""),
            "/Attachment/1/Content",
        ),
        (
            message("", "", "", "", "", "", r#","v":2"#),
            "/Attachment/1/Content/k/1/deep/v",
        ),
    ];
    for (text, pointer) in cases {
        assert_duplicate(&text, pointer);
    }
}

#[test]
fn escaped_spellings_of_one_name_are_duplicates() {
    let cases = [
        (
            message("", r#","N\u0061me":"b""#, "", "", "", "", ""),
            "/Analyzer/Name",
        ),
        (
            message("", r#","\u004e\u0061\u006d\u0065":"b""#, "", "", "", "", ""),
            "/Analyzer/Name",
        ),
        (
            message(r#","\u0056ersion":"2.D.V08""#, "", "", "", "", "", ""),
            "/Version",
        ),
        (
            message("", "", "", &format!(r#","I\u0044":"{ID}""#), "", "", ""),
            "/Source/1/ID",
        ),
        (
            message("", "", "", "", "", "", r#","\u0076":2"#),
            "/Attachment/1/Content/k/1/deep/v",
        ),
    ];
    for (text, pointer) in cases {
        assert_duplicate(&text, pointer);
    }
    // In content, names that need pointer escaping are reported escaped.
    let text = message("", "", "", "", "", "", r#","a/b~c":1,"a\/b~c":2"#);
    assert_duplicate(&text, "/Attachment/1/Content/k/1/deep/a~1b~0c");
}

#[test]
fn repeated_unknown_members_are_refused_too() {
    // Whichever is found first, the message is refused; the duplicate is
    // what the slow path reports, since it reads the text before judging.
    let text = message(r#","Extra":1,"Extra":2"#, "", "", "", "", "", "");
    assert_duplicate(&text, "/Extra");
    let text = message("", "", "", "", "", "", "")
        .replace(r#""Content":{"k""#, r#""Content":{"same":{},"same":[],"k""#);
    assert_duplicate(&text, "/Attachment/1/Content/same");
}

#[test]
fn a_duplicate_next_to_another_error_is_still_reported() {
    // The value is also wrong (a number for a string), but the repeated
    // member makes the message ambiguous, which is reported.
    let text = message("", r#","Name":1"#, "", "", "", "", "");
    assert_duplicate(&text, "/Analyzer/Name");
}

#[test]
fn same_name_in_different_objects_is_fine() {
    // "Name" in Analyzer, Sensor and Attachment, "v" at two content levels.
    let text = message("", "", "", "", "", "", r#","w":{"v":2}"#);
    Message::from_slice(text.as_bytes()).expect("no object repeats a member");
    // Names that differ only in case are different members (and "name" is
    // unknown to Analyzer, so that message is refused as unknown, not as a
    // duplicate).
    let text = message("", r#","name":"b""#, "", "", "", "", "");
    let error = Message::from_slice(text.as_bytes()).unwrap_err();
    assert!(matches!(error, Error::Invalid(_)), "{error:?}");
    assert_eq!(error.violations()[0].pointer(), "/Analyzer");
}

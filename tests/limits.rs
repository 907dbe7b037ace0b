//! Hostile input: huge strings, huge arrays and deep nesting are refused
//! early with a clear error (or, under raised limits, handled) without
//! crashing, overflowing the stack or running for long.
//!
//! The time bounds below are generous on purpose: they catch quadratic or
//! runaway behaviour, not small slow-downs on a busy machine.

use std::time::{Duration, Instant};

use idmefv2::{Error, Limits, Message};

const HEAD: &str = r#""Version":"2.D.V08","ID":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","CreateTime":"2025-01-01T00:00:00Z","Analyzer":{"Name":"a"}"#;
const MB: usize = 1 << 20;
const GENEROUS: Duration = Duration::from_secs(30);

/// A message whose first attachment's content is `content`.
fn with_content(content: &str) -> Vec<u8> {
    format!(r#"{{{HEAD},"Attachment":[{{"Name":"a","Content":{content}}}]}}"#).into_bytes()
}

/// `{"a":{"a":...{}...}}` with `levels` objects.
fn nested_objects(levels: usize) -> String {
    let mut s = "{\"a\":".repeat(levels - 1);
    s.push_str("{}");
    s.push_str(&"}".repeat(levels - 1));
    s
}

/// An object holding `levels - 1` nested arrays: `{"a":[[...[]...]]}`.
fn nested_arrays(levels: usize) -> String {
    format!(
        "{{\"a\":{}{}}}",
        "[".repeat(levels - 1),
        "]".repeat(levels - 1)
    )
}

fn timed<T>(f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    assert!(start.elapsed() < GENEROUS, "took {:?}", start.elapsed());
    out
}

fn big_string_message(len: usize) -> Vec<u8> {
    let mut bytes = format!(r#"{{{HEAD},"Description":""#).into_bytes();
    bytes.resize(bytes.len() + len, b'x');
    bytes.extend_from_slice(b"\"}");
    bytes
}

#[test]
fn a_100_mb_string_is_too_large_by_default() {
    let bytes = big_string_message(100 * MB);
    let error = timed(|| Message::from_slice(&bytes)).unwrap_err();
    assert_eq!(
        error,
        Error::TooLarge {
            size: bytes.len(),
            limit: Limits::DEFAULT_MAX_BYTES
        }
    );
    assert!(error
        .to_string()
        .contains("exceeds the limit of 1048576 bytes"));
    let error = idmefv2::validate_slice(&bytes, &Limits::default()).unwrap_err();
    assert!(matches!(error, Error::TooLarge { .. }));
}

#[test]
fn a_100_mb_string_decodes_under_a_200_mb_limit() {
    let bytes = big_string_message(100 * MB);
    let limits = Limits::default().with_max_bytes(200 * MB);
    let message = timed(|| Message::from_slice_with(&bytes, &limits)).expect("valid message");
    assert_eq!(message.description.as_deref().map(str::len), Some(100 * MB));
    // One byte under its size, the same input is refused.
    let limits = Limits::default().with_max_bytes(bytes.len() - 1);
    assert!(matches!(
        Message::from_slice_with(&bytes, &limits),
        Err(Error::TooLarge { .. })
    ));
}

fn port_array(n: usize) -> Vec<u8> {
    let ports = vec!["443"; n].join(",");
    format!(
        r#"{{{HEAD},"Source":[{{"ID":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","Port":[{ports}]}}]}}"#
    )
    .into_bytes()
}

#[test]
fn a_million_element_array_is_too_large_by_default() {
    let bytes = port_array(1_000_000);
    let error = timed(|| Message::from_slice(&bytes)).unwrap_err();
    assert!(matches!(error, Error::TooLarge { limit, .. } if limit == Limits::DEFAULT_MAX_BYTES));
}

#[test]
fn a_million_ports_decode_under_a_raised_limit() {
    let bytes = port_array(1_000_000);
    let limits = Limits::default().with_max_bytes(200 * MB);
    let message = timed(|| Message::from_slice_with(&bytes, &limits)).expect("valid message");
    let sources = message.source.as_ref().expect("source");
    assert_eq!(sources[0].port.as_ref().map(Vec::len), Some(1_000_000));
    // A million-element array with one bad element is refused at it.
    let mut bad = String::from_utf8(bytes).unwrap();
    let at = bad.rfind("443").unwrap();
    bad.replace_range(at..at + 3, "4.5");
    let error = timed(|| Message::from_slice_with(bad.as_bytes(), &limits)).unwrap_err();
    let pointers: Vec<String> = error
        .violations()
        .iter()
        .map(|v| v.pointer().to_string())
        .collect();
    assert_eq!(pointers, ["/Source/0/Port/999999"]);
}

#[test]
fn a_million_element_array_in_content_is_handled() {
    let items = vec!["[]"; 1_000_000].join(",");
    let bytes = with_content(&format!("{{\"list\":[{items}]}}"));
    let error = timed(|| Message::from_slice(&bytes)).unwrap_err();
    assert!(matches!(error, Error::TooLarge { .. }));
    let limits = Limits::default().with_max_bytes(200 * MB);
    let message = timed(|| Message::from_slice_with(&bytes, &limits)).expect("valid message");
    assert_eq!(
        message.to_value()["Attachment"][0]["Content"]["list"][999_999],
        serde_json::json!([])
    );
}

fn content_pointer(segments: usize) -> String {
    format!("/Attachment/0/Content{}", "/a".repeat(segments))
}

#[test]
fn nesting_10000_deep_is_too_deep_by_default() {
    let bytes = with_content(&nested_objects(10_000));
    assert!(bytes.len() < Limits::DEFAULT_MAX_BYTES);
    let error = timed(|| Message::from_slice(&bytes)).unwrap_err();
    // The content object is level 1; the object at level 65 is refused.
    assert_eq!(
        error,
        Error::TooDeep {
            pointer: content_pointer(64),
            limit: Limits::DEFAULT_MAX_DEPTH
        }
    );
    assert!(error
        .to_string()
        .contains("nesting exceeds the limit of 64 levels"));

    let bytes = with_content(&nested_arrays(10_000));
    let error = timed(|| Message::from_slice(&bytes)).unwrap_err();
    let Error::TooDeep { pointer, limit } = error else {
        panic!("expected TooDeep, got {error:?}")
    };
    assert_eq!(limit, 64);
    assert_eq!(
        pointer,
        format!("/Attachment/0/Content/a{}", "/0".repeat(63))
    );
}

#[test]
fn nesting_10000_deep_is_refused_under_a_200_mb_limit() {
    let limits = Limits::default().with_max_bytes(200 * MB);
    for content in [nested_objects(10_000), nested_arrays(10_000)] {
        let bytes = with_content(&content);
        let error = timed(|| Message::from_slice_with(&bytes, &limits)).unwrap_err();
        assert!(
            matches!(error, Error::TooDeep { limit: 64, .. }),
            "{error:?}"
        );
    }
}

#[test]
fn deep_nesting_outside_content_is_refused_without_overflow() {
    // Where the schema wants a string, at the top and as the whole message.
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    let limits = Limits::default().with_max_bytes(200 * MB);
    for bytes in [
        format!(r#"{{{HEAD},"Description":{deep}}}"#).into_bytes(),
        format!(r#"{{{HEAD},"Unknown":{deep}}}"#).into_bytes(),
        deep.clone().into_bytes(),
        format!("{{\"a\":{deep}}}").into_bytes(),
    ] {
        let error = timed(|| Message::from_slice_with(&bytes, &limits)).unwrap_err();
        assert!(!error.violations().is_empty());
    }
    // Unclosed nesting is refused at the depth limit, before the parser
    // would reach the missing end.
    let open = "[".repeat(1_000_000);
    let error = timed(|| Message::from_slice_with(open.as_bytes(), &limits)).unwrap_err();
    assert!(matches!(error, Error::TooDeep { .. }), "{error:?}");
}

#[test]
fn configured_depth_is_honoured_below_and_above_the_default() {
    for limit in [1, 8, 64, 100, 200] {
        let limits = Limits::default().with_max_depth(limit);
        let fits = with_content(&nested_objects(limit));
        Message::from_slice_with(&fits, &limits)
            .unwrap_or_else(|e| panic!("depth {limit} under limit {limit}: {e}"));
        let over = with_content(&nested_objects(limit + 1));
        assert_eq!(
            Message::from_slice_with(&over, &limits).unwrap_err(),
            Error::TooDeep {
                pointer: content_pointer(limit),
                limit
            },
            "depth {} under limit {limit}",
            limit + 1
        );
        let arrays_fit = with_content(&nested_arrays(limit.max(2)));
        let limits_for_arrays = Limits::default().with_max_depth(limit.max(2));
        Message::from_slice_with(&arrays_fit, &limits_for_arrays)
            .unwrap_or_else(|e| panic!("arrays under limit {limit}: {e}"));
    }
    // A depth limit of zero refuses any content object.
    let limits = Limits::default().with_max_depth(0);
    assert!(matches!(
        Message::from_slice_with(&with_content("{}"), &limits),
        Err(Error::TooDeep { .. })
    ));
    assert!(Message::from_slice_with(&with_content("\"text\""), &limits).is_ok());
}

#[test]
fn configured_size_is_honoured_below_and_above_the_default() {
    for limit in [256, 1000, MB, 4 * MB] {
        let limits = Limits::default().with_max_bytes(limit);
        let fixed = big_string_message(0).len();
        let fits = big_string_message(limit - fixed);
        assert_eq!(fits.len(), limit);
        Message::from_slice_with(&fits, &limits).unwrap_or_else(|e| panic!("{limit}: {e}"));
        let over = big_string_message(limit - fixed + 1);
        assert_eq!(
            Message::from_slice_with(&over, &limits).unwrap_err(),
            Error::TooLarge {
                size: limit + 1,
                limit
            }
        );
    }
}

use serde_json::{json, Value};

use super::{address, address_text, instant, stix, stix_time};
use crate::{Error, Timestamp};

fn canonical(v: &Value) -> String {
    let mut out = String::new();
    stix::canonical_for_tests(v, &mut out);
    out
}

#[test]
fn canonical_json_sorts_members_and_drops_spaces() {
    let v = json!({"value": "a\"b", "b": [1, {"z": 2, "a": "é"}], "a": 0});
    assert_eq!(
        canonical(&v),
        r#"{"a":0,"b":[1,{"a":"é","z":2}],"value":"a\"b"}"#
    );
}

#[test]
fn sco_ids_follow_the_stix_rule() {
    // STIX's namespace over the canonical `{"value":"198.51.100.3"}`; the
    // expected id was computed apart, with Python's uuid.uuid5.
    let name = canonical(&json!({"value": "198.51.100.3"}));
    assert_eq!(name, r#"{"value":"198.51.100.3"}"#);
    let id = uuid::Uuid::new_v5(&stix::SCO_NAMESPACE, name.as_bytes());
    assert_eq!(id.to_string(), "4767ef70-3e65-5aad-9f26-f5b08edf8d4f");
}

#[test]
fn stix_times_keep_at_least_milliseconds() {
    let cases = [
        ("2026-03-01T10:00:00Z", "2026-03-01T10:00:00.000Z"),
        ("2026-03-01T10:00:00.5+01:00", "2026-03-01T09:00:00.500Z"),
        (
            "2026-03-01T10:00:00.123456-00:30",
            "2026-03-01T10:30:00.123456Z",
        ),
        (
            "2026-03-01T00:00:00.000000001Z",
            "2026-03-01T00:00:00.000000001Z",
        ),
    ];
    for (text, want) in cases {
        let t = Timestamp::new(text).unwrap();
        assert_eq!(
            stix_time(instant(&t, "/CreateTime").unwrap()),
            want,
            "{text}"
        );
    }
}

#[test]
fn timestamps_without_an_instant_are_refused_at_their_pointer() {
    for text in [
        "2026-02-31T10:00:00Z",
        "2026-12-31T23:59:60Z",
        "2026-03-01T10:00:00",
        "2026-00-10T10:00:00Z",
        "0000-01-01T00:30:00+01:00",
    ] {
        let t = Timestamp::new(text).unwrap();
        match instant(&t, "/StartTime") {
            Err(Error::Export { pointer, reason }) => {
                assert_eq!(pointer, "/StartTime");
                assert!(!reason.contains(text), "{reason}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn addresses_in_canonical_form_or_refused() {
    let ok = [
        ("192.0.2.1", "192.0.2.1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("::ffff:192.0.2.1", "0:0:0:0:0:ffff:c000:201"),
    ];
    for (text, want) in ok {
        assert_eq!(address_text(address(text, "/IP").unwrap()), want);
    }
    for text in ["010.0.0.1", "fe80::1%eth0"] {
        assert!(
            matches!(address(text, "/Source/0/IP"), Err(Error::Export { pointer, .. }) if pointer == "/Source/0/IP")
        );
    }
}

//! Arbitrary text through the IDMEF criteria compiler, and what compiles
//! run on arbitrary JSON: the first line is the criterion, the rest the
//! message. Nothing may panic; a refusal points inside the text; `!c`
//! holds exactly where `c` does not; reading only the members named
//! decides as reading the whole value does.
#![no_main]

use idmefv2::criteria::Criteria;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (text, message) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let criteria = match Criteria::parse(text) {
        Ok(c) => c,
        Err(e) => {
            assert!(e.position() <= text.len(), "a position past the end");
            return;
        }
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(message) else {
        let _ = criteria.matches_json(message);
        return;
    };
    let holds = criteria.matches_value(&value);
    if value.is_object() {
        // Duplicate members: serde_json's Value keeps the last, as the
        // sparse reader does.
        assert_eq!(criteria.matches_json(message).ok(), Some(holds));
    }
    // Past the nesting limit the negation itself is refused.
    if let Ok(negated) = Criteria::parse(&format!("!({text})")) {
        assert_eq!(negated.matches_value(&value), !holds);
    }
});

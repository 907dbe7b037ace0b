//! Arbitrary bytes through the typed decoder: it must never panic, and a
//! message it accepts must encode and decode back to itself.
#![no_main]

use idmefv2::{Message, SerializedMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let direct = Message::from_slice(data);
    let encoded = SerializedMessage {
        content_type: "application/json".into(),
        payload: data.to_vec(),
    };
    let via_codec = Message::unserialize(&encoded);
    assert_eq!(
        direct.is_ok(),
        via_codec.is_ok(),
        "codec and from_slice disagree"
    );
    if let Ok(message) = direct {
        assert_eq!(via_codec.ok().as_ref(), Some(&message));
        let bytes = message.to_vec();
        let again = Message::from_slice(&bytes).expect("a re-encoded message decodes");
        assert_eq!(again, message, "round trip changed the message");
        assert_eq!(again.to_value(), message.to_value());
        let original: serde_json::Value =
            serde_json::from_slice(data).expect("accepted input is JSON");
        assert_eq!(message.to_value(), original, "decoding rewrote the input");
        idmefv2::validate(&original).expect("a decoded message validates");
    }
});

//! Arbitrary bytes, when they parse as JSON, through the schema validator:
//! it must never panic, and it must agree with the typed decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let verdict = idmefv2::validate(&value);
    if let Err(error) = &verdict {
        assert!(!error.violations().is_empty(), "a refusal without a reason");
    }
    // Input with a duplicate member parses as a Value (the last one wins)
    // but is refused by the decoder; past the default limits it is refused
    // too. Otherwise both must say the same.
    match idmefv2::Message::from_slice(data) {
        Ok(_) => assert!(verdict.is_ok(), "decoder accepted what validate refused"),
        // A valid message of an older draft: the typed model holds
        // 2.D.V08 and 2.D.V09-Dev only.
        Err(idmefv2::Error::OlderDraft { .. }) => {
            assert!(
                verdict.is_ok(),
                "OlderDraft for a message its draft refuses"
            )
        }
        Err(idmefv2::Error::DuplicateKey { .. })
        | Err(idmefv2::Error::TooDeep { .. })
        | Err(idmefv2::Error::TooLarge { .. }) => {}
        Err(e) => assert!(
            verdict.is_err(),
            "validate accepted what the decoder refused: {e}"
        ),
    }
});

//! Properties over generated input: every valid message decodes, encodes
//! and decodes back to itself; no input, however broken, makes decoding or
//! validation panic; on mutated messages the typed decoder and
//! `idmefv2::validate` give the same verdict; and every message the
//! builders make from values the rules allow passes the strict checks.

use std::sync::OnceLock;

use idmefv2::{
    types::{
        AnalyzerCategory, AnalyzerData, AnalyzerMethod, Category, Priority, SourceCategory, Status,
        TargetCategory,
    },
    Analyzer, Attachment, Error, Id, Message, Source, Target, Timestamp,
};
use idmefv2_tools::gen::{self, Generator, Rng};
use proptest::prelude::*;
use serde_json::Value;

/// A generated message of a random revision, written as JSON text.
fn generated(seed: u64) -> (gen::Generated, Vec<u8>) {
    let mut rng = Rng::new(seed);
    let mut generators = Generator::all();
    let which = rng.below(generators.len());
    let message = generators[which].message(&mut rng);
    let bytes = gen::render(&message.value, &mut rng);
    (message, bytes)
}

fn fixtures() -> &'static [Vec<u8>] {
    static ALL: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    ALL.get_or_init(|| {
        ["valid", "invalid"]
            .into_iter()
            .flat_map(idmefv2_tools::fixtures::read)
            .map(|(_, bytes)| bytes)
            .collect()
    })
}

/// One byte-level edit of a text.
#[derive(Clone, Debug)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    const INTERESTING: &[u8] = b"{}[]\":,\\0123456789-+.eEtfnul \n\xff\xc3\x80";
    let byte = prop_oneof![any::<u8>(), proptest::sample::select(INTERESTING)];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Remove),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Edit::Duplicate(i, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, edits: &[Edit]) {
    for e in edits {
        let len = bytes.len().max(1);
        match *e {
            Edit::Flip(i, b) if !bytes.is_empty() => bytes[i % len] = b,
            Edit::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
            Edit::Remove(i) if !bytes.is_empty() => {
                bytes.remove(i % len);
            }
            Edit::Truncate(i) => bytes.truncate(i % (bytes.len() + 1)),
            Edit::Duplicate(i, n) if !bytes.is_empty() => {
                let start = i % len;
                let end = (start + n).min(bytes.len());
                let copy = bytes[start..end].to_vec();
                bytes.splice(start..start, copy);
            }
            _ => {}
        }
    }
}

/// Decodes and validates `bytes` every way the crate offers; none may
/// panic, and when the input is a JSON value without duplicate members
/// within the limits, typed decoding and `validate` must agree.
fn exercise(bytes: &[u8]) -> Result<(), TestCaseError> {
    let typed = Message::from_slice(bytes);
    let slice = idmefv2::validate_slice(bytes, &idmefv2::Limits::default());
    // validate_slice also accepts valid messages of the older drafts, which
    // typed decoding refuses with OlderDraft.
    let older = matches!(typed, Err(Error::OlderDraft { .. }));
    prop_assert_eq!(typed.is_ok() || older, slice.is_ok());
    if let Err(e) = &typed {
        prop_assert!(!e.violations().is_empty());
        let _ = e.to_string();
    }
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        let untyped = idmefv2::validate(&value);
        match &typed {
            Ok(m) => {
                prop_assert!(untyped.is_ok(), "validate refused a decoded message");
                prop_assert_eq!(&m.to_value(), &value);
            }
            Err(Error::DuplicateKey { .. } | Error::TooDeep { .. }) => {}
            // A valid message of an older draft: the typed model holds
            // 2.D.V08 and 2.D.V09-Dev only, and says so.
            Err(Error::OlderDraft { .. }) => {
                prop_assert!(
                    untyped.is_ok(),
                    "OlderDraft for a message its draft refuses"
                )
            }
            Err(e) => prop_assert!(
                untyped.is_err(),
                "validate accepted what decoding refused: {e}"
            ),
        }
    }
    Ok(())
}

/// A value of `all` other than the extension entry `ext` (which needs its
/// extension text, given separately).
fn listed<T: Copy + PartialEq>(rng: &mut Rng, all: &[T], ext: Option<T>) -> T {
    loop {
        let value = *rng.pick(all);
        if Some(value) != ext {
            return value;
        }
    }
}

/// A timestamp of any year the format can write, at a whole-minute offset,
/// with nanoseconds.
fn instant(rng: &mut Rng) -> Timestamp {
    // 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z, in Unix seconds.
    let seconds = (rng.next_u64() % 315_569_520_000) as i64 - 62_167_219_200;
    let nanos = i128::from(rng.next_u64() % 1_000_000_000);
    let utc = time::OffsetDateTime::from_unix_timestamp_nanos(
        i128::from(seconds) * 1_000_000_000 + nanos,
    )
    .expect("within years 0000-9999");
    let minutes = rng.range(0, 24 * 60 - 1) as i16 - (12 * 60);
    let offset =
        time::UtcOffset::from_whole_seconds(i32::from(minutes) * 60).expect("whole minutes");
    let local = utc.to_offset(offset);
    Timestamp::try_from(local).unwrap_or_else(|_| Timestamp::try_from(utc).expect("UTC in range"))
}

/// Text of every kind a sensor may attach: ASCII, accents, control
/// characters, quotes, emoji.
fn any_text(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "a", "Z", "0", " ", "\n", "\t", "\"", "\\", "{", "é", "ß", "\u{0}", "🚨", "=", "/",
    ];
    (0..rng.below(40)).map(|_| *rng.pick(PIECES)).collect()
}

/// A message made with the builders from random values that the rules
/// allow: ports from 1, unique attachment names and references to them,
/// extension entries only with their extension text, content through the
/// attachment setters.
fn built_message(seed: u64) -> Message {
    let mut rng = Rng::new(seed);
    let mut analyzer = Analyzer::builder("sensor-01")
        .ip("192.0.2.10")
        .category(listed(
            &mut rng,
            &AnalyzerCategory::ALL,
            Some(AnalyzerCategory::ExtValue),
        ))
        .data(listed(
            &mut rng,
            &AnalyzerData::ALL,
            Some(AnalyzerData::ExtValue),
        ))
        .method(listed(
            &mut rng,
            &AnalyzerMethod::ALL,
            Some(AnalyzerMethod::ExtValue),
        ));
    if rng.one_in(3) {
        analyzer = analyzer
            .category(AnalyzerCategory::ExtValue)
            .ext_category("honeynet");
    }
    let mut message = Message::builder(analyzer)
        .create_time(instant(&mut rng))
        .priority(*rng.pick(&Priority::ALL))
        .status(*rng.pick(&Status::ALL))
        .category(listed(
            &mut rng,
            &Category::ALL,
            Some(Category::OtherExtValue),
        ));
    if rng.one_in(2) {
        message = message
            .start_time(instant(&mut rng))
            .report_time(instant(&mut rng));
    }
    if rng.one_in(3) {
        message = message
            .category(Category::OtherExtValue)
            .ext_category("site-rule");
    }
    if rng.one_in(3) {
        message = message
            .aggr_condition("Source(0).IP")
            .aggr_condition("Target.Port(0)");
    }
    let names: Vec<String> = (0..rng.below(4)).map(|i| format!("att{i}")).collect();
    for name in &names {
        let attachment = Attachment::builder(name.as_str()).file_name("capture");
        let attachment = match rng.below(5) {
            0 => attachment.text(any_text(&mut rng)),
            1 => attachment.content_type("text/csv").text(any_text(&mut rng)),
            2 => attachment.bytes(
                (0..rng.below(64))
                    .map(|_| rng.next_u64() as u8)
                    .collect::<Vec<u8>>(),
            ),
            3 => attachment
                .json(serde_json::json!({"rule": any_text(&mut rng), "hits": rng.below(99)})),
            _ => attachment.bytes([]).content_type("image/png"),
        };
        message = message.attachment(attachment.size(rng.below(1 << 20)));
    }
    for _ in 0..rng.below(3) {
        let mut source = Source::builder(Id::generate())
            .ip("198.51.100.7")
            .port(rng.range(1, 65535) as u16)
            .category(listed(
                &mut rng,
                &SourceCategory::ALL,
                Some(SourceCategory::ExtValue),
            ));
        if let Some(name) = names.first() {
            source = source.attachment(name.as_str());
        }
        message = message.source(source);
    }
    for _ in 0..rng.below(3) {
        let mut target = Target::builder(Id::new_v4())
            .hostname("db.example.org")
            .port(rng.range(1, 65535))
            .category(listed(
                &mut rng,
                &TargetCategory::ALL,
                Some(TargetCategory::ExtValue),
            ));
        if let Some(name) = names.last() {
            target = target.attachment(name.as_str());
        }
        message = message.target(target);
    }
    message
        .build()
        .expect("the builder accepts every value given")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn builder_messages_pass_the_strict_checks(seed in any::<u64>()) {
        let message = built_message(seed);
        if let Err(e) = message.validate_strict() {
            return Err(TestCaseError::fail(format!("{e}\n{}", message.to_string_pretty())));
        }
        prop_assert!(message.validate().is_ok());
        let again = Message::from_slice(&message.to_vec()).expect("a built message decodes");
        prop_assert_eq!(again.to_value(), message.to_value());
    }

    #[test]
    fn valid_messages_round_trip(seed in any::<u64>()) {
        let (generated, bytes) = generated(seed);
        let value: Value = serde_json::from_slice(&bytes).expect("generator writes JSON");
        let message = match Message::from_slice(&bytes) {
            Ok(m) => m,
            Err(e) => return Err(TestCaseError::fail(format!(
                "generated message refused: {e}\n{}", String::from_utf8_lossy(&bytes)))),
        };
        prop_assert_eq!(message.version.as_str(), generated.version);
        prop_assert!(idmefv2::validate(&value).is_ok());
        prop_assert_eq!(&message.to_value(), &value);
        let encoded = message.to_vec();
        let again = Message::from_slice(&encoded).expect("re-encoded message decodes");
        prop_assert_eq!(&again, &message);
        prop_assert_eq!(again.to_value(), value);
        let serialized = message.serialize("application/json").expect("json codec");
        prop_assert_eq!(Message::unserialize(&serialized).expect("unserialize"), message);
    }

    #[test]
    fn mutated_messages_never_panic_and_verdicts_agree(seed in any::<u64>(), kind in 0usize..64) {
        let mut rng = Rng::new(seed);
        let mut generators = Generator::all();
        let which = rng.below(generators.len());
        let generator = &mut generators[which];
        let mut message = generator.message(&mut rng);
        gen::mutate(&mut message, generator, kind, &mut rng);
        let bytes = gen::render(&message.value, &mut rng);
        exercise(&bytes)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        exercise(&bytes)?;
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        exercise(text.as_bytes())?;
    }

    #[test]
    fn edited_fixtures_never_panic(
        index in any::<usize>(),
        edits in proptest::collection::vec(edit(), 1..8),
    ) {
        let all = fixtures();
        let mut bytes = all[index % all.len()].clone();
        apply(&mut bytes, &edits);
        exercise(&bytes)?;
    }
}

//! Differential conformance check against the official IDMEFv2 schemas.
//!
//! ```sh
//! cargo run --release -p idmefv2-tools --bin conformance -- ../shared/reference/schemas [--seed N] [--count N]
//! ```
//!
//! The directory holds the official schemas as `NN/IDMEFv2.schema` (`02` to
//! `08` and `09-Dev`). For every fixture and for `--count` generated
//! messages (default 10,000; valid ones from a schema-driven generator and
//! mutations of them, see `tools/src/gen.rs`), three verdicts must agree:
//!
//! 1. the `jsonschema` crate with the official schema of the message's
//!    version (draft 4, formats asserted);
//! 2. `idmefv2::validate` on the same JSON value;
//! 3. typed decoding, `idmefv2::Message::from_slice` on the bytes.
//!
//! For refused messages, the JSON pointers `idmefv2::validate` reports must
//! be the ones the official validator reports, and typed decoding must
//! report the same ones. Accepted messages must re-encode to the same JSON
//! value. Input that cannot be judged as a JSON value (syntax errors,
//! duplicate members) must be refused by both of ours.
//!
//! Prints what it covered; exits with status 1 on any disagreement, after
//! printing the offending messages.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt, fs,
    path::{Path, PathBuf},
    process::ExitCode,
};

use idmefv2::{Draft, Error, Message};
use idmefv2_tools::gen::{self, Generator, Rng};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// The folder of a draft's official schema: `2.D.V09-Dev` is in `09-Dev`.
/// Every draft is loaded, so that a message relabelled with an older
/// `Version` is judged by that draft's official schema, as
/// `idmefv2::validate` judges it by ours.
/// `2.D.V08-Dev` has no folder of its own: its official schema was the
/// one of `2.D.V08` but for `Version`, so it is read from `08` with its
/// `Version` list replaced (see [`official_schema`]).
fn official_folder(draft: Draft) -> &'static str {
    match draft {
        Draft::V08Dev => "08",
        _ => draft.as_str().trim_start_matches("2.D.V"),
    }
}

/// The official schema read from `text`, its `Version` list set to the
/// draft's own name (a no-op for every draft but the ones read from the
/// folder of another, [`official_folder`]).
fn official_schema(draft: Draft, text: &str) -> serde_json::Result<Value> {
    let mut schema: Value = serde_json::from_str(text)?;
    // The official schemas list it in the `Version` property itself.
    let version = schema
        .pointer_mut("/properties/Version/enum")
        .and_then(Value::as_array_mut);
    match version {
        Some(version) => *version = vec![Value::String(draft.as_str().to_string())],
        None => {
            return Err(serde::de::Error::custom(
                "no /properties/Version/enum to set the draft's name in",
            ))
        }
    }
    Ok(schema)
}

struct Official(BTreeMap<&'static str, jsonschema::Validator>);

impl Official {
    fn load(dir: &Path) -> Result<Self, String> {
        let mut map = BTreeMap::new();
        for draft in Draft::ALL {
            let (version, folder) = (draft.as_str(), official_folder(draft));
            let path = dir.join(folder).join("IDMEFv2.schema");
            let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let schema =
                official_schema(draft, &text).map_err(|e| format!("{}: {e}", path.display()))?;
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft4)
                .should_validate_formats(true)
                .build(&schema)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            map.insert(version, validator);
        }
        Ok(Official(map))
    }

    /// The validator for the message's `Version`, or for `fallback` when
    /// the message names none that exists.
    fn for_message(&self, value: &Value, fallback: &str) -> &jsonschema::Validator {
        value
            .get("Version")
            .and_then(Value::as_str)
            .and_then(|v| self.0.get(v))
            .unwrap_or_else(|| &self.0[fallback])
    }
}

/// Why input cannot be judged as a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Malformed {
    Syntax,
    DuplicateMember,
}

/// Walks a JSON text and fails on the first object with a repeated member
/// (compared after unescaping), independently of the crate under test.
struct NoDuplicates;

impl<'de> DeserializeSeed<'de> for NoDuplicates {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NoDuplicates {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(NoDuplicates)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key) {
                return Err(de::Error::custom("duplicate member"));
            }
            map.next_value_seed(NoDuplicates)?;
        }
        Ok(())
    }
}

fn judge_as_value(bytes: &[u8]) -> Result<Value, Malformed> {
    let value: Value = serde_json::from_slice(bytes).map_err(|_| Malformed::Syntax)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    NoDuplicates
        .deserialize(&mut de)
        .map_err(|_| Malformed::DuplicateMember)?;
    Ok(value)
}

fn pointers(e: &Error) -> BTreeSet<String> {
    e.violations()
        .iter()
        .map(|v| v.pointer().to_string())
        .collect()
}

#[derive(Default)]
struct Stats {
    messages: usize,
    valid: usize,
    invalid: usize,
    malformed: BTreeMap<Malformed, usize>,
    agreements: usize,
    pointer_sets_compared: usize,
    /// label -> (valid, invalid, malformed)
    kinds: BTreeMap<String, [usize; 3]>,
    disagreements: Vec<String>,
}

impl Stats {
    fn disagree(&mut self, name: &str, bytes: &[u8], what: String) {
        if self.disagreements.len() < 25 {
            let text = String::from_utf8_lossy(bytes);
            let shown: String = text.chars().take(4000).collect();
            self.disagreements
                .push(format!("{name}: {what}\n  message: {shown}"));
        } else if self.disagreements.len() == 25 {
            self.disagreements
                .push("(more disagreements not shown)".into());
        }
    }
}

/// Judges one message; returns the official verdict (None if malformed).
fn check(
    official: &Official,
    name: &str,
    bytes: &[u8],
    fallback_version: &str,
    kind: &str,
    stats: &mut Stats,
) -> Option<bool> {
    stats.messages += 1;
    let typed = Message::from_slice(bytes);
    let value = match judge_as_value(bytes) {
        Ok(value) => value,
        Err(malformed) => {
            *stats.malformed.entry(malformed).or_default() += 1;
            stats.kinds.entry(kind.into()).or_default()[2] += 1;
            let slice = idmefv2::validate_slice(bytes, &idmefv2::Limits::default());
            let typed_right = matches!(
                (malformed, &typed),
                (Malformed::DuplicateMember, Err(Error::DuplicateKey { .. }))
                    | (Malformed::Syntax, Err(_))
            );
            if typed_right && slice.is_err() {
                stats.agreements += 1;
            } else {
                stats.disagree(
                    name,
                    bytes,
                    format!(
                        "{malformed:?} input: typed gave {typed:?}, validate_slice gave {slice:?}"
                    ),
                );
            }
            return None;
        }
    };
    let validator = official.for_message(&value, fallback_version);
    let official_pointers: BTreeSet<String> = validator
        .iter_errors(&value)
        .map(|e| e.instance_path().as_str().to_string())
        .collect();
    let official_ok = validator.is_valid(&value);
    let ours = idmefv2::validate(&value);
    if official_ok {
        stats.valid += 1;
        stats.kinds.entry(kind.into()).or_default()[0] += 1;
    } else {
        stats.invalid += 1;
        stats.kinds.entry(kind.into()).or_default()[1] += 1;
    }
    let mut problems = Vec::new();
    // The typed model holds 2.D.V08 and 2.D.V09-Dev; for a valid message of
    // an older draft the typed decoder's right answer is OlderDraft.
    let typed_ok = matches!(typed, Ok(_) | Err(Error::OlderDraft { .. }));
    if official_ok != ours.is_ok() || official_ok != typed_ok {
        problems.push(format!(
            "verdicts differ: official {}, validate {}, typed {}",
            verdict(official_ok),
            verdict(ours.is_ok()),
            verdict(typed_ok)
        ));
    }
    if official_ok && !official_pointers.is_empty() {
        problems.push("official is_valid and iter_errors disagree".into());
    }
    match (&ours, &typed) {
        (Err(ours_error), _) if !official_ok => {
            stats.pointer_sets_compared += 1;
            let ours_pointers = pointers(ours_error);
            let fits = match ours_error {
                // An unknown Version stops validation there: the official
                // validator must refuse the Version too.
                Error::UnsupportedVersion { .. } => official_pointers.contains("/Version"),
                _ => ours_pointers == official_pointers,
            };
            if !fits {
                problems.push(format!(
                    "pointers differ: official {official_pointers:?}, validate {ours_pointers:?}"
                ));
            }
            if let Err(typed_error) = &typed {
                let typed_pointers = pointers(typed_error);
                if typed_pointers != ours_pointers {
                    problems.push(format!(
                        "typed pointers {typed_pointers:?} differ from validate {ours_pointers:?}"
                    ));
                }
            }
        }
        (Ok(()), Ok(message)) => {
            if message.to_value() != value {
                problems.push("typed decoding changed the JSON value".into());
            }
            match Message::from_slice(&message.to_vec()) {
                Ok(again) if &again == message => {}
                other => problems.push(format!("re-encoded message decodes to {other:?}")),
            }
        }
        _ => {}
    }
    if problems.is_empty() {
        stats.agreements += 1;
    } else {
        stats.disagree(name, bytes, problems.join("; "));
    }
    Some(official_ok)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "valid"
    } else {
        "invalid"
    }
}

struct Args {
    dir: PathBuf,
    seed: u64,
    count: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        dir: PathBuf::from("../shared/reference/schemas"),
        seed: 20_250_101,
        count: 10_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seed" => {
                args.seed = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--seed takes a number")?;
            }
            "--count" => {
                args.count = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--count takes a number")?;
            }
            "-h" | "--help" => {
                return Err(
                    "usage: conformance [SCHEMA_DIR] [--seed N] [--count N]\n  SCHEMA_DIR holds NN/IDMEFv2.schema for 02..08 and 09-Dev (default ../shared/reference/schemas)".into(),
                )
            }
            other if other.starts_with('-') => return Err(format!("unknown option {other}")),
            other => args.dir = PathBuf::from(other),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let official = match Official::load(&args.dir) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("cannot load the official schemas: {e}");
            return ExitCode::from(2);
        }
    };
    let mut stats = Stats::default();

    // Fixtures, bytes as stored.
    for (dir, expect_valid) in [("valid", true), ("invalid", false)] {
        for (name, bytes) in idmefv2_tools::fixtures::read(dir) {
            let kind = format!("fixture:{dir}");
            let got = check(&official, &name, &bytes, "2.D.V08", &kind, &mut stats);
            if got.is_some_and(|ok| ok != expect_valid) || (got.is_none() && expect_valid) {
                stats.disagree(
                    &name,
                    &bytes,
                    format!("fixture in {dir}/ but the official verdict is {got:?}"),
                );
            }
        }
    }

    // Generated messages.
    let mut rng = Rng::new(args.seed);
    let mut generators = Generator::all();
    let goals: Vec<BTreeSet<String>> = generators.iter().map(Generator::coverage_goal).collect();
    let mut covered: Vec<BTreeSet<String>> = vec![BTreeSet::new(); generators.len()];
    for i in 0..args.count {
        let which = rng.below(generators.len());
        let generator = &mut generators[which];
        let mut message = generator.message(&mut rng);
        let version = message.version;
        // Three in ten stay valid; the rest get one mutation, a few two.
        let kind = if rng.below(10) < 3 {
            "valid".to_string()
        } else {
            let mut labels = vec![gen::mutate(&mut message, generator, i, &mut rng).label];
            if rng.one_in(10) {
                let k = rng.below(gen::KINDS.len());
                labels.push(gen::mutate(&mut message, generator, k, &mut rng).label);
                labels.sort();
                labels.dedup();
            }
            labels.join("+")
        };
        let bytes = gen::render(&message.value, &mut rng);
        let name = format!("generated #{i} (seed {}, {version}, {kind})", args.seed);
        let verdict = check(&official, &name, &bytes, version, &kind, &mut stats);
        if kind == "valid" && verdict == Some(true) {
            covered[which].extend(message.covered.iter().cloned());
        }
    }

    // Report.
    println!("conformance against {}", args.dir.display());
    println!(
        "seed {}, {} generated messages, {} fixtures",
        args.seed,
        args.count,
        stats.messages - args.count
    );
    println!(
        "messages {}: valid {}, invalid {}, malformed {:?}",
        stats.messages, stats.valid, stats.invalid, stats.malformed
    );
    println!(
        "agreements {} of {}; pointer sets compared {}",
        stats.agreements, stats.messages, stats.pointer_sets_compared
    );
    let mut by_kind: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    for (label, counts) in &stats.kinds {
        for part in label.split('+') {
            let kind = part.split(':').next().unwrap_or(part).to_string();
            let entry = by_kind.entry(kind).or_default();
            for (e, c) in entry.iter_mut().zip(counts) {
                *e += c;
            }
        }
    }
    println!("per kind (valid / invalid / malformed):");
    for (kind, [v, i, m]) in &by_kind {
        println!("  {kind:<26} {v:>6} {i:>6} {m:>6}");
    }
    if std::env::var_os("CONFORMANCE_DETAIL").is_some() {
        println!("per mutation (valid / invalid / malformed):");
        for (label, [v, i, m]) in &stats.kinds {
            println!("  {label:<60} {v:>6} {i:>6} {m:>6}");
        }
    }
    let mut failed = !stats.disagreements.is_empty();
    for ((generator, goal), got) in generators.iter().zip(&goals).zip(&covered) {
        let missing: Vec<&String> = goal.difference(got).collect();
        println!(
            "coverage {}: {} of {} properties and enum values in valid messages",
            generator.version,
            goal.len() - missing.len(),
            goal.len()
        );
        if !missing.is_empty() {
            println!("  not reached: {missing:?}");
            if args.count >= 10_000 {
                failed = true;
            }
        }
    }
    for d in &stats.disagreements {
        println!("DISAGREEMENT {d}");
    }
    if failed {
        println!("conformance: FAILED");
        ExitCode::FAILURE
    } else {
        println!("conformance: all {} messages agree", stats.messages);
        ExitCode::SUCCESS
    }
}

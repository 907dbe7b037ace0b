//! Checks that our schemas for the older drafts (`2.D.V02` to `2.D.V07`)
//! decide exactly as the official ones.
//!
//! ```sh
//! cargo run --release -p idmefv2-tools --bin drafts_conformance -- ../shared/reference/schemas [COUNT]
//! ```
//!
//! For each draft, both schemas are compiled with the jsonschema crate
//! (draft 4, formats asserted) and asked about the same messages: every
//! fixture under `fixtures/` (re-labelled with the draft's `Version`), and
//! COUNT (default 3000) messages made by mutating, at random with a fixed
//! seed, the fixtures the official schema accepts. Any disagreement is printed and makes the run fail.
//! The official schemas are read at run time and never stored in the crate.

use std::{env, fs, path::Path, process::ExitCode};

use serde_json::{json, Map, Value};

/// The drafts older than the typed model, with the folder of each one's
/// official schema (`2.D.V04` is in `04`).
fn older_drafts() -> Vec<(&'static str, &'static str)> {
    idmefv2::Draft::ALL
        .into_iter()
        .filter(|d| d.version().is_none())
        .map(|d| (d.as_str().trim_start_matches("2.D.V"), d.as_str()))
        .collect()
}

/// A small deterministic generator (xorshift64*), so runs are repeatable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn compile(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(schema)
        .expect("schema compiles")
}

fn read_dir(dir: &Path, out: &mut Vec<Value>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.map(|e| e.expect("dir entry").path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            read_dir(&path, out);
        } else if path.extension().is_some_and(|x| x == "json") {
            if let Ok(value) = serde_json::from_slice(&fs::read(&path).expect("read fixture")) {
                out.push(value);
            }
        }
    }
}

/// Every string in an `enum` of the schema, as mutation material.
fn enum_strings(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "enum" {
                    out.extend(
                        v.as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|s| s.as_str().map(String::from)),
                    );
                } else {
                    enum_strings(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| enum_strings(v, out)),
        _ => {}
    }
}

/// Texts near the edges of the schema's patterns and formats.
const TEXTS: &[&str] = &[
    "",
    "x",
    "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    "6BA7B810-9DAD-11D1-80B4-00C04FD430C8",
    "6ba7b810-9dad-11d1-80b4-00c04fd430c",
    "{6ba7b810-9dad-11d1-80b4-00c04fd430c8}",
    "2021-01-01T00:00:00Z",
    "2021-01-01T24:00:00Z",
    "2021-12-31T23:59:60.123+05:30",
    "2021-01-01T00:00:00",
    "2021-01-01",
    "192.0.2.1",
    "256.1.1.1",
    "::1",
    "2001:db8::1",
    "fe80::1%eth0",
    "1:2:3:4:5:6:7:8:9",
    "a@b",
    "no-at-sign",
    "https://example.org/x",
    "relative/path",
    "urn:x:y",
    "sha256:00ff",
    "sha256:0",
    "FR PAR",
    "FRPAR",
    "fr par",
    "48.85,2.35",
    "48.85, 2.35, 10",
    "N48 E2",
    "text/plain",
    "text/plain; charset=utf-8",
    "text",
    "tcp",
    "-tcp",
    "tcp--x",
    "abc123",
    "a-b",
    "ext-value",
    "Other.ext-value",
    "2.D.V02",
    "2.D.V04",
    "2.D.V07",
    "2.D.V08",
    "Cyber",
    "Event",
    "Incident",
];

fn random_scalar(rng: &mut Rng, enums: &[String]) -> Value {
    match rng.below(12) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => json!([-1, 0, 1, 25, 65535, 65536, 7][rng.below(7)]),
        3 => json!([0.5, -0.1, 1.5, 1.0, 2.5e3][rng.below(5)]),
        4..=6 => Value::String(enums[rng.below(enums.len())].clone()),
        7 => json!([]),
        8 => json!({}),
        _ => Value::String(TEXTS[rng.below(TEXTS.len())].to_string()),
    }
}

/// Pointers to every value inside `value`.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                pointers(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// Member names worth adding: every property name of the schemas.
fn member_names(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "properties" {
                    out.extend(v.as_object().into_iter().flat_map(|m| m.keys().cloned()));
                }
                member_names(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| member_names(v, out)),
        _ => {}
    }
}

fn mutate(message: &mut Value, rng: &mut Rng, enums: &[String], names: &[String]) {
    let mut all = Vec::new();
    pointers(message, String::new(), &mut all);
    let target = all[rng.below(all.len())].clone();
    let Some(node) = message.pointer_mut(&target) else {
        return;
    };
    match rng.below(7) {
        0 | 1 => *node = random_scalar(rng, enums),
        2 => {
            if let Value::Object(map) = node {
                let name = names[rng.below(names.len())].clone();
                let value = random_scalar(rng, enums);
                map.insert(name, value);
            } else if let Value::Array(items) = node {
                items.push(random_scalar(rng, enums));
            }
        }
        3 => match node {
            Value::Object(map) if !map.is_empty() => {
                let key = map
                    .keys()
                    .nth(rng.below(map.len()))
                    .cloned()
                    .unwrap_or_default();
                map.remove(&key);
            }
            Value::Array(items) if !items.is_empty() => {
                items.remove(rng.below(items.len()));
            }
            _ => {}
        },
        4 => *node = Value::Array(vec![node.take()]),
        5 => {
            if let Value::Array(items) = node {
                if let Some(first) = items.first().cloned() {
                    *node = first;
                }
            }
        }
        _ => {
            if let Value::Object(map) = node {
                let mut object = Map::new();
                object.insert("Name".into(), json!("n"));
                map.insert(names[rng.below(names.len())].clone(), Value::Object(object));
            }
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().collect();
    let reference = args
        .get(1)
        .map_or("../shared/reference/schemas", String::as_str);
    let count: usize = args.get(2).and_then(|c| c.parse().ok()).unwrap_or(3000);
    let root = idmefv2_tools::fixtures::repository();
    let mut seeds = Vec::new();
    read_dir(&root.join("fixtures"), &mut seeds);
    seeds.retain(Value::is_object);
    let mut failures = 0usize;
    for (dir, version) in older_drafts() {
        let path = Path::new(reference).join(dir).join("IDMEFv2.schema");
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        };
        let official: Value = serde_json::from_str(&text).expect("official schema is JSON");
        let ours: Value =
            serde_json::from_str(idmefv2::schema(version).expect("embedded")).expect("JSON");
        let (theirs_v, ours_v) = (compile(&official), compile(&ours));
        let mut enums = Vec::new();
        enum_strings(&official, &mut enums);
        enum_strings(&ours, &mut enums);
        let mut names = Vec::new();
        member_names(&official, &mut names);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ u64::from(dir.parse::<u8>().unwrap_or(0)));
        let (mut checked, mut accepted) = (0usize, 0usize);
        let mut check = |message: &Value| {
            let (a, b) = (theirs_v.is_valid(message), ours_v.is_valid(message));
            // The crate's own entry point must agree too, when the message
            // still names this draft (otherwise it picks another schema).
            let c = if message.get("Version").is_some_and(|v| v == version) {
                idmefv2::validate(message).is_ok()
            } else {
                a
            };
            checked += 1;
            accepted += usize::from(a);
            if a != b || a != c {
                failures += 1;
                eprintln!("{version}: official {a}, ours {b}, validate() {c}: {message}");
            }
        };
        let relabelled: Vec<Value> = seeds
            .iter()
            .map(|s| {
                let mut s = s.clone();
                s["Version"] = json!(version);
                s
            })
            .collect();
        for seed in seeds.iter().chain(&relabelled) {
            if seed["Version"] == json!(version) {
                check(seed);
            }
        }
        // Mutate messages this draft accepts, so that mutants sit close to
        // the boundary between accepted and refused.
        let mut pool: Vec<Value> = relabelled
            .iter()
            .filter(|m| theirs_v.is_valid(m))
            .cloned()
            .collect();
        if pool.is_empty() {
            pool = relabelled.clone();
        }
        for _ in 0..count {
            let mut message = pool[rng.below(pool.len())].clone();
            for _ in 0..=rng.below(2) {
                mutate(&mut message, &mut rng, &enums, &names);
            }
            check(&message);
        }
        println!(
            "{version}: {checked} messages, {accepted} accepted, {} refused",
            checked - accepted
        );
    }
    if failures == 0 {
        println!("all decisions agree");
        ExitCode::SUCCESS
    } else {
        println!("{failures} disagreements");
        ExitCode::FAILURE
    }
}

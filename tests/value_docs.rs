//! `schema/value-docs.json` documents every value of every value list of the
//! schema, in our own words. These tests keep it in step with
//! `schema/idmefv2-2.D.V08.json`: the same lists, the same values in the same
//! order, a usable text for each, safe for rustdoc, and no long run of words
//! taken from the specification (checked when the specification text is at
//! hand, skipped with a note otherwise).

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

const SCHEMA: &str = "schema/idmefv2-2.D.V08.json";
const DOCS: &str = "schema/value-docs.json";
/// The specification, relative to the crate root (`../shared` beside the
/// checkout, as for the conformance checks).
const SPEC: &str = "../shared/reference/spec/draft-lehmann-idmefv2-08.txt";
/// Environment variable naming the specification text explicitly.
const SPEC_ENV: &str = "IDMEFV2_SPEC_TXT";
/// A doc may share no run of this many consecutive words with the spec.
const RUN: usize = 8;
const MIN_LEN: usize = 25;

/// A JSON value that keeps the member order and duplicate members of its
/// objects (serde_json's own map sorts its keys unless `preserve_order` is on).
enum Node {
    Str(String),
    Map(Vec<(String, Node)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an object of strings and objects")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Str(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Node>()? {
                    entries.push((key, value));
                }
                Ok(Node::Map(entries))
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    let full = root().join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The schema's value lists (every definition with an `enum` except
/// `Version`), each with its values in schema order.
fn schema_lists() -> Vec<(String, Vec<String>)> {
    let schema: Value = serde_json::from_str(&read(SCHEMA)).expect("schema is JSON");
    let defs = schema["definitions"].as_object().expect("definitions");
    defs.iter()
        .filter(|(name, _)| name.as_str() != "Version")
        .filter_map(|(name, def)| {
            let values = def.get("enum")?.as_array()?;
            let values = values
                .iter()
                .map(|v| v.as_str().expect("string enum value").to_owned())
                .collect();
            Some((name.clone(), values))
        })
        .collect()
}

/// Every name a doc may put in backticks: any value of any list, any member
/// name, any definition name.
fn known_names() -> HashSet<String> {
    fn walk(v: &Value, out: &mut HashSet<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    out.extend(props.keys().cloned());
                }
                if let Some(Value::Array(values)) = map.get("enum") {
                    out.extend(values.iter().filter_map(|v| v.as_str().map(str::to_owned)));
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let schema: Value = serde_json::from_str(&read(SCHEMA)).expect("schema is JSON");
    let mut out = HashSet::new();
    walk(&schema, &mut out);
    out.extend(
        schema["definitions"]
            .as_object()
            .expect("definitions")
            .keys()
            .cloned(),
    );
    out
}

/// The docs file: its `$comment` and, per list, (value, doc) in file order.
struct Docs {
    comment: Option<String>,
    lists: Vec<(String, Vec<(String, String)>)>,
}

fn docs() -> Docs {
    let node: Node = serde_json::from_str(&read(DOCS)).expect("value-docs.json is JSON");
    let Node::Map(top) = node else {
        panic!("value-docs.json is not an object")
    };
    let mut comment = None;
    let mut lists = Vec::new();
    for (key, node) in top {
        match (key.as_str(), node) {
            ("$comment", Node::Str(s)) => comment = Some(s),
            (_, Node::Map(entries)) => {
                let entries = entries
                    .into_iter()
                    .map(|(value, doc)| match doc {
                        Node::Str(doc) => (value, doc),
                        Node::Map(_) => panic!("{key}.{value}: the doc is not a string"),
                    })
                    .collect();
                lists.push((key, entries));
            }
            (_, Node::Str(_)) => panic!("{key}: expected an object of docs"),
        }
    }
    Docs { comment, lists }
}

fn all_docs() -> Vec<(String, String, String)> {
    docs()
        .lists
        .into_iter()
        .flat_map(|(list, entries)| {
            entries
                .into_iter()
                .map(move |(value, doc)| (list.clone(), value, doc))
        })
        .collect()
}

fn fail_if_any(what: &str, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{what}: {} problem(s)\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn comment_says_what_the_file_is() {
    let comment = docs().comment.expect("a top-level \"$comment\"");
    assert!(comment.contains("own words"), "{comment}");
}

#[test]
fn lists_are_exactly_the_schema_value_lists() {
    let docs = docs();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (list, _) in &docs.lists {
        if !seen.insert(list.clone()) {
            problems.push(format!("{list}: listed twice"));
        }
    }
    let schema: BTreeSet<String> = schema_lists().into_iter().map(|(n, _)| n).collect();
    for missing in schema.difference(&seen) {
        problems.push(format!("{missing}: value list without docs"));
    }
    for extra in seen.difference(&schema) {
        problems.push(format!("{extra}: not a value list of the schema"));
    }
    fail_if_any("lists", &problems);
}

#[test]
fn every_value_documented_in_schema_order() {
    let docs = docs();
    let mut problems = Vec::new();
    for (list, values) in schema_lists() {
        let Some((_, entries)) = docs.lists.iter().find(|(l, _)| *l == list) else {
            continue; // reported by lists_are_exactly_the_schema_value_lists
        };
        let before = problems.len();
        let documented: Vec<&str> = entries.iter().map(|(v, _)| v.as_str()).collect();
        for value in &values {
            match documented.iter().filter(|d| **d == value).count() {
                0 => problems.push(format!("{list}: `{value}` has no doc")),
                1 => {}
                n => problems.push(format!("{list}: `{value}` documented {n} times")),
            }
        }
        for value in &documented {
            if !values.iter().any(|v| v == value) {
                problems.push(format!("{list}: `{value}` is not a value of the list"));
            }
        }
        if problems.len() == before && documented != values {
            let at = documented
                .iter()
                .zip(&values)
                .position(|(d, v)| d != v)
                .unwrap_or(0);
            problems.push(format!(
                "{list}: order differs from the schema at position {at} (`{}` where the schema has `{}`)",
                documented[at], values[at]
            ));
        }
    }
    fail_if_any("values", &problems);
}

#[test]
fn docs_are_usable_and_safe_for_rustdoc() {
    let names = known_names();
    let mut problems = Vec::new();
    for (list, value, doc) in all_docs() {
        let at = format!("{list}.{value}");
        if doc.trim().is_empty() {
            problems.push(format!("{at}: empty doc"));
            continue;
        }
        if doc.chars().count() < MIN_LEN {
            problems.push(format!("{at}: shorter than {MIN_LEN} characters: {doc:?}"));
        }
        if doc != doc.trim() || doc.contains("  ") || doc.contains('\n') {
            problems.push(format!("{at}: stray whitespace"));
        }
        for bad in ['[', ']', '<', '>', '*', '|', '\\'] {
            if doc.contains(bad) {
                problems.push(format!(
                    "{at}: contains {bad:?}, which rustdoc may interpret"
                ));
            }
        }
        if doc.contains("http://") || doc.contains("https://") || doc.contains("www.") {
            problems.push(format!("{at}: contains a URL"));
        }
        if doc.matches('`').count() % 2 != 0 {
            problems.push(format!("{at}: unbalanced backticks"));
        }
        // Every name in backticks must exist in the schema, and a
        // value-shaped word (`Family.Kind`) outside backticks is a slip.
        for (i, part) in doc.split('`').enumerate() {
            if i % 2 == 1 {
                if !names.contains(part) {
                    problems.push(format!(
                        "{at}: `{part}` is not a value or member of the schema"
                    ));
                }
            } else {
                for word in part.split_whitespace() {
                    let word = word.trim_matches(|c: char| !c.is_alphanumeric());
                    let mut halves = word.splitn(2, '.');
                    let (head, tail) = (halves.next().unwrap_or(""), halves.next());
                    if let Some(tail) = tail {
                        if head.starts_with(|c: char| c.is_ascii_uppercase())
                            && tail.starts_with(|c: char| c.is_ascii_alphabetic())
                        {
                            problems.push(format!(
                                "{at}: `{word}` looks like a value; put it in backticks"
                            ));
                        }
                    }
                }
            }
        }
    }
    fail_if_any("docs", &problems);
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The specification as word streams: the running text (page headers and
/// footers dropped, tables left out), each table cell column read down one
/// table row, and the raw file as a whole.
fn spec_streams(spec: &str) -> Vec<String> {
    let mut streams = Vec::new();
    let mut prose = String::new();
    let mut columns: Vec<String> = Vec::new();
    for line in spec.lines() {
        let t = line.trim();
        let page_furniture = (t.starts_with("Lehmann ") && t.contains("[Page"))
            || t.starts_with("Internet-Draft")
            || t == "\u{c}";
        if page_furniture {
            continue;
        }
        if t.starts_with('+') {
            streams.append(&mut columns);
        } else if let Some(row) = t.strip_prefix('|') {
            let cells: Vec<&str> = row.trim_end_matches('|').split('|').collect();
            if columns.len() != cells.len() {
                streams.append(&mut columns);
                columns = vec![String::new(); cells.len()];
            }
            for (column, cell) in columns.iter_mut().zip(cells) {
                column.push(' ');
                column.push_str(cell);
            }
        } else {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    streams.append(&mut columns);
    streams.push(prose);
    streams.push(spec.to_owned());
    streams
}

fn spec_text() -> Option<(PathBuf, String)> {
    let candidates = std::env::var_os(SPEC_ENV)
        .map(PathBuf::from)
        .into_iter()
        .chain([root().join(SPEC)]);
    candidates.into_iter().find(|p| Path::is_file(p)).map(|p| {
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        (p, text)
    })
}

#[test]
fn no_long_word_run_from_the_specification() {
    let Some((path, spec)) = spec_text() else {
        // Not captured by the test harness, so the skip is visible.
        let _ = writeln!(
            std::io::stderr(),
            "note: specification text not found (set {SPEC_ENV} or place it at {}); \
             skipping the {RUN}-word overlap check",
            SPEC
        );
        return;
    };
    let mut runs: HashSet<Vec<String>> = HashSet::new();
    for stream in spec_streams(&spec) {
        let w = words(&stream);
        runs.extend(w.windows(RUN).map(<[String]>::to_vec));
    }
    let mut problems = Vec::new();
    for (list, value, doc) in all_docs() {
        let w = words(&doc);
        if let Some(run) = w.windows(RUN).find(|run| runs.contains(*run)) {
            problems.push(format!(
                "{list}.{value}: shares \"{}\" with the specification",
                run.join(" ")
            ));
        }
    }
    fail_if_any(&format!("overlap with {}", path.display()), &problems);
}

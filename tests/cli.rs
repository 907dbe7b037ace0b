//! The `idmefv2` command-line tool, run as a user or a script runs it.
#![cfg(feature = "cli")]

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use idmefv2_tools::support;
use serde_json::Value;

/// The outcome of one run: exit status, stdout and stderr as text.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().expect("exited with a status"),
            stdout: String::from_utf8(o.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(o.stderr).expect("stderr is UTF-8"),
        }
    }
}

impl Run {
    /// stdout as one JSON value per line.
    fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
            .collect()
    }
}

fn idmefv2(args: &[&str]) -> Run {
    idmefv2_with_stdin(args, None)
}

fn idmefv2_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_idmefv2"));
    command.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    support::run_bounded(&mut command, stdin, Duration::from_secs(60)).into()
}

/// A file in the temporary directory, removed when dropped.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str, contents: &[u8]) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("idmefv2-cli-{}-{n}-{name}", std::process::id()));
        fs::write(&path, contents).expect("write temp file");
        Temp(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("UTF-8 temp path")
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn fixture_files(dir: &str) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = fs::read_dir(root.join("fixtures").join(dir))
        .expect("fixtures dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            p.strip_prefix(root)
                .expect("under the crate")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    files
}

fn read(path: &str) -> Vec<u8> {
    fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect("read fixture")
}

/// A valid message as one line of JSON.
fn compact(path: &str) -> String {
    let value: Value = serde_json::from_slice(&read(path)).expect("fixture is JSON");
    serde_json::to_string(&value).expect("encode")
}

const MINIMAL: &str = "fixtures/valid/minimal.json";
const BAD_ID: &str = "fixtures/invalid/pattern-id-not-uuid.json";

/// The keys every `--format json` line has, no more, no fewer.
fn assert_shape(line: &Value) {
    let keys: BTreeSet<&str> = line
        .as_object()
        .expect("an object per line")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["source", "index", "line", "valid", "version", "errors"]),
        "{line}"
    );
    for error in line["errors"].as_array().expect("errors is an array") {
        let keys: BTreeSet<&str> = error
            .as_object()
            .expect("each error is an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, BTreeSet::from(["path", "line", "message"]), "{line}");
        assert!(error["path"].is_string() && error["message"].is_string());
        // The line of the offending value, at or after the message's own.
        assert!(error["line"].as_u64().unwrap() >= line["line"].as_u64().unwrap());
    }
    assert_eq!(
        line["valid"].as_bool().expect("valid is a boolean"),
        line["errors"].as_array().unwrap().is_empty(),
        "{line}"
    );
}

#[test]
fn valid_fixtures_pass_with_summary_and_status_0() {
    let files = fixture_files("valid");
    let mut args = vec!["validate"];
    args.extend(files.iter().map(String::as_str));
    let run = idmefv2(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, format!("{} valid, 0 invalid\n", files.len()));
    assert_eq!(run.stderr, "");
}

#[test]
fn json_output_has_exactly_the_documented_fields() {
    let run = idmefv2(&[
        "validate",
        "--format",
        "json",
        MINIMAL,
        BAD_ID,
        "fixtures/invalid/version-unsupported-v01.json",
        "fixtures/invalid/version-as-number.json",
        "fixtures/invalid/syntax-error-truncated.json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 5, "{}", run.stdout);
    lines.iter().for_each(assert_shape);
    assert_eq!(
        lines[0],
        serde_json::json!({"source": MINIMAL, "index": 0, "line": 1, "valid": true,
                           "version": "2.D.V08", "errors": []})
    );
    assert_eq!(lines[1]["source"], BAD_ID);
    assert_eq!(lines[1]["valid"], false);
    assert_eq!(lines[1]["version"], "2.D.V08");
    assert_eq!(lines[1]["errors"].as_array().unwrap().len(), 1);
    assert_eq!(lines[1]["errors"][0]["path"], "/ID");
    // The line of the value, in the indented file.
    assert_eq!(lines[1]["errors"][0]["line"], 3);
    // The offending value is never repeated.
    let bad_id = String::from_utf8(read(BAD_ID)).unwrap();
    let bad_value: Value = serde_json::from_str(&bad_id).unwrap();
    let secret = bad_value["ID"].as_str().unwrap();
    assert!(!run.stdout.contains(secret), "{}", run.stdout);

    assert_eq!(lines[2]["version"], "2.D.V01");
    assert_eq!(lines[2]["errors"][0]["path"], "/Version");
    assert!(lines[2]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("2.D.V08, 2.D.V09-Dev"));
    // A Version that is not a string is reported as null.
    assert_eq!(lines[3]["version"], Value::Null);
    assert_eq!(lines[3]["errors"][0]["path"], "/Version");

    assert_eq!(lines[4]["version"], Value::Null);
    assert_eq!(lines[4]["errors"].as_array().unwrap().len(), 1);
    assert_eq!(lines[4]["errors"][0]["path"], "");
    let message = lines[4]["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("line 34, column "), "{message}");
}

#[test]
fn every_invalid_fixture_is_reported_where_expected() {
    let table = String::from_utf8(read("fixtures/invalid/EXPECTED.tsv")).unwrap();
    let files = fixture_files("invalid");
    let mut args = vec!["validate", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let run = idmefv2(&args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines = run.json_lines();
    lines.iter().for_each(assert_shape);
    let mut seen = 0;
    for row in table.lines().filter(|l| !l.is_empty()) {
        let mut cols = row.split('\t');
        let name = cols.next().unwrap();
        let expected = cols.next().unwrap();
        let source = format!("fixtures/invalid/{name}");
        let errors: Vec<(&str, &str)> = lines
            .iter()
            .filter(|l| l["source"] == source.as_str())
            .flat_map(|l| l["errors"].as_array().unwrap())
            .map(|e| (e["path"].as_str().unwrap(), e["message"].as_str().unwrap()))
            .collect();
        let found = match expected.strip_prefix("line:") {
            Some(line) => errors
                .iter()
                .any(|(p, m)| p.is_empty() && m.contains(&format!("at line {line}, column"))),
            None => errors.iter().any(|(p, _)| *p == expected),
        };
        assert!(found, "{name}: expected {expected:?}, got {errors:?}");
        seen += 1;
    }
    assert_eq!(seen, files.len(), "EXPECTED.tsv and the files differ");
}

#[test]
fn several_messages_in_one_file_keep_their_lines_and_order() {
    let pretty = String::from_utf8(read(MINIMAL)).unwrap();
    let pretty = pretty.trim_end();
    let pretty_lines = pretty.lines().count();
    let bad = String::from_utf8(read(BAD_ID)).unwrap();
    let bad = bad.trim_end();
    let bad_lines = bad.lines().count();
    let text = format!(
        "{pretty}\n{bad}\n  {}{}\n   {{\"Version\": \"2.D.V08\",\n  \"ID\": oops}}\n",
        compact(MINIMAL),
        compact(MINIMAL)
    );
    let file = Temp::new("several.json", text.as_bytes());
    let run = idmefv2(&["validate", "--format", "json", file.path()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines = run.json_lines();
    lines.iter().for_each(assert_shape);
    let summary: Vec<(u64, u64, bool)> = lines
        .iter()
        .map(|l| {
            assert_eq!(l["source"], file.path());
            (
                l["index"].as_u64().unwrap(),
                l["line"].as_u64().unwrap(),
                l["valid"].as_bool().unwrap(),
            )
        })
        .collect();
    let third = (pretty_lines + bad_lines + 1) as u64;
    assert_eq!(
        summary,
        [
            (0, 1, true),
            (1, pretty_lines as u64 + 1, false),
            (2, third, true),
            (3, third, true),
            (4, third + 1, false),
        ]
    );
    // Each error names the line of its value in the file.
    assert_eq!(
        lines[1]["errors"][0]["line"],
        pretty_lines as u64 + 3,
        "{}",
        lines[1]
    );
    // Syntax errors are placed in the file, not in the message.
    assert_eq!(
        lines[4]["errors"][0]["message"],
        format!(
            "invalid JSON at line {}, column 9: expected value",
            third + 2
        )
    );
}

#[test]
fn text_output_is_one_line_per_error_then_the_summary() {
    let text = format!(
        "{}\n{{\"Version\": \"2.D.V08\", \"ID\": \"x\", \"CreateTime\": \"2025-01-01T00:00:00Z\", \"Analyzer\": {{\"Name\": \"a\", \"IP\": \"300.1.1.1\"}}}}\n[1]\n",
        compact(MINIMAL)
    );
    let file = Temp::new("text.json", text.as_bytes());
    let run = idmefv2(&["validate", file.path()]);
    assert_eq!(run.code, 1);
    let mut lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.pop(), Some("1 valid, 2 invalid"));
    let f = file.path();
    let mut prefixes: Vec<String> = lines
        .iter()
        .map(|l| {
            let mut parts = l.splitn(4, ": ");
            let head = parts.next().unwrap();
            let rest = parts.next().unwrap();
            format!("{head}: {rest}")
        })
        .collect();
    prefixes.sort();
    assert_eq!(
        prefixes,
        [
            format!("{f}:2: /Analyzer/IP"),
            format!("{f}:2: /ID"),
            format!("{f}:3: (message)"),
        ],
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("300.1.1.1"));

    let quiet = idmefv2(&["validate", "--quiet", file.path()]);
    assert_eq!(quiet.code, 1);
    assert_eq!(quiet.stdout, "1 valid, 2 invalid\n");
}

#[test]
fn ndjson_goes_on_after_a_broken_line() {
    let good = compact(MINIMAL);
    let bad_id = compact(BAD_ID);
    let text = format!("{good}\n{{\"Version\": \"2.D.V08\", broken\n\n{bad_id}\r\n{good}");
    let file = Temp::new("stream.ndjson", text.as_bytes());
    let run = idmefv2(&["validate", "--ndjson", "--format", "json", file.path()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines = run.json_lines();
    lines.iter().for_each(assert_shape);
    let got: Vec<(u64, u64, bool)> = lines
        .iter()
        .map(|l| {
            (
                l["index"].as_u64().unwrap(),
                l["line"].as_u64().unwrap(),
                l["valid"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [(0, 1, true), (1, 2, false), (2, 4, false), (3, 5, true)]
    );
    assert_eq!(lines[1]["errors"][0]["path"], "");
    assert!(lines[1]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("invalid JSON at line 2, column 24: "));
    assert_eq!(lines[2]["errors"][0]["path"], "/ID");

    let text_run = idmefv2(&["validate", "--ndjson", file.path()]);
    assert_eq!(text_run.code, 1);
    let out: Vec<&str> = text_run.stdout.lines().collect();
    assert_eq!(out.len(), 3, "{}", text_run.stdout);
    assert!(out[0].starts_with(&format!("{}:2: (message): invalid JSON", file.path())));
    assert!(out[1].starts_with(&format!("{}:4: /ID: ", file.path())));
    assert_eq!(out[2], "2 valid, 2 invalid");
}

#[test]
fn standard_input_is_read_without_paths_or_with_dash() {
    let input = format!("{}\n{}", compact(MINIMAL), compact(BAD_ID));
    for args in [
        &["validate", "--format", "json"][..],
        &["validate", "--format", "json", "-"][..],
    ] {
        let run = idmefv2_with_stdin(args, Some(input.as_bytes()));
        assert_eq!(run.code, 1, "{}", run.stderr);
        let lines = run.json_lines();
        assert_eq!(lines.len(), 2);
        for (i, line) in lines.iter().enumerate() {
            assert_shape(line);
            assert_eq!(line["source"], "-");
            assert_eq!(line["index"], i);
            assert_eq!(line["line"], i + 1);
        }
        assert_eq!(lines[0]["valid"], true);
        assert_eq!(lines[1]["valid"], false);
    }
    let run = idmefv2_with_stdin(&["validate"], Some(compact(MINIMAL).as_bytes()));
    assert_eq!((run.code, run.stdout.as_str()), (0, "1 valid, 0 invalid\n"));
}

#[test]
fn unreadable_paths_are_named_and_exit_2() {
    let missing = std::env::temp_dir().join(format!("idmefv2-cli-{}-missing", std::process::id()));
    let missing = missing.to_str().unwrap();
    let run = idmefv2(&["validate", MINIMAL, missing]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(missing), "{}", run.stderr);
    // The readable file is still checked.
    assert_eq!(run.stdout, "1 valid, 0 invalid\n");

    // A directory opens but cannot be read; an I/O error outranks invalid input.
    let run = idmefv2(&["validate", "--format", "json", BAD_ID, "fixtures"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("fixtures"), "{}", run.stderr);
    assert_eq!(run.json_lines().len(), 1);

    let run = idmefv2(&["convert", missing]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(missing), "{}", run.stderr);
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["validate", "--no-such-flag"][..],
        &["validate", "--format", "xml"][..],
        &["validate", "--quiet", "--format", "json"][..],
        &["frobnicate"][..],
        &[][..],
        &["schema", "--version", "2.D.V01"][..],
        &["convert", "--from", "application/x-nothing", MINIMAL][..],
        &["convert", "--to", "application/x-nothing", MINIMAL][..],
        &["upgrade", "--to", "2.D.V07", MINIMAL][..],
        &["upgrade", "--to"][..],
        &["upgrade", "--format", "json", MINIMAL][..],
    ] {
        let run = idmefv2(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.is_empty(), "{args:?}");
        assert_eq!(run.stdout, "", "{args:?}");
    }
    let run = idmefv2(&["convert", "--to", "application/x-nothing", MINIMAL]);
    assert!(run.stderr.contains("application/json"), "{}", run.stderr);
}

#[test]
fn oversized_messages_are_refused_and_the_rest_checked() {
    let limit = idmefv2::Limits::default().max_bytes;
    let mut big: Value = serde_json::from_slice(&read(MINIMAL)).unwrap();
    big["Description"] = Value::String("x".repeat(limit));
    let big = serde_json::to_string(&big).unwrap();
    let text = format!("{big}\n{}\n", compact(MINIMAL));
    let file = Temp::new("big.json", text.as_bytes());
    for framing in [&[][..], &["--ndjson"][..]] {
        let mut args = vec!["validate", "--format", "json"];
        args.extend_from_slice(framing);
        args.push(file.path());
        let run = idmefv2(&args);
        assert_eq!(run.code, 1, "{framing:?}: {}", run.stderr);
        let lines = run.json_lines();
        assert_eq!(lines.len(), 2, "{framing:?}");
        assert_eq!(lines[0]["valid"], false);
        assert_eq!(lines[0]["errors"][0]["path"], "");
        assert_eq!(
            lines[0]["errors"][0]["message"],
            format!(
                "message of {} bytes exceeds the limit of {limit} bytes",
                big.len()
            ),
            "{framing:?}"
        );
        assert_eq!(lines[1]["valid"], true);
        assert_eq!(lines[1]["line"], 2);
    }
}

#[test]
fn example_is_valid_and_fresh_each_run() {
    let mut ids = BTreeSet::new();
    for _ in 0..2 {
        let run = idmefv2(&["example"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let message = idmefv2::Message::from_slice(run.stdout.as_bytes())
            .unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
        assert_eq!(message.version, idmefv2::Version::V08);
        let created = message.create_time.to_offset_date_time().unwrap();
        let age = time::OffsetDateTime::now_utc() - created;
        assert!(age >= time::Duration::ZERO && age < time::Duration::minutes(5));
        ids.insert(message.id.to_string());
        // Pretty JSON, as documented.
        assert!(run.stdout.starts_with("{\n  \"Version\""), "{}", run.stdout);
        let check = idmefv2_with_stdin(&["validate"], Some(run.stdout.as_bytes()));
        assert_eq!(check.code, 0, "{}", check.stdout);
    }
    assert_eq!(ids.len(), 2, "the same ID twice");

    for version in idmefv2::Version::ALL {
        let run = idmefv2(&["example", "--version", version.as_str()]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let message = idmefv2::Message::from_slice(run.stdout.as_bytes()).unwrap();
        assert_eq!(message.version, version);
    }

    let run = idmefv2(&["example", "--version", "2.D.V07"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    for version in idmefv2::Version::ALL {
        assert!(run.stderr.contains(version.as_str()), "{}", run.stderr);
    }
}

#[test]
fn schema_prints_the_embedded_schema() {
    let run = idmefv2(&["schema"]);
    assert_eq!(run.code, 0);
    assert_eq!(Some(run.stdout.as_str()), idmefv2::schema("2.D.V08"));
    for version in idmefv2::supported_versions() {
        let run = idmefv2(&["schema", "--version", version]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(Some(run.stdout.as_str()), idmefv2::schema(version));
    }
}

#[test]
fn convert_keeps_every_valid_fixture_unchanged() {
    let files = fixture_files("valid");
    assert!(files.len() >= 20);
    for file in &files {
        let original: Value = serde_json::from_slice(&read(file)).unwrap();
        for extra in [&[][..], &["--pretty"][..], &["--to", "text/json"][..]] {
            let mut args = vec!["convert"];
            args.extend_from_slice(extra);
            args.push(file);
            let run = idmefv2(&args);
            assert_eq!(run.code, 0, "{file} {extra:?}: {}", run.stderr);
            let converted: Value = serde_json::from_str(&run.stdout)
                .unwrap_or_else(|e| panic!("{file} {extra:?}: {e}"));
            assert_eq!(converted, original, "{file} {extra:?}");
            if extra.is_empty() {
                assert_eq!(run.stdout.lines().count(), 1, "{file}: not compact");
            }
        }
    }

    // Everything in one stream: one compact line per message, in order.
    let mut all = Vec::new();
    for file in &files {
        all.extend(read(file));
        all.push(b'\n');
    }
    let run = idmefv2_with_stdin(&["convert"], Some(&all));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = run.json_lines();
    assert_eq!(lines.len(), files.len());
    for (line, file) in lines.iter().zip(&files) {
        let original: Value = serde_json::from_slice(&read(file)).unwrap();
        assert_eq!(line, &original, "{file}");
    }
}

#[test]
fn convert_pretty_output_is_indented_json() {
    // This fixture is written in the specification's member order and
    // indented by two spaces, so pretty output reproduces it byte for byte.
    let run = idmefv2(&["convert", "--pretty", MINIMAL]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout.as_bytes(), read(MINIMAL));
    // Compact output is one line, whitespace dropped.
    let run = idmefv2(&["convert", MINIMAL]);
    let kept: String = String::from_utf8(read(MINIMAL))
        .unwrap()
        .split('\n')
        .map(str::trim_start)
        .collect::<String>()
        .replace("\": ", "\":");
    assert_eq!(run.stdout, format!("{kept}\n"));
}

#[test]
fn convert_reports_invalid_input_and_does_not_write_it() {
    let text = format!("{}\n{}\n", compact(BAD_ID), compact(MINIMAL));
    let file = Temp::new("convert.json", text.as_bytes());
    let run = idmefv2(&["convert", file.path()]);
    assert_eq!(run.code, 1);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        lines[0],
        serde_json::from_slice::<Value>(&read(MINIMAL)).unwrap()
    );
    assert!(
        run.stderr.starts_with(&format!("{}:1: /ID: ", file.path())),
        "{}",
        run.stderr
    );
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for sub in [
        "validate", "upgrade", "example", "schema", "convert", "export", "filter", "publish",
        "consume", "serve", "send",
    ] {
        let run = idmefv2(&[sub, "--help"]);
        assert_eq!(run.code, 0, "{sub}");
        assert!(run.stdout.contains("Examples:"), "{sub}: {}", run.stdout);
        assert!(run.stdout.contains(&format!("idmefv2 {sub}")), "{sub}");
    }
    let run = idmefv2(&["--help"]);
    assert_eq!(run.code, 0);
    for sub in [
        "validate", "upgrade", "example", "schema", "convert", "export", "filter", "publish",
        "consume", "serve", "send",
    ] {
        assert!(run.stdout.contains(sub));
    }
}

#[test]
fn the_cli_guide_examples_are_what_the_tool_prints() {
    let readme = String::from_utf8(read("docs/cli.md")).unwrap();
    let block = |fence: &str| -> String {
        let start = readme.find(fence).expect(fence) + fence.len();
        let len = readme[start..].find("```").expect("closing fence");
        readme[start..start + len].to_string()
    };
    // Every console session: the command, then exactly what it prints.
    let fence = "```console\n";
    let mut sessions = 0;
    for start in readme.match_indices(fence).map(|(i, _)| i + fence.len()) {
        let len = readme[start..].find("```").expect("closing fence");
        let (command, output) = readme[start..start + len].split_once('\n').unwrap();
        let args: Vec<&str> = command
            .strip_prefix("$ idmefv2 ")
            .expect("a command line")
            .split(' ')
            .collect();
        let run = idmefv2(&args);
        assert_eq!(run.code, 1, "{command}");
        assert_eq!(run.stdout, output, "{command}");
        sessions += 1;
    }
    assert_eq!(sessions, 2);

    let json_line = block("```json\n");
    let run = idmefv2(&[
        "validate",
        "--format",
        "json",
        "fixtures/invalid/pattern-id-not-uuid.json",
    ]);
    assert_eq!(run.stdout, json_line);
}

#[test]
fn an_unclosed_message_running_to_the_end_is_named_as_such() {
    let limit = idmefv2::Limits::default().max_bytes;
    let text = format!(
        "{}\n{{\"Version\": \"2.D.V08\", \"Note\": [{}",
        compact(MINIMAL),
        "1, ".repeat(limit / 3 + 1)
    );
    let file = Temp::new("open.json", text.as_bytes());
    let run = idmefv2(&["validate", file.path()]);
    assert_eq!(run.code, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    let prefix = format!("{}:2: (message): message of ", file.path());
    assert!(lines[0].starts_with(&prefix), "{}", lines[0]);
    assert!(
        lines[0].ends_with("; the input ends before this message is closed"),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1], "1 valid, 1 invalid");
}

// ---- Older drafts, strict mode and upgrades ----

const V04_MINIMAL: &str = "fixtures/drafts/valid/v04-minimal.json";

/// The `Version` text of a fixture.
fn version_of(path: &str) -> String {
    let value: Value = serde_json::from_slice(&read(path)).expect("fixture is JSON");
    value["Version"]
        .as_str()
        .expect("a Version text")
        .to_string()
}

#[test]
fn every_valid_older_draft_is_valid_with_its_own_version() {
    let files = fixture_files("drafts/valid");
    assert!(files.len() >= 6);
    let mut args = vec!["validate", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let run = idmefv2(&args);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let lines = run.json_lines();
    assert_eq!(lines.len(), files.len());
    let mut drafts = BTreeSet::new();
    for (line, file) in lines.iter().zip(&files) {
        assert_shape(line);
        assert_eq!(line["source"], file.as_str());
        assert_eq!(line["valid"], true, "{line}");
        assert_eq!(line["version"], version_of(file).as_str(), "{file}");
        drafts.insert(version_of(file));
    }
    // Every older draft is covered.
    let older: Vec<&str> = idmefv2::Draft::ALL
        .iter()
        .filter(|d| d.version().is_none())
        .map(|d| d.as_str())
        .collect();
    assert_eq!(drafts.into_iter().collect::<Vec<_>>(), older);

    // Text format, mixed with current messages in one stream.
    let mut args = vec!["validate", MINIMAL];
    args.extend(files.iter().map(String::as_str));
    let run = idmefv2(&args);
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout,
        format!("{} valid, 0 invalid\n", files.len() + 1)
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn every_invalid_older_draft_is_refused_where_expected() {
    let table = String::from_utf8(read("fixtures/drafts/invalid/EXPECTED.tsv")).unwrap();
    let files = fixture_files("drafts/invalid");
    let mut args = vec!["validate", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let run = idmefv2(&args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines = run.json_lines();
    assert_eq!(lines.len(), files.len());
    lines.iter().for_each(assert_shape);
    let mut seen = 0;
    for row in table
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let mut cols = row.split('\t');
        let name = cols.next().unwrap();
        let pointer = cols.next().expect("a pointer column");
        let source = format!("fixtures/drafts/invalid/{name}.json");
        let line = lines
            .iter()
            .find(|l| l["source"] == source.as_str())
            .unwrap_or_else(|| panic!("{source} not reported"));
        assert_eq!(line["valid"], false, "{line}");
        assert_eq!(line["version"], version_of(&source).as_str(), "{line}");
        let paths: Vec<&str> = line["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["path"].as_str().unwrap())
            .collect();
        assert!(
            paths.contains(&pointer),
            "{name}: expected {pointer:?}, got {paths:?}"
        );
        seen += 1;
    }
    assert_eq!(seen, files.len(), "EXPECTED.tsv and the files differ");
}

/// A `2.D.V08` message the schema accepts with a port 0 and a reference to
/// an attachment it does not have.
const STRICT_BAD: &str = r#"{"Version": "2.D.V08", "ID": "6ba7b801-9dad-11d1-80b4-00c04fd430c8",
  "CreateTime": "2025-02-03T10:00:00Z", "Analyzer": {"Name": "ids"},
  "Source": [{"ID": "6ba7b802-9dad-11d1-80b4-00c04fd430c8", "Port": [22, 0],
              "Attachment": ["pcap"]}]}"#;

#[test]
fn strict_reports_each_rule_by_name_at_its_pointer() {
    let file = Temp::new("strict.json", STRICT_BAD.as_bytes());
    // The schema alone accepts the message.
    let run = idmefv2(&["validate", file.path()]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "1 valid, 0 invalid\n"));

    let run = idmefv2(&[
        "validate",
        "--strict",
        "--format",
        "json",
        MINIMAL,
        file.path(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines = run.json_lines();
    lines.iter().for_each(assert_shape);
    assert_eq!(lines[0]["valid"], true, "a strict-clean message passes");
    assert_eq!(lines[1]["version"], "2.D.V08");
    let errors: Vec<(&str, &str)> = lines[1]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["path"].as_str().unwrap(), e["message"].as_str().unwrap()))
        .collect();
    // The same failures as the library finds, each led by its rule.
    let expected: Vec<(String, String)> = idmefv2::Message::from_slice(STRICT_BAD.as_bytes())
        .unwrap()
        .validate_strict()
        .unwrap_err()
        .violations()
        .iter()
        .map(|v| {
            (
                v.pointer().to_string(),
                format!("{}: {}", v.keyword(), v.reason()),
            )
        })
        .collect();
    let got: Vec<(String, String)> = errors
        .iter()
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect();
    assert_eq!(got, expected);
    let rules: Vec<(&str, &str)> = errors
        .iter()
        .map(|(p, m)| (*p, m.split(": ").next().unwrap()))
        .collect();
    assert_eq!(
        rules,
        [
            ("/Source/0/Port/1", "port-range"),
            ("/Source/0/Attachment/0", "attachment-reference")
        ]
    );

    // Text output: the same lines as schema failures, each on the line
    // of its value.
    let run = idmefv2(&["validate", "--strict", file.path()]);
    assert_eq!(run.code, 1);
    let f = file.path();
    let out: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(out.len(), 3, "{}", run.stdout);
    assert!(out[0].starts_with(&format!("{f}:3: /Source/0/Port/1: port-range: ")));
    assert!(out[1].starts_with(&format!(
        "{f}:4: /Source/0/Attachment/0: attachment-reference: "
    )));
    assert_eq!(out[2], "0 valid, 1 invalid");

    // Schema failures come first and stop there, as with validate alone.
    let run = idmefv2(&["validate", "--strict", "--format", "json", BAD_ID]);
    assert_eq!(run.code, 1);
    let lines = run.json_lines();
    assert_eq!(lines[0]["errors"][0]["path"], "/ID");
    assert!(!lines[0]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("pattern: "));

    // Every strict-clean fixture passes; a 2.D.V09-Dev one too.
    for clean in [
        MINIMAL,
        "fixtures/valid/minimal-v09-dev.json",
        "fixtures/valid/ids-ssh-bruteforce-tcp.json",
    ] {
        let run = idmefv2(&["validate", "--strict", clean]);
        assert_eq!(run.code, 0, "{clean}: {}", run.stdout);
    }
}

#[test]
fn strict_refuses_older_drafts_at_version_until_upgraded() {
    let files = fixture_files("drafts/valid");
    let mut args = vec!["validate", "--strict", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let run = idmefv2(&args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines = run.json_lines();
    assert_eq!(lines.len(), files.len());
    for (line, file) in lines.iter().zip(&files) {
        assert_shape(line);
        assert_eq!(line["valid"], false, "{file}");
        assert_eq!(line["version"], version_of(file).as_str());
        let errors = line["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{line}");
        assert_eq!(errors[0]["path"], "/Version");
        let message = errors[0]["message"].as_str().unwrap();
        assert!(message.starts_with("older-draft: "), "{message}");
        assert!(message.contains("idmefv2 upgrade"), "{message}");
    }

    // What the message says to do works.
    let upgraded = idmefv2(&["upgrade", V04_MINIMAL]);
    assert_eq!(upgraded.code, 0, "{}", upgraded.stderr);
    let run = idmefv2_with_stdin(&["validate", "--strict"], Some(upgraded.stdout.as_bytes()));
    assert_eq!((run.code, run.stdout.as_str()), (0, "1 valid, 0 invalid\n"));
}

/// `value` with the value at each pointer replaced by `"<invented>"`.
fn mask(mut value: Value, pointers: &[String]) -> Value {
    for pointer in pointers {
        let slot = value
            .pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer}"));
        assert!(slot.is_string(), "{pointer}");
        *slot = Value::String("<invented>".into());
    }
    value
}

/// Holds `written` to the library's upgrade `expected`, but for the
/// identifiers made up (which differ from run to run); gives their
/// pointers.
fn same_but_invented(
    written: &idmefv2::Message,
    expected: &idmefv2::upgrade::Upgraded,
    file: &str,
) -> Vec<String> {
    let invented: Vec<String> = expected
        .report
        .iter()
        .filter(|n| n.kind == idmefv2::upgrade::NoteKind::Invented)
        .map(|n| n.pointer.clone())
        .collect();
    assert_eq!(
        mask(written.to_value(), &invented),
        mask(expected.message.to_value(), &invented),
        "{file}"
    );
    invented
}

/// The line of a file indented by two spaces per level where the value at
/// `pointer` of its message `original` starts: the line of its member, or
/// of its entry in a list; line 1 when the message has no value there (an
/// identifier the upgrade made up).
fn note_line(original: &Value, lines: &[&str], pointer: &str) -> usize {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return 1;
    };
    if original.pointer(pointer).is_none() {
        return 1;
    }
    let parent_line = note_line(original, lines, parent);
    let indent = |l: &str| l.len() - l.trim_start().len();
    let inner = indent(lines[parent_line - 1]) + 2;
    let mut entries = lines
        .iter()
        .enumerate()
        .skip(parent_line)
        .filter(|(_, l)| indent(l) == inner && !l.trim_start().starts_with(['}', ']']));
    let found = match last.parse::<usize>() {
        Ok(index) => entries.nth(index),
        Err(_) => entries.find(|(_, l)| l.trim_start().starts_with(&format!("\"{last}\":"))),
    };
    found.unwrap_or_else(|| panic!("{pointer} not found")).0 + 1
}

#[test]
fn upgrade_writes_a_v08_message_and_the_library_report_for_every_draft() {
    let files = fixture_files("drafts/valid");
    for file in &files {
        let original: Value = serde_json::from_slice(&read(file)).unwrap();
        let expected = idmefv2::upgrade::upgrade_latest(&original).unwrap();
        let run = idmefv2(&["upgrade", file]);
        assert_eq!(run.code, 0, "{file}: {}", run.stderr);
        assert_eq!(
            run.stdout.lines().count(),
            1,
            "{file}: not one compact line"
        );
        let message = idmefv2::Message::from_slice(run.stdout.trim_end().as_bytes())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(message.version, idmefv2::Version::V08, "{file}");

        // One report line per note, in the library's order and words.
        let report: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(
            report.len(),
            expected.report.len(),
            "{file}: {}",
            run.stderr
        );
        let text = String::from_utf8(read(file)).unwrap();
        let file_lines: Vec<&str> = text.lines().collect();
        for (line, note) in report.iter().zip(&expected.report) {
            let at = note_line(&original, &file_lines, &note.pointer);
            assert_eq!(*line, format!("{file}:{at}: {note}"));
            let pointer = line.split(": ").nth(1).unwrap();
            assert_eq!(pointer, note.pointer);
        }

        // The message is the library's, but for the identifiers made up.
        let invented = same_but_invented(&message, &expected, file);
        // Made-up identifiers are not printed in the report.
        for pointer in &invented {
            let id = message
                .to_value()
                .pointer(pointer)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string();
            assert!(!run.stderr.contains(&id), "{file}");
        }
    }

    // The sender's values are never printed in the report.
    let run = idmefv2(&["upgrade", "fixtures/drafts/valid/v04-converter.json"]);
    assert_eq!(run.code, 0);
    for secret in [
        "dropper.exe",
        "Telemetry",
        "XDR",
        "Intrusion.UserCompromise",
        "MagneticField",
    ] {
        assert!(!run.stderr.contains(secret), "{secret}: {}", run.stderr);
    }
}

#[test]
fn upgrade_reads_streams_and_places_each_report_line() {
    let files = fixture_files("drafts/valid");
    // All the drafts as NDJSON on standard input, with a current message.
    let mut text = String::new();
    for file in &files {
        text.push_str(&compact(file));
        text.push('\n');
    }
    text.push_str(&compact(MINIMAL));
    text.push('\n');
    for args in [&["upgrade", "--ndjson"][..], &["upgrade", "-"][..]] {
        let run = idmefv2_with_stdin(args, Some(text.as_bytes()));
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        let out: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(out.len(), files.len() + 1);
        let mut expected_report = Vec::new();
        for (i, file) in files.iter().enumerate() {
            let message = idmefv2::Message::from_slice(out[i].as_bytes()).unwrap();
            assert_eq!(message.version, idmefv2::Version::V08);
            let original: Value = serde_json::from_slice(&read(file)).unwrap();
            for note in idmefv2::upgrade::upgrade_latest(&original).unwrap().report {
                expected_report.push(format!("-:{}: {note}", i + 1));
            }
        }
        // A 2.D.V08 message needs nothing and is written as it was.
        let last: Value = serde_json::from_str(out[files.len()]).unwrap();
        assert_eq!(
            last,
            serde_json::from_slice::<Value>(&read(MINIMAL)).unwrap()
        );
        let report: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(report, expected_report, "{args:?}");
    }
}

#[test]
fn upgrade_to_v09_dev_and_messages_at_or_past_the_target() {
    for file in fixture_files("drafts/valid") {
        let run = idmefv2(&["upgrade", "--to", "2.D.V09-Dev", &file]);
        assert_eq!(run.code, 0, "{file}: {}", run.stderr);
        let message = idmefv2::Message::from_slice(run.stdout.trim_end().as_bytes()).unwrap();
        assert_eq!(message.version, idmefv2::Version::V09Dev, "{file}");
        let original: Value = serde_json::from_slice(&read(&file)).unwrap();
        let expected = idmefv2::upgrade::upgrade_to(&original, idmefv2::Version::V09Dev).unwrap();
        assert_eq!(run.stderr.lines().count(), expected.report.len(), "{file}");
    }

    // 2.D.V08 to 2.D.V09-Dev changes Version only, with nothing to report.
    let run = idmefv2(&["upgrade", "--to", "2.D.V09-Dev", MINIMAL]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stderr, "");
    let mut expected: Value = serde_json::from_slice(&read(MINIMAL)).unwrap();
    expected["Version"] = Value::String("2.D.V09-Dev".into());
    assert_eq!(
        serde_json::from_str::<Value>(&run.stdout).unwrap(),
        expected
    );

    // Without --to, messages at or past 2.D.V08 are written unchanged; a
    // message already at an explicit target too.
    let v09 = "fixtures/valid/minimal-v09-dev.json";
    for args in [
        &["upgrade", v09][..],
        &["upgrade", "--to", "2.D.V09-Dev", v09][..],
    ] {
        let run = idmefv2(args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr, "");
        assert_eq!(
            serde_json::from_str::<Value>(&run.stdout).unwrap(),
            serde_json::from_slice::<Value>(&read(v09)).unwrap()
        );
    }
    // An explicit target is exact: a newer message is refused, not lowered.
    let run = idmefv2(&["upgrade", "--to", "2.D.V08", v09]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("2.D.V09-Dev"), "{}", run.stderr);

    // --pretty indents, member order of the model.
    let run = idmefv2(&["upgrade", "--pretty", V04_MINIMAL]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.starts_with("{\n  \"Version\": \"2.D.V08\",\n"),
        "{}",
        run.stdout
    );
    idmefv2::Message::from_slice(run.stdout.as_bytes()).unwrap();
}

#[test]
fn upgrade_reports_what_it_cannot_carry_and_writes_the_rest() {
    // Valid 2.D.V02 (its analyzer rules do not apply), but no draft from
    // 2.D.V04 on has an analyzer without a Name.
    let nameless = r#"{"Version": "2.D.V02", "ID": "6ba7b801-9dad-11d1-80b4-00c04fd430c8",
        "CreateTime": "2020-03-04T05:06:07Z", "Analyzer": {"IP": "192.0.2.1"}}"#;
    let text = format!(
        "{}\n{nameless}\n{}\n{{\"Version\": \"2.D.V04\", oops}}\n",
        compact("fixtures/drafts/invalid/v06-confidence-above-one.json"),
        compact(V04_MINIMAL),
    );
    let file = Temp::new("upgrade.json", text.as_bytes());
    let run = idmefv2(&["upgrade", file.path()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // Only the upgradable message is written.
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    let message = idmefv2::Message::from_slice(run.stdout.trim_end().as_bytes()).unwrap();
    assert_eq!(message.version, idmefv2::Version::V08);
    let f = file.path();
    let report: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(report.len(), 3, "{}", run.stderr);
    assert!(
        report[0].starts_with(&format!("{f}:1: /Confidence: ")),
        "{}",
        report[0]
    );
    assert!(
        report[1].starts_with(&format!(
            "{f}:3: /Analyzer: cannot upgrade from 2.D.V02 to 2.D.V08: "
        )),
        "{}",
        report[1]
    );
    assert!(
        report[2].starts_with(&format!("{f}:5: (message): invalid JSON at line 5")),
        "{}",
        report[2]
    );

    // A target outside the typed model is a usage error.
    let run = idmefv2(&["upgrade", "--to", "2.D.V05", V04_MINIMAL]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("2.D.V08, 2.D.V09-Dev"),
        "{}",
        run.stderr
    );

    // Unreadable input outranks the rest.
    let missing = std::env::temp_dir().join(format!("idmefv2-cli-{}-gone", std::process::id()));
    let missing = missing.to_str().unwrap();
    let run = idmefv2(&["upgrade", V04_MINIMAL, missing]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(missing), "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1);
}

#[test]
fn convert_sends_older_drafts_to_upgrade() {
    let run = idmefv2(&["convert", V04_MINIMAL, MINIMAL]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout.lines().count(), 1);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    // On the line of the Version member.
    assert!(lines[0].starts_with(&format!("{V04_MINIMAL}:2: /Version: valid 2.D.V04 message")));
    assert!(lines[0].contains("upgrade"), "{}", lines[0]);
}

/// Runs `idmefv2 ARGS` with a terminal as standard input and output (the
/// `script` program of util-linux makes one), standard input ending at
/// once (one end of input, as one Ctrl-D gives); gives what the terminal
/// showed. A terminal, unlike a file, would wait for more input if read
/// again after its end, so this also shows that the tool stops at once.
fn idmefv2_on_a_terminal(args: &[&str]) -> String {
    let command = std::iter::once(env!("CARGO_BIN_EXE_idmefv2"))
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run script (util-linux), which .ci/run installs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().expect("wait for script").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`idmefv2 {}` on a terminal did not stop at the end of input",
                args.join(" ")
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("script output");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn empty_input_is_no_message_found() {
    let empty = Temp::new("empty.json", b"");
    let blank = Temp::new("blank.ndjson", b"\n  \n\t\r\n");
    let mark = Temp::new("mark.json", "\u{feff}\n".as_bytes());
    for path in [empty.path(), blank.path(), mark.path()] {
        for args in [
            &["validate"][..],
            &["validate", "--ndjson"][..],
            &["validate", "--format", "json"][..],
            &["upgrade"][..],
            &["convert", "--ndjson"][..],
        ] {
            let mut args = args.to_vec();
            args.push(path);
            let run = idmefv2(&args);
            assert_eq!(run.code, 1, "{args:?}");
            assert_eq!(
                run.stderr,
                format!("idmefv2: {path}: no message found\n"),
                "{args:?}"
            );
            assert_eq!(run.stdout, "", "{args:?}");
        }
    }
    let run = idmefv2_with_stdin(&["validate"], Some(b""));
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr, "idmefv2: -: no message found\n");
    assert_eq!(run.stdout, "");
    // Beside a message, the summary counts the messages and the status
    // still says that an input held none.
    let run = idmefv2(&["validate", MINIMAL, empty.path()]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "1 valid, 0 invalid\n");
    assert!(run.stderr.contains("no message found"), "{}", run.stderr);
}

#[test]
fn standard_input_on_a_terminal_is_announced() {
    let shown = idmefv2_on_a_terminal(&["validate"]);
    assert!(
        shown.contains("reading messages from standard input; end with Ctrl-D"),
        "{shown}"
    );
    assert!(shown.contains("-: no message found"), "{shown}");
    // `send` reads its input the same way (and, given none, connects to
    // no one).
    let pin = "ab".repeat(32);
    let shown = idmefv2_on_a_terminal(&["send", "--url", "https://localhost:1/", "--pin", &pin]);
    assert!(
        shown.contains("idmefv2 send: reading messages from standard input; end with Ctrl-D"),
        "{shown}"
    );
    assert!(
        shown.contains("idmefv2 send: -: no message found"),
        "{shown}"
    );
    // From a pipe or a file, nothing is announced.
    let run = idmefv2_with_stdin(&["validate"], Some(compact(MINIMAL).as_bytes()));
    assert_eq!(run.stderr, "");
    let shown = idmefv2_on_a_terminal(&["validate", MINIMAL]);
    assert!(!shown.contains("reading messages"), "{shown}");
}

#[test]
fn a_leading_byte_order_mark_is_skipped_and_any_other_named() {
    let bom = "\u{feff}";
    let ndjson = format!("{bom}{}\n{}\n", compact(MINIMAL), compact(BAD_ID));
    let file = Temp::new("bom.ndjson", ndjson.as_bytes());
    let run = idmefv2(&["validate", "--ndjson", file.path()]);
    assert_eq!(run.code, 1);
    let out: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(out.len(), 2, "{}", run.stdout);
    assert!(out[0].starts_with(&format!("{}:2: /ID: ", file.path())));
    assert_eq!(out[1], "1 valid, 1 invalid");
    let pretty = format!("{bom}{}", String::from_utf8(read(MINIMAL)).unwrap());
    let file = Temp::new("bom.json", pretty.as_bytes());
    let run = idmefv2(&["validate", file.path()]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "1 valid, 0 invalid\n"));
    // A mark in the middle (a file appended to another) is refused by name.
    let appended = format!("{}\n{bom}{}\n", compact(MINIMAL), compact(MINIMAL));
    let file = Temp::new("appended.ndjson", appended.as_bytes());
    let run = idmefv2(&["validate", "--ndjson", file.path()]);
    assert_eq!(run.code, 1);
    let out: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        out[0],
        format!(
            "{}:2: (message): invalid JSON at line 2, column 1: the text starts with a UTF-8 \
             byte-order mark (U+FEFF), which JSON exchanged between systems must not carry \
             (RFC 8259, section 8.1)",
            file.path()
        )
    );
}

#[test]
fn max_bytes_bounds_every_subcommand_that_reads_messages() {
    let minimal = compact(MINIMAL);
    let file = Temp::new("one.json", minimal.as_bytes());
    let small = (minimal.len() - 1).to_string();
    let exact = minimal.len().to_string();
    for sub in [&["validate"][..], &["upgrade"][..], &["convert"][..]] {
        let mut args = sub.to_vec();
        args.extend(["--max-bytes", &small, file.path()]);
        let run = idmefv2(&args);
        assert_eq!(run.code, 1, "{args:?}");
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(
            all.contains(&format!(
                "message of {} bytes exceeds the limit of {small} bytes",
                minimal.len()
            )),
            "{args:?}: {all}"
        );
        let mut args = sub.to_vec();
        args.extend(["--max-bytes", &exact, file.path()]);
        assert_eq!(idmefv2(&args).code, 0, "{args:?}");
    }
    // Past the default of 1 MiB, when asked.
    let mut big: Value = serde_json::from_slice(&read(MINIMAL)).unwrap();
    big["Description"] = Value::String("x".repeat(2 << 20));
    let big = Temp::new("big.json", serde_json::to_string(&big).unwrap().as_bytes());
    assert_eq!(idmefv2(&["validate", big.path()]).code, 1);
    let run = idmefv2(&["validate", "--max-bytes", "4194304", big.path()]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "1 valid, 0 invalid\n"));
    let run = idmefv2(&["validate", "--max-bytes", "0", MINIMAL]);
    assert_eq!(run.code, 2);
}

#[test]
fn convert_ndjson_carries_on_past_a_broken_line() {
    let text = format!(
        "{}\n{{\"Version\": oops\n{}\n",
        compact(MINIMAL),
        compact(MINIMAL)
    );
    let run = idmefv2_with_stdin(&["convert", "--ndjson"], Some(text.as_bytes()));
    assert_eq!(run.code, 1);
    let out: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(out.len(), 2, "{}", run.stdout);
    for line in out {
        let written: Value = serde_json::from_str(line).unwrap();
        assert_eq!(
            written,
            serde_json::from_slice::<Value>(&read(MINIMAL)).unwrap()
        );
    }
    assert!(
        run.stderr.starts_with("-:2: (message): invalid JSON"),
        "{}",
        run.stderr
    );
}

#[test]
fn example_count_and_ndjson() {
    let run = idmefv2(&["example", "--count", "5", "--ndjson"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 5);
    let ids: BTreeSet<String> = lines
        .iter()
        .map(|l| {
            let m = idmefv2::Message::from_slice(l.as_bytes()).unwrap();
            m.validate_strict().unwrap();
            m.id.to_string()
        })
        .collect();
    assert_eq!(ids.len(), 5, "fresh IDs");
    // Indented ones, one after another, read back as a stream.
    let run = idmefv2(&["example", "--count", "3"]);
    let check = idmefv2_with_stdin(&["validate"], Some(run.stdout.as_bytes()));
    assert_eq!(check.stdout, "3 valid, 0 invalid\n");
    assert_eq!(idmefv2(&["example", "--count", "0"]).stdout, "");
}

#[test]
fn upgrade_repair_wraps_single_texts_and_reports_each() {
    let files = fixture_files("drafts/repair");
    assert_eq!(files.len(), 5);
    for file in &files {
        let original: Value = serde_json::from_slice(&read(file)).unwrap();
        let expected = idmefv2::upgrade::Options::default()
            .repair(true)
            .upgrade(&original)
            .unwrap();
        let run = idmefv2(&["upgrade", "--repair", file]);
        assert_eq!(run.code, 0, "{file}: {}", run.stderr);
        let message = idmefv2::Message::from_slice(run.stdout.trim_end().as_bytes()).unwrap();
        same_but_invented(&message, &expected, file);
        let text = String::from_utf8(read(file)).unwrap();
        let file_lines: Vec<&str> = text.lines().collect();
        let report: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(report.len(), expected.report.len(), "{file}");
        let mut repaired = 0;
        for (line, note) in report.iter().zip(&expected.report) {
            let at = note_line(&original, &file_lines, &note.pointer);
            assert_eq!(*line, format!("{file}:{at}: {note}"));
            if line.contains(": repaired: ") {
                repaired += 1;
                // The value is not printed.
                let value = original.pointer(&note.pointer).unwrap().as_str().unwrap();
                assert!(!line.contains(value), "{line}");
            }
        }
        assert!(repaired > 0, "{file}");
        // Without --repair the 2.D.V04 and 2.D.V08 ones are refused (the
        // 2.D.V03 analyzer is not checked by its own draft, so it passes
        // and loses those members on the way instead).
        let run = idmefv2(&["upgrade", file]);
        if original["Version"] == "2.D.V03" {
            assert!(run.stderr.contains(": dropped: "), "{file}");
        } else {
            assert_eq!(run.code, 1, "{file}");
            assert_eq!(run.stdout, "", "{file}");
        }
    }
}

/// The flags the issue calls the contract, by their exact names.
#[test]
fn the_contract_flags_exist() {
    // The subcommands and flags that checks outside this repository drive.
    for (sub, flags) in [
        (
            "validate",
            &["--ndjson", "--format", "--quiet", "--strict", "--max-bytes"][..],
        ),
        (
            "upgrade",
            &["--to", "--ndjson", "--pretty", "--repair", "--max-bytes"][..],
        ),
        ("example", &["--count", "--ndjson"][..]),
        ("convert", &["--ndjson", "--max-bytes"][..]),
        (
            "serve",
            &[
                "--listen",
                "--cert",
                "--key",
                "--client-ca",
                "--allow-peer",
                "--pin",
                "--path",
                "--max-bytes",
                "--upgrade",
                "--out",
                "--insecure-plaintext",
                "--forward",
                "--dedup",
                "--repair",
                "--strict",
                "--rejects",
                "--basic-auth",
                "--where",
            ][..],
        ),
        (
            "send",
            &[
                "--url",
                "--cert",
                "--key",
                "--ca",
                "--pin",
                "--concurrency",
                "--ndjson",
                "--spool",
            ][..],
        ),
        (
            "publish",
            &["--to", "--stream", "--replicas", "--ndjson"][..],
        ),
        (
            "consume",
            &[
                "--from",
                "--stream",
                "--durable",
                "--count",
                "--idle-timeout",
            ][..],
        ),
    ] {
        let declared = declared_options(sub);
        for flag in flags {
            assert!(
                declared.iter().any(|d| d == flag),
                "`idmefv2 {sub}` declares no {flag} (it declares {declared:?})"
            );
        }
    }
}

/// The long options a subcommand's help declares in its `Options:`
/// section: a flag that its examples or prose merely mention is not there.
fn declared_options(sub: &str) -> Vec<String> {
    let help = idmefv2(&[sub, "--help"]).stdout;
    let options = help
        .split_once("\nOptions:\n")
        .unwrap_or_else(|| panic!("`idmefv2 {sub} --help` has no Options section"))
        .1;
    // An option starts its line at an indentation of at most six spaces
    // (`  -q, --quiet`, `      --ndjson <X>`); its description and
    // possible values are indented further, and the section ends at the
    // next heading.
    options
        .lines()
        .take_while(|line| line.is_empty() || line.starts_with(' '))
        .filter(|line| line.len() - line.trim_start().len() <= 6)
        .filter_map(|line| {
            let line = line.trim_start();
            let long = match line.split_once(", ") {
                Some((short, rest)) if !short.starts_with("--") => rest,
                _ => line,
            };
            let flag = long.strip_prefix("--")?;
            let end = flag
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .unwrap_or(flag.len());
            Some(format!("--{}", &flag[..end]))
        })
        .collect()
}

//! The library's modules form layers that only point down: a module uses
//! `crate::` paths into lower layers only (see the list in `src/lib.rs`).
//! This reads the sources and refuses any reference up or sideways, so
//! that a cycle such as codec ↔ message cannot come back unnoticed.

use std::{fs, path::Path};

/// Each module of `src/` (a file or a folder) with its rank: a module may
/// use modules of a lower rank only. `http` and `nats` are the transports
/// (features `client`/`server` and `nats`), which build on everything else;
/// `nats` also offers a sink for the HTTPS server (a gateway into a stream);
/// `kafka` is a transport beside it, and `gateway` holds the sinks that
/// join the HTTPS server to a bus (`gateway::kafka`).
const RANKS: [(&str, u8); 15] = [
    ("error", 0),
    ("limits", 0),
    ("json", 1),
    ("draft", 1),
    ("model", 2),
    ("validation", 3),
    ("message", 4),
    ("codec", 5),
    ("path", 5),
    ("upgrade", 5),
    ("strict", 6),
    ("http", 7),
    ("nats", 8),
    ("kafka", 8),
    ("gateway", 9),
];

/// The module that defines each name re-exported at the crate root.
const ROOT_NAMES: [(&str, &str); 24] = [
    ("Error", "error"),
    ("Result", "error"),
    ("SchemaKeyword", "error"),
    ("ViolationKind", "error"),
    ("Violation", "error"),
    ("Violations", "error"),
    ("Limits", "limits"),
    ("Version", "draft"),
    ("Draft", "draft"),
    ("types", "model"),
    ("Message", "model"),
    ("Analyzer", "model"),
    ("Sensor", "model"),
    ("Source", "model"),
    ("Target", "model"),
    ("Attachment", "model"),
    ("Id", "model"),
    ("Timestamp", "model"),
    ("validate", "validation"),
    ("schema", "validation"),
    ("supported_versions", "validation"),
    ("validate_slice", "message"),
    ("SerializedMessage", "codec"),
    ("Path", "path"),
];

fn rank(module: &str) -> u8 {
    RANKS
        .iter()
        .find(|(m, _)| *m == module)
        .unwrap_or_else(|| panic!("module {module} has no rank in tests/layers.rs"))
        .1
}

/// The module a first path segment after `crate::` lands in.
fn module_of(segment: &str) -> &str {
    ROOT_NAMES
        .iter()
        .find(|(name, _)| *name == segment)
        .map_or(segment, |(_, module)| module)
}

/// The first segments of every `crate::` path in `code`, including each
/// branch of a `crate::{a, b::c}` group.
fn crate_references(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.push(group[start..i].to_string());
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(group[start..i].to_string());
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.push(rest.to_string());
        }
    }
    out.iter()
        .map(|path| {
            let path = path.trim();
            let end = path
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(path.len());
            path[..end].to_string()
        })
        .filter(|segment| !segment.is_empty())
        .collect()
}

/// The code of a file without comments (doc links may point anywhere).
fn code(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn modules_use_lower_layers_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut checked = 0;
    let mut wrong = Vec::new();
    for path in all {
        let relative = path.strip_prefix(&src).expect("under src");
        let first = relative
            .iter()
            .next()
            .and_then(|s| s.to_str())
            .unwrap_or("");
        let module = first.trim_end_matches(".rs");
        // The crate root wires the layers together; the tool is a user.
        if module == "lib" || module == "bin" {
            continue;
        }
        for segment in crate_references(&code(&path)) {
            let target = module_of(&segment);
            checked += 1;
            if target != module && rank(target) >= rank(module) {
                wrong.push(format!(
                    "{}: uses crate::{segment} ({target})",
                    relative.display()
                ));
            }
        }
    }
    assert!(checked > 20, "only {checked} references seen");
    assert!(
        wrong.is_empty(),
        "references that do not point down:\n{}",
        wrong.join("\n")
    );
}

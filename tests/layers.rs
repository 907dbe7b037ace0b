//! The library's modules form layers that only point down: a module uses
//! `crate::` paths into lower layers only (see the list in `src/lib.rs`).
//! This reads the sources and refuses any reference up or sideways, so
//! that a cycle such as codec ↔ message cannot come back unnoticed.

use std::{fs, path::Path};

/// The crate root, which states the layers.
fn lib_rs() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs");
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Each module of `src/` (a file or a folder) with its layer, as
/// `src/lib.rs` states them: a comment `// N. ...` opens layer N, and the
/// `mod` declarations under it are in it. A module may use modules of a
/// lower layer only.
fn ranks() -> Vec<(String, u32)> {
    let mut layer = None;
    let mut out = Vec::new();
    for line in lib_rs().lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("// ") {
            if let Some((number, _)) = rest.split_once(". ") {
                if let Ok(n) = number.parse::<u32>() {
                    layer = Some(n);
                }
            }
            continue;
        }
        let declared = line
            .strip_prefix("pub mod ")
            .or_else(|| line.strip_prefix("mod "))
            .and_then(|rest| rest.strip_suffix(';'));
        if let Some(module) = declared {
            let layer = layer.unwrap_or_else(|| panic!("mod {module} comes before any layer"));
            out.push((module.to_string(), layer));
        }
    }
    assert!(out.len() >= 10, "src/lib.rs states only {out:?}");
    out
}

fn rank(ranks: &[(String, u32)], module: &str) -> u32 {
    ranks
        .iter()
        .find(|(m, _)| m == module)
        .unwrap_or_else(|| panic!("module {module} is in no layer of src/lib.rs"))
        .1
}

/// The module that defines each name re-exported at the crate root, from
/// its `pub use` lines (`pub use model::types;` makes `types` name
/// `model`, and `pub use types::{Message, ...}` then names `model` too).
fn root_names() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in lib_rs().lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else {
            continue;
        };
        let rest = rest.trim_end_matches(';');
        let Some((first, names)) = rest.split_once("::") else {
            // `pub use serde_json;`: another crate, not a module of ours.
            continue;
        };
        let module = out
            .iter()
            .find(|(name, _)| name == first)
            .map_or(first.to_string(), |(_, module)| module.clone());
        let names = names.trim_start_matches('{').trim_end_matches('}');
        for name in names.split(',') {
            let name = name.rsplit("::").next().unwrap_or(name).trim();
            if !name.is_empty() {
                out.push((name.to_string(), module.clone()));
            }
        }
    }
    out
}

/// The module a first path segment after `crate::` lands in.
fn module_of<'a>(names: &'a [(String, String)], segment: &'a str) -> &'a str {
    names
        .iter()
        .find(|(name, _)| name == segment)
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
    let (ranks, names) = (ranks(), root_names());
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
            let target = module_of(&names, &segment);
            checked += 1;
            if target != module && rank(&ranks, target) >= rank(&ranks, module) {
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

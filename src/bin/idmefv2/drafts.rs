//! The drafts as the command line names them: in help texts and as
//! `--to`/`--version` values, all taken from the library's lists.

use idmefv2::{Draft, Version};

/// The typed model's drafts, for help texts: `2.D.V08 and 2.D.V09-Dev`.
pub fn typed_drafts() -> String {
    let names: Vec<&str> = Version::ALL.iter().map(|v| v.as_str()).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// The drafts older than the typed model, for help texts: `2.D.V02 to
/// 2.D.V07`.
pub fn older_drafts() -> String {
    let older: Vec<&str> = Draft::ALL
        .iter()
        .filter(|d| d.version().is_none())
        .map(|d| d.as_str())
        .collect();
    match older.as_slice() {
        [] => "none".to_string(),
        [one] => (*one).to_string(),
        [first, .., last] => format!("{first} to {last}"),
    }
}

/// A draft of the typed model, by name.
pub fn parse_version(text: &str) -> Result<Version, String> {
    text.parse().map_err(|_| {
        let all: Vec<&str> = Version::ALL.iter().map(|v| v.as_str()).collect();
        format!("unknown version; supported: {}", all.join(", "))
    })
}

/// Any draft the crate embeds, by name.
pub fn parse_draft(text: &str) -> Result<Draft, String> {
    text.parse().map_err(|_| {
        let all = idmefv2::supported_versions();
        format!("unknown version; supported: {}", all.join(", "))
    })
}

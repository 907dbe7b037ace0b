//! The dead-letter file: one JSON object per line for each message the
//! receiver refused, with its reasons and the message itself, so that an
//! operator can read why, mend the message and send it again.

use std::{
    fs::{File, OpenOptions},
    io::Write,
    path::Path,
};

use super::{
    error::{io_error, OutboxError},
    journal::{hex, Key},
    DeliverError,
};

/// The dead-letter file's name in the spool folder.
pub(super) const DEAD_LETTER: &str = "dead-letter.ndjson";

/// The line of one refused message: `id`, `digest`, `status`,
/// `refused_at`, `reason`, `violations`, `answers` (each failure's words,
/// when the message was given up after several) and `body` (or
/// `body_hex`).
pub(super) fn line(key: &Key, body: &[u8], error: &DeliverError, answers: &[String]) -> Vec<u8> {
    let mut line = serde_json::Map::new();
    line.insert("id".into(), key.id().into());
    line.insert("digest".into(), key.digest_hex().into());
    line.insert("status".into(), error.status().into());
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    line.insert("refused_at".into(), now.into());
    line.insert("reason".into(), error.to_string().into());
    let violations: Vec<serde_json::Value> = error
        .violations()
        .iter()
        // The one JSON shape of a violation (pointer, keyword, reason).
        .map(|v| serde_json::to_value(v).unwrap_or_default())
        .collect();
    line.insert("violations".into(), violations.into());
    if answers.len() > 1 {
        line.insert("answers".into(), answers.to_vec().into());
    }
    match std::str::from_utf8(body) {
        Ok(text) => line.insert("body".into(), text.into()),
        Err(_) => line.insert("body_hex".into(), hex(body).into()),
    };
    let mut text = serde_json::to_vec(&line).unwrap_or_default();
    text.push(b'\n');
    text
}

/// Appends `line` to the dead-letter file at `path` in `dir`, synced (the
/// folder too when the file is new).
pub(super) fn append(dir: &Path, path: &Path, line: &[u8]) -> Result<(), OutboxError> {
    let existed = path.exists();
    (|| {
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        file.write_all(line)?;
        file.sync_data()?;
        if !existed {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    })()
    .map_err(io_error(path))
}

//! The journal on disk: its format (see the [module docs](super) for the
//! records), reading it back after a crash, and writing it anew when it is
//! compacted.

use std::{
    collections::BTreeMap,
    fmt,
    fs::{self, File, OpenOptions},
    io::{self, Read, Write},
    path::{Path, PathBuf},
};

use bytes::Bytes;

use super::error::{io_error, OutboxError};

/// The first line of every journal.
pub(super) const HEADER: &[u8] = b"idmefv2-outbox 2\n";
/// The header of journals written before `D` and `X` records had a check:
/// read as they are, and rewritten with [`HEADER`] at the next compaction.
pub(super) const HEADER_V1: &[u8] = b"idmefv2-outbox 1\n";
/// The journal's file name in the spool folder.
pub(super) const JOURNAL: &str = "journal";
/// Compaction is not worth it below this journal size.
pub(super) const COMPACT_FROM: u64 = 1 << 20;

/// A message as the journal holds it.
pub(super) struct Put {
    pub(super) key: Key,
    pub(super) body: Bytes,
}

/// What identifies a message in the outbox: its `ID` (when it is a plain
/// token) and the SHA-256 of its bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub(super) id: Option<Box<str>>,
    pub(super) digest: [u8; 32],
}

impl Key {
    /// The key of a message's bytes.
    pub fn of(body: &[u8]) -> Key {
        let id = crate::json::message_id(body).filter(|id| plain_token(id));
        let digest = ring::digest::digest(&ring::digest::SHA256, body);
        let mut bytes = [0; 32];
        bytes.copy_from_slice(digest.as_ref());
        Key {
            id: id.map(String::into_boxed_str),
            digest: bytes,
        }
    }

    /// The message's `ID`, when it is a plain token.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The SHA-256 of the message in lowercase hex.
    pub fn digest_hex(&self) -> String {
        hex(&self.digest)
    }

    pub(super) fn id_field(&self) -> &str {
        self.id.as_deref().unwrap_or("-")
    }
}

impl fmt::Display for Key {
    /// `ID` (or `-`), a space and the first 16 hex digits of the digest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id_field(), &hex(&self.digest)[..16])
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({self})")
    }
}

/// An `ID` that can stand in a journal line as it is.
pub(super) fn plain_token(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()) && id != "-"
}

/// The check a `D` or `X` record carries of the message it names.
pub(super) fn check(key: &Key) -> String {
    hex(&key.digest[..8])
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn parse_hex32(text: &[u8]) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0; 32];
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

/// A record a crash interrupted, cut off when the journal was opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TornTail {
    /// The journal.
    pub path: PathBuf,
    /// The line where the record started (from 1).
    pub line: u64,
    /// Where it started, in bytes; the journal now ends there.
    pub offset: u64,
    /// How many bytes were cut.
    pub bytes: u64,
    /// Why the record was not whole.
    pub reason: String,
}

impl fmt::Display for TornTail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: line {} (byte {}): cut {} bytes of a last record left unfinished by a crash \
             ({}); it was never reported kept",
            self.path.display(),
            self.line,
            self.offset,
            self.bytes,
            self.reason
        )
    }
}

/// What [`Outbox::open`](super::Outbox::open) found in the journal.
#[derive(Clone, Debug, Default)]
pub struct Recovery {
    pub(super) torn: Option<TornTail>,
    pub(super) pending: usize,
}

impl Recovery {
    /// The interrupted last record that was cut off, if any.
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn.as_ref()
    }

    /// How many messages were pending in the journal.
    pub fn pending(&self) -> usize {
        self.pending
    }
}

pub(super) fn open_append(path: &Path) -> Result<File, OutboxError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io_error(path))
}

/// How many decimal digits `n` takes.
pub(super) fn digits(n: u64) -> u64 {
    u64::from(n.checked_ilog10().unwrap_or(0)) + 1
}

/// The length of a `P` record:
/// `P SEQ ID DIGEST LENGTH` and a line end, the body and a line end.
pub(super) fn put_len(seq: u64, key: &Key, body: &[u8]) -> u64 {
    let length = body.len() as u64;
    2 + digits(seq) + 1 + key.id_field().len() as u64 + 1 + 64 + 1 + digits(length) + 1 + length + 1
}

/// The length of a `K` record.
pub(super) fn kept_len(key: &Key) -> u64 {
    (2 + key.id_field().len() + 1 + 64 + 1) as u64
}

pub(super) fn write_put(buffer: &mut Vec<u8>, seq: u64, key: &Key, body: &[u8]) {
    let _ = writeln!(
        buffer,
        "P {seq} {} {} {}",
        key.id_field(),
        hex(&key.digest),
        body.len()
    );
    buffer.extend_from_slice(body);
    buffer.push(b'\n');
}

pub(super) fn write_kept(buffer: &mut Vec<u8>, key: &Key) {
    let _ = writeln!(buffer, "K {} {}", key.id_field(), hex(&key.digest));
}

/// What reading a journal gives.
pub(super) struct Replay {
    pub(super) length: u64,
    pub(super) next_seq: u64,
    pub(super) pending: BTreeMap<u64, Put>,
    pub(super) delivered: Vec<Key>,
    pub(super) refused: Vec<Key>,
}

/// A record that does not read, and whether it runs to the end of the
/// file (the mark of a crash during its write).
pub(super) struct Bad {
    pub(super) offset: usize,
    pub(super) end: usize,
    pub(super) reason: String,
}

/// Reads (or creates) the journal; cuts a torn last record.
pub(super) fn read_journal(path: &Path) -> Result<(Replay, Option<TornTail>), OutboxError> {
    let mut data = Vec::new();
    match File::open(path) {
        Ok(mut file) => {
            file.read_to_end(&mut data).map_err(io_error(path))?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(path)(e)),
    }
    let line_of = |data: &[u8], offset: usize| {
        data[..offset.min(data.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
            + 1
    };
    if data.len() < HEADER.len() {
        // A journal made and never synced past its header, or new.
        if !HEADER.starts_with(&data) && !HEADER_V1.starts_with(&data) {
            return Err(OutboxError::Corrupt {
                path: path.to_path_buf(),
                line: 1,
                offset: 0,
                reason: "not an idmefv2 outbox journal (no `idmefv2-outbox` header)".into(),
            });
        }
        let torn = (!data.is_empty()).then(|| TornTail {
            path: path.to_path_buf(),
            line: 1,
            offset: 0,
            bytes: data.len() as u64,
            reason: "the header is cut short".into(),
        });
        write_new_journal(path)?;
        let replay = Replay {
            length: HEADER.len() as u64,
            next_seq: 1,
            pending: BTreeMap::new(),
            delivered: Vec::new(),
            refused: Vec::new(),
        };
        return Ok((replay, torn));
    }
    if !data.starts_with(HEADER) && !data.starts_with(HEADER_V1) {
        return Err(OutboxError::Corrupt {
            path: path.to_path_buf(),
            line: 1,
            offset: 0,
            reason: "not an idmefv2 outbox journal (no `idmefv2-outbox` header)".into(),
        });
    }
    let (replay, bad) = replay(&data);
    let Some(bad) = bad else {
        return Ok((replay, None));
    };
    if bad.end < data.len() {
        return Err(OutboxError::Corrupt {
            path: path.to_path_buf(),
            line: line_of(&data, bad.offset),
            offset: bad.offset as u64,
            reason: bad.reason,
        });
    }
    let torn = TornTail {
        path: path.to_path_buf(),
        line: line_of(&data, bad.offset),
        offset: bad.offset as u64,
        bytes: (data.len() - bad.offset) as u64,
        reason: bad.reason,
    };
    (|| {
        let file = OpenOptions::new().write(true).open(path)?;
        file.set_len(bad.offset as u64)?;
        file.sync_all()
    })()
    .map_err(io_error(path))?;
    Ok((replay, Some(torn)))
}

pub(super) fn write_new_journal(path: &Path) -> Result<(), OutboxError> {
    (|| {
        let mut file = File::create(path)?;
        file.write_all(HEADER)?;
        file.sync_all()?;
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(parent)?.sync_all()
    })()
    .map_err(io_error(path))
}

/// Replays the records after the header, stopping at the first bad one.
pub(super) fn replay(data: &[u8]) -> (Replay, Option<Bad>) {
    let mut replay = Replay {
        length: 0,
        next_seq: 1,
        pending: BTreeMap::new(),
        delivered: Vec::new(),
        refused: Vec::new(),
    };
    let legacy = data.starts_with(HEADER_V1);
    let mut at = HEADER.len();
    while at < data.len() {
        match record(data, at, &mut replay, legacy) {
            Ok(end) => at = end,
            Err(bad) => {
                replay.length = at as u64;
                return (replay, Some(bad));
            }
        }
    }
    replay.length = at as u64;
    (replay, None)
}

/// Applies the record at `start`; returns where the next one starts.
/// `legacy`: a journal of [`HEADER_V1`], whose marks may have no check.
pub(super) fn record(
    data: &[u8],
    start: usize,
    replay: &mut Replay,
    legacy: bool,
) -> Result<usize, Bad> {
    let rest = &data[start..];
    let bad = |end: usize, reason: String| Bad {
        offset: start,
        end,
        reason,
    };
    let Some(newline) = rest.iter().position(|&b| b == b'\n') else {
        return Err(bad(data.len(), "the record's line has no end".into()));
    };
    let line_end = start + newline + 1;
    let fields: Vec<&[u8]> = rest[..newline].split(|&b| b == b' ').collect();
    let number = |field: &[u8], what: &str| -> Result<u64, Bad> {
        std::str::from_utf8(field)
            .ok()
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| bad(line_end, format!("{what} is not a number")))
    };
    let key_from = |id: &[u8], digest: &[u8]| -> Result<Key, Bad> {
        let digest = parse_hex32(digest)
            .ok_or_else(|| bad(line_end, "the digest is not 64 hexadecimal digits".into()))?;
        let id = std::str::from_utf8(id)
            .ok()
            .filter(|id| *id == "-" || plain_token(id))
            .ok_or_else(|| bad(line_end, "the ID is not a plain token".into()))?;
        Ok(Key {
            id: (id != "-").then(|| id.into()),
            digest,
        })
    };
    match fields.as_slice() {
        [b"P", seq, id, digest, length] => {
            let seq = number(seq, "the sequence number")?;
            let key = key_from(id, digest)?;
            let length = number(length, "the length")? as usize;
            let body_end = line_end.saturating_add(length);
            if body_end >= data.len() || body_end < line_end {
                return Err(bad(
                    data.len(),
                    format!(
                        "message {seq} is cut short: {length} bytes announced, {} there",
                        data.len().saturating_sub(line_end + 1)
                    ),
                ));
            }
            let body = &data[line_end..body_end];
            if data[body_end] != b'\n' {
                return Err(bad(
                    body_end + 1,
                    format!("message {seq} is not followed by a line end"),
                ));
            }
            let end = body_end + 1;
            let actual = Key::of(body);
            if actual.digest != key.digest {
                return Err(bad(
                    end,
                    format!("message {seq} does not match its SHA-256 digest"),
                ));
            }
            if actual.id != key.id {
                return Err(bad(
                    end,
                    format!("message {seq}: the record's ID is not the message's"),
                ));
            }
            if replay.pending.contains_key(&seq) || seq < replay.next_seq {
                return Err(bad(end, format!("message number {seq} comes twice")));
            }
            replay.next_seq = seq + 1;
            replay.pending.insert(
                seq,
                Put {
                    key,
                    body: Bytes::copy_from_slice(body),
                },
            );
            Ok(end)
        }
        [mark @ (b"D" | b"X"), seq, checked @ ..]
            if checked.len() == 1 || (legacy && checked.is_empty()) =>
        {
            let seq = number(seq, "the sequence number")?;
            let Some(entry) = replay.pending.remove(&seq) else {
                return Err(bad(
                    line_end,
                    format!("marks message {seq} finished, but no such message is pending"),
                ));
            };
            if let [given] = checked {
                if **given != *check(&entry.key).as_bytes() {
                    // Still pending: what is read up to here stays as it was.
                    replay.pending.insert(seq, entry);
                    return Err(bad(
                        line_end,
                        format!(
                            "marks message {seq} finished, but its check {:?} is not that \
                             message's digest",
                            String::from_utf8_lossy(given)
                        ),
                    ));
                }
            }
            if *mark == b"D" {
                replay.delivered.push(entry.key);
            } else {
                replay.refused.push(entry.key);
            }
            Ok(line_end)
        }
        [b"K", id, digest] => {
            replay.delivered.push(key_from(id, digest)?);
            Ok(line_end)
        }
        _ => Err(bad(
            line_end,
            format!(
                "not a record: {:?}",
                String::from_utf8_lossy(&rest[..newline.min(40)])
            ),
        )),
    }
}

/// Writes `buffer` (a whole journal) to a new file in `dir` and puts it in
/// place of `journal` by an atomic rename, the folder synced.
pub(super) fn replace_journal(
    dir: &Path,
    journal: &Path,
    buffer: &[u8],
) -> Result<(), OutboxError> {
    let fresh = dir.join("journal.new");
    let written = (|| {
        let mut file = File::create(&fresh)?;
        file.write_all(buffer)?;
        file.sync_all()?;
        fs::rename(&fresh, journal)?;
        File::open(dir)?.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&fresh);
        return Err(io_error(journal)(e));
    }
    Ok(())
}

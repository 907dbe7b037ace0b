//! A durable outbox: messages are written to a journal on disk, synced,
//! and only then sent; they stay there until the receiver acknowledges
//! them (a 2xx) or refuses them for good (a 4xx, which moves them to a
//! dead-letter file with the receiver's reasons). A sender that is killed
//! or loses power picks up where it stopped, so an alert handed to the
//! outbox is never lost on the way, only possibly sent twice (at least
//! once; a receiver drops repeats by `ID`, see
//! [`Dedup`](super::server::Dedup)).
//!
//! ```no_run
//! use idmefv2::http::{client::Client, outbox::{DeliveryOptions, Outbox, OutboxOptions}};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder("https://siem.example.org:4690/")
//!     .identity_pem(&std::fs::read("sensor.pem")?, &std::fs::read("sensor.key")?)
//!     .ca_pem(&std::fs::read("ca.pem")?)
//!     .build()?;
//! let (outbox, recovery) = Outbox::open("/var/spool/idmefv2", OutboxOptions::default())?;
//! if let Some(torn) = recovery.torn_tail() {
//!     eprintln!("{torn}");
//! }
//! // Returns once the message is on disk, before anything is sent.
//! outbox.enqueue(br#"{"Version":"2.D.V08","ID":"..."}"#)?;
//! let report = outbox.deliver(&client, &DeliveryOptions::default()).await?;
//! println!("{} delivered, {} still pending", report.delivered, report.pending);
//! # Ok(()) }
//! ```
//!
//! # The spool folder
//!
//! - `journal`: every message and what became of it, appended to as
//!   things happen and rewritten without the finished messages now and
//!   then (compaction).
//! - `dead-letter.ndjson`: the messages the receiver refused, one JSON
//!   object per line: `id`, `digest`, `status`, `refused_at` (RFC 3339,
//!   UTC), `reason` (the error in words), `violations` (each `pointer`
//!   and `reason`, when the receiver listed them) and the message itself
//!   as `body` (its text; `body_hex` instead when it is not UTF-8).
//! - `lock`: held (`flock`) while an [`Outbox`] is open, so that two
//!   senders never share a journal.
//!
//! # The journal
//!
//! A text header `idmefv2-outbox 2` on the first line, then records, each
//! a line of fields separated by single spaces:
//!
//! | record | meaning |
//! |---|---|
//! | `P SEQ ID DIGEST LENGTH`, then `LENGTH` bytes of message and a line end | message number `SEQ` is to be sent |
//! | `D SEQ CHECK` | message `SEQ` was acknowledged |
//! | `X SEQ CHECK` | message `SEQ` was refused and moved to the dead-letter file |
//! | `K ID DIGEST` | a message acknowledged before the last compaction |
//!
//! `DIGEST` is the SHA-256 of the message's bytes in lowercase hex. `ID` is
//! the message's top-level `ID` when it is a plain token (1 to 128 visible
//! ASCII characters), `-` otherwise. Both are checked against the message
//! when the journal is read. `CHECK` is the first 16 hex digits of the
//! digest of the message `SEQ` names, and must match it: a damaged
//! sequence number can thus never mark another pending message finished.
//! (A journal with the header `idmefv2-outbox 1`, written before marks had
//! a check, is read with its `D SEQ` and `X SEQ` as they are, and gets the
//! new header at its next compaction.) A damaged `K` record can at worst forget
//! a delivered message's key, so that the message would be sent again if
//! it were given again.
//!
//! A message's **key** is its `ID` together with its digest. A message
//! whose key the journal already holds, pending or acknowledged, is not
//! taken again ([`Enqueued::AlreadyPending`], [`Enqueued::AlreadyDelivered`]):
//! feeding the same input to a sender twice does not send it twice. The
//! keys of acknowledged messages are remembered up to
//! [`OutboxOptions::remember`] (the most recent ones), since each costs
//! about 100 bytes of journal.
//!
//! # Crashes and damage
//!
//! [`Outbox::enqueue`] returns only once the journal is synced to disk
//! past the message's record; several callers at once, or one call with
//! many messages ([`Outbox::enqueue_all`]), share one sync. The `D` and
//! `X` marks are written as they happen and synced at least once a second
//! and at the end of a delivery run: a mark lost in a power cut only means
//! the message is sent again.
//!
//! When the journal is opened:
//!
//! - a damaged **last** record (cut short, or failing its digest, with
//!   nothing after it) is the record a crash interrupted. Since no caller
//!   was told it was kept before its sync, it is cut off and reported in
//!   [`Recovery::torn_tail`], with where it started and why it was refused;
//! - a damaged record anywhere else is not something a crash leaves: the
//!   journal is refused as a whole with [`OutboxError::Corrupt`], giving
//!   the line and byte where the damage is and what is wrong, and nothing
//!   is sent until someone looks (no record is skipped silently).
//!
//! # Disk use
//!
//! The journal never grows past [`OutboxOptions::max_bytes`]: an enqueue
//! that would pass it is refused with [`OutboxError::Full`] (after a
//! compaction, if that made no room). Compaction rewrites the journal
//! with only the pending messages and the remembered keys, into a new
//! file that replaces the old one by an atomic rename; it runs when the
//! finished records make up more than half of a journal over 1 MiB, and
//! when the journal is full.
//!
//! # Delivery
//!
//! [`Outbox::deliver`] sends pending messages, oldest first, up to
//! [`DeliveryOptions::concurrency`] at once. A transient failure (see
//! [`SendError::is_permanent`]) puts the message back at the head of the
//! queue and pauses all sending, since such failures belong to the
//! receiver rather than to one message: the pause starts at
//! [`DeliveryOptions::first_delay`] and doubles with each failure in a
//! row up to [`DeliveryOptions::max_delay`], with random jitter (each
//! pause is between half and all of its nominal length), and is never
//! shorter than the receiver's `Retry-After`. A success ends the series.
//! The run ends when nothing is pending (and no [`HoldOpen`] guard is
//! alive), when no message has been acknowledged for
//! [`DeliveryOptions::give_up_after`] while some are pending, or at a TLS
//! failure (unless told otherwise); whatever is not delivered stays in the
//! journal for the next run.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    fmt,
    fs::{self, File, OpenOptions},
    io::{self, Read, Write},
    path::{Path, PathBuf},
    sync::{Arc, Condvar, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use bytes::Bytes;

use super::client::{Client, SendError};

/// The first line of every journal.
const HEADER: &[u8] = b"idmefv2-outbox 2\n";
/// The header of journals written before `D` and `X` records had a check:
/// read as they are, and rewritten with [`HEADER`] at the next compaction.
const HEADER_V1: &[u8] = b"idmefv2-outbox 1\n";
/// The journal's file name in the spool folder.
const JOURNAL: &str = "journal";
/// The dead-letter file's name in the spool folder.
const DEAD_LETTER: &str = "dead-letter.ndjson";
/// Compaction is not worth it below this journal size.
const COMPACT_FROM: u64 = 1 << 20;
/// How often acknowledgement marks are synced while delivering.
const MARK_SYNC_EVERY: Duration = Duration::from_secs(1);

/// Limits of an [`Outbox`].
#[derive(Clone, Debug)]
pub struct OutboxOptions {
    max_bytes: u64,
    remember: usize,
}

impl Default for OutboxOptions {
    fn default() -> Self {
        OutboxOptions {
            max_bytes: 256 << 20,
            remember: 100_000,
        }
    }
}

impl OutboxOptions {
    /// The largest the journal may grow, in bytes (default 256 MiB).
    #[must_use]
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// How many keys of acknowledged messages are kept to recognize a
    /// message given again (default 100,000).
    #[must_use]
    pub fn remember(mut self, keys: usize) -> Self {
        self.remember = keys;
        self
    }
}

/// What identifies a message in the outbox: its `ID` (when it is a plain
/// token) and the SHA-256 of its bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key {
    id: Option<Box<str>>,
    digest: [u8; 32],
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

    fn id_field(&self) -> &str {
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
fn plain_token(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()) && id != "-"
}

/// The check a `D` or `X` record carries of the message it names.
fn check(key: &Key) -> String {
    hex(&key.digest[..8])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex32(text: &[u8]) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0; 32];
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

/// What became of one message handed to [`Outbox::enqueue`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Enqueued {
    /// Written to the journal and synced: it will be sent.
    Queued(Key),
    /// The journal holds this message already, not yet delivered.
    AlreadyPending(Key),
    /// The journal shows this message acknowledged already; not sent
    /// again.
    AlreadyDelivered(Key),
    /// The receiver refused this message before (it is in the dead-letter
    /// file); not sent again.
    AlreadyRefused(Key),
}

impl Enqueued {
    /// The message's key.
    pub fn key(&self) -> &Key {
        match self {
            Enqueued::Queued(k)
            | Enqueued::AlreadyPending(k)
            | Enqueued::AlreadyDelivered(k)
            | Enqueued::AlreadyRefused(k) => k,
        }
    }
}

/// Why the outbox could not do what was asked.
#[derive(Debug)]
#[non_exhaustive]
pub enum OutboxError {
    /// Reading or writing the spool folder failed.
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        error: io::Error,
    },
    /// The journal holds something that is neither a record nor the
    /// interrupted last record of a crash.
    Corrupt {
        /// The journal.
        path: PathBuf,
        /// The line where the bad record starts (from 1).
        line: u64,
        /// Its byte offset from the start of the file.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The journal would grow past its limit.
    Full {
        /// The journal.
        path: PathBuf,
        /// Its size now, in bytes.
        used: u64,
        /// What the messages refused would have taken.
        needed: u64,
        /// [`OutboxOptions::max_bytes`].
        limit: u64,
    },
    /// Another process (or another [`Outbox`]) has the spool folder open.
    Locked {
        /// The spool folder.
        path: PathBuf,
    },
}

impl fmt::Display for OutboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutboxError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            OutboxError::Corrupt {
                path,
                line,
                offset,
                reason,
            } => write!(
                f,
                "{}: line {line} (byte {offset}): {reason}; the journal is left as it is \
                 and nothing is sent from it",
                path.display()
            ),
            OutboxError::Full {
                path,
                used,
                needed,
                limit,
            } => write!(
                f,
                "{}: the spool is full: {used} bytes used of {limit}, {needed} more needed; \
                 messages leave it once the receiver acknowledges them",
                path.display()
            ),
            OutboxError::Locked { path } => write!(
                f,
                "{}: the spool is in use by another sender",
                path.display()
            ),
        }
    }
}

impl std::error::Error for OutboxError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OutboxError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> OutboxError + '_ {
    move |error| OutboxError::Io {
        path: path.to_path_buf(),
        error,
    }
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

/// What [`Outbox::open`] found in the journal.
#[derive(Clone, Debug, Default)]
pub struct Recovery {
    torn: Option<TornTail>,
    pending: usize,
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

/// A message waiting in the outbox.
struct Entry {
    key: Key,
    body: Bytes,
}

/// Where a key stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending(u64),
    Delivered,
    Refused,
}

/// Everything behind the outbox's lock.
struct State {
    file: Arc<File>,
    /// The journal's length in bytes.
    length: u64,
    /// What a compacted journal would take.
    live: u64,
    next_seq: u64,
    pending: BTreeMap<u64, Entry>,
    /// Pending messages not being sent right now, in order.
    queue: VecDeque<u64>,
    keys: HashMap<Key, Status>,
    /// Delivered keys, oldest first, for the `remember` bound.
    delivered: VecDeque<Key>,
    /// Bytes appended since the outbox was opened (for group syncs).
    appended: u64,
    /// Marks written and not synced yet.
    marks_unsynced: bool,
    holds: usize,
}

/// Syncs shared among concurrent callers.
#[derive(Default)]
struct SyncState {
    synced: u64,
    busy: bool,
}

struct Shared {
    dir: PathBuf,
    journal: PathBuf,
    dead_letter: PathBuf,
    options: OutboxOptions,
    state: Mutex<State>,
    sync: Mutex<SyncState>,
    synced: Condvar,
    changed: tokio::sync::Notify,
    delivering: tokio::sync::Mutex<()>,
    _lock: File,
}

/// A durable queue of messages for one receiver; see the
/// [module](self). Cheap to clone; clones share the journal.
#[derive(Clone)]
pub struct Outbox {
    shared: Arc<Shared>,
}

impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("dir", &self.shared.dir)
            .field("pending", &self.pending())
            .finish()
    }
}

impl Outbox {
    /// Opens the spool folder `dir` (made when missing), reads its journal
    /// and takes its lock.
    pub fn open(
        dir: impl AsRef<Path>,
        options: OutboxOptions,
    ) -> Result<(Outbox, Recovery), OutboxError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_error(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(OutboxError::Locked { path: dir }),
            Err(fs::TryLockError::Error(e)) => return Err(io_error(&lock_path)(e)),
        }
        let journal = dir.join(JOURNAL);
        let dead_letter = dir.join(DEAD_LETTER);
        let (replay, torn) = read_journal(&journal)?;
        let mut state = State {
            file: Arc::new(open_append(&journal)?),
            length: replay.length,
            live: HEADER.len() as u64,
            next_seq: replay.next_seq,
            pending: BTreeMap::new(),
            queue: VecDeque::new(),
            keys: HashMap::new(),
            delivered: VecDeque::new(),
            appended: 0,
            marks_unsynced: false,
            holds: 0,
        };
        for key in replay.delivered {
            state.remember_delivered(key, options.remember);
        }
        for key in replay.refused {
            state.keys.insert(key, Status::Refused);
        }
        for (seq, entry) in replay.pending {
            state.live += put_len(seq, &entry.key, &entry.body);
            state.keys.insert(entry.key.clone(), Status::Pending(seq));
            state.queue.push_back(seq);
            state.pending.insert(seq, entry);
        }
        let recovery = Recovery {
            torn,
            pending: state.pending.len(),
        };
        let outbox = Outbox {
            shared: Arc::new(Shared {
                dir,
                journal,
                dead_letter,
                options,
                state: Mutex::new(state),
                sync: Mutex::new(SyncState::default()),
                synced: Condvar::new(),
                changed: tokio::sync::Notify::new(),
                delivering: tokio::sync::Mutex::new(()),
                _lock: lock,
            }),
        };
        if outbox.needs_compaction() {
            outbox.compact()?;
        }
        Ok((outbox, recovery))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The spool folder.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// The dead-letter file (which may not exist yet).
    pub fn dead_letter_path(&self) -> &Path {
        &self.shared.dead_letter
    }

    /// How many messages are waiting to be delivered.
    pub fn pending(&self) -> usize {
        self.lock().pending.len()
    }

    /// The journal's size in bytes.
    pub fn journal_bytes(&self) -> u64 {
        self.lock().length
    }

    /// Adds one message (its bytes, sent as `application/json`) and
    /// returns once it is synced to disk; see [`enqueue_all`](Self::enqueue_all).
    pub fn enqueue(&self, body: &[u8]) -> Result<Enqueued, OutboxError> {
        let mut all = self.enqueue_all([body])?;
        Ok(all.remove(0))
    }

    /// Adds messages and returns once all of them are synced to disk, with
    /// one sync for the lot (shared with other callers syncing at the same
    /// time). Messages whose key the journal holds are not added again.
    /// When the new records would not fit under
    /// [`OutboxOptions::max_bytes`], none is added and the error is
    /// [`OutboxError::Full`].
    ///
    /// This blocks on disk I/O: from async code, call it through
    /// `tokio::task::spawn_blocking`.
    pub fn enqueue_all<B: AsRef<[u8]>>(
        &self,
        bodies: impl IntoIterator<Item = B>,
    ) -> Result<Vec<Enqueued>, OutboxError> {
        let keyed: Vec<(Key, Bytes)> = bodies
            .into_iter()
            .map(|b| {
                let b = b.as_ref();
                (Key::of(b), Bytes::copy_from_slice(b))
            })
            .collect();
        let mut outcomes = Vec::with_capacity(keyed.len());
        let target;
        {
            let mut state = self.lock();
            let mut fresh: Vec<(Key, Bytes)> = Vec::new();
            let mut in_batch = std::collections::HashSet::new();
            for (key, body) in keyed {
                match state.keys.get(&key) {
                    Some(Status::Pending(_)) => outcomes.push(Enqueued::AlreadyPending(key)),
                    Some(Status::Delivered) => outcomes.push(Enqueued::AlreadyDelivered(key)),
                    Some(Status::Refused) => outcomes.push(Enqueued::AlreadyRefused(key)),
                    None if !in_batch.insert(key.clone()) => {
                        outcomes.push(Enqueued::AlreadyPending(key))
                    }
                    None => {
                        outcomes.push(Enqueued::Queued(key.clone()));
                        fresh.push((key, body));
                    }
                }
            }
            if fresh.is_empty() {
                return Ok(outcomes);
            }
            let needed: u64 = (state.next_seq..)
                .zip(&fresh)
                .map(|(seq, (k, b))| put_len(seq, k, b))
                .sum();
            let limit = self.shared.options.max_bytes;
            if state.length + needed > limit && state.live < state.length {
                self.compact_locked(&mut state)?;
            }
            if state.length + needed > limit {
                return Err(OutboxError::Full {
                    path: self.shared.dir.clone(),
                    used: state.length,
                    needed,
                    limit,
                });
            }
            let mut buffer = Vec::with_capacity(needed as usize);
            let mut seqs = Vec::with_capacity(fresh.len());
            for (key, body) in &fresh {
                let seq = state.next_seq;
                state.next_seq += 1;
                write_put(&mut buffer, seq, key, body);
                seqs.push(seq);
            }
            self.append_locked(&mut state, &buffer)?;
            state.live += needed;
            for ((key, body), seq) in fresh.into_iter().zip(seqs) {
                state.keys.insert(key.clone(), Status::Pending(seq));
                state.queue.push_back(seq);
                state.pending.insert(seq, Entry { key, body });
            }
            target = state.appended;
        }
        self.sync_to(target)?;
        self.shared.changed.notify_one();
        Ok(outcomes)
    }

    /// Appends bytes to the journal (not synced).
    fn append_locked(&self, state: &mut State, bytes: &[u8]) -> Result<(), OutboxError> {
        let mut file: &File = &state.file;
        if let Err(e) = file.write_all(bytes) {
            // Take back a partial record so that the journal stays whole.
            let _ = state.file.set_len(state.length);
            return Err(io_error(&self.shared.journal)(e));
        }
        state.length += bytes.len() as u64;
        state.appended += bytes.len() as u64;
        Ok(())
    }

    /// Returns once the journal is synced past `target` (a count of
    /// [`State::appended`]); one caller syncs for all who wait.
    fn sync_to(&self, target: u64) -> Result<(), OutboxError> {
        let shared = &self.shared;
        let mut sync = shared.sync.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if sync.synced >= target {
                return Ok(());
            }
            if sync.busy {
                sync = shared.synced.wait(sync).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            sync.busy = true;
            drop(sync);
            let (file, upto) = {
                let state = self.lock();
                (state.file.clone(), state.appended)
            };
            let outcome = file.sync_data();
            sync = shared.sync.lock().unwrap_or_else(|e| e.into_inner());
            sync.busy = false;
            if outcome.is_ok() {
                sync.synced = sync.synced.max(upto);
            }
            shared.synced.notify_all();
            outcome.map_err(io_error(&shared.journal))?;
        }
    }

    /// Syncs the marks written so far.
    fn sync_marks(&self) -> Result<(), OutboxError> {
        let target = {
            let mut state = self.lock();
            if !state.marks_unsynced {
                return Ok(());
            }
            state.marks_unsynced = false;
            state.appended
        };
        self.sync_to(target)
    }

    /// Whether finished records make up most of a journal worth
    /// rewriting.
    fn needs_compaction(&self) -> bool {
        let state = self.lock();
        state.length > COMPACT_FROM && state.length > 2 * state.live
    }

    /// Rewrites the journal with the pending messages and remembered keys
    /// only.
    pub fn compact(&self) -> Result<(), OutboxError> {
        let mut state = self.lock();
        self.compact_locked(&mut state)
    }

    fn compact_locked(&self, state: &mut State) -> Result<(), OutboxError> {
        let shared = &self.shared;
        let fresh = shared.dir.join("journal.new");
        let mut buffer = Vec::with_capacity(state.live as usize);
        buffer.extend_from_slice(HEADER);
        for key in &state.delivered {
            write_kept(&mut buffer, key);
        }
        for (seq, entry) in &state.pending {
            write_put(&mut buffer, *seq, &entry.key, &entry.body);
        }
        let written = (|| {
            let mut file = File::create(&fresh)?;
            file.write_all(&buffer)?;
            file.sync_all()?;
            fs::rename(&fresh, &shared.journal)?;
            File::open(&shared.dir)?.sync_all()
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&fresh);
            return Err(io_error(&shared.journal)(e));
        }
        state.file = Arc::new(open_append(&shared.journal)?);
        state.length = buffer.len() as u64;
        state.live = state.length;
        state.marks_unsynced = false;
        // Everything appended so far is in the synced new file.
        let mut sync = shared.sync.lock().unwrap_or_else(|e| e.into_inner());
        sync.synced = sync.synced.max(state.appended);
        shared.synced.notify_all();
        Ok(())
    }

    /// Keeps a [`deliver`](Self::deliver) run going while the guard lives,
    /// even when nothing is pending: for a producer that is still adding
    /// messages. Dropping it lets the run end once the outbox is empty.
    pub fn hold_open(&self) -> HoldOpen {
        self.lock().holds += 1;
        HoldOpen {
            outbox: self.clone(),
        }
    }

    /// Sends what is pending through `client`, as the [module](self)
    /// describes, until the outbox is empty or the run stops.
    pub async fn deliver(
        &self,
        client: &Client,
        options: &DeliveryOptions,
    ) -> Result<DeliveryReport, OutboxError> {
        self.deliver_with(client, options, |_| {}).await
    }

    /// [`deliver`](Self::deliver), telling `observer` what happens to each
    /// message.
    pub async fn deliver_with(
        &self,
        client: &Client,
        options: &DeliveryOptions,
        mut observer: impl FnMut(Event<'_>) + Send,
    ) -> Result<DeliveryReport, OutboxError> {
        let _running = self.shared.delivering.lock().await;
        let mut report = DeliveryReport::default();
        let mut in_flight = tokio::task::JoinSet::new();
        // The message each send task carries, to queue it again should the
        // task fail.
        let mut sending: HashMap<tokio::task::Id, u64> = HashMap::new();
        // The pause shared by all messages, and the failure series.
        let mut paused_until = Instant::now();
        let mut level: u32 = 0;
        let mut epoch: u64 = 0;
        let mut last_progress = Instant::now();
        let mut last_mark_sync = Instant::now();
        let mut stop: Option<Stop> = None;
        let concurrency = options.concurrency.max(1);
        loop {
            let now = Instant::now();
            if self.pending() == 0 {
                // Waiting for input is not failing to deliver.
                last_progress = now;
            }
            if stop.is_none() {
                if let Some(limit) = options.give_up_after {
                    if now.duration_since(last_progress) >= limit && self.pending() > 0 {
                        stop = Some(Stop::GaveUp {
                            after: limit,
                            last_error: report.last_error.clone(),
                        });
                    }
                }
            }
            if stop.is_none() && now >= paused_until {
                while in_flight.len() < concurrency {
                    let next = {
                        let mut state = self.lock();
                        loop {
                            match state.queue.pop_front() {
                                Some(seq) => {
                                    if let Some(entry) = state.pending.get(&seq) {
                                        break Some((seq, entry.body.clone()));
                                    }
                                }
                                None => break None,
                            }
                        }
                    };
                    let Some((seq, body)) = next else { break };
                    let client = client.clone();
                    let started = epoch;
                    let task = in_flight.spawn(async move {
                        let outcome = client.send_bytes(body, "application/json").await;
                        (started, outcome)
                    });
                    sending.insert(task.id(), seq);
                }
            }
            if in_flight.is_empty() {
                let (empty, holds) = {
                    let state = self.lock();
                    (state.pending.is_empty(), state.holds)
                };
                if stop.is_some() || (empty && holds == 0) {
                    break;
                }
            }
            if last_mark_sync.elapsed() >= MARK_SYNC_EVERY {
                last_mark_sync = Instant::now();
                self.blocking(|o| o.sync_marks()).await?;
            }
            if self.needs_compaction() {
                self.blocking(|o| o.compact()).await?;
            }
            let give_up_at = options
                .give_up_after
                .map(|limit| last_progress + limit)
                .unwrap_or(now + Duration::from_secs(3600));
            let wake = if now < paused_until {
                paused_until.min(give_up_at)
            } else {
                give_up_at
            }
            .min(now + MARK_SYNC_EVERY);
            tokio::select! {
                Some(joined) = in_flight.join_next_with_id(), if !in_flight.is_empty() => {
                    let (seq, started, outcome) = match joined {
                        Ok((task, (started, outcome))) => match sending.remove(&task) {
                            Some(seq) => (seq, started, outcome),
                            None => continue,
                        },
                        Err(failed) => {
                            // A send task cannot panic short of a bug; its
                            // message is still pending: queue it again.
                            if let Some(seq) = sending.remove(&failed.id()) {
                                let mut state = self.lock();
                                if state.pending.contains_key(&seq) {
                                    state.queue.push_front(seq);
                                }
                            }
                            continue;
                        }
                    };
                    match outcome {
                        Ok(()) => {
                            level = 0;
                            last_progress = Instant::now();
                            report.delivered += 1;
                            if let Some(key) = self.finish(seq, b'D')? {
                                observer(Event::Delivered { key: &key });
                            }
                        }
                        Err(error) if error.is_permanent() => {
                            last_progress = Instant::now();
                            report.refused += 1;
                            let e = error.clone();
                            let key = self.blocking(move |o| o.dead_letter(seq, &e)).await?;
                            if let Some(key) = key {
                                observer(Event::Refused { key: &key, error: &error });
                            }
                        }
                        Err(error) => {
                            report.retries += 1;
                            {
                                let mut state = self.lock();
                                if state.pending.contains_key(&seq) {
                                    state.queue.push_front(seq);
                                }
                            }
                            if matches!(error, SendError::Tls { .. }) && options.stop_on_tls_failure {
                                stop.get_or_insert(Stop::Tls(error.clone()));
                            } else if started == epoch {
                                epoch += 1;
                                let nominal = options
                                    .first_delay
                                    .saturating_mul(1u32 << level.min(20))
                                    .min(options.max_delay);
                                let half = nominal / 2;
                                let jitter = Duration::from_nanos(super::random_below(
                                    (half.as_nanos() as u64).saturating_add(1),
                                ));
                                let wait = (half + jitter).max(error.retry_after().unwrap_or_default());
                                level = level.saturating_add(1);
                                paused_until = Instant::now() + wait;
                                observer(Event::Retrying { error: &error, wait });
                            }
                            report.last_error = Some(error);
                        }
                    }
                }
                () = tokio::time::sleep_until(wake.into()) => {}
                () = self.shared.changed.notified() => {}
            }
        }
        self.blocking(|o| o.sync_marks()).await?;
        if self.needs_compaction() {
            self.blocking(|o| o.compact()).await?;
        }
        report.pending = self.pending();
        report.stopped = stop;
        Ok(report)
    }

    /// Runs disk work off the async threads.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Outbox) -> Result<T, OutboxError> + Send + 'static,
    ) -> Result<T, OutboxError> {
        let outbox = self.clone();
        match tokio::task::spawn_blocking(move || work(&outbox)).await {
            Ok(result) => result,
            Err(e) => Err(OutboxError::Io {
                path: self.shared.journal.clone(),
                error: io::Error::other(format!("journal work stopped: {e}")),
            }),
        }
    }

    /// Marks message `seq` delivered (`D`) or refused (`X`) in the journal;
    /// returns its key, or `None` when it was no longer pending.
    fn finish(&self, seq: u64, mark: u8) -> Result<Option<Key>, OutboxError> {
        let mut state = self.lock();
        let Some(entry) = state.pending.remove(&seq) else {
            return Ok(None);
        };
        let record = format!("{} {seq} {}\n", char::from(mark), check(&entry.key));
        self.append_locked(&mut state, record.as_bytes())?;
        state.marks_unsynced = true;
        state.live = state
            .live
            .saturating_sub(put_len(seq, &entry.key, &entry.body));
        if mark == b'D' {
            let remember = self.shared.options.remember;
            state.remember_delivered(entry.key.clone(), remember);
        } else {
            state.keys.insert(entry.key.clone(), Status::Refused);
        }
        Ok(Some(entry.key))
    }

    /// Writes message `seq` to the dead-letter file (synced), then marks
    /// it refused.
    fn dead_letter(&self, seq: u64, error: &SendError) -> Result<Option<Key>, OutboxError> {
        let (key, body) = {
            let state = self.lock();
            match state.pending.get(&seq) {
                Some(entry) => (entry.key.clone(), entry.body.clone()),
                None => return Ok(None),
            }
        };
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
            .map(|v| serde_json::json!({"pointer": v.pointer(), "reason": v.reason()}))
            .collect();
        line.insert("violations".into(), violations.into());
        match std::str::from_utf8(&body) {
            Ok(text) => line.insert("body".into(), text.into()),
            Err(_) => line.insert("body_hex".into(), hex(&body).into()),
        };
        let mut text = serde_json::to_vec(&line).unwrap_or_default();
        text.push(b'\n');
        let path = &self.shared.dead_letter;
        let existed = path.exists();
        (|| {
            let mut file = OpenOptions::new().create(true).append(true).open(path)?;
            file.write_all(&text)?;
            file.sync_data()?;
            if !existed {
                File::open(&self.shared.dir)?.sync_all()?;
            }
            Ok(())
        })()
        .map_err(io_error(path))?;
        self.finish(seq, b'X')
    }
}

impl State {
    fn remember_delivered(&mut self, key: Key, remember: usize) {
        self.keys.insert(key.clone(), Status::Delivered);
        self.live += kept_len(&key);
        self.delivered.push_back(key);
        while self.delivered.len() > remember {
            if let Some(old) = self.delivered.pop_front() {
                self.live = self.live.saturating_sub(kept_len(&old));
                self.keys.remove(&old);
            }
        }
    }
}

/// Keeps a delivery run waiting for more messages; see
/// [`Outbox::hold_open`].
#[derive(Debug)]
pub struct HoldOpen {
    outbox: Outbox,
}

impl Drop for HoldOpen {
    fn drop(&mut self) {
        let mut state = self.outbox.lock();
        state.holds = state.holds.saturating_sub(1);
        drop(state);
        self.outbox.shared.changed.notify_one();
    }
}

/// How [`Outbox::deliver`] sends and waits.
#[derive(Clone, Debug)]
pub struct DeliveryOptions {
    concurrency: usize,
    first_delay: Duration,
    max_delay: Duration,
    give_up_after: Option<Duration>,
    stop_on_tls_failure: bool,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        DeliveryOptions {
            concurrency: 16,
            first_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            give_up_after: Some(Duration::from_secs(300)),
            stop_on_tls_failure: true,
        }
    }
}

impl DeliveryOptions {
    /// Messages in flight at once (default 16).
    #[must_use]
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// The first pause after a transient failure (default 250 ms).
    #[must_use]
    pub fn first_delay(mut self, delay: Duration) -> Self {
        self.first_delay = delay;
        self
    }

    /// The longest pause the doubling reaches (default 30 s); a longer
    /// `Retry-After` is still honoured.
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Ends the run when nothing was acknowledged for this long while
    /// messages are pending (default 300 s); `None` tries for ever.
    #[must_use]
    pub fn give_up_after(mut self, limit: Option<Duration>) -> Self {
        self.give_up_after = limit;
        self
    }

    /// Whether a TLS failure ends the run (default `true`: a certificate
    /// problem does not go away by trying again; the messages wait in the
    /// journal for the next run).
    #[must_use]
    pub fn stop_on_tls_failure(mut self, stop: bool) -> Self {
        self.stop_on_tls_failure = stop;
        self
    }
}

/// What happened to a message during a delivery run.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The receiver acknowledged it; it is marked done.
    Delivered {
        /// The message's key.
        key: &'a Key,
    },
    /// The receiver refused it for good; it is in the dead-letter file.
    Refused {
        /// The message's key.
        key: &'a Key,
        /// The receiver's answer.
        error: &'a SendError,
    },
    /// A transient failure paused sending.
    Retrying {
        /// What failed.
        error: &'a SendError,
        /// How long sending pauses.
        wait: Duration,
    },
}

/// Why a delivery run ended with messages still pending.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stop {
    /// Nothing was acknowledged for [`DeliveryOptions::give_up_after`].
    GaveUp {
        /// The limit that was reached.
        after: Duration,
        /// The last failure seen.
        last_error: Option<SendError>,
    },
    /// A TLS failure, with [`DeliveryOptions::stop_on_tls_failure`].
    Tls(SendError),
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::GaveUp { after, last_error } => {
                write!(
                    f,
                    "gave up after {} s without an acknowledgement",
                    after.as_secs()
                )?;
                if let Some(e) = last_error {
                    write!(f, " (last: {e})")?;
                }
                Ok(())
            }
            Stop::Tls(e) => write!(f, "{e}"),
        }
    }
}

/// The counts of one delivery run.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct DeliveryReport {
    /// Messages acknowledged.
    pub delivered: u64,
    /// Messages refused and moved to the dead-letter file.
    pub refused: u64,
    /// Transient failures (each put its message back in the queue).
    pub retries: u64,
    /// Messages still pending when the run ended.
    pub pending: usize,
    /// Why the run ended early, when it did.
    pub stopped: Option<Stop>,
    /// The last transient failure seen.
    pub last_error: Option<SendError>,
}

fn open_append(path: &Path) -> Result<File, OutboxError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io_error(path))
}

/// How many decimal digits `n` takes.
fn digits(n: u64) -> u64 {
    u64::from(n.checked_ilog10().unwrap_or(0)) + 1
}

/// The length of a `P` record:
/// `P SEQ ID DIGEST LENGTH` and a line end, the body and a line end.
fn put_len(seq: u64, key: &Key, body: &[u8]) -> u64 {
    let length = body.len() as u64;
    2 + digits(seq) + 1 + key.id_field().len() as u64 + 1 + 64 + 1 + digits(length) + 1 + length + 1
}

/// The length of a `K` record.
fn kept_len(key: &Key) -> u64 {
    (2 + key.id_field().len() + 1 + 64 + 1) as u64
}

fn write_put(buffer: &mut Vec<u8>, seq: u64, key: &Key, body: &[u8]) {
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

fn write_kept(buffer: &mut Vec<u8>, key: &Key) {
    let _ = writeln!(buffer, "K {} {}", key.id_field(), hex(&key.digest));
}

/// What reading a journal gives.
struct Replay {
    length: u64,
    next_seq: u64,
    pending: BTreeMap<u64, Entry>,
    delivered: Vec<Key>,
    refused: Vec<Key>,
}

/// A record that does not read, and whether it runs to the end of the
/// file (the mark of a crash during its write).
struct Bad {
    offset: usize,
    end: usize,
    reason: String,
}

/// Reads (or creates) the journal; cuts a torn last record.
fn read_journal(path: &Path) -> Result<(Replay, Option<TornTail>), OutboxError> {
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

fn write_new_journal(path: &Path) -> Result<(), OutboxError> {
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
fn replay(data: &[u8]) -> (Replay, Option<Bad>) {
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
fn record(data: &[u8], start: usize, replay: &mut Replay, legacy: bool) -> Result<usize, Bad> {
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
                Entry {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spool() -> tempfile::TempDir {
        tempfile::tempdir().expect("folder")
    }

    fn message(id: &str) -> Vec<u8> {
        format!(r#"{{"Version":"2.D.V08","ID":"{id}","CreateTime":"2025-01-01T00:00:00Z"}}"#)
            .into_bytes()
    }

    #[test]
    fn messages_survive_a_reopen_and_keys_refuse_repeats() {
        let dir = spool();
        let (outbox, recovery) = Outbox::open(dir.path(), OutboxOptions::default()).unwrap();
        assert_eq!(recovery.pending(), 0);
        let pretty = b"{\n  \"ID\": \"multi-line\"\n}\n".to_vec();
        let outcomes = outbox
            .enqueue_all([message("a"), message("b"), pretty.clone(), message("a")])
            .unwrap();
        assert!(matches!(outcomes[0], Enqueued::Queued(_)));
        assert!(matches!(outcomes[3], Enqueued::AlreadyPending(_)));
        assert_eq!(outcomes[2].key().id(), Some("multi-line"));
        assert_eq!(outbox.pending(), 3);
        // One mark delivered, as a run would write it.
        let first = *outbox.lock().pending.keys().next().unwrap();
        outbox.finish(first, b'D').unwrap();
        drop(outbox);

        let (outbox, recovery) = Outbox::open(dir.path(), OutboxOptions::default()).unwrap();
        assert!(recovery.torn_tail().is_none());
        assert_eq!(recovery.pending(), 2);
        let again = outbox
            .enqueue_all([message("a"), message("b"), pretty])
            .unwrap();
        assert!(matches!(again[0], Enqueued::AlreadyDelivered(_)));
        assert!(matches!(again[1], Enqueued::AlreadyPending(_)));
        assert!(matches!(again[2], Enqueued::AlreadyPending(_)));
        // Same ID, other bytes: another message.
        let changed = outbox.enqueue(&message("a")[..message("a").len() - 1]);
        assert!(matches!(changed.unwrap(), Enqueued::Queued(_)));
        // Compaction keeps the delivered key and the pending messages.
        outbox.compact().unwrap();
        drop(outbox);
        let (outbox, recovery) = Outbox::open(dir.path(), OutboxOptions::default()).unwrap();
        assert_eq!(recovery.pending(), 3);
        assert!(matches!(
            outbox.enqueue(&message("a")).unwrap(),
            Enqueued::AlreadyDelivered(_)
        ));
        let text = fs::read(dir.path().join(JOURNAL)).unwrap();
        assert!(text.starts_with(b"idmefv2-outbox 2\nK a "));
    }

    #[test]
    fn concurrent_enqueuers_share_syncs_and_all_their_messages_are_kept() {
        let dir = spool();
        let (outbox, _) = Outbox::open(dir.path(), OutboxOptions::default()).unwrap();
        std::thread::scope(|scope| {
            for thread in 0..8 {
                let outbox = outbox.clone();
                scope.spawn(move || {
                    for n in 0..50 {
                        let queued = outbox.enqueue(&message(&format!("t{thread}-{n}"))).unwrap();
                        assert!(matches!(queued, Enqueued::Queued(_)));
                    }
                });
            }
        });
        assert_eq!(outbox.pending(), 400);
        drop(outbox);
        let (outbox, recovery) = Outbox::open(dir.path(), OutboxOptions::default()).unwrap();
        assert!(recovery.torn_tail().is_none());
        assert_eq!(outbox.pending(), 400);
    }

    #[test]
    fn a_second_outbox_on_the_same_folder_is_refused() {
        let dir = spool();
        let (_outbox, _) = Outbox::open(dir.path(), OutboxOptions::default()).unwrap();
        let second = Outbox::open(dir.path(), OutboxOptions::default());
        assert!(matches!(second, Err(OutboxError::Locked { .. })));
    }

    /// A journal with three messages, the second marked delivered.
    fn journal_with_three(dir: &Path) -> Vec<u8> {
        let (outbox, _) = Outbox::open(dir, OutboxOptions::default()).unwrap();
        outbox
            .enqueue_all([message("a"), message("b"), message("c")])
            .unwrap();
        outbox.finish(2, b'D').unwrap();
        drop(outbox);
        fs::read(dir.join(JOURNAL)).unwrap()
    }

    #[test]
    fn a_mark_names_its_message_by_number_and_digest() {
        let dir = spool();
        let whole = journal_with_three(dir.path());
        let path = dir.path().join(JOURNAL);
        let text = String::from_utf8(whole.clone()).unwrap();
        let check_of = |name: &str| check(&Key::of(&message(name)));
        let (one, two, three) = (check_of("a"), check_of("b"), check_of("c"));
        assert!(text.starts_with("idmefv2-outbox 2\n"));
        assert!(text.ends_with(&format!("\nD 2 {two}\n")), "{text}");
        let opened = |journal: &str| {
            fs::write(&path, journal).unwrap();
            Outbox::open(dir.path(), OutboxOptions::default())
        };
        // The mark's number damaged into another pending message's, with
        // a record after it: refused, the journal left as it was.
        let before = &text[..text.len() - format!("D 2 {two}\n").len()];
        let damaged = format!("{before}D 3 {two}\nD 1 {one}\n");
        let error = opened(&damaged).unwrap_err().to_string();
        let expected = format!("marks message 3 finished, but its check \"{two}\" is not");
        assert!(error.contains(&expected), "{error}");
        assert_eq!(fs::read(&path).unwrap(), damaged.as_bytes());
        // As the last record, it is taken for one cut short by a crash:
        // cut off, so that messages 2 and 3 are both still pending.
        let (outbox, recovery) = opened(&format!("{before}D 3 {two}\n")).unwrap();
        assert!(recovery
            .torn_tail()
            .unwrap()
            .to_string()
            .contains(&expected));
        assert_eq!(outbox.pending(), 3);
        drop(outbox);
        // A mark without its check is refused, except in a journal of the
        // first format, which had none.
        let error = opened(&format!("{text}X 3\nD 1 {one}\n")).unwrap_err();
        assert!(error.to_string().contains("not a record"), "{error}");
        let legacy = format!("idmefv2-outbox 1\n{}X 3\n", &text[HEADER.len()..]);
        let (outbox, recovery) = opened(&legacy).unwrap();
        assert!(recovery.torn_tail().is_none());
        assert_eq!(outbox.pending(), 1);
        drop(outbox);
        // The right check finishes its message.
        let (outbox, _) = opened(&format!("{text}D 3 {three}\n")).unwrap();
        assert_eq!(outbox.pending(), 1);
    }

    #[test]
    fn a_torn_last_record_is_cut_and_reported_at_every_cut_point() {
        let dir = spool();
        let whole = journal_with_three(dir.path());
        // The last record is "D 2 CHECK\n"; before it, message 3's record.
        let mark = whole.len() - (whole.windows(4).rposition(|w| w == b"\nD 2").unwrap() + 1);
        assert_eq!(mark, "D 2 0123456789abcdef\n".len());
        let last_put = whole
            .windows(4)
            .rposition(|w| w == b"\nP 3")
            .expect("message 3")
            + 1;
        for end in last_put + 1..whole.len() {
            let folder = spool();
            let path = folder.path().join(JOURNAL);
            fs::write(&path, &whole[..end]).unwrap();
            let opened = Outbox::open(folder.path(), OutboxOptions::default());
            let (outbox, recovery) = match opened {
                Ok(pair) => pair,
                Err(e) => panic!("cut at {end}: {e}"),
            };
            let torn = recovery.torn_tail();
            if end == whole.len() - mark {
                // A whole message 3 and no mark: nothing torn.
                assert!(torn.is_none(), "cut at {end}");
                assert_eq!(outbox.pending(), 3);
                continue;
            }
            let torn = torn.unwrap_or_else(|| panic!("cut at {end}: nothing reported"));
            assert!(torn.offset as usize >= last_put, "cut at {end}: {torn}");
            assert_eq!(fs::metadata(&path).unwrap().len(), torn.offset);
            let expected = if end < whole.len() - mark { 2 } else { 3 };
            assert_eq!(outbox.pending(), expected, "cut at {end}: {torn}");
        }
    }

    #[test]
    fn any_changed_byte_is_read_without_panic_and_placed_in_the_file() {
        let dir = spool();
        let whole = journal_with_three(dir.path());
        for at in HEADER.len()..whole.len() {
            for value in [b'0', b' ', b'\n', b'P', 0xff] {
                let mut changed = whole.clone();
                changed[at] = value;
                let (replayed, bad) = replay(&changed);
                assert!(replayed.length as usize <= changed.len());
                if let Some(bad) = bad {
                    assert!(bad.offset <= at, "{at}: {}", bad.reason);
                    assert!(bad.end <= changed.len());
                }
            }
        }
    }

    #[test]
    fn damage_before_the_end_is_refused_with_its_place() {
        let dir = spool();
        let whole = journal_with_three(dir.path());
        let path = dir.path().join(JOURNAL);
        // A flipped byte inside message 2's body.
        let at = whole.windows(3).position(|w| w == b"\"b\"").unwrap() + 1;
        let mut damaged = whole.clone();
        damaged[at] = b'z';
        fs::write(&path, &damaged).unwrap();
        let error = Outbox::open(dir.path(), OutboxOptions::default()).unwrap_err();
        let OutboxError::Corrupt {
            line,
            offset,
            reason,
            ..
        } = &error
        else {
            panic!("{error}")
        };
        assert_eq!(*line, 4, "{error}");
        assert!(
            reason.contains("message 2 does not match its SHA-256 digest"),
            "{error}"
        );
        assert_eq!(&whole[*offset as usize..*offset as usize + 4], b"P 2 ");
        // The journal is left as it was.
        assert_eq!(fs::read(&path).unwrap(), damaged);

        // A mark for a message that is not there.
        let mut marked = whole.clone();
        marked.extend_from_slice(format!("D 9 {0}\nD 1 {0}\n", "0".repeat(16)).as_bytes());
        fs::write(&path, &marked).unwrap();
        let error = Outbox::open(dir.path(), OutboxOptions::default()).unwrap_err();
        assert!(
            error.to_string().contains("marks message 9 finished"),
            "{error}"
        );
        // Not a journal at all.
        fs::write(&path, b"hello\n").unwrap();
        let error = Outbox::open(dir.path(), OutboxOptions::default()).unwrap_err();
        assert!(error.to_string().contains("not an idmefv2 outbox journal"));
    }

    #[test]
    fn the_cap_refuses_what_does_not_fit_and_compaction_makes_room() {
        let dir = spool();
        let one = put_len(1, &Key::of(&message("x0")), &message("x0"));
        let limit = HEADER.len() as u64 + 3 * one + 10;
        let options = OutboxOptions::default().max_bytes(limit).remember(1);
        let (outbox, _) = Outbox::open(dir.path(), options).unwrap();
        outbox
            .enqueue_all([message("x0"), message("x1"), message("x2")])
            .unwrap();
        let error = outbox.enqueue(&message("x3")).unwrap_err();
        assert!(matches!(error, OutboxError::Full { .. }), "{error}");
        assert!(error.to_string().contains("the spool is full"));
        assert_eq!(outbox.pending(), 3);
        // Two delivered: compaction on the next enqueue makes room.
        outbox.finish(1, b'D').unwrap();
        outbox.finish(2, b'D').unwrap();
        assert!(matches!(
            outbox.enqueue(&message("x3")).unwrap(),
            Enqueued::Queued(_)
        ));
        assert!(outbox.journal_bytes() <= limit);
        // Only the last delivered key is remembered.
        assert!(matches!(
            outbox.enqueue(&message("x1")).unwrap(),
            Enqueued::AlreadyDelivered(_)
        ));
    }
}

//! The delivery engine, whatever the transport: messages are written to a
//! journal on disk, synced, and only then sent; they stay there until the
//! receiver acknowledges them or refuses them for good (which moves them to
//! a dead-letter file with the receiver's reasons). A transport plugs in by
//! implementing [`Deliver`]: the HTTPS client (`idmefv2::http::client::Client`,
//! feature `client`) and the NATS JetStream publisher
//! (`idmefv2::nats::Publisher`, feature `nats`) do. The same
//! engine runs [in memory](Outbox::in_memory_tagged), without a journal, for a
//! sender that needs the retry policy and not the durability. A sender that is killed
//! or loses power picks up where it stopped, so an alert handed to the
//! outbox is never lost on the way, only possibly sent twice (at least
//! once; a receiver drops repeats by `ID`, see
//! `Dedup` in `http::server`).
//!
//! ```no_run
//! use idmefv2::{http::client::Client, outbox::{DeliveryOptions, Outbox, OutboxOptions}};
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
//! // An error when the run stops at a TLS failure or gives up, with what
//! // it did in `OutboxError::report`.
//! let report = outbox.deliver(&client, &DeliveryOptions::default()).await?;
//! println!("{} delivered, {} refused", report.delivered, report.refused);
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
//! [`DeliveryOptions::concurrency`] at once, through a [`Deliver`]. What
//! happens after a failure depends on its [`DeliverErrorKind`]:
//!
//! - `Refused`: the message goes to the dead-letter file at once;
//! - `Failed` (the receiver failed on this message, an HTTP 500): the
//!   message is sent again as below, and moved to the dead-letter file
//!   with the receiver's answers once it has failed
//!   [`DeliveryOptions::max_attempts`] times, so that one poison message
//!   does not hold the others back for ever;
//! - `Unavailable`: the message is put back at the head of the queue and
//!   all sending pauses, since such failures belong to the receiver rather
//!   than to one message: the pause starts at
//!   [`DeliveryOptions::first_delay`] and doubles with each failure in a
//!   row up to [`DeliveryOptions::max_delay`], with random jitter (each
//!   pause is between half and all of its nominal length), and is never
//!   shorter than the receiver's `Retry-After`. A success ends the series;
//! - `Fatal`: the run stops at once with [`OutboxError::Stopped`].
//!
//! The run ends with a [`DeliveryReport`] when nothing is pending (and no
//! [`HoldOpen`] guard is alive); with [`OutboxError::GaveUp`] when no
//! message has been acknowledged for [`DeliveryOptions::give_up_after`]
//! while some are pending. Whatever is not delivered stays in the journal
//! for the next run. [`Outbox::counts`] tells how far a run has come at
//! any time, without an event handler.

mod dead_letter;
mod delivery;
mod error;
mod journal;

use std::{
    collections::{BTreeMap, HashMap, HashSet, VecDeque},
    fmt,
    fs::{self, File, OpenOptions},
    io::Write,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Condvar, Mutex, MutexGuard,
    },
    time::Duration,
};

use bytes::Bytes;

#[cfg(feature = "client")]
pub(crate) use delivery::random_below;
pub use delivery::{Counts, Deliver, DeliveryOptions, DeliveryReport, Event};
pub use error::{DeliverError, DeliverErrorKind, OutboxError, OutboxErrorKind};
pub use journal::{Key, Recovery, TornTail};

use dead_letter::DEAD_LETTER;
use error::io_error;
use journal::{
    check, kept_len, open_append, put_len, read_journal, write_kept, write_put, Put, COMPACT_FROM,
    HEADER, JOURNAL,
};

/// The default of [`OutboxOptions::max_bytes`]: 256 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 256 << 20;
/// The default of [`OutboxOptions::remember`].
pub const DEFAULT_REMEMBER: usize = 100_000;
/// The default of [`DeliveryOptions::give_up_after`]: five minutes.
pub const DEFAULT_GIVE_UP_AFTER: Duration = Duration::from_secs(300);
/// The default of [`DeliveryOptions::first_delay`].
pub const DEFAULT_FIRST_DELAY: Duration = Duration::from_millis(250);
/// The default of [`DeliveryOptions::max_delay`].
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(30);
/// The default of [`DeliveryOptions::max_attempts`]: a message the
/// receiver failed on this many times is moved to the dead letters.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
/// The default of [`DeliveryOptions::concurrency`].
pub const DEFAULT_CONCURRENCY: usize = 16;
/// The media type messages are delivered with unless
/// [`OutboxOptions::content_type`] says otherwise.
pub const DEFAULT_CONTENT_TYPE: &str = "application/json";

/// Limits of an [`Outbox`].
#[derive(Clone, Debug)]
pub struct OutboxOptions {
    max_bytes: u64,
    remember: usize,
    content_type: String,
}

impl Default for OutboxOptions {
    fn default() -> Self {
        OutboxOptions {
            max_bytes: DEFAULT_MAX_BYTES,
            remember: DEFAULT_REMEMBER,
            content_type: DEFAULT_CONTENT_TYPE.to_string(),
        }
    }
}

impl OutboxOptions {
    /// The largest the journal may grow, in bytes (default
    /// [`DEFAULT_MAX_BYTES`]); in memory, the most the pending messages may
    /// take.
    #[must_use]
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// How many keys of acknowledged messages are kept to recognize a
    /// message given again (default [`DEFAULT_REMEMBER`]).
    #[must_use]
    pub fn remember(mut self, keys: usize) -> Self {
        self.remember = keys;
        self
    }

    /// The media type every message is delivered with (default
    /// [`DEFAULT_CONTENT_TYPE`]). The journal does not record it: open a
    /// spool with the type its messages were written in.
    #[must_use]
    pub fn content_type(mut self, media_type: impl Into<String>) -> Self {
        self.content_type = media_type.into();
        self
    }
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

/// A message waiting in the outbox, with what this process knows of it.
struct Entry<T> {
    put: Put,
    /// The caller's tag, for messages enqueued by this process.
    tag: Option<Arc<T>>,
    /// The receiver's answers to the attempts that failed on this message
    /// ([`DeliverErrorKind::Failed`]) in this process.
    answers: Vec<String>,
}

/// Where a key stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending(u64),
    Delivered,
    Refused,
}

/// Everything behind the outbox's lock.
struct State<T> {
    /// The journal, `None` in memory.
    file: Option<Arc<File>>,
    /// The journal's length in bytes (in memory: what it would be).
    length: u64,
    /// What a compacted journal would take.
    live: u64,
    next_seq: u64,
    pending: BTreeMap<u64, Entry<T>>,
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
    /// Whether a delivery run has ended (and none runs since): a full
    /// outbox can no longer expect room.
    run_ended: bool,
}

/// Syncs shared among concurrent callers.
#[derive(Default)]
struct SyncState {
    synced: u64,
    busy: bool,
}

/// The spool folder of an outbox on disk.
struct Disk {
    dir: PathBuf,
    journal: PathBuf,
    dead_letter: PathBuf,
    _lock: File,
}

/// Counts since the outbox was opened.
#[derive(Default)]
struct Totals {
    delivered: AtomicU64,
    refused: AtomicU64,
    retries: AtomicU64,
}

struct Shared<T> {
    disk: Option<Disk>,
    options: OutboxOptions,
    state: Mutex<State<T>>,
    /// Signalled when messages leave the outbox or a run ends, for
    /// enqueuers waiting for room.
    room: Condvar,
    sync: Mutex<SyncState>,
    synced: Condvar,
    changed: tokio::sync::Notify,
    delivering: tokio::sync::Mutex<()>,
    totals: Totals,
}

/// A queue of messages for one receiver, durable on disk
/// ([`open`](Self::open)) or in memory ([`in_memory`](Self::in_memory));
/// see the [module](self). Cheap to clone; clones share the queue.
///
/// `T` is the type of the tags callers may give each message
/// ([`enqueue_tagged`](Self::enqueue_tagged)), handed back in the
/// delivery [`Event`]s: where the message came from, say. Tags live in
/// memory only; messages read back from the journal have none.
pub struct Outbox<T = ()> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for Outbox<T> {
    fn clone(&self) -> Self {
        Outbox {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> fmt::Debug for Outbox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("dir", &self.dir())
            .field("pending", &self.pending())
            .finish()
    }
}

fn new_state<T>(file: Option<Arc<File>>, length: u64, next_seq: u64) -> State<T> {
    State {
        file,
        length,
        live: HEADER.len() as u64,
        next_seq,
        pending: BTreeMap::new(),
        queue: VecDeque::new(),
        keys: HashMap::new(),
        delivered: VecDeque::new(),
        appended: 0,
        marks_unsynced: false,
        holds: 0,
        run_ended: false,
    }
}

impl Outbox {
    /// Opens the spool folder `dir` (made when missing), reads its journal
    /// and takes its lock. For messages with tags, see
    /// [`open_tagged`](Outbox::open_tagged).
    pub fn open(
        dir: impl AsRef<Path>,
        options: OutboxOptions,
    ) -> Result<(Outbox, Recovery), OutboxError> {
        Outbox::open_tagged(dir, options)
    }

    /// An outbox without a journal; see
    /// [`in_memory_tagged`](Outbox::in_memory_tagged).
    pub fn in_memory(options: OutboxOptions) -> Outbox {
        Outbox::in_memory_tagged(options)
    }
}

impl<T: Send + Sync + 'static> Outbox<T> {
    /// [`open`](Outbox::open), for messages tagged with a `T`.
    pub fn open_tagged(
        dir: impl AsRef<Path>,
        options: OutboxOptions,
    ) -> Result<(Outbox<T>, Recovery), OutboxError> {
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
        let mut state = new_state(
            Some(Arc::new(open_append(&journal)?)),
            replay.length,
            replay.next_seq,
        );
        for key in replay.delivered {
            state.remember_delivered(key, options.remember);
        }
        for key in replay.refused {
            state.keys.insert(key, Status::Refused);
        }
        for (seq, put) in replay.pending {
            state.live += put_len(seq, &put.key, &put.body);
            state.keys.insert(put.key.clone(), Status::Pending(seq));
            state.queue.push_back(seq);
            state.pending.insert(
                seq,
                Entry {
                    put,
                    tag: None,
                    answers: Vec::new(),
                },
            );
        }
        let recovery = Recovery {
            torn,
            pending: state.pending.len(),
        };
        let disk = Disk {
            dir,
            journal,
            dead_letter,
            _lock: lock,
        };
        let outbox = Outbox::with(Some(disk), options, state);
        if outbox.needs_compaction() {
            outbox.compact()?;
        }
        Ok((outbox, recovery))
    }

    /// An outbox without a journal: the same queue, retries and events, for
    /// a sender that does not need its messages to outlive the process.
    /// Refused messages are reported in the [`Event`]s only (there is no
    /// dead-letter file); [`OutboxOptions::max_bytes`] bounds the memory
    /// the pending messages take.
    pub fn in_memory_tagged(options: OutboxOptions) -> Outbox<T> {
        Outbox::with(None, options, new_state(None, HEADER.len() as u64, 1))
    }

    fn with(disk: Option<Disk>, options: OutboxOptions, state: State<T>) -> Outbox<T> {
        Outbox {
            shared: Arc::new(Shared {
                disk,
                options,
                state: Mutex::new(state),
                room: Condvar::new(),
                sync: Mutex::new(SyncState::default()),
                synced: Condvar::new(),
                changed: tokio::sync::Notify::new(),
                delivering: tokio::sync::Mutex::new(()),
                totals: Totals::default(),
            }),
        }
    }
}

impl<T> Outbox<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The spool folder (`None` in memory).
    pub fn dir(&self) -> Option<&Path> {
        self.shared.disk.as_ref().map(|d| d.dir.as_path())
    }

    /// The dead-letter file, which may not exist yet (`None` in memory).
    pub fn dead_letter_path(&self) -> Option<&Path> {
        self.shared.disk.as_ref().map(|d| d.dead_letter.as_path())
    }

    /// How many messages are waiting to be delivered.
    pub fn pending(&self) -> usize {
        self.lock().pending.len()
    }

    /// The journal's size in bytes.
    pub fn journal_bytes(&self) -> u64 {
        self.lock().length
    }

    /// Where things stand: messages pending, and what delivery runs have
    /// done since the outbox was opened. Cheap enough to poll for a
    /// progress line.
    pub fn counts(&self) -> Counts {
        let totals = &self.shared.totals;
        Counts {
            pending: self.pending(),
            delivered: totals.delivered.load(Ordering::Relaxed),
            refused: totals.refused.load(Ordering::Relaxed),
            retries: totals.retries.load(Ordering::Relaxed),
        }
    }

    /// Calls `each` with the key and tag of every pending message, oldest
    /// first: after a run that stopped, to say which messages were not
    /// delivered.
    pub fn for_each_pending(&self, mut each: impl FnMut(&Key, Option<&T>)) {
        let state = self.lock();
        for entry in state.pending.values() {
            each(&entry.put.key, entry.tag.as_deref());
        }
    }

    /// Adds one message and returns once it is synced to disk; see
    /// [`enqueue_all`](Self::enqueue_all).
    pub fn enqueue(&self, body: &[u8]) -> Result<Enqueued, OutboxError> {
        let mut all = self.enqueue_all([body])?;
        Ok(all.remove(0))
    }

    /// [`enqueue`](Self::enqueue) with a tag that comes back in the
    /// [`Event`]s about this message.
    pub fn enqueue_tagged(&self, body: &[u8], tag: T) -> Result<Enqueued, OutboxError> {
        let mut all = self.enqueue_all_tagged([(body, tag)])?;
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
        self.add(bodies.into_iter().map(|b| (b, None)), false)
    }

    /// [`enqueue_all`](Self::enqueue_all) with a tag for each message.
    pub fn enqueue_all_tagged<B: AsRef<[u8]>>(
        &self,
        items: impl IntoIterator<Item = (B, T)>,
    ) -> Result<Vec<Enqueued>, OutboxError> {
        self.add(items.into_iter().map(|(b, t)| (b, Some(t))), false)
    }

    /// [`enqueue_tagged`](Self::enqueue_tagged), waiting while the outbox
    /// is full for deliveries to make room. It is woken as messages leave;
    /// it returns [`OutboxError::Full`] when no room can come: nothing is
    /// pending (the message is larger than the limit), or the delivery run
    /// has ended. Call it while a run goes on (or is about to start).
    pub fn enqueue_tagged_waiting(&self, body: &[u8], tag: T) -> Result<Enqueued, OutboxError> {
        let mut all = self.add([(body, Some(tag))], true)?;
        Ok(all.remove(0))
    }

    fn add<B: AsRef<[u8]>>(
        &self,
        items: impl IntoIterator<Item = (B, Option<T>)>,
        wait: bool,
    ) -> Result<Vec<Enqueued>, OutboxError> {
        let keyed: Vec<(Key, Bytes, Option<T>)> = items
            .into_iter()
            .map(|(b, tag)| {
                let b = b.as_ref();
                (Key::of(b), Bytes::copy_from_slice(b), tag)
            })
            .collect();
        let mut outcomes = Vec::with_capacity(keyed.len());
        let target;
        {
            let mut state = self.lock();
            let mut fresh: Vec<(Key, Bytes, Option<T>)> = Vec::new();
            let mut in_batch = HashSet::new();
            for (key, body, tag) in keyed {
                match state.keys.get(&key) {
                    Some(Status::Pending(_)) => outcomes.push(Enqueued::AlreadyPending(key)),
                    Some(Status::Delivered) => outcomes.push(Enqueued::AlreadyDelivered(key)),
                    Some(Status::Refused) => outcomes.push(Enqueued::AlreadyRefused(key)),
                    None if !in_batch.insert(key.clone()) => {
                        outcomes.push(Enqueued::AlreadyPending(key))
                    }
                    None => {
                        outcomes.push(Enqueued::Queued(key.clone()));
                        fresh.push((key, body, tag));
                    }
                }
            }
            if fresh.is_empty() {
                return Ok(outcomes);
            }
            let limit = self.shared.options.max_bytes;
            let needed = loop {
                let needed: u64 = (state.next_seq..)
                    .zip(&fresh)
                    .map(|(seq, (k, b, _))| put_len(seq, k, b))
                    .sum();
                if state.length + needed > limit && state.live < state.length {
                    self.compact_locked(&mut state)?;
                }
                if state.length + needed <= limit {
                    break needed;
                }
                if !wait || state.pending.is_empty() || state.run_ended {
                    return Err(OutboxError::Full {
                        path: self.dir().map(Path::to_path_buf).unwrap_or_default(),
                        used: state.length,
                        needed,
                        limit,
                    });
                }
                state = self
                    .shared
                    .room
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner());
            };
            let mut buffer = Vec::with_capacity(needed as usize);
            let mut seqs = Vec::with_capacity(fresh.len());
            for (key, body, _) in &fresh {
                let seq = state.next_seq;
                state.next_seq += 1;
                if state.file.is_some() {
                    write_put(&mut buffer, seq, key, body);
                }
                seqs.push(seq);
            }
            self.append_locked(&mut state, &buffer, needed)?;
            state.live += needed;
            for ((key, body, tag), seq) in fresh.into_iter().zip(seqs) {
                state.keys.insert(key.clone(), Status::Pending(seq));
                state.queue.push_back(seq);
                state.pending.insert(
                    seq,
                    Entry {
                        put: Put { key, body },
                        tag: tag.map(Arc::new),
                        answers: Vec::new(),
                    },
                );
            }
            target = state.appended;
        }
        self.sync_to(target)?;
        self.shared.changed.notify_one();
        Ok(outcomes)
    }

    /// Appends bytes to the journal (not synced); in memory, only counts
    /// the `length` they would take.
    fn append_locked(
        &self,
        state: &mut State<T>,
        bytes: &[u8],
        length: u64,
    ) -> Result<(), OutboxError> {
        if let (Some(file), Some(disk)) = (&state.file, &self.shared.disk) {
            let mut file: &File = file;
            if let Err(e) = file.write_all(bytes) {
                // Take back a partial record so that the journal stays whole.
                let _ = file.set_len(state.length);
                return Err(io_error(&disk.journal)(e));
            }
        }
        state.length += length;
        state.appended += length;
        Ok(())
    }

    /// Returns once the journal is synced past `target` (a count of
    /// [`State::appended`]); one caller syncs for all who wait.
    fn sync_to(&self, target: u64) -> Result<(), OutboxError> {
        let shared = &self.shared;
        let Some(disk) = &shared.disk else {
            return Ok(());
        };
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
            let outcome = file.map_or(Ok(()), |file| file.sync_data());
            sync = shared.sync.lock().unwrap_or_else(|e| e.into_inner());
            sync.busy = false;
            if outcome.is_ok() {
                sync.synced = sync.synced.max(upto);
            }
            shared.synced.notify_all();
            outcome.map_err(io_error(&disk.journal))?;
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

    fn compact_locked(&self, state: &mut State<T>) -> Result<(), OutboxError> {
        let shared = &self.shared;
        let Some(disk) = &shared.disk else {
            state.length = state.live;
            return Ok(());
        };
        let mut buffer = Vec::with_capacity(state.live as usize);
        buffer.extend_from_slice(HEADER);
        for key in &state.delivered {
            write_kept(&mut buffer, key);
        }
        for (seq, entry) in &state.pending {
            write_put(&mut buffer, *seq, &entry.put.key, &entry.put.body);
        }
        journal::replace_journal(&disk.dir, &disk.journal, &buffer)?;
        state.file = Some(Arc::new(open_append(&disk.journal)?));
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
    pub fn hold_open(&self) -> HoldOpen<T> {
        self.lock().holds += 1;
        HoldOpen {
            outbox: self.clone(),
        }
    }

    /// Marks message `seq` delivered (`D`) or refused (`X`) in the journal;
    /// returns its entry, or `None` when it was no longer pending.
    fn finish(&self, seq: u64, mark: u8) -> Result<Option<Entry<T>>, OutboxError> {
        let mut state = self.lock();
        let Some(entry) = state.pending.remove(&seq) else {
            return Ok(None);
        };
        let key = &entry.put.key;
        let record = format!("{} {seq} {}\n", char::from(mark), check(key));
        let written = if state.file.is_some() {
            record.as_bytes()
        } else {
            &[]
        };
        self.append_locked(&mut state, written, record.len() as u64)?;
        state.marks_unsynced = true;
        state.live = state
            .live
            .saturating_sub(put_len(seq, key, &entry.put.body));
        if mark == b'D' {
            let remember = self.shared.options.remember;
            state.remember_delivered(key.clone(), remember);
        } else {
            state.keys.insert(key.clone(), Status::Refused);
        }
        drop(state);
        self.shared.room.notify_all();
        Ok(Some(entry))
    }

    /// Writes message `seq` to the dead-letter file (synced; nowhere in
    /// memory), then marks it refused.
    fn dead_letter(&self, seq: u64, error: &DeliverError) -> Result<Option<Entry<T>>, OutboxError> {
        if let Some(disk) = &self.shared.disk {
            let line = {
                let state = self.lock();
                match state.pending.get(&seq) {
                    Some(entry) => {
                        dead_letter::line(&entry.put.key, &entry.put.body, error, &entry.answers)
                    }
                    None => return Ok(None),
                }
            };
            dead_letter::append(&disk.dir, &disk.dead_letter, &line)?;
        }
        self.finish(seq, b'X')
    }
}

impl<T> State<T> {
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
pub struct HoldOpen<T = ()> {
    outbox: Outbox<T>,
}

impl<T> fmt::Debug for HoldOpen<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HoldOpen").finish_non_exhaustive()
    }
}

impl<T> Drop for HoldOpen<T> {
    fn drop(&mut self) {
        let mut state = self.outbox.lock();
        state.holds = state.holds.saturating_sub(1);
        drop(state);
        self.outbox.shared.changed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use journal::replay;
    use std::fs;

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

    #[test]
    fn the_transport_guide_states_the_engines_defaults() {
        let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/transport.md"))
            .expect("docs/transport.md");
        let thousands = |n: usize| {
            let digits = n.to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) {
                    out.push(',');
                }
                out.push(c);
            }
            out
        };
        for stated in [
            format!("{} ms, doubling", DEFAULT_FIRST_DELAY.as_millis()),
            format!("up to {} s", DEFAULT_MAX_DELAY.as_secs()),
            format!("seconds (default {})", DEFAULT_GIVE_UP_AFTER.as_secs()),
            format!("`--max-attempts` times (default {DEFAULT_MAX_ATTEMPTS})"),
            format!("(default {} MiB)", DEFAULT_MAX_BYTES >> 20),
            format!("the last {} delivered", thousands(DEFAULT_REMEMBER)),
        ] {
            assert!(
                readme.contains(&stated),
                "docs/transport.md does not say {stated:?}"
            );
        }
    }
}

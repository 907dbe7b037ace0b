//! [`Dedup`]: a sink in front of another that drops repeats, with the
//! reader of an NDJSON file's last lines that carries its window across a
//! restart.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    fmt,
    fs::File,
    future::Future,
    io::{self, Read, Seek, SeekFrom},
    path::Path,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use super::{Kept, Received, Sink, SinkError};

/// A [`Sink`] that drops repeats: a message whose `ID` *and* content are
/// those of one of the last `capacity` messages this sink kept is
/// acknowledged (204) without being passed on, since it is kept already.
/// A message with a kept `ID` but other content is passed on as any other
/// and reported as [`Kept::IdReused`]: deployed senders reuse one ID for
/// several alerts (the Motion connector gives `picture_save`,
/// `camera_lost`, `event_start` and `event_end` the same one), and none of
/// them is a repeat.
///
/// The content compared is the SHA-256 digest of the line the message is
/// stored as ([`Received::json_line`]), so that a repeat read back from a
/// file compares equal to the same message received again.
///
/// Senders that retry (such as the durable outbox, `idmefv2::outbox`) deliver at least once,
/// so a message whose acknowledgement was lost (the receiver was killed
/// after its sync and before its answer, or the connection dropped) comes
/// again. The window is the `capacity` most recently kept messages, in
/// memory: a repeat older than that is kept again. A message enters the
/// window only once the inner sink has kept it, so a failed keep never
/// hides the message's next try. Two copies arriving at the same moment,
/// before either is kept, may both be kept.
///
/// The window is not written anywhere of its own. To carry it across a
/// restart, fill it from what the inner sink kept with
/// [`seed_from_ndjson`](Self::seed_from_ndjson) (for a [`FileSink`](super::FileSink), its
/// file): `idmefv2 serve --dedup` does so, which makes its window the
/// last `capacity` messages of its output file, restarts included.
///
/// The `ID` compared is [`Received::id`], as written.
pub struct Dedup<S> {
    inner: S,
    window: Mutex<Window>,
    repeats: AtomicU64,
    reused: AtomicU64,
}

/// The SHA-256 of a stored line.
type Digest = [u8; 32];

/// The digest of the line `line`.
pub(crate) fn digest(line: &[u8]) -> Digest {
    let mut out = [0; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, line).as_ref());
    out
}

/// The most recently kept messages, by ID and digest.
struct Window {
    capacity: usize,
    order: VecDeque<(Arc<str>, Digest)>,
    seen: HashSet<(Arc<str>, Digest)>,
    /// How many entries of the window hold each ID.
    ids: HashMap<Arc<str>, usize>,
}

impl Window {
    fn contains(&self, id: &str, digest: &Digest) -> bool {
        // Built only to look up; a hit is rare outside retries.
        self.ids.contains_key(id) && self.seen.contains(&(Arc::from(id), *digest))
    }

    fn insert(&mut self, id: &str, digest: Digest) {
        if self.capacity == 0 || self.contains(id, &digest) {
            return;
        }
        let id: Arc<str> = id.into();
        self.seen.insert((id.clone(), digest));
        *self.ids.entry(id.clone()).or_default() += 1;
        self.order.push_back((id, digest));
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                if let Some(count) = self.ids.get_mut(&old.0) {
                    *count -= 1;
                    if *count == 0 {
                        self.ids.remove(&old.0);
                    }
                }
                self.seen.remove(&old);
            }
        }
    }
}

impl<S> fmt::Debug for Dedup<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("Dedup")
            .field("capacity", &window.capacity)
            .field("remembered", &window.order.len())
            .field("repeats", &self.repeats())
            .field("reused", &self.reused())
            .finish()
    }
}

impl<S> Dedup<S> {
    /// Drops repeats among the last `capacity` kept messages in front of
    /// `inner`.
    pub fn new(inner: S, capacity: usize) -> Dedup<S> {
        Dedup {
            inner,
            window: Mutex::new(Window {
                capacity,
                order: VecDeque::new(),
                seen: HashSet::new(),
                ids: HashMap::new(),
            }),
            repeats: AtomicU64::new(0),
            reused: AtomicU64::new(0),
        }
    }

    /// Adds kept messages to the window, oldest first, as if they had just
    /// been kept: each as the line it was stored as (see
    /// [`Received::json_line`]). Lines without a text `ID` add nothing.
    /// Returns how many were added.
    pub fn seed<L: AsRef<[u8]>>(&self, lines: impl IntoIterator<Item = L>) -> usize {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let mut count = 0;
        for line in lines {
            let line = line.as_ref();
            if let Some(id) = crate::json::message_id(line) {
                window.insert(&id, digest(line));
                count += 1;
            }
        }
        count
    }

    /// Fills the window from the last lines of an NDJSON file of kept
    /// messages (as [`FileSink`](super::FileSink) writes it), reading backwards from its
    /// end no further than the window needs. Lines that are not a JSON
    /// object with a text `ID` (a line cut short by a crash, say) add
    /// nothing. Returns how many messages were added; a missing file adds
    /// none.
    pub fn seed_from_ndjson(&self, path: impl AsRef<Path>) -> io::Result<usize> {
        let capacity = self
            .window
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .capacity;
        let lines = match last_lines(path.as_ref(), capacity) {
            Ok(lines) => lines,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        Ok(self.seed(lines))
    }

    /// How many repeats were acknowledged without being passed on.
    pub fn repeats(&self) -> u64 {
        self.repeats.load(Ordering::Relaxed)
    }

    /// How many messages were passed on with the `ID` of a message in the
    /// window but other content.
    pub fn reused(&self) -> u64 {
        self.reused.load(Ordering::Relaxed)
    }

    /// The sink behind.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

/// The last `count` non-empty lines of a file, oldest first.
fn last_lines(path: &Path, count: usize) -> io::Result<Vec<Vec<u8>>> {
    const CHUNK: u64 = 64 * 1024;
    let mut file = File::open(path)?;
    let mut end = file.metadata()?.len();
    let mut tail: Vec<u8> = Vec::new();
    let mut lines: Vec<Vec<u8>> = Vec::new();
    while end > 0 && lines.len() < count {
        let start = end.saturating_sub(CHUNK);
        let mut chunk = vec![0; (end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&tail);
        end = start;
        // Everything after the first line end is whole lines; what comes
        // before it may continue in the chunk before.
        let keep_from = if start == 0 {
            0
        } else {
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => i + 1,
                None => {
                    tail = chunk;
                    continue;
                }
            }
        };
        let mut found: Vec<Vec<u8>> = chunk[keep_from..]
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        tail = chunk[..keep_from].to_vec();
        found.append(&mut lines);
        lines = found;
    }
    let skip = lines.len().saturating_sub(count);
    Ok(lines.split_off(skip))
}

impl<S: Sink> Sink for Dedup<S> {
    fn keep(&self, message: Received) -> impl Future<Output = Result<(), SinkError>> + Send {
        let kept = self.keep_noted(message);
        async move { kept.await.map(|_| ()) }
    }

    fn keep_noted(
        &self,
        message: Received,
    ) -> impl Future<Output = Result<Kept, SinkError>> + Send {
        let id = message.id.clone();
        let digest = digest(&message.json_line());
        async move {
            let (seen, reused) = {
                let window = self.window.lock().unwrap_or_else(|e| e.into_inner());
                (
                    window.contains(&id, &digest),
                    window.ids.contains_key(id.as_str()),
                )
            };
            if seen {
                self.repeats.fetch_add(1, Ordering::Relaxed);
                return Ok(Kept::Repeat);
            }
            let kept = self.inner.keep_noted(message).await?;
            self.window
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(&id, digest);
            if reused {
                self.reused.fetch_add(1, Ordering::Relaxed);
                return Ok(Kept::IdReused);
            }
            Ok(kept)
        }
    }

    fn needs_typed_message(&self) -> bool {
        self.inner.needs_typed_message()
    }

    fn close(&self) -> impl Future<Output = Result<(), SinkError>> + Send {
        self.inner.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_lines_are_read_backwards_across_chunks() {
        let dir = tempfile::tempdir().expect("folder");
        let path = dir.path().join("kept.ndjson");
        let lines: Vec<String> = (0..3000)
            .map(|n| format!("{{\"ID\":\"id-{n}\",\"pad\":\"{}\"}}", "x".repeat(n % 150)))
            .collect();
        fs_write(&path, &format!("{}\n", lines.join("\n")));
        let last = last_lines(&path, 2500).unwrap();
        assert_eq!(last.len(), 2500);
        assert_eq!(last[0], lines[500].as_bytes());
        assert_eq!(last[2499], lines[2999].as_bytes());
        assert_eq!(last_lines(&path, 5000).unwrap().len(), 3000);
        assert!(last_lines(&path, 0).unwrap().is_empty());

        // A line cut short at the end (a crash) adds no ID; the rest do.
        fs_write(
            &path,
            &format!("{}\n{{\"ID\":\"cut", lines[..10].join("\n")),
        );
        let dedup = Dedup::new((), 100);
        assert_eq!(dedup.seed_from_ndjson(&path).unwrap(), 10);
        assert_eq!(
            dedup.seed_from_ndjson(dir.path().join("missing")).unwrap(),
            0
        );
    }

    fn fs_write(path: &Path, text: &str) {
        std::fs::write(path, text).expect("write");
    }
}

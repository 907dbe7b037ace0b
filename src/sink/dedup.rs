//! [`Dedup`]: a sink in front of another that drops repeats, with the
//! reader of an NDJSON file's last lines that carries its window across a
//! restart.

use std::{
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

use super::{Received, Sink, SinkError};

/// A [`Sink`] that drops repeats: a message whose `ID` is among the
/// last `capacity` IDs this sink kept is acknowledged (204) without being
/// passed on, since it is kept already.
///
/// Senders that retry (such as the durable outbox,
/// `idmefv2::outbox`) deliver at least once, so a message whose
/// acknowledgement was lost (the receiver was killed after its sync and
/// before its answer, or the connection dropped) comes again. The window
/// is the `capacity` most recently kept IDs, in memory: a repeat older
/// than that is kept again. An ID enters the window only once the inner
/// sink has kept its message, so a failed keep never hides the message's
/// next try. Two copies arriving at the same moment, before either is
/// kept, may both be kept.
///
/// The window is not written anywhere of its own. To carry it across a
/// restart, fill it from what the inner sink kept with
/// [`seed_from_ndjson`](Self::seed_from_ndjson) (for a [`FileSink`], its
/// file): `idmefv2 serve --dedup` does so, which makes its window the
/// last `capacity` messages of its output file, restarts included.
///
/// The `ID` compared is [`Received::id`], as written.
pub struct Dedup<S> {
    inner: S,
    window: Mutex<Window>,
    repeats: AtomicU64,
}

/// The most recently kept IDs.
struct Window {
    capacity: usize,
    order: std::collections::VecDeque<Arc<str>>,
    seen: std::collections::HashSet<Arc<str>>,
}

impl Window {
    fn insert(&mut self, id: &str) {
        if self.capacity == 0 || self.seen.contains(id) {
            return;
        }
        let id: Arc<str> = id.into();
        self.seen.insert(id.clone());
        self.order.push_back(id);
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
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
            .finish()
    }
}

impl<S> Dedup<S> {
    /// Drops repeats among the last `capacity` kept IDs in front of
    /// `inner`.
    pub fn new(inner: S, capacity: usize) -> Dedup<S> {
        Dedup {
            inner,
            window: Mutex::new(Window {
                capacity,
                order: std::collections::VecDeque::new(),
                seen: std::collections::HashSet::new(),
            }),
            repeats: AtomicU64::new(0),
        }
    }

    /// Adds IDs to the window, oldest first, as if their messages had
    /// just been kept.
    pub fn seed<I: AsRef<str>>(&self, ids: impl IntoIterator<Item = I>) {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            window.insert(id.as_ref());
        }
    }

    /// Fills the window from the last lines of an NDJSON file of kept
    /// messages (as [`FileSink`] writes it), reading backwards from its
    /// end no further than the window needs. Lines that are not a JSON
    /// object with a text `ID` (a line cut short by a crash, say) add
    /// nothing. Returns how many IDs were added; a missing file adds none.
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
        let ids: Vec<String> = lines
            .iter()
            .filter_map(|line| crate::json::message_id(line))
            .collect();
        let count = ids.len();
        self.seed(ids);
        Ok(count)
    }

    /// How many repeats were acknowledged without being passed on.
    pub fn repeats(&self) -> u64 {
        self.repeats.load(Ordering::Relaxed)
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
        let id = message.id.clone();
        async move {
            let seen = {
                let window = self.window.lock().unwrap_or_else(|e| e.into_inner());
                window.seen.contains(id.as_str())
            };
            if seen {
                self.repeats.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            self.inner.keep(message).await?;
            self.window
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(&id);
            Ok(())
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

//! [`FileSink`]: an NDJSON file, synced before each acknowledgement, with
//! one writer thread sharing syncs among the messages queued together.

use std::{
    fmt,
    fs::{File, OpenOptions},
    future::Future,
    io::{self, Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc, Arc, Mutex,
    },
    time::Duration,
};

use bytes::Bytes;

use super::{Received, Sink, SinkError};

/// Counts of a [`FileSink`]'s work so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileSinkStats {
    /// Messages written and synced (acknowledged).
    pub messages: u64,
    /// Calls to `fdatasync` that succeeded; with concurrent requests,
    /// fewer than `messages`.
    pub syncs: u64,
    /// Batches that failed to write or sync (their requests got 503).
    pub failures: u64,
}

/// One message waiting for the writer: its line, and who to tell.
struct Job {
    line: Bytes,
    done: tokio::sync::oneshot::Sender<Result<(), String>>,
}

#[derive(Default)]
struct Counters {
    messages: AtomicU64,
    syncs: AtomicU64,
    failures: AtomicU64,
}

/// A [`Sink`] that appends each message to a file as one NDJSON line
/// ([`Received::json_line`]) and syncs the file to disk before the
/// message is acknowledged.
///
/// A writer thread takes every message waiting, writes them in one go and
/// syncs once for all of them (group commit): under load, one `fdatasync`
/// covers many requests instead of one each. When a write or sync fails,
/// the file is cut back to where the batch began and every request of the
/// batch is answered 503, so that its sender tries again (a message whose
/// sync failed may then be in the file twice: delivery is at least once).
pub struct FileSink {
    path: PathBuf,
    queue: Mutex<Option<mpsc::Sender<Job>>>,
    worker: Mutex<Option<std::thread::JoinHandle<()>>>,
    counters: Arc<Counters>,
}

impl fmt::Debug for FileSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSink")
            .field("path", &self.path)
            .field("stats", &self.stats())
            .finish()
    }
}

/// How long a sender is asked to wait after a failed write.
const RETRY_AFTER_WRITE_FAILURE: Duration = Duration::from_secs(5);

/// The most messages written under one sync.
const MAX_BATCH: usize = 4096;

impl FileSink {
    /// Opens (or creates) `path` for appending. A new file's directory
    /// entry is synced too, and a line left unfinished by an earlier crash
    /// is ended, so that the next message starts a line of its own.
    pub fn open(path: impl AsRef<Path>) -> io::Result<FileSink> {
        let path = path.as_ref().to_path_buf();
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)?;
        let mut length = file.metadata()?.len();
        if length > 0 {
            let mut last = [0u8];
            file.seek(SeekFrom::End(-1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
                length += 1;
            }
        }
        file.sync_all()?;
        if !existed {
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            File::open(parent)?.sync_all()?;
        }
        let (sender, receiver) = mpsc::channel();
        let counters = Arc::new(Counters::default());
        let worker = {
            let counters = counters.clone();
            std::thread::Builder::new()
                .name("idmefv2-file-sink".into())
                .spawn(move || write_batches(file, length, &receiver, &counters))?
        };
        Ok(FileSink {
            path,
            queue: Mutex::new(Some(sender)),
            worker: Mutex::new(Some(worker)),
            counters,
        })
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the sink has done so far.
    pub fn stats(&self) -> FileSinkStats {
        FileSinkStats {
            messages: self.counters.messages.load(Ordering::Relaxed),
            syncs: self.counters.syncs.load(Ordering::Relaxed),
            failures: self.counters.failures.load(Ordering::Relaxed),
        }
    }

    /// Appends one line (given without its line end, and holding none),
    /// resolving once it is synced; queued at once, so that lines
    /// arriving together share a sync.
    pub(crate) fn append(
        &self,
        line: Bytes,
    ) -> impl Future<Output = Result<(), SinkError>> + Send + '_ {
        let queued = self.enqueue(line);
        // Borrowed: shown only in the rare error, not formatted per line.
        let path = self.path.display();
        async move {
            let waiting = queued?;
            match waiting.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(SinkError::unavailable(
                    format!("{path}: {e}"),
                    RETRY_AFTER_WRITE_FAILURE,
                )),
                Err(_) => Err(SinkError::unavailable(
                    format!("{path}: the writer stopped"),
                    RETRY_AFTER_WRITE_FAILURE,
                )),
            }
        }
    }

    /// Queues a line; the receiver resolves once it is synced.
    fn enqueue(
        &self,
        line: Bytes,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<(), String>>, SinkError> {
        let (done, waiting) = tokio::sync::oneshot::channel();
        let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let closed =
            || SinkError::unavailable("the file sink is closed", RETRY_AFTER_WRITE_FAILURE);
        let sender = queue.as_ref().ok_or_else(closed)?;
        sender.send(Job { line, done }).map_err(|_| closed())?;
        Ok(waiting)
    }
}

/// The writer thread: batches, writes, syncs, answers.
fn write_batches(
    mut file: File,
    mut length: u64,
    queue: &mpsc::Receiver<Job>,
    counters: &Counters,
) {
    let mut buffer = Vec::new();
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        buffer.clear();
        for job in &batch {
            buffer.extend_from_slice(&job.line);
            buffer.push(b'\n');
        }
        let outcome = file.write_all(&buffer).and_then(|()| file.sync_data());
        let answer = match outcome {
            Ok(()) => {
                length += buffer.len() as u64;
                counters.syncs.fetch_add(1, Ordering::Relaxed);
                counters
                    .messages
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                // Take back what may have been written of this batch.
                let _ = file.set_len(length);
                let _ = file.sync_data();
                counters.failures.fetch_add(1, Ordering::Relaxed);
                Err(e.to_string())
            }
        };
        for job in batch {
            let _ = job.done.send(answer.clone());
        }
    }
}

impl Sink for FileSink {
    fn keep(&self, message: Received) -> impl Future<Output = Result<(), SinkError>> + Send {
        self.append(message.line_bytes())
    }

    /// No: a JSON body is written as it came, and a body of another media
    /// type is always built.
    fn needs_typed_message(&self) -> bool {
        false
    }

    fn close(&self) -> impl Future<Output = Result<(), SinkError>> + Send {
        // Dropping the queue lets the writer finish what is queued and end.
        let sender = self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(sender);
        let worker = self.worker.lock().unwrap_or_else(|e| e.into_inner()).take();
        async move {
            if let Some(worker) = worker {
                tokio::task::spawn_blocking(move || worker.join())
                    .await
                    .map_err(|e| SinkError::internal(format!("file sink writer: {e}")))?
                    .map_err(|_| SinkError::internal("file sink writer panicked"))?;
            }
            Ok(())
        }
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        let sender = self
            .queue
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(sender);
        if let Some(worker) = self
            .worker
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = worker.join();
        }
    }
}

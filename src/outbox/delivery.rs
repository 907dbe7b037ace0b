//! Delivery: the [`Deliver`] trait a transport implements, the retry and
//! backoff policy ([`DeliveryOptions`]), and the run that sends what the
//! outbox holds ([`Outbox::deliver`]).

use std::{
    collections::HashMap,
    future::Future,
    io,
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

use bytes::Bytes;

use super::{
    DeliverError, DeliverErrorKind, Key, Outbox, OutboxError, DEFAULT_CONCURRENCY,
    DEFAULT_FIRST_DELAY, DEFAULT_GIVE_UP_AFTER, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_DELAY,
};

/// How often acknowledgement marks are synced while delivering.
const MARK_SYNC_EVERY: Duration = Duration::from_secs(1);

/// A way to hand one encoded message to a receiver and learn whether it
/// kept it: what a transport implements to be driven by an [`Outbox`].
///
/// The future resolves `Ok` only once the receiver has taken the message
/// in its care (an HTTP 2xx, a JetStream acknowledgement); otherwise the
/// [`DeliverError`]'s kind says what to do next. Implementations are cheap
/// to clone (a handle on shared connections): the outbox clones one per
/// message in flight.
pub trait Deliver: Clone + Send + Sync + 'static {
    /// Sends `body`, encoded as `content_type`, and waits for the answer.
    fn deliver(
        &self,
        body: &[u8],
        content_type: &str,
    ) -> impl Future<Output = Result<(), DeliverError>> + Send;
}

/// How [`Outbox::deliver`] sends and waits.
#[derive(Clone, Debug)]
pub struct DeliveryOptions {
    concurrency: usize,
    first_delay: Duration,
    max_delay: Duration,
    give_up_after: Option<Duration>,
    max_attempts: u32,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        DeliveryOptions {
            concurrency: DEFAULT_CONCURRENCY,
            first_delay: DEFAULT_FIRST_DELAY,
            max_delay: DEFAULT_MAX_DELAY,
            give_up_after: Some(DEFAULT_GIVE_UP_AFTER),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}

impl DeliveryOptions {
    /// Messages in flight at once (default
    /// [`DEFAULT_CONCURRENCY`](super::DEFAULT_CONCURRENCY)).
    #[must_use]
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// The first pause after a transient failure (default
    /// [`DEFAULT_FIRST_DELAY`](super::DEFAULT_FIRST_DELAY)).
    #[must_use]
    pub fn first_delay(mut self, delay: Duration) -> Self {
        self.first_delay = delay;
        self
    }

    /// The longest pause the doubling reaches (default
    /// [`DEFAULT_MAX_DELAY`](super::DEFAULT_MAX_DELAY)); a longer
    /// `Retry-After` is still honoured.
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Ends the run with [`OutboxError::GaveUp`] when nothing was
    /// acknowledged for this long while messages are pending (default
    /// [`DEFAULT_GIVE_UP_AFTER`](super::DEFAULT_GIVE_UP_AFTER)); `None`
    /// tries for ever.
    #[must_use]
    pub fn give_up_after(mut self, limit: Option<Duration>) -> Self {
        self.give_up_after = limit;
        self
    }

    /// How many times the receiver may fail on one message
    /// ([`DeliverErrorKind::Failed`], an HTTP 500) before it is moved to
    /// the dead letters with the receiver's answers (default
    /// [`DEFAULT_MAX_ATTEMPTS`](super::DEFAULT_MAX_ATTEMPTS), at least 1).
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }
}

/// What happened to a message during a delivery run. `tag` is the one
/// given at [`Outbox::enqueue_tagged`], `None` for a message enqueued
/// untagged or read back from the journal.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a, T = ()> {
    /// The receiver acknowledged it; it is marked done.
    Delivered {
        /// The message's key.
        key: &'a Key,
        /// The caller's tag.
        tag: Option<&'a T>,
    },
    /// The receiver refused it for good, or failed on it
    /// [`DeliveryOptions::max_attempts`] times; it is in the dead-letter
    /// file.
    Refused {
        /// The message's key.
        key: &'a Key,
        /// The caller's tag.
        tag: Option<&'a T>,
        /// The receiver's (last) answer.
        error: &'a DeliverError,
        /// The receiver's answers to every attempt that failed on this
        /// message in this process, oldest first (one for a refusal).
        answers: &'a [String],
    },
    /// A transient failure paused sending.
    Retrying {
        /// The message's key.
        key: &'a Key,
        /// The caller's tag.
        tag: Option<&'a T>,
        /// What failed.
        error: &'a DeliverError,
        /// How long sending pauses.
        wait: Duration,
    },
}

/// The counts of one delivery run.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct DeliveryReport {
    /// Messages acknowledged.
    pub delivered: u64,
    /// Messages moved to the dead letters.
    pub refused: u64,
    /// Failed attempts that put their message back in the queue.
    pub retries: u64,
    /// Messages still pending when the run ended.
    pub pending: usize,
    /// The last transient failure seen.
    pub last_error: Option<DeliverError>,
}

/// Where an [`Outbox`] stands; see [`Outbox::counts`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counts {
    /// Messages waiting to be delivered.
    pub pending: usize,
    /// Messages acknowledged since the outbox was opened.
    pub delivered: u64,
    /// Messages moved to the dead letters since the outbox was opened.
    pub refused: u64,
    /// Failed attempts since the outbox was opened.
    pub retries: u64,
}

/// A random number in `0..bound` (`bound` at least 1), for retry jitter
/// and SRV weights: std's randomly keyed SipHash over a counter. Not for
/// secrets.
pub(crate) fn random_below(bound: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::AtomicU64;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish() % bound.max(1)
}

/// The pause shared by all messages after transient failures.
struct Backoff {
    paused_until: Instant,
    level: u32,
    /// Bumped at each pause: failures of sends started before it do not
    /// pause again.
    epoch: u64,
}

impl Backoff {
    /// Pauses after a failure of a send started at `started`; returns the
    /// pause, or `None` when an earlier failure already paused for it.
    fn fail(
        &mut self,
        started: u64,
        error: &DeliverError,
        options: &DeliveryOptions,
    ) -> Option<Duration> {
        if started != self.epoch {
            return None;
        }
        self.epoch += 1;
        let nominal = options
            .first_delay
            .saturating_mul(1u32 << self.level.min(20))
            .min(options.max_delay);
        let half = nominal / 2;
        let jitter = Duration::from_nanos(random_below((half.as_nanos() as u64).saturating_add(1)));
        let wait = (half + jitter).max(error.retry_after().unwrap_or_default());
        self.level = self.level.saturating_add(1);
        self.paused_until = Instant::now() + wait;
        Some(wait)
    }
}

impl<T: Send + Sync + 'static> Outbox<T> {
    /// Sends what is pending through `deliver`, as the [module](super)
    /// describes, until the outbox is empty. A run that stops at a fatal
    /// failure or gives up returns [`OutboxError::Stopped`] or
    /// [`OutboxError::GaveUp`], with its report.
    pub async fn deliver<D: Deliver>(
        &self,
        deliver: &D,
        options: &DeliveryOptions,
    ) -> Result<DeliveryReport, OutboxError> {
        self.deliver_with(deliver, options, |_| {}).await
    }

    /// [`deliver`](Self::deliver), telling `observer` what happens to each
    /// message.
    pub async fn deliver_with<D: Deliver>(
        &self,
        deliver: &D,
        options: &DeliveryOptions,
        mut observer: impl FnMut(Event<'_, T>) + Send,
    ) -> Result<DeliveryReport, OutboxError> {
        let _running = self.shared.delivering.lock().await;
        self.lock().run_ended = false;
        let outcome = self.run(deliver, options, &mut observer).await;
        self.lock().run_ended = true;
        self.shared.room.notify_all();
        outcome
    }

    async fn run<D: Deliver>(
        &self,
        deliver: &D,
        options: &DeliveryOptions,
        observer: &mut (impl FnMut(Event<'_, T>) + Send),
    ) -> Result<DeliveryReport, OutboxError> {
        let totals = &self.shared.totals;
        let content_type: std::sync::Arc<str> = self.shared.options.content_type.as_str().into();
        let mut report = DeliveryReport::default();
        let mut in_flight = tokio::task::JoinSet::new();
        // The message each send task carries, to queue it again should the
        // task fail.
        let mut sending: HashMap<tokio::task::Id, u64> = HashMap::new();
        let mut backoff = Backoff {
            paused_until: Instant::now(),
            level: 0,
            epoch: 0,
        };
        let mut last_progress = Instant::now();
        let mut last_mark_sync = Instant::now();
        let mut fatal: Option<DeliverError> = None;
        let mut gave_up: Option<Duration> = None;
        let concurrency = options.concurrency.max(1);
        loop {
            let now = Instant::now();
            if self.pending() == 0 {
                // Waiting for input is not failing to deliver.
                last_progress = now;
            }
            let stopping = fatal.is_some() || gave_up.is_some();
            if !stopping {
                if let Some(limit) = options.give_up_after {
                    if now.duration_since(last_progress) >= limit && self.pending() > 0 {
                        gave_up = Some(limit);
                    }
                }
            }
            if fatal.is_none() && gave_up.is_none() && now >= backoff.paused_until {
                while in_flight.len() < concurrency {
                    let next = {
                        let mut state = self.lock();
                        loop {
                            match state.queue.pop_front() {
                                Some(seq) => {
                                    if let Some(entry) = state.pending.get(&seq) {
                                        break Some((seq, entry.put.body.clone()));
                                    }
                                }
                                None => break None,
                            }
                        }
                    };
                    let Some((seq, body)) = next else { break };
                    let deliver = deliver.clone();
                    let content_type = content_type.clone();
                    let started = backoff.epoch;
                    let task = in_flight.spawn(async move {
                        let body: Bytes = body;
                        let outcome = deliver.deliver(&body, &content_type).await;
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
                if fatal.is_some() || gave_up.is_some() || (empty && holds == 0) {
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
            let wake = if now < backoff.paused_until {
                backoff.paused_until.min(give_up_at)
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
                                self.requeue(seq);
                            }
                            continue;
                        }
                    };
                    let error = match outcome {
                        Ok(()) => {
                            backoff.level = 0;
                            last_progress = Instant::now();
                            if let Some(entry) = self.finish(seq, b'D')? {
                                report.delivered += 1;
                                totals.delivered.fetch_add(1, Ordering::Relaxed);
                                observer(Event::Delivered {
                                    key: &entry.put.key,
                                    tag: entry.tag.as_deref(),
                                });
                            }
                            continue;
                        }
                        Err(error) => error,
                    };
                    let give_up_message = match error.kind() {
                        DeliverErrorKind::Refused => true,
                        DeliverErrorKind::Failed => {
                            let mut state = self.lock();
                            match state.pending.get_mut(&seq) {
                                Some(entry) => {
                                    entry.answers.push(error.to_string());
                                    entry.answers.len() >= options.max_attempts as usize
                                }
                                None => false,
                            }
                        }
                        _ => false,
                    };
                    if give_up_message {
                        last_progress = Instant::now();
                        let e = error.clone();
                        if let Some(entry) = self.blocking(move |o| o.dead_letter(seq, &e)).await? {
                            report.refused += 1;
                            totals.refused.fetch_add(1, Ordering::Relaxed);
                            let answers = if entry.answers.is_empty() {
                                vec![error.to_string()]
                            } else {
                                entry.answers
                            };
                            observer(Event::Refused {
                                key: &entry.put.key,
                                tag: entry.tag.as_deref(),
                                error: &error,
                                answers: &answers,
                            });
                        }
                        continue;
                    }
                    report.retries += 1;
                    totals.retries.fetch_add(1, Ordering::Relaxed);
                    self.requeue(seq);
                    if error.kind() == DeliverErrorKind::Fatal {
                        fatal.get_or_insert_with(|| error.clone());
                    } else if let Some(wait) = backoff.fail(started, &error, options) {
                        let message = {
                            let state = self.lock();
                            state
                                .pending
                                .get(&seq)
                                .map(|entry| (entry.put.key.clone(), entry.tag.clone()))
                        };
                        if let Some((key, tag)) = message {
                            observer(Event::Retrying {
                                key: &key,
                                tag: tag.as_deref(),
                                error: &error,
                                wait,
                            });
                        }
                    }
                    report.last_error = Some(error);
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
        if let Some(error) = fatal {
            return Err(OutboxError::Stopped {
                error,
                report: Box::new(report),
            });
        }
        if let Some(after) = gave_up {
            return Err(OutboxError::GaveUp {
                after,
                last_error: report.last_error.clone(),
                report: Box::new(report),
            });
        }
        Ok(report)
    }

    /// Puts a pending message back at the head of the queue.
    fn requeue(&self, seq: u64) {
        let mut state = self.lock();
        if state.pending.contains_key(&seq) {
            state.queue.push_front(seq);
        }
    }

    /// Runs disk work off the async threads.
    async fn blocking<R: Send + 'static>(
        &self,
        work: impl FnOnce(&Outbox<T>) -> Result<R, OutboxError> + Send + 'static,
    ) -> Result<R, OutboxError> {
        let outbox = self.clone();
        match tokio::task::spawn_blocking(move || work(&outbox)).await {
            Ok(result) => result,
            Err(e) => Err(OutboxError::Io {
                path: self
                    .shared
                    .disk
                    .as_ref()
                    .map(|d| d.journal.clone())
                    .unwrap_or_default(),
                error: io::Error::other(format!("journal work stopped: {e}")),
            }),
        }
    }
}

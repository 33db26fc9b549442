//! Counters in sliding windows, behind a trait so that a shared backend can come later.

use super::hash::{map_bytes, Map};
use super::SubjectId;
use crate::subject::Subject;
use crate::time::Timestamp;
use std::collections::VecDeque;
use std::time::Duration;

/// What a counter counts.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Counter, SmtpOutcome};
/// assert_eq!(Counter::from(SmtpOutcome::NoSuchUser), Counter::NoSuchUser);
/// assert_eq!(Counter::Messages.index(), 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Counter {
    /// Messages the relay accepted from a sender identity.
    Messages,
    /// Delivered messages.
    Delivered,
    /// Messages the receiving server rejected.
    Rejected,
    /// Deferred messages.
    Deferred,
    /// Messages to recipients that do not exist.
    NoSuchUser,
    /// Messages to recipients that cannot receive mail.
    CannotReceive,
}

impl Counter {
    /// Every counter, in index order.
    pub const ALL: [Counter; 6] = [
        Counter::Messages,
        Counter::Delivered,
        Counter::Rejected,
        Counter::Deferred,
        Counter::NoSuchUser,
        Counter::CannotReceive,
    ];

    /// A dense index from 0, for tables.
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl From<super::SmtpOutcome> for Counter {
    fn from(o: super::SmtpOutcome) -> Counter {
        use super::SmtpOutcome as O;
        match o {
            O::Delivered => Counter::Delivered,
            O::Rejected => Counter::Rejected,
            O::Deferred => Counter::Deferred,
            O::NoSuchUser => Counter::NoSuchUser,
            O::CannotReceive => Counter::CannotReceive,
        }
    }
}

/// Which counter of which subject. A local store keys by `id` (dense, per ledger); a shared
/// one (Redis) by the subject's text, which is why both are given.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Counter, CounterKey, Ledger};
/// let mut ledger = Ledger::new(Default::default());
/// let s: rblkit::Subject = "sender@relay.example".parse()?;
/// let id = ledger.track(&s, "2026-11-20T10:00:00Z".parse()?);
/// let key = CounterKey { subject: &s, id, counter: Counter::Messages };
/// assert_eq!(key.counter, Counter::Messages);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CounterKey<'a> {
    /// The subject.
    pub subject: &'a Subject,
    /// Its id in the ledger.
    pub id: SubjectId,
    /// The counter.
    pub counter: Counter,
}

/// Counts of events in sliding windows (exact rolling windows, not clock hours).
///
/// Every counter has one window length, fixed by the store. A count "at `now`" is of the
/// events in `(now - window, now]`. Events may arrive out of order; each is counted at its
/// own time. A store may forget events that no window ending at or after its newest event
/// can count, so a count at a `now` earlier than `newest - window` is not exact.
///
/// The embedded implementation is [`EmbeddedCounters`]; a shared backend (Redis, as
/// rspamd's ratelimit module does it) can implement the same trait.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Counter, CounterStore, EmbeddedCounters, Ledger, Evidence, Event};
/// let mut ledger = Ledger::new(Default::default());
/// let s: rblkit::Subject = "sender@relay.example".parse()?;
/// let t: rblkit::Timestamp = "2026-11-20T10:00:00Z".parse()?;
/// for i in 0..3 {
///     ledger.apply(&Event::new(t + std::time::Duration::from_secs(i * 60), s.clone(),
///         Evidence::Message { recipient: "r@x.example".into(), sasl_username: None, fingerprint: None, sender: None }));
/// }
/// assert_eq!(ledger.count(&s, Counter::Messages, t + std::time::Duration::from_secs(3600)), 2);
/// # Ok::<(), rblkit::Error>(())
/// ```
pub trait CounterStore {
    /// The window of a counter.
    fn window(&self, counter: Counter) -> Duration;
    /// Counts `n` events at `at` and returns the count in `(at - window, at]` afterwards.
    fn add(&mut self, key: CounterKey<'_>, at: Timestamp, n: u32) -> u64;
    /// The count in `(now - window, now]`.
    fn count(&self, key: CounterKey<'_>, now: Timestamp) -> u64;
    /// Forgets the counters of a subject (all of them).
    fn forget(&mut self, id: SubjectId, subject: &Subject);
    /// Heap bytes in use, for memory reports (0 when the data lives elsewhere).
    fn heap_bytes(&self) -> usize;
}

/// One counter's events: per-second buckets in time order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Window {
    buckets: VecDeque<(i64, u32)>,
}

impl Window {
    pub(crate) fn add(&mut self, at: i64, n: u32, window: i64) {
        let newest = self.buckets.back().map_or(i64::MIN, |b| b.0);
        if newest != i64::MIN && at <= newest.saturating_sub(window) {
            return; // no window ending at or after `newest` counts it
        }
        match self.buckets.back_mut() {
            Some(b) if b.0 == at => b.1 = b.1.saturating_add(n),
            Some(b) if b.0 > at => {
                let pos = self.buckets.partition_point(|b| b.0 < at);
                match self.buckets.get_mut(pos) {
                    Some(b) if b.0 == at => b.1 = b.1.saturating_add(n),
                    _ => self.buckets.insert(pos, (at, n)),
                }
            }
            _ => self.buckets.push_back((at, n)),
        }
        let horizon = self
            .buckets
            .back()
            .map_or(i64::MIN, |b| b.0.saturating_sub(window));
        while self.buckets.front().is_some_and(|b| b.0 <= horizon) {
            self.buckets.pop_front();
        }
    }

    pub(crate) fn count(&self, now: i64, window: i64) -> u64 {
        let from = now.saturating_sub(window);
        let start = self.buckets.partition_point(|b| b.0 <= from);
        let end = self.buckets.partition_point(|b| b.0 <= now);
        self.buckets
            .range(start..end.max(start))
            .map(|b| u64::from(b.1))
            .sum()
    }
}

/// The embedded [`CounterStore`]: exact per-second buckets in memory, kept only for the
/// subjects that have counted events.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Counter, CounterStore, EmbeddedCounters};
/// use std::time::Duration;
/// let store = EmbeddedCounters::new().with_window(Counter::NoSuchUser, Duration::from_secs(86_400))?;
/// assert_eq!(store.window(Counter::NoSuchUser), Duration::from_secs(86_400));
/// assert_eq!(store.window(Counter::Messages), Duration::from_secs(3600));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct EmbeddedCounters {
    windows: [i64; Counter::ALL.len()],
    counters: Map<(u32, u8), Window>,
}

impl Default for EmbeddedCounters {
    fn default() -> Self {
        EmbeddedCounters::new()
    }
}

impl EmbeddedCounters {
    /// A store with one-hour windows for every counter.
    pub fn new() -> EmbeddedCounters {
        EmbeddedCounters {
            windows: [3600; Counter::ALL.len()],
            counters: Map::default(),
        }
    }

    /// Sets the window of a counter.
    ///
    /// # Errors
    ///
    /// [`LedgerError::ZeroDuration`](super::LedgerError::ZeroDuration) for a window under a
    /// second.
    pub fn with_window(
        mut self,
        counter: Counter,
        window: Duration,
    ) -> Result<Self, super::LedgerError> {
        let secs = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
        if secs == 0 {
            return Err(super::LedgerError::ZeroDuration {
                what: "a counter window",
            });
        }
        self.windows[counter.index()] = secs;
        Ok(self)
    }
}

impl CounterStore for EmbeddedCounters {
    fn window(&self, counter: Counter) -> Duration {
        Duration::from_secs(self.windows[counter.index()].unsigned_abs())
    }

    fn add(&mut self, key: CounterKey<'_>, at: Timestamp, n: u32) -> u64 {
        let w = self.windows[key.counter.index()];
        let win = self
            .counters
            .entry((key.id.0, key.counter.index() as u8))
            .or_default();
        win.add(at.unix_seconds(), n, w);
        win.count(at.unix_seconds(), w)
    }

    fn count(&self, key: CounterKey<'_>, now: Timestamp) -> u64 {
        let w = self.windows[key.counter.index()];
        self.counters
            .get(&(key.id.0, key.counter.index() as u8))
            .map_or(0, |win| win.count(now.unix_seconds(), w))
    }

    fn forget(&mut self, id: SubjectId, _subject: &Subject) {
        for c in Counter::ALL {
            self.counters.remove(&(id.0, c.index() as u8));
        }
    }

    fn heap_bytes(&self) -> usize {
        map_bytes(&self.counters)
            + self
                .counters
                .values()
                .map(|w| w.buckets.capacity() * std::mem::size_of::<(i64, u32)>())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(events: &[(i64, u32)], now: i64, window: i64) -> u64 {
        events
            .iter()
            .filter(|e| e.0 > now - window && e.0 <= now)
            .map(|e| u64::from(e.1))
            .sum()
    }

    #[test]
    fn rolling_window_is_exact_not_a_clock_hour() {
        let mut w = Window::default();
        // 10:59:59 and 11:00:00 are in one rolling hour though not in one clock hour
        w.add(39_599, 1, 3600);
        w.add(39_600, 1, 3600);
        assert_eq!(w.count(39_600, 3600), 2);
        assert_eq!(w.count(39_599 + 3599, 3600), 2);
        assert_eq!(w.count(39_599 + 3600, 3600), 1);
    }

    proptest::proptest! {
        #[test]
        fn window_matches_naive_count(
            mut events in proptest::collection::vec((0i64..20_000, 1u32..5), 0..200),
            probe in 0i64..25_000,
        ) {
            let window = 3600;
            let mut w = Window::default();
            for &(t, n) in &events {
                w.add(t, n, window);
            }
            // the store keeps everything a window ending at or after the newest event counts
            let newest = events.iter().map(|e| e.0).max().unwrap_or(0);
            let now = probe.max(newest);
            events.sort_unstable();
            let kept: Vec<(i64, u32)> = events;
            proptest::prop_assert_eq!(w.count(now, window), naive(&kept, now, window));
        }
    }
}

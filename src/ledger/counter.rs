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
    /// Messages the policy server refused from a sender identity (attempts that consumed
    /// no quota).
    Refused,
}

impl Counter {
    /// Every counter, in index order.
    pub const ALL: [Counter; 7] = [
        Counter::Messages,
        Counter::Delivered,
        Counter::Rejected,
        Counter::Deferred,
        Counter::NoSuchUser,
        Counter::CannotReceive,
        Counter::Refused,
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

/// One limit a [`Charge`] is checked against: a counter named by its key text (the policy
/// server's `sender_domain:shop.example.com`, say) and the most events its window may
/// hold.
pub trait Limit {
    /// The key: what the counter is named by in the store.
    fn key(&self) -> &str;
    /// The most events the window may hold.
    fn limit(&self) -> u64;
}

impl Limit for (&str, u64) {
    fn key(&self) -> &str {
        self.0
    }

    fn limit(&self) -> u64 {
        self.1
    }
}

/// An atomic check-and-add over several named counters: `n` events are added to every one
/// of `limits` when each stays within its limit afterwards, or to none of them.
///
/// With `once` (a message's key, such as Postfix's `instance` with the client and the
/// sender), the answer is remembered for the window: the same message asked again, by this
/// process or another one sharing the store, gets the first answer and adds nothing.
#[derive(Debug, Clone, Copy)]
pub struct Charge<'a, L> {
    /// The message's key, when it is charged once.
    pub once: Option<&'a [u8]>,
    /// The counters and their limits.
    pub limits: &'a [L],
    /// How many events (0: only check that one more would fit).
    pub n: u32,
}

/// The answer to a [`Charge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Charged {
    /// Every limit had room: the events were added (with `n` > 0), and [`CounterStore::undo`]
    /// with this receipt takes them back.
    Within {
        /// What identifies the events added, for [`CounterStore::undo`].
        receipt: u64,
    },
    /// A limit had no room: nothing was added.
    Over {
        /// The index in [`Charge::limits`] of the limit with the least room.
        tight: usize,
        /// Whether this is the first refusal of that counter in its window (for alerts).
        first: bool,
    },
    /// The message (by [`Charge::once`]) was charged before: its answer then, and nothing
    /// added now.
    Seen {
        /// Whether it was within its limits then.
        within: bool,
    },
}

/// Counts of events in sliding windows (exact rolling windows, not clock hours), in this
/// process or shared by several.
///
/// Every counter has one window length, fixed by the store. A count "at `now`" is of the
/// events in `(now - window, now]`. Events may arrive out of order; each is counted at its
/// own time. A store may forget events that no window ending at or after its newest event
/// can count, so a count at a `now` earlier than `newest - window` is not exact.
///
/// Counters are of two kinds: a subject's counters ([`CounterKey`]: [`add`](Self::add),
/// [`count`](Self::count)), which the [`Ledger`](super::Ledger) keeps, and named counters
/// checked against limits ([`charge`](Self::charge)), which the policy server keeps per
/// class of limits. A backend may fail (a shared one that does not answer in time, a
/// database that refuses a write): every operation returns a `Result` with the backend's
/// error.
///
/// Implementations: [`EmbeddedCounters`] (in memory, never fails: what a ledger replays
/// its journal into, see [`LedgerCounters`]); with the feature `store`, the state
/// directory's counter tables (`ledger::store::StoreCounters`, shared by the processes
/// of one host, kept across restarts); with the feature `redis`, Redis
/// (the policy server's counters with `[redis]`, shared by many hosts, as rspamd's ratelimit
/// module does it).
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Charge, Charged, CounterStore, EmbeddedCounters};
/// let mut c = EmbeddedCounters::new();
/// let t: rblkit::Timestamp = "2026-11-20T10:00:00Z".parse()?;
/// let limits = [("sender_domain:shop.example.com", 2), ("global", 100)];
/// let one = Charge { once: None, limits: &limits, n: 1 };
/// let mut out = Vec::new();
/// c.charge(t, &[one, one, one], &mut out).unwrap();
/// assert!(matches!(out[..], [Charged::Within { .. }, Charged::Within { .. }, Charged::Over { tight: 0, first: true }]));
/// // the refused one was added nowhere
/// assert_eq!(c.named_count("global", t).unwrap(), 2);
/// # Ok::<(), rblkit::Error>(())
/// ```
pub trait CounterStore {
    /// What a failed operation says.
    type Error: std::error::Error + Send + Sync + 'static;
    /// The window of a counter (of the named counters: [`Counter::Messages`]'s).
    fn window(&self, counter: Counter) -> Duration;
    /// Counts `n` events at `at` and returns the count in `(at - window, at]` afterwards.
    ///
    /// # Errors
    ///
    /// The backend's, when it cannot be asked.
    fn add(&mut self, key: CounterKey<'_>, at: Timestamp, n: u32) -> Result<u64, Self::Error>;
    /// The count in `(now - window, now]`.
    ///
    /// # Errors
    ///
    /// The backend's, when it cannot be asked.
    fn count(&self, key: CounterKey<'_>, now: Timestamp) -> Result<u64, Self::Error>;
    /// Checks and adds each of `charges` at `at`, in order, each atomically, and pushes one
    /// answer per charge to `out` (cleared first). A backend may send them together (one
    /// pipeline, one transaction); each is decided on the ones before it.
    ///
    /// # Errors
    ///
    /// The backend's, when it cannot be asked; then `out` holds no answer and nothing is
    /// known to be added.
    fn charge<L: Limit>(
        &mut self,
        at: Timestamp,
        charges: &[Charge<'_, L>],
        out: &mut Vec<Charged>,
    ) -> Result<(), Self::Error>;
    /// Takes back what a charge at `at` added ([`Charged::Within`]'s receipt): a message
    /// refused after it was charged (by another check, or because its record failed)
    /// consumes no quota. A message's `once` answer becomes a refusal.
    ///
    /// # Errors
    ///
    /// The backend's, when it cannot be asked.
    fn undo<L: Limit>(
        &mut self,
        at: Timestamp,
        charge: &Charge<'_, L>,
        receipt: u64,
    ) -> Result<(), Self::Error>;
    /// The count of a named counter in `(now - window, now]`.
    ///
    /// # Errors
    ///
    /// The backend's, when it cannot be asked.
    fn named_count(&self, key: &str, now: Timestamp) -> Result<u64, Self::Error>;
    /// Forgets the counters of a subject (all of them).
    ///
    /// # Errors
    ///
    /// The backend's, when it cannot be asked.
    fn forget(&mut self, id: SubjectId, subject: &Subject) -> Result<(), Self::Error>;
    /// Heap bytes in use, for memory reports (0 when the data lives elsewhere).
    fn heap_bytes(&self) -> usize;
}

/// A [`CounterStore`] that cannot fail: what a [`Ledger`](super::Ledger) keeps a subject's
/// counters in. A ledger's counters are derived from its evidence (a store replays its
/// journal into them), so they live in the process: a shared backend counts in
/// [`CounterStore::charge`] instead, beside the ledger.
pub trait LedgerCounters: CounterStore<Error = std::convert::Infallible> {}

impl<C: CounterStore<Error = std::convert::Infallible>> LedgerCounters for C {}

/// The value of a result that cannot be an error.
pub(crate) fn sure<T>(r: Result<T, std::convert::Infallible>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => match e {},
    }
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

    /// Takes back `n` events counted at `at` (as many as there are).
    pub(crate) fn remove(&mut self, at: i64, n: u32) {
        let pos = self.buckets.partition_point(|b| b.0 < at);
        if let Some(b) = self.buckets.get_mut(pos).filter(|b| b.0 == at) {
            b.1 = b.1.saturating_sub(n);
            if b.1 == 0 {
                self.buckets.remove(pos);
            }
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
/// subjects (and named counters) that have counted events. It never fails.
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
    /// Named counters, the answers of messages charged once (time, within), and until
    /// when a counter's refusal is not the first of its window.
    named: Map<Box<str>, Window>,
    seen: Map<Box<[u8]>, (i64, bool)>,
    refused_until: Map<Box<str>, i64>,
    charges: u64,
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
            named: Map::default(),
            seen: Map::default(),
            refused_until: Map::default(),
            charges: 0,
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

/// Whether `n` more fit within every one of `limits` (one more, to check, when `n` is 0),
/// given what each holds (`have` of its key), and which limit has the least room left.
pub(crate) fn room<L: Limit, E>(
    limits: &[L],
    n: u32,
    mut have: impl FnMut(&str) -> Result<u64, E>,
) -> Result<(bool, usize), E> {
    let mut within = true;
    let mut tight = (0, i128::MAX);
    for (i, l) in limits.iter().enumerate() {
        let room = i128::from(l.limit()) - i128::from(have(l.key())?);
        if room < tight.1 {
            tight = (i, room);
        }
        if room < i128::from(n.max(1)) {
            within = false;
        }
    }
    Ok((within, tight.0))
}

impl EmbeddedCounters {
    fn charge_one<L: Limit>(&mut self, t: i64, c: &Charge<'_, L>) -> Charged {
        if let Some(&(_, within)) = c.once.and_then(|k| self.seen.get(k)) {
            return Charged::Seen { within };
        }
        let w = self.windows[Counter::Messages.index()];
        let (within, tight) = sure(room(c.limits, c.n, |key| {
            Ok(self.named.get(key).map_or(0, |x| x.count(t, w)))
        }));
        let answer = if within {
            if c.n > 0 {
                for l in c.limits {
                    match self.named.get_mut(l.key()) {
                        Some(x) => x.add(t, c.n, w),
                        None => {
                            let mut x = Window::default();
                            x.add(t, c.n, w);
                            self.named.insert(l.key().into(), x);
                        }
                    }
                }
            }
            Charged::Within {
                receipt: u64::from(c.n),
            }
        } else {
            let first = match c.limits.get(tight) {
                Some(l) if c.n > 0 => match self.refused_until.get_mut(l.key()) {
                    Some(u) if *u > t => false,
                    Some(u) => {
                        *u = t.saturating_add(w);
                        true
                    }
                    None => {
                        self.refused_until
                            .insert(l.key().into(), t.saturating_add(w));
                        true
                    }
                },
                _ => false,
            };
            Charged::Over { tight, first }
        };
        if c.n > 0 {
            if let Some(k) = c.once {
                self.seen.insert(k.into(), (t, within));
            }
            self.charges += 1;
            if self.charges.is_multiple_of(65_536) {
                self.named.retain(|_, x| x.count(t, w) > 0);
                self.seen.retain(|_, s| t - s.0 < w);
                self.refused_until.retain(|_, u| *u > t);
            }
        }
        answer
    }
}

impl CounterStore for EmbeddedCounters {
    type Error = std::convert::Infallible;

    fn window(&self, counter: Counter) -> Duration {
        Duration::from_secs(self.windows[counter.index()].unsigned_abs())
    }

    fn add(&mut self, key: CounterKey<'_>, at: Timestamp, n: u32) -> Result<u64, Self::Error> {
        let w = self.windows[key.counter.index()];
        let win = self
            .counters
            .entry((key.id.0, key.counter.index() as u8))
            .or_default();
        win.add(at.unix_seconds(), n, w);
        Ok(win.count(at.unix_seconds(), w))
    }

    fn count(&self, key: CounterKey<'_>, now: Timestamp) -> Result<u64, Self::Error> {
        let w = self.windows[key.counter.index()];
        Ok(self
            .counters
            .get(&(key.id.0, key.counter.index() as u8))
            .map_or(0, |win| win.count(now.unix_seconds(), w)))
    }

    fn charge<L: Limit>(
        &mut self,
        at: Timestamp,
        charges: &[Charge<'_, L>],
        out: &mut Vec<Charged>,
    ) -> Result<(), Self::Error> {
        out.clear();
        let t = at.unix_seconds();
        for c in charges {
            let a = self.charge_one(t, c);
            out.push(a);
        }
        Ok(())
    }

    fn undo<L: Limit>(
        &mut self,
        at: Timestamp,
        charge: &Charge<'_, L>,
        receipt: u64,
    ) -> Result<(), Self::Error> {
        let t = at.unix_seconds();
        let n = u32::try_from(receipt).unwrap_or(u32::MAX);
        for l in charge.limits {
            if let Some(x) = self.named.get_mut(l.key()) {
                x.remove(t, n);
            }
        }
        if let Some(s) = charge.once.and_then(|k| self.seen.get_mut(k)) {
            s.1 = false;
        }
        Ok(())
    }

    fn named_count(&self, key: &str, now: Timestamp) -> Result<u64, Self::Error> {
        let w = self.windows[Counter::Messages.index()];
        Ok(self
            .named
            .get(key)
            .map_or(0, |x| x.count(now.unix_seconds(), w)))
    }

    fn forget(&mut self, id: SubjectId, _subject: &Subject) -> Result<(), Self::Error> {
        for c in Counter::ALL {
            self.counters.remove(&(id.0, c.index() as u8));
        }
        Ok(())
    }

    fn heap_bytes(&self) -> usize {
        fn windows<K>(m: &Map<K, Window>) -> usize {
            m.values()
                .map(|w| w.buckets.capacity() * std::mem::size_of::<(i64, u32)>())
                .sum()
        }
        map_bytes(&self.counters)
            + windows(&self.counters)
            + map_bytes(&self.named)
            + windows(&self.named)
            + map_bytes(&self.seen)
            + map_bytes(&self.refused_until)
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

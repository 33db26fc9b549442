//! Rate-limited refusal logging: under a flood the server logs at most N refusals a second
//! and sums up the rest in one line ("suppressed K") when the second is over.

/// How many refusals the server logs: at most `per_second` lines a second, the others
/// summed up in one line a second (`[log] refusals_per_second` in the config).
///
/// # Examples
///
/// ```
/// assert_eq!(rblkit::smtp::RefusalLog::default().per_second, 100);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefusalLog {
    /// The most refusal lines a second (0: none; `u32::MAX`: every refusal).
    pub per_second: u32,
}

impl Default for RefusalLog {
    /// 100 lines a second.
    fn default() -> Self {
        RefusalLog { per_second: 100 }
    }
}

/// A limit of log lines per second, counting what it suppresses. The caller gives the
/// time (milliseconds on any monotonic clock).
///
/// # Examples
///
/// ```
/// use rblkit::smtp::{LogGate, LogLimit};
/// let mut g = LogLimit::new(2);
/// let gate = |log, suppressed_before| LogGate { log, suppressed_before };
/// assert_eq!(g.admit(0), gate(true, 0));
/// assert_eq!(g.admit(10), gate(true, 0));
/// assert_eq!(g.admit(20), gate(false, 0));
/// assert_eq!(g.admit(30), gate(false, 0));
/// // the next second: the two suppressed are summed up first
/// assert_eq!(g.admit(1000), gate(true, 2));
/// assert_eq!(g.admit(1500), gate(true, 0));
/// assert_eq!(g.admit(1600), gate(false, 0));
/// // with nothing more to log, the summary comes when the second is over
/// assert_eq!(g.flush(1900), 0);
/// assert_eq!(g.flush(2100), 1);
/// assert_eq!(g.flush(2200), 0);
/// ```
#[derive(Debug, Clone)]
pub struct LogLimit {
    per_second: u32,
    start: Option<u64>,
    used: u32,
    suppressed: u64,
}

/// What [`LogLimit::admit`] says about one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogGate {
    /// Whether to log it (else it is counted for the next summary).
    pub log: bool,
    /// Lines suppressed in the second before, to sum up in one line first (when not 0).
    pub suppressed_before: u64,
}

impl LogLimit {
    /// At most `per_second` lines a second (0: none, every line is counted for the summary
    /// only); `u32::MAX`: no limit.
    pub fn new(per_second: u32) -> LogLimit {
        LogLimit {
            per_second,
            start: None,
            used: 0,
            suppressed: 0,
        }
    }

    /// The limit.
    pub fn per_second(&self) -> u32 {
        self.per_second
    }

    /// Whether a line at `now_ms` is logged.
    pub fn admit(&mut self, now_ms: u64) -> LogGate {
        let before = self.flush(now_ms);
        if self.start.is_none() {
            self.start = Some(now_ms);
            self.used = 0;
        }
        let log = self.used < self.per_second;
        if log {
            self.used += 1;
        } else {
            self.suppressed += 1;
        }
        LogGate {
            log,
            suppressed_before: before,
        }
    }

    /// Ends the second when it is over: the lines it suppressed (to sum up in one line; 0
    /// when none, or when the second is not over).
    pub fn flush(&mut self, now_ms: u64) -> u64 {
        match self.start {
            Some(s) if now_ms >= s.saturating_add(1000) || now_ms < s => {
                self.start = None;
                self.used = 0;
                std::mem::take(&mut self.suppressed)
            }
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_gives_at_most_the_limit_a_second_plus_one_summary() {
        let mut g = LogLimit::new(5);
        let (mut logged, mut summaries, mut summed) = (0u64, 0u64, 0u64);
        // 100,000 lines over 10 s, one every 0.1 ms
        for i in 0..100_000u64 {
            let gate = g.admit(i / 10);
            logged += u64::from(gate.log);
            if gate.suppressed_before > 0 {
                summaries += 1;
                summed += gate.suppressed_before;
            }
        }
        let last = g.flush(20_000);
        if last > 0 {
            summaries += 1;
            summed += last;
        }
        assert_eq!(logged, 50);
        assert_eq!(summaries, 10);
        assert_eq!(logged + summed, 100_000);
    }

    #[test]
    fn zero_logs_nothing_but_counts_everything() {
        let mut g = LogLimit::new(0);
        let mut summed = 0;
        for t in 0..3000 {
            let gate = g.admit(t);
            assert!(!gate.log);
            summed += gate.suppressed_before;
        }
        // a summary each second, even while the flood goes on
        assert_eq!(summed, 2000);
        assert_eq!(g.flush(5000), 1000);
    }
}

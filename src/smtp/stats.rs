//! The policy server's counters for its metrics endpoint: requests by action and reason,
//! clients dropped by why, connections, decision latency, store commits. Updated with
//! atomics on the hot path; rendered on a scrape.

use super::reply::{Action, RefusalReason};
use crate::metrics::{Counter, Exposition, Gauge, Histogram, REQUEST_LATENCY_US};

/// Why a client was disconnected (the `why` label).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Dropped {
    Idle,
    ReadFailed,
    LineTooLong,
    Protocol,
    ClosedInRequest,
    WriteFailed,
}

impl Dropped {
    const NAMES: [&'static str; 6] = [
        "idle",
        "read_failed",
        "line_too_long",
        "protocol",
        "closed_in_request",
        "write_failed",
    ];
}

/// The `action` labels: `DUNNO`, a 4xx refusal, a 5xx refusal.
const ACTIONS: [&str; 3] = ["dunno", "defer", "reject"];

/// The counters.
#[derive(Debug)]
pub(crate) struct Stats {
    /// By action, then by reason (the last: none).
    requests: [[Counter; RefusalReason::ALL.len() + 1]; 3],
    dropped: [Counter; Dropped::NAMES.len()],
    pub(crate) connections: Counter,
    pub(crate) open: Gauge,
    pub(crate) latency: Histogram,
    pub(crate) commits: Counter,
    pub(crate) commit_failures: Counter,
    /// Requests given the failure answer because Redis failed.
    pub(crate) redis_failures: Counter,
    /// Messages charged in Redis and taken back: the ledger refused them in the
    /// transaction after all.
    pub(crate) redis_undone: Counter,
}

impl Default for Stats {
    fn default() -> Stats {
        Stats {
            requests: Default::default(),
            dropped: Default::default(),
            connections: Counter::new(),
            open: Gauge::new(),
            latency: Histogram::new(&REQUEST_LATENCY_US),
            commits: Counter::new(),
            commit_failures: Counter::new(),
            redis_failures: Counter::new(),
            redis_undone: Counter::new(),
        }
    }
}

impl Stats {
    /// Counts one answer.
    pub(crate) fn request(&self, action: &Action, reason: Option<RefusalReason>) {
        let a = match action.reply() {
            None => 0,
            Some(r) if r.is_temporary() => 1,
            Some(_) => 2,
        };
        let r = reason
            .and_then(|r| RefusalReason::ALL.iter().position(|x| *x == r))
            .unwrap_or(RefusalReason::ALL.len());
        self.requests[a][r].inc();
    }

    /// Counts one dropped client.
    pub(crate) fn dropped(&self, why: Dropped) {
        self.dropped[why as usize].inc();
    }

    /// The text exposition.
    pub(crate) fn render(&self) -> String {
        let mut e = Exposition::new();
        e.family(
            "rblkit_policy_requests_total",
            "Policy requests answered, by action (dunno, defer: 4xx, reject: 5xx) and reason.",
            "counter",
        );
        for (ai, an) in ACTIONS.iter().enumerate() {
            for (ri, c) in self.requests[ai].iter().enumerate() {
                let v = c.get();
                if v > 0 {
                    let rn = RefusalReason::ALL.get(ri).map_or("none", |r| r.key());
                    e.sample(
                        "rblkit_policy_requests_total",
                        &[("action", an), ("reason", rn)],
                        v as f64,
                    );
                }
            }
        }
        e.family(
            "rblkit_policy_clients_dropped_total",
            "Clients disconnected for breaking the protocol or a limit, by why.",
            "counter",
        );
        for (c, n) in self.dropped.iter().zip(Dropped::NAMES) {
            e.sample(
                "rblkit_policy_clients_dropped_total",
                &[("why", n)],
                c.get() as f64,
            );
        }
        e.family(
            "rblkit_policy_connections_total",
            "Connections accepted.",
            "counter",
        );
        e.sample(
            "rblkit_policy_connections_total",
            &[],
            self.connections.get() as f64,
        );
        e.family(
            "rblkit_policy_connections_open",
            "Connections open now.",
            "gauge",
        );
        e.sample(
            "rblkit_policy_connections_open",
            &[],
            self.open.get() as f64,
        );
        e.family(
            "rblkit_policy_commits_total",
            "Store transactions committed (requests that count share one).",
            "counter",
        );
        e.sample(
            "rblkit_policy_commits_total",
            &[],
            self.commits.get() as f64,
        );
        e.family(
            "rblkit_policy_commit_failures_total",
            "Store transactions that failed (their requests answered unavailable).",
            "counter",
        );
        e.sample(
            "rblkit_policy_commit_failures_total",
            &[],
            self.commit_failures.get() as f64,
        );
        e.family(
            "rblkit_policy_redis_failures_total",
            "Requests given the on_failure answer because Redis failed or timed out.",
            "counter",
        );
        e.sample(
            "rblkit_policy_redis_failures_total",
            &[],
            self.redis_failures.get() as f64,
        );
        e.family(
            "rblkit_policy_redis_undone_total",
            "Messages counted in Redis and taken back because the ledger refused them in the same transaction.",
            "counter",
        );
        e.sample(
            "rblkit_policy_redis_undone_total",
            &[],
            self.redis_undone.get() as f64,
        );
        e.histogram(
            "rblkit_policy_decision_seconds",
            "From a whole request read to its answer ready (DNS checks and the commit included).",
            &[],
            &self.latency,
            1e6,
        );
        e.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_action_and_reason() {
        let s = Stats::default();
        s.request(&Action::Dunno, None);
        let r = RefusalReason::RateLimit;
        s.request(&Action::Refuse(r.default_reply()), Some(r));
        let r = RefusalReason::InvalidSender;
        s.request(&Action::Refuse(r.default_reply()), Some(r));
        s.dropped(Dropped::Protocol);
        let t = s.render();
        for want in [
            "rblkit_policy_requests_total{action=\"dunno\",reason=\"none\"} 1\n",
            "rblkit_policy_requests_total{action=\"defer\",reason=\"rate_limit\"} 1\n",
            "rblkit_policy_requests_total{action=\"reject\",reason=\"invalid_sender\"} 1\n",
            "rblkit_policy_clients_dropped_total{why=\"protocol\"} 1\n",
            "rblkit_policy_clients_dropped_total{why=\"idle\"} 0\n",
        ] {
            assert!(t.contains(want), "{want} in {t}");
        }
    }
}

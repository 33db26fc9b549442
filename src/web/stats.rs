//! The web adapter's counters for its metrics endpoint: requests by route pattern and
//! status code, rate-limit refusals by limit, a latency histogram. Updated with atomics in
//! the request middleware; rendered on a scrape.

use super::ROUTES;
use crate::metrics::{Counter, Exposition, Histogram, REQUEST_LATENCY_US};
use std::time::Duration;

/// The `route` labels: [`ROUTES`], then `other` for any other path.
const LABELS: usize = ROUTES.len() + 1;

/// Status codes 100–599, one counter each.
const CODES: usize = 500;

/// The rate limits (the `limit` label).
pub(crate) const LIMITS: [&str; 2] = ["lookups", "posts"];

/// The counters.
#[derive(Debug)]
pub(crate) struct Stats {
    /// By route, then by status code − 100.
    requests: Box<[Counter]>,
    rate_limited: [Counter; LIMITS.len()],
    latency: Histogram,
}

impl Default for Stats {
    fn default() -> Stats {
        Stats {
            requests: (0..LABELS * CODES).map(|_| Counter::new()).collect(),
            rate_limited: Default::default(),
            latency: Histogram::new(&REQUEST_LATENCY_US),
        }
    }
}

impl Stats {
    /// Counts one answered request.
    pub(crate) fn request(&self, path: &str, status: u16, took: Duration) {
        let route = ROUTES
            .iter()
            .position(|r| *r == path)
            .unwrap_or(ROUTES.len());
        let code = usize::from(status.clamp(100, 599)) - 100;
        self.requests[route * CODES + code].inc();
        self.latency.observe(took.as_micros() as u64);
    }

    /// Counts one refusal by the rate limit `LIMITS[limit]`.
    pub(crate) fn rate_limited(&self, limit: usize) {
        self.rate_limited[limit].inc();
    }

    /// The text exposition.
    pub(crate) fn render(&self) -> String {
        let mut e = Exposition::new();
        e.family(
            "rblkit_web_requests_total",
            "HTTP requests answered, by route pattern (other: no route) and status code.",
            "counter",
        );
        for (i, c) in self.requests.iter().enumerate() {
            let v = c.get();
            if v > 0 {
                let code = (i % CODES + 100).to_string();
                e.sample(
                    "rblkit_web_requests_total",
                    &[
                        ("route", ROUTES.get(i / CODES).copied().unwrap_or("other")),
                        ("code", &code),
                    ],
                    v as f64,
                );
            }
        }
        e.family(
            "rblkit_web_rate_limited_total",
            "Requests refused with 429 by a per-client rate limit, by limit.",
            "counter",
        );
        for (c, n) in self.rate_limited.iter().zip(LIMITS) {
            e.sample(
                "rblkit_web_rate_limited_total",
                &[("limit", n)],
                c.get() as f64,
            );
        }
        e.histogram(
            "rblkit_web_request_seconds",
            "From a request's head read to its answer ready.",
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
    fn routes_and_codes_are_labels_and_other_paths_are_other() {
        let s = Stats::default();
        s.request("/api/v1/lookup", 200, Duration::from_micros(10));
        s.request("/api/v1/lookup", 200, Duration::from_micros(10));
        s.request("/no/such/page", 404, Duration::from_micros(10));
        s.request("/lookup", 429, Duration::from_micros(10));
        s.rate_limited(0);
        let t = s.render();
        for want in [
            "rblkit_web_requests_total{route=\"/api/v1/lookup\",code=\"200\"} 2\n",
            "rblkit_web_requests_total{route=\"other\",code=\"404\"} 1\n",
            "rblkit_web_requests_total{route=\"/lookup\",code=\"429\"} 1\n",
            "rblkit_web_rate_limited_total{limit=\"lookups\"} 1\n",
            "rblkit_web_rate_limited_total{limit=\"posts\"} 0\n",
            "rblkit_web_request_seconds_count 4\n",
        ] {
            assert!(t.contains(want), "{want} in {t}");
        }
    }
}

//! Counters for Prometheus: atomic counters, gauges and histograms that the hot paths update
//! without locks or allocation, the text exposition format (version 0.0.4) to render them,
//! and a small HTTP endpoint serving `GET /metrics`.
//!
//! The registry is the program's own: each server keeps its counters in its own structures
//! (fixed label sets are arrays of counters, indexed), and renders them in its scrape
//! function with an [`Exposition`].
//!
//! # Examples
//!
//! ```
//! use rblkit::metrics::{Counter, Exposition, Histogram};
//! let queries = Counter::new();
//! queries.inc();
//! let latency = Histogram::new(&[10, 100, 1000]); // microseconds
//! latency.observe(42);
//! let mut e = Exposition::new();
//! e.family("app_queries_total", "Queries answered.", "counter");
//! e.sample("app_queries_total", &[("zone", "bl.example")], queries.get() as f64);
//! e.histogram("app_latency_seconds", "Answer latency.", &[], &latency, 1e6);
//! let text = e.finish();
//! assert!(text.contains("app_queries_total{zone=\"bl.example\"} 1\n"));
//! assert!(text.contains("app_latency_seconds_bucket{le=\"0.0001\"} 1\n"));
//! assert!(text.contains("app_latency_seconds_count 1\n"));
//! ```

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Upper bounds for a histogram of request latency in microseconds, 50 µs to 1 s: the
/// policy server's decisions and the web site's answers.
///
/// # Examples
///
/// ```
/// let h = rblkit::metrics::Histogram::new(&rblkit::metrics::REQUEST_LATENCY_US);
/// h.observe(120);
/// assert_eq!(h.quantile(0.5), Some(250));
/// ```
pub const REQUEST_LATENCY_US: [u64; 14] = [
    50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000,
];

/// A monotonic counter.
///
/// # Examples
///
/// See the [module documentation](self).
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// A counter at 0.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub const fn new() -> Counter {
        Counter(AtomicU64::new(0))
    }
    /// Adds one.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    #[inline]
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    /// Adds `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = rblkit::metrics::Counter::new();
    /// c.add(3);
    /// assert_eq!(c.get(), 3);
    /// ```
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// The count.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
///
/// # Examples
///
/// ```
/// let g = rblkit::metrics::Gauge::new();
/// g.set(5);
/// g.add(-2);
/// assert_eq!(g.get(), 3);
/// ```
#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    /// A gauge at 0.
    ///
    /// # Examples
    ///
    /// See [`Gauge`].
    pub const fn new() -> Gauge {
        Gauge(AtomicI64::new(0))
    }
    /// Sets it.
    ///
    /// # Examples
    ///
    /// See [`Gauge`].
    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }
    /// Adds `d` (negative: subtracts).
    ///
    /// # Examples
    ///
    /// See [`Gauge`].
    pub fn add(&self, d: i64) {
        self.0.fetch_add(d, Ordering::Relaxed);
    }
    /// The value.
    ///
    /// # Examples
    ///
    /// See [`Gauge`].
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A histogram over integer observations (say microseconds) with fixed upper bounds.
///
/// # Examples
///
/// See the [module documentation](self).
#[derive(Debug)]
pub struct Histogram {
    bounds: Box<[u64]>,
    /// One per bound, and the last for `+Inf`; not cumulative.
    buckets: Box<[AtomicU64]>,
    sum: AtomicU64,
}

impl Histogram {
    /// A histogram with these upper bounds (ascending).
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn new(bounds: &[u64]) -> Histogram {
        let mut b = bounds.to_vec();
        b.sort_unstable();
        b.dedup();
        Histogram {
            buckets: (0..=b.len()).map(|_| AtomicU64::new(0)).collect(),
            bounds: b.into(),
            sum: AtomicU64::new(0),
        }
    }
    /// Counts one observation.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    #[inline]
    pub fn observe(&self, v: u64) {
        let i = self.bounds.partition_point(|&b| b < v);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(v, Ordering::Relaxed);
    }
    /// Observations counted.
    ///
    /// # Examples
    ///
    /// ```
    /// let h = rblkit::metrics::Histogram::new(&[1, 2]);
    /// h.observe(5);
    /// assert_eq!(h.count(), 1);
    /// ```
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }
    /// The value at or below which a fraction `q` of the observations lie, as the upper
    /// bound of its bucket (`None`: no observations, or past the last bound).
    ///
    /// # Examples
    ///
    /// ```
    /// let h = rblkit::metrics::Histogram::new(&[10, 100]);
    /// for v in [1, 2, 3, 50] { h.observe(v); }
    /// assert_eq!(h.quantile(0.5), Some(10));
    /// assert_eq!(h.quantile(0.99), Some(100));
    /// ```
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let want = ((n as f64) * q).ceil().max(1.0) as u64;
        let mut acc = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            acc += b.load(Ordering::Relaxed);
            if acc >= want {
                return self.bounds.get(i).copied();
            }
        }
        None
    }
}

/// Writes the Prometheus text format.
///
/// # Examples
///
/// See the [module documentation](self).
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

/// A label value escaped for the text format.
fn escape(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

impl Exposition {
    /// An empty exposition.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn new() -> Exposition {
        Exposition::default()
    }

    /// Starts a metric family: its `# HELP` and `# TYPE` lines (`counter`, `gauge`,
    /// `histogram`).
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn family(&mut self, name: &str, help: &str, kind: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    /// One sample.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        self.labels(labels, None);
        let _ = writeln!(self.out, " {value}");
    }

    fn labels(&mut self, labels: &[(&str, &str)], le: Option<&str>) {
        if labels.is_empty() && le.is_none() {
            return;
        }
        self.out.push('{');
        let mut first = true;
        for (k, v) in labels.iter().copied().chain(le.map(|l| ("le", l))) {
            if !first {
                self.out.push(',');
            }
            first = false;
            self.out.push_str(k);
            self.out.push_str("=\"");
            escape(v, &mut self.out);
            self.out.push('"');
        }
        self.out.push('}');
    }

    /// A whole histogram family (one label set), its bounds and sum divided by `per_unit`
    /// (1e6 for microseconds as seconds).
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn histogram(
        &mut self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        h: &Histogram,
        per_unit: f64,
    ) {
        self.family(name, help, "histogram");
        let mut acc = 0u64;
        let bucket = format!("{name}_bucket");
        for (i, b) in h.buckets.iter().enumerate() {
            acc += b.load(Ordering::Relaxed);
            let le = match h.bounds.get(i) {
                Some(&x) => format!("{}", x as f64 / per_unit),
                None => "+Inf".to_owned(),
            };
            self.out.push_str(&bucket);
            self.labels(labels, Some(&le));
            let _ = writeln!(self.out, " {acc}");
        }
        self.sample(
            &format!("{name}_sum"),
            labels,
            h.sum.load(Ordering::Relaxed) as f64 / per_unit,
        );
        self.sample(&format!("{name}_count"), labels, acc as f64);
    }

    /// The text.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn finish(self) -> String {
        self.out
    }
}

/// A running `GET /metrics` endpoint. Dropping it stops it.
///
/// # Examples
///
/// ```
/// use rblkit::metrics::Endpoint;
/// let e = Endpoint::start("127.0.0.1:0".parse().unwrap(), || "up 1\n".to_owned())?;
/// let mut s = std::net::TcpStream::connect(e.local_addr())?;
/// use std::io::{Read, Write};
/// s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n")?;
/// let mut r = String::new();
/// s.read_to_string(&mut r)?;
/// assert!(r.starts_with("HTTP/1.0 200 OK\r\n") && r.ends_with("up 1\n"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Endpoint {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Endpoint {
    /// Listens on `addr` and answers `GET /metrics` with what `render` returns (404 for
    /// other paths), one request per connection, one connection at a time.
    ///
    /// # Errors
    ///
    /// The address cannot be bound.
    ///
    /// # Examples
    ///
    /// See [`Endpoint`].
    pub fn start(
        addr: SocketAddr,
        render: impl Fn() -> String + Send + 'static,
    ) -> std::io::Result<Endpoint> {
        let l = TcpListener::bind(addr)?;
        let addr = l.local_addr()?;
        l.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let thread = std::thread::Builder::new()
            .name("rblkit-metrics".into())
            .spawn(move || {
                while !st.load(Ordering::Relaxed) {
                    match l.accept() {
                        Ok((s, _)) => answer(s, &render),
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            })?;
        Ok(Endpoint {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The address listened on.
    ///
    /// # Examples
    ///
    /// See [`Endpoint`].
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One HTTP request: the request head (at most 8 KiB, 2 s), then the answer.
fn answer(mut s: std::net::TcpStream, render: &dyn Fn() -> String) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 8192];
    let mut n = 0;
    while n < buf.len() {
        match s.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
        if buf[..n].windows(4).any(|w| w == b"\r\n\r\n")
            || buf[..n].windows(2).any(|w| w == b"\n\n")
        {
            break;
        }
    }
    let head = String::from_utf8_lossy(&buf[..n]);
    let mut words = head.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, body) = if method == "GET" && (path == "/metrics" || path == "/") {
        ("200 OK", render())
    } else {
        ("404 Not Found", "not found\n".to_owned())
    };
    let _ = write!(
        s,
        "HTTP/1.0 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_label_values() {
        let mut e = Exposition::new();
        e.sample("m", &[("k", "a\"b\\c\nd")], 1.0);
        assert_eq!(e.finish(), "m{k=\"a\\\"b\\\\c\\nd\"} 1\n");
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::new(&[1, 10]);
        for v in [0, 1, 2, 10, 11] {
            h.observe(v);
        }
        let mut e = Exposition::new();
        e.histogram("h", "x", &[("a", "b")], &h, 1.0);
        let t = e.finish();
        assert!(t.contains("h_bucket{a=\"b\",le=\"1\"} 2\n"), "{t}");
        assert!(t.contains("h_bucket{a=\"b\",le=\"10\"} 4\n"), "{t}");
        assert!(t.contains("h_bucket{a=\"b\",le=\"+Inf\"} 5\n"), "{t}");
        assert!(t.contains("h_sum{a=\"b\"} 24\n"), "{t}");
    }
}

//! What the server does around each answer: the query quota before it, response-rate
//! limiting after it, and the counters of the metrics endpoint.

use super::access::{Client, KeyUse, Verdict};
use super::answer::{respond_inner, Outcome, Scratch, Transport};
use super::catalog::Catalog;
use super::net::{Event, EventFn};
use super::request::Request;
use super::rrl::{Decision, Quota, RateLimit, ResponseClass};
use super::xfr::qname_text;
use crate::metrics::{Counter, Exposition, Histogram};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// The query types counted apart.
const QTYPES: [(u16, &str); 7] = [
    (1, "A"),
    (16, "TXT"),
    (255, "ANY"),
    (6, "SOA"),
    (2, "NS"),
    (28, "AAAA"),
    (0, "other"),
];
/// The rcodes counted apart.
const RCODES: [(u8, &str); 7] = [
    (0, "NOERROR"),
    (1, "FORMERR"),
    (2, "SERVFAIL"),
    (3, "NXDOMAIN"),
    (4, "NOTIMP"),
    (5, "REFUSED"),
    (255, "other"),
];

fn qtype_index(t: u16) -> usize {
    QTYPES
        .iter()
        .position(|&(x, _)| x == t)
        .unwrap_or(QTYPES.len() - 1)
}

fn rcode_index(r: u8) -> usize {
    RCODES
        .iter()
        .position(|&(x, _)| x == r)
        .unwrap_or(RCODES.len() - 1)
}

/// A zone's counters; they live as long as the zone is served, across reloads.
#[derive(Debug, Default)]
pub(crate) struct ZoneCounters {
    queries: [[Counter; RCODES.len()]; QTYPES.len()],
    listed: Counter,
    not_listed: Counter,
    verdicts: [Counter; Verdict::ALL.len()],
    unknown_key: Counter,
}

/// Upper bounds of the answer latency histogram, microseconds.
const LATENCY_US: [u64; 14] = [
    2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 50_000, 100_000,
];

/// One zone's last load.
#[derive(Debug, Clone)]
struct Load {
    zone: Box<str>,
    entries: u64,
    took: Duration,
    at: SystemTime,
}

/// The server-wide counters.
#[derive(Debug)]
pub(crate) struct Stats {
    /// Queries answered outside every zone (or before one was found), by rcode.
    no_zone: [Counter; RCODES.len()],
    /// Queries that got no answer at all (not a query, an ignore verdict).
    unanswered: Counter,
    rrl: [Counter; 3],
    over_quota: Counter,
    pub(crate) tcp_accepted: Counter,
    pub(crate) tcp_refused: Counter,
    latency: Histogram,
    loads: Mutex<Vec<Load>>,
    reloads: Counter,
    load_failures: Counter,
}

impl Default for Stats {
    fn default() -> Stats {
        Stats {
            no_zone: Default::default(),
            unanswered: Counter::new(),
            rrl: Default::default(),
            over_quota: Counter::new(),
            tcp_accepted: Counter::new(),
            tcp_refused: Counter::new(),
            latency: Histogram::new(&LATENCY_US),
            loads: Mutex::new(Vec::new()),
            reloads: Counter::new(),
            load_failures: Counter::new(),
        }
    }
}

impl Stats {
    /// Notes a zone (re)load.
    pub(crate) fn loaded(&self, zone: &str, entries: u64, took: Duration) {
        self.reloads.inc();
        let mut g = self.loads.lock().unwrap_or_else(|p| p.into_inner());
        let l = Load {
            zone: zone.into(),
            entries,
            took,
            at: SystemTime::now(),
        };
        match g.iter_mut().find(|x| x.zone == l.zone) {
            Some(x) => *x = l,
            None => g.push(l),
        }
    }

    /// Notes a reload that failed (the old data stays).
    pub(crate) fn load_failed(&self) {
        self.load_failures.inc();
    }
}

impl Limits {
    /// Counts what the loader reports.
    pub(crate) fn note(&self, e: &super::Event) {
        let Some(s) = &self.stats else {
            return;
        };
        match e {
            super::Event::Loaded {
                zone,
                entries,
                took,
                ..
            } => s.loaded(zone.as_str(), *entries, *took),
            super::Event::LoadFailed { .. } => s.load_failed(),
            _ => {}
        }
    }
}

/// Per-query limits and counters: the query quota, response-rate limiting, and (when the
/// server has a metrics endpoint) the counters.
///
/// # Examples
///
/// ```
/// use rblkit::dns::server::{Catalog, Limits, RateLimit, Scratch};
/// let catalog = Catalog::builder().build()?;
/// let limits = Limits::new(Some(RateLimit::builder().rate(1).window(1).slip(0).build()?), None);
/// let mut q = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
/// q.extend_from_slice(b"\x02bl\x07example\x00\x00\x01\x00\x01");
/// let mut out = [0u8; 512];
/// let from = "192.0.2.1".parse().unwrap();
/// assert!(limits.answer_udp(&catalog, &q, from, 0, &mut Scratch::new(), &mut out) > 0);
/// assert_eq!(limits.answer_udp(&catalog, &q, from, 0, &mut Scratch::new(), &mut out), 0); // over the rate
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct Limits {
    rrl: Option<RateLimit>,
    quota: Option<Quota>,
    pub(crate) stats: Option<Stats>,
    query_log: Option<QueryLog>,
}

/// The sampled query log: every `every`th query is reported as an [`Event::Query`].
pub(crate) struct QueryLog {
    every: u64,
    seen: AtomicU64,
    to: EventFn,
}

impl std::fmt::Debug for QueryLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryLog")
            .field("every", &self.every)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

impl QueryLog {
    /// Reports every `every`th query (`every` > 0) to `to`.
    pub(crate) fn new(every: u64, to: EventFn) -> QueryLog {
        QueryLog {
            every: every.max(1),
            seen: AtomicU64::new(0),
            to,
        }
    }

    /// Counts one query; whether it is one to report.
    #[inline]
    fn due(&self) -> bool {
        (self.seen.fetch_add(1, Ordering::Relaxed) + 1).is_multiple_of(self.every)
    }

    /// Reports the query (only called for sampled queries: this allocates).
    fn report(
        &self,
        catalog: &Catalog,
        query: &[u8],
        transport: Transport,
        peer: IpAddr,
        oc: &Outcome,
        bytes: usize,
    ) {
        let req = Request::parse(query).ok();
        let (qname, qtype) = match &req {
            Some(r) => (qname_text(r.qname()), r.qtype()),
            None => (Box::from(""), oc.qtype),
        };
        (self.to)(&Event::Query {
            peer,
            transport,
            zone: oc
                .zone
                .and_then(|i| catalog.zones.get(i))
                .map(|z| z.name.clone()),
            qname,
            qtype,
            rcode: oc.rcode,
            listed: oc.listed,
            bytes,
        });
    }
}

impl Limits {
    /// Limits with this rate limiter and quota (either may be `None`), without counters.
    ///
    /// # Examples
    ///
    /// See [`Limits`].
    pub fn new(rrl: Option<RateLimit>, quota: Option<Quota>) -> Limits {
        Limits {
            rrl,
            quota,
            stats: None,
            query_log: None,
        }
    }

    pub(crate) fn with_query_log(mut self, q: QueryLog) -> Limits {
        self.query_log = Some(q);
        self
    }

    pub(crate) fn with_stats(mut self) -> Limits {
        self.stats = Some(Stats::default());
        self
    }

    /// Whether anything needs the clock.
    pub(crate) fn timed(&self) -> bool {
        self.rrl.is_some() || self.quota.is_some() || self.stats.is_some()
    }

    /// Answers one UDP query from `peer` at `now` (milliseconds of a monotonic clock):
    /// counts it against the quota, answers it, and passes the answer through the rate
    /// limiter; the length to send (0: nothing).
    ///
    /// # Examples
    ///
    /// See [`Limits`].
    pub fn answer_udp(
        &self,
        catalog: &Catalog,
        query: &[u8],
        peer: IpAddr,
        now: u64,
        scratch: &mut Scratch,
        out: &mut [u8],
    ) -> usize {
        self.answer(catalog, query, Transport::Udp, peer, now, scratch, out)
    }

    /// [`Limits::answer_udp`] for any transport (TCP answers are never rate limited).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn answer(
        &self,
        catalog: &Catalog,
        query: &[u8],
        transport: Transport,
        peer: IpAddr,
        now: u64,
        scratch: &mut Scratch,
        out: &mut [u8],
    ) -> usize {
        let t0 = self.stats.as_ref().map(|_| std::time::Instant::now());
        let over = self.quota.as_ref().filter(|q| q.count(peer, now));
        let client = Client {
            addr: Some(peer),
            forced: over.map(|q| q.answer()),
        };
        let oc = respond_inner(catalog, query, transport, &client, scratch, out);
        let mut len = oc.len;
        let mut decision = None;
        if let (Some(r), true, Transport::Udp) = (&self.rrl, len > 0, transport) {
            let d = self.limit(r, catalog, &oc, peer, now, out);
            if d == Decision::Drop {
                len = 0;
            } else if d == Decision::Slip {
                out[2] |= 0x02;
                out[6..12].fill(0);
                len = oc.qend;
            }
            decision = Some(d);
        }
        if let Some(s) = &self.stats {
            count(s, catalog, &oc, decision, over.is_some());
            if let Some(t0) = t0 {
                s.latency.observe(t0.elapsed().as_micros() as u64);
            }
        }
        if let Some(q) = &self.query_log {
            if q.due() {
                q.report(catalog, query, transport, peer, &oc, len);
            }
        }
        len
    }

    fn limit(
        &self,
        r: &RateLimit,
        catalog: &Catalog,
        oc: &Outcome,
        peer: IpAddr,
        now: u64,
        out: &[u8],
    ) -> Decision {
        let ancount = u16::from_be_bytes([out[6], out[7]]);
        let zone = oc.zone.and_then(|i| catalog.zones.get(i));
        let (class, name): (ResponseClass, &[u8]) = match (oc.rcode, zone) {
            (0, _) if ancount > 0 && oc.qend > 16 => (
                ResponseClass::Positive { qtype: oc.qtype },
                &out[12..oc.qend - 4],
            ),
            (0 | 3, Some(z)) => (ResponseClass::Negative, &z.wire),
            (rcode, _) => (ResponseClass::Error { rcode }, &[]),
        };
        r.check(peer, class, name, now)
    }
}

fn count(s: &Stats, catalog: &Catalog, oc: &Outcome, decision: Option<Decision>, over: bool) {
    if over {
        s.over_quota.inc();
    }
    match decision {
        Some(Decision::Send) => s.rrl[0].inc(),
        Some(Decision::Slip) => s.rrl[1].inc(),
        Some(Decision::Drop) => s.rrl[2].inc(),
        _ => {}
    }
    let zone = oc.zone.and_then(|i| catalog.zones.get(i));
    let Some(z) = zone else {
        if oc.len == 0 {
            s.unanswered.inc();
        } else {
            s.no_zone[rcode_index(oc.rcode)].inc();
        }
        return;
    };
    let c = &z.counters;
    if let Some(i) = Verdict::ALL.iter().position(|&v| v == oc.verdict) {
        c.verdicts[i].inc();
    }
    if oc.key == KeyUse::Unknown {
        c.unknown_key.inc();
    }
    if oc.len == 0 {
        s.unanswered.inc();
        return;
    }
    c.queries[qtype_index(oc.qtype)][rcode_index(oc.rcode)].inc();
    if oc.listed {
        c.listed.inc();
    } else if oc.lookup && (oc.rcode == 3 || oc.rcode == 0) {
        c.not_listed.inc();
    }
}

/// One metric family and its samples.
fn series(
    e: &mut Exposition,
    name: &str,
    help: &str,
    kind: &str,
    samples: &[(&[(&str, &str)], f64)],
) {
    e.family(name, help, kind);
    for (labels, v) in samples {
        e.sample(name, labels, *v);
    }
}

/// The Prometheus text of the server's counters.
pub(crate) fn render(catalog: &Catalog, l: &Limits, tcp_open: usize) -> String {
    let mut e = Exposition::new();
    let Some(s) = &l.stats else {
        return String::new();
    };
    e.family(
        "rblkit_dns_queries_total",
        "Queries answered, by zone, query type and rcode (zone \"\": outside every zone).",
        "counter",
    );
    for z in &catalog.zones {
        let zn = z.name.as_str();
        for (ti, (_, tn)) in QTYPES.iter().enumerate() {
            for (ri, (_, rn)) in RCODES.iter().enumerate() {
                let v = z.counters.queries[ti][ri].get();
                if v > 0 {
                    e.sample(
                        "rblkit_dns_queries_total",
                        &[("zone", zn), ("qtype", tn), ("rcode", rn)],
                        v as f64,
                    );
                }
            }
        }
    }
    for (ri, (_, rn)) in RCODES.iter().enumerate() {
        let v = s.no_zone[ri].get();
        if v > 0 {
            e.sample(
                "rblkit_dns_queries_total",
                &[("zone", ""), ("qtype", "any"), ("rcode", rn)],
                v as f64,
            );
        }
    }
    e.family(
        "rblkit_dns_lookups_total",
        "Queries for names under a zone, listed (records from the data) or not.",
        "counter",
    );
    for z in &catalog.zones {
        let zn = z.name.as_str();
        e.sample(
            "rblkit_dns_lookups_total",
            &[("zone", zn), ("result", "listed")],
            z.counters.listed.get() as f64,
        );
        e.sample(
            "rblkit_dns_lookups_total",
            &[("zone", zn), ("result", "not_listed")],
            z.counters.not_listed.get() as f64,
        );
    }
    e.family(
        "rblkit_dns_acl_total",
        "Queries by the verdict of the zone's acl and aclkey datasets (and the quota).",
        "counter",
    );
    for z in &catalog.zones {
        let zn = z.name.as_str();
        for (i, v) in Verdict::ALL.iter().enumerate() {
            e.sample(
                "rblkit_dns_acl_total",
                &[("zone", zn), ("action", v.name())],
                z.counters.verdicts[i].get() as f64,
            );
        }
    }
    e.family(
        "rblkit_dns_key_queries_total",
        "Queries by key of the zone's aclkey dataset (key \"\": missing or unknown).",
        "counter",
    );
    for z in &catalog.zones {
        let zn = z.name.as_str();
        if let Some((keys, _)) = z.keys() {
            for (i, n) in z.key_counts.iter().enumerate() {
                e.sample(
                    "rblkit_dns_key_queries_total",
                    &[("zone", zn), ("key", keys.name(i))],
                    n.load(Ordering::Relaxed) as f64,
                );
            }
            e.sample(
                "rblkit_dns_key_queries_total",
                &[("zone", zn), ("key", "")],
                z.counters.unknown_key.get() as f64,
            );
        }
    }
    let g = |c: &Counter| c.get() as f64;
    series(
        &mut e,
        "rblkit_dns_unanswered_total",
        "Packets that got no answer (not a query, or ignored).",
        "counter",
        &[(&[], g(&s.unanswered))],
    );
    series(
        &mut e,
        "rblkit_dns_rrl_responses_total",
        "UDP responses through the rate limiter: sent, slipped (sent truncated), dropped.",
        "counter",
        &[
            (&[("decision", "sent")], g(&s.rrl[0])),
            (&[("decision", "slipped")], g(&s.rrl[1])),
            (&[("decision", "dropped")], g(&s.rrl[2])),
        ],
    );
    series(
        &mut e,
        "rblkit_dns_over_quota_total",
        "Queries from clients over their query quota.",
        "counter",
        &[(&[], g(&s.over_quota))],
    );
    series(
        &mut e,
        "rblkit_dns_tcp_connections_total",
        "TCP connections accepted, and refused over the limit.",
        "counter",
        &[
            (&[("result", "accepted")], g(&s.tcp_accepted)),
            (&[("result", "refused")], g(&s.tcp_refused)),
        ],
    );
    series(
        &mut e,
        "rblkit_dns_tcp_connections_open",
        "TCP connections open now.",
        "gauge",
        &[(&[], tcp_open as f64)],
    );
    e.histogram(
        "rblkit_dns_answer_seconds",
        "Time to build an answer, from the received query to the answer to send.",
        &[],
        &s.latency,
        1e6,
    );
    let loads = s.loads.lock().unwrap_or_else(|p| p.into_inner()).clone();
    e.family(
        "rblkit_dns_zone_serial",
        "The SOA serial a zone is served with.",
        "gauge",
    );
    for z in &catalog.zones {
        e.sample(
            "rblkit_dns_zone_serial",
            &[("zone", z.name.as_str())],
            f64::from(z.serial),
        );
    }
    e.family(
        "rblkit_dns_zone_entries",
        "Entry lines of a zone's datasets at its last load.",
        "gauge",
    );
    for l in &loads {
        e.sample(
            "rblkit_dns_zone_entries",
            &[("zone", &l.zone)],
            l.entries as f64,
        );
    }
    e.family(
        "rblkit_dns_zone_load_seconds",
        "How long a zone's last load took.",
        "gauge",
    );
    for l in &loads {
        e.sample(
            "rblkit_dns_zone_load_seconds",
            &[("zone", &l.zone)],
            l.took.as_secs_f64(),
        );
    }
    e.family(
        "rblkit_dns_zone_loaded_timestamp_seconds",
        "When a zone was last loaded (Unix time).",
        "gauge",
    );
    for l in &loads {
        let t =
            l.at.duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
        e.sample(
            "rblkit_dns_zone_loaded_timestamp_seconds",
            &[("zone", &l.zone)],
            t,
        );
    }
    series(
        &mut e,
        "rblkit_dns_loads_total",
        "Zone loads (the first and every reload), and reloads that failed (the old data kept).",
        "counter",
        &[
            (&[("result", "ok")], g(&s.reloads)),
            (&[("result", "failed")], g(&s.load_failures)),
        ],
    );
    if let Some(r) = &l.rrl {
        series(
            &mut e,
            "rblkit_dns_rrl_table_entries",
            "Clients in the rate limiter's table (its capacity is fixed).",
            "gauge",
            &[
                (&[("kind", "used")], r.used() as f64),
                (&[("kind", "capacity")], r.capacity() as f64),
            ],
        );
    }
    e.finish()
}

/// rbldnsd-style statistics, one line per zone (for SIGUSR1): queries, answered with data,
/// not listed, refused, dropped by acl.
pub(crate) fn zone_stats(catalog: &Catalog) -> Vec<String> {
    catalog
        .zones
        .iter()
        .map(|z| {
            let c = &z.counters;
            let all: u64 = c.queries.iter().flatten().map(Counter::get).sum();
            let refused: u64 = c.queries.iter().map(|r| r[rcode_index(5)].get()).sum();
            let ignored = c.verdicts[1].get();
            format!(
                "{}: queries {all} listed {} not_listed {} refused {refused} ignored {ignored}",
                z.name,
                c.listed.get(),
                c.not_listed.get()
            )
        })
        .collect()
}

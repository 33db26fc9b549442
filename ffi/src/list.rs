//! Lists: loaded from an rbldnsd dataset, built entry by entry, or compiled from a ledger;
//! lookups into a reusable answer.

use crate::boundary::rblkit_result::{self, *};
use crate::boundary::{
    arg, arg_text, call, call_value, clear_out, free_handle, out, out_handle, out_text, Failure,
};
use rblkit::codes::ReturnCode;
use rblkit::list::DomainPattern;
use rblkit::subject::{Domain, EmailAddr};
use rblkit::zone::{Answer, DatasetKind, DatasetSpec, HostBits, LoadOptions, Strictness, Zone};
use rblkit::{List, ListBuilder, Listing, Subject, Timestamp};
use std::ffi::c_char;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Load flag: fail on the first bad line instead of skipping it with a warning.
pub const RBLKIT_LOAD_STRICT: u32 = 1;
/// Load flag: accept CIDR networks with host bits set, clearing them (rbldnsd's `-e`).
pub const RBLKIT_LOAD_CLEAR_HOST_BITS: u32 = 2;

/// rbldnsd cuts an expanded TXT to 254 bytes; a loaded dataset answers as rbldnsd does.
const ZONE_TXT_MAX: usize = 254;

/// An immutable list: a loaded rbldnsd dataset, a built list, or a list compiled from a
/// ledger.
///
/// Thread safety: immutable. Any number of threads may look things up in one
/// list at the same time (each with its own `rblkit_answer`); free it once no lookup runs.
pub struct rblkit_list {
    source: Source,
}

enum Source {
    /// Built or compiled: `$` in a TXT is the subject (a domain: the listed name that matched).
    Compiled(Box<List>),
    /// One dataset under its zone, answering as rbldnsd does.
    Zone { zone: Zone, fast: Fast },
}

/// Where a loaded dataset's answer can come straight from its list (as `Zone::query` would
/// give it), without building a query name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fast {
    Ip4,
    DnSet,
    No,
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<rblkit_list>();
};

/// The result of a lookup: listed or not, the return codes, the TXT texts rendered for the
/// subject, and since/expires where the list knows them. Reused from lookup to lookup (it
/// keeps its memory, so that lookups do not allocate once it has grown).
///
/// Thread safety: one thread at a time (it is written by each lookup); give each thread its
/// own answer.
pub struct rblkit_answer {
    listed: bool,
    codes: Vec<ReturnCode>,
    txt: String,
    ends: Vec<usize>,
    since: Option<Timestamp>,
    expires: Option<Timestamp>,
    /// scratch: the subject as text (the `$` of a TXT)
    subject: String,
    /// scratch: one rendered TXT
    render: String,
}

impl rblkit_answer {
    fn new() -> rblkit_answer {
        rblkit_answer {
            listed: false,
            codes: Vec::new(),
            txt: String::new(),
            ends: Vec::new(),
            since: None,
            expires: None,
            subject: String::new(),
            render: String::new(),
        }
    }

    fn clear(&mut self) {
        self.listed = false;
        self.codes.clear();
        self.txt.clear();
        self.ends.clear();
        self.since = None;
        self.expires = None;
    }

    fn push_code(&mut self, c: ReturnCode) {
        if !self.codes.contains(&c) {
            self.codes.push(c);
        }
    }

    fn txt_at(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.txt[start..end])
    }

    /// Appends a TXT text (cut to `max` bytes at a character boundary), unless empty or
    /// already there.
    fn push_txt(&mut self, t: &str, max: usize) {
        let mut end = t.len().min(max);
        while !t.is_char_boundary(end) {
            end -= 1;
        }
        let t = &t[..end];
        if t.is_empty() || (0..self.ends.len()).any(|i| self.txt_at(i) == Some(t)) {
            return;
        }
        self.txt.push_str(t);
        self.ends.push(self.txt.len());
    }

    /// Fills in a listing, its TXT rendered with `self.subject` as `$`.
    fn fill(&mut self, l: &Listing, max_txt: usize) {
        self.listed = true;
        for &c in l.codes() {
            self.push_code(c);
        }
        let mut render = std::mem::take(&mut self.render);
        for i in 0..l.txt().len() {
            render.clear();
            l.render_txt_into(i, &self.subject, &mut render);
            self.push_txt(&render, max_txt);
        }
        self.render = render;
        self.since = l.since();
        self.expires = l.expires();
    }

    fn fill_answer(&mut self, a: &Answer) {
        self.listed = true;
        for &c in &a.codes {
            self.push_code(c);
        }
        for t in &a.txt {
            self.push_txt(t, usize::MAX);
        }
    }

    fn set_subject(&mut self, s: impl std::fmt::Display) {
        self.subject.clear();
        let _ = write!(self.subject, "{s}");
    }
}

impl rblkit_list {
    pub(crate) fn compiled(list: List) -> rblkit_list {
        rblkit_list {
            source: Source::Compiled(Box::new(list)),
        }
    }

    fn lookup_ip(&self, ip: IpAddr, a: &mut rblkit_answer) {
        a.clear();
        match &self.source {
            Source::Compiled(list) => {
                if let Some(l) = list.lookup_ip(ip) {
                    a.set_subject(ip);
                    a.fill(l, usize::MAX);
                }
            }
            Source::Zone { zone, fast } => match (ip, fast) {
                (IpAddr::V4(v4), Fast::Ip4) => {
                    if let Some(l) = zone.datasets()[0].list().lookup_ipv4(v4) {
                        a.set_subject(v4);
                        a.fill(l, ZONE_TXT_MAX);
                    }
                }
                _ => query_zone(zone, &Subject::Ip(ip), a),
            },
        }
    }

    /// `name` is a normalised domain (lowercase A-labels, no trailing dot).
    fn lookup_domain(&self, name: &str, a: &mut rblkit_answer) -> Result<(), Failure> {
        a.clear();
        match &self.source {
            Source::Compiled(list) => {
                if let Some(m) = list.lookup_domain_match(name) {
                    a.set_subject(m.name);
                    a.fill(m.listing, usize::MAX);
                }
            }
            Source::Zone {
                zone,
                fast: Fast::DnSet,
            } => {
                if let Some(m) = zone.datasets()[0].list().lookup_domain_match(name) {
                    a.set_subject(m.name);
                    a.fill(m.listing, ZONE_TXT_MAX);
                }
            }
            Source::Zone { zone, .. } => query_zone(zone, &Subject::Domain(Domain::new(name)?), a),
        }
        Ok(())
    }

    fn lookup_email(&self, e: &EmailAddr, a: &mut rblkit_answer) {
        a.clear();
        // rbldnsd datasets hold no email addresses: a loaded dataset never lists one
        if let Source::Compiled(list) = &self.source {
            a.set_subject(e);
            if let Some(l) = list.lookup_email(&a.subject) {
                a.fill(l, usize::MAX);
            }
        }
    }

    fn lookup_subject(&self, s: &Subject, a: &mut rblkit_answer) -> Result<(), Failure> {
        match s {
            Subject::Ip(ip) => self.lookup_ip(*ip, a),
            Subject::Domain(d) => self.lookup_domain(d.as_str(), a)?,
            Subject::Email(e) => self.lookup_email(e, a),
            other => {
                a.clear();
                // a network: listed when one listing covers all of it; DNS cannot ask it
                if let Source::Compiled(list) = &self.source {
                    if let Some(l) = list.lookup(other) {
                        a.set_subject(other);
                        a.fill(l, usize::MAX);
                    }
                }
            }
        }
        Ok(())
    }
}

/// The answer as a DNS query of the zone would give it (`a` already cleared).
fn query_zone(zone: &Zone, s: &Subject, a: &mut rblkit_answer) {
    if let Some(ans) = zone.query_name(s).and_then(|q| zone.query(&q)) {
        a.fill_answer(&ans);
    }
}

/// Loads one rbldnsd dataset, `ZONE:TYPE:FILE[,FILE...]` as rbldnsd takes it on its command
/// line (`spec`, UTF-8, `spec_len` bytes), into a new list `*out`. `flags`:
/// `RBLKIT_LOAD_STRICT`, `RBLKIT_LOAD_CLEAR_HOST_BITS`, or 0. Lines rbldnsd would skip are
/// skipped with a warning (`rblkit_list_warning_count`); with `RBLKIT_LOAD_STRICT` the first
/// one fails the load with `RBLKIT_ERR_DATA`, naming file and line. A missing file is
/// `RBLKIT_ERR_IO`, a bad spec `RBLKIT_ERR_PARSE`. Lookups answer as rbldnsd answers for the
/// zone (TXT cut to 254 bytes; `$` is the queried address, or the listed name in a dnset).
/// `*out` is NULL on failure; free the list with `rblkit_list_free`.
#[no_mangle]
pub extern "C" fn rblkit_list_load(
    spec: *const c_char,
    spec_len: usize,
    flags: u32,
    out: *mut *mut rblkit_list,
) -> rblkit_result {
    // SAFETY: `out` is NULL or writable, as the header states.
    unsafe { clear_out(out) };
    call("rblkit_list_load", || {
        let text = arg_text!(spec, spec_len);
        if flags & !(RBLKIT_LOAD_STRICT | RBLKIT_LOAD_CLEAR_HOST_BITS) != 0 {
            return Err(Failure::new(
                RBLKIT_ERR_INVALID_ARGUMENT,
                format!("unknown flags {flags:#x}"),
            ));
        }
        let spec: DatasetSpec = text.parse()?;
        let options = LoadOptions::default()
            .with_strictness(if flags & RBLKIT_LOAD_STRICT != 0 {
                Strictness::Strict
            } else {
                Strictness::Lenient
            })
            .with_host_bits(if flags & RBLKIT_LOAD_CLEAR_HOST_BITS != 0 {
                HostBits::Clear
            } else {
                HostBits::Reject
            });
        let mut zones = Zone::load_all(std::slice::from_ref(&spec), options)?;
        let zone = zones
            .pop()
            .ok_or_else(|| Failure::new(RBLKIT_ERR_PARSE, format!("{text}: no dataset")))?;
        let fast = match spec.kind() {
            DatasetKind::Ip4Set | DatasetKind::Ip4TSet | DatasetKind::Ip4Trie => Fast::Ip4,
            DatasetKind::DnSet => Fast::DnSet,
            _ => Fast::No,
        };
        out_handle!(
            out,
            rblkit_list {
                source: Source::Zone { zone, fast },
            }
        );
        Ok(())
    })
}

/// Frees a list. NULL is accepted and ignored.
#[no_mangle]
pub extern "C" fn rblkit_list_free(list: *mut rblkit_list) {
    call_value("rblkit_list_free", (), || {
        // SAFETY: the header's contract: `list` is NULL or a list not freed before and no
        // longer used by any thread.
        unsafe { free_handle(list) }
    });
}

/// How many lines loading skipped with a warning (0 for lists not loaded from files, and
/// when `list` is NULL).
#[no_mangle]
pub extern "C" fn rblkit_list_warning_count(list: *const rblkit_list) -> usize {
    call_value("rblkit_list_warning_count", 0, || {
        // SAFETY: `list` is NULL or a live list (the header's contract).
        match unsafe { list.as_ref() }.map(|l| &l.source) {
            Some(Source::Zone { zone, .. }) => {
                zone.datasets().iter().map(|d| d.warnings().len()).sum()
            }
            _ => 0,
        }
    })
}

/// The `i`-th warning of loading, naming file and line (`"bl.txt:12: invalid address ..."`),
/// into `buf` (see `rblkit_last_error` for buffers).
#[no_mangle]
pub extern "C" fn rblkit_list_warning(
    list: *const rblkit_list,
    i: usize,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> rblkit_result {
    call("rblkit_list_warning", || {
        let list = arg!(list);
        let warnings: Vec<&rblkit::zone::LineError> = match &list.source {
            Source::Zone { zone, .. } => {
                zone.datasets().iter().flat_map(|d| d.warnings()).collect()
            }
            Source::Compiled(_) => Vec::new(),
        };
        let w = warnings
            .get(i)
            .ok_or_else(|| Failure::out_of_range("warning", i, warnings.len()))?;
        out_text!(&w.to_string(), buf, cap, len);
        Ok(())
    })
}

/// The zone name of a loaded list (`"bl.example"`) into `buf`; `RBLKIT_ERR_ABSENT` for a
/// built or compiled list.
#[no_mangle]
pub extern "C" fn rblkit_list_zone(
    list: *const rblkit_list,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> rblkit_result {
    call("rblkit_list_zone", || {
        let list = arg!(list);
        match &list.source {
            Source::Zone { zone, .. } => {
                out_text!(zone.name().as_str(), buf, cap, len);
                Ok(())
            }
            Source::Compiled(_) => Err(Failure::new(RBLKIT_ERR_ABSENT, "the list has no zone")),
        }
    })
}

/// A builder for a list, entry by entry (`rblkit_builder_insert`, `rblkit_builder_exclude`),
/// turned into a list by `rblkit_builder_build`.
///
/// Thread safety: one thread at a time; it may move between threads.
pub struct rblkit_builder {
    inner: ListBuilder,
}

/// A new, empty builder in `*out`; free it with `rblkit_builder_free` unless it is given to
/// `rblkit_builder_build`.
#[no_mangle]
pub extern "C" fn rblkit_builder_new(out: *mut *mut rblkit_builder) -> rblkit_result {
    // SAFETY: `out` is NULL or writable, as the header states.
    unsafe { clear_out(out) };
    call("rblkit_builder_new", || {
        out_handle!(
            out,
            rblkit_builder {
                inner: List::builder()
            }
        );
        Ok(())
    })
}

/// Frees a builder that was not built. NULL is accepted and ignored.
#[no_mangle]
pub extern "C" fn rblkit_builder_free(builder: *mut rblkit_builder) {
    call_value("rblkit_builder_free", (), || {
        // SAFETY: the header's contract: NULL or a builder not freed or built before.
        unsafe { free_handle(builder) }
    });
}

enum Key {
    Subject(Subject),
    Pattern(DomainPattern),
}

fn parse_key(text: &str) -> Result<Key, Failure> {
    if text.starts_with('.') || text.starts_with("*.") {
        Ok(Key::Pattern(text.parse().map_err(
            |e: rblkit::subject::SubjectError| {
                Failure::new(RBLKIT_ERR_PARSE, format!("{text:?}: {e}"))
            },
        )?))
    } else {
        Ok(Key::Subject(text.parse().map_err(
            |e: rblkit::subject::SubjectError| {
                Failure::new(RBLKIT_ERR_PARSE, format!("{text:?}: {e}"))
            },
        )?))
    }
}

/// Lists `entry` (UTF-8, `entry_len` bytes): an IPv4/IPv6 address or CIDR network, a domain
/// (`*.name`: the names below it; `.name`: the name and the names below it) or an email
/// address, with the return code `code` (127.x.y.z as `0x7fXXYYZZ`, in 127.0.0.0/8) and a
/// TXT template (`txt`, `txt_len` bytes; `$` becomes the subject; NULL/0 for none).
#[no_mangle]
pub extern "C" fn rblkit_builder_insert(
    builder: *mut rblkit_builder,
    entry: *const c_char,
    entry_len: usize,
    code: u32,
    txt: *const c_char,
    txt_len: usize,
) -> rblkit_result {
    call("rblkit_builder_insert", || {
        let b = arg!(mut builder);
        let entry = arg_text!(entry, entry_len);
        let txt = arg_text!(txt, txt_len);
        let code = ReturnCode::from(Ipv4Addr::from(code));
        if !code.is_loopback_code() {
            return Err(Failure::new(
                RBLKIT_ERR_INVALID_ARGUMENT,
                format!("return code {code} is not in 127.0.0.0/8"),
            ));
        }
        let mut listing = Listing::new(code);
        if !txt.is_empty() {
            listing = listing.with_txt(txt);
        }
        match parse_key(entry)? {
            Key::Subject(s) => b.inner.insert(&s, listing),
            Key::Pattern(p) => b.inner.insert_domain(&p, listing),
        };
        Ok(())
    })
}

/// Excludes `entry` (as in `rblkit_builder_insert`): it is not listed even where a listing
/// around it would list it.
#[no_mangle]
pub extern "C" fn rblkit_builder_exclude(
    builder: *mut rblkit_builder,
    entry: *const c_char,
    entry_len: usize,
) -> rblkit_result {
    call("rblkit_builder_exclude", || {
        let b = arg!(mut builder);
        let entry = arg_text!(entry, entry_len);
        match parse_key(entry)? {
            Key::Subject(s) => b.inner.exclude(&s),
            Key::Pattern(p) => b.inner.exclude_domain(&p),
        };
        Ok(())
    })
}

/// Builds the list into `*out` and frees the builder (always, also on failure: do not use
/// or free it afterwards).
#[no_mangle]
pub extern "C" fn rblkit_builder_build(
    builder: *mut rblkit_builder,
    out: *mut *mut rblkit_list,
) -> rblkit_result {
    // SAFETY: `out` is NULL or writable, as the header states.
    unsafe { clear_out(out) };
    call("rblkit_builder_build", || {
        if builder.is_null() {
            return Err(Failure::null("builder"));
        }
        // SAFETY: not NULL, and by the header's contract a builder not freed or built before;
        // it is consumed here.
        let b = unsafe { Box::from_raw(builder) };
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        out_handle!(out, rblkit_list::compiled(b.inner.build()));
        Ok(())
    })
}

/// A new answer in `*out`, for the lookups; free it with `rblkit_answer_free`.
#[no_mangle]
pub extern "C" fn rblkit_answer_new(out: *mut *mut rblkit_answer) -> rblkit_result {
    // SAFETY: `out` is NULL or writable, as the header states.
    unsafe { clear_out(out) };
    call("rblkit_answer_new", || {
        out_handle!(out, rblkit_answer::new());
        Ok(())
    })
}

/// Frees an answer. NULL is accepted and ignored.
#[no_mangle]
pub extern "C" fn rblkit_answer_free(answer: *mut rblkit_answer) {
    call_value("rblkit_answer_free", (), || {
        // SAFETY: the header's contract: NULL or an answer not freed before.
        unsafe { free_handle(answer) }
    });
}

/// Looks up an IPv4 address given as 4 bytes in network order (`addr[0]` is the first
/// octet) and fills `answer`. `RBLKIT_OK` whether listed or not (see
/// `rblkit_answer_listed`).
#[no_mangle]
pub extern "C" fn rblkit_list_lookup_ipv4(
    list: *const rblkit_list,
    addr: *const u8,
    answer: *mut rblkit_answer,
) -> rblkit_result {
    call("rblkit_list_lookup_ipv4", || {
        let (list, a) = (arg!(list), arg!(mut answer));
        // SAFETY: `addr` points to 4 readable bytes (the header's contract), NULL is refused.
        let b = unsafe { crate::boundary::bytes(addr, 4, "addr") }?;
        list.lookup_ip(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])), a);
        Ok(())
    })
}

/// Looks up an IPv6 address given as 16 bytes in network order and fills `answer`.
#[no_mangle]
pub extern "C" fn rblkit_list_lookup_ipv6(
    list: *const rblkit_list,
    addr: *const u8,
    answer: *mut rblkit_answer,
) -> rblkit_result {
    call("rblkit_list_lookup_ipv6", || {
        let (list, a) = (arg!(list), arg!(mut answer));
        // SAFETY: `addr` points to 16 readable bytes (the header's contract), NULL is refused.
        let b = unsafe { crate::boundary::bytes(addr, 16, "addr") }?;
        let mut o = [0u8; 16];
        o.copy_from_slice(b);
        list.lookup_ip(IpAddr::V6(Ipv6Addr::from(o)), a);
        Ok(())
    })
}

/// Looks up an IPv4 or IPv6 address in text form (`"192.0.2.1"`, `"2001:db8::1"`; UTF-8,
/// `len` bytes) and fills `answer`; `RBLKIT_ERR_PARSE` when it is not an address.
#[no_mangle]
pub extern "C" fn rblkit_list_lookup_ip(
    list: *const rblkit_list,
    ip: *const c_char,
    len: usize,
    answer: *mut rblkit_answer,
) -> rblkit_result {
    call("rblkit_list_lookup_ip", || {
        let (list, a) = (arg!(list), arg!(mut answer));
        let text = arg_text!(ip, len);
        let ip: IpAddr = text.parse().map_err(|_| {
            Failure::new(RBLKIT_ERR_PARSE, format!("{text:?} is not an IP address"))
        })?;
        list.lookup_ip(ip, a);
        Ok(())
    })
}

/// Looks up a domain (UTF-8, `len` bytes; any case, trailing dot optional, internationalised
/// names as U-labels or A-labels) and fills `answer`; `RBLKIT_ERR_PARSE` when it is not a
/// domain.
#[no_mangle]
pub extern "C" fn rblkit_list_lookup_domain(
    list: *const rblkit_list,
    domain: *const c_char,
    len: usize,
    answer: *mut rblkit_answer,
) -> rblkit_result {
    call("rblkit_list_lookup_domain", || {
        let (list, a) = (arg!(list), arg!(mut answer));
        let text = arg_text!(domain, len);
        let name = Domain::normalize(text)
            .map_err(|e| Failure::new(RBLKIT_ERR_PARSE, format!("{text:?}: {e}")))?;
        list.lookup_domain(&name, a)
    })
}

/// Looks up an email address (UTF-8, `len` bytes) and fills `answer`; `RBLKIT_ERR_PARSE`
/// when it is not an address. A loaded rbldnsd dataset lists no email addresses.
#[no_mangle]
pub extern "C" fn rblkit_list_lookup_email(
    list: *const rblkit_list,
    email: *const c_char,
    len: usize,
    answer: *mut rblkit_answer,
) -> rblkit_result {
    call("rblkit_list_lookup_email", || {
        let (list, a) = (arg!(list), arg!(mut answer));
        let text = arg_text!(email, len);
        let e = EmailAddr::new(text)
            .map_err(|e| Failure::new(RBLKIT_ERR_PARSE, format!("{text:?}: {e}")))?;
        list.lookup_email(&e, a);
        Ok(())
    })
}

/// Looks up any subject in text form — an IP address, a CIDR network, a domain or an email
/// address (UTF-8, `len` bytes) — and fills `answer`.
#[no_mangle]
pub extern "C" fn rblkit_list_lookup(
    list: *const rblkit_list,
    subject: *const c_char,
    len: usize,
    answer: *mut rblkit_answer,
) -> rblkit_result {
    call("rblkit_list_lookup", || {
        let (list, a) = (arg!(list), arg!(mut answer));
        let text = arg_text!(subject, len);
        let s: Subject = text
            .parse()
            .map_err(|e| Failure::new(RBLKIT_ERR_PARSE, format!("{text:?}: {e}")))?;
        list.lookup_subject(&s, a)
    })
}

/// Whether the latest lookup into `answer` found the subject listed (false for NULL).
#[no_mangle]
pub extern "C" fn rblkit_answer_listed(answer: *const rblkit_answer) -> bool {
    call_value("rblkit_answer_listed", false, || {
        // SAFETY: NULL or a live answer (the header's contract).
        unsafe { answer.as_ref() }.is_some_and(|a| a.listed)
    })
}

/// How many return codes the answer holds (0 when not listed, or for NULL).
#[no_mangle]
pub extern "C" fn rblkit_answer_code_count(answer: *const rblkit_answer) -> usize {
    call_value("rblkit_answer_code_count", 0, || {
        // SAFETY: NULL or a live answer (the header's contract).
        unsafe { answer.as_ref() }.map_or(0, |a| a.codes.len())
    })
}

fn code_at(a: &rblkit_answer, i: usize) -> Result<ReturnCode, Failure> {
    a.codes
        .get(i)
        .copied()
        .ok_or_else(|| Failure::out_of_range("code", i, a.codes.len()))
}

/// The `i`-th return code as a number, 127.0.0.2 being `0x7f000002`.
#[no_mangle]
pub extern "C" fn rblkit_answer_code(
    answer: *const rblkit_answer,
    i: usize,
    code: *mut u32,
) -> rblkit_result {
    call("rblkit_answer_code", || {
        let c = code_at(arg!(answer), i)?;
        out!(code, u32::from(c.addr()));
        Ok(())
    })
}

/// The `i`-th return code as 4 bytes (`{127, 0, 0, 2}`) into `bytes`.
#[no_mangle]
pub extern "C" fn rblkit_answer_code_bytes(
    answer: *const rblkit_answer,
    i: usize,
    bytes: *mut u8,
) -> rblkit_result {
    call("rblkit_answer_code_bytes", || {
        let c = code_at(arg!(answer), i)?;
        if bytes.is_null() {
            return Err(Failure::null("bytes"));
        }
        // SAFETY: `bytes` is not NULL and points to 4 writable bytes (the header's contract).
        unsafe { std::ptr::copy_nonoverlapping(c.addr().octets().as_ptr(), bytes, 4) };
        Ok(())
    })
}

/// How many TXT texts the answer holds.
#[no_mangle]
pub extern "C" fn rblkit_answer_txt_count(answer: *const rblkit_answer) -> usize {
    call_value("rblkit_answer_txt_count", 0, || {
        // SAFETY: NULL or a live answer (the header's contract).
        unsafe { answer.as_ref() }.map_or(0, |a| a.ends.len())
    })
}

/// The `i`-th TXT text, rendered for the subject, into `buf`.
#[no_mangle]
pub extern "C" fn rblkit_answer_txt(
    answer: *const rblkit_answer,
    i: usize,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> rblkit_result {
    call("rblkit_answer_txt", || {
        let a = arg!(answer);
        let t = a
            .txt_at(i)
            .ok_or_else(|| Failure::out_of_range("TXT", i, a.ends.len()))?;
        out_text!(t, buf, cap, len);
        Ok(())
    })
}

/// Since when the subject is listed (unix seconds), for lists compiled from a ledger;
/// `RBLKIT_ERR_ABSENT` when the list does not say.
#[no_mangle]
pub extern "C" fn rblkit_answer_since(answer: *const rblkit_answer, at: *mut i64) -> rblkit_result {
    call("rblkit_answer_since", || {
        let t = arg!(answer)
            .since
            .ok_or_else(|| Failure::new(RBLKIT_ERR_ABSENT, "no listing start known"))?;
        out!(at, t.unix_seconds());
        Ok(())
    })
}

/// Until when the subject is listed without new evidence (unix seconds);
/// `RBLKIT_ERR_ABSENT` when the listing does not expire by itself or the list does not say.
#[no_mangle]
pub extern "C" fn rblkit_answer_expires(
    answer: *const rblkit_answer,
    at: *mut i64,
) -> rblkit_result {
    call("rblkit_answer_expires", || {
        let t = arg!(answer)
            .expires
            .ok_or_else(|| Failure::new(RBLKIT_ERR_ABSENT, "no expiry known"))?;
        out!(at, t.unix_seconds());
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(p: &str) -> String {
        format!("{}/../{p}", env!("CARGO_MANIFEST_DIR"))
    }

    fn load(spec: &str) -> *mut rblkit_list {
        let mut l = std::ptr::null_mut();
        assert_eq!(
            rblkit_list_load(spec.as_ptr().cast(), spec.len(), 0, &mut l),
            RBLKIT_OK
        );
        l
    }

    /// The fast path of a loaded dataset answers exactly as `Zone::query` does.
    #[test]
    fn loaded_lists_answer_as_the_zone_does() {
        for spec in [
            format!("bl.example:ip4set:{}", root("data/sample/bl.ip4set")),
            format!("dbl.example:dnset:{}", root("data/sample/dbl.dnset")),
        ] {
            let l = load(&spec);
            // SAFETY: `l` is a live list from rblkit_list_load.
            let list = unsafe { &*l };
            let Source::Zone { zone, .. } = &list.source else {
                panic!("a loaded list holds a zone")
            };
            let mut a = rblkit_answer::new();
            let mut subjects: Vec<String> = (0..=255)
                .flat_map(|i| {
                    [
                        format!("198.51.100.{i}"),
                        format!("203.0.113.{i}"),
                        format!("192.0.2.{i}"),
                    ]
                })
                .collect();
            for d in [
                "cheap-pills.example",
                "www.cheap-pills.example",
                "a.b.cheap-pills.example",
                "phish-bank.example",
                "login.phish-bank.example",
                "example",
                "other.example",
            ] {
                subjects.push(d.into());
            }
            let mut listed = 0;
            for s in &subjects {
                let subject: Subject = s.parse().unwrap();
                list.lookup_subject(&subject, &mut a).unwrap();
                let want = zone.query_name(&subject).and_then(|q| zone.query(&q));
                assert_eq!(a.listed, want.is_some(), "{spec} {s}");
                if let Some(w) = want {
                    listed += 1;
                    assert_eq!(a.codes, w.codes, "{s}");
                    let txt: Vec<&str> = (0..a.ends.len()).map(|i| a.txt_at(i).unwrap()).collect();
                    assert_eq!(txt, w.txt, "{s}");
                }
            }
            assert!(listed >= 4, "{spec}: {listed} listed");
            rblkit_list_free(l);
        }
    }

    #[test]
    fn txt_is_cut_at_a_character_boundary_and_deduplicated() {
        let mut a = rblkit_answer::new();
        let long = "é".repeat(200);
        a.push_txt(&long, ZONE_TXT_MAX);
        a.push_txt(&long, ZONE_TXT_MAX);
        a.push_txt("", ZONE_TXT_MAX);
        assert_eq!(a.ends.len(), 1);
        assert_eq!(a.txt_at(0).unwrap().len(), 254);
        a.push_txt("x", ZONE_TXT_MAX);
        assert_eq!(a.txt_at(1), Some("x"));
        assert_eq!(a.txt_at(2), None);
    }
}

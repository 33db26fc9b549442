//! The text scanner: vectorised searches find the trigger bytes (`.`, `:`, `@`, `%`, an
//! obfuscation bracket, a lead byte of a Unicode full stop); only the token (the run without
//! delimiters) around a trigger is looked at, each token once, so time is linear in the input
//! and prose without triggers costs little more than the searches.

use super::host::{self, normalize_host, HostOut, Numeric};
use super::{BareHosts, ExtractError, Extractor, Flags, Hit, HitKind, Text, TextWriter, INLINE};
use crate::subject::MAX_LABEL_LEN;
use std::ops::Range;

const DELIM: u8 = 1;

const fn class_table(nested: bool) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        if b <= b' ' || b == 0x7f {
            t[i] = DELIM;
        }
        match b {
            b'<' | b'>' | b'"' | b'`' | b'\'' | b'|' => t[i] = DELIM,
            _ => {}
        }
        if nested && b == b'&' {
            t[i] = DELIM;
        }
        i += 1;
    }
    t
}

static PROSE: [u8; 256] = class_table(false);

/// Which bytes a token holds, gathered in one pass so later searches for absent bytes are
/// skipped.
const M_COLON: u8 = 1;
const M_AT: u8 = 2;
const M_SEP: u8 = 4;
const M_BRACKET: u8 = 8;
const M_PCT: u8 = 16;
const M_HIGH: u8 = 32;

const fn mask_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match i as u8 {
            b':' => M_COLON,
            b'@' => M_AT,
            b',' | b';' | b'=' => M_SEP,
            b'(' | b'[' | b'{' => M_BRACKET,
            b'%' => M_PCT,
            0x80..=0xFF => M_HIGH,
            _ => 0,
        };
        i += 1;
    }
    t
}

static NESTED: [u8; 256] = class_table(true);

/// In [`STEP_PROSE`] and [`STEP_NESTED`]: an ASCII delimiter.
const STOP: u8 = 64;

/// One look-up a byte for the walks over a token: its [`mask_table`] classes, and [`STOP`] for an
/// ASCII delimiter of the class table (`nested` as in [`class_table`]).
const fn step_table(nested: bool) -> [u8; 256] {
    let class = class_table(nested);
    let mask = mask_table();
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = mask[i];
        if i < 0x80 && class[i] & DELIM != 0 {
            t[i] |= STOP;
        }
        i += 1;
    }
    t
}

static STEP_PROSE: [u8; 256] = step_table(false);
static STEP_NESTED: [u8; 256] = step_table(true);

/// Length of a non-ASCII character at the start of `b` that separates words (spaces, CJK
/// punctuation and brackets), else 0.
#[inline]
fn unicode_delim_len(b: &[u8]) -> usize {
    match b {
        // C1 controls (next line among them), no-break space, « and ».
        [0xC2, 0x80..=0xA0 | 0xAB | 0xBB, ..] => 2,
        // Spaces, line and paragraph separators, curly quotes, ‹ and ›.
        [0xE2, 0x80, 0x80..=0x8A | 0xA8 | 0xA9 | 0xAF | 0x98..=0x9F | 0xB9 | 0xBA, ..] => 3,
        [0xE2, 0x81, 0x9F, ..] => 3,
        // Ideographic space, 、 and CJK brackets 〈〉《》「」『』【】.
        [0xE3, 0x80, 0x80 | 0x81 | 0x88..=0x91, ..] => 3,
        // Fullwidth ! " ' ( ) , ; < > ? and fullwidth space.
        [0xEF, 0xBC, 0x81 | 0x82 | 0x87 | 0x88 | 0x89 | 0x8C | 0x9B | 0x9C | 0x9E | 0x9F, ..] => 3,
        _ => 0,
    }
}

/// Where the spans of the hits in a scanned text point.
#[derive(Clone, Copy)]
pub(crate) enum Spans<'a> {
    /// The text starts at this offset of the input.
    Offset(usize),
    /// Byte `i` of the (decoded) text came from input byte `map[i]`.
    Map(&'a [usize]),
    /// Every hit gets this span (text decoded out of a URL).
    Fixed(usize, usize),
}

impl Spans<'_> {
    fn span(self, r: Range<usize>) -> Range<usize> {
        match self {
            Spans::Offset(o) => o + r.start..o + r.end,
            Spans::Map(m) => {
                let s = m.get(r.start).copied().unwrap_or(0);
                let e = if r.end == 0 {
                    s
                } else {
                    m.get(r.end - 1).map_or(s, |&x| x + 1)
                };
                s..e.max(s)
            }
            Spans::Fixed(s, e) => s..e,
        }
    }
}

/// What kind of text is scanned.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Prose: URLs, bare hosts, emails, IP addresses.
    Prose,
    /// Only URLs with a scheme (script, style, comments).
    SchemeOnly,
    /// Text decoded out of a URL's path and query.
    Nested,
}

impl Mode {
    /// The flags every hit found in this kind of text has: [`Flags::REDIRECTED`] for text
    /// decoded out of a URL.
    fn flags(self) -> Flags {
        if self == Mode::Nested {
            Flags::REDIRECTED
        } else {
            Flags::empty()
        }
    }
}

/// Collects hits for one input; stops at the hit limit.
pub(crate) struct Ctx<'e> {
    pub(crate) ex: &'e Extractor,
    pub(crate) out: &'e mut Vec<Hit>,
    pub(crate) part: usize,
    pub(crate) err: Option<ExtractError>,
    /// Buffers for percent-decoded URL parts, kept for the next URL (one a nesting level).
    pub(crate) bufs: Vec<Vec<u8>>,
    /// How many more times a URL may end at a closing bracket without its opening one,
    /// leaving the rest of its token to be scanned: [`MAX_CUTS`] for each token of the
    /// text [`scan`] was given (texts nested in it included), as each cut walks the rest of
    /// the token again.
    pub(crate) cuts_left: u32,
}

/// URLs one token may be cut into at closing brackets ([`Ctx::cuts_left`]): more than text
/// ever glues together, few enough to keep the time linear.
const MAX_CUTS: u32 = 16;

impl<'e> Ctx<'e> {
    /// A context that appends the hits of one input to `out`.
    pub(crate) fn new(ex: &'e Extractor, out: &'e mut Vec<Hit>) -> Ctx<'e> {
        Ctx {
            ex,
            out,
            part: 0,
            err: None,
            bufs: Vec::new(),
            cuts_left: MAX_CUTS,
        }
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, hit: Hit) {
        if self.err.is_some() {
            return;
        }
        if self.out.len() >= self.ex.max_hits {
            self.err = Some(ExtractError::TooManyHits {
                max: self.ex.max_hits,
            });
            return;
        }
        self.out.push(hit);
    }

    /// Pushes a hit whose text is `text`, copied once: straight into the hit vector when it
    /// fits inside the hit.
    #[inline]
    fn push_copy(
        &mut self,
        kind: HitKind,
        text: &str,
        host: Range<usize>,
        reg: Option<usize>,
        span: Range<usize>,
        flags: Flags,
    ) {
        if text.len() > INLINE {
            let t = Text::Heap(text.into());
            self.push(Hit::new(kind, t, host, reg, span, self.part, flags));
            return;
        }
        let before = self.out.len();
        let empty = Text::Inline {
            len: 0,
            buf: [0; INLINE],
        };
        self.push(Hit::new(kind, empty, host, reg, span, self.part, flags));
        if self.out.len() > before {
            if let Some(Hit {
                text: Text::Inline { len, buf },
                ..
            }) = self.out.last_mut()
            {
                buf[..text.len()].copy_from_slice(text.as_bytes());
                *len = text.len() as u8;
            }
        }
    }

    pub(crate) fn stopped(&self) -> bool {
        self.err.is_some()
    }
}

/// Scans a text.
pub(crate) fn scan(cx: &mut Ctx<'_>, text: &str, spans: Spans<'_>, mode: Mode, depth: u8) {
    let (table, step) = if mode == Mode::Nested {
        (&NESTED, &STEP_NESTED)
    } else {
        (&PROSE, &STEP_PROSE)
    };
    let b = text.as_bytes();
    let n = b.len();
    let mut triggers = Triggers::new(b);
    // Everything before `pos` has been looked at; tokens never start before `done`.
    let mut pos = 0;
    let mut done = 0;
    // The end of the token a URL was cut out of, while in it; `usize::MAX` when not.
    let mut cut_end = usize::MAX;
    if depth == 0 {
        cx.cuts_left = MAX_CUTS;
    }
    while let Some(t) = triggers.next(b, pos) {
        if t >= cut_end {
            // past the token: the next one may be cut as often
            cut_end = usize::MAX;
            if depth == 0 {
                cx.cuts_left = MAX_CUTS;
            }
        }
        // no ASCII trigger byte is a delimiter: only a Unicode one may be
        if b[t] >= 0x80 && unicode_delim_len(&b[t..]) != 0 {
            pos = t + 1;
            continue;
        }
        // A URL as most are written, `http://` or `https://` at the start of an ASCII token:
        // straight to `url`, without the walks that gather the token's byte classes for
        // `token` (whose answer is known: the first colon is this one, after a scheme that
        // starts the token).
        if let Some((start, scheme, end)) = plain_url_token(b, t, step) {
            if let Some(tok) = text.get(start..end) {
                // the token's bytes after a closing bracket that ended the URL: a token of
                // their own
                let rest = url(
                    cx,
                    tok,
                    start,
                    0,
                    t + 1 - start,
                    scheme,
                    false,
                    spans,
                    depth,
                );
                if let Some(k) = rest {
                    cut_end = end;
                    pos = start + k;
                } else {
                    pos = end;
                }
                done = pos;
                if cx.stopped() {
                    return;
                }
                continue;
            }
        }
        // Triggers come in order, so `t` is the first one of its token: a full stop or colon
        // followed only by punctuation up to the next delimiter (`word.`, `Note:`, `so.)`)
        // leaves a token without a trigger worth a look.
        if matches!(b[t], b'.' | b':' | b',') {
            let mut k = t + 1;
            while k < n && matches!(b[k], b'.' | b',' | b';' | b':' | b'!' | b'?' | b')' | b']') {
                k += 1;
            }
            if k == n || is_delim(table, b, k) != 0 {
                pos = k;
                done = k;
                continue;
            }
        }
        // The token holding the trigger and its byte classes: from the sixteen bytes on
        // either side when they show its ends, else in walks a byte at a time.
        let (start, end, mask) = match token_bounds_16(b, t, done, step) {
            Some(x) => x,
            None => token_bounds_walk(b, t, done, step),
        };
        pos = end;
        done = end;
        // A comma after the token and no other separator in it (`see example.com, then`):
        // `schemeless` would look at the part before it alone, as at a token without it.
        let (end, mask) = if mask == M_SEP
            && b[end - 1] == b','
            && !b[start..end - 1]
                .iter()
                .any(|&c| matches!(c, b',' | b';' | b'='))
        {
            (end - 1, 0)
        } else {
            (end, mask)
        };
        // digits and dots: a version or a price refused here, an address left to `piece`
        let numeric = if mask == 0 {
            numeric_not_quad(&b[start..end])
        } else {
            None
        };
        if numeric == Some(true) {
            continue;
        }
        let Some(tok) = text.get(start..end) else {
            continue;
        };
        if mask & !(M_AT | M_HIGH) == 0 {
            // No colon, separator, bracket or `%`: what `token` and `schemeless` would do
            // comes to `piece` over the whole token (with no such byte, the trigger is a
            // full stop or at sign that `worth_a_look` keeps: those it sets aside are ASCII
            // punctuation that `piece` sets aside too).
            if mode != Mode::SchemeOnly
                && !(mask == 0 && numeric.is_none() && plain_bare_host(cx, tok, start, spans, mode)
                    || mask == M_AT && plain_email(cx, tok, start, spans, mode)
                    || numeric == Some(false) && plain_quad(cx, tok, start, spans, mode))
            {
                piece(cx, tok, 0, tok.len(), start, spans, mode, mask);
                if cx.stopped() {
                    return;
                }
            }
            continue;
        }
        if let Some(k) = token(cx, tok, mask, t - start, start, spans, mode, depth) {
            cut_end = end;
            pos = start + k;
            done = pos;
        }
        if cx.stopped() {
            return;
        }
    }
}

/// The token holding the trigger at `t` (never starting before `done`) when the sixteen bytes
/// on either side of it show both of its ends, an ASCII delimiter (or `done`) before and after
/// it, and it has no byte past ASCII: its start, end and [`mask_table`] classes. Found with
/// SSE2 at once, no loop whose length is the token's (whose end the processor would guess
/// wrong from one token to the next); `None` leaves the rest to [`token_bounds_walk`].
#[inline(always)]
fn token_bounds_16(
    b: &[u8],
    t: usize,
    done: usize,
    step: &[u8; 256],
) -> Option<(usize, usize, u8)> {
    #[cfg(target_arch = "x86_64")]
    {
        let nested = std::ptr::eq(step, &STEP_NESTED);
        let base = t.checked_sub(16)?;
        let before = stop_or_high_16(b.get(base..t)?, nested);
        let after = stop_or_high_16(b.get(t..t + 16)?, nested);
        // the bytes before `done` end the token as a delimiter does
        let before = before | ((1u32 << done.saturating_sub(base).min(16)) - 1);
        if before == 0 || after == 0 {
            return None;
        }
        let k = 31 - before.leading_zeros() as usize;
        let start = base + k + 1;
        let end = t + after.trailing_zeros() as usize;
        if (start > done && b[start - 1] >= 0x80) || b[end] >= 0x80 {
            return None;
        }
        // the token's bytes among the 32 from `base`
        let range = (u32::MAX << (start - base)) & !(u32::MAX << (end - base));
        let (lo, hi) = (mask_classes_16(&b[base..t]), mask_classes_16(&b[t..t + 16]));
        let mut mask = 0u8;
        for (k, bit) in [M_COLON, M_AT, M_SEP, M_BRACKET, M_PCT]
            .into_iter()
            .enumerate()
        {
            // a product, not a branch: which classes a token has is not to be foreseen
            mask |= bit * u8::from((lo[k] | hi[k] << 16) & range != 0);
        }
        Some((start, end, mask))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (b, t, done, step);
        None
    }
}

/// Bits of the sixteen bytes of `w` in each [`mask_table`] class but [`M_HIGH`]: `:`, `@`,
/// separators, brackets, `%`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn mask_classes_16(w: &[u8]) -> [u32; 5] {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };
    let Ok(w) = <&[u8; 16]>::try_from(w) else {
        return [0; 5];
    };
    let x = load_unaligned_m128i(w);
    let eq = |c: u8| cmp_eq_mask_i8_m128i(x, set_splat_i8_m128i(c as i8));
    let bits = |m| move_mask_i8_m128i(m) as u32;
    [
        bits(eq(b':')),
        bits(eq(b'@')),
        bits(bitor_m128i(bitor_m128i(eq(b','), eq(b';')), eq(b'='))),
        bits(bitor_m128i(bitor_m128i(eq(b'('), eq(b'[')), eq(b'{'))),
        bits(eq(b'%')),
    ]
}

/// The start, end and [`mask_table`] classes of the token holding the trigger at `t` (never
/// starting before `done`), a byte at a time: a byte past ASCII ends it only when it starts a
/// Unicode delimiter.
fn token_bounds_walk(b: &[u8], t: usize, done: usize, step: &[u8; 256]) -> (usize, usize, u8) {
    let n = b.len();
    // Back to the start of the token holding the trigger, gathering its byte classes.
    let mut mask = 0u8;
    let mut start = t;
    while start > done {
        let c = b[start - 1];
        let k = step[c as usize];
        if k & (STOP | M_HIGH) == 0 {
            mask |= k;
            start -= 1;
            continue;
        }
        if k & STOP != 0 {
            break;
        }
        mask |= M_HIGH;
        // The start of this character.
        let mut cs = start - 1;
        while cs > done && b[cs] & 0xC0 == 0x80 && start - cs < 4 {
            cs -= 1;
        }
        if unicode_delim_len(&b[cs..]) == start - cs {
            break;
        }
        start = cs;
    }
    // Forward to its end: runs of plain bytes in a tight loop, a non-ASCII byte only
    // stops it when it starts a Unicode delimiter.
    let mut end = t;
    loop {
        let run = b[end..]
            .iter()
            .position(|&c| {
                let k = step[c as usize];
                if k & (STOP | M_HIGH) != 0 {
                    return true;
                }
                mask |= k;
                false
            })
            .map_or(n, |k| end + k);
        end = run;
        if end == n || step[b[end] as usize] & STOP != 0 || unicode_delim_len(&b[end..]) != 0 {
            break;
        }
        mask |= M_HIGH;
        end += 1;
    }
    (start, end, mask)
}

/// A bare host as most are written: lowercase letters, digits and `_` in labels of 1 to 63
/// bytes with dots between, starting and ending with a letter or digit, not digits and dots
/// alone, maybe with full stops after it (a sentence's end, which [`piece`] sets aside).
/// Does for such a token what `piece` would, without its general walks, and says whether it
/// did; any other token is left to `piece`.
#[inline]
fn plain_bare_host(cx: &mut Ctx<'_>, tok: &str, at: usize, spans: Spans<'_>, mode: Mode) -> bool {
    let tok = if tok.ends_with('.') {
        tok.trim_end_matches('.')
    } else {
        tok
    };
    let n = tok.len();
    let b = tok.as_bytes();
    let Some((label, dots)) = plain_name_labels(b) else {
        return false;
    };
    if n < 3 || b[0] == b'_' || host::plain_name(tok, label).is_none() {
        return false;
    }
    if cx.ex.bare_hosts == BareHosts::Ignore {
        return true;
    }
    let Some(reg) = cx.ex.psl.known_domain(tok) else {
        return true;
    };
    if dots == 1 && !tok.starts_with("www.") && FILE_LIKE_TLDS.contains(&&tok[label..]) {
        return true;
    }
    let flags = mode.flags();
    cx.push_copy(
        HitKind::Host,
        tok,
        0..n,
        Some(reg),
        spans.span(at..at + n),
        flags,
    );
    true
}

/// An IPv4 address as most are written in prose: a standard dotted quad and nothing around it.
/// Does for such a token what [`piece`] would, and says whether it did.
#[inline]
fn plain_quad(cx: &mut Ctx<'_>, tok: &str, at: usize, spans: Spans<'_>, mode: Mode) -> bool {
    if cx.ex.bare_hosts == BareHosts::Ignore {
        return false;
    }
    let Some(h) = host::dotted_quad(tok) else {
        return false;
    };
    let n = tok.len();
    let flags = h.flags | mode.flags();
    cx.push_copy(HitKind::Ip, tok, 0..n, None, spans.span(at..at + n), flags);
    true
}

/// An address as most are written: a local part of [`email`]'s bytes that starts with a letter
/// or digit (no run of dots, none at either end), `@`, and a domain [`plain_bare_host`] would
/// take. Does for such a token what [`piece`] would, without its general walks, and says
/// whether it did.
#[inline]
fn plain_email(cx: &mut Ctx<'_>, tok: &str, at: usize, spans: Spans<'_>, mode: Mode) -> bool {
    let b = tok.as_bytes();
    let Some(k) = host::pos(b, b'@') else {
        return false;
    };
    let (local, domain) = (&b[..k], &b[k + 1..]);
    if local.is_empty()
        || local.len() > 64
        || !local[0].is_ascii_alphanumeric()
        || local[k - 1] == b'.'
        || local.iter().any(|&c| EMAIL[c as usize] & E_LOCAL == 0)
        || local.windows(2).any(|w| w == b"..")
    {
        return false;
    }
    let Some((last, _)) = plain_name_labels(domain) else {
        return false;
    };
    if host::plain_name(&tok[k + 1..], last).is_none() {
        return false;
    }
    // no address unless the list knows the domain (then `piece` finds no host after the `@`
    // either: the same name)
    let Some(reg) = cx.ex.psl.known_domain(&tok[k + 1..]) else {
        return true;
    };
    let flags = mode.flags();
    let n = b.len();
    cx.push_copy(
        HitKind::Email,
        tok,
        k + 1..n,
        Some(reg),
        spans.span(at..at + n),
        flags,
    );
    true
}

/// Where the last label of `b` starts, and its dots, when `b` is lowercase letters, digits and
/// `_` in labels of 1 to 63 bytes (the last one's length unchecked) with at least one dot
/// between, ending with a letter or digit, and not digits and dots alone.
#[inline(always)]
fn plain_name_labels(b: &[u8]) -> Option<(usize, usize)> {
    let (&first, &end) = (b.first()?, b.last()?);
    if (BARE[first as usize] | BARE[end as usize]) & (B_DOT | B_BAD) != 0 || end == b'_' {
        return None;
    }
    let (mut label, mut dots, mut seen) = (0, 0, 0u8);
    for (i, &c) in b.iter().enumerate() {
        let k = BARE[c as usize];
        seen |= k;
        if k & B_DOT != 0 {
            if i == label || i - label > MAX_LABEL_LEN {
                return None;
            }
            dots += 1;
            label = i + 1;
        }
    }
    (seen & B_BAD == 0 && seen & B_LETTER != 0 && dots > 0).then_some((label, dots))
}

/// Byte classes of [`plain_bare_host`]: digits are 0.
const B_LETTER: u8 = 1;
const B_DOT: u8 = 2;
const B_BAD: u8 = 4;

static BARE: [u8; 256] = {
    let mut t = [B_BAD; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_digit() {
            t[c] = 0;
        } else if b.is_ascii_lowercase() || b == b'_' {
            t[c] = B_LETTER;
        }
        c += 1;
    }
    t[b'.' as usize] = B_DOT;
    t
};

/// For a token of bytes without a class of [`mask_table`] that is digits and dots once the
/// leading `$` and `.` and the final dots that [`piece`] sets aside are set aside: whether it
/// is no four-part address (a version, a price, a decimal: `1.2.3`, `$12.50`, `3.5.`), which
/// `piece` would refuse after its walks. `None` for any other token.
#[inline]
fn numeric_not_quad(tok: &[u8]) -> Option<bool> {
    // `piece` sets leading `$` and `.` aside
    let lead = tok.iter().take_while(|&&c| c == b'$' || c == b'.').count();
    let body = &tok[lead..];
    let mut end = body.len();
    while end > 0 && body[end - 1] == b'.' {
        end -= 1;
    }
    let mut dots = 0;
    for &c in &body[..end] {
        if c == b'.' {
            dots += 1;
        } else if !c.is_ascii_digit() {
            return None;
        }
    }
    Some(dots != 3)
}

/// The token holding the trigger at `t` when it is a URL starting `http://` or `https://`
/// (this colon and then two slashes, not three) written in ASCII bytes, `step` being the walk
/// table of the text: its start, scheme and end.
#[inline(always)]
fn plain_url_token(b: &[u8], t: usize, step: &[u8; 256]) -> Option<(usize, Scheme, usize)> {
    let (start, scheme) = http_scheme_at(b, t)?;
    // the scheme starts the token: a delimiter or nothing before it
    if start > 0 && step[b[start - 1] as usize] & STOP == 0 {
        return None;
    }
    // the end: the first delimiter; a byte past ASCII takes the general walk
    let mut end = stop_or_high(b, t, step);
    if end < b.len() && b[end] >= 0x80 {
        return None;
    }
    if b.get(end) == Some(&b'\'') {
        end = apostrophe_end(b, start, t, end, step)?;
    }
    Some((start, scheme, end))
}

/// The end of a URL that [`plain_url_token`] saw end at an apostrophe (at `end`; its colon
/// at `t`): an apostrophe in the path (`/it's`, `/a'b'`) does not end a URL that no quote
/// opens, it runs on to the next delimiter (`trim_end` drops an unpaired apostrophe at its
/// end). `None` when a byte past ASCII ends it (the general walk's case).
#[cold]
#[inline(never)]
fn apostrophe_end(
    b: &[u8],
    start: usize,
    t: usize,
    mut end: usize,
    step: &[u8; 256],
) -> Option<usize> {
    // a quote before the scheme, or the first apostrophe before the path: it ends the URL
    // (looked at once: later apostrophes are further into the path)
    if start > 0 && b[start - 1] == b'\'' || !b.get(t + 3..end).is_some_and(|a| a.contains(&b'/')) {
        return Some(end);
    }
    while b.get(end) == Some(&b'\'') {
        end = stop_or_high(b, end + 1, step);
        if end < b.len() && b[end] >= 0x80 {
            return None;
        }
    }
    Some(end)
}

/// When the colon at `t` ends `http` or `https` and two slashes (not three) follow: where the
/// scheme starts, and which.
#[inline(always)]
fn http_scheme_at(b: &[u8], t: usize) -> Option<(usize, Scheme)> {
    // The eight bytes ending two after the colon as one word, compared with both forms at
    // once: one branch to guess between this trigger and the full stops and at signs.
    const HTTPS: u64 = u64::from_le_bytes(*b"https://");
    const HTTP: u64 = u64::from_le_bytes(*b"http://\0");
    if let Some(w) = t.checked_sub(5).and_then(|s| b.get(s..t + 3)) {
        let w = <[u8; 8]>::try_from(w).map_or(0, u64::from_le_bytes);
        let https = w == HTTPS;
        if !(https | (w >> 8 == HTTP)) || matches!(b.get(t + 3), Some(b'/' | b'\\')) {
            return None;
        }
        let scheme = if https { Scheme::Https } else { Scheme::Http };
        return Some((t - 4 - usize::from(https), scheme));
    }
    http_scheme_bytes(b, t)
}

/// [`http_scheme_at`] a byte at a time (near the start or end of the text).
fn http_scheme_bytes(b: &[u8], t: usize) -> Option<(usize, Scheme)> {
    if b[t] != b':'
        || b.get(t + 1..t + 3) != Some(b"//")
        || matches!(b.get(t + 3), Some(b'/' | b'\\'))
    {
        return None;
    }
    if t >= 5 && &b[t - 5..t] == b"https" {
        Some((t - 5, Scheme::Https))
    } else if t >= 4 && &b[t - 4..t] == b"http" {
        Some((t - 4, Scheme::Http))
    } else {
        None
    }
}

/// A path and query (decoded) out of a URL that carries one `http://` or `https://` URL as
/// most redirectors write it (`/track?u=https://land.example/`): its first trigger byte is the
/// URL's colon, only ASCII bytes without a delimiter come before the scheme, and the URL runs
/// in ASCII bytes to the end. Does what `scan` in [`Mode::Nested`] would do with it, and says
/// whether it did. That scan sees one token; `schemeless` finds nothing in the part before the
/// scheme, which has no trigger byte (no dot, at sign, `%`, bracket or byte past ASCII: no
/// host or address, whatever the token's classes), and then `url` reads the rest.
fn carried_url(cx: &mut Ctx<'_>, d: &str, spans: Spans<'_>, depth: u8) -> bool {
    let b = d.as_bytes();
    // The first trigger byte, delimiter or byte past ASCII: it must be the colon (the bytes
    // of the scheme before it are none of them).
    let Some(t) = first_carried(b) else {
        return false;
    };
    let Some((s, scheme)) = http_scheme_at(b, t) else {
        return false;
    };
    if stop_or_high(b, t, &STEP_NESTED) != b.len() {
        return false;
    }
    // the rest after a cut is scanned on its own
    if let Some(k) = url(cx, d, 0, s, t + 1, scheme, false, spans, depth) {
        scan(cx, &d[k..], spans, Mode::Nested, depth);
    }
    true
}

/// The bytes [`carried_url`] stops at: the trigger bytes, the delimiters of a query string
/// and those past ASCII.
static CARRIED: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = GROUP_OF[c] != 0 || c >= 0x80 || STEP_NESTED[c] & STOP != 0;
        c += 1;
    }
    t
};

/// The first byte at or after `from` that is an ASCII delimiter of the walk table `step`
/// ([`STOP`]) or past ASCII, else `b.len()`: sixteen bytes a step with SSE2.
#[inline]
fn stop_or_high(b: &[u8], from: usize, step: &[u8; 256]) -> usize {
    #[cfg(target_arch = "x86_64")]
    let i = {
        let nested = std::ptr::eq(step, &STEP_NESTED);
        match find_16(b, from, |w| stop_or_high_16(w, nested)) {
            Ok(k) => return k,
            Err(i) => i,
        }
    };
    #[cfg(not(target_arch = "x86_64"))]
    let i = from;
    b[i..]
        .iter()
        .position(|&c| step[c as usize] & (STOP | M_HIGH) != 0)
        .map_or(b.len(), |k| i + k)
}

/// The first byte at or after `from` whose bit `block` sets (`block` reads sixteen bytes and
/// sets bit `k` for byte `k`), sixteen bytes a step; the last ones, fewer than sixteen,
/// through the sixteen that end the text. `Ok` with it, or `b.len()` when there is none;
/// `Err` with where the bytes start that a text shorter than sixteen leaves to a byte loop.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn find_16(b: &[u8], from: usize, block: impl Fn(&[u8]) -> u32) -> Result<usize, usize> {
    let mut i = from;
    while let Some(w) = b.get(i..i + 16) {
        let m = block(w);
        if m != 0 {
            return Ok(i + m.trailing_zeros() as usize);
        }
        i += 16;
    }
    if i >= b.len() {
        return Ok(b.len());
    }
    let base = b.len().checked_sub(16).ok_or(i)?;
    let m = block(&b[base..]) >> (i - base);
    Ok(if m != 0 {
        i + m.trailing_zeros() as usize
    } else {
        b.len()
    })
}

/// Bit `k` set when `w[k]` (of sixteen) is a byte [`stop_or_high`] stops at: at most a space,
/// DEL or past ASCII, `<` `>` `"` `` ` `` `'` `|` `^`, and `&` in a query string.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn stop_or_high_16(w: &[u8], nested: bool) -> u32 {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, cmp_lt_mask_i8_m128i, load_unaligned_m128i,
        move_mask_i8_m128i, set_splat_i8_m128i,
    };
    let Ok(w) = <&[u8; 16]>::try_from(w) else {
        return 0;
    };
    let x = load_unaligned_m128i(w);
    let eq = |c: u8| cmp_eq_mask_i8_m128i(x, set_splat_i8_m128i(c as i8));
    // signed, bytes past ASCII are negative: below `!` is white space, controls and those
    let low_or_high = cmp_lt_mask_i8_m128i(x, set_splat_i8_m128i(b'!' as i8));
    let mut m = bitor_m128i(low_or_high, eq(0x7f));
    m = bitor_m128i(m, bitor_m128i(eq(b'<'), eq(b'>')));
    m = bitor_m128i(m, bitor_m128i(eq(b'"'), eq(b'`')));
    m = bitor_m128i(m, bitor_m128i(eq(b'\''), eq(b'|')));
    if nested {
        m = bitor_m128i(m, eq(b'&'));
    }
    move_mask_i8_m128i(m) as u32
}

/// The first byte of `b` that [`CARRIED`] holds: sixteen bytes a step with SSE2.
#[inline]
fn first_carried(b: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    let i = match find_16(b, 0, carried_16) {
        Ok(k) => return (k < b.len()).then_some(k),
        Err(i) => i,
    };
    #[cfg(not(target_arch = "x86_64"))]
    let i = 0;
    b[i..]
        .iter()
        .position(|&c| CARRIED[c as usize])
        .map(|k| i + k)
}

/// Bit `k` set when `w[k]` (of sixteen) is a byte of [`CARRIED`]: what [`stop_or_high_16`]
/// finds in a query string, and the ASCII trigger bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn carried_16(w: &[u8]) -> u32 {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };
    let Ok(a) = <&[u8; 16]>::try_from(w) else {
        return 0;
    };
    let x = load_unaligned_m128i(a);
    let eq = |c: u8| cmp_eq_mask_i8_m128i(x, set_splat_i8_m128i(c as i8));
    let g0 = bitor_m128i(bitor_m128i(eq(b'.'), eq(b':')), eq(b'@'));
    let rare = bitor_m128i(
        bitor_m128i(eq(b'%'), eq(b'(')),
        bitor_m128i(eq(b'['), eq(b'{')),
    );
    stop_or_high_16(w, true) | move_mask_i8_m128i(bitor_m128i(g0, rare)) as u32
}

/// Length of the delimiter at `b[i]`, 0 when it is not one.
#[inline]
fn is_delim(table: &[u8; 256], b: &[u8], i: usize) -> usize {
    let c = b[i];
    if c < 0x80 {
        usize::from(table[c as usize] & DELIM != 0)
    } else {
        unicode_delim_len(&b[i..])
    }
}

/// The next trigger byte: on processors with AVX2 from the bits of every group found a
/// chunk at a time ([`trigger_bits`], [`Chunk`]); else from three vectorised searches run
/// ahead and merged: group 0 by [`word_trigger`] (SSE2), the two groups of rare bytes by
/// `memchr` searchers.
struct Triggers {
    /// The next trigger of each group at or after the last `from`; [`NOWHERE`] when none.
    next: [usize; 3],
    /// The earlier of `next[1]` and `next[2]`: the groups of rare bytes, looked at again only
    /// once passed (group 0, `.` `:` `@`, is the one met at every sentence).
    rare: usize,
    /// The searchers of groups 1 and 2; `None` for a short text, and when `merged`.
    searchers: Option<[Three; 2]>,
    /// Every group in one search, a chunk of bits at a time ([`trigger_bits`], [`Chunk`]):
    /// on processors with AVX2, for a text that is not short.
    merged: bool,
    /// When `merged`: the trigger bits of the chunk of text the scan is in.
    chunk: Chunk,
}

/// Bytes of text whose triggers [`trigger_bits`] finds at once.
const CHUNK: usize = 1024;
/// Words of bits a chunk has: fewer than 32, the bits of [`Chunk::nonzero`] and of the shift
/// past the last word in [`Chunk::next`].
const WORDS: usize = CHUNK / 64;
const _: () = assert!(WORDS < 32);

/// The triggers of `base..end` of a text as bits: the next one after a place is read from them
/// without a branch ([`Chunk::next`]), where a search that stops at it ends its loop there, at
/// a step the processor cannot foresee (about one wrong guess a trigger).
struct Chunk {
    base: usize,
    end: usize,
    /// Bit `k % 64` of word `k / 64`: byte `base + k` is a trigger.
    words: [u64; WORDS],
    /// Bit `w`: word `w` is not zero.
    nonzero: u32,
}

impl Chunk {
    /// The first trigger at or after `from` (in `base..end`) of the chunk, if it has one.
    #[inline(always)]
    fn next(&self, from: usize) -> Option<usize> {
        let off = from - self.base;
        let wi = off / 64;
        let m = self.words[wi % WORDS] & (u64::MAX << (off % 64));
        // else the first of the words after this one that has a trigger
        let later = self.nonzero & (u32::MAX << (wi + 1));
        let wj = later.trailing_zeros() as usize;
        let k = std::hint::select_unpredictable(
            m != 0,
            wi * 64 + m.trailing_zeros() as usize,
            wj * 64 + self.words[wj % WORDS].trailing_zeros() as usize,
        );
        (m | u64::from(later) != 0).then_some(self.base + k)
    }

    /// The chunk from `base` of text `b`.
    fn fill(&mut self, b: &[u8], base: usize) {
        self.base = base;
        self.end = trigger_bits(b, base, &mut self.words);
        self.nonzero = 0;
        for (w, &x) in self.words.iter().enumerate() {
            self.nonzero |= u32::from(x != 0) << w;
        }
    }
}

/// No more trigger of a group.
const NOWHERE: usize = usize::MAX;

/// The trigger bytes of each search.
const GROUPS: [[u8; 3]; 3] = [[b'.', b':', b'@'], [b'%', b'(', b'['], [b'{', 0xE3, 0xEF]];

/// Bit `k` is set for the trigger bytes of group `k`.
static GROUP_OF: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut k = 0;
    while k < 3 {
        let mut j = 0;
        while j < 3 {
            t[GROUPS[k][j] as usize] |= 1 << k;
            j += 1;
        }
        k += 1;
    }
    t
};

/// A search for any of three bytes, for processors without AVX2 (with it, [`trigger_bits`]
/// finds every trigger; the tests run both designs side by side). On x86-64 the SSE2
/// searcher, which every such processor has, is built once per text: `memchr::memchr3` would
/// look for the processor's best searcher and set the vectors up again at every call, which
/// is most of the cost of a search that stops after a few dozen bytes.
#[derive(Clone, Copy)]
enum Three {
    #[cfg(target_arch = "x86_64")]
    Sse2(memchr::arch::x86_64::sse2::memchr::Three),
    Any([u8; 3]),
}

impl Three {
    fn new(n: [u8; 3]) -> Three {
        #[cfg(target_arch = "x86_64")]
        if let Some(t) = memchr::arch::x86_64::sse2::memchr::Three::new(n[0], n[1], n[2]) {
            return Three::Sse2(t);
        }
        Three::Any(n)
    }

    #[inline]
    fn find(&self, hay: &[u8]) -> Option<usize> {
        match self {
            #[cfg(target_arch = "x86_64")]
            Three::Sse2(t) => t.find(hay),
            Three::Any(n) => memchr::memchr3(n[0], n[1], n[2], hay),
        }
    }
}

/// Texts shorter than this (URL parts, attribute values) are searched byte by byte: that
/// beats the set-up of a vectorised search.
const SHORT: usize = 64;

/// Whether the processor has AVX2 (what [`trigger_bits`] is built for).
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

impl Triggers {
    fn new(b: &[u8]) -> Triggers {
        Triggers::with(b, b.len() >= SHORT && has_avx2())
    }

    /// The searches of a text; `merged` when AVX2 may be used.
    fn with(b: &[u8], merged: bool) -> Triggers {
        let mut t = Triggers {
            next: [NOWHERE; 3],
            rare: NOWHERE,
            searchers: None,
            merged: false,
            chunk: Chunk {
                base: 0,
                end: 0,
                words: [0; WORDS],
                nonzero: 0,
            },
        };
        if b.len() < SHORT {
            // Searched a byte at a time by `next`.
            return t;
        }
        if merged {
            t.merged = true;
            return t;
        }
        t.searchers = Some([Three::new(GROUPS[1]), Three::new(GROUPS[2])]);
        for k in 0..3 {
            t.next[k] = t.find(k, b, 0).unwrap_or(NOWHERE);
        }
        t.rare = t.next[1].min(t.next[2]);
        t
    }

    #[inline]
    fn find(&self, k: usize, b: &[u8], from: usize) -> Option<usize> {
        let hay = b.get(from..)?;
        match &self.searchers {
            Some(_) if k == 0 && hay.len() >= SHORT => return word_trigger(b, from),
            Some(s) if hay.len() >= SHORT => s[k - 1].find(hay),
            _ => {
                let bit = 1 << k;
                hay.iter().position(|&c| GROUP_OF[c as usize] & bit != 0)
            }
        }
        .map(|x| from + x)
    }

    #[inline]
    fn next(&mut self, b: &[u8], from: usize) -> Option<usize> {
        if self.merged {
            let mut from = from;
            loop {
                if (self.chunk.base..self.chunk.end).contains(&from) {
                    match self.chunk.next(from) {
                        Some(t) => return Some(t),
                        None => from = self.chunk.end,
                    }
                }
                if from >= b.len() {
                    return None;
                }
                self.chunk.fill(b, from);
            }
        }
        if self.searchers.is_none() {
            // A short text: the next byte of any group, in one loop.
            let k = b
                .get(from..)?
                .iter()
                .position(|&c| GROUP_OF[c as usize] != 0)?;
            return Some(from + k);
        }
        if self.next[0] < from {
            self.next[0] = self.find(0, b, from).unwrap_or(NOWHERE);
        }
        if self.rare < from {
            for k in 1..3 {
                if self.next[k] < from {
                    self.next[k] = self.find(k, b, from).unwrap_or(NOWHERE);
                }
            }
            self.rare = self.next[1].min(self.next[2]);
        }
        let best = self.next[0].min(self.rare);
        (best != NOWHERE).then_some(best)
    }
}

/// Whether a byte `c` followed by `next` is a trigger of a text that is not short: a byte of
/// group 0 followed by a byte other than ASCII white space (see [`word_trigger`]), or a byte of
/// the other groups.
#[inline(always)]
fn is_trigger(c: u8, next: u8) -> bool {
    let g0 = (c == b'.') | (c == b':') | (c == b'@');
    let rare = (c == b'%') | (c == b'(') | (c == b'[') | (c == b'{') | (c == 0xE3) | (c == 0xEF);
    (g0 & (next > b' ')) | rare
}

/// [`is_trigger`] for `b[k]` and the byte after it (none at the end).
#[inline]
fn is_trigger_at(b: &[u8], k: usize) -> bool {
    is_trigger(b[k], b.get(k + 1).copied().unwrap_or(0))
}

/// The triggers of `b` from `base` on, [`CHUNK`] bytes of them at most, as bits in `words`
/// (bit `k % 64` of word `k / 64` for byte `base + k`): with AVX2 when the processor has it,
/// else byte by byte. Where the bits end.
#[multiversion::multiversion(targets("x86_64+avx2"))]
fn trigger_bits(b: &[u8], base: usize, words: &mut [u64; WORDS]) -> usize {
    multiversion::target::match_target! {
        "x86_64+avx2" => trigger_bits_avx2(b, base, words),
        _ => {
            *words = [0; WORDS];
            trigger_bits_bytes(b, base, base, words)
        }
    }
}

/// [`trigger_bits`] a byte at a time, from `from` (the bits from it on are clear; those
/// before it are left as they are).
fn trigger_bits_bytes(b: &[u8], base: usize, from: usize, words: &mut [u64; WORDS]) -> usize {
    let end = b.len().min(base + CHUNK);
    for k in from..end {
        if is_trigger_at(b, k) {
            words[(k - base) / 64 % WORDS] |= 1 << ((k - base) % 64);
        }
    }
    end
}

/// [`trigger_bits`] 32 bytes a step.
///
/// Built with AVX2 on (`-C target-cpu=native` on such a processor), [`trigger_bits`] calls it
/// straight, from code without the feature: then the same steps come from the safe wrappers
/// of [`avx2_on`].
#[cfg(target_arch = "x86_64")]
#[cfg_attr(not(target_feature = "avx2"), target_feature(enable = "avx2"))]
fn trigger_bits_avx2(b: &[u8], base: usize, words: &mut [u64; WORDS]) -> usize {
    #[cfg(target_feature = "avx2")]
    use avx2_on::{
        _mm256_and_si256, _mm256_andnot_si256, _mm256_cmpeq_epi8, _mm256_min_epu8,
        _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8, _mm256_setzero_si256,
        _mm256_shuffle_epi8, _mm256_srli_epi16,
    };
    use std::arch::x86_64::__m256i;
    #[cfg(not(target_feature = "avx2"))]
    use std::arch::x86_64::{
        _mm256_and_si256, _mm256_andnot_si256, _mm256_cmpeq_epi8, _mm256_min_epu8,
        _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8, _mm256_setzero_si256,
        _mm256_shuffle_epi8, _mm256_srli_epi16,
    };
    // The trigger bytes by their two nibbles: the bits of the high nibble's entry that the
    // low nibble's entry also has (one bit for each high nibble and group) name the byte's
    // group. Group 0 (`.` `:` `@`) has bits 0-2, the rare bytes bits 3-6.
    const HI: [u8; 16] = {
        let mut t = [0u8; 16];
        t[0x2] = 0x01 | 0x08; // `.` | `%` `(`
        t[0x3] = 0x02; // `:`
        t[0x4] = 0x04; // `@`
        t[0x5] = 0x10; // `[`
        t[0x7] = 0x20; // `{`
        t[0xE] = 0x40; // 0xE3 0xEF
        t
    };
    const LO: [u8; 16] = {
        let mut t = [0u8; 16];
        t[0xE] = 0x01;
        t[0xA] = 0x02;
        t[0x0] = 0x04;
        t[0x5] = 0x08;
        t[0x8] = 0x08;
        t[0xB] = 0x10 | 0x20;
        t[0x3] = 0x40;
        t[0xF] = 0x40;
        t
    };
    // both 128-bit lanes look up the same sixteen entries
    let lanes = |t: [u8; 16]| -> __m256i {
        let mut w = [0u8; 32];
        w[..16].copy_from_slice(&t);
        w[16..].copy_from_slice(&t);
        bytemuck::cast(w)
    };
    let (hi_t, lo_t) = (lanes(HI), lanes(LO));
    let nibble = _mm256_set1_epi8(0x0F);
    let group0 = _mm256_set1_epi8(0x07);
    let rare = _mm256_set1_epi8(0x78);
    let space = _mm256_set1_epi8(b' ' as i8);
    // bit k of the mask: byte k of `x` is a trigger, `y` being the bytes after those of `x`
    let block = |x: &[u8], y: &[u8]| -> u32 {
        let (Ok(x), Ok(y)) = (<[u8; 32]>::try_from(x), <[u8; 32]>::try_from(y)) else {
            return 0;
        };
        let x: __m256i = bytemuck::cast(x);
        let y: __m256i = bytemuck::cast(y);
        let lo = _mm256_shuffle_epi8(lo_t, _mm256_and_si256(x, nibble));
        let hi = _mm256_shuffle_epi8(hi_t, _mm256_and_si256(_mm256_srli_epi16::<4>(x), nibble));
        // the next byte is at most a space: unsigned min(y, ' ') == y
        let white = _mm256_cmpeq_epi8(_mm256_min_epu8(y, space), y);
        let keep = _mm256_or_si256(rare, _mm256_andnot_si256(white, group0));
        let none = _mm256_cmpeq_epi8(
            _mm256_and_si256(_mm256_and_si256(lo, hi), keep),
            _mm256_setzero_si256(),
        );
        !(_mm256_movemask_epi8(none) as u32)
    };
    for (k, word) in words.iter_mut().enumerate() {
        let i = base + 64 * k;
        let Some(v) = b.get(i..i + 65) else {
            // the last bytes of the text
            words[k..].fill(0);
            return trigger_bits_bytes(b, base, i, words);
        };
        *word =
            u64::from(block(&v[..32], &v[1..33])) | u64::from(block(&v[32..64], &v[33..])) << 32;
    }
    base + CHUNK
}

/// The AVX2 steps of [`trigger_bits_avx2`] under their `std::arch` names, as safe functions
/// (through `safe_arch`) for a build with AVX2 on, where the search is called from code
/// without the feature named: `std::arch`'s would need `unsafe` there.
#[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
mod avx2_on {
    use safe_arch::m256i;
    use std::arch::x86_64::__m256i;

    pub(super) fn _mm256_and_si256(a: __m256i, b: __m256i) -> __m256i {
        safe_arch::bitand_m256i(m256i(a), m256i(b)).0
    }
    pub(super) fn _mm256_andnot_si256(a: __m256i, b: __m256i) -> __m256i {
        safe_arch::bitandnot_m256i(m256i(a), m256i(b)).0
    }
    pub(super) fn _mm256_cmpeq_epi8(a: __m256i, b: __m256i) -> __m256i {
        safe_arch::cmp_eq_mask_i8_m256i(m256i(a), m256i(b)).0
    }
    pub(super) fn _mm256_min_epu8(a: __m256i, b: __m256i) -> __m256i {
        safe_arch::min_u8_m256i(m256i(a), m256i(b)).0
    }
    pub(super) fn _mm256_movemask_epi8(a: __m256i) -> i32 {
        safe_arch::move_mask_i8_m256i(m256i(a))
    }
    pub(super) fn _mm256_or_si256(a: __m256i, b: __m256i) -> __m256i {
        safe_arch::bitor_m256i(m256i(a), m256i(b)).0
    }
    pub(super) fn _mm256_set1_epi8(x: i8) -> __m256i {
        safe_arch::set_splat_i8_m256i(x).0
    }
    pub(super) fn _mm256_setzero_si256() -> __m256i {
        safe_arch::zeroed_m256i().0
    }
    pub(super) fn _mm256_shuffle_epi8(a: __m256i, b: __m256i) -> __m256i {
        safe_arch::shuffle_av_i8z_half_m256i(m256i(a), m256i(b)).0
    }
    pub(super) fn _mm256_srli_epi16<const IMM: i32>(a: __m256i) -> __m256i {
        safe_arch::shr_imm_u16_m256i::<IMM>(m256i(a)).0
    }
}

/// The first `.`, `:` or `@` at or after `from` that is followed by a byte other than ASCII
/// white space: the one at the end of a sentence (`word. `, `Note:` at a line's end) holds
/// nothing, as the token has no other byte of the group before it (that one would have been
/// found first) and only this group's bytes are dropped (the other groups' searches find
/// `(dot)`, `%2E` and the Unicode full stops). Sixteen bytes a step with SSE2, every x86-64
/// CPU's, instead of a stop at every sentence.
#[cfg(target_arch = "x86_64")]
fn word_trigger(b: &[u8], from: usize) -> Option<usize> {
    use safe_arch::{
        bitandnot_m128i, bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, m128i,
        min_u8_m128i, move_mask_i8_m128i, set_splat_i8_m128i,
    };
    let splat = |c: u8| set_splat_i8_m128i(c as i8);
    let (dot, colon, at, space) = (splat(b'.'), splat(b':'), splat(b'@'), splat(b' '));
    // The bytes of `x` that are triggers, `y` being the bytes after them.
    let lanes = |x: m128i, y: m128i| {
        let hit = bitor_m128i(
            bitor_m128i(cmp_eq_mask_i8_m128i(x, dot), cmp_eq_mask_i8_m128i(x, colon)),
            cmp_eq_mask_i8_m128i(x, at),
        );
        // the next byte is at most a space: unsigned min(y, ' ') == y
        let white = cmp_eq_mask_i8_m128i(min_u8_m128i(y, space), y);
        move_mask_i8_m128i(bitandnot_m128i(white, hit)) as u32
    };
    let load = |w: &[u8]| <&[u8; 16]>::try_from(w).map(load_unaligned_m128i);
    let mut i = from;
    // Thirty-two bytes a turn (and the one after them).
    while let Some(w) = b.get(i..i + 33) {
        if let (Ok(x0), Ok(y0), Ok(x1), Ok(y1)) = (
            load(&w[..16]),
            load(&w[1..17]),
            load(&w[16..32]),
            load(&w[17..33]),
        ) {
            let m = lanes(x0, y0) | lanes(x1, y1) << 16;
            if m != 0 {
                return Some(i + m.trailing_zeros() as usize);
            }
        }
        i += 32;
    }
    word_trigger_bytes(b, i)
}

#[cfg(not(target_arch = "x86_64"))]
fn word_trigger(b: &[u8], from: usize) -> Option<usize> {
    word_trigger_bytes(b, from)
}

/// [`word_trigger`] a byte at a time.
fn word_trigger_bytes(b: &[u8], from: usize) -> Option<usize> {
    (from..b.len())
        .find(|&i| matches!(b[i], b'.' | b':' | b'@') && b.get(i + 1).is_some_and(|&c| c > b' '))
}

/// Recognised schemes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scheme {
    Http,
    Https,
    Ftp,
    Mailto,
}

impl Scheme {
    /// The scheme and `://`, as a URL starts.
    fn prefix(self) -> &'static str {
        match self {
            Scheme::Http => "http://",
            Scheme::Https => "https://",
            Scheme::Ftp => "ftp://",
            Scheme::Mailto => "mailto:",
        }
    }

    /// Whether `b` starts with [`Scheme::prefix`] (compared as words of known length).
    #[inline(always)]
    fn written_as_prefix(self, b: &[u8]) -> bool {
        match self {
            Scheme::Http => b.get(..7) == Some(b"http://"),
            Scheme::Https => b.get(..8) == Some(b"https://"),
            Scheme::Ftp => b.get(..6) == Some(b"ftp://"),
            Scheme::Mailto => b.get(..7) == Some(b"mailto:"),
        }
    }

    fn default_port(self) -> Option<u16> {
        match self {
            Scheme::Http => Some(80),
            Scheme::Https => Some(443),
            Scheme::Ftp => Some(21),
            Scheme::Mailto => None,
        }
    }
}

/// Reads a scheme written as `s` (any case), and whether it was disguised.
fn scheme_of(s: &[u8]) -> Option<(Scheme, bool)> {
    let mut buf = [0u8; 6];
    if s.len() > buf.len() {
        return None;
    }
    for (d, &c) in buf.iter_mut().zip(s) {
        *d = c.to_ascii_lowercase();
    }
    let l = &buf[..s.len()];
    let disguised = |c: u8| matches!(c, b'x' | b't' | b'*' | b'_');
    Some(match l {
        b"http" => (Scheme::Http, false),
        b"https" => (Scheme::Https, false),
        b"ftp" => (Scheme::Ftp, false),
        b"mailto" => (Scheme::Mailto, false),
        [b'h', a, c, b'p'] if disguised(*a) && disguised(*c) => (Scheme::Http, true),
        [b'h', a, c, b'p', b's'] if disguised(*a) && disguised(*c) => (Scheme::Https, true),
        b"fxp" => (Scheme::Ftp, true),
        b"ttp" => (Scheme::Http, true),
        b"ttps" => (Scheme::Https, true),
        _ => return None,
    })
}

/// A scheme ending just before the `:` at `colon`, not starting before `from`: its start,
/// the scheme, and whether it was disguised.
fn scheme_before(b: &[u8], from: usize, colon: usize) -> Option<(usize, Scheme, bool)> {
    // The schemes as most links write them: no longer run of letters before them is a scheme
    // (none of six letters ends in `http` or `https`, none of five in `http`).
    let before = &b[from..colon];
    if before.ends_with(b"https") {
        return Some((colon - 5, Scheme::Https, false));
    }
    if before.ends_with(b"http") {
        return Some((colon - 4, Scheme::Http, false));
    }
    let mut k = colon;
    let lo = from.max(colon.saturating_sub(6));
    while k > lo && (b[k - 1].is_ascii_alphabetic() || b[k - 1] == b'*' || b[k - 1] == b'_') {
        k -= 1;
    }
    let run = &b[k..colon];
    for len in (3..=run.len()).rev() {
        if let Some((s, d)) = scheme_of(&run[run.len() - len..]) {
            return Some((colon - len, s, d));
        }
    }
    None
}

/// Trims trailing punctuation from `b[start..end]`, keeping closing brackets that close one
/// opened inside.
#[inline(always)]
fn trim_end(b: &[u8], start: usize, end: usize) -> usize {
    // Most texts end in a letter, a digit or `/`: nothing to trim.
    match end.checked_sub(1).filter(|&k| k >= start).map(|k| b[k]) {
        Some(c) if c.is_ascii_alphanumeric() || c == b'/' => end,
        _ => trim_end_slow(b, start, end),
    }
}

/// [`trim_end`] once the last byte may be trimmed.
fn trim_end_slow(b: &[u8], start: usize, mut end: usize) -> usize {
    // Bracket counts, taken only when a closing bracket is met at the end.
    let mut counts: Option<[i64; 6]> = None;
    while end > start {
        let c = b[end - 1];
        let k = match c {
            b')' => 0,
            b']' => 2,
            b'}' => 4,
            // an apostrophe without its pair, taken into a URL's path by `plain_url_token`
            b'\'' if b[start..end].iter().filter(|&&c| c == b'\'').count() % 2 == 1 => {
                end -= 1;
                continue;
            }
            // an opening bracket does not end a URL (`http://example.com/(`)
            b'.' | b',' | b';' | b':' | b'!' | b'?' | b'*' | b'\\' | b'-' | b'~' | b'(' | b'['
            | b'{' => {
                end -= 1;
                continue;
            }
            // 。 ． ， ｡ and the ideographic comma at the end.
            0x82 | 0x81 if end - start >= 3 && b[end - 3] == 0xE3 && b[end - 2] == 0x80 => {
                end -= 3;
                continue;
            }
            0x8E | 0x8C if end - start >= 3 && b[end - 3] == 0xEF && b[end - 2] == 0xBC => {
                end -= 3;
                continue;
            }
            0xA1 if end - start >= 3 && b[end - 3] == 0xEF && b[end - 2] == 0xBD => {
                end -= 3;
                continue;
            }
            _ => return end,
        };
        let counts = counts.get_or_insert_with(|| {
            let mut n = [0i64; 6];
            for &c in &b[start..end] {
                match c {
                    b'(' => n[0] += 1,
                    b')' => n[1] += 1,
                    b'[' => n[2] += 1,
                    b']' => n[3] += 1,
                    b'{' => n[4] += 1,
                    b'}' => n[5] += 1,
                    _ => {}
                }
            }
            n
        });
        if counts[k + 1] > counts[k] {
            counts[k + 1] -= 1;
            end -= 1;
        } else {
            return end;
        }
    }
    end
}

/// One token (a run without delimiters) holding a trigger byte at `trigger`.
/// `mask` holds the classes ([`mask_table`]) of its bytes.
#[allow(clippy::too_many_arguments)]
fn token(
    cx: &mut Ctx<'_>,
    tok: &str,
    mask: u8,
    trigger: usize,
    at: usize,
    spans: Spans<'_>,
    mode: Mode,
    depth: u8,
) -> Option<usize> {
    let b = tok.as_bytes();
    if !worth_a_look(b, trigger) {
        return None;
    }
    if mask & M_COLON != 0 {
        // Tokens are short: a plain loop beats the set-up of a vectorised search.
        // No colon before the trigger: it would be the first trigger.
        for colon in (trigger..b.len()).filter(|&i| b[i] == b':') {
            let Some((s, scheme, disguised)) = scheme_before(b, 0, colon) else {
                continue;
            };
            if s > 0 && mode != Mode::SchemeOnly {
                schemeless(cx, &tok[..s], at, spans, mode, mask);
            }
            return url(cx, tok, at, s, colon + 1, scheme, disguised, spans, depth);
        }
    }
    if mode == Mode::Nested && usize::from(depth) < cx.ex.max_redirect_depth && mask & M_PCT != 0 {
        // Encoded once more than its container: decode and look again, one level deeper.
        let mut buf = cx.bufs.pop().unwrap_or_default();
        let again = match host::percent_decode_str(tok, &mut buf) {
            Some(decoded) if decoded != tok => {
                scan(cx, decoded, spans, Mode::Nested, depth + 1);
                true
            }
            _ => false,
        };
        cx.bufs.push(buf);
        if again {
            return None;
        }
    }
    if mode != Mode::SchemeOnly {
        schemeless(cx, tok, at, spans, mode, mask);
    }
    None
}

/// Whether a token holds a trigger byte once its leading and trailing punctuation is set
/// aside: `word.` and `(so:` do not. `b[trigger]` is a trigger byte: when it is inside, the
/// answer is known without looking further.
#[inline]
fn worth_a_look(b: &[u8], trigger: usize) -> bool {
    let mut e = b.len();
    while e > 0
        && matches!(
            b[e - 1],
            b'.' | b',' | b';' | b':' | b'!' | b'?' | b')' | b']' | b'}'
        )
    {
        e -= 1;
    }
    let mut s = 0;
    while s < e && matches!(b[s], b'(' | b'[' | b'{' | b'*' | b'-' | b'.') {
        s += 1;
    }
    if (s..e).contains(&trigger) {
        return true;
    }
    b[s..e]
        .iter()
        .any(|&c| matches!(c, b'.' | b':' | b'@' | b'%' | b'(' | b'[' | b'{') || c >= 0x80)
}

/// Bare hosts that are more often file names than hosts in prose (the top-level domain is also
/// a common file extension), refused unless written with `www.`, a path or a scheme.
const FILE_LIKE_TLDS: &[&str] = &["am", "md", "mov", "pm", "ps", "py", "rs", "sh", "so", "zip"];

/// Punctuation set aside at the start of a piece.
#[inline]
fn is_word_punct_lead(c: u8) -> bool {
    matches!(
        c,
        b'(' | b'['
            | b'{'
            | b'<'
            | b'\''
            | b'"'
            | b'*'
            | b','
            | b';'
            | b':'
            | b'!'
            | b'?'
            | b'.'
            | b'-'
            | b'_'
            | b'~'
            | b'/'
            | b'\\'
            | b'='
            | b'#'
            | b'&'
            | b'+'
            | b'$'
    )
}

/// Bare hosts, hosts with a path but no scheme, emails and IP addresses.
/// `mask` holds at least the bytes of `seg` ([`mask_table`]).
fn schemeless(cx: &mut Ctx<'_>, seg: &str, at: usize, spans: Spans<'_>, mode: Mode, mask: u8) {
    let b = seg.as_bytes();
    // A host needs a dot (or a Unicode full stop, an obfuscated or encoded dot), an address
    // an at sign (or `(at)`): without them (`url=` before a scheme, `10:30`) nothing is here.
    if mask & (M_HIGH | M_BRACKET | M_PCT) == 0 && !b.iter().any(|&c| c == b'.' || c == b'@') {
        return;
    }
    let mut s = 0;
    let n = b.len();
    if mask & M_SEP == 0 {
        piece(cx, seg, 0, n, at, spans, mode, mask);
        return;
    }
    // Pieces separated by `,` `;` (lists in prose), and `=` in a query.
    let eq = if mode == Mode::Nested { b'=' } else { b',' };
    while s < n {
        let e = b[s..]
            .iter()
            .position(|&c| c == b',' || c == b';' || c == eq)
            .map_or(n, |k| s + k);
        piece(cx, seg, s, e, at, spans, mode, mask);
        if cx.stopped() {
            return;
        }
        s = e + 1;
    }
}

#[allow(clippy::too_many_arguments)]
fn piece(
    cx: &mut Ctx<'_>,
    seg: &str,
    mut s: usize,
    e: usize,
    at: usize,
    spans: Spans<'_>,
    mode: Mode,
    mask: u8,
) {
    let b = seg.as_bytes();
    // Each turn either finds what the piece holds or moves `s` past a prefix that is not
    // part of it (an at sign without an address, `key=`, `word:`), so the turns are as
    // many as those bytes and each reads only up to the next of them.
    let (p, pb, part, e) = loop {
        while s < e && is_word_punct_lead(b[s]) && host::obfuscated_dot_len(&b[s..e]) == 0 {
            s += 1;
        }
        let e = trim_end(b, s, e);
        if s >= e || !seg.is_char_boundary(s) || !seg.is_char_boundary(e) {
            return;
        }
        let p = &seg[s..e];
        let pb = p.as_bytes();
        let part = HostPart::of(pb);
        let host_end = part.end;
        // Email: local@domain, or local(at)domain.
        let at_pos = if mask & (M_AT | M_BRACKET) == 0 {
            None
        } else {
            part.first_at.map(|k| (k, 1)).or_else(|| {
                pb.iter()
                    .position(|c| matches!(c, b'(' | b'[' | b'{'))
                    .and_then(|k| {
                        let l = host::obfuscated_at_len(&pb[k..]);
                        (l > 0).then_some((k, l))
                    })
            })
        };
        if let Some((k, l)) = at_pos {
            if email(cx, p, k, l, at + s, spans, mode) {
                return;
            }
            // no address (`@www.example.com`, `a@@example.com`): what follows the at
            // sign may still be a host
            s += k + l;
            continue;
        }
        if cx.ex.bare_hosts == BareHosts::Ignore {
            return;
        }
        // `key=host` in prose (an equals sign is no host's byte; in a query string the
        // pieces were cut at it already)
        if let Some(k) = part.last_eq.filter(|_| mask & M_SEP != 0) {
            s += k + 1;
            continue;
        }
        // `word:host`: a colon after a word with no dot, then no port or path
        if pb.get(host_end) == Some(&b':')
            && part.dots == 0
            && pb
                .get(host_end + 1)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c >= 0x80)
        {
            s += host_end + 1;
            continue;
        }
        break (p, pb, part, e);
    };
    let host_end = part.end;
    // host[:port][/path]
    let raw = &p[..host_end];
    let rb = raw.as_bytes();
    if rb.len() < 3 {
        return;
    }
    let first = rb[0];
    if !(first.is_ascii_alphanumeric() || first >= 0x80 || first == b'%') {
        return;
    }
    let has_dot = part.dots > 0
        || (mask & M_HIGH != 0
            && rb.windows(3).any(|w| {
                matches!(
                    w,
                    [0xE3, 0x80, 0x82] | [0xEF, 0xBC, 0x8E] | [0xEF, 0xBD, 0xA1]
                )
            }))
        || (mask & M_BRACKET != 0
            && rb
                .iter()
                .enumerate()
                .any(|(i, _)| host::obfuscated_dot_len(&rb[i..]) > 0))
        || (mask & M_PCT != 0 && host::contains(rb, b"%2"));
    if !has_dot {
        return;
    }
    // Digits and dots (`1.2.3`, `12.50`) without a final dot are an address in prose only as
    // four parts: what `normalize_host` would say, without its walks.
    if rb.last() != Some(&b'.') && part.numeric && part.dots != 3 {
        return;
    }
    let quad = || (part.numeric && part.dots == 3).then(|| host::dotted_quad(raw));
    let Some(h) = part
        .plain_host(raw)
        .or_else(|| quad().flatten())
        .or_else(|| normalize_host(raw, Numeric::DottedQuad))
    else {
        return;
    };
    let mut port = None;
    let mut rest_start = host_end;
    if pb.get(host_end) == Some(&b':') {
        let digits = pb[host_end + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let after = host_end + 1 + digits;
        if digits == 0 || digits > 5 || !(after == pb.len() || pb[after] == b'/') {
            // `host:` followed by something else: keep the host alone.
            rest_start = pb.len();
        } else {
            port = p[host_end + 1..after].parse::<u16>().ok();
            if port.is_none() {
                return;
            }
            rest_start = after;
        }
    }
    let rest = &p[rest_start..];
    let has_path = rest.starts_with('/') || port.is_some();
    let mut flags = h.flags | mode.flags();
    let reg;
    let kind;
    if h.ip.is_some() {
        reg = None;
        kind = if has_path { HitKind::Url } else { HitKind::Ip };
    } else {
        let www = h.host.starts_with("www.");
        let (start, known) = cx.ex.psl.lookup(&h.host);
        if !known || start.is_none() {
            return;
        }
        reg = start;
        let hb = h.host.as_bytes();
        let dot = host::rpos(hb, b'.');
        if !www && !has_path && host::pos(hb, b'.') == dot {
            let tld = dot.map_or(&*h.host, |k| &h.host[k + 1..]);
            if FILE_LIKE_TLDS.contains(&tld) {
                return;
            }
            // `sentence.Next`: a missing space after a full stop, not a host (the raw text's
            // last label is as long as the host's but for Unicode and encodings: looked at
            // only when one of them is long enough).
            if tld.len() >= 4 || !raw.is_ascii() {
                let raw_tld = host::last_label(raw).as_bytes();
                if raw_tld.len() >= 4
                    && raw_tld[0].is_ascii_uppercase()
                    && raw_tld[1..].iter().all(u8::is_ascii_lowercase)
                {
                    return;
                }
            }
        }
        kind = if has_path {
            HitKind::Url
        } else {
            HitKind::Host
        };
    }
    let span = spans.span(at + s..at + e);
    if kind != HitKind::Url {
        let n = h.host.len();
        cx.push_copy(kind, &h.host, 0..n, reg, span, flags);
        return;
    }
    flags |= Flags::NO_SCHEME;
    // `ftp.example.com/pub` is an FTP server's, as mail clients link it
    let scheme = if h.host.starts_with("ftp.") {
        Scheme::Ftp
    } else {
        Scheme::Http
    };
    let (text, hr) = build_url(
        scheme.prefix(),
        &h.host,
        h.ip,
        port.filter(|&p| Some(p) != scheme.default_port()),
        rest,
    );
    cx.push(Hit::new(kind, text, hr, reg, span, cx.part, flags));
}

/// What one walk over a piece finds up to the end of its host part (the first `/`, `?`, `#`,
/// `\\` or `:`; an at sign after it is the path's, not an address's).
#[derive(Clone, Copy)]
struct HostPart {
    end: usize,
    first_at: Option<usize>,
    last_eq: Option<usize>,
    dots: usize,
    /// Only digits and dots.
    numeric: bool,
    /// Only lowercase letters, digits, `_` and dots, with labels of 1 to 63 bytes before the
    /// last, which starts here: [`host::plain_name`] tells the rest.
    plain_last: Option<usize>,
}

impl HostPart {
    #[inline]
    fn of(pb: &[u8]) -> HostPart {
        let mut part = HostPart {
            end: pb.len(),
            first_at: None,
            last_eq: None,
            dots: 0,
            numeric: true,
            plain_last: None,
        };
        let mut seen = 0u8;
        let mut label = 0;
        let mut bad_label = false;
        for (i, &c) in pb.iter().enumerate() {
            let k = HOST_PART[c as usize];
            if k & (H_END | H_AT | H_EQ | H_DOT) == 0 {
                seen |= k;
                continue;
            }
            if k & H_END != 0 {
                part.end = i;
                break;
            }
            seen |= k;
            if k & H_AT != 0 && part.first_at.is_none() {
                part.first_at = Some(i);
            }
            if k & H_EQ != 0 {
                part.last_eq = Some(i);
            }
            if k & H_DOT != 0 {
                part.dots += 1;
                bad_label |= i == label || i - label > MAX_LABEL_LEN;
                label = i + 1;
            }
        }
        part.numeric = seen & H_OTHER == 0;
        if seen & H_NOT_NAME == 0 && !bad_label {
            part.plain_last = Some(label);
        }
        part
    }

    /// The host of `raw` (the host part) when it is a plain name.
    #[inline]
    fn plain_host<'r>(&self, raw: &'r str) -> Option<HostOut<'r>> {
        host::plain_name(raw, self.plain_last?)
    }
}

/// Byte classes of [`HostPart::of`]: the end of a host part, `@`, `=`, `.`, every byte other
/// than a digit or a dot, and every byte a plain lowercase name does not hold.
const H_END: u8 = 1;
const H_AT: u8 = 2;
const H_EQ: u8 = 4;
const H_DOT: u8 = 8;
const H_OTHER: u8 = 16;
const H_NOT_NAME: u8 = 32;

static HOST_PART: [u8; 256] = {
    let mut t = [H_OTHER | H_NOT_NAME; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_digit() {
            t[c] = 0;
        } else if b.is_ascii_lowercase() || b == b'_' {
            t[c] = H_OTHER;
        }
        c += 1;
    }
    t[b'.' as usize] = H_DOT;
    t[b'@' as usize] = H_AT | H_OTHER | H_NOT_NAME;
    t[b'=' as usize] = H_EQ | H_OTHER | H_NOT_NAME;
    t[b'/' as usize] = H_END | H_OTHER | H_NOT_NAME;
    t[b'?' as usize] = H_END | H_OTHER | H_NOT_NAME;
    t[b'#' as usize] = H_END | H_OTHER | H_NOT_NAME;
    t[b'\\' as usize] = H_END | H_OTHER | H_NOT_NAME;
    t[b':' as usize] = H_END | H_OTHER | H_NOT_NAME;
    t
};

/// Builds `prefix` (`scheme://`) `host[:port]rest` (no allocation when short); returns it
/// and where the host is.
fn build_url(
    prefix: &str,
    host: &str,
    ip: Option<std::net::IpAddr>,
    port: Option<u16>,
    rest: &str,
) -> (Text, Range<usize>) {
    let mut digits = [0u8; 5];
    let mut nd = 0;
    if let Some(mut p) = port {
        let mut tmp = [0u8; 5];
        loop {
            tmp[nd] = b'0' + (p % 10) as u8;
            nd += 1;
            p /= 10;
            if p == 0 {
                break;
            }
        }
        for i in 0..nd {
            digits[i] = tmp[nd - 1 - i];
        }
    }
    let v6 = matches!(ip, Some(std::net::IpAddr::V6(_)));
    let digits = if nd == 0 {
        ""
    } else {
        std::str::from_utf8(&digits[..nd]).unwrap_or("")
    };
    let rest = if rest.is_empty() { "/" } else { rest };
    let hs = prefix.len() + usize::from(v6);
    let he = hs + host.len();
    // The closing bracket, the port and the rest after the host.
    let len = he + usize::from(v6) + if nd > 0 { nd + 1 } else { 0 } + rest.len();
    let mut u = TextWriter::with_len(len);
    u.push(prefix);
    if v6 {
        u.push("[");
    }
    u.push(host);
    if v6 {
        u.push("]");
    }
    if nd > 0 {
        u.push(":");
        u.push(digits);
    }
    u.push(rest);
    (u.finish(), hs..he)
}

/// Byte classes of [`email`]: a byte of a local part, and a byte that ends the domain.
const E_LOCAL: u8 = 1;
const E_END: u8 = 2;

static EMAIL: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        if (c as u8).is_ascii_alphanumeric() {
            t[c] = E_LOCAL;
        }
        c += 1;
    }
    let local = b".!#$%&*+/=?^_{|}~-";
    let mut i = 0;
    while i < local.len() {
        t[local[i] as usize] |= E_LOCAL;
        i += 1;
    }
    let end = b"/?#\\:@([{";
    let mut i = 0;
    while i < end.len() {
        t[end[i] as usize] |= E_END;
        i += 1;
    }
    t
};

/// `p[k..k + l]` is the at sign (or `(at)`); `base` is where `p` starts in the token's text.
/// Whether it found an address.
fn email(
    cx: &mut Ctx<'_>,
    p: &str,
    k: usize,
    l: usize,
    base: usize,
    spans: Spans<'_>,
    mode: Mode,
) -> bool {
    let pb = p.as_bytes();
    // The local part: the bytes before the at sign that may form one (a run of dots in it
    // is noted on the way).
    let mut ls = k;
    let mut dot_run = false;
    while ls > 0 && EMAIL[pb[ls - 1] as usize] & E_LOCAL != 0 {
        dot_run |= pb[ls - 1] == b'.' && ls < k && pb[ls] == b'.';
        ls -= 1;
    }
    let local = &p[ls..k];
    if local.is_empty()
        || local.len() > 64
        || local.starts_with('.')
        || local.ends_with('.')
        || dot_run
    {
        return false;
    }
    let ds = k + l;
    let de = pb[ds..]
        .iter()
        .position(|&c| EMAIL[c as usize] & E_END != 0)
        .map_or(pb.len(), |x| ds + x);
    // An obfuscated dot may start with a bracket: extend over it.
    let mut de = de;
    while de < pb.len() {
        let d = host::obfuscated_dot_len(&pb[de..]);
        if d == 0 {
            break;
        }
        de += d;
        de += pb[de..]
            .iter()
            .position(|&c| EMAIL[c as usize] & E_END != 0)
            .unwrap_or(pb.len() - de);
    }
    let de = trim_end(pb, ds, de);
    if ds >= de || !p.is_char_boundary(de) {
        return false;
    }
    let Some(h) = normalize_host(&p[ds..de], Numeric::DottedQuad) else {
        return false;
    };
    if h.ip.is_some() {
        return false;
    }
    let (Some(reg), true) = cx.ex.psl.lookup(&h.host) else {
        return false;
    };
    let mut flags = h.flags;
    if l > 1 {
        flags |= Flags::OBFUSCATED;
    }
    flags |= mode.flags();
    let hs = local.len() + 1;
    let he = hs + h.host.len();
    let span = spans.span(base + ls..base + de);
    if l == 1 && matches!(h.host, std::borrow::Cow::Borrowed(_)) && de - ds == h.host.len() {
        // written as it reads normalised: the text as it stands
        cx.push_copy(HitKind::Email, &p[ls..de], hs..he, Some(reg), span, flags);
    } else {
        let addr = Text::concat(&[local, "@", &h.host]);
        cx.push(Hit::new(
            HitKind::Email,
            addr,
            hs..he,
            Some(reg),
            span,
            cx.part,
            flags,
        ));
    }
    true
}

/// A URL with a scheme starting at `s` in the token, its `:` just before `p`.
#[allow(clippy::too_many_arguments)]
fn url(
    cx: &mut Ctx<'_>,
    tok: &str,
    at: usize,
    s: usize,
    mut p: usize,
    scheme: Scheme,
    disguised: bool,
    spans: Spans<'_>,
    depth: u8,
) -> Option<usize> {
    let b = tok.as_bytes();
    let mut end = trim_end(b, s, b.len());
    if p >= end || !tok.is_char_boundary(end) {
        return None;
    }
    let mut flags = if disguised {
        Flags::OBFUSCATED
    } else {
        Flags::empty()
    };
    if scheme == Scheme::Mailto {
        while p < end && b[p] == b'/' {
            p += 1;
        }
        let stop = memchr::memchr(b'?', &b[p..end]).map_or(end, |k| p + k);
        let mut q = p;
        while q < stop {
            let e = memchr::memchr(b',', &b[q..stop]).map_or(stop, |k| q + k);
            if let Some(k) = memchr::memchr(b'@', &b[q..e]) {
                let sub = &tok[q..e];
                let before = cx.out.len();
                email(cx, sub, k, 1, at + q, spans, Mode::Prose);
                if depth > 0 {
                    for h in &mut cx.out[before..] {
                        h.flags |= Flags::REDIRECTED;
                    }
                }
            }
            q = e + 1;
        }
        return None;
    }
    // two slashes and then no third, as nearly every URL has them: without the count
    let slashes = if b
        .get(p..p + 3)
        .is_some_and(|w| w[..2] == *b"//" && w[2] != b'/' && w[2] != b'\\')
    {
        2
    } else {
        b[p..end]
            .iter()
            .take_while(|&&c| c == b'/' || c == b'\\')
            .count()
    };
    if slashes != 2 || b[p] == b'\\' || b[p + 1] == b'\\' {
        flags |= Flags::OBFUSCATED;
    }
    p += slashes;
    if slashes == 0 && !b.get(p).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let (auth_end, h, port) = match plain_authority(tok, p, end) {
        Some((auth_end, h)) => (auth_end, h, None),
        None => authority(cx, tok, p, end, &mut flags)?,
    };
    if slashes == 0 && (h.ip.is_none() && !cx.ex.psl.has_known_suffix(&h.host)) {
        return None;
    }
    flags |= h.flags;
    if depth > 0 {
        flags |= Flags::REDIRECTED;
    }
    let mut seen = rest_classes(&b[auth_end..end]);
    // A closing bracket without its opening one ends the URL; the rest of the token is
    // scanned on its own.
    let mut after = None;
    if seen & C_CLOSE != 0 && cx.cuts_left > 0 {
        if let Some(k) = unbalanced_close(&b[auth_end..end]) {
            cx.cuts_left -= 1;
            after = Some(auth_end + k);
            end = trim_end(b, auth_end, auth_end + k);
            seen = rest_classes(&b[auth_end..end]);
        }
    }
    let rest = &tok[auth_end..end];
    let reg = if h.ip.is_some() {
        None
    } else {
        cx.ex.psl.lookup(&h.host).0
    };
    let port = port.filter(|&x| Some(x) != scheme.default_port());
    let span = spans.span(at + s..at + end);
    let prefix = scheme.prefix();
    if port.is_none()
        && !rest.is_empty()
        && matches!(h.host, std::borrow::Cow::Borrowed(_))
        && scheme.written_as_prefix(&tok.as_bytes()[s..])
        && auth_end == s + prefix.len() + h.host.len()
    {
        // written as it reads normalised: the text as it stands
        let hs = prefix.len();
        let hr = hs..hs + h.host.len();
        cx.push_copy(HitKind::Url, &tok[s..end], hr, reg, span.clone(), flags);
    } else {
        let (u, hr) = build_url(prefix, &h.host, h.ip, port, rest);
        cx.push(Hit::new(
            HitKind::Url,
            u,
            hr,
            reg,
            span.clone(),
            cx.part,
            flags,
        ));
    }
    // Redirectors: URLs, hosts and emails carried in the path and query.
    let carry = if usize::from(depth) < cx.ex.max_redirect_depth && !rest.is_empty() {
        may_carry(rest, seen)
    } else {
        None
    };
    if let Some(pct) = carry {
        let fixed = Spans::Fixed(span.start, span.end);
        if !pct {
            if !carried_url(cx, rest, fixed, depth + 1) {
                scan(cx, rest, fixed, Mode::Nested, depth + 1);
            }
        } else {
            let mut buf = cx.bufs.pop().unwrap_or_default();
            if let Some(decoded) = host::percent_decode_str(rest, &mut buf) {
                if !carried_url(cx, decoded, fixed, depth + 1) {
                    scan(cx, decoded, fixed, Mode::Nested, depth + 1);
                }
            }
            cx.bufs.push(buf);
        }
    }
    after
}

/// The authority of a URL at `tok[p..end]` in every form (userinfo, port, IP literals, names
/// to normalise): where it ends, the host, and the port.
fn authority<'t>(
    cx: &Ctx<'_>,
    tok: &'t str,
    p: usize,
    end: usize,
    flags: &mut Flags,
) -> Option<(usize, HostOut<'t>, Option<u16>)> {
    let b = tok.as_bytes();
    // One walk to the end of the authority, noting its last `@` and last `:`.
    let mut auth_end = end;
    let mut last_at = None;
    let mut last_colon = None;
    for (i, &c) in b[p..end].iter().enumerate() {
        match AUTHORITY[c as usize] {
            0 => {}
            A_END => {
                auth_end = p + i;
                break;
            }
            A_AT => last_at = Some(i),
            _ => last_colon = Some(i),
        }
    }
    let authority = &tok[p..auth_end];
    let host_port = match last_at {
        Some(k) => {
            *flags |= Flags::USERINFO;
            &authority[k + 1..]
        }
        None => authority,
    };
    // The last `:` of the host and port, when it is after the userinfo.
    let colon = match (last_colon, last_at) {
        (Some(c), Some(a)) if c > a => Some(c - a - 1),
        (Some(c), None) => Some(c),
        _ => None,
    };
    let (raw_host, port) = split_port_at(host_port, colon);
    let port = port?;
    let h = match normalize_host(raw_host, Numeric::Loose) {
        Some(h) => h,
        None => {
            // `[www.example.com]`: a name in the brackets of an IPv6 literal
            let inner = raw_host.strip_prefix('[').and_then(|r| r.strip_suffix(']'));
            match inner.and_then(|i| normalize_host(i, Numeric::Loose)) {
                Some(h) if h.ip.is_none() && cx.ex.psl.has_known_suffix(&h.host) => {
                    *flags |= Flags::OBFUSCATED;
                    h
                }
                _ => return None,
            }
        }
    };
    Some((auth_end, h, port))
}

/// The authority most URLs have, read in one walk: a lowercase ASCII name (letters, digits,
/// `_`, labels of 1 to 63 bytes, the last not numeric) up to `/`, `?`, `#` or the end, with no
/// userinfo, port or hyphen (an `xn--` label needs the general path). Its end and the host as
/// [`host::normalize_host`] gives it; `None` sends every other form to [`authority`].
#[inline]
fn plain_authority(tok: &str, p: usize, end: usize) -> Option<(usize, HostOut<'_>)> {
    #[cfg(target_arch = "x86_64")]
    if let Some(r) = plain_authority_32(tok, p, end) {
        return r;
    }
    plain_authority_walk(tok, p, end)
}

/// [`plain_authority`] from the byte classes of the 32 bytes from `p` (the last 32 of the
/// token when fewer follow), found at once with SSE2: no loop whose length is the label's,
/// whose end the processor would guess wrong from one URL to the next. `None` when the token
/// is shorter than 32 bytes or the authority goes on past them: [`plain_authority_walk`]
/// reads those.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn plain_authority_32(tok: &str, p: usize, end: usize) -> Option<Option<(usize, HostOut<'_>)>> {
    let b = tok.as_bytes();
    let base = p.min(b.len().checked_sub(32)?);
    let w: &[u8; 32] = b.get(base..base + 32)?.try_into().ok()?;
    let (other, dots) = name_classes_32(w);
    let sh = p - base;
    // bytes from `end` on stop the authority too (when `sh` > 0, `end` is inside the window)
    let lim = end.checked_sub(p)?;
    let other = (u64::from(other) >> sh) | (u64::MAX << lim.min(63));
    let i = other.trailing_zeros() as usize;
    if i >= 32 {
        return None;
    }
    if i < lim && PLAIN[b[p + i] as usize] != P_END {
        return Some(None);
    }
    let d = (u64::from(dots) >> sh) & ((1u64 << i) - 1);
    // an empty label: a dot first or two together
    if d & 1 != 0 || d & (d >> 1) != 0 {
        return Some(None);
    }
    let label = 64 - d.leading_zeros() as usize;
    Some(host::plain_name(&tok[p..p + i], label).map(|h| (p + i, h)))
}

/// Bits of the 32 bytes of `w`: those that are not a lowercase letter, digit, `_` or dot, and
/// the dots.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn name_classes_32(w: &[u8; 32]) -> (u32, u32) {
    use safe_arch::{
        add_i8_m128i, bitor_m128i, cmp_eq_mask_i8_m128i, cmp_lt_mask_i8_m128i,
        load_unaligned_m128i, move_mask_i8_m128i, set_splat_i8_m128i,
    };
    let half = |h: &[u8]| -> (u32, u32) {
        let Ok(h) = <&[u8; 16]>::try_from(h) else {
            return (0, 0);
        };
        let x = load_unaligned_m128i(h);
        let splat = |c: u8| set_splat_i8_m128i(c as i8);
        // `c` in `lo..lo + n`: shifted to the bottom of the signed range, below -128 + n
        let within = |lo: u8, n: u8| {
            let shifted = add_i8_m128i(x, splat(0x80u8.wrapping_sub(lo)));
            cmp_lt_mask_i8_m128i(shifted, splat(0x80u8.wrapping_add(n)))
        };
        let dot = cmp_eq_mask_i8_m128i(x, splat(b'.'));
        let name = bitor_m128i(
            bitor_m128i(within(b'a', 26), within(b'0', 10)),
            bitor_m128i(dot, cmp_eq_mask_i8_m128i(x, splat(b'_'))),
        );
        (
            !(move_mask_i8_m128i(name) as u32) & 0xFFFF,
            move_mask_i8_m128i(dot) as u32,
        )
    };
    let (o0, d0) = half(&w[..16]);
    let (o1, d1) = half(&w[16..]);
    (o0 | o1 << 16, d0 | d1 << 16)
}

/// [`plain_authority`] a byte at a time.
#[inline]
fn plain_authority_walk(tok: &str, p: usize, end: usize) -> Option<(usize, HostOut<'_>)> {
    let b = tok.as_bytes();
    let mut label = p;
    let mut i = p;
    loop {
        // the label's bytes in a tight loop
        i += b[i..end]
            .iter()
            .position(|&c| PLAIN[c as usize] != P_NAME)
            .unwrap_or(end - i);
        match b.get(i).filter(|_| i < end).map(|&c| PLAIN[c as usize]) {
            Some(P_DOT) => {
                if i == label || i - label > MAX_LABEL_LEN {
                    return None;
                }
                i += 1;
                label = i;
            }
            None | Some(P_END) => break,
            Some(_) => return None,
        }
    }
    host::plain_name(&tok[p..i], label - p).map(|h| (i, h))
}

/// Byte classes of [`plain_authority`]; every other byte is [`P_OTHER`].
const P_NAME: u8 = 0;
const P_DOT: u8 = 1;
const P_END: u8 = 2;
const P_OTHER: u8 = 3;

static PLAIN: [u8; 256] = {
    let mut t = [P_OTHER; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' {
            t[c] = P_NAME;
        }
        c += 1;
    }
    t[b'.' as usize] = P_DOT;
    t[b'/' as usize] = P_END;
    t[b'?' as usize] = P_END;
    t[b'#' as usize] = P_END;
    t
};

/// Whether a path or query may carry another URL, host or address: a `:` or `%` (a scheme,
/// maybe encoded), `www`, an `@`, or a `=` with a dot after it (`?u=evil.example`). When it
/// may, whether it holds a `%` (then it is decoded before it is looked at).
fn may_carry(rest: &str, seen: u8) -> Option<bool> {
    let b = rest.as_bytes();
    // The order of `=` and `.` and the letters around a `w` are looked at only when they are
    // both there.
    let pct = seen & C_PCT != 0;
    let carries = seen & (C_YES | C_PCT) != 0
        || seen & C_W != 0 && b.windows(3).any(|w| w.eq_ignore_ascii_case(b"www"))
        || seen & (C_EQ | C_DOT) == C_EQ | C_DOT
            && host::pos(b, b'=').is_some_and(|k| host::pos(&b[k..], b'.').is_some());
    carries.then_some(pct)
}

/// The [`CARRY`] classes of the bytes of a URL's path and query, in a loop without branches.
#[inline]
fn rest_classes(rest: &[u8]) -> u8 {
    rest.iter().fold(0u8, |acc, &c| acc | CARRY[c as usize])
}

/// Byte classes of [`may_carry`], one bit each, and closing brackets for [`unbalanced_close`].
const C_YES: u8 = 1;
const C_W: u8 = 2;
const C_EQ: u8 = 4;
const C_DOT: u8 = 8;
const C_PCT: u8 = 16;
const C_CLOSE: u8 = 32;

/// The first closing bracket of a URL's path and query with no opening one before it
/// (`http://a.example/x)(http://b.example/)`, `[text](http://a.example/x)[more]`): the URL
/// ends there, as browsers and linkify end it.
fn unbalanced_close(rest: &[u8]) -> Option<usize> {
    let mut open = [0u32; 3];
    for (i, &c) in rest.iter().enumerate() {
        let k = match c {
            b'(' | b')' => 0,
            b'[' | b']' => 1,
            b'{' | b'}' => 2,
            _ => continue,
        };
        if matches!(c, b'(' | b'[' | b'{') {
            open[k] += 1;
        } else if open[k] == 0 {
            return Some(i);
        } else {
            open[k] -= 1;
        }
    }
    None
}

static CARRY: [u8; 256] = byte_classes(&[
    (b':', C_YES),
    (b'%', C_PCT),
    (b'@', C_YES),
    (b'w', C_W),
    (b'W', C_W),
    (b'=', C_EQ),
    (b'.', C_DOT),
    (b')', C_CLOSE),
    (b']', C_CLOSE),
    (b'}', C_CLOSE),
]);

/// Byte classes of the walk over a URL's authority.
const A_END: u8 = 1;
const A_AT: u8 = 2;
const A_COLON: u8 = 3;

static AUTHORITY: [u8; 256] = byte_classes(&[
    (b'/', A_END),
    (b'?', A_END),
    (b'#', A_END),
    (b'\\', A_END),
    (b'@', A_AT),
    (b':', A_COLON),
]);

/// A table of byte classes: 0 for every byte but those named.
const fn byte_classes(named: &[(u8, u8)]) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < named.len() {
        t[named[i].0 as usize] = named[i].1;
        i += 1;
    }
    t
}

/// Splits `host:port` at the last `:` of `hp`, already found: `Some(None)` when there is no
/// port, `None` when the port is bad.
fn split_port_at(hp: &str, last_colon: Option<usize>) -> (&str, Option<Option<u16>>) {
    let (host, port) = if hp.starts_with('[') {
        match memchr::memchr(b']', hp.as_bytes()) {
            Some(k) => (&hp[..=k], &hp[k + 1..]),
            None => return (hp, None),
        }
    } else {
        match last_colon {
            Some(k) => (&hp[..k], &hp[k..]),
            None => (hp, ""),
        }
    };
    if port.is_empty() || port == ":" {
        return (host, Some(None));
    }
    let Some(digits) = port.strip_prefix(':') else {
        return (host, None);
    };
    if digits.len() > 5 || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return (host, None);
    }
    (host, digits.parse::<u16>().ok().map(Some))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::xorshift;

    /// The default extractor and one that ignores bare hosts, for [`round_of`].
    fn both_extractors() -> [Extractor; 2] {
        let ignore = Extractor::builder()
            .bare_hosts(BareHosts::Ignore)
            .build()
            .unwrap();
        [Extractor::new(), ignore]
    }

    /// The mode and extractor a generated case's round is run with: every third in a query
    /// string, every seventh ignoring bare hosts.
    fn round_of(round: usize, exs: &[Extractor; 2]) -> (Mode, &Extractor) {
        let mode = if round.is_multiple_of(3) {
            Mode::Nested
        } else {
            Mode::Prose
        };
        (mode, &exs[usize::from(round.is_multiple_of(7))])
    }

    /// What `f` answers, and the hits it pushes, with a context over `ex`.
    fn with_ctx<R>(ex: &Extractor, f: impl FnOnce(&mut Ctx<'_>) -> R) -> (R, Vec<Hit>) {
        let mut out = Vec::new();
        let mut cx = Ctx::new(ex, &mut out);
        let r = f(&mut cx);
        (r, out)
    }

    #[test]
    fn trims() {
        let t = |s: &str| {
            let e = trim_end(s.as_bytes(), 0, s.len());
            s[..e].to_owned()
        };
        assert_eq!(t("a.com/x)."), "a.com/x");
        assert_eq!(t("a.com/x_(y))"), "a.com/x_(y)");
        assert_eq!(t("a.com/x]]"), "a.com/x");
        assert_eq!(t("a.com。"), "a.com");
        assert_eq!(t("a.com..."), "a.com");
        assert_eq!(t(")))"), "");
    }

    #[test]
    fn schemes() {
        assert_eq!(scheme_of(b"HTTP"), Some((Scheme::Http, false)));
        assert_eq!(scheme_of(b"hXXps"), Some((Scheme::Https, true)));
        assert_eq!(scheme_of(b"h**p"), Some((Scheme::Http, true)));
        assert_eq!(scheme_of(b"hello"), None);
        assert_eq!(
            scheme_before(b"url=https://x", 0, 9),
            Some((4, Scheme::Https, false))
        );
        assert_eq!(
            scheme_before(b"xhttp://x", 0, 5),
            Some((1, Scheme::Http, false))
        );
        assert_eq!(scheme_before(b"Note:", 0, 4), None);
        // the prefix compared as a word is the prefix a URL is built with
        for scheme in [Scheme::Http, Scheme::Https, Scheme::Ftp, Scheme::Mailto] {
            let p = scheme.prefix().as_bytes();
            assert!(scheme.written_as_prefix(p), "{scheme:?}");
            assert!(scheme.written_as_prefix(&[p, b"x.example/"].concat()));
            assert!(!scheme.written_as_prefix(&p[..p.len() - 1]), "{scheme:?}");
            assert!(
                !scheme.written_as_prefix(&p.to_ascii_uppercase()),
                "{scheme:?}"
            );
        }
    }

    #[test]
    fn word_trigger_agrees_with_the_byte_loop() {
        // Texts from an alphabet dense in triggers, white space and bytes past 0x80, each
        // searched from every offset: the vector search against the byte loop.
        let alphabet = b".:@ \n\t\x00ab.\xc3\xa9\x21\x20\x7f";
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for len in 0..200 {
            let text: Vec<u8> = (0..len)
                .map(|_| alphabet[(xorshift(&mut x) % alphabet.len() as u64) as usize])
                .collect();
            for from in 0..=len {
                assert_eq!(
                    word_trigger(&text, from),
                    word_trigger_bytes(&text, from),
                    "{text:?} from {from}"
                );
            }
        }
    }

    #[test]
    fn stop_or_high_agrees_with_the_walk_table() {
        for step in [&STEP_PROSE, &STEP_NESTED] {
            for c in 0..=255u8 {
                // the byte at every place of texts shorter and longer than the vector steps
                for (len, at) in [0, 5, 15, 16, 17, 31, 40]
                    .into_iter()
                    .flat_map(|at| [(3, at), (20, at), (48, at)])
                    .filter(|&(len, at)| at < len)
                {
                    let mut b = vec![b'a'; len];
                    b[at] = c;
                    let want = (0..b.len())
                        .find(|&i| step[b[i] as usize] & (STOP | M_HIGH) != 0)
                        .unwrap_or(b.len());
                    for from in [0, 1, at] {
                        let want = if from > at { b.len() } else { want.max(from) };
                        assert_eq!(
                            stop_or_high(&b, from, step),
                            want,
                            "{c:#x} at {at} from {from}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn first_carried_agrees_with_the_table() {
        for c in 0..=255u8 {
            for (len, at) in [0, 5, 15, 16, 17, 31, 40]
                .into_iter()
                .flat_map(|at| [(3, at), (20, at), (48, at)])
                .filter(|&(len, at)| at < len)
            {
                let mut b = vec![b'a'; len];
                b[at] = c;
                let want = b.iter().position(|&c| CARRIED[c as usize]);
                assert_eq!(first_carried(&b), want, "{c:#x} at {at} of {len}");
            }
        }
    }

    #[test]
    fn numeric_tokens_refused_early_are_those_piece_refuses() {
        let ex = Extractor::new();
        let hosts = |text: &str| {
            let mut hits = Vec::new();
            ex.extract_text(text, &mut hits).unwrap();
            hits.iter().map(|h| h.host().to_owned()).collect::<Vec<_>>()
        };
        // random tokens of digits, dots and dollar signs: none refused early has a hit
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut refused = 0;
        for _ in 0..20_000 {
            xorshift(&mut x);
            let len = 1 + (x % 12) as usize;
            let tok: String = (0..len)
                .map(|k| match (x >> (4 + 5 * k)) % 8 {
                    0..=2 => '.',
                    3 => '$',
                    d => char::from(b'0' + d as u8),
                })
                .collect();
            let Some(trigger) = tok.find('.') else {
                continue;
            };
            if numeric_not_quad(tok.as_bytes()) == Some(true) {
                refused += 1;
                // what the walks after the early refusal would have found
                let (_, out) = with_ctx(&ex, |cx| {
                    token(cx, &tok, 0, trigger, 0, Spans::Offset(0), Mode::Prose, 0)
                });
                assert!(out.is_empty(), "{tok}: {out:?}");
            }
        }
        assert!(refused > 5_000, "{refused}");
        // four parts, after the `$` and dots `piece` sets aside, are looked at in full
        for (tok, host) in [
            (".1.2.3.4", "1.2.3.4"),
            ("$1.2.3.4", "1.2.3.4"),
            ("1.2.3.4.", "1.2.3.4"),
            ("..192.0.2.1", "192.0.2.1"),
        ] {
            assert_eq!(numeric_not_quad(tok.as_bytes()), Some(false), "{tok}");
            assert_eq!(hosts(&format!("see {tok} now")), [host], "{tok}");
        }
        assert_eq!(numeric_not_quad(b"1.2.3"), Some(true));
        assert_eq!(numeric_not_quad(b"$12.50"), Some(true));
        assert_eq!(numeric_not_quad(b"1.2a"), None);
    }

    /// Four-part numeric tokens that `plain_quad` takes give what `piece` gives; the others
    /// (leading zeros, parts past 255, `$` and dots around them) are left to `piece`.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn token_bounds_from_windows_are_the_walks() {
        // bytes of every class: name bytes, triggers, classes of `mask_table`, delimiters of
        // both tables, bytes past ASCII (Unicode delimiters and others)
        const BYTES: &[&str] = &[
            "a", "z", "0", "_", "-", ".", ":", "@", ",", ";", "=", "(", "[", "{", "%", ")", "/",
            " ", "\n", "&", "'", "\"", "<", "|", "\u{7f}", "\u{e9}", "\u{a0}", "\u{3002}",
            "\u{2019}", "\u{ff0c}", "ab", "www", "xyz",
        ];
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut taken = 0;
        for _ in 0..50_000 {
            xorshift(&mut x);
            let mut y = x;
            let mut text = String::new();
            let len = 34 + (y % 60) as usize;
            while text.len() < len {
                y = y.wrapping_mul(0x2545_F491_4F6C_DD1D).rotate_left(23);
                // mostly name bytes, so tokens reach across the windows
                let k = (y >> 40) as usize;
                text.push_str(if k.is_multiple_of(3) {
                    BYTES[k / 3 % BYTES.len()]
                } else {
                    "ab"
                });
            }
            let b = text.as_bytes();
            for (t, &c) in b.iter().enumerate() {
                if !matches!(c, b'.' | b':' | b'@' | b'%' | b'(' | b'[' | b'{') {
                    continue;
                }
                let done = t.saturating_sub((y >> 8) as usize % 24);
                for step in [&STEP_PROSE, &STEP_NESTED] {
                    if let Some(fast) = token_bounds_16(b, t, done, step) {
                        taken += 1;
                        assert_eq!(fast, token_bounds_walk(b, t, done, step), "{text:?} at {t}");
                    }
                }
            }
        }
        assert!(taken > 10_000, "{taken}");
    }

    #[test]
    fn plain_quads_are_what_piece_finds() {
        const PARTS: &[&str] = &[
            "0", "1", "9", "10", "34", "127", "192", "255", "01", "256", "300", "007", "",
        ];
        let exs = both_extractors();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut handled = [0usize; 2];
        for round in 0..20_000 {
            xorshift(&mut x);
            let mut y = x;
            let mut tok = String::from(["", "", "$", "."][(y % 4) as usize]);
            for k in 0..4 {
                y = y.wrapping_mul(0x2545_F491_4F6C_DD1D).rotate_left(23);
                if k > 0 {
                    tok.push('.');
                }
                tok.push_str(PARTS[(y >> 40) as usize % PARTS.len()]);
            }
            tok.push_str(["", "", ".", ".."][(y >> 8) as usize % 4]);
            if numeric_not_quad(tok.as_bytes()) != Some(false) {
                continue;
            }
            let (mode, ex) = round_of(round, &exs);
            let spans = Spans::Offset(3);
            let (done, fast) = with_ctx(ex, |cx| plain_quad(cx, &tok, 2, spans, mode));
            handled[usize::from(done)] += 1;
            if done {
                let ((), slow) =
                    with_ctx(ex, |cx| piece(cx, &tok, 0, tok.len(), 2, spans, mode, 0));
                assert_eq!(fast, slow, "{tok}");
                assert_eq!(fast.len(), 1, "{tok}");
            }
        }
        assert!(handled[0] > 1_000 && handled[1] > 400, "{handled:?}");
    }

    #[test]
    fn one_search_finds_the_triggers_the_three_find() {
        // the trigger bytes, and bytes that share a nibble with one
        const BYTES: &[u8] =
            b"ab.. ::@@  \n%([{\xE3\xEF\x80)]xyz/;}-\xE7\xEB\xE2\xFFN0>^+Kk\xC3\x7F";
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for round in 0..3_000 {
            xorshift(&mut x);
            // some texts of several chunks of trigger bits
            let len = (x % if round % 4 == 0 { 3_000 } else { 300 }) as usize;
            let mut y = x;
            let b: Vec<u8> = (0..len)
                .map(|_| {
                    y = y.wrapping_mul(0x2545_F491_4F6C_DD1D).rotate_left(23);
                    // mostly letters, so searches run over stretches without a trigger
                    match (y >> 50) % 4 {
                        0 => BYTES[(y >> 20) as usize % BYTES.len()],
                        _ => b'q',
                    }
                })
                .collect();
            let (mut one, mut three) = (Triggers::with(&b, true), Triggers::with(&b, false));
            let mut pos = 0;
            let real = |k: usize| is_trigger_at(&b, k);
            loop {
                // in the last 64 bytes (and in a short text) the searches also stop at a `.`
                // `:` `@` before white space, which the scan passes over as it holds nothing
                let mut a = one.next(&b, pos);
                while let Some(k) = a.filter(|&k| !real(k)) {
                    assert!(b.len() < SHORT, "round {round}, at {k}: {b:?}");
                    a = one.next(&b, k + 1);
                }
                let mut c = three.next(&b, pos);
                while let Some(k) = c.filter(|&k| !real(k)) {
                    assert!(b.len() - k <= SHORT, "round {round}, at {k}: {b:?}");
                    c = three.next(&b, k + 1);
                }
                assert_eq!(a, c, "round {round}, from {pos}: {b:?}");
                let Some(t) = a else { break };
                // on from the trigger, or past the token as the scan goes on
                pos = if round % 2 == 0 {
                    t + 1
                } else {
                    t + 1 + (y as usize >> 7) % 40
                };
            }
        }
        // the bits of one search asked in any order, across and at the ends of their chunks
        if has_avx2() {
            let b: Vec<u8> = (0..5_000u32)
                .map(|k| match k.wrapping_mul(2_654_435_761) >> 27 {
                    0 => b'.',
                    1 => b'@',
                    2 => b' ',
                    3 => b'%',
                    _ => b'q',
                })
                .collect();
            let mut t = Triggers::with(&b, true);
            let mut from = 0usize;
            for k in 0..20_000usize {
                from = match k % 3 {
                    0 => (from * 31 + 17) % (b.len() + 2),
                    1 => [1023, 1024, 1025, 2047, 4999, 5000, 5001, 0][k % 8],
                    _ => (from + 1).min(b.len()),
                };
                let want = (from..b.len()).find(|&i| is_trigger_at(&b, i));
                assert_eq!(t.next(&b, from), want, "from {from}");
            }
        }
        // every byte, before white space and not, at places in and across the 32-byte steps
        for c in 0..=255u8 {
            for next in [b' ', b'\n', b'a', 0xC3] {
                for at in [0, 5, 30, 31, 32, 40, 70] {
                    let mut b = vec![b'q'; 80];
                    b[at] = c;
                    b[at + 1] = next;
                    let want = (is_trigger(c, next)).then_some(at);
                    let want = want.or(is_trigger(next, b'q').then_some(at + 1));
                    let got = Triggers::with(&b, true).next(&b, 0);
                    assert_eq!(got, want, "{c:#x} {next:#x} at {at}");
                }
            }
        }
        // the search the machine has agrees with the scalar rule
        let text = b"one. two.three four:five @x %y (z [w {v \xE3\x80\x82 end.";
        let mut t = Triggers::with(&text.repeat(3), has_avx2());
        let all: Vec<usize> = std::iter::successors(t.next(&text.repeat(3), 0), |&p| {
            t.next(&text.repeat(3), p + 1)
        })
        .collect();
        let b = text.repeat(3);
        let want: Vec<usize> = (0..b.len()).filter(|&k| is_trigger_at(&b, k)).collect();
        assert_eq!(all, want);
    }

    #[test]
    fn plain_bare_hosts_are_what_piece_finds() {
        // pieces of names: labels the list knows and not, file extensions, `www`
        const PARTS: &[&str] = &[
            "www", "com", "co", "uk", "de", "pdf", "zip", "py", "info", "example", "a", "b1",
            "x_y", "_", "9", "0x1f", "123", "blogspot", "xn--p1ai", "Ab", "-", "", ".", "shop7",
        ];
        let exs = both_extractors();
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut handled = [0usize; 2];
        for round in 0..40_000 {
            xorshift(&mut x);
            let mut y = x;
            let labels = 1 + (y % 4) as usize;
            let mut tok = String::new();
            for k in 0..labels {
                y = y.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
                if k > 0 {
                    tok.push('.');
                }
                tok.push_str(PARTS[(y >> 40) as usize % PARTS.len()]);
            }
            if !tok.contains('.') {
                continue;
            }
            let (mode, ex) = round_of(round, &exs);
            let spans = Spans::Offset(5);
            let run = |fast: bool| {
                with_ctx(ex, |cx| {
                    if fast {
                        return plain_bare_host(cx, &tok, 2, spans, mode);
                    }
                    piece(cx, &tok, 0, tok.len(), 2, spans, mode, 0);
                    true
                })
            };
            let (done, fast) = run(true);
            if done {
                handled[usize::from(fast.is_empty())] += 1;
                assert_eq!(fast, run(false).1, "{tok}");
            }
        }
        // both ways were taken: hosts found, and tokens found to hold none
        assert!(handled[0] > 3_000 && handled[1] > 3_000, "{handled:?}");

        // addresses: a local part of the bytes an address may have, then such a name
        const LOCAL: &[&str] = &[
            "user", "A.b", "x+y", ".", "..", "-", "_", "9", "o'k", "a!b", "",
        ];
        let mut handled = [0usize; 2];
        for round in 0..40_000 {
            xorshift(&mut x);
            let mut y = x;
            let mut tok = String::new();
            for _ in 0..1 + y % 3 {
                y = y.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
                tok.push_str(LOCAL[(y >> 40) as usize % LOCAL.len()]);
            }
            tok.push('@');
            for k in 0..1 + (y >> 8) % 3 {
                y = y.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
                if k > 0 {
                    tok.push('.');
                }
                tok.push_str(PARTS[(y >> 40) as usize % PARTS.len()]);
            }
            let (mode, ex) = round_of(round, &exs);
            let spans = Spans::Offset(5);
            let run = |fast: bool| {
                with_ctx(ex, |cx| {
                    if fast {
                        return plain_email(cx, &tok, 2, spans, mode);
                    }
                    piece(cx, &tok, 0, tok.len(), 2, spans, mode, M_AT);
                    true
                })
            };
            let (done, fast) = run(true);
            if done {
                handled[usize::from(fast.is_empty())] += 1;
                assert_eq!(fast, run(false).1, "{tok}");
            }
        }
        assert!(handled[0] > 1_000 && handled[1] > 400, "{handled:?}");
    }

    #[test]
    fn carried_urls_are_what_the_nested_scan_finds() {
        // what comes before the scheme, the scheme, and what follows it
        const BEFORE: &[&str] = &[
            "/track?u=",
            "/r?",
            "x=",
            "-",
            "a.b=",
            "&u=",
            " ",
            "caf\u{e9}=",
            "(",
            "%41",
            "",
            "*",
            "/go/",
            "u=www",
            "@",
            "q=1,2;",
        ];
        const SCHEME: &[&str] = &[
            "https://",
            "http://",
            "hxxp://",
            "HTTPS://",
            "https:///",
            "http:/",
        ];
        const AFTER: &[&str] = &[
            "land.example",
            "a.co.uk/x",
            "b.de/%2F",
            "c.com/(x)",
            "d.info?u=https://e.net/",
            "\u{e9}.com",
            "x.y/z.",
            "",
            "user@f.org",
            "g.com:8080/",
            "h.com&x=i.net",
            "j.com/ k.net",
            "1.2.3.4/",
            "l.com/?v=m.net",
            "n.zip",
        ];
        let ex = Extractor::new();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut taken = 0;
        for _ in 0..20_000 {
            xorshift(&mut x);
            let pick = |xs: &[&'static str], k: u32| xs[(x >> k) as usize % xs.len()];
            let d = format!(
                "{}{}{}{}",
                pick(BEFORE, 5),
                pick(BEFORE, 13),
                pick(SCHEME, 21),
                pick(AFTER, 29)
            );
            let spans = Spans::Fixed(3, 40);
            let run = |fast: bool| {
                with_ctx(&ex, |cx| {
                    if fast {
                        return carried_url(cx, &d, spans, 1);
                    }
                    scan(cx, &d, spans, Mode::Nested, 1);
                    true
                })
            };
            let (done, fast) = run(true);
            if done {
                taken += 1;
                assert_eq!(fast, run(false).1, "{d}");
            }
        }
        assert!(taken > 1_000, "{taken}");
    }

    #[test]
    fn plain_url_tokens() {
        fn at(text: &str) -> Option<(&str, Scheme)> {
            let t = text.find(':').expect(text);
            plain_url_token(text.as_bytes(), t, &STEP_PROSE)
                .map(|(s, scheme, e)| (&text[s..e], scheme))
        }
        assert_eq!(
            at("see https://a.example/x?y=1 now"),
            Some(("https://a.example/x?y=1", Scheme::Https))
        );
        assert_eq!(
            at("http://a.example"),
            Some(("http://a.example", Scheme::Http))
        );
        assert_eq!(
            at("<http://a.example/>"),
            Some(("http://a.example/", Scheme::Http))
        );
        // the general walks: a scheme inside a token, another case, other slashes, a byte
        // past ASCII, a disguised scheme
        for general in [
            "url=https://a.example/",
            "xhttp://a.example/",
            "HTTP://a.example/",
            "http:///a.example/",
            "http:/\\a.example/",
            "http:a.example",
            "https://a.example/caf\u{e9}",
            "hxxp://a.example/",
        ] {
            assert_eq!(at(general), None, "{general}");
        }
        // in a query string `&` ends the token
        let q = "https://a.example/?x=1&u=2";
        let t = q.find(':').unwrap();
        assert_eq!(
            plain_url_token(q.as_bytes(), t, &STEP_NESTED).map(|(s, _, e)| &q[s..e]),
            Some("https://a.example/?x=1")
        );
    }

    #[test]
    fn plain_authority_agrees_with_the_general_path() {
        let long = format!("{}.com", "a".repeat(64));
        let longest = format!("{}.com", "a".repeat(63));
        for auth in [
            "example.com/x",
            "www.shop12.co.uk?q",
            "a_b.example#f",
            "1.2.3.4/",
            "0x7f.1",
            "2130706433",
            "example.123/",
            "x.",
            "a..b/",
            ".a.com",
            "",
            "/path",
            "my-shop.com",
            "xn--bcher-kva.de",
            "Example.com",
            "user@example.com",
            "example.com:80/",
            long.as_str(),
            longest.as_str(),
        ] {
            let Some((e, h)) = plain_authority(auth, 0, auth.len()) else {
                continue;
            };
            let general = normalize_host(&auth[..e], Numeric::Loose).expect(auth);
            assert_eq!(h.host, general.host, "{auth}");
            assert_eq!(h.ip, general.ip, "{auth}");
            assert_eq!(h.flags, general.flags, "{auth}");
            assert!(matches!(
                auth.as_bytes().get(e),
                None | Some(b'/' | b'?' | b'#')
            ));
        }
        assert!(plain_authority("example.com/x", 0, 13).is_some());
        for refused in [
            "1.2.3.4/",
            "x.",
            "a..b/",
            "Example.com",
            "my-shop.com",
            long.as_str(),
        ] {
            assert!(
                plain_authority(refused, 0, refused.len()).is_none(),
                "{refused}"
            );
        }
    }

    /// The vector reading of an authority gives what the byte walk gives, wherever in a
    /// token the authority starts and ends.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn plain_authority_32_agrees_with_the_walk() {
        const BYTES: &[u8] = b"abcxyz0189_.....///?#-A:@\x7f~";
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut read = 0;
        for _ in 0..50_000 {
            xorshift(&mut x);
            let len = (x % 90) as usize;
            let mut y = x;
            let mut tok: String = (0..len)
                .map(|_| {
                    y = y.wrapping_mul(0x2545_F491_4F6C_DD1D).rotate_left(23);
                    // labels mostly, so authorities run long
                    let k = (y >> 40) as usize % (BYTES.len() + 40);
                    char::from(BYTES.get(k).copied().unwrap_or(b'a' + (k % 26) as u8))
                })
                .collect();
            if y.is_multiple_of(7) {
                tok.push('\u{e9}');
            }
            let n = tok.len();
            // as `url` calls it: both at a character's start
            let at = |mut k: usize| {
                while !tok.is_char_boundary(k) {
                    k -= 1;
                }
                k
            };
            let p = at((y >> 8) as usize % (n + 1));
            let end = at(p + (y >> 24) as usize % (n - p + 1));
            fn key(r: Option<(usize, HostOut<'_>)>) -> Option<(usize, String, bool, Flags)> {
                r.map(|(e, h)| (e, h.host.into_owned(), h.ip.is_some(), h.flags))
            }
            if let Some(fast) = plain_authority_32(&tok, p, end) {
                read += 1;
                assert_eq!(
                    key(fast),
                    key(plain_authority_walk(&tok, p, end)),
                    "{tok:?} {p} {end}"
                );
            }
        }
        assert!(read > 30_000, "{read}");
    }

    /// The word comparison of `http_scheme_at` agrees with the byte comparison at every
    /// position of texts made of the bytes of the two schemes.
    #[test]
    fn http_scheme_word_agrees_with_the_bytes() {
        const BYTES: &[u8] = b"https://\\:. ";
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut found = 0;
        for _ in 0..20_000 {
            xorshift(&mut x);
            let mut y = x;
            let len = 1 + (x % 24) as usize;
            let mut b: Vec<u8> = (0..len)
                .map(|_| {
                    y = y.wrapping_mul(0x2545_F491_4F6C_DD1D).rotate_left(23);
                    BYTES[(y >> 40) as usize % BYTES.len()]
                })
                .collect();
            // a scheme written in full somewhere, most rounds
            if !y.is_multiple_of(3) {
                let form: &[u8] =
                    [&b"http://"[..], b"https://", b"https:///", b"http:\\"][(y >> 8) as usize % 4];
                let at = (y >> 16) as usize % (len + 1);
                b.splice(at..at, form.iter().copied());
            }
            for t in 0..b.len() {
                let fast = http_scheme_at(&b, t);
                assert_eq!(
                    fast,
                    http_scheme_bytes(&b, t),
                    "{:?} {t}",
                    String::from_utf8_lossy(&b)
                );
                found += usize::from(fast.is_some());
            }
        }
        assert!(found > 5_000, "{found}");
    }

    #[test]
    fn host_parts() {
        let p = HostPart::of(b"k=a@b.c=d.e:80/x.y");
        assert_eq!(
            (p.end, p.first_at, p.last_eq, p.dots, p.numeric),
            (11, Some(3), Some(7), 2, false)
        );
        let p = HostPart::of(b"12.50");
        assert_eq!((p.end, p.dots, p.numeric), (5, 1, true));
        // the bytes after the host part do not count
        let p = HostPart::of(b"1.2/abc");
        assert_eq!((p.end, p.dots, p.numeric), (3, 1, true));
        let p = HostPart::of(b"ab1.2");
        assert!(!p.numeric);
        let p = HostPart::of(b"");
        assert_eq!((p.end, p.first_at, p.dots, p.numeric), (0, None, 0, true));
        // a plain name is what the general path gives; every other form goes there
        let long = format!("{}.com", "a".repeat(64));
        for piece in [
            "www.example.com",
            "a_b.example/x",
            "example.com.",
            "1.2.3.4",
            "a..b",
            "Example.com",
            "my-shop.com",
            "example.123",
            "x.0x1f",
            "a%2eb.com",
            "b\u{fc}cher.de",
            long.as_str(),
        ] {
            let part = HostPart::of(piece.as_bytes());
            let raw = &piece[..part.end];
            if let Some(h) = part.plain_host(raw) {
                let general = normalize_host(raw, Numeric::DottedQuad).expect(piece);
                assert_eq!(
                    (h.host, h.ip, h.flags),
                    (general.host, general.ip, general.flags)
                );
            } else {
                assert!(
                    !raw.bytes().all(|c| c.is_ascii_lowercase() || c == b'.')
                        || raw.ends_with('.')
                        || raw.contains("..")
                        || raw.len() > 63,
                    "{piece}"
                );
            }
        }
    }

    /// `scan` skips the test for a delimiter at an ASCII trigger byte.
    #[test]
    fn no_ascii_trigger_is_a_delimiter() {
        for c in 0..0x80 {
            if GROUP_OF[c] != 0 {
                assert_eq!(PROSE[c] & DELIM, 0, "{c:#x}");
                assert_eq!(NESTED[c] & DELIM, 0, "{c:#x}");
            }
        }
    }

    #[test]
    fn glued_urls_are_cut_a_bounded_number_of_times() {
        // URLs glued by closing brackets: each cut walks the rest of the token again, so a
        // token is cut at most MAX_CUTS times (time stays linear), the rest one URL
        let ex = Extractor::new();
        for glue in ["http://a.example.com/x)", "(http://a.example.com/x)"] {
            let text = glue.repeat(5_000);
            let mut out = Vec::new();
            ex.extract_text(&text, &mut out).unwrap();
            let whole = out
                .iter()
                .filter(|h| h.url() == Some("http://a.example.com/x"))
                .count();
            assert_eq!(whole, MAX_CUTS as usize, "{glue}");
            assert!(out.len() < 200, "{glue}: {} hits", out.len());
            assert!(out.iter().all(|h| h.host() == "a.example.com"), "{glue}");
        }
    }

    #[test]
    fn hit_size() {
        // The text inside (70 bytes, its length and the tag), where the host and registrable
        // domain are, the span and the part (32 bits each), the kind and the flags; the IP
        // address is read from the host.
        assert!(std::mem::size_of::<Hit>() <= 104);
    }

    /// [`split_port_at`] at the last colon, as [`url`] finds it.
    fn split_port(hp: &str) -> (&str, Option<Option<u16>>) {
        split_port_at(hp, host::rpos(hp.as_bytes(), b':'))
    }

    #[test]
    fn ports() {
        assert_eq!(split_port("a.com:8080"), ("a.com", Some(Some(8080))));
        assert_eq!(split_port("a.com"), ("a.com", Some(None)));
        assert_eq!(split_port("[::1]:80"), ("[::1]", Some(Some(80))));
        assert_eq!(split_port("a.com:x"), ("a.com", None));
        assert_eq!(split_port("a.com:99999"), ("a.com", None));
    }
}

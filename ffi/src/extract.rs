//! Extraction of URLs, hosts, emails and IP addresses from mail, into a result handle.

use crate::boundary::rblkit_result::{self, *};
use crate::boundary::{
    arg, call, call_value, clear_out, free_handle, out, out_handle, out_text, Failure,
};
use rblkit::extract::{ExtractError, Extractor, Format, Hit, HitKind};
use std::ffi::c_char;
use std::sync::OnceLock;

/// Input format: guess from the start of the input (a message starts with header fields,
/// HTML with a tag).
pub const RBLKIT_FORMAT_AUTO: u32 = 0;
/// Input format: plain text.
pub const RBLKIT_FORMAT_TEXT: u32 = 1;
/// Input format: an HTML document or fragment.
pub const RBLKIT_FORMAT_HTML: u32 = 2;
/// Input format: a whole RFC 5322 message (MIME parts decoded).
pub const RBLKIT_FORMAT_MESSAGE: u32 = 3;

/// What a hit is.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rblkit_hit_kind {
    /// A URL (with a scheme, or a host followed by a path or port).
    RBLKIT_HIT_URL = 0,
    /// A bare host name in prose.
    RBLKIT_HIT_HOST = 1,
    /// An email address; its host is the domain.
    RBLKIT_HIT_EMAIL = 2,
    /// A bare IPv4 address in prose.
    RBLKIT_HIT_IP = 3,
    /// A kind this version of the header does not name.
    RBLKIT_HIT_OTHER = 255,
}

/// Hit flag: written in a disguised form (`hxxp`, `[.]`, `(dot)`).
pub const RBLKIT_FLAG_OBFUSCATED: u32 = 1;
/// Hit flag: an internationalised name (converted to A-labels).
pub const RBLKIT_FLAG_IDN: u32 = 1 << 1;
/// Hit flag: the host is a numeric IP address (possibly in an unusual notation).
pub const RBLKIT_FLAG_NUMERIC_IP: u32 = 1 << 2;
/// Hit flag: the URL has userinfo (`user@host`).
pub const RBLKIT_FLAG_USERINFO: u32 = 1 << 3;
/// Hit flag: unusual characters in the host.
pub const RBLKIT_FLAG_UNUSUAL_CHARS: u32 = 1 << 4;
/// Hit flag: found inside a redirector URL (unwrapped).
pub const RBLKIT_FLAG_REDIRECTED: u32 = 1 << 5;
/// Hit flag: an HTML link whose text names another registrable domain than its target.
pub const RBLKIT_FLAG_PHISHING: u32 = 1 << 6;
/// Hit flag: a URL written without a scheme.
pub const RBLKIT_FLAG_NO_SCHEME: u32 = 1 << 7;

/// The hits found in one input, in order of appearance.
///
/// Thread safety: immutable once returned; any number of threads may read it at the same time.
pub struct rblkit_hits {
    hits: Vec<Hit>,
}

fn extractor() -> &'static Extractor {
    static EX: OnceLock<Extractor> = OnceLock::new();
    EX.get_or_init(Extractor::new)
}

/// Finds the URLs, hosts, emails and IP addresses in `input` (`len` bytes; text and HTML
/// that are not UTF-8 are read with replacement characters) of the format `format`
/// (`RBLKIT_FORMAT_*`), with the embedded public suffix list and the default limits, into a
/// new `*out`. `RBLKIT_ERR_LIMIT` when the input is too large (`*out` NULL) or has too many
/// hits (then `*out` holds the hits up to the limit: free it too); `RBLKIT_ERR_DATA` for a
/// MIME structure that cannot be parsed. `*out` is NULL on other failures; free it with
/// `rblkit_hits_free` (NULL is accepted).
#[no_mangle]
pub extern "C" fn rblkit_extract(
    input: *const u8,
    len: usize,
    format: u32,
    out: *mut *mut rblkit_hits,
) -> rblkit_result {
    // SAFETY: `out` is NULL or writable, as the header states.
    unsafe { clear_out(out) };
    call("rblkit_extract", || {
        // SAFETY: `input` points to `len` readable bytes (or is NULL with len 0), as the
        // header states.
        let input = unsafe { crate::boundary::bytes(input, len, "input") }?;
        let format = match format {
            RBLKIT_FORMAT_AUTO => Format::detect(input),
            RBLKIT_FORMAT_TEXT => Format::Text,
            RBLKIT_FORMAT_HTML => Format::Html,
            RBLKIT_FORMAT_MESSAGE => Format::Message,
            other => {
                return Err(Failure::new(
                    RBLKIT_ERR_INVALID_ARGUMENT,
                    format!("unknown format {other}"),
                ))
            }
        };
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let mut hits = Vec::new();
        let result = extractor().extract(input, format, &mut hits);
        match result {
            Ok(()) => {
                out_handle!(out, rblkit_hits { hits });
                Ok(())
            }
            Err(e @ ExtractError::TooManyHits { .. }) => {
                out_handle!(out, rblkit_hits { hits });
                Err(e.into())
            }
            Err(e) => Err(e.into()),
        }
    })
}

/// Frees hits. NULL is accepted and ignored.
#[no_mangle]
pub extern "C" fn rblkit_hits_free(hits: *mut rblkit_hits) {
    call_value("rblkit_hits_free", (), || {
        // SAFETY: the header's contract: NULL or hits not freed before.
        unsafe { free_handle(hits) }
    });
}

/// How many hits (0 for NULL).
#[no_mangle]
pub extern "C" fn rblkit_hits_count(hits: *const rblkit_hits) -> usize {
    call_value("rblkit_hits_count", 0, || {
        // SAFETY: NULL or live hits (the header's contract).
        unsafe { hits.as_ref() }.map_or(0, |h| h.hits.len())
    })
}

fn hit(hits: &rblkit_hits, i: usize) -> Result<&Hit, Failure> {
    hits.hits
        .get(i)
        .ok_or_else(|| Failure::out_of_range("hit", i, hits.hits.len()))
}

/// The kind of the `i`-th hit.
#[no_mangle]
pub extern "C" fn rblkit_hits_kind(
    hits: *const rblkit_hits,
    i: usize,
    kind: *mut rblkit_hit_kind,
) -> rblkit_result {
    call("rblkit_hits_kind", || {
        let k = match hit(arg!(hits), i)?.kind() {
            HitKind::Url => rblkit_hit_kind::RBLKIT_HIT_URL,
            HitKind::Host => rblkit_hit_kind::RBLKIT_HIT_HOST,
            HitKind::Email => rblkit_hit_kind::RBLKIT_HIT_EMAIL,
            HitKind::Ip => rblkit_hit_kind::RBLKIT_HIT_IP,
            _ => rblkit_hit_kind::RBLKIT_HIT_OTHER,
        };
        out!(kind, k);
        Ok(())
    })
}

/// The URL of the `i`-th hit into `buf` (as found, de-obfuscated); `RBLKIT_ERR_ABSENT`
/// when the hit is not a URL.
#[no_mangle]
pub extern "C" fn rblkit_hits_url(
    hits: *const rblkit_hits,
    i: usize,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> rblkit_result {
    call("rblkit_hits_url", || {
        let u = hit(arg!(hits), i)?
            .url()
            .ok_or_else(|| Failure::new(RBLKIT_ERR_ABSENT, format!("hit {i} is not a URL")))?;
        out_text!(u, buf, cap, len);
        Ok(())
    })
}

/// The email address of the `i`-th hit into `buf`; `RBLKIT_ERR_ABSENT` when the hit is not
/// an email address.
#[no_mangle]
pub extern "C" fn rblkit_hits_email(
    hits: *const rblkit_hits,
    i: usize,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> rblkit_result {
    call("rblkit_hits_email", || {
        let e = hit(arg!(hits), i)?.email().ok_or_else(|| {
            Failure::new(
                RBLKIT_ERR_ABSENT,
                format!("hit {i} is not an email address"),
            )
        })?;
        out_text!(e, buf, cap, len);
        Ok(())
    })
}

/// The host of the `i`-th hit into `buf`: lowercase, IDN as A-labels, IPv4 dotted-decimal,
/// IPv6 without brackets; for an email address, its domain.
#[no_mangle]
pub extern "C" fn rblkit_hits_host(
    hits: *const rblkit_hits,
    i: usize,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> rblkit_result {
    call("rblkit_hits_host", || {
        let h = hit(arg!(hits), i)?;
        out_text!(h.host(), buf, cap, len);
        Ok(())
    })
}

/// The registrable domain of the `i`-th hit's host (by the public suffix list) into `buf`;
/// `RBLKIT_ERR_ABSENT` for an IP address or a public suffix.
#[no_mangle]
pub extern "C" fn rblkit_hits_registrable_domain(
    hits: *const rblkit_hits,
    i: usize,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> rblkit_result {
    call("rblkit_hits_registrable_domain", || {
        let d = hit(arg!(hits), i)?.registrable_domain().ok_or_else(|| {
            Failure::new(
                RBLKIT_ERR_ABSENT,
                format!("hit {i} has no registrable domain"),
            )
        })?;
        out_text!(d, buf, cap, len);
        Ok(())
    })
}

/// Where the `i`-th hit is: byte offsets `[*start, *end)` into the input, or for a whole
/// message into the decoded text of its MIME part (`rblkit_hits_part`).
#[no_mangle]
pub extern "C" fn rblkit_hits_span(
    hits: *const rblkit_hits,
    i: usize,
    start: *mut usize,
    end: *mut usize,
) -> rblkit_result {
    call("rblkit_hits_span", || {
        let s = hit(arg!(hits), i)?.span();
        out!(start, s.start);
        out!(end, s.end);
        Ok(())
    })
}

/// The MIME part the `i`-th hit is in: depth-first order, the message itself is 0 (and 0
/// for text and HTML input).
#[no_mangle]
pub extern "C" fn rblkit_hits_part(
    hits: *const rblkit_hits,
    i: usize,
    part: *mut usize,
) -> rblkit_result {
    call("rblkit_hits_part", || {
        let h = hit(arg!(hits), i)?;
        out!(part, h.part());
        Ok(())
    })
}

/// The flags of the `i`-th hit (`RBLKIT_FLAG_*` bits).
#[no_mangle]
pub extern "C" fn rblkit_hits_flags(
    hits: *const rblkit_hits,
    i: usize,
    flags: *mut u32,
) -> rblkit_result {
    call("rblkit_hits_flags", || {
        let h = hit(arg!(hits), i)?;
        out!(flags, u32::from(h.flags().bits()));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rblkit::extract::Flags;

    /// The header's flag values are the library's.
    #[test]
    fn flag_constants_match_the_library() {
        for (c, f) in [
            (RBLKIT_FLAG_OBFUSCATED, Flags::OBFUSCATED),
            (RBLKIT_FLAG_IDN, Flags::IDN),
            (RBLKIT_FLAG_NUMERIC_IP, Flags::NUMERIC_IP),
            (RBLKIT_FLAG_USERINFO, Flags::USERINFO),
            (RBLKIT_FLAG_UNUSUAL_CHARS, Flags::UNUSUAL_CHARS),
            (RBLKIT_FLAG_REDIRECTED, Flags::REDIRECTED),
            (RBLKIT_FLAG_PHISHING, Flags::PHISHING),
            (RBLKIT_FLAG_NO_SCHEME, Flags::NO_SCHEME),
        ] {
            assert_eq!(c, u32::from(f.bits()));
        }
    }

    #[test]
    fn hits_of_text() {
        let text = "see hxxp://www.spam[.]example/x and mail bob@example.org";
        let mut h = std::ptr::null_mut();
        assert_eq!(
            rblkit_extract(text.as_ptr(), text.len(), RBLKIT_FORMAT_TEXT, &mut h),
            RBLKIT_OK
        );
        assert_eq!(rblkit_hits_count(h), 2);
        let mut buf = [0 as c_char; 64];
        let mut len = 0;
        assert_eq!(
            rblkit_hits_host(h, 0, buf.as_mut_ptr(), 64, &mut len),
            RBLKIT_OK
        );
        // SAFETY: NUL-terminated by rblkit_hits_host.
        let host = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
        assert_eq!(host.to_str().unwrap(), "www.spam.example");
        let mut flags = 0;
        assert_eq!(rblkit_hits_flags(h, 0, &mut flags), RBLKIT_OK);
        assert_ne!(flags & RBLKIT_FLAG_OBFUSCATED, 0);
        assert_eq!(
            rblkit_hits_url(h, 1, buf.as_mut_ptr(), 64, &mut len),
            RBLKIT_ERR_ABSENT
        );
        assert_eq!(
            rblkit_hits_email(h, 1, buf.as_mut_ptr(), 64, &mut len),
            RBLKIT_OK
        );
        assert_eq!(len, "bob@example.org".len());
        assert_eq!(
            rblkit_hits_host(h, 2, buf.as_mut_ptr(), 64, &mut len),
            RBLKIT_ERR_OUT_OF_RANGE
        );
        rblkit_hits_free(h);
    }
}

//! The boundary between C and Rust: result codes, the thread-local last error, the panic
//! boundary every exported function runs inside, and the pointer and string helpers.

use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What a call did. Every function that can fail returns one of these; on anything but
/// `RBLKIT_OK`, `rblkit_last_error` describes the failure (in the calling thread).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rblkit_result {
    /// Success.
    RBLKIT_OK = 0,
    /// A required pointer argument was NULL.
    RBLKIT_ERR_NULL = 1,
    /// A string argument was not UTF-8.
    RBLKIT_ERR_UTF8 = 2,
    /// An argument did not parse: a subject, a dataset spec, a list entry, a return code.
    RBLKIT_ERR_PARSE = 3,
    /// A file could not be read.
    RBLKIT_ERR_IO = 4,
    /// Bad data: a bad line of a dataset (strict loading) or of evidence (the good lines are
    /// still taken); the message names the file or the line.
    RBLKIT_ERR_DATA = 5,
    /// An output buffer was too small (or NULL); the length written back is what it needs,
    /// without the terminating NUL.
    RBLKIT_ERR_BUFFER_TOO_SMALL = 6,
    /// An index past the end.
    RBLKIT_ERR_OUT_OF_RANGE = 7,
    /// The value asked for does not exist (a hit without a URL, a listing without an expiry).
    RBLKIT_ERR_ABSENT = 8,
    /// No built-in policy profile has that name.
    RBLKIT_ERR_UNKNOWN_PROFILE = 9,
    /// Not available in this build (a feature the library was built without).
    RBLKIT_ERR_UNSUPPORTED = 10,
    /// A limit was reached: input too large, too many hits, nesting too deep.
    RBLKIT_ERR_LIMIT = 11,
    /// An argument out of its domain: an unknown format or flag, a return code outside
    /// 127.0.0.0/8, a time outside the supported range.
    RBLKIT_ERR_INVALID_ARGUMENT = 12,
    /// An internal error (a Rust panic, caught at the boundary). A ledger handle is unusable
    /// after one; other handles stay valid.
    RBLKIT_ERR_PANIC = 13,
}

use rblkit_result::*;

/// A failed call: its code and what to tell the caller.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: rblkit_result,
    pub(crate) msg: String,
}

impl Failure {
    pub(crate) fn new(code: rblkit_result, msg: impl Into<String>) -> Failure {
        Failure {
            code,
            msg: msg.into(),
        }
    }

    pub(crate) fn null(what: &str) -> Failure {
        Failure::new(RBLKIT_ERR_NULL, format!("{what} is NULL"))
    }

    pub(crate) fn out_of_range(what: &str, i: usize, len: usize) -> Failure {
        Failure::new(
            RBLKIT_ERR_OUT_OF_RANGE,
            format!("{what} {i} is out of range (there are {len})"),
        )
    }
}

impl From<rblkit::Error> for Failure {
    fn from(e: rblkit::Error) -> Failure {
        use rblkit::extract::ExtractError;
        use rblkit::zone::ZoneError;
        use rblkit::Error;
        let code = match &e {
            Error::Zone(ZoneError::Io { .. }) => RBLKIT_ERR_IO,
            Error::Zone(ZoneError::Line(_)) | Error::Ledger(_) => RBLKIT_ERR_DATA,
            Error::Extract(ExtractError::Mime { .. }) => RBLKIT_ERR_DATA,
            Error::Extract(
                ExtractError::TooLarge { .. }
                | ExtractError::TooDeep { .. }
                | ExtractError::TooManyParts { .. }
                | ExtractError::TooManyHits { .. },
            ) => RBLKIT_ERR_LIMIT,
            _ => RBLKIT_ERR_PARSE,
        };
        Failure::new(code, e.to_string())
    }
}

macro_rules! failure_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Failure {
                rblkit::Error::from(e).into()
            }
        }
    )*};
}
failure_from!(
    rblkit::subject::SubjectError,
    rblkit::zone::ZoneError,
    rblkit::extract::ExtractError,
    rblkit::ledger::LedgerError
);

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn set_last_error(function: &str, msg: &str) {
    LAST_ERROR.with(|e| {
        let mut e = e.borrow_mut();
        e.clear();
        e.push_str(function);
        e.push_str(": ");
        e.push_str(msg);
    });
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("panic")
}

/// Runs the body of an exported function inside the panic boundary: its failure, or a panic,
/// becomes a result code and the thread's last error.
pub(crate) fn call(
    function: &'static str,
    body: impl FnOnce() -> Result<(), Failure>,
) -> rblkit_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => RBLKIT_OK,
        Ok(Err(f)) => {
            set_last_error(function, &f.msg);
            f.code
        }
        Err(payload) => {
            set_last_error(
                function,
                &format!("internal error: {}", panic_text(payload.as_ref())),
            );
            RBLKIT_ERR_PANIC
        }
    }
}

/// Runs the body of an exported accessor that returns a plain value; `fallback` on a panic
/// (recorded as the last error).
pub(crate) fn call_value<T>(function: &'static str, fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(payload) => {
            set_last_error(
                function,
                &format!("internal error: {}", panic_text(payload.as_ref())),
            );
            fallback
        }
    }
}

/// A shared reference to a handle, or `RBLKIT_ERR_NULL` naming the parameter.
///
/// # Safety
///
/// `ptr` is NULL or points to a live `T` (a handle this library handed out and that was not
/// freed), not mutated for `'a`.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, Failure> {
    // SAFETY: by this function's contract `ptr` is NULL (checked by `as_ref`) or valid.
    unsafe { ptr.as_ref() }.ok_or_else(|| Failure::null(what))
}

/// An exclusive reference to a handle, or `RBLKIT_ERR_NULL` naming the parameter.
///
/// # Safety
///
/// `ptr` is NULL or points to a live `T` not accessed by anything else for `'a`.
pub(crate) unsafe fn handle_mut<'a, T>(ptr: *mut T, what: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: by this function's contract `ptr` is NULL (checked by `as_mut`) or valid and
    // unaliased.
    unsafe { ptr.as_mut() }.ok_or_else(|| Failure::null(what))
}

/// `len` bytes at `ptr` (`ptr` may be NULL when `len` is 0).
///
/// # Safety
///
/// When `len > 0` and `ptr` is not NULL, `ptr` points to `len` readable bytes that stay
/// unchanged for `'a`.
pub(crate) unsafe fn bytes<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    if len > isize::MAX as usize {
        return Err(Failure::new(
            RBLKIT_ERR_INVALID_ARGUMENT,
            format!("{what}: length {len} is too large"),
        ));
    }
    // SAFETY: `ptr` is not NULL, `len` is at most isize::MAX, and by this function's contract
    // the bytes are readable and unchanged for 'a.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A UTF-8 string of `len` bytes at `ptr`.
///
/// # Safety
///
/// As [`bytes`].
pub(crate) unsafe fn text<'a>(
    ptr: *const c_char,
    len: usize,
    what: &str,
) -> Result<&'a str, Failure> {
    // SAFETY: the contract is this function's.
    let b = unsafe { bytes(ptr.cast::<u8>(), len, what) }?;
    std::str::from_utf8(b).map_err(|e| {
        Failure::new(
            RBLKIT_ERR_UTF8,
            format!("{what}: not UTF-8 at byte {}", e.valid_up_to()),
        )
    })
}

/// Copies `s` and a terminating NUL into `buf` (capacity `cap`) and stores `s.len()` in
/// `*len` (when `len` is not NULL). When `cap < s.len() + 1` (or `buf` is NULL) nothing is
/// copied, `*len` still says how long the string is, and the result is
/// `RBLKIT_ERR_BUFFER_TOO_SMALL`.
///
/// # Safety
///
/// `buf` is NULL or points to `cap` writable bytes; `len` is NULL or points to a writable
/// `size_t`.
pub(crate) unsafe fn write_text(
    s: &str,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> Result<(), Failure> {
    if !len.is_null() {
        // SAFETY: `len` is not NULL and by this function's contract writable.
        unsafe { len.write(s.len()) };
    }
    if buf.is_null() || cap <= s.len() {
        return Err(Failure::new(
            RBLKIT_ERR_BUFFER_TOO_SMALL,
            format!(
                "the buffer holds {cap} bytes, the text needs {} (with its NUL)",
                s.len() + 1
            ),
        ));
    }
    // SAFETY: `buf` is not NULL and has room for `cap > s.len()` bytes (this function's
    // contract); a Rust string and a caller buffer never overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), s.len());
        buf.add(s.len()).write(0);
    }
    Ok(())
}

/// Stores `v` in `*ptr`, or `RBLKIT_ERR_NULL` naming the parameter.
///
/// # Safety
///
/// `ptr` is NULL or points to a writable `T`.
pub(crate) unsafe fn write_out<T>(ptr: *mut T, v: T, what: &str) -> Result<(), Failure> {
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: not NULL, and writable by this function's contract.
    unsafe { ptr.write(v) };
    Ok(())
}

/// Sets a handle out-parameter to NULL first, so that it is NULL on every failure.
///
/// # Safety
///
/// `ptr` is NULL or points to a writable pointer.
pub(crate) unsafe fn clear_out<T>(ptr: *mut *mut T) {
    if !ptr.is_null() {
        // SAFETY: not NULL, and writable by this function's contract.
        unsafe { ptr.write(std::ptr::null_mut()) };
    }
}

/// Stores a new handle owning `v` in `*ptr`; when `ptr` is NULL, `v` is dropped (nothing
/// leaks) and the result is `RBLKIT_ERR_NULL` naming the parameter.
///
/// # Safety
///
/// `ptr` is NULL or points to a writable pointer.
pub(crate) unsafe fn put_handle<T>(ptr: *mut *mut T, v: T, what: &str) -> Result<(), Failure> {
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: not NULL, and writable by this function's contract.
    unsafe { ptr.write(Box::into_raw(Box::new(v))) };
    Ok(())
}

/// Frees a handle made by [`put_handle`]; NULL is accepted and ignored.
///
/// # Safety
///
/// `ptr` is NULL or a handle from [`put_handle`] for the same `T`, not freed before and not
/// used after.
pub(crate) unsafe fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: by this function's contract `ptr` came from Box::into_raw and is freed once.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// Dereferences a handle parameter (`&T`), returning `RBLKIT_ERR_NULL` named after it.
macro_rules! arg {
    ($p:ident) => {
        // SAFETY: every handle parameter of the C API is NULL or a live handle of this library
        // (the contract stated in the header), and shared handles are not mutated meanwhile.
        unsafe { $crate::boundary::handle($p, stringify!($p)) }?
    };
    (mut $p:ident) => {
        // SAFETY: every mutable handle parameter of the C API is NULL or a live handle of this
        // library that no other thread uses during the call (the contract in the header).
        unsafe { $crate::boundary::handle_mut($p, stringify!($p)) }?
    };
}
pub(crate) use arg;

/// A string parameter given as pointer and length, as UTF-8.
macro_rules! arg_text {
    ($p:ident, $len:ident) => {
        // SAFETY: string parameters point to `len` readable bytes (or are NULL with length 0),
        // as the header states.
        unsafe { $crate::boundary::text($p, $len, stringify!($p)) }?
    };
}
pub(crate) use arg_text;

/// Writes a text result into a caller buffer (see [`write_text`]).
macro_rules! out_text {
    ($s:expr, $buf:ident, $cap:ident, $len:ident) => {
        // SAFETY: output buffers point to `cap` writable bytes (or are NULL) and length
        // pointers are NULL or writable, as the header states.
        unsafe { $crate::boundary::write_text($s, $buf, $cap, $len) }?
    };
}
pub(crate) use out_text;

/// Writes a value into an out-parameter, or `RBLKIT_ERR_NULL` named after it.
macro_rules! out {
    ($p:ident, $v:expr) => {
        // SAFETY: out-parameters are NULL or point to writable memory of their type, as the
        // header states.
        unsafe { $crate::boundary::write_out($p, $v, stringify!($p)) }?
    };
}
pub(crate) use out;

/// Stores a new handle in a handle out-parameter (see [`put_handle`]).
macro_rules! out_handle {
    ($p:ident, $v:expr) => {
        // SAFETY: handle out-parameters are NULL or point to a writable pointer, as the header
        // states.
        unsafe { $crate::boundary::put_handle($p, $v, stringify!($p)) }?
    };
}
pub(crate) use out_handle;

/// The text of the latest failed call in the calling thread (empty when none failed), as
/// UTF-8 with a terminating NUL, into `buf` of `cap` bytes; its length (without the NUL)
/// goes to `*len` when `len` is not NULL. `RBLKIT_ERR_BUFFER_TOO_SMALL` when it does not
/// fit (then `*len` says how long it is). This call does not change the last error.
#[no_mangle]
pub extern "C" fn rblkit_last_error(
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> rblkit_result {
    match catch_unwind(|| {
        LAST_ERROR.with(|e| {
            let e = e.borrow();
            // SAFETY: the header's contract for output buffers and length pointers.
            unsafe { write_text(&e, buf, cap, len) }.map_or_else(|f| f.code, |()| RBLKIT_OK)
        })
    }) {
        Ok(r) => r,
        Err(_) => RBLKIT_ERR_PANIC,
    }
}

/// A static, NUL-terminated name of a result code (`"RBLKIT_ERR_NULL"`), or
/// `"RBLKIT_UNKNOWN"`.
#[no_mangle]
pub extern "C" fn rblkit_result_name(result: u32) -> *const c_char {
    let s: &'static [u8] = match result {
        0 => b"RBLKIT_OK\0",
        1 => b"RBLKIT_ERR_NULL\0",
        2 => b"RBLKIT_ERR_UTF8\0",
        3 => b"RBLKIT_ERR_PARSE\0",
        4 => b"RBLKIT_ERR_IO\0",
        5 => b"RBLKIT_ERR_DATA\0",
        6 => b"RBLKIT_ERR_BUFFER_TOO_SMALL\0",
        7 => b"RBLKIT_ERR_OUT_OF_RANGE\0",
        8 => b"RBLKIT_ERR_ABSENT\0",
        9 => b"RBLKIT_ERR_UNKNOWN_PROFILE\0",
        10 => b"RBLKIT_ERR_UNSUPPORTED\0",
        11 => b"RBLKIT_ERR_LIMIT\0",
        12 => b"RBLKIT_ERR_INVALID_ARGUMENT\0",
        13 => b"RBLKIT_ERR_PANIC\0",
        _ => b"RBLKIT_UNKNOWN\0",
    };
    s.as_ptr().cast()
}

/// The version of this library, a static NUL-terminated string such as `"0.1.0"`.
#[no_mangle]
pub extern "C" fn rblkit_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_names_match_the_enum() {
        for (code, name) in [
            (RBLKIT_OK, "RBLKIT_OK"),
            (RBLKIT_ERR_NULL, "RBLKIT_ERR_NULL"),
            (RBLKIT_ERR_BUFFER_TOO_SMALL, "RBLKIT_ERR_BUFFER_TOO_SMALL"),
            (RBLKIT_ERR_PANIC, "RBLKIT_ERR_PANIC"),
        ] {
            let p = rblkit_result_name(code as u32);
            // SAFETY: rblkit_result_name returns a static NUL-terminated string.
            let s = unsafe { std::ffi::CStr::from_ptr(p) };
            assert_eq!(s.to_str().unwrap(), name);
            assert_eq!(format!("{code:?}"), name);
        }
    }

    #[test]
    fn a_panic_becomes_a_result_and_a_message() {
        let r = call("rblkit_test", || panic!("boom {}", 7));
        assert_eq!(r, RBLKIT_ERR_PANIC);
        let mut buf = [0 as c_char; 64];
        let mut len = 0usize;
        assert_eq!(
            rblkit_last_error(buf.as_mut_ptr(), buf.len(), &mut len),
            RBLKIT_OK
        );
        // SAFETY: rblkit_last_error wrote a NUL-terminated string.
        let s = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
        assert_eq!(s.to_str().unwrap(), "rblkit_test: internal error: boom 7");
        assert_eq!(len, s.to_bytes().len());
    }

    #[test]
    fn a_short_buffer_says_what_it_needs() {
        let r = call("f", || Err(Failure::new(RBLKIT_ERR_PARSE, "0123456789")));
        assert_eq!(r, RBLKIT_ERR_PARSE);
        let mut len = 0usize;
        let mut buf = [0 as c_char; 4];
        assert_eq!(
            rblkit_last_error(buf.as_mut_ptr(), buf.len(), &mut len),
            RBLKIT_ERR_BUFFER_TOO_SMALL
        );
        assert_eq!(len, "f: 0123456789".len());
        assert_eq!(buf, [0; 4], "nothing copied");
        assert_eq!(
            rblkit_last_error(std::ptr::null_mut(), 0, &mut len),
            RBLKIT_ERR_BUFFER_TOO_SMALL
        );
        let mut big = vec![1 as c_char; len + 1];
        assert_eq!(
            rblkit_last_error(big.as_mut_ptr(), big.len(), &mut len),
            RBLKIT_OK
        );
        assert_eq!(big[len], 0);
    }
}

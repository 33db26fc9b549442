//! The C API of rblkit: DNS-based reputation lists for C programs (mail servers, milters,
//! filters).
//!
//! Opaque handles with create/free pairs:
//!
//! - `rblkit_list`: an immutable list, loaded from an rbldnsd dataset (`rblkit_list_load`,
//!   `ZONE:TYPE:FILE[,FILE...]`), built entry by entry (`rblkit_builder_*`) or compiled from
//!   a ledger (`rblkit_ledger_compile`); lookups of IPv4/IPv6 addresses (binary and text),
//!   domains, email addresses and any subject fill a reusable `rblkit_answer` (listed or not,
//!   return codes, TXT rendered for the subject, since/expires).
//! - `rblkit_hits`: what `rblkit_extract` finds in text, HTML or a whole message: kind, URL,
//!   host, registrable domain, span, flags.
//! - `rblkit_ledger`: evidence events in (JSON lines with explicit times), lists out under a
//!   named policy profile at an explicit `now`, and explanations as text or JSON.
//!
//! Conventions: strings in and out are UTF-8 with explicit lengths; text results are copied
//! into caller buffers with a terminating NUL (`RBLKIT_ERR_BUFFER_TOO_SMALL` and the needed
//! length when they do not fit); every function that can fail returns an `rblkit_result`
//! and leaves a message for `rblkit_last_error` in the calling thread; no panic crosses the
//! boundary; NULL handles are refused with `RBLKIT_ERR_NULL`, and every `_free` accepts NULL.
//! Time is unix seconds (`int64_t`); the library never reads the clock.
//!
//! The header `include/rblkit.h` is generated from this crate by cbindgen
//! (`ffi/cbindgen.toml`); the test `header_is_up_to_date` fails when the committed header
//! differs.

#![deny(clippy::undocumented_unsafe_blocks, unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
#![allow(non_camel_case_types)]
// The exported functions are C entry points taking raw pointers: their safety contract (NULL
// or a live handle; buffers of the stated length) is stated in the header, and every
// dereference goes through the checked helpers of `boundary`.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod boundary;
mod extract;
mod ledger;
mod list;

pub use boundary::{rblkit_last_error, rblkit_result, rblkit_result_name, rblkit_version};
pub use extract::*;
pub use ledger::*;
pub use list::*;

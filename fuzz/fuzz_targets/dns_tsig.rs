#![no_main]
//! TSIG records of requests from the network (RFC 8945): finding the record, checking its
//! MAC and time against a key, and writing the error record of the answer never panic,
//! whatever the bytes.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rblkit::dns::server::fuzz_tsig(data);
});

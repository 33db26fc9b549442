//! An authoritative DNS server for lists, answering as rbldnsd does, over UDP and TCP.
//!
//! A [`Catalog`] holds the zones: rbldnsd datasets ([`Zone`](crate::zone::Zone), from the
//! same `ZONE:TYPE:FILE[,FILE…]` specs rbldnsd takes) or compiled [`List`](crate::List)s.
//! [`respond`] answers one query from a catalog into a fixed buffer without allocating;
//! [`Server`] runs it on sockets: per address one SO_REUSEPORT UDP socket and thread per
//! core, a TCP listener with bounded, idle-limited connections, and a loader thread that
//! checks the dataset files and swaps in a new catalog (atomically: every query is
//! answered from the old data or the new, never from half of it).
//!
//! It is also a primary for secondaries (NSD, Knot, BIND): with
//! [`ServerBuilder::allow_transfer`] it answers AXFR and IXFR over TCP from those addresses
//! with the zone [`Zone::master_records`](crate::zone::Zone::master_records) gives (the
//! master-file export), IXFR from the differences of the versions it served last, and with
//! [`ServerBuilder::notify`] it sends NOTIFY when a zone's serial changes; [`transfer`]
//! answers one transfer query without a server. Zones of compiled lists handed in with
//! [`Server::publish`] are transferred too, IXFR following each publish that changes them.
//! With [`ServerBuilder::tsig_key`] (TSIG, RFC 8945) signed requests are verified and
//! answered signed, [`ServerBuilder::allow_transfer_with_key`] requires a key and
//! [`ServerBuilder::notify_with_key`] signs the NOTIFY.
//!
//! The answers are rbldnsd's (see [`respond`] for the few places where the RFCs are followed
//! instead): A and TXT records from every dataset listing the name, SOA and NS at the apex,
//! NXDOMAIN with the SOA (its minimum as TTL) in the authority section, REFUSED outside the
//! zones, the NS records and their glue in the authority and additional sections of
//! positive answers.
//!
//! # Examples
//!
//! ```
//! use rblkit::dns::server::{respond, Catalog, Scratch, Transport};
//! use rblkit::zone::{DatasetKind, DatasetParser, Zone};
//! let mut p = DatasetParser::new(DatasetKind::DnSet);
//! p.parse_file("d.txt", b"$SOA 1h ns.dbl.example. hostmaster.dbl.example. 1 1h 15m 1w 5m\n*.spam.example :127.0.1.2:$ is listed\n")?;
//! let catalog = Catalog::builder().zone(Zone::new("dbl.example".parse()?, vec![p.finish().into()])).build()?;
//!
//! let ask = |name: &[u8], qtype: u8| {
//!     let mut q = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
//!     q.extend_from_slice(name);
//!     q.extend_from_slice(&[0, qtype, 0, 1]);
//!     let mut out = [0u8; 512];
//!     let n = respond(&catalog, &q, Transport::Udp, &mut Scratch::new(), &mut out);
//!     (out[3] & 15, u16::from_be_bytes([out[6], out[7]]), u16::from_be_bytes([out[8], out[9]]), n)
//! };
//! // listed: one TXT answer
//! assert_eq!(ask(b"\x03www\x04spam\x07example\x03dbl\x07example\0", 16).0, 0);
//! assert_eq!(ask(b"\x03www\x04spam\x07example\x03dbl\x07example\0", 16).1, 1);
//! // not listed: NXDOMAIN, SOA in authority
//! assert_eq!(ask(b"\x03ham\x07example\x03dbl\x07example\0", 1).0, 3);
//! assert_eq!(ask(b"\x03ham\x07example\x03dbl\x07example\0", 1).2, 1);
//! // an empty non-terminal: NOERROR, no answer (RFC 8020)
//! assert_eq!(ask(b"\x04spam\x07example\x03dbl\x07example\0", 1).0, 0);
//! // elsewhere: REFUSED
//! assert_eq!(ask(b"\x07example\x03org\0", 1).0, 5);
//! # Ok::<(), rblkit::Error>(())
//! ```

mod access;
mod answer;
#[cfg(target_os = "linux")]
mod batch;
mod catalog;
mod error;
mod net;
mod ops;
mod request;
mod rrl;
mod tsig;
mod xfr;

pub use access::Client;
pub use answer::{respond, respond_from, Scratch, Transport, EDNS_UDP_SIZE};
pub use catalog::{Catalog, CatalogBuilder, DEFAULT_TTL};
pub use error::ServerError;
pub use net::{Event, Server, ServerBuilder};
pub use ops::Limits;
pub use request::{Edns, Malformed, Request};
pub use rrl::{Decision, Quota, QuotaBuilder, RateLimit, RateLimitBuilder, ResponseClass};
#[doc(hidden)]
pub use tsig::fuzz_tsig;
pub use tsig::{TsigAlgorithm, TsigError, TsigKey};
pub use xfr::{transfer, TransferStyle};

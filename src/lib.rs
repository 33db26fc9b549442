//! rblkit: run and use DNS-based reputation lists (DNSBL, RBL, URIBL).
//!
//! The core of the crate is pure: it parses and normalises the subjects lists are about
//! ([`subject`]), encodes and decodes the `127.0.0.x` return codes ([`codes`]), builds and
//! reads RFC 5782 query names ([`qname`]), and answers lookups from an immutable compiled
//! [`List`] in tens of nanoseconds ([`list`]), and finds the URLs, hosts and addresses in mail
//! that content lists are queried with ([`extract`]). Nothing in it reads the clock: time is passed in
//! as a [`Timestamp`].
//!
//! # Example
//!
//! ```
//! use rblkit::{List, Listing, Subject};
//! use rblkit::codes::ReturnCode;
//! use rblkit::list::DomainPattern;
//!
//! // compile a list: a network with a TXT template, an exclusion, a wildcard domain
//! let mut b = List::builder();
//! let spam = Listing::new(ReturnCode::LISTED).with_txt("see https://bl.example/$");
//! b.insert(&"192.0.2.0/24".parse()?, spam);
//! b.exclude(&"192.0.2.10".parse()?);
//! b.insert_domain(&"*.spam.example".parse::<DomainPattern>()?, Listing::new(ReturnCode::new_assert(127, 0, 1, 2)));
//! let list = b.build();
//!
//! // look things up
//! let hit = list.lookup_ipv4("192.0.2.77".parse().unwrap()).expect("listed");
//! assert_eq!(hit.codes(), &[ReturnCode::LISTED]);
//! assert_eq!(hit.render_txt(0, "192.0.2.77").as_deref(), Some("see https://bl.example/192.0.2.77"));
//! assert!(list.lookup_ipv4("192.0.2.10".parse().unwrap()).is_none());
//! assert!(list.lookup_domain("www.spam.example").is_some());
//! assert!(list.lookup_domain("spam.example").is_none());
//! let who: Subject = "Mail.Spam.Example".parse()?;
//! assert!(list.lookup(&who).is_some());
//! # Ok::<(), rblkit::Error>(())
//! ```
//!
//! # Crate features
//!
//! - `serde`: `Serialize`/`Deserialize` for the value types, as their canonical text
//!   (and `Serialize` for [`extract::Hit`]).
//! - `store`: `ledger::store`, the ledger persisted in a state directory shared by several
//!   processes (SQLite in WAL mode, compiled in).
//! - `dns`: [`dns::server`], an rbldnsd-compatible authoritative DNS server (UDP and TCP,
//!   several threads, reloads while it answers).
//! - `metrics`: [`metrics`], lock-free counters, gauges and histograms in the Prometheus
//!   text format with a `GET /metrics` endpoint (enabled by `dns`, `smtp` and `http`).
//! - `cli`: the `rblkit` command-line tool (`rblkit zone`, `lookup`, `extract`, `ledger`,
//!   `serve`, `check`, `monitor`, `policy`, `ingest`, `web`); enables `store`, `dns`,
//!   `dns-client`, `smtp` and `http`.
//! - `dns-client`: [`dns::client`], checking subjects against DNS lists concurrently
//!   with a tri-state result per list, and [`dns::monitor`], watching a set of subjects
//!   over time and reporting what changed (tokio, `domain`, `toml`).
//! - `smtp`: [`smtp`], a Postfix SMTP access policy delegation server that enforces the
//!   relay provider's rules on the ledger in a state directory (tokio; enables `store`),
//!   its replies, and Postfix log lines as SMTP outcome evidence.
//! - `http`: [`web`], the public lookup, self-delisting and removal request site with its
//!   JSON API and the operator's review (axum); enables `store`.

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub, clippy::exhaustive_enums)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod codes;
#[cfg(any(feature = "dns", feature = "dns-client"))]
pub mod dns;
mod error;
pub mod extract;
pub mod intake;
pub mod ledger;
pub mod list;
#[cfg(feature = "metrics")]
pub mod metrics;
pub mod policy;
pub mod qname;
#[cfg(feature = "smtp")]
pub mod smtp;
pub mod subject;
pub mod time;
#[cfg(any(feature = "dns", feature = "smtp"))]
mod watch;
#[cfg(feature = "http")]
pub mod web;
pub mod zone;

#[cfg(feature = "serde")]
mod serde_impls;

pub use error::{Error, Result};
pub use extract::{Extractor, Hit};
pub use list::{List, ListBuilder, Listing};
pub use subject::Subject;
pub use time::Timestamp;

/// The README's examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

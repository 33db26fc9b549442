//! DNS: an authoritative server for lists ([`server`], feature `dns`).

#[cfg(feature = "dns")]
pub mod server;

//! DNS: an authoritative server for lists ([`server`], feature `dns`), and a checker of
//! other lists with a monitor ([`client`], [`monitor`], feature `dns-client`).

#[cfg(feature = "dns")]
pub mod server;

#[cfg(feature = "dns-client")]
pub mod client;
#[cfg(feature = "dns-client")]
pub mod monitor;

//! Integration tests: one binary, one module per area.

mod alloc;
mod codes;
#[cfg(feature = "cli")]
mod dns_cli;
#[cfg(feature = "dns")]
mod dns_interop;
#[cfg(feature = "dns")]
mod dns_server;
#[cfg(feature = "dns")]
mod dns_tools;
mod extract;
mod ledger;
mod ledger_json;
mod list;
mod policy;
mod qname;
mod zone;
#[cfg(feature = "cli")]
mod zone_cli;
mod zone_interop;
mod zone_master;
mod zone_tools;

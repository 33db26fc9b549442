//! Integration tests: one binary, one module per area.

mod alloc;
mod codes;
#[cfg(feature = "dns-client")]
mod dns_client;
#[cfg(feature = "dns-client")]
mod dns_client_tools;
mod extract;
mod ledger;
mod ledger_json;
mod list;
#[cfg(feature = "dns-client")]
mod monitor;
mod policy;
mod qname;
mod zone;
#[cfg(feature = "cli")]
mod zone_cli;
mod zone_interop;
mod zone_master;
mod zone_tools;

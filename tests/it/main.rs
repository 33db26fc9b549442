//! Integration tests: one binary, one module per area.

mod alloc;
mod codes;
mod extract;
mod ledger;
mod ledger_json;
mod list;
mod policy;
mod policy_relay;
mod policy_spam_center;
mod qname;
mod zone;
#[cfg(feature = "cli")]
mod zone_cli;
mod zone_interop;
mod zone_master;
mod zone_tools;

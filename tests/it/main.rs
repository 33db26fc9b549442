//! Integration tests: one binary, one module per area.

mod alloc;
mod codes;
#[cfg(feature = "cli")]
mod dns_cli;
#[cfg(feature = "dns-client")]
mod dns_client;
#[cfg(feature = "dns-client")]
mod dns_client_tools;
#[cfg(feature = "dns")]
mod dns_interop;
#[cfg(feature = "dns")]
mod dns_ops;
#[cfg(feature = "dns")]
mod dns_server;
#[cfg(feature = "dns")]
mod dns_tools;
#[cfg(feature = "cli")]
mod dns_xfr;
mod extract;
mod intake;
#[cfg(feature = "cli")]
mod intake_cli;
#[cfg(feature = "cli")]
mod intake_postfix;
mod ledger;
#[cfg(feature = "cli")]
mod ledger_cli;
mod ledger_json;
mod list;
#[cfg(feature = "metrics")]
mod metrics_tools;
#[cfg(feature = "dns-client")]
mod monitor;
mod policy;
mod policy_relay;
mod policy_spam_center;
#[cfg(feature = "cli")]
mod postfix_tools;
mod qname;
#[cfg(feature = "cli")]
mod smtp_campaign;
#[cfg(feature = "cli")]
mod smtp_limits;
#[cfg(feature = "cli")]
mod smtp_lists;
#[cfg(feature = "cli")]
mod smtp_log;
#[cfg(feature = "cli")]
mod smtp_postfix;
#[cfg(feature = "cli")]
mod smtp_postfix_counting;
#[cfg(feature = "cli")]
mod smtp_redis;
#[cfg(feature = "cli")]
mod smtp_redis_tls;
#[cfg(feature = "cli")]
mod smtp_server;
#[cfg(feature = "cli")]
mod smtp_tools;
#[cfg(feature = "store")]
mod store;
#[cfg(feature = "cli")]
mod web;
#[cfg(feature = "cli")]
mod web_browser;
#[cfg(feature = "cli")]
mod web_tools;
mod zone;
#[cfg(feature = "cli")]
mod zone_cli;
mod zone_interop;
mod zone_master;
mod zone_tools;

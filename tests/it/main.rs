//! Integration tests.

mod zone;
#[cfg(feature = "cli")]
mod zone_cli;
mod zone_interop;
mod zone_master;
mod zone_tools;

//! Integration tests.

mod tools;
mod zone_interop;
mod zone_master;

//! Integration tests.

mod tools;
mod zone_interop;

//! Integration tests: one binary, one module per area.

mod alloc;
mod codes;
mod list;
mod qname;

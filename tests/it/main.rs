//! Integration tests.

mod codes;
mod qname;

//! Integration tests.
mod extract;

#[cfg(feature = "dns-client")]
pub mod client;
#[cfg(feature = "dns-client")]
pub mod monitor;

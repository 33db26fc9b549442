//! Errors of the DNS server.

/// What went wrong setting up or running the server.
///
/// # Examples
///
/// ```
/// use rblkit::dns::server::ServerError;
/// let e = ServerError::DuplicateZone { zone: "bl.example".into() };
/// assert_eq!(e.to_string(), "zone bl.example is given twice");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Two zones of a catalog have the same name.
    #[error("zone {zone} is given twice")]
    DuplicateZone {
        /// The zone.
        zone: Box<str>,
    },
    /// A name server or SOA name is not a domain name in wire form.
    #[error("{name:?} is not a domain name")]
    BadName {
        /// The name.
        name: Box<str>,
    },
    /// A socket could not be set up.
    #[error("{addr}: cannot {what}: {kind}")]
    Socket {
        /// The address.
        addr: std::net::SocketAddr,
        /// What failed (`bind`, `listen`, …).
        what: &'static str,
        /// The operating system's reason.
        kind: std::io::ErrorKind,
    },
    /// The server was given no address to listen on.
    #[error("no address to listen on")]
    NoListen,
    /// A rate limit or quota that cannot work.
    #[error("bad rate limit or quota: {what}")]
    BadLimit {
        /// What is wrong.
        what: &'static str,
    },
    /// A transfer rule or secondary names a TSIG key the server was not given.
    #[error("TSIG key {name:?} is not defined (give it with --tsig-key or --tsig-key-file)")]
    UnknownKey {
        /// The key name.
        name: Box<str>,
    },
    /// A server thread could not be started.
    #[error("cannot start a server thread: {kind}")]
    Thread {
        /// The operating system's reason.
        kind: std::io::ErrorKind,
    },
}

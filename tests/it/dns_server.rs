//! The DNS server on its own: TCP, truncation, malformed packets, reloads while a client
//! asks, lists swapped in, and the query path allocating nothing.

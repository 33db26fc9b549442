//! CSRF tokens: an HMAC-SHA-256, under a per-process secret, of a time window and the
//! client's cookie nonce. A token is good in its window and the next one.

use super::WebError;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The length of a window, in seconds (tokens last two to four hours).
const WINDOW: i64 = 2 * 3600;

/// The cookie that carries the client's nonce.
pub(crate) const COOKIE: &str = "rblkit_csrf";

pub(crate) struct Csrf {
    key: [u8; 32],
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Whether `s` has the form of a nonce (32 lowercase hex digits).
pub(crate) fn is_nonce(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Csrf {
    pub(crate) fn new() -> Result<Csrf, WebError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| WebError::Random(e.to_string().into()))?;
        Ok(Csrf { key })
    }

    /// A fresh nonce for a client's cookie.
    pub(crate) fn nonce(&self) -> String {
        let mut n = [0u8; 16];
        if getrandom::fill(&mut n).is_err() {
            // no randomness now: derive one from the secret and the time (still unguessable)
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            n.copy_from_slice(&self.mac(-1, &t.to_string())[..16]);
        }
        hex(&n)
    }

    fn mac(&self, window: i64, nonce: &str) -> [u8; 32] {
        let mut m = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        m.update(&window.to_be_bytes());
        m.update(nonce.as_bytes());
        m.finalize().into_bytes().into()
    }

    /// The token for the forms of the client with this nonce, at `now` (Unix seconds).
    pub(crate) fn token(&self, nonce: &str, now: i64) -> String {
        let w = now.div_euclid(WINDOW);
        format!("{w}.{}", hex(&self.mac(w, nonce)))
    }

    /// Whether `token` is good for the client with this nonce at `now`.
    pub(crate) fn check(&self, nonce: &str, token: &str, now: i64) -> bool {
        let Some((w, mac)) = token.split_once('.') else {
            return false;
        };
        let (Ok(w), Some(mac)) = (w.parse::<i64>(), unhex(mac)) else {
            return false;
        };
        let current = now.div_euclid(WINDOW);
        if !is_nonce(nonce) || !(w == current || w == current - 1) {
            return false;
        }
        let mut m = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        m.update(&w.to_be_bytes());
        m.update(nonce.as_bytes());
        m.verify_slice(&mac).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_the_nonce_the_window_and_the_process() {
        let c = Csrf::new().unwrap();
        let n = c.nonce();
        assert!(is_nonce(&n));
        let t = c.token(&n, 1_000_000);
        assert!(c.check(&n, &t, 1_000_000));
        assert!(c.check(&n, &t, 1_000_000 + WINDOW));
        assert!(!c.check(&n, &t, 1_000_000 + 3 * WINDOW));
        assert!(!c.check(&c.nonce(), &t, 1_000_000));
        assert!(!Csrf::new().unwrap().check(&n, &t, 1_000_000));
        assert!(!c.check(&n, "", 1_000_000));
        assert!(!c.check(&n, "x.y", 1_000_000));
        assert!(!c.check(&n, &t[..t.len() - 2], 1_000_000));
    }
}

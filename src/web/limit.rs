//! Per-client rate limits: a token bucket per client address (IPv6 by /64) in a bounded
//! table.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A client's key: an IPv4 address, or the /64 of an IPv6 address.
fn key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => u128::from(u32::from(v4)),
            None => (u128::from(a) >> 64 << 64) | 1,
        },
    }
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets of `per_minute` requests (also the burst), at most `clients` of them.
pub(crate) struct RateLimiter {
    per_minute: u32,
    clients: usize,
    table: Mutex<HashMap<u128, Bucket>>,
}

impl RateLimiter {
    pub(crate) fn new(per_minute: u32, clients: usize) -> RateLimiter {
        RateLimiter {
            per_minute: per_minute.max(1),
            clients: clients.max(1),
            table: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request of `ip`'s allowance at `now`; `Err(retry after)` when none is
    /// left.
    pub(crate) fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let cap = f64::from(self.per_minute);
        let rate = cap / 60.0;
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let k = key(ip);
        if !t.contains_key(&k) && t.len() >= self.clients {
            // forget the clients whose allowance is whole again; if none, the oldest
            t.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rate < cap
            });
            if t.len() >= self.clients {
                if let Some(oldest) = t.iter().min_by_key(|(_, b)| b.last).map(|(k, _)| *k) {
                    t.remove(&oldest);
                }
            }
        }
        let b = t.entry(k).or_insert(Bucket {
            tokens: cap,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(cap);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                ((1.0 - b.tokens) / rate).ceil().max(1.0),
            ))
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.table.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowance_runs_out_and_comes_back() {
        let l = RateLimiter::new(3, 10);
        let t = Instant::now();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert!(l.check(ip, t).is_ok());
        }
        let wait = l.check(ip, t).unwrap_err();
        assert_eq!(wait, Duration::from_secs(20));
        assert!(l.check("192.0.2.2".parse().unwrap(), t).is_ok());
        assert!(l.check(ip, t + Duration::from_secs(20)).is_ok());
    }

    #[test]
    fn one_ipv6_64_is_one_client_and_the_table_is_bounded() {
        let l = RateLimiter::new(1, 4);
        let t = Instant::now();
        assert!(l.check("2001:db8::1".parse().unwrap(), t).is_ok());
        assert!(l.check("2001:db8::2".parse().unwrap(), t).is_err());
        for i in 0..100u32 {
            let _ = l.check(IpAddr::from(std::net::Ipv4Addr::from(i)), t);
            assert!(l.len() <= 4);
        }
    }
}

//! Points in time, passed in explicitly.
//!
//! Nothing in the core of rblkit reads the clock: every operation that depends on time takes a
//! [`Timestamp`] argument, so that tests and simulations can replay weeks of evidence in
//! milliseconds. Only the adapters (servers, the command line) read the system clock, with
//! [`Timestamp::from_system_time`].
//!
//! The canonical text form is RFC 3339 in UTC with second precision, `2026-11-20T10:00:00Z`.
//!
//! # Examples
//!
//! ```
//! use rblkit::Timestamp;
//! use std::time::Duration;
//!
//! let t: Timestamp = "2026-11-20T10:00:00Z".parse()?;
//! assert_eq!(t.unix_seconds(), 1_795_168_800);
//! let later = t + Duration::from_secs(86_400);
//! assert_eq!(later.to_string(), "2026-11-21T10:00:00Z");
//! assert_eq!(later.saturating_duration_since(t), Duration::from_secs(86_400));
//! # Ok::<(), rblkit::Error>(())
//! ```

use std::fmt;
use std::ops::{Add, Sub};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since 1970-01-01T00:00:00Z (negative before), with second precision.
///
/// The range is years 0000 to 9999, so that every value has an RFC 3339 form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Why a text is not an RFC 3339 timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// The text does not have the shape `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    #[error("byte {offset}: expected {expected} in RFC 3339 timestamp {text:?}")]
    Syntax {
        /// Byte offset in the text where the problem is.
        offset: usize,
        /// What was expected there.
        expected: &'static str,
        /// The text (cut to 64 bytes).
        text: Box<str>,
    },
    /// A field is outside its range (month 13, day 31 in April, hour 24, …).
    #[error("{field} {value} out of range in RFC 3339 timestamp {text:?}")]
    Range {
        /// The field: `month`, `day`, `hour`, `minute`, `second` or `offset`.
        field: &'static str,
        /// The value given.
        value: u32,
        /// The text (cut to 64 bytes).
        text: Box<str>,
    },
    /// The time is before year 0000 or after year 9999 (UTC).
    #[error("timestamp outside years 0000-9999")]
    OutOfRange,
}

/// Days from 0000-03-01 based civil calendar (proleptic Gregorian), after H. Hinnant.
const fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

const fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

const fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

const fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

const MIN_SECS: i64 = days_from_civil(0, 1, 1) * 86_400;
const MAX_SECS: i64 = days_from_civil(9999, 12, 31) * 86_400 + 86_399;

impl Timestamp {
    /// 1970-01-01T00:00:00Z.
    pub const UNIX_EPOCH: Timestamp = Timestamp(0);
    /// The earliest timestamp, 0000-01-01T00:00:00Z.
    pub const MIN: Timestamp = Timestamp(MIN_SECS);
    /// The latest timestamp, 9999-12-31T23:59:59Z.
    pub const MAX: Timestamp = Timestamp(MAX_SECS);

    /// A timestamp from seconds since the Unix epoch.
    ///
    /// # Errors
    ///
    /// [`TimeError::OutOfRange`] outside years 0000–9999.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::Timestamp;
    /// assert_eq!(Timestamp::from_unix(0)?.to_string(), "1970-01-01T00:00:00Z");
    /// assert!(Timestamp::from_unix(i64::MAX).is_err());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub const fn from_unix(secs: i64) -> Result<Timestamp, TimeError> {
        if secs < MIN_SECS || secs > MAX_SECS {
            Err(TimeError::OutOfRange)
        } else {
            Ok(Timestamp(secs))
        }
    }

    /// Like [`Timestamp::from_unix`], for constants; panics when out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::Timestamp;
    /// const T: Timestamp = Timestamp::from_unix_assert(1_795_168_800);
    /// assert_eq!(T.to_string(), "2026-11-20T10:00:00Z");
    /// ```
    pub const fn from_unix_assert(secs: i64) -> Timestamp {
        assert!(
            secs >= MIN_SECS && secs <= MAX_SECS,
            "timestamp outside years 0000-9999"
        );
        Timestamp(secs)
    }

    /// The current time of the system clock. Only adapters call this; the core never does.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::Timestamp;
    /// let now = Timestamp::from_system_time(std::time::SystemTime::now());
    /// assert!(now > "2020-01-01T00:00:00Z".parse()?);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn from_system_time(t: SystemTime) -> Timestamp {
        let secs = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        };
        Timestamp(secs.clamp(MIN_SECS, MAX_SECS))
    }

    /// Seconds since the Unix epoch.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::Timestamp;
    /// assert_eq!(Timestamp::UNIX_EPOCH.unix_seconds(), 0);
    /// ```
    pub const fn unix_seconds(self) -> i64 {
        self.0
    }

    /// `self + d`, clamped to [`Timestamp::MAX`].
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::Timestamp;
    /// use std::time::Duration;
    /// assert_eq!(Timestamp::MAX.saturating_add(Duration::from_secs(1)), Timestamp::MAX);
    /// ```
    pub fn saturating_add(self, d: Duration) -> Timestamp {
        let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(secs).min(MAX_SECS))
    }

    /// `self - d`, clamped to [`Timestamp::MIN`].
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::Timestamp;
    /// use std::time::Duration;
    /// assert_eq!(Timestamp::MIN.saturating_sub(Duration::from_secs(1)), Timestamp::MIN);
    /// ```
    pub fn saturating_sub(self, d: Duration) -> Timestamp {
        let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_sub(secs).max(MIN_SECS))
    }

    /// The time from `earlier` to `self`, zero when `earlier` is later.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::Timestamp;
    /// use std::time::Duration;
    /// let a = Timestamp::from_unix(100)?;
    /// let b = Timestamp::from_unix(160)?;
    /// assert_eq!(b.saturating_duration_since(a), Duration::from_secs(60));
    /// assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn saturating_duration_since(self, earlier: Timestamp) -> Duration {
        Duration::from_secs(u64::try_from(self.0 - earlier.0).unwrap_or(0))
    }
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;
    /// Saturating, see [`Timestamp::saturating_add`].
    fn add(self, d: Duration) -> Timestamp {
        self.saturating_add(d)
    }
}

impl Sub<Duration> for Timestamp {
    type Output = Timestamp;
    /// Saturating, see [`Timestamp::saturating_sub`].
    fn sub(self, d: Duration) -> Timestamp {
        self.saturating_sub(d)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400);
        let rem = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        )
    }
}

fn cut(s: &str) -> Box<str> {
    let mut end = s.len().min(64);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].into()
}

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn syntax(&self, expected: &'static str) -> TimeError {
        TimeError::Syntax {
            offset: self.pos,
            expected,
            text: cut(self.text),
        }
    }

    fn digits(&mut self, n: usize, what: &'static str) -> Result<u32, TimeError> {
        let bytes = self.text.as_bytes();
        let mut v = 0u32;
        for i in 0..n {
            match bytes.get(self.pos + i) {
                Some(b) if b.is_ascii_digit() => v = v * 10 + u32::from(b - b'0'),
                _ => {
                    self.pos += i;
                    return Err(self.syntax(what));
                }
            }
        }
        self.pos += n;
        Ok(v)
    }

    fn byte(&mut self, accept: &[u8], what: &'static str) -> Result<u8, TimeError> {
        match self.text.as_bytes().get(self.pos) {
            Some(b) if accept.contains(b) => {
                self.pos += 1;
                Ok(*b)
            }
            _ => Err(self.syntax(what)),
        }
    }
}

impl FromStr for Timestamp {
    type Err = TimeError;

    /// Parses RFC 3339 (`2026-11-20T10:00:00Z`, `2026-11-20T12:00:00+02:00`, `t`/`z` and a space
    /// for `T` accepted, fractions of a second dropped). A leap second `:60` is read as `:59`.
    fn from_str(s: &str) -> Result<Timestamp, TimeError> {
        let mut c = Cursor { text: s, pos: 0 };
        let range = |field, value| TimeError::Range {
            field,
            value,
            text: cut(s),
        };
        let y = c.digits(4, "a four-digit year")?;
        c.byte(b"-", "'-'")?;
        let m = c.digits(2, "a two-digit month")?;
        c.byte(b"-", "'-'")?;
        let d = c.digits(2, "a two-digit day")?;
        c.byte(b"Tt ", "'T'")?;
        let hh = c.digits(2, "a two-digit hour")?;
        c.byte(b":", "':'")?;
        let mm = c.digits(2, "two-digit minutes")?;
        c.byte(b":", "':'")?;
        let ss = c.digits(2, "two-digit seconds")?;
        if c.text.as_bytes().get(c.pos) == Some(&b'.') {
            c.pos += 1;
            let start = c.pos;
            while c.text.as_bytes().get(c.pos).is_some_and(u8::is_ascii_digit) {
                c.pos += 1;
            }
            if c.pos == start {
                return Err(c.syntax("digits after '.'"));
            }
        }
        let offset_secs: i64 = match c.byte(b"Zz+-", "'Z' or a UTC offset")? {
            b'Z' | b'z' => 0,
            sign => {
                let oh = c.digits(2, "a two-digit offset hour")?;
                c.byte(b":", "':'")?;
                let om = c.digits(2, "two-digit offset minutes")?;
                if oh > 23 || om > 59 {
                    return Err(range("offset", oh * 100 + om));
                }
                let v = i64::from(oh * 3600 + om * 60);
                if sign == b'-' {
                    -v
                } else {
                    v
                }
            }
        };
        if c.pos != s.len() {
            return Err(c.syntax("end of text"));
        }
        let y = i64::from(y);
        if !(1..=12).contains(&m) {
            return Err(range("month", m));
        }
        if d < 1 || d > days_in_month(y, m) {
            return Err(range("day", d));
        }
        if hh > 23 {
            return Err(range("hour", hh));
        }
        if mm > 59 {
            return Err(range("minute", mm));
        }
        if ss > 60 {
            return Err(range("second", ss));
        }
        let ss = ss.min(59);
        let secs =
            days_from_civil(y, m, d) * 86_400 + i64::from(hh * 3600 + mm * 60 + ss) - offset_secs;
        Timestamp::from_unix(secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_known_dates() {
        assert_eq!(Timestamp::UNIX_EPOCH.to_string(), "1970-01-01T00:00:00Z");
        let t: Timestamp = "2000-02-29T23:59:59Z".parse().unwrap();
        assert_eq!(t.unix_seconds(), 951_868_799);
        assert_eq!(Timestamp::MIN.to_string(), "0000-01-01T00:00:00Z");
        assert_eq!(Timestamp::MAX.to_string(), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn offsets_and_fractions() {
        let a: Timestamp = "2026-11-20T12:00:00+02:00".parse().unwrap();
        let b: Timestamp = "2026-11-20T10:00:00.123456Z".parse().unwrap();
        let c: Timestamp = "2026-11-20 05:00:00-05:00".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
    }

    #[test]
    fn errors_name_the_place() {
        let e = "2026-11-20X10:00:00Z".parse::<Timestamp>().unwrap_err();
        assert!(matches!(e, TimeError::Syntax { offset: 10, .. }), "{e}");
        let e = "2026-02-29T00:00:00Z".parse::<Timestamp>().unwrap_err();
        assert!(
            matches!(
                e,
                TimeError::Range {
                    field: "day",
                    value: 29,
                    ..
                }
            ),
            "{e}"
        );
        let e = "2026-13-01T00:00:00Z".parse::<Timestamp>().unwrap_err();
        assert!(matches!(e, TimeError::Range { field: "month", .. }));
        assert!("2026-11-20T10:00:00".parse::<Timestamp>().is_err());
        assert!("2026-11-20T10:00:00Zjunk".parse::<Timestamp>().is_err());
        assert!("0000-01-01T00:00:00+00:01".parse::<Timestamp>().is_err());
        assert!("".parse::<Timestamp>().is_err());
        assert!("2026-11-20T10:00:00.Z".parse::<Timestamp>().is_err());
    }

    proptest::proptest! {
        #[test]
        fn display_parse_round_trip(secs in MIN_SECS..=MAX_SECS) {
            let t = Timestamp::from_unix(secs).unwrap();
            let s = t.to_string();
            proptest::prop_assert_eq!(s.parse::<Timestamp>().unwrap(), t);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = s.parse::<Timestamp>();
        }
    }
}

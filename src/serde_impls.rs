//! serde support: every value type (de)serializes as its canonical text.

use crate::codes::{CodeScheme, ListError, Reason, ReasonSet, ReturnCode};
use crate::list::DomainPattern;
use crate::subject::{Domain, EmailAddr, Subject};
use crate::time::Timestamp;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt::Display;
use std::str::FromStr;

fn ser<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn de<'de, T, D>(d: D) -> Result<T, D::Error>
where
    T: FromStr,
    T::Err: Display,
    D: Deserializer<'de>,
{
    let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    s.parse().map_err(de::Error::custom)
}

macro_rules! text_serde {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                ser(self, s)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                de(d)
            }
        }
    )*};
}

text_serde!(
    Subject,
    Domain,
    EmailAddr,
    Timestamp,
    ReturnCode,
    DomainPattern,
    Reason,
    ReasonSet,
    ListError,
    CodeScheme
);

//! UTC timestamps.

use std::fmt;
use std::ops::{Add, Sub};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::{Rfc2822, Rfc3339};
use time::{Date, Duration, OffsetDateTime, UtcDateTime, UtcOffset};

/// A parse failure for a timestamp, with the text that failed (cut to 64 characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {format} timestamp {input:?}")]
pub struct TimestampError {
    /// The format that was expected.
    pub format: &'static str,
    /// The text that failed.
    pub input: String,
}

impl TimestampError {
    fn new(format: &'static str, input: &str) -> Self {
        Self {
            format,
            input: input.chars().take(64).collect(),
        }
    }
}

/// An instant in UTC. Every time in the canonical model is one of these.
///
/// Serialized as RFC 3339 with a `Z` offset; parsing accepts any offset and converts to UTC.
///
/// ```
/// use cartograph_model::Timestamp;
///
/// // BigCommerce v2 orders use RFC 2822.
/// let a = Timestamp::parse_rfc2822("Tue, 20 Nov 2012 00:00:00 +0000")?;
/// let b = Timestamp::parse_rfc3339("2012-11-20T01:00:00+01:00")?;
/// assert_eq!(a, b);
/// assert_eq!(a.to_rfc3339(), "2012-11-20T00:00:00Z");
/// // HubSpot uses epoch milliseconds, BigCommerce webhooks epoch seconds.
/// assert_eq!(Timestamp::from_unix_millis(a.unix_millis())?, a);
/// # Ok::<(), cartograph_model::TimestampError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(UtcDateTime);

impl Timestamp {
    /// The Unix epoch.
    pub const UNIX_EPOCH: Timestamp = Timestamp(UtcDateTime::UNIX_EPOCH);

    /// The current time.
    pub fn now() -> Self {
        Self(UtcDateTime::now())
    }

    /// From seconds since the Unix epoch.
    pub fn from_unix_seconds(seconds: i64) -> Result<Self, TimestampError> {
        UtcDateTime::from_unix_timestamp(seconds)
            .map(Self)
            .map_err(|_| TimestampError::new("unix seconds", &seconds.to_string()))
    }

    /// From milliseconds since the Unix epoch.
    pub fn from_unix_millis(millis: i64) -> Result<Self, TimestampError> {
        UtcDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .map(Self)
            .map_err(|_| TimestampError::new("unix milliseconds", &millis.to_string()))
    }

    /// Parses RFC 3339 (`2024-05-14T09:34:00Z`, any offset).
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimestampError> {
        OffsetDateTime::parse(text.trim(), &Rfc3339)
            .map(Self::from)
            .map_err(|_| TimestampError::new("RFC 3339", text))
    }

    /// Parses RFC 2822 (`Tue, 20 Nov 2012 00:00:00 +0000`).
    pub fn parse_rfc2822(text: &str) -> Result<Self, TimestampError> {
        OffsetDateTime::parse(text.trim(), &Rfc2822)
            .map(Self::from)
            .map_err(|_| TimestampError::new("RFC 2822", text))
    }

    /// Midnight UTC at the start of `date`.
    pub fn start_of_day(date: Date) -> Self {
        Self(UtcDateTime::new(date, time::Time::MIDNIGHT))
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        self.0.unix_timestamp()
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(&self) -> i64 {
        i64::try_from(self.0.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    /// The UTC calendar date.
    pub fn date(&self) -> Date {
        self.0.date()
    }

    /// The underlying `time` value.
    pub fn as_utc(&self) -> UtcDateTime {
        self.0
    }

    /// As an `OffsetDateTime` at UTC.
    pub fn to_offset_date_time(&self) -> OffsetDateTime {
        self.0.to_offset(UtcOffset::UTC)
    }

    /// RFC 3339 text with a `Z` offset and only as many fraction digits as needed.
    pub fn to_rfc3339(&self) -> String {
        self.to_offset_date_time()
            .format(&Rfc3339)
            .unwrap_or_else(|_| self.0.unix_timestamp().to_string())
    }

    /// RFC 2822 text (`Tue, 20 Nov 2012 00:00:00 +0000`).
    pub fn to_rfc2822(&self) -> String {
        self.to_offset_date_time()
            .format(&Rfc2822)
            .unwrap_or_else(|_| self.to_rfc3339())
    }

    /// The timestamp moved by `duration`, saturating at the representable range.
    #[must_use]
    pub fn saturating_add(&self, duration: Duration) -> Self {
        Self(self.0.saturating_add(duration))
    }

    /// The timestamp moved back by `duration`, saturating at the representable range.
    #[must_use]
    pub fn saturating_sub(&self, duration: Duration) -> Self {
        Self(self.0.saturating_sub(duration))
    }

    /// The timestamp truncated to whole milliseconds (what HubSpot and most JSON APIs keep).
    #[must_use]
    pub fn truncated_to_millis(&self) -> Self {
        Self::from_unix_millis(self.unix_millis()).unwrap_or(*self)
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(value: OffsetDateTime) -> Self {
        Self(value.to_utc())
    }
}

impl From<UtcDateTime> for Timestamp {
    fn from(value: UtcDateTime) -> Self {
        Self(value)
    }
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, rhs: Duration) -> Timestamp {
        self.saturating_add(rhs)
    }
}

impl Sub<Duration> for Timestamp {
    type Output = Timestamp;
    fn sub(self, rhs: Duration) -> Timestamp {
        self.saturating_sub(rhs)
    }
}

impl Sub for Timestamp {
    type Output = Duration;
    fn sub(self, rhs: Timestamp) -> Duration {
        self.0 - rhs.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Timestamp::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_converted_to_utc() {
        let t = Timestamp::parse_rfc3339("2024-05-14T11:34:00.250+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-05-14T09:34:00.25Z");
        assert_eq!(t.unix_millis() % 1000, 250);
    }

    #[test]
    fn bad_text_names_the_format() {
        let err = Timestamp::parse_rfc2822("yesterday").unwrap_err();
        assert_eq!(err.format, "RFC 2822");
        assert!(Timestamp::parse_rfc3339("2024-13-01T00:00:00Z").is_err());
    }

    #[test]
    fn serde_round_trips() {
        let t = Timestamp::from_unix_seconds(1_700_000_000).unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2023-11-14T22:13:20Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
    }
}

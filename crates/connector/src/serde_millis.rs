//! Serde helper for durations written as whole milliseconds (`timeout_ms = 30000`), the one
//! duration format every Cartograph config uses: `#[serde(with = "cartograph_connector::serde_millis")]`.
//!
//! ```
//! use std::time::Duration;
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Settings {
//!     #[serde(rename = "timeout_ms", with = "cartograph_connector::serde_millis")]
//!     timeout: Duration,
//! }
//! let s: Settings = serde_json::from_str(r#"{"timeout_ms": 1500}"#)?;
//! assert_eq!(s.timeout, Duration::from_millis(1500));
//! assert_eq!(serde_json::to_string(&s)?, r#"{"timeout_ms":1500}"#);
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::time::Duration;

use serde::{Deserialize as _, Deserializer, Serializer};

/// Writes the duration as whole milliseconds (saturating).
pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
}

/// Reads whole milliseconds.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    u64::deserialize(deserializer).map(Duration::from_millis)
}

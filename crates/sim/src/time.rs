//! [`TimeScale`]: how simulated time maps to real time, with one meaning in every simulator.

use std::time::Duration;

/// Real seconds per simulated second: `1.0` is real time; `0.001` makes a simulated 10 s
/// window last 10 ms of real time (tests run fast); `2.0` runs slower than real time.
/// Every duration a simulator documents in vendor time (rate-limit windows, token
/// lifetimes, webhook retry schedules, cart idle time) goes through [`TimeScale::real`].
///
/// ```
/// use std::time::Duration;
/// use cartograph_sim::TimeScale;
///
/// let scale = TimeScale::new(0.001);
/// assert_eq!(scale.real(Duration::from_secs(10)), Duration::from_millis(10));
/// assert_eq!(scale.simulated(Duration::from_millis(10)), Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct TimeScale(f64);

impl TimeScale {
    /// Real time.
    pub const REAL: Self = Self(1.0);

    /// A scale of `real_seconds_per_simulated_second`; a non-finite or non-positive value is
    /// taken as real time.
    pub fn new(real_seconds_per_simulated_second: f64) -> Self {
        if real_seconds_per_simulated_second.is_finite() && real_seconds_per_simulated_second > 0.0
        {
            Self(real_seconds_per_simulated_second)
        } else {
            Self::REAL
        }
    }

    /// The factor.
    pub const fn factor(self) -> f64 {
        self.0
    }

    /// A simulated (vendor-time) duration in real time.
    pub fn real(self, simulated: Duration) -> Duration {
        Duration::try_from_secs_f64(simulated.as_secs_f64() * self.0).unwrap_or(Duration::MAX)
    }

    /// A real duration in simulated (vendor) time.
    pub fn simulated(self, real: Duration) -> Duration {
        Duration::try_from_secs_f64(real.as_secs_f64() / self.0).unwrap_or(Duration::MAX)
    }
}

impl Default for TimeScale {
    fn default() -> Self {
        Self::REAL
    }
}

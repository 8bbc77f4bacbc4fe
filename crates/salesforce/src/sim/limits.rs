//! The org's daily API allocation seen from tests: spend part of it at once, read the usage
//! the next `Sforce-Limit-Info` header will report.

use super::{SalesforceSim, lock};

impl SalesforceSim {
    /// Counts `requests` against the daily allocation as if other integrations of the org
    /// had made them (they expire from the rolling 24 h window like any request); the
    /// number actually counted (never past the allocation).
    pub fn spend_api_requests(&self, requests: u32) -> u32 {
        let mut quota = lock(&self.shared.quota);
        let mut spent = 0;
        while spent < requests && quota.take().allowed {
            spent += 1;
        }
        spent
    }

    /// `(used, limit)` of the daily allocation now (what the next response would report
    /// before counting itself); `None` when the allocation is unlimited.
    pub fn api_usage(&self) -> Option<(u32, u32)> {
        let limit = self.shared.config.daily_requests;
        (limit > 0).then(|| {
            let state = lock(&self.shared.quota).peek();
            (state.limit.saturating_sub(state.remaining), state.limit)
        })
    }
}

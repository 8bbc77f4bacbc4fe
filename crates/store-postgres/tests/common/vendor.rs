//! A vendor API that allows `limit.requests` in any sliding window of `limit.per` and answers
//! 429 beyond, counting both.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use cartograph_http::RateLimit;
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

/// Requests refused (429) and served (200).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub refused: u64,
    pub served: u64,
}

struct Vendor {
    limit: RateLimit,
    seen: Mutex<VecDeque<Instant>>,
    tally: Arc<Mutex<Tally>>,
}

impl Respond for Vendor {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap();
        while seen
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.limit.per)
        {
            seen.pop_front();
        }
        let mut tally = self.tally.lock().unwrap();
        if seen.len() >= self.limit.requests as usize {
            tally.refused += 1;
            return ResponseTemplate::new(429);
        }
        seen.push_back(now);
        tally.served += 1;
        ResponseTemplate::new(200).set_body_string("{}")
    }
}

/// Starts the vendor; read the tally through the returned handle.
pub async fn start(limit: RateLimit) -> (MockServer, Arc<Mutex<Tally>>) {
    let server = MockServer::start().await;
    let tally = Arc::new(Mutex::new(Tally::default()));
    Mock::given(wiremock::matchers::any())
        .respond_with(Vendor {
            limit,
            seen: Mutex::new(VecDeque::new()),
            tally: Arc::clone(&tally),
        })
        .mount(&server)
        .await;
    (server, tally)
}

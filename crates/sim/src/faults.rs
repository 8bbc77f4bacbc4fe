//! [`FaultInjector`]: faults a simulator injects into its answers, seeded (deterministic for
//! a given request order) or queued one by one by a test.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

/// One injected fault. The vendor simulator renders it in its vendor's shape (error body,
/// rate-limit headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 Too Many Requests, retry after this long (vendor time).
    RateLimited(Duration),
    /// A server error with this status (500, 502, 503, ...).
    ServerError(u16),
    /// Answer normally after this much real latency.
    Latency(Duration),
    /// Drop the connection: the response is cut off mid-body.
    Drop,
}

/// Shares of requests that get each random fault, drawn from a seeded generator.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FaultRates {
    /// Share answered 429.
    pub rate_limited: f64,
    /// Share answered 500/502/503.
    pub server_error: f64,
    /// Share whose connection is dropped.
    pub dropped: f64,
    /// Latency added to every request (real time).
    pub latency: Duration,
    /// Seed of the generator.
    pub seed: u64,
}

/// Decides the fault (if any) of each request: queued faults first, in order, then random
/// ones at [`FaultRates`].
///
/// ```
/// use std::time::Duration;
/// use cartograph_sim::{Fault, FaultInjector, FaultRates};
///
/// let faults = FaultInjector::new(FaultRates::default());
/// faults.push(Fault::ServerError(503));
/// assert_eq!(faults.next_fault(), Some(Fault::ServerError(503)));
/// assert_eq!(faults.next_fault(), None);
/// assert_eq!(faults.injected(), 1);
/// ```
#[derive(Debug)]
pub struct FaultInjector {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    rates: FaultRates,
    queued: VecDeque<Fault>,
    rng: StdRng,
    injected: u64,
}

impl FaultInjector {
    /// An injector with random `rates` and an empty queue.
    pub fn new(rates: FaultRates) -> Self {
        Self {
            inner: Mutex::new(Inner {
                rng: StdRng::seed_from_u64(rates.seed),
                rates,
                queued: VecDeque::new(),
                injected: 0,
            }),
        }
    }

    /// Queues a fault for the next request that has none queued before it.
    pub fn push(&self, fault: Fault) {
        self.lock().queued.push_back(fault);
    }

    /// Replaces the random rates (the generator keeps its position).
    pub fn set_rates(&self, rates: FaultRates) {
        self.lock().rates = rates;
    }

    /// Faults injected so far (latency included).
    pub fn injected(&self) -> u64 {
        self.lock().injected
    }

    /// The fault for the request being served, if any.
    pub fn next_fault(&self) -> Option<Fault> {
        let mut inner = self.lock();
        let fault = inner.queued.pop_front().or_else(|| inner.draw());
        if fault.is_some() {
            inner.injected += 1;
        }
        fault
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    fn draw(&mut self) -> Option<Fault> {
        let rates = self.rates;
        if rates.rate_limited > 0.0 && self.rng.random_bool(rates.rate_limited.clamp(0.0, 1.0)) {
            return Some(Fault::RateLimited(Duration::from_secs(1)));
        }
        if rates.server_error > 0.0 && self.rng.random_bool(rates.server_error.clamp(0.0, 1.0)) {
            let status = [500, 502, 503][self.rng.random_range(0..3)];
            return Some(Fault::ServerError(status));
        }
        if rates.dropped > 0.0 && self.rng.random_bool(rates.dropped.clamp(0.0, 1.0)) {
            return Some(Fault::Drop);
        }
        (!rates.latency.is_zero()).then_some(Fault::Latency(rates.latency))
    }
}

/// [`Fault::Drop`] rendered: `response`'s status and headers go out, then the body fails
/// mid-stream as a reset connection would, so the client sees a transport error after the
/// head.
pub fn cut_body(response: Response) -> Response {
    let (parts, _) = response.into_parts();
    let cut = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated dropped connection",
        ))
    });
    Response::from_parts(parts, Body::from_stream(cut))
}

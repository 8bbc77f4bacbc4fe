//! Wiremock tests of cartograph-http: joins, retries, rate limiting, auth, redaction.

mod client;
mod gate;
mod limit;
mod oauth;
mod redaction;
mod support;

//! wiremock tests.

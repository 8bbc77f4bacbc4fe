//! Spec test (below).

//! Simulator tests (below).

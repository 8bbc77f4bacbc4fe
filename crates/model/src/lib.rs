//! Canonical model (being written).

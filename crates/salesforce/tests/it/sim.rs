//! Simulator behaviour.

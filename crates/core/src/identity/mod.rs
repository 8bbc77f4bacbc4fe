//! Identity resolution (being written).

//! Declarative field mapping (being written).

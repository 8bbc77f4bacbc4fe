#![doc = include_str!("../README.md")]

pub mod profile;

pub use profile::profile;

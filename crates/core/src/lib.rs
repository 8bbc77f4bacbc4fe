#![doc = include_str!("../README.md")]

pub mod identity;
pub mod normalize;

pub mod campaign_revenue;
pub mod change;
pub mod mapping;
pub mod metrics;
pub mod reconcile;
pub mod rules;

#![doc = include_str!("../README.md")]

pub mod faults;
pub mod harness;
pub mod quota;
pub mod receiver;
pub mod record;
pub mod server;
pub mod time;

pub use faults::{Fault, FaultInjector, FaultRates};
pub use harness::{CommerceSimulator, CrmSimulator, SeedData, Seeded, SimRecordView};
pub use quota::{Quota, QuotaState};
pub use receiver::{Received, WebhookReceiver};
pub use record::{Exchange, ExchangeLog};
pub use server::SimServer;
pub use time::TimeScale;

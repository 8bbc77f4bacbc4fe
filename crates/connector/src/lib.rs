#![doc = include_str!("../README.md")]

pub mod capabilities;
pub mod error;
pub mod outcome;
pub mod page;
pub mod profile;
pub mod readback;
pub mod serde_millis;
pub mod traits;
pub mod webhook;

pub use async_trait::async_trait;
pub use capabilities::{Capabilities, EnrollmentMethod, Stream};
pub use error::{Error, ErrorKind, Result};
pub use outcome::{RecordOutcome, TransportStats, WriteStatus, Written};
pub use page::{Cursor, ListRequest, Page, drain};
pub use profile::{ContactKeying, CrmProfile, MappingNames, RevenueFields};
pub use readback::CrmOrder;
pub use traits::{CommerceSource, CommerceWriter, CrmSink, CrmSource, default_hydrate};
pub use webhook::{NotificationKind, WebhookNotification, WebhookRequest};

#![doc = include_str!("../README.md")]

pub mod build;
pub mod campaign;
pub mod cart;
pub mod catalog;
pub mod common;
pub mod crm;
pub mod currency;
pub mod customer;
pub mod event;
pub mod money;
pub mod order;
pub mod timestamp;

pub use build::{InvalidRecord, OrderBuilder};
pub use campaign::CampaignRevenue;
pub use cart::{Cart, CartState};
pub use catalog::{Availability, Brand, Category, Product, Variant};
pub use common::{
    Address, AddressKind, AttributeValue, Attributes, ChannelConsent, Consent, ConsentState,
    EmailAddress, Origin, RecordKind, SourceRef, non_blank,
};
pub use crm::{
    Association, ContactRef, ContactUpsert, CrmContact, CrmEvent, CrmEventKind, CrmObjectType,
    EnrollmentRequest, EnrollmentTarget, FormSubmission, IdentityKeys, LineItemRecord,
    MembershipChange, OrderObject, OrderRecord, ProductRecord, PropertyDefinition, PropertyMap,
    PropertyOption, PropertyType, PropertyValue, RecordRef, TaskKind, TaskPriority, TaskRequest,
};
pub use currency::Currency;
pub use customer::{Customer, CustomerGroup, CustomerWrite};
pub use event::{CommerceEvent, CommerceEventKind};
pub use money::{Money, MoneyError, parse_decimal};
pub use order::{
    Coupon, FulfillmentStatus, LineItem, Order, OrderStatus, PaymentStatus, RawStatus, Refund,
    RefundItem,
};
pub use timestamp::{Timestamp, TimestampError};

/// Re-exported so users build amounts without naming `rust_decimal` themselves.
pub use rust_decimal::Decimal;

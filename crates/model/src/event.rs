//! Commerce events: what happened in a store, hydrated with the full records.

use serde::{Deserialize, Serialize};

use crate::cart::Cart;
use crate::catalog::Product;
use crate::common::{Origin, SourceRef};
use crate::customer::Customer;
use crate::order::{Order, OrderStatus, Refund};
use crate::timestamp::Timestamp;

/// Something that happened in a store.
///
/// ```
/// use cartograph_model::{CommerceEvent, CommerceEventKind, Origin, RecordKind, SourceRef, Timestamp};
///
/// let event = CommerceEvent {
///     id: Some("hash-1".into()),
///     source: SourceRef::new("bigcommerce", RecordKind::Customer, "7"),
///     occurred_at: Timestamp::from_unix_seconds(1_700_000_000)?,
///     origin: Origin::Live,
///     kind: CommerceEventKind::CustomerDeleted,
/// };
/// let json = serde_json::to_string(&event).unwrap();
/// assert!(json.contains(r#""type":"customer_deleted""#));
/// # Ok::<(), cartograph_model::TimestampError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommerceEvent {
    /// The vendor's event id or delivery hash, when there is one (dedupe key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The record the event is about.
    pub source: SourceRef,
    /// When it happened in the store.
    pub occurred_at: Timestamp,
    /// Live or historical (backfill).
    pub origin: Origin,
    /// What happened.
    #[serde(flatten)]
    pub kind: CommerceEventKind,
}

/// What happened, with the records involved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CommerceEventKind {
    /// A customer account was created.
    CustomerCreated {
        /// The customer.
        customer: Box<Customer>,
    },
    /// A customer account changed.
    CustomerUpdated {
        /// The customer.
        customer: Box<Customer>,
    },
    /// A customer account was deleted.
    CustomerDeleted,
    /// An order was placed.
    OrderPlaced {
        /// The order.
        order: Box<Order>,
    },
    /// An order changed without a status change (address, items, metafields).
    OrderUpdated {
        /// The order.
        order: Box<Order>,
    },
    /// An order's status changed.
    OrderStatusChanged {
        /// The order after the change.
        order: Box<Order>,
        /// The previous status, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<OrderStatus>,
        /// The new status.
        to: OrderStatus,
    },
    /// An order was (partly) refunded.
    OrderRefunded {
        /// The refund.
        refund: Box<Refund>,
        /// The order, when it was fetched.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        order: Option<Box<Order>>,
    },
    /// An order was cancelled.
    OrderCancelled {
        /// The order.
        order: Box<Order>,
    },
    /// A cart was created or changed.
    CartUpdated {
        /// The cart.
        cart: Box<Cart>,
    },
    /// A cart was abandoned.
    CartAbandoned {
        /// The cart.
        cart: Box<Cart>,
    },
    /// A cart became an order.
    CartConverted {
        /// The cart, when it could still be read (many platforms delete it on conversion).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cart: Option<Box<Cart>>,
        /// The order it became.
        order: SourceRef,
    },
    /// A product was created or changed.
    ProductUpserted {
        /// The product.
        product: Box<Product>,
    },
    /// A product was deleted.
    ProductDeleted,
}

impl CommerceEventKind {
    /// Stable lowercase name (the serde tag).
    pub const fn name(&self) -> &'static str {
        match self {
            Self::CustomerCreated { .. } => "customer_created",
            Self::CustomerUpdated { .. } => "customer_updated",
            Self::CustomerDeleted => "customer_deleted",
            Self::OrderPlaced { .. } => "order_placed",
            Self::OrderUpdated { .. } => "order_updated",
            Self::OrderStatusChanged { .. } => "order_status_changed",
            Self::OrderRefunded { .. } => "order_refunded",
            Self::OrderCancelled { .. } => "order_cancelled",
            Self::CartUpdated { .. } => "cart_updated",
            Self::CartAbandoned { .. } => "cart_abandoned",
            Self::CartConverted { .. } => "cart_converted",
            Self::ProductUpserted { .. } => "product_upserted",
            Self::ProductDeleted => "product_deleted",
        }
    }

    /// The order involved, if any.
    pub fn order(&self) -> Option<&Order> {
        match self {
            Self::OrderPlaced { order }
            | Self::OrderUpdated { order }
            | Self::OrderStatusChanged { order, .. }
            | Self::OrderCancelled { order } => Some(order),
            Self::OrderRefunded { order, .. } => order.as_deref(),
            _ => None,
        }
    }

    /// The customer involved, if any.
    pub fn customer(&self) -> Option<&Customer> {
        match self {
            Self::CustomerCreated { customer } | Self::CustomerUpdated { customer } => {
                Some(customer)
            }
            _ => None,
        }
    }

    /// The cart involved, if any.
    pub fn cart(&self) -> Option<&Cart> {
        match self {
            Self::CartUpdated { cart } | Self::CartAbandoned { cart } => Some(cart),
            Self::CartConverted { cart, .. } => cart.as_deref(),
            _ => None,
        }
    }
}

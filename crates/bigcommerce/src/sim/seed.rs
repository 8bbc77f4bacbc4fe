//! Canonical records -> the simulator's wire records (the seeding API's conversions).

use cartograph_model::{
    Address, Availability, Cart, Customer, CustomerGroup, LineItem, Money, Order, Product, Refund,
    Timestamp,
};

use super::state::{OrderRec, State};
use crate::map::status_to_id;
use crate::wire;

fn dec4(m: &Money) -> wire::DecimalString {
    wire::DecimalString::new(m.to_decimal_string(4))
}

fn num(m: &Money) -> serde_json::Number {
    serde_json::from_str(&m.amount().normalize().to_string())
        .unwrap_or_else(|_| serde_json::Number::from(0))
}

fn rfc3339(t: Option<Timestamp>) -> Option<String> {
    t.map(|t| t.to_rfc3339())
}

fn qty(d: cartograph_model::Decimal) -> u64 {
    d.trunc().to_string().parse().unwrap_or(1)
}

fn id_or_zero(id: Option<&str>) -> u64 {
    id.and_then(|i| i.trim().parse().ok()).unwrap_or(0)
}

pub(crate) fn customer(state: &mut State, c: &Customer) -> wire::Customer {
    let id = state.claim(&c.source.id);
    wire::Customer {
        id,
        email: c
            .email
            .as_ref()
            .map(|e| e.as_str().to_owned())
            .unwrap_or_default(),
        first_name: c.first_name.clone().unwrap_or_default(),
        last_name: c.last_name.clone().unwrap_or_default(),
        company: c.company.clone(),
        phone: c.phone.clone(),
        customer_group_id: Some(id_or_zero(c.customer_group_ids.first().map(String::as_str))),
        date_created: rfc3339(c.created_at.or(c.updated_at)),
        date_modified: rfc3339(c.updated_at.or(c.created_at)),
        addresses: c
            .addresses
            .iter()
            .map(|a| wire::CustomerAddress {
                id: state.allocate(),
                customer_id: id,
                first_name: a.first_name.clone(),
                last_name: a.last_name.clone(),
                company: a.company.clone(),
                address1: a.line1.clone(),
                address2: a.line2.clone(),
                city: a.city.clone(),
                // Required in `address_Full`: empty where the address has no region.
                state_or_province: Some(a.region.clone().unwrap_or_default()),
                postal_code: a.postcode.clone(),
                country_code: a.country_code.clone(),
                country: a.country.clone(),
                phone: a.phone.clone(),
                address_type: Some("residential".into()),
            })
            .collect(),
        origin_channel_id: c.channel.as_deref().and_then(|ch| ch.parse().ok()),
        ..wire::Customer::default()
    }
}

pub(crate) fn group(state: &mut State, g: &CustomerGroup) -> wire::CustomerGroup {
    wire::CustomerGroup {
        id: state.claim(&g.source.id),
        name: g.name.clone(),
        is_default: g.is_default,
        is_group_for_guests: false,
    }
}

fn billing(a: Option<&Address>, email: &str) -> wire::BillingAddress {
    let a = a.cloned().unwrap_or_default();
    wire::BillingAddress {
        first_name: a.first_name.unwrap_or_default(),
        last_name: a.last_name.unwrap_or_default(),
        company: a.company.unwrap_or_default(),
        street_1: a.line1.unwrap_or_default(),
        street_2: a.line2.unwrap_or_default(),
        city: a.city.unwrap_or_default(),
        state: a.region.unwrap_or_default(),
        zip: a.postcode.unwrap_or_default(),
        country: a.country.unwrap_or_default(),
        country_iso2: a.country_code.unwrap_or_default(),
        phone: a.phone.unwrap_or_default(),
        email: email.to_owned(),
    }
}

fn order_product(state: &mut State, order_id: u64, l: &LineItem) -> wire::OrderProduct {
    wire::OrderProduct {
        id: l.id.trim().parse().unwrap_or_else(|_| state.allocate()),
        order_id,
        product_id: id_or_zero(l.product_id.as_deref()),
        variant_id: l.variant_id.as_deref().and_then(|v| v.parse().ok()),
        name: l.name.clone(),
        sku: l.sku.clone().unwrap_or_default(),
        kind: "physical".into(),
        base_price: dec4(&l.unit_price),
        price_ex_tax: dec4(&l.unit_price),
        price_inc_tax: dec4(&l.unit_price),
        total_ex_tax: dec4(&l.total),
        total_inc_tax: dec4(&l.total),
        total_tax: dec4(&l.tax.unwrap_or(Money::zero(l.total.currency()))),
        quantity: qty(l.quantity),
        ..wire::OrderProduct::default()
    }
}

pub(crate) fn order(state: &mut State, o: &Order) -> OrderRec {
    let id = state.claim(&o.source.id);
    let email = o
        .email
        .as_ref()
        .map(|e| e.as_str().to_owned())
        .unwrap_or_default();
    let status_id = status_to_id(o.status);
    let products = o
        .line_items
        .iter()
        .map(|l| order_product(state, id, l))
        .collect();
    let shipping = o
        .shipping_addresses
        .iter()
        .map(|a| wire::OrderShippingAddress {
            id: state.allocate(),
            order_id: id,
            address: billing(Some(a), &email),
            shipping_method: "Flat Rate".into(),
        })
        .collect();
    let coupons = o
        .coupons
        .iter()
        .map(|c| wire::OrderCoupon {
            id: state.allocate(),
            coupon_id: 1,
            order_id: id,
            code: c.code.clone(),
            amount: c.amount.as_ref().map(dec4).unwrap_or_default(),
            kind: 0,
            discount: c.amount.as_ref().map(dec4).unwrap_or_default(),
        })
        .collect();
    let code = o.currency.code().to_owned();
    let order = wire::Order {
        id,
        customer_id: id_or_zero(o.customer.as_ref().map(|c| c.id.as_str())),
        date_created: o.created_at.to_rfc2822(),
        date_modified: o.updated_at.unwrap_or(o.created_at).to_rfc2822(),
        date_shipped: o.shipped_at.map(|t| t.to_rfc2822()).unwrap_or_default(),
        status_id,
        status: o
            .raw_status
            .label
            .clone()
            .unwrap_or_else(|| crate::map::status_label(status_id).to_owned()),
        subtotal_ex_tax: dec4(&o.subtotal),
        subtotal_inc_tax: dec4(&o.subtotal),
        shipping_cost_ex_tax: dec4(&o.shipping),
        shipping_cost_inc_tax: dec4(&o.shipping),
        total_ex_tax: dec4(&o.total.checked_sub(&o.tax).unwrap_or(o.total)),
        total_inc_tax: dec4(&o.total),
        total_tax: dec4(&o.tax),
        discount_amount: dec4(&o.discount),
        coupon_discount: "0.0000".into(),
        refunded_amount: "0.0000".into(),
        items_total: o.line_items.len() as u64,
        payment_status: "captured".into(),
        currency_code: code.clone(),
        default_currency_code: code,
        currency_exchange_rate: "1.0000000000".into(),
        is_deleted: o.is_archived,
        channel_id: o
            .channel
            .as_deref()
            .and_then(|c| c.parse().ok())
            .unwrap_or(1),
        order_source: "www".into(),
        billing_address: billing(o.billing_address.as_ref(), &email),
        products: Some(wire::ResourceLink {
            url: String::new(),
            resource: format!("/orders/{id}/products"),
        }),
        shipping_addresses: Some(wire::ResourceLink {
            url: String::new(),
            resource: format!("/orders/{id}/shipping_addresses"),
        }),
        coupons: Some(wire::ResourceLink {
            url: String::new(),
            resource: format!("/orders/{id}/coupons"),
        }),
        ..wire::Order::default()
    };
    OrderRec {
        order,
        products,
        shipping,
        coupons,
    }
}

pub(crate) fn refund(state: &mut State, r: &Refund) -> wire::Refund {
    wire::Refund {
        id: state.claim(&r.source.id),
        order_id: id_or_zero(Some(&r.order.id)),
        user_id: Some(1),
        created: r.created_at.to_rfc3339(),
        reason: r.reason.clone(),
        total_amount: num(&r.amount),
        total_tax: None,
        uses_merchant_override_values: false,
        items: r
            .items
            .iter()
            .map(|i| wire::RefundItem {
                item_type: if i.line_item_id.is_some() {
                    "PRODUCT"
                } else {
                    "ORDER"
                }
                .into(),
                item_id: id_or_zero(i.line_item_id.as_deref()),
                reason: None,
                quantity: i.quantity.map(qty),
                requested_amount: i.amount.as_ref().map(num),
            })
            .collect(),
        payments: vec![wire::RefundPayment {
            id: 1,
            provider_id: "storecredit".into(),
            amount: num(&r.amount),
            offline: true,
            is_declined: false,
        }],
    }
}

pub(crate) fn product(state: &mut State, p: &Product) -> wire::Product {
    let id = state.claim(&p.source.id);
    let tracked_by_variant = p.variants.iter().any(|v| v.inventory.is_some());
    wire::Product {
        id,
        name: p.name.clone(),
        kind: "physical".into(),
        sku: p.sku.clone().unwrap_or_default(),
        description: p.description.clone().unwrap_or_default(),
        price: p.price.as_ref().map(num),
        sale_price: Some(
            p.sale_price
                .as_ref()
                .map_or(serde_json::Number::from(0), num),
        ),
        categories: p
            .category_ids
            .iter()
            .filter_map(|c| c.parse().ok())
            .collect(),
        brand_id: id_or_zero(p.brand_id.as_deref()),
        inventory_level: p.inventory.unwrap_or(0),
        inventory_tracking: if tracked_by_variant {
            "variant"
        } else if p.inventory.is_some() {
            "product"
        } else {
            "none"
        }
        .into(),
        availability: match p.availability {
            Availability::Disabled => "disabled",
            Availability::Preorder => "preorder",
            _ => "available",
        }
        .into(),
        is_visible: p.is_visible,
        custom_url: p.url.clone().map(|url| wire::CustomUrl {
            url,
            is_customized: false,
        }),
        date_created: rfc3339(p.created_at.or(p.updated_at)),
        date_modified: rfc3339(p.updated_at.or(p.created_at)),
        variants: p
            .variants
            .iter()
            .map(|v| wire::Variant {
                id: v.id.parse().unwrap_or_else(|_| state.allocate()),
                product_id: id,
                sku: v.sku.clone().unwrap_or_default(),
                price: v.price.as_ref().map(num),
                inventory_level: v.inventory.unwrap_or(0),
                option_values: v
                    .options
                    .iter()
                    .map(|(k, val)| wire::OptionValue {
                        option_display_name: k.clone(),
                        label: val.clone(),
                    })
                    .collect(),
            })
            .collect(),
        images: p
            .image_url
            .clone()
            .map(|url_standard| {
                vec![wire::ProductImage {
                    url_standard,
                    is_thumbnail: true,
                }]
            })
            .unwrap_or_default(),
    }
}

pub(crate) fn cart(state: &mut State, c: &Cart) -> wire::Cart {
    let id = if c.source.id.trim().is_empty() {
        state.uuid()
    } else {
        c.source.id.trim().to_owned()
    };
    let items = c
        .items
        .iter()
        .map(|l| wire::CartItem {
            id: l.id.clone(),
            // Every cart line names a variant (a product's base variant at least).
            variant_id: Some(
                l.variant_id
                    .as_deref()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| state.allocate()),
            ),
            product_id: l.product_id.as_deref().and_then(|v| v.parse().ok()),
            sku: l.sku.clone(),
            name: l.name.clone(),
            url: l.product_url.clone(),
            quantity: qty(l.quantity),
            image_url: l.image_url.clone(),
            list_price: Some(num(&l.unit_price)),
            sale_price: Some(num(&l.unit_price)),
            extended_sale_price: Some(num(&l.total)),
            discount_amount: l.discount.as_ref().map(num),
        })
        .collect();
    wire::Cart {
        id,
        customer_id: id_or_zero(c.customer.as_ref().map(|r| r.id.as_str())),
        channel_id: c
            .channel
            .as_deref()
            .and_then(|ch| ch.parse().ok())
            .unwrap_or(1),
        email: c.email.as_ref().map(|e| e.as_str().to_owned()),
        currency: wire::CartCurrency {
            code: c.value.currency().code().to_owned(),
        },
        tax_included: false,
        base_amount: Some(num(&c.value)),
        discount_amount: Some(serde_json::Number::from(0)),
        cart_amount: Some(num(&c.value)),
        line_items: wire::CartLineItems {
            physical_items: items,
            ..wire::CartLineItems::default()
        },
        created_time: rfc3339(c.created_at),
        updated_time: rfc3339(c.updated_at.or(c.created_at)),
    }
}

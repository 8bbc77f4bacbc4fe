//! Products with variants, categories, brands and carts.

use cartograph_connector::Result;
use cartograph_model::{
    Availability, Brand, Cart, CartState, Category, Currency, Decimal, EmailAddress, LineItem,
    Money, Product, RecordKind, SourceRef, Variant, non_blank,
};

use super::{bad, currency, money_v3, rfc3339_opt};
use crate::wire;

/// A v3 product (with `include=variants,images`) as a canonical [`Product`]. Catalog prices
/// carry no currency: pass the store's default currency.
pub fn product(system: &str, p: &wire::Product, cur: Currency) -> Result<Product> {
    let source = SourceRef::new(system, RecordKind::Product, p.id.to_string());
    let r = source.to_string();
    let r = r.as_str();
    let price = p
        .price
        .as_ref()
        .map(|n| money_v3(r, "price", n, cur))
        .transpose()?;
    let sale_price = p
        .sale_price
        .as_ref()
        .map(|n| money_v3(r, "sale_price", n, cur))
        .transpose()?
        .filter(|m| !m.is_zero());
    let tracking = p.inventory_tracking.as_str();
    let variants = p
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            Ok(Variant {
                id: v.id.to_string(),
                sku: non_blank(Some(&v.sku)),
                price: v
                    .price
                    .as_ref()
                    .map(|n| money_v3(r, &format!("variants[{i}].price"), n, cur))
                    .transpose()?,
                inventory: (tracking == "variant").then_some(v.inventory_level),
                options: v
                    .option_values
                    .iter()
                    .map(|o| (o.option_display_name.clone(), o.label.clone()))
                    .collect(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let stock = match tracking {
        "product" => Some(p.inventory_level),
        "variant" => Some(p.variants.iter().map(|v| v.inventory_level.max(0)).sum()),
        _ => None,
    };
    let availability = match p.availability.as_str() {
        "disabled" => Availability::Disabled,
        "preorder" => Availability::Preorder,
        _ if stock.is_some_and(|s| s <= 0) => Availability::OutOfStock,
        _ => Availability::Available,
    };
    Ok(Product {
        name: p.name.clone(),
        sku: non_blank(Some(&p.sku)),
        description: non_blank(Some(&p.description)),
        price,
        sale_price,
        category_ids: p.categories.iter().map(ToString::to_string).collect(),
        brand_id: (p.brand_id > 0).then(|| p.brand_id.to_string()),
        variants,
        inventory: (tracking == "product").then_some(p.inventory_level),
        availability,
        is_visible: p.is_visible,
        url: p.custom_url.as_ref().and_then(|u| non_blank(Some(&u.url))),
        image_url: p
            .images
            .iter()
            .find(|i| i.is_thumbnail)
            .or_else(|| p.images.first())
            .and_then(|i| non_blank(Some(&i.url_standard))),
        created_at: rfc3339_opt(r, "date_created", p.date_created.as_deref())?,
        updated_at: rfc3339_opt(r, "date_modified", p.date_modified.as_deref())?,
        custom: cartograph_model::Attributes::new(),
        source,
    })
}

/// A v3 category.
pub fn category(system: &str, c: &wire::Category) -> Category {
    Category {
        source: SourceRef::new(system, RecordKind::Category, c.id.to_string()),
        name: c.name.clone(),
        parent_id: (c.parent_id > 0).then(|| c.parent_id.to_string()),
    }
}

/// A v3 brand.
pub fn brand(system: &str, b: &wire::Brand) -> Brand {
    Brand {
        source: SourceRef::new(system, RecordKind::Brand, b.id.to_string()),
        name: b.name.clone(),
    }
}

/// A v3 cart as a canonical [`Cart`] (state `Active`; the caller knows when it was
/// abandoned or converted). Value is `cart_amount` (after discounts, tax included where
/// applicable).
pub fn cart(system: &str, c: &wire::Cart, recovery_url: Option<String>) -> Result<Cart> {
    let source = SourceRef::new(system, RecordKind::Cart, c.id.clone());
    let r = source.to_string();
    let r = r.as_str();
    let cur = currency(r, "currency.code", &c.currency.code)?;
    let value = match c.cart_amount.as_ref().or(c.base_amount.as_ref()) {
        Some(n) => money_v3(r, "cart_amount", n, cur)?,
        None => Money::zero(cur),
    };
    let lines = &c.line_items;
    let items = lines
        .physical_items
        .iter()
        .chain(&lines.digital_items)
        .chain(&lines.custom_items)
        .map(|i| cart_item(r, i, cur))
        .collect::<Result<Vec<_>>>()?;
    Ok(Cart {
        customer: (c.customer_id > 0)
            .then(|| SourceRef::new(system, RecordKind::Customer, c.customer_id.to_string())),
        email: c.email.clone().and_then(EmailAddress::new),
        items,
        value,
        state: CartState::Active,
        recovery_url,
        channel: (c.channel_id > 0).then(|| c.channel_id.to_string()),
        created_at: rfc3339_opt(r, "created_time", c.created_time.as_deref())?,
        updated_at: rfc3339_opt(r, "updated_time", c.updated_time.as_deref())?,
        abandoned_at: None,
        converted_order: None,
        source,
    })
}

fn cart_item(r: &str, i: &wire::CartItem, cur: Currency) -> Result<LineItem> {
    let field = |name: &str| format!("line_items[{}].{name}", i.id);
    let unit = match i.sale_price.as_ref().or(i.list_price.as_ref()) {
        Some(n) => money_v3(r, &field("sale_price"), n, cur)?,
        None => Money::zero(cur),
    };
    let quantity = Decimal::from(i.quantity);
    let total = match &i.extended_sale_price {
        Some(n) => money_v3(r, &field("extended_sale_price"), n, cur)?,
        None => unit
            .checked_mul(quantity)
            .map_err(|e| bad(r, &field("quantity"), e))?,
    };
    let discount = i
        .discount_amount
        .as_ref()
        .map(|n| money_v3(r, &field("discount_amount"), n, cur))
        .transpose()?
        .filter(|m| !m.is_zero());
    Ok(LineItem {
        id: i.id.clone(),
        sku: non_blank(i.sku.as_ref()),
        product_id: i.product_id.filter(|p| *p > 0).map(|p| p.to_string()),
        variant_id: i.variant_id.filter(|v| *v > 0).map(|v| v.to_string()),
        name: i.name.clone(),
        quantity,
        unit_price: unit,
        total,
        discount,
        tax: None,
        categories: Vec::new(),
        brand: None,
        image_url: non_blank(i.image_url.as_ref()),
        product_url: non_blank(i.url.as_ref()),
        custom: cartograph_model::Attributes::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Trimmed from the shape of `GET /v3/catalog/products?include=variants,images`.
    const PRODUCT: &str = r#"{"id": 77, "name": "Towel", "type": "physical", "sku": "TW",
      "description": "<p>Soft</p>", "price": 12.99, "sale_price": 0, "categories": [23, 24],
      "brand_id": 0, "inventory_level": 0, "inventory_tracking": "variant",
      "availability": "available", "is_visible": true,
      "custom_url": {"url": "/towel/", "is_customized": false},
      "date_created": "2018-08-15T14:48:46+00:00", "date_modified": "2018-09-05T20:42:07+00:00",
      "variants": [{"id": 1, "product_id": 77, "sku": "TW-M", "price": null, "inventory_level": 3,
                    "option_values": [{"option_display_name": "Size", "label": "M"}]},
                   {"id": 2, "product_id": 77, "sku": "TW-L", "price": 14.5, "inventory_level": 0}],
      "images": [{"url_standard": "https://cdn/x.jpg", "is_thumbnail": true}]}"#;

    #[test]
    fn product_maps_variants_prices_and_stock() {
        let wire: wire::Product = serde_json::from_str(PRODUCT).unwrap();
        let p = product("bigcommerce", &wire, Currency::USD).unwrap();
        assert_eq!(p.price.unwrap().amount().to_string(), "12.99");
        assert_eq!(p.sale_price, None, "0 means not on sale");
        assert_eq!(p.category_ids, vec!["23", "24"]);
        assert_eq!(p.brand_id, None);
        assert_eq!(p.availability, Availability::Available);
        assert_eq!(p.inventory, None, "tracked per variant");
        assert_eq!(p.variants[0].inventory, Some(3));
        assert_eq!(p.variants[0].price, None);
        assert_eq!(p.variants[1].price.unwrap().amount().to_string(), "14.5");
        assert_eq!(p.variants[0].options["Size"], "M");
        assert_eq!(p.url.as_deref(), Some("/towel/"));
        assert_eq!(p.image_url.as_deref(), Some("https://cdn/x.jpg"));
    }

    #[test]
    fn out_of_stock_and_disabled_products() {
        let mut wire: wire::Product = serde_json::from_str(PRODUCT).unwrap();
        wire.variants.clear();
        wire.inventory_tracking = "product".into();
        assert_eq!(
            product("bc", &wire, Currency::USD).unwrap().availability,
            Availability::OutOfStock
        );
        wire.availability = "disabled".into();
        assert_eq!(
            product("bc", &wire, Currency::USD).unwrap().availability,
            Availability::Disabled
        );
    }

    // Trimmed from the shape of `GET /v3/carts/{cartId}`.
    const CART: &str = r#"{"id": "09346904-4175-44fd-be53-f7e598531b6c", "customer_id": 0,
      "channel_id": 1, "email": "guest@example.com", "currency": {"code": "USD"},
      "tax_included": false, "base_amount": 29.98, "discount_amount": 0, "cart_amount": 27.98,
      "line_items": {"physical_items": [{"id": "b0386708-fef3-45de-9d8b-fbe3031450a4",
        "variant_id": 1, "product_id": 77, "sku": "TW-M", "name": "Towel", "quantity": 2,
        "list_price": 14.99, "sale_price": 14.99, "extended_sale_price": 29.98,
        "discount_amount": 2, "url": "https://shop/towel/"}], "digital_items": [],
        "custom_items": []},
      "created_time": "2019-06-25T17:30:24+00:00", "updated_time": "2019-06-25T17:31:00+00:00"}"#;

    #[test]
    fn guest_cart_maps_with_uuid_id_and_no_customer() {
        let wire: wire::Cart = serde_json::from_str(CART).unwrap();
        let c = cart(
            "bigcommerce",
            &wire,
            Some("https://shop/cart.php?r=1".into()),
        )
        .unwrap();
        assert_eq!(c.source.id, "09346904-4175-44fd-be53-f7e598531b6c");
        assert_eq!(c.customer, None, "customer_id 0 is a guest");
        assert_eq!(c.email.as_ref().unwrap().as_str(), "guest@example.com");
        assert_eq!(c.value, Money::parse("27.98", Currency::USD).unwrap());
        assert_eq!(c.items[0].total.amount().to_string(), "29.98");
        assert_eq!(c.items[0].quantity, Decimal::from(2));
        assert_eq!(c.state, CartState::Active);
        assert!(c.recovery_url.is_some());
    }

    #[test]
    fn category_and_brand() {
        let c = category(
            "bc",
            &wire::Category {
                id: 5,
                parent_id: 0,
                name: "Bath".into(),
                is_visible: true,
            },
        );
        assert_eq!(c.parent_id, None);
        let b = brand(
            "bc",
            &wire::Brand {
                id: 2,
                name: "Acme".into(),
            },
        );
        assert_eq!(b.source.to_string(), "bc/brand/2");
    }
}

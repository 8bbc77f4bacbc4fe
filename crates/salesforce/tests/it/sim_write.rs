//! The write path against the simulator: products and standard prices, opportunities with
//! line items through Composite (idempotent, rolled back whole), company Accounts with
//! their order summary, and Opportunity links of converted Leads.

use cartograph_connector::{CrmSink, WriteStatus};
use cartograph_model::{
    ContactRef, ContactUpsert, Decimal, EmailAddress, IdentityKeys, LineItemRecord, OrderObject,
    OrderRecord, Origin, ProductRecord, PropertyValue,
};
use cartograph_salesforce::sim::{SalesforceSim, SimConfig};
use cartograph_salesforce::{PersonObject, Salesforce};
use cartograph_sim::{CrmSimulator as _, SimRecordView};

async fn start(config: SimConfig) -> (SalesforceSim, Salesforce) {
    let sim = SalesforceSim::start(config).await.unwrap();
    let sf = Salesforce::new(sim.connector_config().unwrap().build().unwrap()).unwrap();
    (sim, sf)
}

fn text(v: &str) -> PropertyValue {
    PropertyValue::String(v.into())
}

fn money(cents: i64) -> PropertyValue {
    PropertyValue::Number(Decimal::new(cents, 2))
}

fn product(key: &str, name: &str, cents: i64) -> ProductRecord {
    ProductRecord {
        key: key.into(),
        properties: [
            ("Name".to_owned(), text(name)),
            ("ProductCode".to_owned(), text(&format!("SKU-{name}"))),
            ("IsActive".to_owned(), PropertyValue::Bool(true)),
            ("PricebookEntry.UnitPrice".to_owned(), money(cents)),
            ("PricebookEntry.CurrencyIsoCode".to_owned(), text("USD")),
        ]
        .into(),
    }
}

/// A line of store product `product` (an id): its product key is that product's record key,
/// as the mapping writes it.
fn line(key: &str, product: Option<&str>, quantity: i64, cents: i64) -> LineItemRecord {
    LineItemRecord {
        key: key.into(),
        product_key: product.map(|id| format!("bigcommerce/product/{id}")),
        properties: [
            (
                "Quantity".to_owned(),
                PropertyValue::Number(quantity.into()),
            ),
            ("UnitPrice".to_owned(), money(cents)),
            ("Description".to_owned(), text(&format!("Line {key}"))),
            ("Product2.Name".to_owned(), text(&format!("Item {key}"))),
        ]
        .into(),
    }
}

fn order(key: &str, email: &str, lines: Vec<LineItemRecord>) -> OrderRecord {
    OrderRecord {
        key: key.into(),
        object: OrderObject::Deal,
        contact: Some(ContactRef::Email(EmailAddress::new(email).unwrap())),
        properties: [
            ("Name".to_owned(), text(&format!("Order {key}"))),
            ("Amount".to_owned(), money(99_999)),
            ("StageName".to_owned(), text("Closed Won")),
            ("CloseDate".to_owned(), text("2024-05-01")),
        ]
        .into(),
        line_items: lines,
        origin: Origin::Live,
    }
}

fn person(key: &str, email: &str) -> ContactUpsert {
    ContactUpsert {
        key: key.into(),
        identity: IdentityKeys {
            email: EmailAddress::new(email),
            ..IdentityKeys::default()
        },
        properties: [
            ("LastName".to_owned(), text("Buyer")),
            ("Company".to_owned(), text("Acme")),
        ]
        .into(),
        origin: Origin::Live,
    }
}

fn field<'a>(r: &'a SimRecordView, name: &str) -> &'a str {
    r.properties.get(name).map_or("", String::as_str)
}

fn lines_of(sim: &SalesforceSim, opportunity: &str) -> Vec<SimRecordView> {
    sim.records("OpportunityLineItem")
        .into_iter()
        .filter(|l| field(l, "OpportunityId") == opportunity)
        .collect()
}

#[tokio::test]
async fn products_get_one_standard_price_each_kept_at_the_mapped_price() {
    let (sim, sf) = start(SimConfig::fast()).await;
    let out = sf
        .upsert_products(&[
            product("bigcommerce/product/1", "Boot", 12_000),
            product("bigcommerce/product/2", "Sock", 550),
        ])
        .await
        .unwrap();
    assert!(
        out.iter().all(|o| matches!(o.status, WriteStatus::Created)),
        "{out:?}"
    );
    let standard = sim
        .records("Pricebook2")
        .into_iter()
        .find(|b| field(b, "IsStandard") == "true")
        .unwrap();
    let entries = sim.records("PricebookEntry");
    assert_eq!(entries.len(), 2);
    assert!(
        entries
            .iter()
            .all(|e| field(e, "Pricebook2Id") == standard.id)
    );
    let boot = &out[0].id.clone().unwrap();
    let boot_entry = entries
        .iter()
        .find(|e| field(e, "Product2Id") == boot)
        .unwrap();
    assert_eq!(field(boot_entry, "UnitPrice"), "120");
    assert_eq!(
        field(&sim.records("Product2")[0], "Ecom_Product_Id__c"),
        "bigcommerce/product/1"
    );

    // A price change updates the entry; nothing is created twice.
    let again = sf
        .upsert_products(&[product("bigcommerce/product/1", "Boot", 9_950)])
        .await
        .unwrap();
    assert!(matches!(again[0].status, WriteStatus::Updated), "{again:?}");
    assert_eq!(sim.records("Product2").len(), 2);
    let entries = sim.records("PricebookEntry");
    assert_eq!(entries.len(), 2);
    let boot_entry = entries
        .iter()
        .find(|e| field(e, "Product2Id") == boot)
        .unwrap();
    assert_eq!(field(boot_entry, "UnitPrice"), "99.5");

    // A product hidden in the store is inactive, but orders of it still get their line.
    let mut hidden = product("bigcommerce/product/1", "Boot", 9_950);
    hidden
        .properties
        .insert("IsActive".into(), PropertyValue::Bool(false));
    sf.upsert_products(&[hidden]).await.unwrap();
    let boot_row = sim
        .records("Product2")
        .into_iter()
        .find(|p| &p.id == boot)
        .unwrap();
    assert_eq!(field(&boot_row, "IsActive"), "false");
    let out = sf
        .record_orders(&[order(
            "bigcommerce/order/1",
            "buyer@example.com",
            vec![line("1", Some("1"), 1, 9_950)],
        )])
        .await
        .unwrap();
    assert!(out[0].is_ok(), "{out:?}");
}

#[tokio::test]
async fn multi_currency_orgs_get_one_entry_per_product_and_currency() {
    let (sim, sf) = start(SimConfig {
        multi_currency: true,
        ..SimConfig::fast()
    })
    .await;
    let mut eur = product("bigcommerce/product/1", "Boot", 11_000);
    eur.properties
        .insert("PricebookEntry.CurrencyIsoCode".into(), text("EUR"));
    sf.upsert_products(&[product("bigcommerce/product/1", "Boot", 12_000)])
        .await
        .unwrap();
    let out = sf.upsert_products(&[eur]).await.unwrap();
    assert!(out[0].is_ok(), "{out:?}");
    let entries = sim.records("PricebookEntry");
    let mut currencies: Vec<&str> = entries
        .iter()
        .map(|e| field(e, "CurrencyIsoCode"))
        .collect();
    currencies.sort_unstable();
    assert_eq!(currencies, ["EUR", "USD"]);
    assert_eq!(sim.records("Product2").len(), 1);
}

#[tokio::test]
async fn a_multi_currency_order_takes_the_entries_of_its_currency() {
    let (sim, sf) = start(SimConfig {
        multi_currency: true,
        ..SimConfig::fast()
    })
    .await;
    sf.upsert_products(&[product("bigcommerce/product/77", "Boot", 12_000)])
        .await
        .unwrap();
    let eur = |key: &str, product: Option<&str>| {
        let mut l = line(key, product, 1, 9_000);
        l.properties
            .insert("PricebookEntry.CurrencyIsoCode".into(), text("eur"));
        l
    };
    let out = sf
        .record_orders(&[order(
            "bigcommerce/order/20",
            "buyer@example.com",
            // Line 2 names no currency: it is in the order's.
            vec![eur("1", Some("77")), line("2", None, 1, 500)],
        )])
        .await
        .unwrap();
    assert!(out[0].is_ok(), "{out:?}");
    let opp = &sim.order_records()[0];
    assert_eq!(field(opp, "CurrencyIsoCode"), "EUR");
    let lines = lines_of(&sim, &opp.id);
    assert_eq!(lines.len(), 2);
    // The product's USD price stays; a EUR entry was added from the line.
    let mut currencies: Vec<String> = sim
        .records("PricebookEntry")
        .iter()
        .map(|e| field(e, "CurrencyIsoCode").to_owned())
        .collect();
    currencies.sort();
    assert_eq!(currencies, ["EUR", "EUR", "USD"]);
    let mixed = sf
        .record_orders(&[order(
            "bigcommerce/order/21",
            "buyer@example.com",
            vec![eur("1", Some("77")), {
                let mut usd = line("2", Some("77"), 1, 100);
                usd.properties
                    .insert("PricebookEntry.CurrencyIsoCode".into(), text("USD"));
                usd
            }],
        )])
        .await
        .unwrap();
    let WriteStatus::Failed(e) = &mixed[0].status else {
        panic!("{mixed:?}");
    };
    assert_eq!(e.field(), Some("line_items"));
}

#[tokio::test]
async fn an_order_becomes_an_opportunity_with_line_items_and_reruns_change_nothing_twice() {
    let (sim, sf) = start(SimConfig::fast()).await;
    sf.upsert_contacts(&[person("p1", "buyer@example.com")])
        .await
        .unwrap();
    sf.upsert_products(&[product("bigcommerce/product/77", "Boot", 12_000)])
        .await
        .unwrap();
    let first = order(
        "bigcommerce/order/100",
        "buyer@example.com",
        vec![
            line("1", Some("77"), 2, 11_000),
            // Not synced yet: its product and price are created from the line.
            line("2", None, 1, 1_999),
        ],
    );
    let out = sf
        .record_orders(std::slice::from_ref(&first))
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Created), "{out:?}");
    let opp_id = out[0].id.clone().unwrap();
    let lines = lines_of(&sim, &opp_id);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines.iter().any(
        |l| field(l, "Cartograph_Key__c") == "bigcommerce/order/100#1"
            && field(l, "TotalPrice") == "220.00"
    ));
    assert_eq!(
        sim.records("Product2").len(),
        2,
        "the line's product was created once"
    );
    // Salesforce sums the lines into Amount.
    let opp = &sim.order_records()[0];
    assert_eq!(field(opp, "Amount"), "239.99");
    // One Composite call for the order.
    let composites = sim
        .request_log()
        .iter()
        .filter(|(m, p, _)| m == "POST" && p == "composite")
        .count();
    assert_eq!(composites, 1);

    // A rep adds a line by hand; the store changes a quantity and drops line 2.
    let rep_line = {
        let entry = sim.records("PricebookEntry")[0].id.clone();
        let mut fields = serde_json::Map::new();
        fields.insert("OpportunityId".into(), serde_json::json!(opp_id));
        fields.insert("PricebookEntryId".into(), serde_json::json!(entry));
        fields.insert("Quantity".into(), serde_json::json!(1));
        fields.insert("UnitPrice".into(), serde_json::json!(5));
        sim.create_as_user("OpportunityLineItem", fields)
    };
    let rerun = sf
        .record_orders(std::slice::from_ref(&first))
        .await
        .unwrap();
    assert!(matches!(rerun[0].status, WriteStatus::Updated), "{rerun:?}");
    assert_eq!(
        lines_of(&sim, &opp_id).len(),
        3,
        "a re-run creates no line twice"
    );
    let mut changed = first.clone();
    changed.line_items = vec![line("1", Some("77"), 3, 11_000)];
    let out = sf.record_orders(&[changed]).await.unwrap();
    assert!(out[0].is_ok(), "{out:?}");
    let lines = lines_of(&sim, &opp_id);
    assert_eq!(
        lines.len(),
        2,
        "line 2 deleted, the rep's line kept: {lines:?}"
    );
    assert!(lines.iter().any(|l| l.id == rep_line));
    let ours = lines.iter().find(|l| l.id != rep_line).unwrap();
    assert_eq!(field(ours, "Quantity"), "3");
    assert_eq!(sim.order_records().len(), 1);
}

#[tokio::test]
async fn a_refused_line_rolls_the_whole_order_back() {
    let (sim, sf) = start(SimConfig::fast()).await;
    let bad = order(
        "bigcommerce/order/7",
        "buyer@example.com",
        vec![line("1", None, 1, 1_000), line("2", None, 0, 1_000)],
    );
    let out = sf.record_orders(&[bad]).await.unwrap();
    let WriteStatus::Failed(e) = &out[0].status else {
        panic!("{out:?}");
    };
    assert_eq!(e.vendor_code(), Some("FIELD_INTEGRITY_EXCEPTION"));
    assert_eq!(e.field(), Some("line_items[2].Quantity"), "{e}");
    assert_eq!(e.record(), Some("bigcommerce/order/7"));
    assert!(
        sim.order_records().is_empty(),
        "the Opportunity was rolled back"
    );
    assert!(sim.records("OpportunityLineItem").is_empty());
}

#[tokio::test]
async fn an_order_needing_more_than_one_composite_call_is_split_and_whole() {
    let (sim, sf) = start(SimConfig::fast()).await;
    // 1,001 lines: 6 collections (the opportunity + 5 of at most 200 lines) > 5 per call.
    let lines: Vec<LineItemRecord> = (0..1001)
        .map(|n| line(&n.to_string(), None, 1, 100))
        .collect();
    let big = order("bigcommerce/order/9", "buyer@example.com", lines);
    let out = sf.record_orders(std::slice::from_ref(&big)).await.unwrap();
    assert!(
        matches!(out[0].status, WriteStatus::Created),
        "{:?}",
        out[0]
    );
    let opp_id = out[0].id.clone().unwrap();
    assert_eq!(lines_of(&sim, &opp_id).len(), 1001);
    let composites = sim
        .request_log()
        .iter()
        .filter(|(m, p, _)| m == "POST" && p == "composite")
        .count();
    assert_eq!(composites, 2);
    assert_eq!(field(&sim.order_records()[0], "Amount"), "1001.00");
    let rerun = sf.record_orders(&[big]).await.unwrap();
    assert!(rerun[0].is_ok(), "{rerun:?}");
    assert_eq!(lines_of(&sim, &opp_id).len(), 1001);
}

fn company_order(
    key: &str,
    email: &str,
    company: &str,
    stage: &str,
    cents: i64,
    date: &str,
) -> OrderRecord {
    let mut o = order(key, email, Vec::new());
    o.properties.insert("Amount".into(), money(cents));
    o.properties.insert("StageName".into(), text(stage));
    o.properties.insert("CloseDate".into(), text(date));
    o.properties.insert("Account.Name".into(), text(company));
    o.properties
        .insert("Account.BillingCity".into(), text("Berlin"));
    o
}

#[tokio::test]
async fn company_orders_update_their_account_and_link_the_buyers() {
    let (sim, sf) = start(SimConfig::fast()).await;
    // The summary fields, as ensure_properties would create them.
    let file = cartograph_core::mapping::MappingFile::from_toml(
        cartograph_salesforce::profile::DEFAULT_MAPPING,
    )
    .unwrap();
    let defs: Vec<_> = file.custom_properties().cloned().collect();
    let out = sf.ensure_properties(&defs).await.unwrap();
    assert!(
        out.iter().all(cartograph_connector::RecordOutcome::is_ok),
        "{out:?}"
    );
    // An Account a rep made before Cartograph is adopted, not duplicated.
    let mut acme = serde_json::Map::new();
    acme.insert("Name".into(), serde_json::json!("ACME Corp"));
    let existing = sim.create_as_user("Account", acme);
    let people: Vec<ContactUpsert> = [("p1", "ada@acme.test"), ("p2", "bob@acme.test")]
        .iter()
        .map(|(k, m)| {
            let mut p = person(k, m);
            p.properties.remove("Company");
            p
        })
        .collect();
    let ids = sf.upsert_contacts(&people).await.unwrap();
    assert!(
        ids.iter().all(cartograph_connector::RecordOutcome::is_ok),
        "{ids:?}"
    );
    let out = sf
        .record_orders(&[
            company_order(
                "bigcommerce/order/1",
                "ada@acme.test",
                "Acme Corp",
                "Closed Won",
                10_010,
                "2024-01-01",
            ),
            company_order(
                "bigcommerce/order/2",
                "bob@acme.test",
                "acme corp",
                "Closed Won",
                5_000,
                "2024-01-21",
            ),
            company_order(
                "bigcommerce/order/3",
                "bob@acme.test",
                "Acme Corp",
                "Closed Lost",
                70_000,
                "2024-02-01",
            ),
        ])
        .await
        .unwrap();
    assert!(
        out.iter().all(cartograph_connector::RecordOutcome::is_ok),
        "{out:?}"
    );
    let accounts = sim.records("Account");
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    let account = &accounts[0];
    assert_eq!(account.id, existing);
    assert_eq!(field(account, "Cartograph_Key__c"), "company/acme corp");
    assert_eq!(field(account, "BillingCity"), "Berlin");
    assert_eq!(field(account, "Ecom_Order_Count__c"), "2");
    assert_eq!(field(account, "Ecom_Lifetime_Value__c"), "150.10");
    assert_eq!(field(account, "Ecom_First_Order_Date__c"), "2024-01-01");
    assert_eq!(field(account, "Ecom_Last_Order_Date__c"), "2024-01-21");
    assert_eq!(field(account, "Ecom_Days_Between_Orders__c"), "20");
    assert!(
        sim.order_records()
            .iter()
            .all(|o| field(o, "AccountId") == existing)
    );
    for id in ids.iter().map(|o| o.id.clone().unwrap()) {
        let contact = sim
            .records("Contact")
            .into_iter()
            .find(|c| c.id == id)
            .unwrap();
        assert_eq!(
            field(&contact, "AccountId"),
            existing,
            "buyer linked to its Account"
        );
    }
    // A consumer order makes no Account.
    sf.record_orders(&[order("bigcommerce/order/4", "ada@acme.test", Vec::new())])
        .await
        .unwrap();
    assert_eq!(sim.records("Account").len(), 1);
}

#[tokio::test]
async fn an_opportunity_of_a_converted_lead_links_its_contact_and_account() {
    let (sim, _) = start(SimConfig::fast()).await;
    let lead_sf = Salesforce::new(
        sim.connector_config()
            .unwrap()
            .person_object(PersonObject::Lead)
            .build()
            .unwrap(),
    )
    .unwrap();
    let lead = lead_sf
        .upsert_contacts(&[
            person("p1", "lead@example.com"),
            person("p2", "open@example.com"),
        ])
        .await
        .unwrap();
    let contact = sim.convert_lead(lead[0].id.as_deref().unwrap()).unwrap();
    let converted = sim
        .records("Lead")
        .into_iter()
        .find(|l| Some(l.id.as_str()) == lead[0].id.as_deref())
        .unwrap();
    let account = field(&converted, "ConvertedAccountId").to_owned();
    let out = lead_sf
        .record_orders(&[
            order("bigcommerce/order/5", "LEAD@example.com", Vec::new()),
            order("bigcommerce/order/6", "open@example.com", Vec::new()),
        ])
        .await
        .unwrap();
    assert!(
        out.iter().all(cartograph_connector::RecordOutcome::is_ok),
        "{out:?}"
    );
    let opps = sim.order_records();
    let of = |key: &str| {
        opps.iter()
            .find(|o| field(o, "Ecom_Order_Id__c") == key)
            .unwrap()
    };
    assert_eq!(field(of("bigcommerce/order/5"), "ContactId"), contact);
    assert_eq!(field(of("bigcommerce/order/5"), "AccountId"), account);
    // An unconverted Lead is no Contact: the Opportunity names none.
    assert_eq!(field(of("bigcommerce/order/6"), "ContactId"), "");
}

#[tokio::test]
async fn orders_with_lines_cost_one_composite_call_each_plus_a_constant() {
    let (sim, sf) = start(SimConfig::fast()).await;
    sf.upsert_products(&[
        product("bigcommerce/product/1", "Boot", 12_000),
        product("bigcommerce/product/2", "Sock", 550),
    ])
    .await
    .unwrap();
    let orders: Vec<OrderRecord> = (0..50)
        .map(|n| {
            order(
                &format!("bigcommerce/order/{n}"),
                "buyer@example.com",
                vec![
                    line("1", Some("1"), 1, 12_000),
                    line("2", Some("2"), 3, 550),
                ],
            )
        })
        .collect();
    let before = sim.request_count();
    let out = sf.record_orders(&orders).await.unwrap();
    assert!(out.iter().all(cartograph_connector::RecordOutcome::is_ok));
    let spent = sim.request_count() - before;
    // 50 Composite calls; lookups: buyers, products, entries, opportunities, lines, and
    // describes of objects not read yet.
    assert!(spent <= 50 + 8, "{spent} requests for 50 orders");
    assert_eq!(sim.records("OpportunityLineItem").len(), 100);
    let before = sim.request_count();
    sf.record_orders(&orders).await.unwrap();
    assert!(sim.request_count() - before <= 50 + 6);
}

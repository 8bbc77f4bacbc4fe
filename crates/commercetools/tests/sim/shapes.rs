//! The simulator's answers against the commercetools OpenAPI and RAML in
//! `../shared/specs/commercetools` (MIT), read at run time: every field a schema requires is
//! present. Skipped with a message when the specs are absent.

use std::path::{Path, PathBuf};

use cartograph_commercetools::sim::SimConfig;
use cartograph_model::OrderStatus;
use cartograph_sim::CommerceSimulator as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{self, call};

fn specs() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/specs/commercetools");
    if dir.join("oas/api/openapi.yaml").is_file() {
        Some(dir)
    } else {
        eprintln!("SKIP: commercetools specs not found at {}", dir.display());
        None
    }
}

/// The required properties of an OpenAPI schema, following `allOf` `$ref`s.
fn required(oas: &str, schema: &str) -> Vec<String> {
    let header = format!("    {schema}:");
    let lines: Vec<&str> = oas.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == header)
        .unwrap_or_else(|| panic!("schema {schema} not in the OpenAPI"));
    let mut out = Vec::new();
    let mut in_required = None;
    for line in &lines[start + 1..] {
        let indent = line.len() - line.trim_start().len();
        if indent <= 4 && !line.trim().is_empty() {
            break;
        }
        let text = line.trim();
        if let Some(r) = text.strip_prefix("- $ref: '#/components/schemas/") {
            if indent == 8 {
                out.extend(required(oas, r.trim_end_matches('\'')));
            }
            continue;
        }
        if text == "required:" && (indent == 6 || indent == 10) {
            in_required = Some(indent);
            continue;
        }
        match in_required {
            Some(level) if indent > level && text.starts_with("- ") => {
                out.push(text[2..].trim_matches('"').to_owned());
            }
            _ => in_required = None,
        }
    }
    out
}

thread_local! {
    static GAPS: std::cell::RefCell<std::collections::BTreeSet<String>> = std::cell::RefCell::default();
}

/// Records the required fields `value` lacks; [`assert_complete`] fails with all of them.
fn check(oas: &str, schema: &str, value: &Value) {
    for k in required(oas, schema) {
        // `//` stands for pattern properties in the generated OpenAPI: not a field.
        if k.chars().all(char::is_alphanumeric) && value.get(&k).is_none() {
            GAPS.with(|g| g.borrow_mut().insert(format!("{schema}.{k}")));
        }
    }
}

fn assert_complete() {
    let gaps = GAPS.with(|g| std::mem::take(&mut *g.borrow_mut()));
    assert!(gaps.is_empty(), "required fields missing: {gaps:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn every_answer_has_the_fields_the_spec_requires() {
    let Some(dir) = specs() else { return };
    let oas = std::fs::read_to_string(dir.join("oas/api/openapi.yaml")).unwrap();
    let (sim, _) = support::sim(SimConfig::default()).await;
    let seed = support::seed();
    support::load(&sim, &seed);
    let order_id = sim.place_order(&seed.orders[0]);
    sim.set_order_status(&order_id, OrderStatus::Cancelled);

    for (path, paged, item) in [
        ("customers", "CustomerPagedQueryResponse", "Customer"),
        ("orders", "OrderPagedQueryResponse", "Order"),
        ("carts", "CartPagedQueryResponse", "Cart"),
        ("payments", "PaymentPagedQueryResponse", "Payment"),
        ("categories", "CategoryPagedQueryResponse", "Category"),
        (
            "customer-groups",
            "CustomerGroupPagedQueryResponse",
            "CustomerGroup",
        ),
        (
            "product-projections",
            "ProductProjectionPagedQueryResponse",
            "ProductProjection",
        ),
        ("products", "ProductPagedQueryResponse", "Product"),
        ("messages", "MessagePagedQueryResponse", "Message"),
    ] {
        let (status, body) = call(&sim, Method::GET, &format!("{path}?limit=500"), None).await;
        assert_eq!(status, 200, "{path}: {body}");
        check(&oas, paged, &body);
        let results = body["results"].as_array().unwrap();
        assert!(!results.is_empty(), "{path} is empty");
        for r in results {
            check(&oas, item, r);
        }
        if path == "orders" {
            for o in results {
                check(&oas, "CentPrecisionMoney", &o["totalPrice"]);
                check(&oas, "TaxedPrice", &o["taxedPrice"]);
                for l in o["lineItems"].as_array().unwrap() {
                    check(&oas, "LineItem", l);
                }
            }
        }
        if path == "payments" {
            for p in results {
                for t in p["transactions"].as_array().unwrap() {
                    check(&oas, "Transaction", t);
                }
            }
        }
        if path == "products" {
            check(&oas, "ProductCatalogData", &results[0]["masterData"]);
            check(&oas, "ProductData", &results[0]["masterData"]["current"]);
        }
        if path == "messages" {
            let created = results
                .iter()
                .find(|m| m["type"] == "OrderCreated")
                .unwrap();
            check(&oas, "OrderCreatedMessage", created);
            let changed = results
                .iter()
                .find(|m| m["type"] == "OrderStateChanged")
                .unwrap();
            check(&oas, "OrderStateChangedMessage", changed);
        }
    }

    let (status, body) = call(
        &sim,
        Method::POST,
        &format!("orders/{order_id}"),
        Some(json!({"version": 1, "actions": []})),
    )
    .await;
    assert_eq!(status, 409);
    check(&oas, "ErrorResponse", &body);
    check(&oas, "ConcurrentModificationError", &body["errors"][0]);
    let email = seed.customers[0]
        .email
        .as_ref()
        .unwrap()
        .as_str()
        .to_owned();
    let (status, body) = call(
        &sim,
        Method::POST,
        "customers",
        Some(json!({"email": email, "password": "secret-1"})),
    )
    .await;
    assert_eq!(status, 400);
    check(&oas, "ErrorResponse", &body);
    check(&oas, "DuplicateFieldError", &body["errors"][0]);
    let (status, body) = call(
        &sim,
        Method::POST,
        "customers",
        Some(json!({"email": "new.person@example.com", "password": "secret-1"})),
    )
    .await;
    assert_eq!(status, 201);
    check(&oas, "CustomerSignInResult", &body);
    check(&oas, "Customer", &body["customer"]);
    let (status, body) = call(&sim, Method::GET, "orders/not-there", None).await;
    assert_eq!(status, 404);
    check(&oas, "ErrorResponse", &body);
    assert_eq!(body["errors"][0]["code"], "ResourceNotFound");
    assert_complete();
}

#[tokio::test]
async fn token_response_has_the_raml_properties() {
    let Some(dir) = specs() else { return };
    let raml = std::fs::read_to_string(dir.join("api-specs/api/oauth.raml")).unwrap();
    let block = raml.split("  TokenResponse:").nth(1).unwrap();
    let props: Vec<&str> = block
        .lines()
        .skip_while(|l| l.trim() != "properties:")
        .skip(1)
        .take_while(|l| l.starts_with("      "))
        .filter(|l| l.len() - l.trim_start().len() == 6 && l.trim_end().ends_with(':'))
        .map(|l| l.trim().trim_end_matches(':'))
        .filter(|p| !p.ends_with('?'))
        .collect();
    assert_eq!(props, ["access_token", "expires_in", "scope", "token_type"]);
    let (sim, _) = support::sim(SimConfig::default()).await;
    let c = sim.config();
    let body: Value = reqwest::Client::new()
        .post(format!(
            "{}/oauth/token?grant_type=client_credentials&scope=view_orders:{}",
            sim.auth_url(),
            c.project_key
        ))
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for p in props {
        assert!(body.get(p).is_some(), "token response lacks {p}: {body}");
    }
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 172_800);
    // A view_orders token reads orders but not customers.
    let token = body["access_token"].as_str().unwrap();
    let get = |path: &str| {
        reqwest::Client::new()
            .get(format!("{}/{}/{path}", sim.api_url(), c.project_key))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(get("orders").await.unwrap().status().as_u16(), 200);
    let denied = get("customers").await.unwrap();
    assert_eq!(denied.status().as_u16(), 403);
    let body: Value = denied.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "insufficient_scope");
}

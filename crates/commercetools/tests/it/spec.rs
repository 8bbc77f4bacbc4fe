//! The commercetools spec examples in `/work/shared/specs/commercetools` (MIT) as fixtures,
//! read at run time; skipped with a message when absent.

use std::path::{Path, PathBuf};

use cartograph_commercetools::map::{self, MapContext};
use cartograph_commercetools::webhook::parse_delivery;
use cartograph_commercetools::wire;
use serde_json::Value;

fn examples_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/specs/commercetools/api-specs/api/examples");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIP: commercetools spec examples not found at {}",
            dir.display()
        );
        None
    }
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("readable example");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_subscription_payload_example_parses_into_notifications() {
    let Some(dir) = examples_dir() else { return };
    let mut files = Vec::new();
    json_files(&dir.join("Subscription"), &mut files);
    let mut parsed = 0;
    for path in &files {
        let value = read(path);
        if value.get("notificationType").is_none() && value.get("specversion").is_none() {
            // e.g. payload-not-included.example.json: a fragment, not a delivery.
            continue;
        }
        let body = serde_json::to_vec(&value).expect("json");
        let notes = parse_delivery("commercetools", None, &body)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let is_event = value.get("notificationType").and_then(Value::as_str) == Some("Event");
        assert_eq!(
            notes.is_empty(),
            is_event,
            "{}: only Event notifications (no synced resource) give nothing",
            path.display()
        );
        parsed += 1;
    }
    eprintln!("parsed {parsed} of {} Subscription examples", files.len());
    assert!(parsed > 0 || files.is_empty());
}

#[test]
fn every_resource_example_present_maps_into_the_canonical_model() {
    let Some(dir) = examples_dir() else { return };
    let ctx = MapContext::new("commercetools");
    let mut counts = std::collections::BTreeMap::new();
    let mut files = Vec::new();
    json_files(&dir, &mut files);
    for path in &files {
        let name = path.to_string_lossy().to_lowercase();
        let value = read(path);
        if value.get("id").is_none() || value.get("version").is_none() {
            continue;
        }
        let kind = if name.contains("/order/") || name.contains("/orders/") {
            let o: wire::Order = serde_json::from_value(value).expect("order example");
            map::order(&ctx, &o).map(|_| ()).expect("maps");
            "order"
        } else if name.contains("/customer/") || name.contains("/customers/") {
            let c: wire::Customer = serde_json::from_value(value).expect("customer example");
            map::customer(&ctx, &c).map(|_| ()).expect("maps");
            "customer"
        } else if name.contains("/cart/") || name.contains("/carts/") {
            let c: wire::Cart = serde_json::from_value(value).expect("cart example");
            map::cart(&ctx, &c).map(|_| ()).expect("maps");
            "cart"
        } else if name.contains("/payment/") || name.contains("/payments/") {
            let p: wire::Payment = serde_json::from_value(value).expect("payment example");
            map::refunds(&ctx, "order", &p).map(|_| ()).expect("maps");
            "payment"
        } else {
            continue;
        };
        *counts.entry(kind).or_insert(0) += 1;
    }
    eprintln!(
        "mapped resource examples: {counts:?} (of {} example files)",
        files.len()
    );
}

#[test]
fn openapi_declares_the_paging_parameters_the_client_sends() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/specs/commercetools/oas/api/openapi.yaml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("SKIP: {} not found", path.display());
        return;
    };
    for needle in [
        "name: withTotal",
        "name: sort",
        "name: where",
        "name: limit",
        "name: expand",
    ] {
        assert!(text.contains(needle), "openapi.yaml lacks {needle}");
    }
    assert!(text.contains("/{projectKey}/in-store/key={storeKey}/customers"));
    assert!(text.contains("preciseAmount"));
}

use super::*;

fn decimal(json: &str) -> Result<DecimalString, serde_json::Error> {
    serde_json::from_str(json)
}

#[test]
fn decimal_strings_keep_their_text_and_numbers_print_as_json_numbers() {
    for (json, text) in [
        (r#""225.0000""#, "225.0000"),
        (r#""""#, ""),
        (r#"" 1.5 ""#, " 1.5 "),
        (r#""1\u002e5""#, "1.5"),
        ("5", "5"),
        ("-3", "-3"),
        ("12.99", "12.99"),
        ("0.1", "0.1"),
        ("1e2", "100.0"),
        ("18446744073709551615", "18446744073709551615"),
    ] {
        assert_eq!(decimal(json).unwrap().as_str(), text, "{json}");
    }
    for json in ["true", "null", "[]", "{}"] {
        assert!(decimal(json).is_err(), "{json}");
    }
}

#[test]
fn order_amounts_decode_from_text_or_numbers() {
    let product: OrderProduct = serde_json::from_str(
        r#"{"id": 1, "price_ex_tax": "10.5000", "total_ex_tax": 21, "total_tax": 2.1,
            "applied_discounts": [{"id": "c", "amount": 5}]}"#,
    )
    .unwrap();
    assert_eq!(product.price_ex_tax.as_str(), "10.5000");
    assert_eq!(product.total_ex_tax.as_str(), "21");
    assert_eq!(product.total_tax.as_str(), "2.1");
    assert_eq!(product.base_price.as_str(), "", "absent is empty");
    assert_eq!(product.applied_discounts[0].amount.as_str(), "5");
    let err = serde_json::from_str::<OrderProduct>(r#"{"id": 1, "total_tax": false}"#)
        .expect_err("a bool is no amount");
    assert!(err.to_string().contains("decimal"), "{err}");
}

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
        assert_eq!(decimal(json).unwrap().text(), text, "{json}");
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
    assert_eq!(product.price_ex_tax.text(), "10.5000");
    assert_eq!(product.total_ex_tax.text(), "21");
    assert_eq!(product.total_tax.text(), "2.1");
    assert_eq!(product.base_price.text(), "", "absent is empty");
    assert_eq!(product.applied_discounts[0].amount.text(), "5");
    let err = serde_json::from_str::<OrderProduct>(r#"{"id": 1, "total_tax": false}"#)
        .expect_err("a bool is no amount");
    assert!(err.to_string().contains("decimal"), "{err}");
}

const TEXTS: [&str; 30] = [
    "225.0000",
    "0",
    "0.0000",
    "-0",
    "-0.00",
    "-3",
    "-12.5000",
    "10.50",
    "0.05",
    "123456789012345678",
    "1234567890123456789",
    "12345678.9012345678",
    "00.5",
    "05",
    ".5",
    "5.",
    "+1",
    "1e3",
    "100.0",
    " 1.5",
    "1.5 ",
    "",
    "  ",
    "12.5O",
    "1,00",
    "--1",
    "-",
    "1.2.3",
    "٣",
    "9999999999999999.99",
];

#[test]
fn decimal_strings_keep_every_text_and_amount() {
    for text in TEXTS {
        let d = DecimalString::from(text);
        assert_eq!(d.text(), text);
        assert_eq!(d.to_string(), text);
        assert_eq!(format!("{d:?}"), format!("{text:?}"));
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            serde_json::to_string(text).unwrap()
        );
        let back: DecimalString =
            serde_json::from_str(&serde_json::to_string(text).unwrap()).unwrap();
        assert_eq!(back, d, "{text}");
        assert_eq!(d.is_blank(), text.trim().is_empty(), "{text}");
        let want = if text.trim().is_empty() {
            Ok(None)
        } else {
            cartograph_model::parse_decimal(text).map(Some)
        };
        match (d.decimal(), want) {
            (Ok(Some(a)), Ok(Some(b))) => {
                assert_eq!(
                    (a.mantissa(), a.scale()),
                    (b.mantissa(), b.scale()),
                    "{text}"
                );
            }
            (Ok(None), Ok(None)) | (Err(_), Err(_)) => {}
            (got, want) => panic!("{text}: {got:?} != {want:?}"),
        }
    }
}

#[test]
fn decimal_strings_compare_by_text() {
    assert_eq!(
        DecimalString::from("1.0"),
        DecimalString::from(String::from("1.0"))
    );
    assert_ne!(DecimalString::from("1.0"), DecimalString::from("1.00"));
    assert_ne!(DecimalString::from("-0"), DecimalString::from("0"));
    assert_ne!(DecimalString::from("+1"), DecimalString::from("1"));
    assert_eq!(DecimalString::default(), DecimalString::from(""));
    for text in TEXTS {
        assert_eq!(
            DecimalString::from(text),
            DecimalString::from(text),
            "{text}"
        );
    }
}

#[test]
fn plain_decimals_print_like_their_display() {
    let mut texts = Vec::new();
    for int in ["0", "7", "10", "123456789", "999999999999999999"] {
        texts.push(int.to_owned());
        for frac in ["0", "5", "05", "0000", "123456789"] {
            let t = format!("{int}.{frac}");
            if t.len() <= 19 {
                texts.push(t);
            }
        }
    }
    for t in texts.clone() {
        texts.push(format!("-{t}"));
    }
    for text in texts {
        let d = DecimalString::from(text.as_str());
        assert_eq!(d.to_string(), text);
        if let Some(value) = d.decimal().unwrap() {
            if !text.starts_with("-0") || value.mantissa() != 0 {
                assert_eq!(value.to_string(), text);
            }
        }
    }
}

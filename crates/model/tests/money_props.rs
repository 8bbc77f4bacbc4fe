//! Property tests of money parsing (issue #19's standing suite): decimal text round-trips
//! exactly through [`Money`] and its serde form, the currency is kept, JSON numbers read
//! without float drift, and any text either parses or is a typed error.

#![allow(clippy::unwrap_used)]

use cartograph_model::{Currency, Decimal, Money};
use proptest::prelude::*;

fn currency() -> impl Strategy<Value = Currency> {
    prop::sample::select(vec!["USD", "EUR", "JPY", "KWD", "GBP", "CHF", "BHD"])
        .prop_map(|code| Currency::new(code).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any decimal (up to 28 places) printed, parsed and sent through serde is the same
    /// value at the same scale, in the same currency.
    #[test]
    fn decimal_text_round_trips_exactly(mantissa in any::<i64>(), scale in 0u32..=28, cur in currency()) {
        let text = Decimal::new(mantissa, scale).to_string();
        let money = Money::parse(&text, cur).unwrap();
        prop_assert_eq!(money.amount().to_string(), text.clone());
        prop_assert_eq!(money.amount().scale(), scale);
        prop_assert_eq!(money.currency(), cur);
        let json = serde_json::to_string(&money).unwrap();
        prop_assert!(json.contains(&format!("\"{text}\"")), "amount is a string: {}", json);
        let back: Money = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back.amount().to_string(), text);
        let (got, want) = (back.currency(), cur);
        prop_assert_eq!(got.code(), want.code());
        prop_assert_eq!(back, money);
    }

    /// Two-place prices sent as JSON numbers (an f64 on the wire) read as the exact decimal.
    #[test]
    fn json_numbers_do_not_drift(units in 0i64..100_000_000_000, cur in currency()) {
        let text = format!("{}.{:02}", units / 100, units % 100);
        let number: serde_json::Number = serde_json::from_str(&text).unwrap();
        let money = Money::from_json_number(&number, cur).unwrap();
        prop_assert_eq!(money.amount(), Decimal::new(units, 2));
        prop_assert_eq!(money.currency(), cur);
    }

    /// Summing n copies is exact (0.1 ten times is 1).
    #[test]
    fn sums_are_exact(mantissa in -1_000_000i64..1_000_000, scale in 0u32..=6, n in 1usize..50) {
        let one = Money::new(Decimal::new(mantissa, scale), Currency::USD);
        let mut total = Money::zero(Currency::USD);
        for _ in 0..n {
            total = total.checked_add(&one).unwrap();
        }
        prop_assert_eq!(total.amount(), Decimal::new(mantissa, scale) * Decimal::from(n));
    }

    /// Arbitrary text never panics: it parses to a value that prints back, or is refused.
    #[test]
    fn arbitrary_text_parses_or_is_refused(text in "\\PC{0,40}|[-+]?[0-9]{0,40}(\\.[0-9]{0,40})?") {
        if let Ok(money) = Money::parse(&text, Currency::EUR) {
            let printed = money.amount().to_string();
            prop_assert_eq!(Money::parse(&printed, Currency::EUR).unwrap(), money);
        }
        let _ = serde_json::from_str::<Money>(&format!(r#"{{"amount":{text:?},"currency":"EUR"}}"#));
    }
}

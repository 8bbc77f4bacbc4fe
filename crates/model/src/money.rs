//! Exact money: a decimal amount in one ISO 4217 currency.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::currency::Currency;

/// Why a money value could not be built or combined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// The code is not an active ISO 4217 currency.
    #[error("unknown currency code {0:?}")]
    UnknownCurrency(String),
    /// Arithmetic between two currencies.
    #[error("currency mismatch: {left} and {right}")]
    CurrencyMismatch {
        /// Currency of the left operand.
        left: Currency,
        /// Currency of the right operand.
        right: Currency,
    },
    /// The amount text is not a plain decimal number.
    #[error("invalid amount {input:?}: {reason}")]
    InvalidAmount {
        /// The text that failed (cut to 64 characters).
        input: String,
        /// Why it failed.
        reason: &'static str,
    },
    /// The result does not fit the decimal range.
    #[error("amount overflow")]
    Overflow,
    /// The amount has more fraction digits than the target representation allows.
    #[error("{amount} {currency} is not a whole number of minor units")]
    NotRepresentable {
        /// The amount.
        amount: Decimal,
        /// Its currency.
        currency: Currency,
    },
}

/// An exact amount of money in one currency.
///
/// The amount keeps the scale it was given (`"225.0000"` stays four places), so values read
/// from a vendor round-trip losslessly; equality compares numeric value, not scale.
/// Arithmetic is only defined within one currency: mixing currencies is a
/// [`MoneyError::CurrencyMismatch`], never a panic.
///
/// ```
/// use cartograph_model::{Currency, Money};
///
/// // BigCommerce v2: decimal strings with four places.
/// let a = Money::parse("225.0000", Currency::USD)?;
/// // commercetools: centAmount + fractionDigits.
/// let b = Money::from_minor_units(1999, 2, Currency::USD);
/// // ActiveCampaign: integer cents.
/// let c = Money::from_minor(1, Currency::USD);
/// let total = a.checked_add(&b)?.checked_add(&c)?;
/// assert_eq!(total.to_string(), "245.0000 USD");
/// assert_eq!(total.to_minor()?, 24500);
/// assert!(a.checked_add(&Money::from_minor(1, Currency::EUR)).is_err());
/// # Ok::<(), cartograph_model::MoneyError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// A money value from a decimal amount.
    pub const fn new(amount: Decimal, currency: Currency) -> Self {
        Self { amount, currency }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Self::new(Decimal::ZERO, currency)
    }

    /// Parses a plain decimal string such as `"125.50"`, `"-3"` or `"225.0000"` (BigCommerce v2
    /// orders, HubSpot properties). Thousands separators, exponents and blanks are refused.
    pub fn parse(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        parse_decimal(text).map(|amount| Self::new(amount, currency))
    }

    /// Builds a value from a JSON number (BigCommerce v3 catalog, carts and refunds,
    /// Salesforce). Integers are exact; fractional numbers are read through their shortest
    /// round-trip representation, so `12.99` stays `12.99` and not `12.9900000000000002`.
    pub fn from_json_number(
        number: &serde_json::Number,
        currency: Currency,
    ) -> Result<Self, MoneyError> {
        if let Some(i) = number.as_i64() {
            return Ok(Self::new(Decimal::from(i), currency));
        }
        if let Some(u) = number.as_u64() {
            return Ok(Self::new(Decimal::from(u), currency));
        }
        // `Number`'s Display is the shortest text that round-trips the f64.
        Self::parse(&number.to_string(), currency)
    }

    /// Builds a value from integer minor units with an explicit number of fraction digits
    /// (commercetools `centAmount`/`fractionDigits`, or `preciseAmount` for high precision).
    pub fn from_minor_units(units: i64, fraction_digits: u32, currency: Currency) -> Self {
        let scale = fraction_digits.min(28);
        Self::new(Decimal::new(units, scale), currency)
    }

    /// Builds a value from minor units in the currency's own scale (cents for USD, yen for
    /// JPY, fils for KWD): ActiveCampaign amounts and integer-cent payloads.
    pub fn from_minor(units: i64, currency: Currency) -> Self {
        Self::from_minor_units(units, currency.minor_units(), currency)
    }

    /// The exact amount.
    pub const fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// Whether the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    /// Whether the amount is below zero.
    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    /// The amount in the currency's minor units, if it is a whole number of them.
    pub fn to_minor(&self) -> Result<i64, MoneyError> {
        let scaled = self
            .amount
            .checked_mul(Decimal::from(10_i64.pow(self.currency.minor_units())))
            .ok_or(MoneyError::Overflow)?;
        if !scaled.fract().is_zero() {
            return Err(MoneyError::NotRepresentable {
                amount: self.amount,
                currency: self.currency,
            });
        }
        i64::try_from(scaled.trunc()).map_err(|_| MoneyError::Overflow)
    }

    /// Rounds to the currency's minor units, halves away from zero (the commercial rule).
    #[must_use]
    pub fn round_to_minor(&self) -> Self {
        Self::new(
            self.amount.round_dp_with_strategy(
                self.currency.minor_units(),
                RoundingStrategy::MidpointAwayFromZero,
            ),
            self.currency,
        )
    }

    /// The amount as a plain decimal string with exactly `scale` places, halves away from
    /// zero (HubSpot and Salesforce property values).
    pub fn to_decimal_string(&self, scale: u32) -> String {
        let mut rounded = self
            .amount
            .round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero);
        rounded.rescale(scale);
        rounded.to_string()
    }

    /// Sum of two values of the same currency.
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.amount
            .checked_add(other.amount)
            .map(|a| Self::new(a, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    /// Difference of two values of the same currency.
    pub fn checked_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.amount
            .checked_sub(other.amount)
            .map(|a| Self::new(a, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    /// The value multiplied by a factor (a quantity or an exchange rate keeps the currency;
    /// use [`Money::convert`] to change it).
    pub fn checked_mul(&self, factor: Decimal) -> Result<Money, MoneyError> {
        self.amount
            .checked_mul(factor)
            .map(|a| Self::new(a, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    /// Converts into `target` at `rate` (units of `target` per unit of this currency),
    /// exactly; round afterwards with [`Money::round_to_minor`] if needed.
    pub fn convert(&self, target: Currency, rate: Decimal) -> Result<Money, MoneyError> {
        self.amount
            .checked_mul(rate)
            .map(|a| Self::new(a, target))
            .ok_or(MoneyError::Overflow)
    }

    /// The value with its sign flipped.
    #[must_use]
    pub fn negated(&self) -> Money {
        Self::new(-self.amount, self.currency)
    }

    /// Sums values that must all be in `currency`.
    pub fn sum<'a>(
        currency: Currency,
        values: impl IntoIterator<Item = &'a Money>,
    ) -> Result<Money, MoneyError> {
        values
            .into_iter()
            .try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({} {})", self.amount, self.currency)
    }
}

/// Parses a plain decimal: optional sign, digits, optional point and digits.
pub fn parse_decimal(text: &str) -> Result<Decimal, MoneyError> {
    let invalid = |reason| MoneyError::InvalidAmount {
        input: text.chars().take(64).collect(),
        reason,
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(invalid("empty"));
    }
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    let mut seen_point = false;
    let mut seen_digit = false;
    for c in digits.chars() {
        match c {
            '0'..='9' => seen_digit = true,
            '.' if !seen_point => seen_point = true,
            _ => return Err(invalid("not a plain decimal number")),
        }
    }
    if !seen_digit {
        return Err(invalid("no digits"));
    }
    Decimal::from_str(t).map_err(|_| invalid("out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(s: &str) -> Money {
        Money::parse(s, Currency::USD).unwrap()
    }

    #[test]
    fn decimal_strings_keep_their_scale() {
        let m = usd("225.0000");
        assert_eq!(m.amount().to_string(), "225.0000");
        assert_eq!(m, usd("225"));
        assert_eq!(usd("-0.5").to_decimal_string(2), "-0.50");
    }

    #[test]
    fn malformed_amounts_are_refused() {
        for bad in [
            "", " ", "1,000.00", "1e5", "abc", "1.2.3", "-", "NaN", "12 34",
        ] {
            assert!(
                matches!(
                    Money::parse(bad, Currency::USD),
                    Err(MoneyError::InvalidAmount { .. })
                ),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn json_numbers_are_read_without_float_noise() {
        let n: serde_json::Number = serde_json::from_str("12.99").unwrap();
        assert_eq!(
            Money::from_json_number(&n, Currency::USD).unwrap(),
            usd("12.99")
        );
        let n: serde_json::Number = serde_json::from_str("0.1").unwrap();
        assert_eq!(
            Money::from_json_number(&n, Currency::USD)
                .unwrap()
                .amount()
                .to_string(),
            "0.1"
        );
        let n: serde_json::Number = serde_json::from_str("9007199254740993").unwrap();
        assert_eq!(
            Money::from_json_number(&n, Currency::USD)
                .unwrap()
                .amount()
                .to_string(),
            "9007199254740993"
        );
    }

    #[test]
    fn minor_units_follow_the_currency() {
        let jpy = Money::from_minor(1500, Currency::JPY);
        assert_eq!(jpy.amount().to_string(), "1500");
        let kwd = Money::from_minor(1500, Currency::new("KWD").unwrap());
        assert_eq!(kwd.amount().to_string(), "1.500");
        assert_eq!(kwd.to_minor().unwrap(), 1500);
        // High-precision commercetools amount: preciseAmount 123456 with 5 fraction digits.
        let precise = Money::from_minor_units(123_456, 5, Currency::EUR);
        assert_eq!(precise.amount().to_string(), "1.23456");
        assert!(matches!(
            precise.to_minor(),
            Err(MoneyError::NotRepresentable { .. })
        ));
        assert_eq!(precise.round_to_minor().to_minor().unwrap(), 123);
    }

    #[test]
    fn mixed_currencies_are_an_error() {
        let err = usd("1")
            .checked_sub(&Money::from_minor(1, Currency::EUR))
            .unwrap_err();
        assert_eq!(
            err,
            MoneyError::CurrencyMismatch {
                left: Currency::USD,
                right: Currency::EUR
            }
        );
        assert!(Money::sum(Currency::USD, &[usd("1"), Money::zero(Currency::GBP)]).is_err());
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(usd("2.345").round_to_minor(), usd("2.35"));
        assert_eq!(usd("-2.345").round_to_minor(), usd("-2.35"));
        assert_eq!(usd("2.344").to_decimal_string(2), "2.34");
    }

    #[test]
    fn serde_keeps_amount_as_exact_string() {
        let m = usd("19.9900");
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"amount":"19.9900","currency":"USD"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back.amount().to_string(), "19.9900");
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1","currency":"ZZZ"}"#).is_err());
    }
}

//! Exchange rates provided by the host.

use std::collections::BTreeMap;

use cartograph_model::{Currency, Money};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Why an amount could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RateError {
    /// The table has no rate for the currency.
    #[error("no exchange rate for {0}")]
    MissingRate(Currency),
    /// The table holds a zero or negative rate for the currency.
    #[error("exchange rate for {0} is not positive")]
    InvalidRate(Currency),
    /// The result does not fit the decimal range.
    #[error("amount overflow converting {from} to {to}")]
    Overflow {
        /// Source currency.
        from: Currency,
        /// Target currency.
        to: Currency,
    },
}

/// A table of exchange rates into one base currency, supplied by the host application
/// (the core never fetches rates).
///
/// `rate(X)` is the number of base units one unit of `X` buys. Conversions between two
/// non-base currencies go through the base. Every conversion result is rounded to the
/// target currency's minor units, halves away from zero, so sums of converted amounts stay
/// exact to the cent.
///
/// ```
/// use cartograph_core::metrics::Rates;
/// use cartograph_model::{Currency, Decimal, Money};
///
/// let rates = Rates::new(Currency::USD).with_rate(Currency::EUR, Decimal::new(108, 2));
/// let eur = Money::parse("10.00", Currency::EUR)?;
/// assert_eq!(rates.convert(&eur, Currency::USD)?.to_string(), "10.80 USD");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rates {
    /// The base currency.
    pub base: Currency,
    /// Base units per unit of each other currency.
    #[serde(default)]
    pub rates: BTreeMap<Currency, Decimal>,
}

impl Rates {
    /// An empty table: only amounts already in `base` convert.
    pub fn new(base: Currency) -> Self {
        Self {
            base,
            rates: BTreeMap::new(),
        }
    }

    /// Adds or replaces the rate of `currency` (base units per unit).
    #[must_use]
    pub fn with_rate(mut self, currency: Currency, rate: Decimal) -> Self {
        self.rates.insert(currency, rate);
        self
    }

    /// Base units per unit of `currency`.
    pub fn rate(&self, currency: Currency) -> Result<Decimal, RateError> {
        if currency == self.base {
            return Ok(Decimal::ONE);
        }
        let rate = *self
            .rates
            .get(&currency)
            .ok_or(RateError::MissingRate(currency))?;
        if rate <= Decimal::ZERO {
            return Err(RateError::InvalidRate(currency));
        }
        Ok(rate)
    }

    /// Converts `money` into `to`, rounded to `to`'s minor units.
    pub fn convert(&self, money: &Money, to: Currency) -> Result<Money, RateError> {
        let from = money.currency();
        if from == to {
            return Ok(*money);
        }
        let overflow = RateError::Overflow { from, to };
        let in_base = money
            .amount()
            .checked_mul(self.rate(from)?)
            .ok_or_else(|| overflow.clone())?;
        let amount = if to == self.base {
            in_base
        } else {
            in_base
                .checked_div(self.rate(to)?)
                .ok_or_else(|| overflow.clone())?
        };
        let rounded =
            amount.round_dp_with_strategy(to.minor_units(), RoundingStrategy::MidpointAwayFromZero);
        Ok(Money::new(rounded, to))
    }

    /// Converts `money` into the base currency.
    pub fn to_base(&self, money: &Money) -> Result<Money, RateError> {
        self.convert(money, self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_rates_go_through_the_base_and_round_to_minor_units() {
        let rates = Rates::new(Currency::USD)
            .with_rate(Currency::EUR, Decimal::new(11, 1))
            .with_rate(Currency::JPY, Decimal::new(7, 3));
        let eur = Money::parse("10", Currency::EUR).unwrap();
        // 10 EUR = 11 USD = 1571.43 JPY -> 1571 (JPY has no minor units)
        assert_eq!(
            rates.convert(&eur, Currency::JPY).unwrap().to_string(),
            "1571 JPY"
        );
        assert_eq!(
            rates.convert(&eur, Currency::GBP),
            Err(RateError::MissingRate(Currency::GBP))
        );
        let zero = Rates::new(Currency::USD).with_rate(Currency::EUR, Decimal::ZERO);
        assert_eq!(
            zero.to_base(&eur),
            Err(RateError::InvalidRate(Currency::EUR))
        );
    }
}

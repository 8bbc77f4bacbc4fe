//! Pure conversions between the BigCommerce wire types and the canonical model.
//!
//! Nothing here does I/O. Bad vendor data is an [`ErrorKind::Decode`] error naming the
//! record (`bigcommerce/order/100`) and the field (`total_inc_tax`); nothing panics and
//! nothing is silently dropped.

mod catalog;
mod customer;
mod order;

use cartograph_connector::{Error, ErrorKind, Result};
use cartograph_model::{Currency, Money, MoneyError, OrderStatus, Timestamp};

use crate::wire::DecimalString;

pub use catalog::{brand, cart, category, product};
pub use customer::{ABANDONED_CART_OPT_IN, customer, customer_group, customer_input};
pub use order::{order, refund};

/// Maps a BigCommerce order status id to the canonical status. Ids, not labels: merchants
/// relabel statuses (`custom_label`).
///
/// | id | BigCommerce | canonical |
/// |---|---|---|
/// | 0 | Incomplete | `Incomplete` (abandoned checkout, not revenue) |
/// | 1 | Pending | `Pending` |
/// | 2 | Shipped | `Shipped` |
/// | 3 | Partially Shipped | `PartiallyShipped` |
/// | 4 | Refunded | `Refunded` |
/// | 5 | Cancelled | `Cancelled` |
/// | 6 | Declined | `Declined` |
/// | 7 | Awaiting Payment | `AwaitingPayment` |
/// | 8 | Awaiting Pickup | `AwaitingPickup` |
/// | 9 | Awaiting Shipment | `AwaitingShipment` |
/// | 10 | Completed | `Completed` |
/// | 11 | Awaiting Fulfillment | `AwaitingFulfillment` |
/// | 12 | Manual Verification Required | `OnHold` |
/// | 13 | Disputed | `Disputed` |
/// | 14 | Partially Refunded | `PartiallyRefunded` |
pub const fn status_from_id(id: u32) -> Option<OrderStatus> {
    Some(match id {
        0 => OrderStatus::Incomplete,
        1 => OrderStatus::Pending,
        2 => OrderStatus::Shipped,
        3 => OrderStatus::PartiallyShipped,
        4 => OrderStatus::Refunded,
        5 => OrderStatus::Cancelled,
        6 => OrderStatus::Declined,
        7 => OrderStatus::AwaitingPayment,
        8 => OrderStatus::AwaitingPickup,
        9 => OrderStatus::AwaitingShipment,
        10 => OrderStatus::Completed,
        11 => OrderStatus::AwaitingFulfillment,
        12 => OrderStatus::OnHold,
        13 => OrderStatus::Disputed,
        14 => OrderStatus::PartiallyRefunded,
        _ => return None,
    })
}

/// The BigCommerce status id of a canonical status (the inverse of [`status_from_id`];
/// `Delivered` has no BigCommerce status and maps to Completed).
pub const fn status_to_id(status: OrderStatus) -> u32 {
    match status {
        OrderStatus::Incomplete => 0,
        OrderStatus::Pending => 1,
        OrderStatus::Shipped => 2,
        OrderStatus::PartiallyShipped => 3,
        OrderStatus::Refunded => 4,
        OrderStatus::Cancelled => 5,
        OrderStatus::Declined => 6,
        OrderStatus::AwaitingPayment => 7,
        OrderStatus::AwaitingPickup => 8,
        OrderStatus::AwaitingShipment => 9,
        OrderStatus::Completed | OrderStatus::Delivered => 10,
        OrderStatus::AwaitingFulfillment => 11,
        OrderStatus::OnHold => 12,
        OrderStatus::Disputed => 13,
        OrderStatus::PartiallyRefunded => 14,
    }
}

/// The default English label of a status id (what an unrelabelled store shows).
pub const fn status_label(id: u32) -> &'static str {
    match id {
        0 => "Incomplete",
        1 => "Pending",
        2 => "Shipped",
        3 => "Partially Shipped",
        4 => "Refunded",
        5 => "Cancelled",
        6 => "Declined",
        7 => "Awaiting Payment",
        8 => "Awaiting Pickup",
        9 => "Awaiting Shipment",
        10 => "Completed",
        11 => "Awaiting Fulfillment",
        12 => "Manual Verification Required",
        13 => "Disputed",
        14 => "Partially Refunded",
        _ => "Unknown",
    }
}

/// A decode error about one field of one record.
pub(crate) fn bad(record: &str, field: &str, reason: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Decode, reason.to_string())
        .with_connector("bigcommerce")
        .with_record(record.to_owned())
        .with_field(field.to_owned())
}

/// An ISO 4217 code, or a decode error naming the record and field.
pub fn currency(record: &str, field: &str, code: &str) -> Result<Currency> {
    Currency::new(code).map_err(|e| bad(record, field, e))
}

/// A v2 decimal amount; blank counts as zero (optional cost fields are often absent).
pub(crate) fn money_v2(
    record: &str,
    field: &str,
    amount: &DecimalString,
    cur: Currency,
) -> Result<Money> {
    money_v2_lazy(amount, cur).map_err(|e| bad(record, field, e))
}

/// [`money_v2`] without the record and field: for callers that only name the field when
/// the value is bad.
pub(crate) fn money_v2_lazy(
    amount: &DecimalString,
    cur: Currency,
) -> std::result::Result<Money, MoneyError> {
    Ok(amount
        .decimal()?
        .map_or_else(|| Money::zero(cur), |d| Money::new(d, cur)))
}

/// A v3 JSON number.
pub(crate) fn money_v3(
    record: &str,
    field: &str,
    number: &serde_json::Number,
    cur: Currency,
) -> Result<Money> {
    Money::from_json_number(number, cur).map_err(|e| bad(record, field, e))
}

/// An RFC 2822 date (v2); blank gives `None`.
pub(crate) fn rfc2822_opt(record: &str, field: &str, text: &str) -> Result<Option<Timestamp>> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if let Some(t) = rfc2822_utc(trimmed) {
        return Ok(Some(t));
    }
    Timestamp::parse_rfc2822(text)
        .map(Some)
        .map_err(|e| bad(record, field, e))
}

/// The one shape BigCommerce sends (`Tue, 20 Nov 2012 00:00:00 +0000`: two-digit day,
/// four-digit year from 1900, UTC), read without the general parser; `None` for anything
/// else, which the general parser then decides. Like it, the weekday name is not checked
/// against the date.
fn rfc2822_utc(text: &str) -> Option<Timestamp> {
    const WEEKDAYS: [&[u8]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let b = text.as_bytes();
    if b.len() != 31 || !WEEKDAYS.contains(&&b[0..3]) || &b[3..5] != b", " {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u16> {
        b[range].iter().try_fold(0_u16, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u16::from(d - b'0'))
        })
    };
    let separators = [
        (7, b' '),
        (11, b' '),
        (16, b' '),
        (19, b':'),
        (22, b':'),
        (25, b' '),
    ];
    if separators.iter().any(|&(i, c)| b[i] != c) || &b[26..] != b"+0000" {
        return None;
    }
    let month = MONTHS.iter().position(|m| *m == &b[8..11])?;
    let month = time::Month::try_from(u8::try_from(month + 1).ok()?).ok()?;
    let year = number(12..16).filter(|y| *y >= 1900)?;
    let day = u8::try_from(number(5..7)?).ok()?;
    let date = time::Date::from_calendar_date(i32::from(year), month, day).ok()?;
    let [hour, minute, second] = [17..19, 20..22, 23..25].map(number);
    let time = time::Time::from_hms(
        u8::try_from(hour?).ok()?,
        u8::try_from(minute?).ok()?,
        // A leap second (60) is left to the general parser.
        u8::try_from(second?).ok().filter(|s| *s < 60)?,
    )
    .ok()?;
    Some(Timestamp::from(time::UtcDateTime::new(date, time)))
}

/// An RFC 3339 / ISO 8601 date-time (v3); blank or absent gives `None`.
pub(crate) fn rfc3339_opt(
    record: &str,
    field: &str,
    text: Option<&str>,
) -> Result<Option<Timestamp>> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => Timestamp::parse_rfc3339(t)
            .map(Some)
            .map_err(|e| bad(record, field, e)),
    }
}

/// A v3 filter timestamp: always a full date-time in UTC (`2024-05-14T09:34:00Z`); a bare
/// date would make BigCommerce append the current time of day.
pub fn v3_filter_time(t: Timestamp) -> String {
    let dt = t.to_offset_date_time();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// A v2 filter timestamp: RFC 2822 (`Tue, 20 Nov 2012 00:00:00 +0000`).
pub fn v2_filter_time(t: Timestamp) -> String {
    t.to_rfc2822()
}

/// Parses a BigCommerce numeric id given as text (`SourceRef` ids are strings); an
/// [`ErrorKind::Invalid`] error naming the record and field otherwise.
pub fn numeric_id(record: &str, field: &str, id: &str) -> Result<u64> {
    id.trim().parse::<u64>().map_err(|_| {
        Error::invalid_field(record.to_owned(), field.to_owned(), "not a BigCommerce id")
            .with_connector("bigcommerce")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_id_round_trips() {
        for id in 0..=14 {
            let status = status_from_id(id).unwrap();
            assert_eq!(status_to_id(status), id, "{id}");
        }
        assert_eq!(status_from_id(15), None);
        assert_eq!(status_from_id(0), Some(OrderStatus::Incomplete));
        assert!(!OrderStatus::Incomplete.is_revenue());
        assert_eq!(status_label(12), "Manual Verification Required");
    }

    #[test]
    fn filter_times_are_full_timestamps() {
        let t = Timestamp::parse_rfc3339("2024-05-14T11:34:05.900+02:00").unwrap();
        assert_eq!(v3_filter_time(t), "2024-05-14T09:34:05Z");
        assert_eq!(v2_filter_time(t), "Tue, 14 May 2024 09:34:05 +0000");
    }

    #[test]
    fn rfc2822_dates_read_like_the_general_parser() {
        let mut texts = vec![
            "Tue, 20 Nov 2012 00:00:00 +0000".to_owned(),
            "Mon, 20 Nov 2012 00:00:00 +0000".to_owned(),
            "  Wed, 29 Feb 2024 23:59:59 +0000 ".to_owned(),
            "Thu, 31 Dec 1900 12:30:45 +0000".to_owned(),
            "Fri, 01 Jan 1899 00:00:00 +0000".to_owned(),
            "Sat, 30 Feb 2023 00:00:00 +0000".to_owned(),
            "Sun, 31 Dec 2016 23:59:60 +0000".to_owned(),
            "Sun, 01 Jan 2017 24:00:00 +0000".to_owned(),
            "Sun, 01 Jan 2017 00:60:00 +0000".to_owned(),
            "Tue, 20 Nov 2012 00:00:00 +0100".to_owned(),
            "Tue, 20 Nov 2012 00:00:00 -0000".to_owned(),
            "Tue, 20 Nov 2012 00:00:00 GMT".to_owned(),
            "Tue, 2 Nov 2012 00:00:00 +0000".to_owned(),
            "tue, 20 nov 2012 00:00:00 +0000".to_owned(),
            "Tue,20 Nov 2012 00:00:00 +0000".to_owned(),
            "Tue, 20 Nov 12 00:00:00 +0000".to_owned(),
            "Tue, 2O Nov 2012 00:00:00 +0000".to_owned(),
            "Xyz, 20 Nov 2012 00:00:00 +0000".to_owned(),
            "Tue, 20 Nox 2012 00:00:00 +0000".to_owned(),
            "2012-11-20T00:00:00Z".to_owned(),
        ];
        for (i, month) in [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ]
        .iter()
        .enumerate()
        {
            for day in [1, 9, 10, 28, 29, 30, 31] {
                texts.push(format!(
                    "Wed, {day:02} {month} {} 0{}:1{}:5{} +0000",
                    1999 + i,
                    i % 10,
                    day % 10,
                    i % 10
                ));
            }
        }
        let sent = Timestamp::parse_rfc3339("2024-05-01T09:04:05Z").unwrap();
        assert_eq!(
            rfc2822_utc(&v2_filter_time(sent)),
            Some(sent),
            "the shape BigCommerce sends takes the short way"
        );
        for text in texts {
            let want = Timestamp::parse_rfc2822(&text).ok();
            let got = rfc2822_opt("r", "date_created", &text).ok().flatten();
            assert_eq!(got, want, "{text}");
            if want.is_some() {
                assert_eq!(rfc2822_utc(text.trim()).or(want), want, "{text}");
            }
        }
    }

    #[test]
    fn bad_values_name_record_and_field() {
        let err = money_v2(
            "bigcommerce/order/1",
            "total_inc_tax",
            &"1,00".into(),
            Currency::USD,
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert_eq!(err.record(), Some("bigcommerce/order/1"));
        assert_eq!(err.field(), Some("total_inc_tax"));
        assert!(rfc2822_opt("r", "date_created", "2024-01-01").is_err());
        assert_eq!(rfc2822_opt("r", "date_shipped", "").unwrap(), None);
        assert!(numeric_id("r", "id", "abc").is_err());
    }
}

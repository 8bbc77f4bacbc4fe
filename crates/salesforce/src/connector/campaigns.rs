//! The daily campaign revenue summary: each day's coupon revenue on its Campaign.
//!
//! A Campaign is matched by [`SalesforceConfig::campaign_match_field`] (default
//! `Coupon_Code__c`; `Name` works too), compared case-insensitively. Its days live in a
//! long text field, one line per day (`2026-12-01 USD 120.50 3`: day, currency, revenue,
//! orders), so a re-run of any day replaces that day's line instead of adding to a total;
//! the totals are recomputed from the lines on every write.
//!
//! [`SalesforceConfig::campaign_match_field`]: crate::SalesforceConfig::campaign_match_field

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use cartograph_connector::{Error, ErrorKind, RecordOutcome, Result};
use cartograph_model::{CampaignRevenue, Decimal};
use serde_json::{Value, json};
use time::Date;

use super::{QUERY_CHUNK, Salesforce, is_fatal, save_error};
use crate::client::soql_quote;
use crate::config::MAX_BATCH;
use crate::error::CONNECTOR;
use crate::map;

/// Long text field holding one line per day: `YYYY-MM-DD CUR revenue orders`.
pub const DAILY_FIELD: &str = "Ecom_Daily_Revenue__c";
/// Sum of the days' revenue (Number or Currency field).
pub const TOTAL_FIELD: &str = "Ecom_Revenue_Total__c";
/// Sum of the days' orders (Number field).
pub const ORDERS_FIELD: &str = "Ecom_Revenue_Orders__c";
/// ISO currency of the days (Text field).
pub const CURRENCY_FIELD: &str = "Ecom_Revenue_Currency__c";
/// The latest day written (Date field).
pub const LAST_DAY_FIELD: &str = "Ecom_Revenue_Last_Day__c";

/// One day on a Campaign: currency, revenue, orders.
type Day = (String, Decimal, u32);

/// The outcome key of a row: `CODE/day/CUR`.
#[must_use]
pub fn revenue_key(row: &CampaignRevenue) -> String {
    format!("{}/{}/{}", row.code, row.day, row.revenue.currency())
}

/// Parses a Campaign's day lines; the first bad line's text on failure.
///
/// # Errors
/// The offending line.
pub fn parse_days(text: &str) -> std::result::Result<BTreeMap<Date, Day>, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let mut days = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let parsed = match parts.as_slice() {
            [day, currency, revenue, orders] => Date::parse(day, &format).ok().and_then(|d| {
                let revenue = revenue.parse::<Decimal>().ok()?;
                let orders = orders.parse::<u32>().ok()?;
                let currency = (currency.len() == 3
                    && currency.bytes().all(|b| b.is_ascii_uppercase()))
                .then(|| (*currency).to_owned())?;
                Some((d, (currency, revenue, orders)))
            }),
            _ => None,
        };
        let Some((day, entry)) = parsed else {
            return Err(line.to_owned());
        };
        days.insert(day, entry);
    }
    Ok(days)
}

/// The day lines and summary fields of a Campaign holding `days`.
#[must_use]
pub fn campaign_body(days: &BTreeMap<Date, Day>) -> serde_json::Map<String, Value> {
    let mut text = String::new();
    let mut total = Decimal::ZERO;
    let mut orders = 0_u64;
    for (day, (currency, revenue, n)) in days {
        let _ = writeln!(text, "{day} {currency} {revenue} {n}");
        total += *revenue;
        orders += u64::from(*n);
    }
    let mut body = serde_json::Map::new();
    body.insert(DAILY_FIELD.into(), json!(text.trim_end()));
    body.insert(TOTAL_FIELD.into(), json!(total.to_string()));
    body.insert(ORDERS_FIELD.into(), json!(orders));
    body.insert(
        CURRENCY_FIELD.into(),
        days.values()
            .next()
            .map_or(Value::Null, |(c, _, _)| json!(c)),
    );
    body.insert(
        LAST_DAY_FIELD.into(),
        days.keys()
            .next_back()
            .map_or(Value::Null, |d| json!(d.to_string())),
    );
    body
}

struct Campaign {
    id: String,
    days: std::result::Result<BTreeMap<Date, Day>, String>,
}

impl Salesforce {
    /// Writes each row's day onto the Campaign whose match field equals its code, one
    /// outcome per row (key [`revenue_key`]): `Updated` with the Campaign id, `Unchanged`
    /// when the Campaign already holds the same figures for that day (a re-run), or a
    /// per-row failure: `NotFound` (no Campaign has the code), `Conflict` (several do, or
    /// the Campaign's days are in another currency), `Invalid` (its day lines were edited
    /// into something unreadable, nothing is overwritten; or the row repeats another's code,
    /// day and currency).
    ///
    /// # Errors
    /// More than 200 rows in one call (`Invalid`), credentials, config and exhausted
    /// retries; a missing field (`INVALID_FIELD`) fails the call as `Invalid`.
    pub async fn write_campaign_revenue(
        &self,
        rows: &[CampaignRevenue],
    ) -> Result<Vec<RecordOutcome>> {
        const OP: &str = "write_campaign_revenue";
        if rows.len() > MAX_BATCH {
            return Err(Error::new(
                ErrorKind::Invalid,
                format!("{} rows in one call; at most {MAX_BATCH}", rows.len()),
            )
            .with_connector(CONNECTOR)
            .with_operation(OP));
        }
        let field = &self.config.campaign_match_field;
        let mut codes: Vec<String> = rows.iter().map(|r| r.code.to_uppercase()).collect();
        codes.sort();
        codes.dedup();
        let mut found: HashMap<String, Vec<Campaign>> = HashMap::new();
        for chunk in codes.chunks(QUERY_CHUNK) {
            let list: Vec<String> = chunk.iter().map(|c| soql_quote(c)).collect();
            let soql = format!(
                "SELECT Id, {field}, {DAILY_FIELD} FROM Campaign WHERE {field} IN ({})",
                list.join(", ")
            );
            for record in self.client.query(&soql, OP).await? {
                let Some(code) = map::text(&record, field) else {
                    continue;
                };
                found
                    .entry(code.trim().to_uppercase())
                    .or_default()
                    .push(Campaign {
                        id: map::text(&record, "Id").unwrap_or_default(),
                        days: parse_days(&map::text(&record, DAILY_FIELD).unwrap_or_default()),
                    });
            }
        }
        let mut out: Vec<Option<RecordOutcome>> = rows.iter().map(|_| None).collect();
        // Campaign id -> its days after this call, and the rows that changed it.
        let mut changed: BTreeMap<String, (BTreeMap<Date, Day>, Vec<usize>)> = BTreeMap::new();
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by_key(|&i| rows[i].day);
        let mut seen = std::collections::HashSet::new();
        for i in order {
            let row = &rows[i];
            let key = revenue_key(row);
            if !seen.insert(key.to_uppercase()) {
                out[i] = Some(RecordOutcome::failed(
                    key.clone(),
                    Error::invalid_field(
                        key.clone(),
                        "code",
                        "the same code, day and currency twice in one call",
                    )
                    .with_connector(CONNECTOR)
                    .with_operation(OP),
                ));
                continue;
            }
            let fail = |kind, why: String| {
                RecordOutcome::failed(
                    key.clone(),
                    Error::new(kind, why)
                        .with_connector(CONNECTOR)
                        .with_operation(OP)
                        .with_record(key.clone())
                        .with_field(field.clone()),
                )
            };
            let campaign = match found.get(&row.code.to_uppercase()).map(Vec::as_slice) {
                None | Some([]) => {
                    out[i] = Some(fail(
                        ErrorKind::NotFound,
                        format!("no Campaign has {field} = {:?}", row.code),
                    ));
                    continue;
                }
                Some([one]) => one,
                Some(many) => {
                    out[i] = Some(fail(
                        ErrorKind::Conflict,
                        format!("{} Campaigns have {field} = {:?}", many.len(), row.code),
                    ));
                    continue;
                }
            };
            let stored = match &campaign.days {
                Ok(days) => days,
                Err(line) => {
                    out[i] = Some(RecordOutcome::failed(
                        key.clone(),
                        Error::invalid_field(
                            key.clone(),
                            DAILY_FIELD,
                            format!("unreadable day line {line:?} on Campaign {}", campaign.id),
                        )
                        .with_connector(CONNECTOR)
                        .with_operation(OP),
                    ));
                    continue;
                }
            };
            let (days, touched) = changed
                .entry(campaign.id.clone())
                .or_insert_with(|| (stored.clone(), Vec::new()));
            let currency = row.revenue.currency().code().to_owned();
            if let Some((other, _, _)) = days.values().find(|(c, _, _)| *c != currency) {
                out[i] = Some(fail(
                    ErrorKind::Conflict,
                    format!(
                        "Campaign {} holds {other} revenue; {currency} is never added to it",
                        campaign.id
                    ),
                ));
                continue;
            }
            let entry = (currency, row.revenue.amount(), row.orders);
            if days.get(&row.day) == Some(&entry) {
                out[i] = Some(RecordOutcome::unchanged(
                    key.clone(),
                    Some(campaign.id.clone()),
                ));
                continue;
            }
            days.insert(row.day, entry);
            touched.push(i);
        }
        let updates: Vec<(String, Vec<usize>, Value)> = changed
            .into_iter()
            .filter(|(_, (_, touched))| !touched.is_empty())
            .map(|(id, (days, touched))| {
                let mut body = campaign_body(&days);
                body.insert("Id".into(), json!(id));
                (id, touched, Value::Object(body))
            })
            .collect();
        if !updates.is_empty() {
            let records = updates.iter().map(|(_, _, b)| b.clone()).collect();
            match self.client.update("Campaign", records, OP).await {
                Ok(results) => {
                    for ((id, touched, _), result) in updates.iter().zip(&results) {
                        for &i in touched {
                            let key = revenue_key(&rows[i]);
                            out[i] = Some(if result.success {
                                RecordOutcome::updated(key, id.clone())
                            } else {
                                RecordOutcome::failed(
                                    key.clone(),
                                    save_error(result).with_record(key),
                                )
                            });
                        }
                    }
                }
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => {
                    for (_, touched, _) in &updates {
                        for &i in touched {
                            let key = revenue_key(&rows[i]);
                            out[i] = Some(RecordOutcome::failed(
                                key.clone(),
                                e.clone().with_record(key),
                            ));
                        }
                    }
                }
            }
        }
        Ok(out
            .into_iter()
            .zip(rows)
            .map(|(o, row)| {
                o.unwrap_or_else(|| {
                    RecordOutcome::failed(
                        revenue_key(row),
                        Error::new(ErrorKind::Invalid, "row not written").with_connector(CONNECTOR),
                    )
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_lines_round_trip_and_totals_follow() {
        let text = "2026-12-01 USD 10.10 2\n2026-12-03 USD 0.20 1";
        let days = parse_days(text).expect("valid");
        let body = campaign_body(&days);
        assert_eq!(body[DAILY_FIELD], json!(text));
        assert_eq!(body[TOTAL_FIELD], json!("10.30"));
        assert_eq!(body[ORDERS_FIELD], json!(3));
        assert_eq!(body[CURRENCY_FIELD], json!("USD"));
        assert_eq!(body[LAST_DAY_FIELD], json!("2026-12-03"));
        assert_eq!(parse_days("").expect("empty"), BTreeMap::new());
    }

    #[test]
    fn edited_lines_are_refused() {
        for bad in [
            "2026-12-01 USD 10.10",
            "2026-13-01 USD 1 1",
            "2026-12-01 usd 1 1",
            "2026-12-01 USD ten 1",
            "2026-12-01 USD 1 -1",
        ] {
            assert_eq!(parse_days(bad), Err(bad.to_owned()), "{bad}");
        }
    }
}

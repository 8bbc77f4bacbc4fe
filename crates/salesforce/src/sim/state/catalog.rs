//! Products, price books and opportunity line items: the objects, their required fields,
//! Salesforce's reference checks (`INVALID_CROSS_REFERENCE_KEY`, `FIELD_INTEGRITY_EXCEPTION`,
//! `STANDARD_PRICE_NOT_DEFINED`, `DUPLICATE_VALUE`) and the derived fields (an
//! Opportunity's `Amount` is the sum of its lines and ignores writes while it has lines;
//! `IsWon`/`IsClosed` follow `StageName`; a line's `TotalPrice`).

use std::str::FromStr as _;

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::{Row, State, record_error, text};

/// Objects (and extra fields of existing ones) beyond the contact and order basics.
pub(super) const OBJECTS: &[(&str, &[&str])] = &[
    (
        "Product2",
        &[
            "Id",
            "Name",
            "ProductCode",
            "Description",
            "Family",
            "IsActive",
            "LastModifiedDate",
        ],
    ),
    (
        "Pricebook2",
        &["Id", "Name", "IsActive", "IsStandard", "LastModifiedDate"],
    ),
    (
        "PricebookEntry",
        &[
            "Id",
            "Pricebook2Id",
            "Product2Id",
            "UnitPrice",
            "IsActive",
            "UseStandardPrice",
            "LastModifiedDate",
        ],
    ),
    (
        "OpportunityLineItem",
        &[
            "Id",
            "OpportunityId",
            "PricebookEntryId",
            "Product2Id",
            "Quantity",
            "UnitPrice",
            "TotalPrice",
            "Description",
            "Name",
            "LastModifiedDate",
        ],
    ),
    ("Opportunity", &["Pricebook2Id", "IsWon", "IsClosed"]),
];

/// Required fields of these objects (and of Account).
pub(super) const REQUIRED: &[(&str, &[&str])] = &[
    ("Product2", &["Name"]),
    ("Pricebook2", &["Name"]),
    (
        "PricebookEntry",
        &["Pricebook2Id", "Product2Id", "UnitPrice"],
    ),
    (
        "OpportunityLineItem",
        &["OpportunityId", "PricebookEntryId", "Quantity"],
    ),
    ("Account", &["Name"]),
];

/// Fields that can be set on create only.
const CREATE_ONLY: &[(&str, &[&str])] = &[
    (
        "OpportunityLineItem",
        &["OpportunityId", "PricebookEntryId"],
    ),
    ("PricebookEntry", &["Pricebook2Id", "Product2Id"]),
];

/// Fields the org computes (never written).
const COMPUTED: &[(&str, &[&str])] = &[
    ("OpportunityLineItem", &["TotalPrice", "Product2Id", "Name"]),
    ("Opportunity", &["IsWon", "IsClosed"]),
    ("Pricebook2", &["IsStandard"]),
];

fn dec(v: Option<&Value>) -> Option<Decimal> {
    match v? {
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        _ => None,
    }
}

fn integrity(message: &str, field: &str) -> Value {
    record_error(
        "FIELD_INTEGRITY_EXCEPTION",
        &format!("field integrity exception: {field} ({message})"),
        &[field],
    )
}

fn unwritable(field: &str) -> Value {
    record_error(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        &format!(
            "Unable to create/update fields: {field}. Please check the security settings of this field and verify that it is read/write for your profile or permission set."
        ),
        &[field],
    )
}

impl State {
    /// Adds the catalog objects and the org's standard price book.
    pub(super) fn install_catalog(&mut self, preinstall: bool) {
        for (object, names) in OBJECTS {
            for name in *names {
                self.add_field(object, name);
            }
        }
        if preinstall {
            for object in ["Account", "OpportunityLineItem"] {
                self.add_field(object, crate::config::DEFAULT_EXTERNAL_ID_FIELD);
            }
            self.add_field("Product2", crate::config::DEFAULT_PRODUCT_EXTERNAL_ID_FIELD);
        }
        let mut book = Map::new();
        book.insert("Name".into(), json!("Standard Price Book"));
        book.insert("IsActive".into(), json!(true));
        book.insert("IsStandard".into(), json!(true));
        self.insert("Pricebook2", book);
    }

    /// Turns on multi-currency: `CurrencyIsoCode` on opportunities, entries and lines.
    pub(crate) fn enable_multi_currency(&mut self) {
        for object in [
            "Opportunity",
            "PricebookEntry",
            "OpportunityLineItem",
            "Product2",
        ] {
            self.add_field(object, "CurrencyIsoCode");
        }
    }

    fn find(&self, object: &str, id: &str) -> Option<&Row> {
        self.rows.get(object)?.iter().find(|r| r.id == id)
    }

    /// Checks a record about to be inserted (`existing = None`) or to update `existing`:
    /// references, create-only and computed fields, duplicate entries. May complete
    /// `fields` (a line's product and price, an opportunity's price book). The record
    /// error, if refused.
    pub(super) fn check_catalog(
        &mut self,
        object: &str,
        fields: &mut Map<String, Value>,
        existing: Option<&str>,
    ) -> Option<Value> {
        for (o, names) in COMPUTED {
            if *o == object
                && let Some(n) = names.iter().find(|n| fields.contains_key(**n))
            {
                return Some(unwritable(n));
            }
        }
        if let Some(id) = existing
            && object == "Opportunity"
            && let Some(e) = self.locked_by_lines(id, fields)
        {
            return Some(e);
        }
        if existing.is_some() {
            for (o, names) in CREATE_ONLY {
                if *o == object
                    && let Some(n) = names.iter().find(|n| fields.contains_key(**n))
                {
                    return Some(unwritable(n));
                }
            }
            return None;
        }
        match object {
            "PricebookEntry" => self.check_entry(fields),
            "OpportunityLineItem" => self.check_line(fields),
            _ => None,
        }
    }

    /// An Opportunity with lines keeps its price book and currency.
    fn locked_by_lines(&self, id: &str, fields: &Map<String, Value>) -> Option<Value> {
        let has_lines = self.rows.get("OpportunityLineItem").is_some_and(|lines| {
            lines
                .iter()
                .any(|l| l.fields.get("OpportunityId").map(text).as_deref() == Some(id))
        });
        let row = self.find("Opportunity", id)?;
        for name in ["Pricebook2Id", "CurrencyIsoCode"] {
            if has_lines
                && let Some(v) = fields.get(name)
                && row.fields.get(name).map(text) != Some(text(v))
            {
                return Some(integrity(
                    "cannot change the price book or currency of an opportunity with line items",
                    name,
                ));
            }
        }
        None
    }

    fn check_entry(&self, fields: &Map<String, Value>) -> Option<Value> {
        let product = fields.get("Product2Id").map(text).unwrap_or_default();
        let book = fields.get("Pricebook2Id").map(text).unwrap_or_default();
        if self.find("Product2", &product).is_none() {
            return Some(record_error(
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
                &["Product2Id"],
            ));
        }
        let Some(pricebook) = self.find("Pricebook2", &book) else {
            return Some(record_error(
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
                &["Pricebook2Id"],
            ));
        };
        let standard = pricebook.fields.get("IsStandard") == Some(&json!(true));
        let currency = fields.get("CurrencyIsoCode").map(text);
        let entries = self
            .rows
            .get("PricebookEntry")
            .map_or(&[][..], Vec::as_slice);
        let of_product = |book_ok: &dyn Fn(&Row) -> bool| {
            entries.iter().any(|r| {
                r.fields.get("Product2Id").map(text) == Some(product.clone())
                    && r.fields.get("CurrencyIsoCode").map(text) == currency
                    && book_ok(r)
            })
        };
        if of_product(&|r| r.fields.get("Pricebook2Id").map(text) == Some(book.clone())) {
            return Some(record_error(
                "DUPLICATE_VALUE",
                "This price definition already exists in this price book",
                &[],
            ));
        }
        if !standard {
            let standard_books: Vec<String> = self
                .rows
                .get("Pricebook2")
                .into_iter()
                .flatten()
                .filter(|r| r.fields.get("IsStandard") == Some(&json!(true)))
                .map(|r| r.id.clone())
                .collect();
            let has_standard = of_product(&|r| {
                r.fields
                    .get("Pricebook2Id")
                    .is_some_and(|b| standard_books.contains(&text(b)))
            });
            if !has_standard {
                return Some(record_error(
                    "STANDARD_PRICE_NOT_DEFINED",
                    "No standard price defined for this product",
                    &[],
                ));
            }
        }
        None
    }

    fn check_line(&mut self, fields: &mut Map<String, Value>) -> Option<Value> {
        let opp_id = fields.get("OpportunityId").map(text).unwrap_or_default();
        let entry_id = fields.get("PricebookEntryId").map(text).unwrap_or_default();
        let Some(opp) = self.find("Opportunity", &opp_id).cloned() else {
            return Some(record_error(
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
                &["OpportunityId"],
            ));
        };
        let Some(entry) = self.find("PricebookEntry", &entry_id).cloned() else {
            return Some(record_error(
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
                &["PricebookEntryId"],
            ));
        };
        if entry.fields.get("IsActive") == Some(&json!(false)) {
            return Some(integrity("pricebook entry is inactive", "PricebookEntryId"));
        }
        let entry_book = entry
            .fields
            .get("Pricebook2Id")
            .map(text)
            .unwrap_or_default();
        match opp
            .fields
            .get("Pricebook2Id")
            .map(text)
            .filter(|b| !b.is_empty())
        {
            Some(book) if book != entry_book => {
                return Some(integrity(
                    "pricebook entry is in a different pricebook than the one assigned to the opportunity",
                    "PricebookEntryId",
                ));
            }
            Some(_) => {}
            // The first line sets the opportunity's price book.
            None => {
                if let Some(row) = self
                    .rows
                    .get_mut("Opportunity")
                    .and_then(|rows| rows.iter_mut().find(|r| r.id == opp_id))
                {
                    row.fields.insert("Pricebook2Id".into(), json!(entry_book));
                }
            }
        }
        if let (Some(opp_currency), Some(entry_currency)) = (
            opp.fields.get("CurrencyIsoCode").map(text),
            entry.fields.get("CurrencyIsoCode").map(text),
        ) && !opp_currency.eq_ignore_ascii_case(&entry_currency)
        {
            return Some(integrity(
                "pricebook entry currency code does not match opportunity currency code",
                "PricebookEntryId",
            ));
        }
        if dec(fields.get("Quantity")).is_none_or(|q| q <= Decimal::ZERO) {
            return Some(record_error(
                "FIELD_INTEGRITY_EXCEPTION",
                "field integrity exception: Quantity (quantity must be nonzero)",
                &["Quantity"],
            ));
        }
        if !fields.contains_key("UnitPrice")
            && let Some(price) = entry.fields.get("UnitPrice")
        {
            fields.insert("UnitPrice".into(), price.clone());
        }
        let product = entry
            .fields
            .get("Product2Id")
            .cloned()
            .unwrap_or(Value::Null);
        let name = self
            .find("Product2", &text(&product))
            .and_then(|p| p.fields.get("Name").cloned())
            .unwrap_or(Value::Null);
        fields.insert("Product2Id".into(), product);
        fields.insert("Name".into(), name);
        None
    }

    /// Recomputes the derived fields.
    pub(super) fn derive(&mut self) {
        let mut sums: std::collections::HashMap<String, Decimal> = std::collections::HashMap::new();
        if let Some(lines) = self.rows.get_mut("OpportunityLineItem") {
            for line in lines {
                let total = dec(line.fields.get("Quantity")).unwrap_or_default()
                    * dec(line.fields.get("UnitPrice")).unwrap_or_default();
                let mut total = total.round_dp(2);
                total.rescale(2);
                line.fields
                    .insert("TotalPrice".into(), json!(total.to_string()));
                let opp = line
                    .fields
                    .get("OpportunityId")
                    .map(text)
                    .unwrap_or_default();
                *sums.entry(opp).or_default() += total;
            }
        }
        if let Some(opps) = self.rows.get_mut("Opportunity") {
            for opp in opps {
                if let Some(sum) = sums.get(&opp.id) {
                    let mut sum = *sum;
                    sum.rescale(2);
                    opp.fields.insert("Amount".into(), json!(sum.to_string()));
                }
                let stage = opp.fields.get("StageName").map(text).unwrap_or_default();
                opp.fields
                    .insert("IsWon".into(), json!(stage == "Closed Won"));
                opp.fields
                    .insert("IsClosed".into(), json!(stage.starts_with("Closed")));
            }
        }
    }

    /// `DELETE /composite/sobjects?ids=...`: per-id results (an unknown id answers
    /// `ENTITY_IS_DELETED`); deleting an Opportunity deletes its lines.
    pub(super) fn delete_many(&mut self, ids: &str) -> Vec<Value> {
        let mut results = Vec::new();
        for id in ids.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let mut found = false;
            for rows in self.rows.values_mut() {
                let before = rows.len();
                rows.retain(|r| r.id != id);
                found |= rows.len() != before;
            }
            if found {
                if let Some(lines) = self.rows.get_mut("OpportunityLineItem") {
                    lines
                        .retain(|l| l.fields.get("OpportunityId").map(text).as_deref() != Some(id));
                }
                results.push(json!({"id": id, "success": true, "errors": []}));
            } else {
                results.push(record_error("ENTITY_IS_DELETED", "entity is deleted", &[]));
            }
        }
        results
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn post(state: &mut State, object: &str, body: &Value) -> (u16, Value) {
        state.handle("POST", &["sobjects", object], &BTreeMap::new(), body, None)
    }

    fn standard(state: &State) -> String {
        state.rows["Pricebook2"][0].id.clone()
    }

    #[test]
    fn required_fields_and_references_answer_in_salesforces_shape() {
        let mut state = State::new(2000, false, true);
        let (status, body) = post(&mut state, "Product2", &json!({"ProductCode": "X"}));
        assert_eq!(status, 400);
        assert_eq!(body[0]["errorCode"], "REQUIRED_FIELD_MISSING");
        assert_eq!(body[0]["fields"], json!(["Name"]));
        let (_, product) = post(&mut state, "Product2", &json!({"Name": "Boot"}));
        let product = product["id"].as_str().unwrap().to_owned();
        let book = standard(&state);
        let (status, body) = post(
            &mut state,
            "PricebookEntry",
            &json!({"Product2Id": product, "Pricebook2Id": book}),
        );
        assert_eq!(status, 400);
        assert_eq!(body[0]["fields"], json!(["UnitPrice"]));
        // A custom price book needs the standard price first.
        let (_, custom) = post(
            &mut state,
            "Pricebook2",
            &json!({"Name": "Wholesale", "IsActive": true}),
        );
        let custom = custom["id"].as_str().unwrap().to_owned();
        let (_, body) = post(
            &mut state,
            "PricebookEntry",
            &json!({"Product2Id": product, "Pricebook2Id": custom, "UnitPrice": "9"}),
        );
        assert_eq!(body[0]["errorCode"], "STANDARD_PRICE_NOT_DEFINED");
        let entry = json!({"Product2Id": product, "Pricebook2Id": book, "UnitPrice": "10"});
        assert_eq!(post(&mut state, "PricebookEntry", &entry).0, 201);
        assert_eq!(
            post(&mut state, "PricebookEntry", &entry).1[0]["errorCode"],
            "DUPLICATE_VALUE"
        );
    }

    #[test]
    fn an_opportunity_with_lines_sums_them_and_ignores_amount_writes() {
        let mut state = State::new(2000, false, true);
        let (_, product) = post(&mut state, "Product2", &json!({"Name": "Boot"}));
        let book = standard(&state);
        let (_, entry) = post(
            &mut state,
            "PricebookEntry",
            &json!({"Product2Id": product["id"], "Pricebook2Id": book, "UnitPrice": "10"}),
        );
        let (_, opp) = post(
            &mut state,
            "Opportunity",
            &json!({"Name": "O", "StageName": "Closed Won", "CloseDate": "2024-01-01", "Amount": "999"}),
        );
        let opp = opp["id"].as_str().unwrap().to_owned();
        let line =
            |q: i64| json!({"OpportunityId": opp, "PricebookEntryId": entry["id"], "Quantity": q});
        assert_eq!(
            post(&mut state, "OpportunityLineItem", &line(0)).1[0]["errorCode"],
            "FIELD_INTEGRITY_EXCEPTION"
        );
        assert_eq!(post(&mut state, "OpportunityLineItem", &line(3)).0, 201);
        let row = state.find("Opportunity", &opp).unwrap().clone();
        assert_eq!(
            row.fields["Amount"],
            json!("30.00"),
            "the entry's price times 3"
        );
        assert_eq!(
            row.fields["Pricebook2Id"],
            json!(book),
            "the first line sets the book"
        );
        assert_eq!(row.fields["IsWon"], json!(true));
        let update =
            json!({"records": [{"attributes": {"type": "Opportunity"}, "Id": opp, "Amount": "1"}]});
        state.handle(
            "PATCH",
            &["composite", "sobjects"],
            &BTreeMap::new(),
            &update,
            None,
        );
        assert_eq!(
            state.find("Opportunity", &opp).unwrap().fields["Amount"],
            json!("30.00")
        );
    }
}

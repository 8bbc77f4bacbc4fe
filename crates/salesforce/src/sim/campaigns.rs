//! Simulator support of the campaign revenue summary: custom fields on Campaign and
//! Campaigns carrying a coupon code.

use serde_json::{Map, json};

use super::SalesforceSim;
use crate::connector::{CURRENCY_FIELD, DAILY_FIELD, LAST_DAY_FIELD, ORDERS_FIELD, TOTAL_FIELD};

impl SalesforceSim {
    /// Installs the fields `write_campaign_revenue` writes on Campaign, and `match_field`
    /// when it is a custom one (`Coupon_Code__c`).
    pub fn install_campaign_revenue_fields(&self, match_field: &str) {
        let mut state = self.shared.state();
        for field in [
            DAILY_FIELD,
            TOTAL_FIELD,
            ORDERS_FIELD,
            CURRENCY_FIELD,
            LAST_DAY_FIELD,
        ] {
            state.add_field("Campaign", field);
        }
        if match_field.ends_with("__c") {
            state.add_field("Campaign", match_field);
        }
    }

    /// Creates an active Campaign named `name` whose `match_field` holds `code` (when the
    /// field is not `Name`); its id.
    pub fn create_coupon_campaign(&self, name: &str, match_field: &str, code: &str) -> String {
        let mut fields = Map::new();
        fields.insert("Name".into(), json!(name));
        fields.insert("IsActive".into(), json!(true));
        if match_field != "Name" {
            fields.insert(match_field.to_owned(), json!(code));
        }
        self.create_as_user("Campaign", fields)
    }
}

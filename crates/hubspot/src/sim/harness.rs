//! The HubSpot simulator seen by the pair harness ([`CrmSimulator`]).

use std::sync::Arc;

use async_trait::async_trait;
use cartograph_connector::{CrmSink, CrmSource, Result};
use cartograph_model::EnrollmentTarget;
use cartograph_sim::{CrmSimulator, FaultRates, SimRecordView};

use super::{HubSpotSim, SimRecord};
use crate::HubSpot;

fn view(record: SimRecord) -> SimRecordView {
    SimRecordView {
        id: record.id,
        properties: record.properties,
    }
}

impl HubSpotSim {
    fn connector(&self) -> Result<Arc<HubSpot>> {
        Ok(Arc::new(HubSpot::new(self.connector_config()?.build()?)?))
    }
}

#[async_trait]
impl CrmSimulator for HubSpotSim {
    fn name(&self) -> &str {
        crate::profile::PROFILE_NAME
    }

    fn base_url(&self) -> String {
        HubSpotSim::base_url(self).to_owned()
    }

    fn sink(&self) -> Result<Arc<dyn CrmSink>> {
        Ok(self.connector()? as Arc<dyn CrmSink>)
    }

    fn crm_source(&self) -> Result<Option<Arc<dyn CrmSource>>> {
        Ok(Some(self.connector()? as Arc<dyn CrmSource>))
    }

    async fn deliver_webhooks_to(&self, url: &str) -> Result<()> {
        self.set_webhook_target(url);
        Ok(())
    }

    fn contacts(&self) -> Vec<SimRecordView> {
        self.records("contacts").into_iter().map(view).collect()
    }

    fn contact_by_email(&self, email: &str) -> Option<SimRecordView> {
        HubSpotSim::contact_by_email(self, email).map(view)
    }

    fn order_records(&self) -> Vec<SimRecordView> {
        let mut records = self.records("deals");
        records.extend(self.records("orders"));
        records.into_iter().map(view).collect()
    }

    fn edit_order_record(&self, id: &str, property: &str, value: &str) -> bool {
        self.update("deals", id, &[(property, value)])
            || self.update("orders", id, &[(property, value)])
    }

    fn delete_order_record(&self, id: &str) -> bool {
        self.archive("deals", id) || self.archive("orders", id)
    }

    fn tasks(&self) -> Vec<SimRecordView> {
        self.records("tasks").into_iter().map(view).collect()
    }

    fn enrollments(&self) -> Vec<(String, String)> {
        HubSpotSim::enrollments(self)
    }

    fn request_count(&self) -> u64 {
        self.requests().len() as u64
    }

    fn create_enrollment_target(&self, name: &str) -> Option<EnrollmentTarget> {
        Some(EnrollmentTarget::List {
            id: self.create_list(name, "MANUAL"),
        })
    }

    fn enrolled_in(&self, target: &EnrollmentTarget) -> usize {
        match target {
            EnrollmentTarget::List { id } => self.list_members(id).len(),
            EnrollmentTarget::Workflow { id } => {
                self.enrollments().iter().filter(|(_, w)| w == id).count()
            }
            _ => 0,
        }
    }

    fn set_fault_rates(&self, rate_limited: f64, server_errors: f64) {
        self.faults().set_rates(FaultRates {
            rate_limited,
            server_error: server_errors,
            ..self.config().faults
        });
    }

    fn record_counts(&self) -> Vec<(String, usize)> {
        ["contacts", "deals", "line_items", "products", "tasks"]
            .into_iter()
            .map(|object| (object.replace('_', " "), self.records(object).len()))
            .collect()
    }
}

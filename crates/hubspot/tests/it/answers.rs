//! Every answer the simulator gives the connector validates against the response schema of
//! the matching operation in HubSpot's OpenAPI files (`../shared/specs/hubspot`, or
//! `$CARTOGRAPH_SPECS/hubspot`, read at test time, never copied), in both path flavours.
//! So the simulator cannot agree with a connector that misreads HubSpot: it must answer
//! what HubSpot documents.
//!
//! Not checked, by path: the OAuth token call and the legacy v2 enrollment (no spec file
//! in the collection for either). Spec defects tolerated here are listed in
//! `docs/connectors/hubspot.md` ("Spec defects").

use cartograph_hubspot::ApiFlavor;
use cartograph_model::OrderObject;
use cartograph_testkit::openapi::{self, Answer, ApiSpec, Verdict};
use serde_json::Value;

use crate::spec::{SPEC_AREAS, exercise};

/// Divergences that are the spec's, not the simulator's (`docs/connectors/hubspot.md`,
/// "Spec defects"):
/// 1. `Error` lists no `status`, though HubSpot's error bodies carry `"status": "error"`.
/// 2. Object `properties` values are typed `string`; HubSpot answers `null` for a
///    requested property that has no value.
fn spec_defect(status: u16, error: &str) -> bool {
    (status >= 400 && error == "$.status: not in the schema")
        || (error.contains(".properties.") && error.ends_with("expected string, got null"))
}

fn load() -> Option<ApiSpec> {
    let root = openapi::vendor_specs("hubspot/PublicApiSpecs/CRM", "HubSpot")?;
    let mut spec = ApiSpec::default().strict();
    for area in SPEC_AREAS {
        for file in openapi::files(&root.join(area), &[".json"]) {
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let name = file.strip_prefix(&root).unwrap().display().to_string();
            spec.add(name, doc, "");
        }
    }
    assert!(
        spec.operation_count() > 50,
        "spec files were not read: {} operations",
        spec.operation_count()
    );
    Some(spec)
}

#[tokio::test]
async fn every_simulator_answer_validates_against_the_hubspot_spec() {
    let Some(spec) = load() else { return };
    let mut answers = Vec::new();
    for (flavor, object) in [
        (ApiFlavor::V3, OrderObject::Deal),
        (ApiFlavor::Dated202603, OrderObject::Order),
    ] {
        answers.extend(
            exercise(flavor, object)
                .await
                .1
                .iter()
                .filter(|e| e.path != "/oauth/v1/token" && !e.path.starts_with("/automation/v2/"))
                .map(|e| Answer::new(&e.method, &e.path, e.status, &e.body)),
        );
    }
    let report = spec.check_answers(answers, true, |_, _, status, e| spec_defect(status, e));
    report.assert_clean("HubSpot");
    for must in [
        "POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create",
        "POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/associate/default",
        "POST /crm/v3/objects/contacts/batch/upsert",
        "POST /crm/v3/objects/contacts/search",
        "POST /crm/associations/2026-03/{fromObjectType}/{toObjectType}/batch/create",
    ] {
        assert!(
            report.covers(must),
            "operation {must} was not exercised: {:?}",
            report.checked
        );
    }
}

#[test]
fn the_labelled_association_answer_of_the_old_simulator_is_rejected() {
    let Some(spec) = load() else { return };
    // What the simulator answered before: the connector's own (wrong) shape.
    let old = serde_json::json!({"status": "COMPLETE", "startedAt": "2024-01-01T00:00:00Z",
        "completedAt": "2024-01-01T00:00:01Z",
        "results": [{"from": {"id": "1"}, "to": {"id": "2"},
                     "associationSpec": {"associationCategory": "USER_DEFINED", "associationTypeId": 5}}]});
    let Verdict::Invalid(errors) = spec.check(
        "POST",
        "/crm/v4/associations/contacts/companies/batch/create",
        201,
        Some(&old),
    ) else {
        panic!("the old answer must not validate");
    };
    assert!(
        errors
            .iter()
            .any(|e| e.contains("required field fromObjectId is missing")),
        "{errors:?}"
    );
}

//! The default mapping file loads and every mapping the profile names compiles.

use cartograph_core::mapping::MappingFile;
use cartograph_salesforce::profile::DEFAULT_MAPPING;

#[test]
fn default_mapping_file_compiles_every_profile_mapping() {
    let profile = cartograph_salesforce::profile();
    let file = MappingFile::from_toml(DEFAULT_MAPPING).expect("mapping file loads");
    let mut names = vec![
        profile.mappings.contact.clone(),
        profile.mappings.order.clone(),
        "lead".to_owned(),
        "account".to_owned(),
        "order".to_owned(),
        "case".to_owned(),
    ];
    names.extend(profile.mappings.line_item.clone());
    names.extend(profile.mappings.product.clone());
    assert_eq!(names.len(), 8, "the profile names line items and products");
    for name in names {
        if let Err(e) = file.compile(&name, &[]) {
            panic!("mapping {name} does not compile: {e:?}");
        }
    }
}

//! The default mapping file loads and every mapping the profile names compiles.

use cartograph_core::mapping::MappingFile;

#[test]
fn default_mapping_file_compiles_every_profile_mapping() {
    let profile = cartograph_activecampaign::profile();
    let file = MappingFile::from_toml(&profile.mapping_toml).expect("mapping file loads");
    let mut names = vec![
        profile.mappings.contact.clone(),
        profile.mappings.order.clone(),
        "ecom_customer".to_owned(),
    ];
    names.extend(profile.mappings.line_item.clone());
    for name in names {
        if let Err(e) = file.compile(&name, &[]) {
            panic!("mapping {name} does not compile: {e:?}");
        }
    }
}

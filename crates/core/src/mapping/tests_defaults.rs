//! The CRM crates' default mapping files, read by core's own tests (the files live in the
//! vendor crates that own them; core names no vendor outside tests).

use super::{LoadError, MappingFile};

pub(crate) fn hubspot() -> Result<MappingFile, LoadError> {
    MappingFile::from_toml(include_str!("../../../hubspot/mappings/hubspot.toml"))
}

pub(crate) fn salesforce() -> Result<MappingFile, LoadError> {
    MappingFile::from_toml(include_str!("../../../salesforce/mappings/salesforce.toml"))
}

pub(crate) fn activecampaign() -> Result<MappingFile, LoadError> {
    MappingFile::from_toml(include_str!(
        "../../../activecampaign/mappings/activecampaign.toml"
    ))
}

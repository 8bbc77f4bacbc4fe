//! Cross-system links: (system, external id) -> person -> CRM record id per CRM.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::person::PersonId;

/// A record in a system: `("bigcommerce", "42")`, `("hubspot", "1001")`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExternalKey {
    /// The system (connector instance name).
    pub system: String,
    /// The record's id there.
    pub id: String,
}

impl ExternalKey {
    /// A key.
    pub fn new(system: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            system: system.into(),
            id: id.into(),
        }
    }
}

/// Everything linked to one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonLinks {
    /// The person.
    pub person: PersonId,
    /// Store and CRM records that are this person.
    #[serde(default)]
    pub sources: BTreeSet<ExternalKey>,
    /// The one record per CRM (CRM system name -> record id) this person is written to.
    #[serde(default)]
    pub crm: BTreeMap<String, String>,
}

/// A link that would contradict an existing one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The source record already belongs to another person.
    #[error("{}/{} is already linked to person {person}", key.system, key.id)]
    SourceLinked {
        /// The source record.
        key: ExternalKey,
        /// Its current person.
        person: PersonId,
    },
    /// The CRM record already belongs to another person.
    #[error("CRM record {crm}/{id} is already linked to person {person}")]
    CrmLinked {
        /// CRM system.
        crm: String,
        /// CRM record id.
        id: String,
        /// Its current person.
        person: PersonId,
    },
    /// The person is not known.
    #[error("unknown person {0}")]
    UnknownPerson(PersonId),
}

/// The link graph the sync runtime stores. Serializes as a list of [`PersonLinks`].
///
/// ```
/// use cartograph_core::identity::{ExternalKey, LinkGraph, PersonId};
///
/// let mut g = LinkGraph::default();
/// let jane = PersonId::new("p1");
/// g.link_source(ExternalKey::new("bigcommerce", "42"), &jane)?;
/// g.link_source(ExternalKey::new("commercetools", "c-9"), &jane)?;
/// g.set_crm_record(&jane, "hubspot", "1001")?;
/// assert_eq!(g.crm_record_for_source(&ExternalKey::new("commercetools", "c-9"), "hubspot"), Some("1001"));
/// let json = serde_json::to_string(&g).unwrap();
/// assert_eq!(serde_json::from_str::<LinkGraph>(&json).unwrap(), g);
/// # Ok::<(), cartograph_core::identity::LinkError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<PersonLinks>", into = "Vec<PersonLinks>")]
pub struct LinkGraph {
    persons: BTreeMap<PersonId, PersonLinks>,
    by_source: HashMap<ExternalKey, PersonId>,
    by_crm: HashMap<(String, String), PersonId>,
}

impl From<Vec<PersonLinks>> for LinkGraph {
    fn from(list: Vec<PersonLinks>) -> Self {
        let mut g = Self::default();
        for p in list {
            for s in &p.sources {
                g.by_source.insert(s.clone(), p.person.clone());
            }
            for (crm, id) in &p.crm {
                g.by_crm.insert((crm.clone(), id.clone()), p.person.clone());
            }
            g.persons.insert(p.person.clone(), p);
        }
        g
    }
}

impl From<LinkGraph> for Vec<PersonLinks> {
    fn from(g: LinkGraph) -> Self {
        g.persons.into_values().collect()
    }
}

impl LinkGraph {
    fn entry(&mut self, person: &PersonId) -> &mut PersonLinks {
        self.persons
            .entry(person.clone())
            .or_insert_with(|| PersonLinks {
                person: person.clone(),
                sources: BTreeSet::new(),
                crm: BTreeMap::new(),
            })
    }

    /// Links a source record to a person (idempotent).
    pub fn link_source(&mut self, key: ExternalKey, person: &PersonId) -> Result<(), LinkError> {
        if let Some(current) = self.by_source.get(&key) {
            if current == person {
                return Ok(());
            }
            return Err(LinkError::SourceLinked {
                key,
                person: current.clone(),
            });
        }
        self.by_source.insert(key.clone(), person.clone());
        self.entry(person).sources.insert(key);
        Ok(())
    }

    /// Sets the person's record in one CRM; returns the record id it replaces, if any.
    pub fn set_crm_record(
        &mut self,
        person: &PersonId,
        crm: &str,
        id: &str,
    ) -> Result<Option<String>, LinkError> {
        let k = (crm.to_owned(), id.to_owned());
        if let Some(current) = self.by_crm.get(&k)
            && current != person
        {
            return Err(LinkError::CrmLinked {
                crm: k.0,
                id: k.1,
                person: current.clone(),
            });
        }
        let old = self.entry(person).crm.insert(crm.to_owned(), id.to_owned());
        if let Some(o) = &old {
            self.by_crm.remove(&(crm.to_owned(), o.clone()));
        }
        self.by_crm.insert(k, person.clone());
        Ok(old.filter(|o| o != id))
    }

    /// The person a source record belongs to.
    pub fn person_of(&self, key: &ExternalKey) -> Option<&PersonId> {
        self.by_source.get(key)
    }

    /// The person a CRM record belongs to.
    pub fn person_of_crm(&self, crm: &str, id: &str) -> Option<&PersonId> {
        self.by_crm.get(&(crm.to_owned(), id.to_owned()))
    }

    /// The person's record id in one CRM.
    pub fn crm_record(&self, person: &PersonId, crm: &str) -> Option<&str> {
        self.persons.get(person)?.crm.get(crm).map(String::as_str)
    }

    /// The CRM record a source record is written to.
    pub fn crm_record_for_source(&self, key: &ExternalKey, crm: &str) -> Option<&str> {
        self.crm_record(self.person_of(key)?, crm)
    }

    /// Everything linked to a person.
    pub fn person(&self, person: &PersonId) -> Option<&PersonLinks> {
        self.persons.get(person)
    }

    /// All people, by id.
    pub fn persons(&self) -> impl Iterator<Item = &PersonLinks> {
        self.persons.values()
    }

    /// Merges `from` into `into` (after review). Returns the CRM records of `from` that lost
    /// because `into` already has a record in that CRM: merge those in the CRM itself.
    pub fn merge(
        &mut self,
        from: &PersonId,
        into: &PersonId,
    ) -> Result<Vec<(String, String)>, LinkError> {
        if from == into {
            return Ok(Vec::new());
        }
        let gone = self
            .persons
            .remove(from)
            .ok_or_else(|| LinkError::UnknownPerson(from.clone()))?;
        let mut displaced = Vec::new();
        for s in gone.sources {
            self.by_source.insert(s.clone(), into.clone());
            self.entry(into).sources.insert(s);
        }
        for (crm, id) in gone.crm {
            self.by_crm.remove(&(crm.clone(), id.clone()));
            if self.entry(into).crm.contains_key(&crm) {
                displaced.push((crm, id));
            } else {
                self.by_crm.insert((crm.clone(), id.clone()), into.clone());
                self.entry(into).crm.insert(crm, id);
            }
        }
        Ok(displaced)
    }
}

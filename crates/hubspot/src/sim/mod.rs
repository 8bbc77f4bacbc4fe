//! The stateful HubSpot portal simulator (being written).

//! Reading back: contacts changed since a time (search on `lastmodifieddate`, ascending,
//! moving the window forward instead of paging past HubSpot's 10,000-result cap) and list
//! memberships.

use cartograph_connector::{Cursor, Error, ErrorKind, ListRequest, Page, Result};
use cartograph_http::Request;
use cartograph_http::url::path_segment;
use cartograph_model::{CrmContact, MembershipChange};

use super::HubSpotClient;
use crate::error::CONNECTOR;
use crate::map::{contact_from_wire, parse_hubspot_time};
use crate::wire::{Filter, FilterGroup, MembershipsPage, SearchRequest, SearchResponse, Sort};

/// Results one search query can reach (`after + limit` must stay within it).
pub const SEARCH_CAP: u64 = 10_000;

/// Position in a contact delta listing: the window start (epoch ms, inclusive), the offset
/// inside the window, and ids at the window start already returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchCursor {
    /// Window start, epoch milliseconds (`lastmodifieddate >= since_ms`).
    pub since_ms: i64,
    /// HubSpot's `after` inside the window.
    pub after: u64,
    /// Ids already returned that sit exactly on `since_ms`.
    pub skip: Vec<String>,
}

impl SearchCursor {
    /// Encodes as `v1|since|after|id,id`.
    pub fn encode(&self) -> Cursor {
        Cursor::new(format!(
            "v1|{}|{}|{}",
            self.since_ms,
            self.after,
            self.skip.join(",")
        ))
    }

    /// Decodes [`SearchCursor::encode`]'s form.
    ///
    /// # Errors
    /// [`ErrorKind::Invalid`] for a cursor this connector did not make.
    pub fn decode(cursor: &Cursor) -> Result<Self> {
        let bad = || {
            Error::new(ErrorKind::Invalid, "not a HubSpot contact cursor")
                .with_connector(CONNECTOR)
                .with_operation("list_contacts")
                .with_field("cursor")
        };
        let mut parts = cursor.as_str().splitn(4, '|');
        if parts.next() != Some("v1") {
            return Err(bad());
        }
        let since_ms = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let after = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let skip = parts
            .next()
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(Self {
            since_ms,
            after,
            skip,
        })
    }
}

impl HubSpotClient {
    /// Contacts modified at or after `request.since`, oldest first.
    ///
    /// # Errors
    /// The call failed, or more than 10,000 contacts share one `lastmodifieddate`.
    pub async fn list_contacts(&self, request: &ListRequest) -> Result<Page<CrmContact>> {
        const OP: &str = "list_contacts";
        let cursor = match &request.cursor {
            Some(c) => SearchCursor::decode(c)?,
            None => SearchCursor {
                since_ms: request.since.map_or(0, |t| t.unix_millis()),
                after: 0,
                skip: Vec::new(),
            },
        };
        let limit = request.limit.unwrap_or(100).clamp(1, 200);
        let mut properties = self.config.mapping.contact_read_properties.clone();
        if !properties.iter().any(|p| p == "lastmodifieddate") {
            properties.push("lastmodifieddate".into());
        }
        let body = SearchRequest {
            filter_groups: vec![FilterGroup {
                filters: vec![Filter {
                    property_name: "lastmodifieddate".into(),
                    operator: "GTE".into(),
                    value: Some(cursor.since_ms.to_string()),
                }],
            }],
            sorts: vec![Sort {
                property_name: "lastmodifieddate".into(),
                direction: "ASCENDING".into(),
            }],
            properties,
            limit,
            after: cursor.after.to_string(),
        };
        let http = Request::post(format!("{}/search", self.paths.objects("contacts")))
            .operation(OP)
            .serialize_json(&body)?
            .retry_safe(true);
        let page: SearchResponse = self.send(http).await?.json()?;
        let last_ms = page
            .results
            .last()
            .and_then(|o| o.prop("lastmodifieddate").and_then(parse_hubspot_time))
            .map(|t| t.unix_millis());
        let items: Vec<CrmContact> = page
            .results
            .iter()
            .filter(|o| !cursor.skip.contains(&o.id))
            .map(contact_from_wire)
            .collect();
        let next_after = page
            .paging
            .and_then(|p| p.next)
            .and_then(|n| n.after.parse::<u64>().ok());
        let next = match next_after {
            None => None,
            Some(after) if after + u64::from(limit) <= SEARCH_CAP => Some(SearchCursor {
                after,
                ..cursor.clone()
            }),
            Some(_) => {
                // The next page would pass the cap: restart the window at the last
                // modification time seen, skipping what was already returned there.
                let since_ms = last_ms.ok_or_else(|| {
                    Error::new(ErrorKind::Decode, "search result has no lastmodifieddate")
                        .with_connector(CONNECTOR)
                        .with_operation(OP)
                        .with_field("results[].properties.lastmodifieddate")
                })?;
                if since_ms == cursor.since_ms {
                    return Err(Error::new(
                        ErrorKind::Other,
                        "more than 10,000 contacts share one lastmodifieddate: the search window cannot move",
                    )
                    .with_connector(CONNECTOR)
                    .with_operation(OP));
                }
                let skip = page
                    .results
                    .iter()
                    .filter(|o| {
                        o.prop("lastmodifieddate")
                            .and_then(parse_hubspot_time)
                            .is_some_and(|t| t.unix_millis() == since_ms)
                    })
                    .map(|o| o.id.clone())
                    .collect();
                Some(SearchCursor {
                    since_ms,
                    after: 0,
                    skip,
                })
            }
        };
        Ok(Page {
            items,
            next: next.map(|c| c.encode()),
        })
    }

    /// Members of a list in join order, as "joined" changes at or after `request.since`.
    ///
    /// # Errors
    /// The call failed.
    pub async fn list_memberships(
        &self,
        list_id: &str,
        request: &ListRequest,
    ) -> Result<Page<MembershipChange>> {
        const OP: &str = "list_memberships";
        let limit = request.limit.unwrap_or(100).clamp(1, 250);
        let mut http = Request::get(format!(
            "{}/{}/memberships/join-order",
            self.paths.lists(),
            path_segment(list_id, "list id")?
        ))
        .operation(OP)
        .query("limit", limit.to_string());
        if let Some(c) = &request.cursor {
            http = http.query("after", c.as_str());
        }
        let page: MembershipsPage = self.send(http).await?.json()?;
        let mut items = Vec::new();
        for (n, m) in page.results.into_iter().enumerate() {
            let at = parse_hubspot_time(&m.membership_timestamp).ok_or_else(|| {
                Error::new(ErrorKind::Decode, "bad membershipTimestamp")
                    .with_connector(CONNECTOR)
                    .with_operation(OP)
                    .with_field(format!("results[{n}].membershipTimestamp"))
            })?;
            if request.since.is_some_and(|s| at < s) {
                continue;
            }
            items.push(MembershipChange {
                list_id: list_id.to_owned(),
                contact_crm_id: m.record_id,
                added: true,
                at,
            });
        }
        Ok(Page {
            items,
            next: page
                .paging
                .and_then(|p| p.next)
                .map(|n| Cursor::new(n.after)),
        })
    }
}

//! [`Client`]: typed commercetools calls over the shared [`HttpClient`] with OAuth2 client
//! credentials, returning wire types.
//!
//! Every listing is **keyset paged**: `sort=lastModifiedAt asc&sort=id asc`, a `where` on the
//! last seen `(lastModifiedAt, id)`, `withTotal=false`, never `offset` (capped at 10,000 by
//! the API).

use std::sync::Arc;

use cartograph_connector::{Cursor, Error, ErrorKind, Result};
use cartograph_http::{HttpClient, OAuth2, OAuth2Config, RateLimiter, Request, RequestGate};
use cartograph_model::Timestamp;
use serde::de::DeserializeOwned;

use crate::config::CommercetoolsConfig;
use crate::error::CommercetoolsPolicy;
use crate::wire;

/// The position after the last record of a page: its `(lastModifiedAt, id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyset {
    /// `lastModifiedAt` exactly as the API sent it.
    pub last_modified_at: String,
    /// The record id.
    pub id: String,
}

impl Keyset {
    /// The opaque cursor (`<lastModifiedAt>|<id>`).
    pub fn to_cursor(&self) -> Cursor {
        Cursor::new(format!("{}|{}", self.last_modified_at, self.id))
    }

    /// Parses a cursor made by [`Keyset::to_cursor`].
    ///
    /// # Errors
    /// [`ErrorKind::Invalid`] for a cursor of another shape.
    pub fn from_cursor(cursor: &Cursor) -> Result<Self> {
        let (time, id) = cursor.as_str().split_once('|').ok_or_else(|| {
            Error::new(ErrorKind::Invalid, "not a commercetools keyset cursor").with_field("cursor")
        })?;
        Timestamp::parse_rfc3339(time).map_err(|e| {
            Error::new(ErrorKind::Invalid, format!("bad cursor time: {e}")).with_field("cursor")
        })?;
        if id.is_empty() || id.contains('"') {
            return Err(Error::new(ErrorKind::Invalid, "bad cursor id").with_field("cursor"));
        }
        Ok(Self {
            last_modified_at: time.to_owned(),
            id: id.to_owned(),
        })
    }

    /// The `where` predicate selecting records after this position.
    pub fn predicate(&self) -> String {
        format!(
            "lastModifiedAt > \"{t}\" or (lastModifiedAt = \"{t}\" and id > \"{id}\")",
            t = self.last_modified_at,
            id = self.id
        )
    }
}

/// A wire resource that can be keyset paged.
pub trait Resource: DeserializeOwned + Send {
    /// The resource's `(lastModifiedAt, id)`.
    fn keyset(&self) -> Option<Keyset>;
}

macro_rules! resource {
    ($ty:ty, required) => {
        impl Resource for $ty {
            fn keyset(&self) -> Option<Keyset> {
                Some(Keyset {
                    last_modified_at: self.last_modified_at.clone(),
                    id: self.id.clone(),
                })
            }
        }
    };
    ($ty:ty, optional) => {
        impl Resource for $ty {
            fn keyset(&self) -> Option<Keyset> {
                self.last_modified_at.as_ref().map(|t| Keyset {
                    last_modified_at: t.clone(),
                    id: self.id.clone(),
                })
            }
        }
    };
}
resource!(wire::Customer, required);
resource!(wire::Order, required);
resource!(wire::Cart, required);
resource!(wire::CustomerGroup, optional);
resource!(wire::Category, optional);
resource!(wire::ProductProjection, optional);
resource!(wire::Payment, optional);
resource!(wire::Message, required);

/// A `where` predicate time (`"2026-01-01T00:00:00.000Z"` form, milliseconds, UTC).
pub fn predicate_time(t: Timestamp) -> String {
    let t = t.truncated_to_millis().as_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// One keyset page query.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Only records modified at or after this time.
    pub since: Option<Timestamp>,
    /// Continue after this position.
    pub after: Option<Keyset>,
    /// Page size (1..=500).
    pub limit: u32,
    /// Further `where` predicates (ANDed by the API).
    pub predicates: Vec<String>,
    /// `expand` paths.
    pub expand: Vec<String>,
}

/// Low-level commercetools API client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    http: HttpClient,
    config: Arc<CommercetoolsConfig>,
}

impl Client {
    /// A client with its own connection pool, token cache and retry policy.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for invalid settings.
    pub fn new(config: CommercetoolsConfig) -> Result<Self> {
        config.validate()?;
        let oauth = OAuth2Config::client_credentials(
            &config.token_url()?,
            config.client_id.clone(),
            config.client_secret.clone(),
        )?
        .with_scope(config.scope())
        .with_timeout(config.settings.timeout);
        let auth = OAuth2::new(oauth)?;
        let limiter = config
            .settings
            .rate_limit
            .map(RateLimiter::shared)
            .transpose()?;
        let http_config = config
            .settings
            .http_config(config.api_root()?, Arc::new(auth), limiter);
        let http = HttpClient::new(http_config, Arc::new(CommercetoolsPolicy))?;
        Ok(Self {
            http,
            config: Arc::new(config),
        })
    }

    /// Runs every request through `gate` (e.g. a budget shared by all workers of the
    /// account, on every machine) instead of this client's own in-process rate limiter.
    #[must_use]
    pub fn with_request_gate(mut self, gate: Arc<dyn RequestGate>) -> Self {
        self.http = self.http.with_request_gate(gate);
        self
    }

    /// Transport figures of this client.
    pub fn stats(&self) -> cartograph_connector::TransportStats {
        self.http.stats()
    }

    /// The settings.
    pub fn config(&self) -> &CommercetoolsConfig {
        &self.config
    }

    /// The underlying HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The path of a resource, store-scoped where the API allows it.
    fn path(&self, resource: &str) -> String {
        match resource {
            "customers" | "orders" | "carts" => {
                format!("{}{resource}", self.config.store_prefix())
            }
            _ => resource.to_owned(),
        }
    }

    /// One keyset page of `resource` (`customers`, `orders`, `carts`, `payments`,
    /// `categories`, `customer-groups`, `product-projections`).
    ///
    /// # Errors
    /// Transport and API errors.
    pub async fn query<T: Resource>(
        &self,
        resource: &str,
        query: &Query,
    ) -> Result<wire::PagedQueryResponse<T>> {
        let mut request = Request::get(self.path(resource))
            .operation(format!("query {resource}"))
            .query(
                "limit",
                query.limit.clamp(1, crate::config::MAX_LIMIT).to_string(),
            )
            .query("withTotal", "false")
            .query("sort", "lastModifiedAt asc")
            .query("sort", "id asc");
        if resource == "product-projections" {
            request = request.query("staged", "false");
        }
        if let Some(since) = query.since {
            request = request.query(
                "where",
                format!("lastModifiedAt >= \"{}\"", predicate_time(since)),
            );
        }
        if let Some(after) = &query.after {
            request = request.query("where", after.predicate());
        }
        for predicate in &query.predicates {
            request = request.query("where", predicate.clone());
        }
        for expand in &query.expand {
            request = request.query("expand", expand.clone());
        }
        self.http.send(request).await?.json()
    }

    /// One record by id, `None` on 404.
    ///
    /// # Errors
    /// Transport and API errors other than 404.
    pub async fn get<T: DeserializeOwned>(
        &self,
        resource: &str,
        id: &str,
        expand: &[&str],
    ) -> Result<Option<T>> {
        let id = cartograph_http::url::path_segment(id, "id")?;
        let mut request = Request::get(format!("{}/{id}", self.path(resource)))
            .operation(format!("get {resource}"));
        if resource == "product-projections" {
            request = request.query("staged", "false");
        }
        for e in expand {
            request = request.query("expand", (*e).to_owned());
        }
        match self.http.send(request).await {
            Ok(response) => response.json().map(Some),
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }
}

//! [`PgConfig`]: where the database is and how the store uses it. The connection string may
//! hold a password: it lives in [`ConnectionString`], whose `Debug` shows only host, port,
//! database and user.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use cartograph_sync::{StoreError, StoreResult};
use serde::{Deserialize, Serialize};

/// A libpq-style connection string (`host=/run/postgresql user=cartograph dbname=cartograph`)
/// or URL (`postgresql://user:password@host:5432/db`). Never printed whole.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConnectionString(String);

impl ConnectionString {
    /// Wraps a connection string.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The parsed driver settings.
    pub(crate) fn parse(&self) -> StoreResult<tokio_postgres::Config> {
        // The driver's parse error never repeats the string, but say nothing more than that
        // it is malformed, to be sure.
        tokio_postgres::Config::from_str(&self.0).map_err(|_| {
            StoreError::Backend(
                "invalid PostgreSQL connection string (expected key=value pairs or a postgresql:// URL)"
                    .to_owned(),
            )
        })
    }
}

impl fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Ok(config) = self.parse() else {
            return f.write_str("ConnectionString(<invalid>)");
        };
        let hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .map(|h| match h {
                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        f.debug_struct("ConnectionString")
            .field("hosts", &hosts)
            .field("ports", &config.get_ports())
            .field("dbname", &config.get_dbname())
            .field("user", &config.get_user())
            .field("password", &config.get_password().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// Settings for [`PgStore`](crate::PgStore).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PgConfig {
    /// Where the database is (may carry the password; never logged).
    pub url: ConnectionString,
    /// The schema holding the store's tables (created and migrated on open). Several
    /// independent stores can share one database under different schemas. Lower-case
    /// letters, digits and `_`, starting with a letter or `_`, at most 40 characters.
    #[serde(default = "default_schema")]
    pub schema: String,
    /// Most pooled connections (the `LISTEN` connection comes on top).
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// How long to wait for a pooled connection (and to connect) before failing with a
    /// retryable error.
    #[serde(
        default = "default_connect_timeout",
        with = "cartograph_connector::serde_millis"
    )]
    pub connect_timeout: Duration,
    /// How long intake waits for more events to join a group commit once it has some.
    /// Zero commits whatever is already waiting without delay.
    #[serde(
        default = "default_group_window",
        with = "cartograph_connector::serde_millis"
    )]
    pub group_window: Duration,
    /// Most events in one intake transaction.
    #[serde(default = "default_max_group")]
    pub max_group: usize,
    /// Intake transactions in flight at once (while they commit, the next group gathers).
    #[serde(default = "default_commit_lanes")]
    pub commit_lanes: usize,
    /// Whether to open a `LISTEN` connection so [`wait_for_work`] returns as soon as an
    /// event is queued anywhere; without it idle workers poll.
    ///
    /// [`wait_for_work`]: cartograph_sync::Store::wait_for_work
    #[serde(default = "default_listen")]
    pub listen: bool,
}

fn default_schema() -> String {
    "cartograph".to_owned()
}

fn default_pool_size() -> usize {
    8
}

fn default_connect_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_group_window() -> Duration {
    Duration::from_millis(1)
}

fn default_max_group() -> usize {
    1024
}

fn default_commit_lanes() -> usize {
    2
}

fn default_listen() -> bool {
    true
}

impl PgConfig {
    /// Defaults for the database at `url`: schema `cartograph`, 8 connections, 10 s
    /// connect timeout, 1 ms group window of at most 1024 events, 2 commit lanes, `LISTEN`
    /// on.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: ConnectionString::new(url),
            schema: default_schema(),
            pool_size: default_pool_size(),
            connect_timeout: default_connect_timeout(),
            group_window: default_group_window(),
            max_group: default_max_group(),
            commit_lanes: default_commit_lanes(),
            listen: default_listen(),
        }
    }

    /// Sets the schema.
    #[must_use]
    pub fn with_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// Sets the pool size.
    #[must_use]
    pub fn with_pool_size(mut self, size: usize) -> Self {
        self.pool_size = size;
        self
    }

    /// Sets the group-commit window and size.
    #[must_use]
    pub fn with_group_commit(mut self, window: Duration, max_group: usize) -> Self {
        self.group_window = window;
        self.max_group = max_group;
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`StoreError::Backend`] naming the bad setting.
    pub fn validate(&self) -> StoreResult<()> {
        valid_schema(&self.schema)?;
        self.url.parse()?;
        if self.pool_size == 0 || self.max_group == 0 || self.commit_lanes == 0 {
            return Err(StoreError::Backend(
                "pool_size, max_group and commit_lanes must be at least 1".to_owned(),
            ));
        }
        Ok(())
    }
}

fn valid_schema(schema: &str) -> StoreResult<()> {
    let mut chars = schema.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if first_ok && rest_ok && schema.len() <= 40 {
        Ok(())
    } else {
        Err(StoreError::Backend(format!(
            "invalid schema name {schema:?}: use lower-case letters, digits and _ (at most 40)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        for url in [
            "postgresql://carto:s3cr3t-pw@db.internal:5433/sync",
            "host=db.internal port=5433 user=carto password=s3cr3t-pw dbname=sync",
        ] {
            let config = PgConfig::new(url);
            let shown = format!("{config:?}");
            assert!(!shown.contains("s3cr3t-pw"), "{shown}");
            assert!(shown.contains("db.internal"), "{shown}");
            assert!(shown.contains("[REDACTED]"), "{shown}");
        }
        let bad = format!("{:?}", ConnectionString::new("postgresql://a:pw@[bad"));
        assert!(!bad.contains("pw"), "{bad}");
    }

    #[test]
    fn schema_names_are_checked() {
        let ok = PgConfig::new("host=/tmp");
        assert!(ok.validate().is_ok());
        for bad in ["", "Upper", "1x", "a-b", "a;drop", &"x".repeat(41)] {
            assert!(ok.clone().with_schema(bad).validate().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn serde_form_with_defaults() {
        let config: PgConfig =
            serde_json::from_str(r#"{"url": "host=/run/postgresql dbname=c", "pool_size": 4}"#)
                .expect("valid");
        assert_eq!(config.pool_size, 4);
        assert_eq!(config.schema, "cartograph");
        assert_eq!(config.group_window, Duration::from_millis(1));
        assert!(config.listen);
    }
}

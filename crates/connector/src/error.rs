//! The one error type every connector returns.
//!
//! [`Error`] is opaque: ask it questions ([`Error::kind`], [`Error::is_retryable`],
//! [`Error::retry_after`], [`Error::status`], [`Error::request_id`]) instead of matching on
//! vendor details. Messages are short vendor summaries: never a token, never a whole body.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Longest vendor message kept on an error, in characters; longer ones are cut.
pub const MAX_MESSAGE_CHARS: usize = 300;

/// What went wrong, in the terms a pipeline acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// Credentials were refused (401). For stores with non-expiring tokens this means the app
    /// was uninstalled or the API account deleted: park the source and alert.
    Unauthorized,
    /// Authenticated but not allowed (403 without a quota meaning), e.g. a missing scope.
    Forbidden,
    /// The record or endpoint does not exist (404).
    NotFound,
    /// The write conflicts with the current state (409, duplicate key, stale version).
    Conflict,
    /// The vendor rejected the input (400, 422): retrying the same input will fail again.
    Invalid,
    /// Short-window rate limit (429): retry after [`Error::retry_after`].
    RateLimited,
    /// A daily or other long-window quota is spent: never retried before the reset; the
    /// pipeline parks the work until [`Error::retry_after`].
    QuotaExhausted,
    /// The vendor is overloaded or failing (5xx, 503, platform overload).
    Unavailable,
    /// The request or the connection timed out.
    Timeout,
    /// The connection failed (refused, reset, DNS) before an answer arrived.
    Network,
    /// A response could not be decoded; the message names the JSON path.
    Decode,
    /// The connector is configured wrongly (bad URL, missing secret).
    Config,
    /// The connector does not support the operation (see its `Capabilities`).
    Unsupported,
    /// An inbound webhook failed verification (bad, missing or stale signature).
    Signature,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// Whether an operation that failed with this kind may succeed if retried soon.
    pub const fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::RateLimited | Self::Unavailable | Self::Timeout | Self::Network
        )
    }

    /// Stable lowercase name, used in logs, metrics and dead letters.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::Invalid => "invalid",
            Self::RateLimited => "rate_limited",
            Self::QuotaExhausted => "quota_exhausted",
            Self::Unavailable => "unavailable",
            Self::Timeout => "timeout",
            Self::Network => "network",
            Self::Decode => "decode",
            Self::Config => "config",
            Self::Unsupported => "unsupported",
            Self::Signature => "signature",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A connector error: kind, where it happened, and what the vendor said.
///
/// Cheap to clone (one batch failure is reported on every record of the batch); clones
/// share the underlying cause.
///
/// ```
/// use cartograph_connector::{Error, ErrorKind};
/// use std::time::Duration;
///
/// let err = Error::new(ErrorKind::RateLimited, "too many requests")
///     .with_connector("bigcommerce")
///     .with_operation("list_orders")
///     .with_status(429)
///     .with_retry_after(Duration::from_millis(1500));
/// assert!(err.is_retryable());
/// assert_eq!(err.retry_after(), Some(Duration::from_millis(1500)));
/// assert_eq!(
///     err.to_string(),
///     "bigcommerce list_orders: rate_limited: too many requests (HTTP 429, retry after 1500 ms)"
/// );
/// ```
#[derive(Clone)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    connector: Cow<'static, str>,
    operation: Cow<'static, str>,
    message: String,
    status: Option<u16>,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    vendor_code: Option<String>,
    record: Option<String>,
    field: Option<String>,
    retryable: Option<bool>,
    source: Option<Arc<dyn StdError + Send + Sync + 'static>>,
}

impl Error {
    /// A new error of `kind` with a short message (cut at [`MAX_MESSAGE_CHARS`]).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                connector: Cow::Borrowed(""),
                operation: Cow::Borrowed(""),
                message: truncate(message.into()),
                status: None,
                request_id: None,
                retry_after: None,
                vendor_code: None,
                record: None,
                field: None,
                retryable: None,
                source: None,
            }),
        }
    }

    /// Shorthand for an [`ErrorKind::Unsupported`] error naming the operation.
    pub fn unsupported(connector: impl Into<Cow<'static, str>>, operation: &'static str) -> Self {
        Self::new(ErrorKind::Unsupported, "operation not supported")
            .with_connector(connector)
            .with_operation(operation)
    }

    /// Shorthand for an [`ErrorKind::Invalid`] error about one field of one record.
    pub fn invalid_field(
        record: impl Into<String>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::new(ErrorKind::Invalid, reason)
            .with_record(record)
            .with_field(field)
    }

    /// Names the connector (e.g. `"hubspot"`).
    #[must_use]
    pub fn with_connector(mut self, connector: impl Into<Cow<'static, str>>) -> Self {
        self.inner.connector = connector.into();
        self
    }

    /// Names the operation (e.g. `"upsert_contacts"`).
    #[must_use]
    pub fn with_operation(mut self, operation: impl Into<Cow<'static, str>>) -> Self {
        self.inner.operation = operation.into();
        self
    }

    /// Records the HTTP status.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.inner.status = Some(status);
        self
    }

    /// Records the vendor's request or correlation id.
    #[must_use]
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.inner.request_id = Some(id.into());
        self
    }

    /// How long to wait before trying again (or, for [`ErrorKind::QuotaExhausted`], until the
    /// quota resets).
    #[must_use]
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.inner.retry_after = Some(after);
        self
    }

    /// The vendor's own error code or category (e.g. `PROPERTY_DOESNT_EXIST`).
    #[must_use]
    pub fn with_vendor_code(mut self, code: impl Into<String>) -> Self {
        self.inner.vendor_code = Some(code.into());
        self
    }

    /// Names the record the error is about (a source reference or input key).
    #[must_use]
    pub fn with_record(mut self, record: impl Into<String>) -> Self {
        self.inner.record = Some(record.into());
        self
    }

    /// Names the field (or JSON path) the error is about.
    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.inner.field = Some(field.into());
        self
    }

    /// Overrides the retry decision derived from the kind (e.g. a 5xx on a batch the vendor
    /// documents as non-retryable).
    #[must_use]
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.inner.retryable = Some(retryable);
        self
    }

    /// Attaches the underlying cause. The cause's `Display` must not contain secrets.
    #[must_use]
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.inner.source = Some(Arc::new(source));
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Whether retrying soon may succeed.
    pub fn is_retryable(&self) -> bool {
        self.inner
            .retryable
            .unwrap_or_else(|| self.inner.kind.is_retryable())
    }

    /// How long to wait before retrying, when the vendor said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// The HTTP status, when there was a response.
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// The vendor's request or correlation id.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// The vendor's error code or category.
    pub fn vendor_code(&self) -> Option<&str> {
        self.inner.vendor_code.as_deref()
    }

    /// The connector that failed.
    pub fn connector(&self) -> &str {
        &self.inner.connector
    }

    /// The operation that failed.
    pub fn operation(&self) -> &str {
        &self.inner.operation
    }

    /// The short message.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The record the error is about.
    pub fn record(&self) -> Option<&str> {
        self.inner.record.as_deref()
    }

    /// The field or JSON path the error is about.
    pub fn field(&self) -> Option<&str> {
        self.inner.field.as_deref()
    }

    /// Whether the error is the vendor saying "not found".
    pub fn is_not_found(&self) -> bool {
        self.inner.kind == ErrorKind::NotFound
    }

    fn render(&self) -> String {
        use fmt::Write as _;
        let i = &self.inner;
        let mut out = String::new();
        match (i.connector.is_empty(), i.operation.is_empty()) {
            (false, false) => {
                let _ = write!(out, "{} {}: ", i.connector, i.operation);
            }
            (false, true) => {
                let _ = write!(out, "{}: ", i.connector);
            }
            (true, false) => {
                let _ = write!(out, "{}: ", i.operation);
            }
            (true, true) => {}
        }
        let _ = write!(out, "{}", i.kind);
        if let Some(record) = &i.record {
            let _ = write!(out, " [record {record}");
            if let Some(field) = &i.field {
                let _ = write!(out, ", field {field}");
            }
            out.push(']');
        } else if let Some(field) = &i.field {
            let _ = write!(out, " [field {field}]");
        }
        if !i.message.is_empty() {
            let _ = write!(out, ": {}", i.message);
        }
        let mut extras = Vec::new();
        if let Some(code) = &i.vendor_code {
            extras.push(format!("code {code}"));
        }
        if let Some(status) = i.status {
            extras.push(format!("HTTP {status}"));
        }
        if let Some(id) = &i.request_id {
            extras.push(format!("request id {id}"));
        }
        if let Some(after) = i.retry_after {
            extras.push(format!("retry after {} ms", after.as_millis()));
        }
        if !extras.is_empty() {
            let _ = write!(out, " ({})", extras.join(", "));
        }
        out
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Error")
            .field("kind", &i.kind)
            .field("connector", &i.connector)
            .field("operation", &i.operation)
            .field("message", &i.message)
            .field("status", &i.status)
            .field("request_id", &i.request_id)
            .field("retry_after", &i.retry_after)
            .field("vendor_code", &i.vendor_code)
            .field("record", &i.record)
            .field("field", &i.field)
            .field("source", &i.source.as_ref().map(ToString::to_string))
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Error::new(ErrorKind::Decode, err.to_string())
    }
}

fn truncate(mut message: String) -> String {
    if let Some((idx, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
        message.truncate(idx);
        message.push('…');
    }
    message
}

/// The result type of every connector operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_decide_retryability() {
        assert!(Error::new(ErrorKind::Unavailable, "x").is_retryable());
        assert!(!Error::new(ErrorKind::QuotaExhausted, "x").is_retryable());
        assert!(!Error::new(ErrorKind::Invalid, "x").is_retryable());
        assert!(
            !Error::new(ErrorKind::Unavailable, "x")
                .with_retryable(false)
                .is_retryable()
        );
    }

    #[test]
    fn long_messages_are_cut() {
        let err = Error::new(ErrorKind::Other, "x".repeat(1000));
        assert_eq!(err.message().chars().count(), MAX_MESSAGE_CHARS + 1);
    }

    #[test]
    fn display_names_record_and_field() {
        let err = Error::invalid_field("bigcommerce:customer:7", "email", "missing");
        assert_eq!(
            err.to_string(),
            "invalid [record bigcommerce:customer:7, field email]: missing"
        );
    }
}

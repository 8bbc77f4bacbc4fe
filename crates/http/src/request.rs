//! [`Request`] (a call described as plain data) and [`Response`].

use std::borrow::Cow;

use bytes::Bytes;
use cartograph_connector::{Error, ErrorKind, Result};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde::de::DeserializeOwned;

/// A request body.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Body {
    /// A JSON value, serialized once before the first attempt.
    Json(serde_json::Value),
    /// Pre-serialized JSON bytes, sent as they are.
    JsonBytes(Bytes),
}

/// One API call, described as plain data so vendor crates can build and test requests
/// without a network.
///
/// ```
/// use cartograph_http::Request;
///
/// let request = Request::post("/v3/customers")
///     .operation("create_customers")
///     .query("include", "addresses")
///     .json(serde_json::json!([{ "email": "a@example.com" }]))
///     .retry_safe(false);
/// assert_eq!(request.path(), "/v3/customers");
/// assert_eq!(request.query_pairs(), [("include".to_owned(), "addresses".to_owned())]);
/// ```
#[derive(Clone, Debug)]
pub struct Request {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Body>,
    headers: HeaderMap,
    operation: Cow<'static, str>,
    retry_safe: bool,
}

impl Request {
    /// A request for `path`, relative to the client's base URL.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            headers: HeaderMap::new(),
            operation: Cow::Borrowed(""),
            retry_safe: false,
        }
    }

    /// A `GET`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    /// A `POST`.
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }

    /// A `PUT`.
    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path)
    }

    /// A `PATCH`.
    pub fn patch(path: impl Into<String>) -> Self {
        Self::new(Method::PATCH, path)
    }

    /// A `DELETE`.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }

    /// Appends a query pair.
    #[must_use]
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Appends several query pairs.
    #[must_use]
    pub fn query_all<K, V>(mut self, pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.query
            .extend(pairs.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Sets a JSON body.
    #[must_use]
    pub fn json(mut self, value: serde_json::Value) -> Self {
        self.body = Some(Body::Json(value));
        self
    }

    /// Sets a pre-serialized JSON body.
    #[must_use]
    pub fn json_bytes(mut self, bytes: impl Into<Bytes>) -> Self {
        self.body = Some(Body::JsonBytes(bytes.into()));
        self
    }

    /// Serializes `value` as the JSON body.
    ///
    /// # Errors
    /// [`ErrorKind::Invalid`] when `value` cannot be serialized to JSON.
    pub fn serialize_json<T: serde::Serialize + ?Sized>(self, value: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(value).map_err(|err| {
            Error::new(
                ErrorKind::Invalid,
                format!("cannot serialize request body: {err}"),
            )
        })?;
        Ok(self.json_bytes(bytes))
    }

    /// Adds a header (e.g. `Sforce-Call-Options`); it goes out with every attempt.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Names the operation for errors and tracing (e.g. `"list_orders"`).
    #[must_use]
    pub fn operation(mut self, operation: impl Into<Cow<'static, str>>) -> Self {
        self.operation = operation.into();
        self
    }

    /// Marks a non-idempotent request (POST, PATCH) as safe to send again after an
    /// ambiguous failure (5xx, timeout), e.g. an upsert or a call with an idempotency key.
    /// Idempotent methods are always retried; a 429 or a failed connect is always safe.
    #[must_use]
    pub fn retry_safe(mut self, safe: bool) -> Self {
        self.retry_safe = safe;
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path, relative to the base URL.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query pairs, in order.
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }

    /// The body, if any.
    pub fn body(&self) -> Option<&Body> {
        self.body.as_ref()
    }

    /// The extra headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The operation name (empty if unset).
    pub fn operation_name(&self) -> &str {
        &self.operation
    }

    pub(crate) fn operation_cow(&self) -> Cow<'static, str> {
        self.operation.clone()
    }

    /// Whether the request may be replayed after an ambiguous failure (its method is
    /// idempotent or it was marked [`Request::retry_safe`]).
    pub fn is_replayable(&self) -> bool {
        self.retry_safe || crate::retry::is_idempotent(&self.method)
    }

    pub(crate) fn body_bytes(&self) -> Result<Option<Bytes>> {
        match &self.body {
            None => Ok(None),
            Some(Body::JsonBytes(bytes)) => Ok(Some(bytes.clone())),
            Some(Body::Json(value)) => serde_json::to_vec(value)
                .map(|bytes| Some(Bytes::from(bytes)))
                .map_err(|err| {
                    Error::new(
                        ErrorKind::Invalid,
                        format!("cannot serialize request body: {err}"),
                    )
                }),
        }
    }
}

/// A successful response (per the vendor policy's `is_success`).
#[derive(Clone, Debug)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
    connector: Cow<'static, str>,
    operation: Cow<'static, str>,
}

impl Response {
    /// A response (for tests and simulators; the client builds its own).
    pub fn new(status: u16, headers: HeaderMap, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            headers,
            body: body.into(),
            connector: Cow::Borrowed(""),
            operation: Cow::Borrowed(""),
        }
    }

    /// Names the connector and operation put on decode errors.
    #[must_use]
    pub fn with_context(
        mut self,
        connector: impl Into<Cow<'static, str>>,
        operation: impl Into<Cow<'static, str>>,
    ) -> Self {
        self.connector = connector.into();
        self.operation = operation.into();
        self
    }

    /// Whether there is no body (e.g. 204, or BigCommerce v2 past the last page).
    pub fn is_empty(&self) -> bool {
        self.body.iter().all(u8::is_ascii_whitespace)
    }

    /// Decodes the JSON body. A failure is an [`ErrorKind::Decode`] error whose
    /// [`Error::field`] is the JSON path that failed (e.g. `data[3].id`).
    ///
    /// ```
    /// use cartograph_http::Response;
    /// use cartograph_connector::ErrorKind;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Page { data: Vec<Item> }
    /// #[derive(serde::Deserialize)]
    /// struct Item { id: u64 }
    ///
    /// let response = Response::new(200, Default::default(), r#"{"data":[{"id":1},{"id":"x"}]}"#);
    /// let err = response.json::<Page>().err().expect("bad id");
    /// assert_eq!(err.kind(), ErrorKind::Decode);
    /// assert_eq!(err.field(), Some("data[1].id"));
    /// ```
    ///
    /// The happy path is a plain `serde_json` decode; only a body that fails is decoded a
    /// second time with path tracking to name the failing field, so correct bodies do not
    /// pay for it.
    ///
    /// # Errors
    /// [`ErrorKind::Decode`] naming the failing path.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        match serde_json::from_slice(&self.body) {
            Ok(value) => Ok(value),
            Err(first) => Err(self.json_error::<T>(&first)),
        }
    }

    /// The error of a body that failed to decode as `T`: decoded again with
    /// `serde_path_to_error` to find the failing path (or trailing data).
    #[cold]
    #[inline(never)]
    fn json_error<T: DeserializeOwned>(&self, first: &serde_json::Error) -> Error {
        let mut deserializer = serde_json::Deserializer::from_slice(&self.body);
        let err = match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
            Err(err) => return self.decode_error(&err),
            Ok(_) => match deserializer.end() {
                Err(err) => err,
                // Decoding is deterministic, so the second pass fails too; keep the first
                // error should it not.
                Ok(()) => return self.decode_error_plain(first),
            },
        };
        Error::new(
            ErrorKind::Decode,
            format!("trailing data after JSON body: {err}"),
        )
        .with_connector(self.connector.clone())
        .with_operation(self.operation.clone())
        .with_status(self.status)
    }

    fn decode_error_plain(&self, err: &serde_json::Error) -> Error {
        Error::new(ErrorKind::Decode, format!("cannot decode response: {err}"))
            .with_connector(self.connector.clone())
            .with_operation(self.operation.clone())
            .with_status(self.status)
    }

    /// Like [`Response::json`], but an empty body gives `None`.
    ///
    /// # Errors
    /// As for [`Response::json`].
    pub fn json_opt<T: DeserializeOwned>(&self) -> Result<Option<T>> {
        if self.is_empty() {
            Ok(None)
        } else {
            self.json().map(Some)
        }
    }

    fn decode_error(&self, err: &serde_path_to_error::Error<serde_json::Error>) -> Error {
        let path = err.path().to_string();
        Error::new(
            ErrorKind::Decode,
            format!("cannot decode response at {path}: {}", err.inner()),
        )
        .with_connector(self.connector.clone())
        .with_operation(self.operation.clone())
        .with_status(self.status)
        .with_field(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replayable_by_method_or_flag() {
        assert!(Request::get("x").is_replayable());
        assert!(Request::put("x").is_replayable());
        assert!(!Request::post("x").is_replayable());
        assert!(!Request::patch("x").is_replayable());
        assert!(Request::post("x").retry_safe(true).is_replayable());
    }

    #[test]
    fn bodies_serialize() {
        let request = Request::post("x").json(serde_json::json!({"a": 1}));
        assert_eq!(
            request.body_bytes().expect("ok").as_deref(),
            Some(&b"{\"a\":1}"[..])
        );
        let request = Request::post("x").serialize_json(&[1, 2]).expect("ok");
        assert_eq!(
            request.body_bytes().expect("ok").as_deref(),
            Some(&b"[1,2]"[..])
        );
        assert!(Request::get("x").body_bytes().expect("ok").is_none());
    }

    #[test]
    fn empty_and_nested_decode_paths() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Outer {
            results: Vec<Inner>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Inner {
            properties: std::collections::BTreeMap<String, String>,
        }
        let empty = Response::new(204, HeaderMap::new(), Bytes::new());
        assert!(empty.is_empty());
        assert_eq!(empty.json_opt::<serde_json::Value>().expect("ok"), None);
        let response = Response::new(
            200,
            HeaderMap::new(),
            r#"{"results":[{"properties":{"email":"a"}},{"properties":{"amount":5}}]}"#,
        )
        .with_context("hubspot", "list_contacts");
        let err = response.json::<Outer>().expect_err("amount is a number");
        assert_eq!(err.field(), Some("results[1].properties.amount"));
        assert_eq!(err.connector(), "hubspot");
        assert_eq!(err.operation(), "list_contacts");
        assert_eq!(err.status(), Some(200));
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Page {
        data: Vec<Item>,
    }
    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Item {
        id: u64,
        #[serde(default)]
        tags: Vec<String>,
    }

    #[test]
    fn json_fallback_names_the_failing_path_and_message() {
        let response = Response::new(
            200,
            HeaderMap::new(),
            r#"{"data":[{"id":1,"tags":["a"]},{"id":2,"tags":["b",7]}]}"#,
        )
        .with_context("bigcommerce", "list_orders");
        let err = response.json::<Page>().expect_err("7 is not a string");
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert_eq!(err.field(), Some("data[1].tags[1]"));
        assert_eq!(err.connector(), "bigcommerce");
        assert_eq!(err.operation(), "list_orders");
        assert_eq!(err.status(), Some(200));
        let text = err.to_string();
        assert!(
            text.contains("cannot decode response at data[1].tags[1]: invalid type: integer `7`"),
            "{text}"
        );
        let ok = Response::new(200, HeaderMap::new(), r#"{"data":[{"id":3}]}"#);
        assert_eq!(
            ok.json::<Page>().expect("valid"),
            Page {
                data: vec![Item {
                    id: 3,
                    tags: Vec::new()
                }]
            }
        );
    }

    #[test]
    fn json_trailing_data_is_a_decode_error() {
        let response = Response::new(200, HeaderMap::new(), r#"{"data":[]} x"#)
            .with_context("hubspot", "batch_read");
        let err = response.json::<Page>().expect_err("trailing x");
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert_eq!(err.field(), None);
        assert!(
            err.to_string().contains("trailing data after JSON body"),
            "{err}"
        );
        assert_eq!(err.operation(), "batch_read");
    }
}

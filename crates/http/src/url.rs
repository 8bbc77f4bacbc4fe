//! [`BaseUrl`]: a vendor base URL whose path prefix survives joins.

use std::fmt;
use std::str::FromStr;

use cartograph_connector::{Error, ErrorKind, Result};

/// A base URL such as `https://api.bigcommerce.com/stores/abc123`.
///
/// Unlike [`url::Url::join`], [`BaseUrl::join`] always appends: the path prefix of the base
/// (`/stores/abc123`) is kept whatever slashes either side carries, and a path is never read
/// as a scheme, query or fragment.
///
/// ```
/// use cartograph_http::BaseUrl;
///
/// let base = BaseUrl::parse("http://127.0.0.1:4010/stores/abc123")?;
/// assert_eq!(
///     base.join("/v3/customers")?.as_str(),
///     "http://127.0.0.1:4010/stores/abc123/v3/customers"
/// );
/// let url = base.join_with_query("v2/orders", &[("page", "2"), ("limit", "50")])?;
/// assert_eq!(url.as_str(), "http://127.0.0.1:4010/stores/abc123/v2/orders?page=2&limit=50");
/// # Ok::<(), cartograph_connector::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl {
    url: ::url::Url,
}

impl BaseUrl {
    /// Parses and checks a base URL.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the text is not a URL, the scheme is not `http` or
    /// `https`, there is no host, or it carries a query or fragment.
    pub fn parse(text: &str) -> Result<Self> {
        let url = ::url::Url::parse(text.trim())
            .map_err(|err| Error::new(ErrorKind::Config, format!("invalid base URL: {err}")))?;
        Self::from_url(url)
    }

    /// Parses a connector's base-URL setting: as [`BaseUrl::parse`], with the error naming
    /// `connector` and the config `field` it came from, so every connector reports a bad
    /// URL the same way (`hubspot: config [field base_url]: ...`).
    ///
    /// ```
    /// use cartograph_connector::ErrorKind;
    /// use cartograph_http::BaseUrl;
    ///
    /// let err = BaseUrl::parse_for("examplecrm", "base_url", "ftp://127.0.0.1").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Config);
    /// assert_eq!(err.connector(), "examplecrm");
    /// assert_eq!(err.field(), Some("base_url"));
    /// assert!(BaseUrl::parse_for("examplecrm", "base_url", "http://127.0.0.1:4010").is_ok());
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::Config`] as for [`BaseUrl::parse`], naming `connector` and `field`.
    pub fn parse_for(connector: &'static str, field: &str, text: &str) -> Result<Self> {
        Self::parse(text).map_err(|err| err.with_connector(connector).with_field(field))
    }

    /// Checks an already parsed URL (same rules as [`BaseUrl::parse`]).
    ///
    /// # Errors
    /// [`ErrorKind::Config`] as for [`BaseUrl::parse`].
    pub fn from_url(mut url: ::url::Url) -> Result<Self> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "base URL scheme must be http or https, not {:?}",
                    url.scheme()
                ),
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Error::new(ErrorKind::Config, "base URL has no host"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::new(
                ErrorKind::Config,
                "base URL must not carry a query or fragment",
            ));
        }
        let trimmed = url.path().trim_end_matches('/').to_owned();
        url.set_path(&trimmed);
        Ok(Self { url })
    }

    /// The base URL itself (no trailing slash unless it is the bare host).
    pub fn as_url(&self) -> &::url::Url {
        &self.url
    }

    /// The base URL as text.
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    /// Appends `path` to the base path. Leading slashes of `path` are ignored; a trailing
    /// slash is kept; characters that are not allowed in a path (`?`, `#`, spaces) are
    /// percent-encoded.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] if the result is not a valid URL (not expected in practice).
    pub fn join(&self, path: &str) -> Result<::url::Url> {
        let base = self.url.path().trim_end_matches('/');
        let rest = path.trim_start_matches('/');
        let mut url = self.url.clone();
        if rest.is_empty() {
            url.set_path(base);
        } else {
            url.set_path(&format!("{base}/{rest}"));
        }
        if url.cannot_be_a_base() {
            return Err(Error::new(ErrorKind::Config, "URL cannot carry a path"));
        }
        Ok(url)
    }

    /// [`BaseUrl::join`], then appends the query pairs (form-encoded, in order).
    ///
    /// # Errors
    /// As for [`BaseUrl::join`].
    pub fn join_with_query<K, V>(&self, path: &str, query: &[(K, V)]) -> Result<::url::Url>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut url = self.join(path)?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in query {
                pairs.append_pair(key.as_ref(), value.as_ref());
            }
        }
        Ok(url)
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BaseUrl").field(&self.url.as_str()).finish()
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.url.as_str())
    }
}

impl FromStr for BaseUrl {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        Self::parse(text)
    }
}

impl TryFrom<::url::Url> for BaseUrl {
    type Error = Error;

    fn try_from(url: ::url::Url) -> Result<Self> {
        Self::from_url(url)
    }
}

impl serde::Serialize for BaseUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for BaseUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Makes `value` safe as one path segment: every byte outside RFC 3986's unreserved set
/// (`A-Z a-z 0-9 - . _ ~`) and `@` (a path character emails need) is percent-encoded, so a `/`, `?` or `#` in an id can never reach
/// another resource, a query or a fragment. Use it for every id placed in a path.
///
/// ```
/// use cartograph_http::url::path_segment;
///
/// assert_eq!(path_segment("09346904-4175", "cart id")?, "09346904-4175");
/// assert_eq!(path_segment("../../v2/customers/1", "cart id")?, "..%2F..%2Fv2%2Fcustomers%2F1");
/// assert_eq!(path_segment("a b?c#d", "id")?, "a%20b%3Fc%23d");
/// assert_eq!(path_segment("a+b@example.com", "email")?, "a%2Bb@example.com");
/// assert!(path_segment("..", "id").is_err());
/// # Ok::<(), cartograph_connector::Error>(())
/// ```
///
/// # Errors
/// [`ErrorKind::Invalid`] naming `field` for an empty value or a dot segment (`.`, `..`),
/// which URL parsers resolve even when encoded.
pub fn path_segment(value: &str, field: &str) -> Result<String> {
    if value.is_empty() || value == "." || value == ".." {
        return Err(Error::new(
            ErrorKind::Invalid,
            format!("{value:?} cannot be a path segment"),
        )
        .with_field(field.to_owned()));
    }
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    Ok(out)
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

#[cfg(test)]
mod tests {
    use super::*;

    fn join(base: &str, path: &str) -> String {
        BaseUrl::parse(base)
            .expect("valid base")
            .join(path)
            .expect("joinable")
            .to_string()
    }

    #[test]
    fn join_keeps_the_path_prefix_for_every_slash_combination() {
        let want = "http://127.0.0.1:4010/stores/abc123/v3/customers";
        for base in [
            "http://127.0.0.1:4010/stores/abc123",
            "http://127.0.0.1:4010/stores/abc123/",
            "http://127.0.0.1:4010/stores/abc123//",
        ] {
            for path in ["v3/customers", "/v3/customers", "//v3/customers"] {
                assert_eq!(join(base, path), want, "{base} + {path}");
            }
        }
    }

    #[test]
    fn join_on_a_bare_host_and_empty_paths() {
        assert_eq!(
            join("https://api.hubapi.com", "/crm/v3/objects/contacts"),
            "https://api.hubapi.com/crm/v3/objects/contacts"
        );
        assert_eq!(
            join("https://api.hubapi.com/", "crm"),
            "https://api.hubapi.com/crm"
        );
        assert_eq!(join("http://h/api/3", ""), "http://h/api/3");
        assert_eq!(join("http://h/api/3/", "/"), "http://h/api/3");
    }

    #[test]
    fn join_keeps_trailing_slash_and_encodes_specials() {
        assert_eq!(join("http://h/a", "b/"), "http://h/a/b/");
        assert_eq!(join("http://h/a", "x?y#z"), "http://h/a/x%3Fy%23z");
        assert_eq!(join("http://h/a", "mailto:x"), "http://h/a/mailto:x");
    }

    #[test]
    fn join_with_query_encodes_pairs() {
        let base = BaseUrl::parse("http://h/stores/s1").expect("valid");
        let url = base
            .join_with_query(
                "/v3/customers",
                &[("email:in", "a+b@x.io"), ("limit", "10")],
            )
            .expect("joinable");
        assert_eq!(
            url.as_str(),
            "http://h/stores/s1/v3/customers?email%3Ain=a%2Bb%40x.io&limit=10"
        );
        let none: [(&str, &str); 0] = [];
        assert_eq!(
            base.join_with_query("x", &none).expect("ok").as_str(),
            "http://h/stores/s1/x"
        );
    }

    #[test]
    fn rejects_bad_urls_with_config_errors() {
        for bad in [
            "ftp://h/x",
            "file:///etc/passwd",
            "not a url",
            "http://h/x?a=1",
            "mailto:a@b",
        ] {
            let err = BaseUrl::parse(bad).expect_err(bad);
            assert_eq!(err.kind(), ErrorKind::Config, "{bad}");
        }
    }

    #[test]
    fn serde_round_trip() {
        let base: BaseUrl =
            serde_json::from_str("\"https://x.api-us1.com/api/3/\"").expect("valid");
        assert_eq!(
            serde_json::to_string(&base).expect("ser"),
            "\"https://x.api-us1.com/api/3\""
        );
        assert!(serde_json::from_str::<BaseUrl>("\"ftp://x\"").is_err());
    }
}

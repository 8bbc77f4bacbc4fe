//! HubSpot webhook signature v3: `base64(HMAC-SHA256(client_secret, method + uri + body +
//! timestamp))`, timestamp in epoch milliseconds, a 5-minute window, constant-time compare.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cartograph_connector::{Error, ErrorKind, Result, WebhookRequest};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use crate::error::CONNECTOR;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-HubSpot-Signature-v3";
/// The timestamp header (epoch milliseconds).
pub const TIMESTAMP_HEADER: &str = "X-HubSpot-Request-Timestamp";

/// Percent-encoded characters HubSpot's validation guide says to decode in the URI before
/// hashing. Verification tries the URI as received first, then this decoded form.
const DECODE: [(&str, &str); 12] = [
    ("%3A", ":"),
    ("%2F", "/"),
    ("%3F", "?"),
    ("%40", "@"),
    ("%21", "!"),
    ("%24", "$"),
    ("%27", "'"),
    ("%28", "("),
    ("%29", ")"),
    ("%2A", "*"),
    ("%2C", ","),
    ("%3B", ";"),
];

/// Computes a v3 signature (used by the simulator and by tests).
///
/// ```
/// use cartograph_hubspot::signature::sign_v3;
///
/// let sig = sign_v3("secret", "POST", "https://example.com/hook", b"[]", "1700000000000");
/// assert_eq!(sig.len(), 44); // base64 of 32 bytes
/// ```
pub fn sign_v3(secret: &str, method: &str, uri: &str, body: &[u8], timestamp: &str) -> String {
    STANDARD.encode(digest(secret, method, uri, body, timestamp))
}

fn digest(secret: &str, method: &str, uri: &str, body: &[u8], timestamp: &str) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        unreachable!("HMAC accepts keys of any length")
    };
    mac.update(method.as_bytes());
    mac.update(uri.as_bytes());
    mac.update(body);
    mac.update(timestamp.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn decoded_uri(uri: &str) -> String {
    let mut out = uri.to_owned();
    for (encoded, plain) in DECODE {
        out = out
            .replace(encoded, plain)
            .replace(&encoded.to_lowercase(), plain);
    }
    out
}

fn reject(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Signature, message)
        .with_connector(CONNECTOR)
        .with_operation("parse_webhook")
}

/// Verifies the v3 signature of `request` against `secret`, rejecting timestamps more than
/// `tolerance` away from `request.received_at`.
///
/// # Errors
/// [`ErrorKind::Signature`] when a header is missing, the timestamp is stale or not a
/// number, or the signature does not match.
pub fn verify_v3(secret: &str, request: &WebhookRequest, tolerance: Duration) -> Result<()> {
    let signature = request
        .header(SIGNATURE_HEADER)
        .ok_or_else(|| reject("missing X-HubSpot-Signature-v3 header"))?;
    let timestamp = request
        .header(TIMESTAMP_HEADER)
        .ok_or_else(|| reject("missing X-HubSpot-Request-Timestamp header"))?
        .trim();
    let millis: i64 = timestamp
        .parse()
        .map_err(|_| reject("timestamp is not epoch milliseconds"))?;
    let age_ms = request.received_at.unix_millis().saturating_sub(millis);
    let limit = i64::try_from(tolerance.as_millis()).unwrap_or(i64::MAX);
    if age_ms.saturating_abs() > limit {
        return Err(reject(format!(
            "timestamp is {} s away from arrival (limit {} s)",
            age_ms / 1000,
            tolerance.as_secs()
        )));
    }
    // Some stacks turn a '+' of the base64 value into a space.
    let given = STANDARD
        .decode(signature.trim().replace(' ', "+"))
        .map_err(|_| reject("signature is not base64"))?;
    let method = request.method.to_ascii_uppercase();
    let decoded = decoded_uri(&request.url);
    let mut candidates = vec![request.url.as_str()];
    if decoded != request.url {
        candidates.push(decoded.as_str());
    }
    let mut ok = false;
    for uri in candidates {
        let expected = digest(secret, &method, uri, &request.body, timestamp);
        ok |= bool::from(expected.ct_eq(&given));
    }
    if ok {
        Ok(())
    } else {
        Err(reject("signature does not match"))
    }
}

#[cfg(test)]
mod tests {
    use cartograph_model::Timestamp;

    use super::*;

    fn request(url: &str, sig: &str, ts: i64, received: Timestamp) -> WebhookRequest {
        WebhookRequest {
            method: "POST".into(),
            url: url.into(),
            headers: vec![
                (SIGNATURE_HEADER.into(), sig.into()),
                (TIMESTAMP_HEADER.into(), ts.to_string()),
            ],
            body: br#"[{"eventId":1}]"#.to_vec(),
            received_at: received,
        }
    }

    #[test]
    fn known_vector_round_trips() {
        let now = Timestamp::from_unix_millis(1_700_000_000_000).expect("ts");
        let url = "https://example.com/hubspot?portal=1";
        let sig = sign_v3(
            "s3cret",
            "POST",
            url,
            br#"[{"eventId":1}]"#,
            "1700000000000",
        );
        let req = request(url, &sig, 1_700_000_000_000, now);
        verify_v3("s3cret", &req, Duration::from_secs(300)).expect("valid");
        let err = verify_v3("other", &req, Duration::from_secs(300)).expect_err("bad key");
        assert_eq!(err.kind(), ErrorKind::Signature);
    }

    #[test]
    fn stale_and_encoded_uris() {
        let ts = 1_700_000_000_000;
        let late = Timestamp::from_unix_millis(ts + 301_000).expect("ts");
        let url = "https://example.com/hook";
        let sig = sign_v3("k", "POST", url, br#"[{"eventId":1}]"#, &ts.to_string());
        let err = verify_v3("k", &request(url, &sig, ts, late), Duration::from_secs(300))
            .expect_err("stale");
        assert!(err.message().contains("timestamp"));
        // HubSpot hashes the decoded form of some percent-encoded characters.
        let plain = "https://example.com/hook?a=b:c";
        let sig = sign_v3("k", "POST", plain, br#"[{"eventId":1}]"#, &ts.to_string());
        let on_time = Timestamp::from_unix_millis(ts).expect("ts");
        verify_v3(
            "k",
            &request("https://example.com/hook?a=b%3Ac", &sig, ts, on_time),
            Duration::from_secs(300),
        )
        .expect("decoded form accepted");
    }
}

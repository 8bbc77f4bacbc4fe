//! The OAuth 2.0 JWT bearer flow: [`JwtSigner`] mints the RS256-signed assertion Salesforce
//! exchanges for an access token (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`).
//!
//! Claims: `iss` = the connected app's consumer key, `sub` = the integration user's
//! username, `aud` = the login host (`https://login.salesforce.com` or
//! `https://test.salesforce.com`), `exp` = now + [`ASSERTION_LIFETIME`] (Salesforce accepts
//! at most three minutes). A new assertion is signed for every token call.
//!
//! Crypto: `aws-lc-rs` (RSA PKCS#1 v1.5 with SHA-256), the provider `rustls` already
//! compiles for the connector's TLS, and `rustls-pki-types` for PEM; with the default
//! features the flow adds one crate to this crate's tree, `base64`, which the workspace
//! already builds (decision 0025). A JWT crate was not taken: the maintained ones pull a
//! second RSA stack (`ring` or the `rsa` crate with its bignum) plus PEM and ASN.1 crates
//! for three base64 segments and one signature.

use std::fmt;
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cartograph_connector::{Error, ErrorKind, Result};
use cartograph_http::{AssertionSigner, Secret};
use cartograph_model::Timestamp;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use serde_json::json;

use crate::error::CONNECTOR;

/// How long an assertion is valid (Salesforce refuses an `exp` more than 3 minutes ahead).
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(150);

/// Signs JWT bearer assertions with the host's RSA private key.
///
/// `Debug` shows the claims, never the key:
///
/// ```
/// # use cartograph_salesforce::jwt::JwtSigner;
/// # use cartograph_http::Secret;
/// let err = JwtSigner::new(&Secret::new("not a key"), "3MVG9", "int@acme.com", "https://login.salesforce.com")
///     .unwrap_err();
/// assert_eq!(err.field(), Some("auth.private_key"));
/// assert!(!err.to_string().contains("not a key"));
/// ```
pub struct JwtSigner {
    key: KeyPair,
    issuer: String,
    subject: String,
    audience: String,
}

impl fmt::Debug for JwtSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSigner")
            .field("iss", &self.issuer)
            .field("sub", &self.subject)
            .field("aud", &self.audience)
            .finish_non_exhaustive()
    }
}

fn key_error(why: &str) -> Error {
    Error::new(ErrorKind::Config, why.to_owned())
        .with_connector(CONNECTOR)
        .with_field("auth.private_key")
}

impl JwtSigner {
    /// A signer for a PEM private key (`BEGIN PRIVATE KEY`, PKCS#8, or `BEGIN RSA PRIVATE
    /// KEY`, PKCS#1; RSA 2048 to 8192 bits).
    ///
    /// # Errors
    /// [`ErrorKind::Config`] naming `auth.private_key` when the PEM is not an unencrypted
    /// RSA private key (the message never repeats the key).
    pub fn new(
        private_key_pem: &Secret,
        issuer: impl Into<String>,
        subject: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self> {
        let der = PrivateKeyDer::from_pem_slice(private_key_pem.expose().as_bytes())
            .map_err(|_| key_error("not a PEM private key (PKCS#8 or PKCS#1)"))?;
        let key = match &der {
            PrivateKeyDer::Pkcs8(k) => KeyPair::from_pkcs8(k.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(k) => KeyPair::from_der(k.secret_pkcs1_der()),
            _ => return Err(key_error("not an RSA private key")),
        }
        .map_err(|_| key_error("not an RSA private key Salesforce accepts (2048+ bits)"))?;
        Ok(Self {
            key,
            issuer: issuer.into(),
            subject: subject.into(),
            audience: audience.into(),
        })
    }

    /// The compact JWS `header.claims.signature` for an assertion issued at `now`.
    ///
    /// # Errors
    /// [`ErrorKind::Other`] when signing fails.
    pub fn sign_at(&self, now: Timestamp) -> Result<String> {
        let exp = now
            .unix_seconds()
            .saturating_add(i64::try_from(ASSERTION_LIFETIME.as_secs()).unwrap_or(i64::MAX));
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "typ": "JWT"}).to_string());
        let claims = URL_SAFE_NO_PAD.encode(
            json!({
                "iss": self.issuer,
                "sub": self.subject,
                "aud": self.audience,
                "exp": exp,
            })
            .to_string(),
        );
        let input = format!("{header}.{claims}");
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| {
                Error::new(ErrorKind::Other, "cannot sign the JWT assertion")
                    .with_connector(CONNECTOR)
                    .with_operation("oauth2_token")
            })?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

impl AssertionSigner for JwtSigner {
    fn assertion(&self) -> Result<Secret> {
        self.sign_at(Timestamp::now()).map(Secret::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    fn pem(label: &str, der: &[u8]) -> String {
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
    }

    #[test]
    fn assertion_carries_the_claims_and_verifies_with_the_public_key() {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("key");
        let pkcs8 = pair.as_der().expect("der");
        let signer = JwtSigner::new(
            &Secret::new(pem("PRIVATE KEY", pkcs8.as_ref())),
            "3MVG9key",
            "integration@acme.com",
            "https://test.salesforce.com",
        )
        .expect("signer");
        let now = Timestamp::from_unix_seconds(1_800_000_000).expect("time");
        let jwt = signer.sign_at(now).expect("signed");
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        assert_eq!(
            claims,
            json!({"iss": "3MVG9key", "sub": "integration@acme.com",
                   "aud": "https://test.salesforce.com", "exp": 1_800_000_150})
        );
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("json");
        assert_eq!(header["alg"], "RS256");
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("b64");
        let public =
            UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public_key().as_ref());
        public
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .expect("valid signature");
        // A changed claim no longer verifies.
        let forged = URL_SAFE_NO_PAD.encode(claims.to_string().replace("integration", "admin"));
        assert!(
            public
                .verify(format!("{}.{forged}", parts[0]).as_bytes(), &signature)
                .is_err()
        );
    }

    #[test]
    fn debug_and_errors_never_show_the_key() {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("key");
        let key = pem("PRIVATE KEY", pair.as_der().expect("der").as_ref());
        let signer = JwtSigner::new(&Secret::new(key.clone()), "iss", "sub", "aud").expect("ok");
        let debug = format!("{signer:?}");
        let (first, second) = (
            key.lines().nth(1).expect("a body line"),
            key.lines().nth(2).expect("a body line"),
        );
        assert!(!debug.contains(first) && !debug.contains(second), "{debug}");
        // A damaged key is refused without echoing any of it.
        let broken = key.replace(first, "AAAA");
        let err = JwtSigner::new(&Secret::new(broken), "iss", "sub", "aud").expect_err("bad");
        assert_eq!(err.kind(), ErrorKind::Config);
        let shown = format!("{err:?} {err}");
        assert!(!shown.contains(second), "{shown}");
    }
}

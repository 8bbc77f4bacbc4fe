//! The simulator's JWT bearer grant: the assertion is checked the way Salesforce checks it
//! (RS256 signature against the certificate's public key uploaded to the connected app,
//! `iss` = consumer key, `sub` = a pre-authorised user, `aud` = the login host, `exp` in the
//! future and at most 3 minutes ahead), with Salesforce's `invalid_grant` answers.

use std::collections::BTreeMap;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cartograph_connector::Result;
use cartograph_http::Secret;
use rustls_pki_types::SubjectPublicKeyInfoDer;
use rustls_pki_types::pem::PemObject;
use serde_json::Value;

use super::{SalesforceSim, SimConfig};
use crate::config::{SalesforceAuth, SalesforceConfigBuilder};

/// Longest `exp` Salesforce accepts, seconds after now (plus a little clock skew).
const MAX_AHEAD_SECONDS: i64 = 3 * 60 + 30;

/// A new RSA 2048 key pair for tests and demos: the private key as PEM (PKCS#8, what
/// [`SalesforceAuth::JwtBearer`] takes) and the public key as PEM (SubjectPublicKeyInfo,
/// what [`SimConfig::jwt_public_key`] takes, as a connected app's certificate would carry).
///
/// # Panics
/// Never in practice: key generation fails only when the OS has no randomness.
pub fn generate_rsa_key_pair() -> (Secret, String) {
    let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
    let private = pair.as_der().expect("PKCS#8 encoding");
    let public = pair.public_key().as_der().expect("SPKI encoding");
    (
        Secret::new(pem("PRIVATE KEY", private.as_ref())),
        pem("PUBLIC KEY", public.as_ref()),
    )
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// Checks a JWT bearer assertion; `Err((error, error_description))` as Salesforce answers.
pub(super) fn check_assertion(
    config: &SimConfig,
    form: &BTreeMap<String, String>,
    now_seconds: i64,
) -> std::result::Result<(), (&'static str, &'static str)> {
    const INVALID: (&str, &str) = ("invalid_grant", "invalid assertion");
    let Some(public_pem) = &config.jwt_public_key else {
        return Err(("invalid_client_id", "client identifier invalid"));
    };
    let assertion = form.get("assertion").ok_or(INVALID)?;
    let mut parts = assertion.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(INVALID);
    };
    let decode = |part: &str| -> std::result::Result<Value, (&'static str, &'static str)> {
        let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| INVALID)?;
        serde_json::from_slice(&bytes).map_err(|_| INVALID)
    };
    if decode(header)?.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(("invalid_grant", "invalid assertion: algorithm"));
    }
    let spki = SubjectPublicKeyInfoDer::from_pem_slice(public_pem.as_bytes())
        .map_err(|_| ("invalid_client", "invalid certificate"))?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| INVALID)?;
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, spki.as_ref())
        .verify(format!("{header}.{claims}").as_bytes(), &signature)
        .map_err(|_| INVALID)?;
    let claims = decode(claims)?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(config.client_id.as_str()) {
        return Err(("invalid_client_id", "client identifier invalid"));
    }
    if text("aud") != Some(config.jwt_audience.as_str()) {
        return Err(("invalid_grant", "audience is invalid"));
    }
    if text("sub") != Some(config.jwt_username.as_str()) {
        return Err(("invalid_grant", "user hasn't approved this consumer"));
    }
    let exp = claims.get("exp").and_then(Value::as_i64).ok_or(INVALID)?;
    if exp <= now_seconds || exp > now_seconds + MAX_AHEAD_SECONDS {
        return Err(("invalid_grant", "expired authorization code"));
    }
    Ok(())
}

impl SalesforceSim {
    /// Like [`SalesforceSim::connector_config`] but with the JWT bearer flow: consumer key
    /// and username of this org, `private_key` the PEM whose public half is
    /// [`SimConfig::jwt_public_key`], `aud` the simulator's [`SimConfig::jwt_audience`].
    ///
    /// # Errors
    /// Never for a running simulator.
    pub fn jwt_connector_config(&self, private_key: Secret) -> Result<SalesforceConfigBuilder> {
        let config = &self.shared.config;
        Ok(self.connector_config()?.auth(SalesforceAuth::JwtBearer {
            client_id: config.client_id.clone(),
            username: config.jwt_username.clone(),
            private_key,
            audience: Some(config.jwt_audience.clone()),
        }))
    }
}

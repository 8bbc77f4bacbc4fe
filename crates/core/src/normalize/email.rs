//! Email match keys.

use unicode_normalization::UnicodeNormalization;

/// Why an email address was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmailError {
    /// Nothing left after trimming.
    #[error("email is blank")]
    Blank,
    /// Whitespace or control characters inside the address.
    #[error("email contains whitespace or control characters")]
    InnerWhitespace,
    /// No `@`, or more than one outside a quoted local part.
    #[error("email must contain exactly one '@'")]
    AtSign,
    /// Quoted local parts (`"a b"@x.com`) are not accepted (HubSpot rejects them too).
    #[error("quoted local parts are not supported")]
    Quoted,
    /// Empty, too long, or badly dotted local part.
    #[error("email local part is empty, too long or badly dotted")]
    LocalPart,
    /// Domain without a dot, with an empty label, or an invalid top-level domain.
    #[error("email domain is not a valid host name")]
    Domain,
    /// The domain failed IDNA (UTS 46) processing.
    #[error("email domain is not a valid internationalized domain name")]
    Idna,
}

/// Match keys for one email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NormalizedEmail {
    /// NFKC, trimmed, lower-cased, domain as IDNA A-label: the exact-match key.
    pub key: String,
    /// Provider-aware canonical mailbox: `googlemail.com` becomes `gmail.com`; dots dropped for
    /// Gmail only; `+tag` dropped for providers with documented plus addressing. Equal to
    /// `key` for every other domain. A match key only, never written to a CRM.
    pub canonical: String,
}

/// Providers whose plus addressing is documented (the `+tag` part can be dropped).
const PLUS_PROVIDERS: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "fastmail.com",
    "fastmail.fm",
    "proton.me",
    "protonmail.com",
    "pm.me",
];

/// Normalizes an email address into its match keys, or says why it is invalid.
///
/// ```
/// use cartograph_core::normalize::{normalize_email, EmailError};
///
/// let e = normalize_email("\u{a0}Jane@Bücher.example ")?;
/// assert_eq!(e.key, "jane@xn--bcher-kva.example");
/// assert_eq!(normalize_email("jane doe@x.com"), Err(EmailError::InnerWhitespace));
/// // dots only matter for Gmail
/// assert_eq!(normalize_email("j.doe@company.com")?.canonical, "j.doe@company.com");
/// # Ok::<(), EmailError>(())
/// ```
pub fn normalize_email(raw: &str) -> Result<NormalizedEmail, EmailError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(EmailError::Blank);
    }
    let folded: String = if trimmed.is_ascii() {
        trimmed.to_ascii_lowercase()
    } else {
        trimmed.nfkc().flat_map(char::to_lowercase).collect()
    };
    if folded.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(EmailError::InnerWhitespace);
    }
    if folded.starts_with('"') {
        return Err(EmailError::Quoted);
    }
    let mut parts = folded.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(EmailError::AtSign);
    };
    if local.is_empty()
        || local.len() > 64
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
    {
        return Err(EmailError::LocalPart);
    }
    let domain = ascii_domain(domain)?;
    let key = format!("{local}@{domain}");
    let canonical = canonical_mailbox(local, &domain).unwrap_or_else(|| key.clone());
    Ok(NormalizedEmail { key, canonical })
}

fn ascii_domain(domain: &str) -> Result<String, EmailError> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let ascii = if domain.is_ascii() {
        domain.to_owned()
    } else {
        idna::domain_to_ascii(domain).map_err(|_| EmailError::Idna)?
    };
    if ascii.len() > 253 || !ascii.contains('.') {
        return Err(EmailError::Domain);
    }
    for label in ascii.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return Err(EmailError::Domain);
        }
    }
    let tld = ascii.rsplit('.').next().unwrap_or_default();
    let tld_ok =
        tld.len() >= 2 && (tld.bytes().all(|b| b.is_ascii_alphabetic()) || tld.starts_with("xn--"));
    if !tld_ok {
        return Err(EmailError::Domain);
    }
    Ok(ascii)
}

fn canonical_mailbox(local: &str, domain: &str) -> Option<String> {
    let domain = if domain == "googlemail.com" {
        "gmail.com"
    } else {
        domain
    };
    if !PLUS_PROVIDERS.contains(&domain) {
        return None;
    }
    let base = local.split_once('+').map_or(local, |(b, _)| b);
    let base = if domain == "gmail.com" {
        base.replace('.', "")
    } else {
        base.to_owned()
    };
    if base.is_empty() {
        return None;
    }
    Some(format!("{base}@{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        normalize_email(s).unwrap().canonical
    }

    #[test]
    fn email_key_trims_and_lowercases() {
        let e = normalize_email(" Jane@Gmail.com\t").unwrap();
        assert_eq!(e.key, "jane@gmail.com");
        let e = normalize_email("\u{2003}ＪＡＮＥ@example.org").unwrap();
        assert_eq!(e.key, "jane@example.org");
    }

    #[test]
    fn gmail_dots_and_tags_are_dropped_only_for_gmail() {
        assert_eq!(canon("J.a.n.e+shop@gmail.com"), "jane@gmail.com");
        assert_eq!(canon("jane.doe@googlemail.com"), "janedoe@gmail.com");
        assert_eq!(canon("jane.doe+x@outlook.com"), "jane.doe@outlook.com");
        assert_eq!(canon("jane.doe+x@company.com"), "jane.doe+x@company.com");
        assert_eq!(canon("jane.doe@yahoo.com"), "jane.doe@yahoo.com");
    }

    #[test]
    fn invalid_emails_give_typed_reasons() {
        assert_eq!(normalize_email("  "), Err(EmailError::Blank));
        assert_eq!(normalize_email("a@b@c.com"), Err(EmailError::AtSign));
        assert_eq!(normalize_email("nobody"), Err(EmailError::AtSign));
        assert_eq!(normalize_email(".a@b.com"), Err(EmailError::LocalPart));
        assert_eq!(normalize_email("a..b@b.com"), Err(EmailError::LocalPart));
        assert_eq!(normalize_email("a@localhost"), Err(EmailError::Domain));
        assert_eq!(normalize_email("a@b.c0m"), Err(EmailError::Domain));
        assert_eq!(normalize_email("a@-b.com"), Err(EmailError::Domain));
        assert_eq!(normalize_email("\"a\"@b.com"), Err(EmailError::Quoted));
        assert_eq!(
            normalize_email("a@b .com"),
            Err(EmailError::InnerWhitespace)
        );
    }

    #[test]
    fn idna_domains_become_a_labels() {
        let e = normalize_email("Info@MÜNCHEN.de").unwrap();
        assert_eq!(e.key, "info@xn--mnchen-3ya.de");
    }
}

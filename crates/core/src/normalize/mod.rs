//! Normalization of the fields identity resolution compares: emails, phones, person and
//! company names, and postal addresses.
//!
//! Every function here is pure and deterministic. Normalized values are **match keys**:
//! they are never the value written to a CRM (write the customer's own address and phone).
//!
//! ```
//! use cartograph_core::normalize::{fold_text, normalize_email};
//!
//! let e = normalize_email(" J.Ane+news@GoogleMail.com ")?;
//! assert_eq!(e.key, "j.ane+news@googlemail.com");
//! assert_eq!(e.canonical, "jane@gmail.com");
//! assert_eq!(fold_text("  José  MÜLLER "), "jose muller");
//! # Ok::<(), cartograph_core::normalize::EmailError>(())
//! ```

mod address;
mod email;
mod name;
mod phone;
mod text;

pub use address::{country_code, normalize_postcode, normalize_street, street_number};
pub use email::{EmailError, NormalizedEmail, normalize_email};
pub use name::{canonical_first_name, normalize_company, normalize_person_name};
pub use phone::{Phone, PhoneCache, PhoneError, normalize_phone};
pub use text::fold_text;

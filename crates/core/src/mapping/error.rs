//! Mapping errors: compile-time (a whole mapping refused, every problem listed) and
//! apply-time (one field of one record).

use std::fmt;

use cartograph_model::MoneyError;

use crate::metrics::RateError;

/// One problem found while compiling a mapping.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mapping `{mapping}`, field `{field}`: {kind}")]
pub struct CompileError {
    /// The mapping's name.
    pub mapping: String,
    /// The target property (or `when` / `-` for mapping-wide problems).
    pub field: String,
    /// What is wrong.
    pub kind: CompileErrorKind,
}

/// What is wrong with a mapping field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompileErrorKind {
    /// The expression does not parse.
    #[error("syntax error at offset {offset} of {expr:?}: {message}")]
    Syntax {
        /// The expression.
        expr: String,
        /// Character offset.
        offset: usize,
        /// What was expected.
        message: String,
    },
    /// The path does not exist on the canonical record.
    #[error("unknown path `{path}`: {reason}")]
    UnknownPath {
        /// The path as written.
        path: String,
        /// Why (with the names that do exist).
        reason: String,
    },
    /// No transform or function by that name.
    #[error("unknown transform `{name}`")]
    UnknownTransform {
        /// The name.
        name: String,
    },
    /// Wrong arguments to a transform.
    #[error("`{name}`: {reason}")]
    BadArguments {
        /// The transform.
        name: String,
        /// Why.
        reason: String,
    },
    /// A transform got a value of the wrong type.
    #[error("`{transform}` expects {expected}, found {found}")]
    TypeMismatch {
        /// The transform.
        transform: String,
        /// What it accepts.
        expected: String,
        /// What it got.
        found: String,
    },
    /// The target property is not defined for the mapping's object.
    #[error("unknown target property `{property}` on {object}")]
    UnknownTarget {
        /// The object type.
        object: String,
        /// The property.
        property: String,
    },
    /// The expression's type cannot fill the target property.
    #[error("a {found} value cannot fill {property_type} property `{property}`{hint}")]
    TargetType {
        /// The property.
        property: String,
        /// Its type.
        property_type: String,
        /// The expression's type.
        found: String,
        /// A suggestion, starting with "; ".
        hint: String,
    },
    /// A constant or value-map output is not an option of the enumeration.
    #[error("{value:?} is not an option of enumeration property `{property}`")]
    NotAnOption {
        /// The property.
        property: String,
        /// The value.
        value: String,
    },
    /// `map(name)` names no value map.
    #[error("unknown value map `{name}`")]
    UnknownMap {
        /// The name.
        name: String,
    },
    /// A `when` condition is not boolean.
    #[error("condition must be bool, found {found}")]
    Condition {
        /// Its type.
        found: String,
    },
    /// Two fields write the same property.
    #[error("property written twice")]
    DuplicateTarget,
    /// No mapping by that name.
    #[error("no mapping named `{name}`")]
    UnknownMapping {
        /// The name.
        name: String,
    },
}

/// Every problem found compiling a mapping. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileErrors(pub Vec<CompileError>);

impl fmt::Display for CompileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} mapping error(s)", self.0.len())?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CompileErrors {}

/// A mapping file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {format} mapping file: {message}")]
pub struct LoadError {
    /// `TOML` or `JSON`.
    pub format: &'static str,
    /// The parser's message.
    pub message: String,
}

/// One field of one record could not be mapped; the other fields still are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{record}: field `{field}`: {reason}")]
pub struct FieldError {
    /// The record (`system/kind/id`).
    pub record: String,
    /// The target property.
    pub field: String,
    /// Why.
    pub reason: FieldErrorReason,
}

/// Why a field could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldErrorReason {
    /// A required value is missing.
    #[error("required value is missing")]
    Missing,
    /// The record the mapping is about was not given.
    #[error("the {0} record was not given")]
    MissingSubject(&'static str),
    /// The value is not an option of the enumeration.
    #[error("{value:?} is not an option of the property")]
    NotAnOption {
        /// The value (cut to 64 characters).
        value: String,
    },
    /// The value's type does not fit the property.
    #[error("a {found} value does not fit a {expected} property")]
    Type {
        /// The property type.
        expected: String,
        /// The value's type.
        found: String,
    },
    /// A value map has no entry for the value and no fallback.
    #[error("{value:?} has no entry in value map `{map}`")]
    Unmapped {
        /// The map.
        map: String,
        /// The value (cut to 64 characters).
        value: String,
    },
    /// Text could not be read as the type needed.
    #[error("cannot read {value:?} as {expected}")]
    Parse {
        /// The text (cut to 64 characters).
        value: String,
        /// The type.
        expected: &'static str,
    },
    /// `convert` was used but the host gave no rates.
    #[error("no exchange rates were provided")]
    NoRates,
    /// Currency conversion failed.
    #[error("currency conversion failed: {0}")]
    Rate(#[from] RateError),
    /// Money arithmetic failed (e.g. summing two currencies).
    #[error("{0}")]
    Money(#[from] MoneyError),
    /// A number left the decimal range.
    #[error("arithmetic overflow")]
    Overflow,
    /// A localized value has none of the requested languages.
    #[error("no text in any of the languages {0:?}")]
    NoLanguage(Vec<String>),
}

/// Cuts a value for an error message.
pub(crate) fn cut(s: &str) -> String {
    s.chars().take(64).collect()
}

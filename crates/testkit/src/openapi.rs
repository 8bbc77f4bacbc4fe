//! Checks a simulator's answers against a vendor's OpenAPI description (3.x or Swagger
//! 2.0), read at test time as [`serde_json::Value`] (callers parse JSON or YAML files;
//! nothing of a spec is shipped with the project).
//!
//! The schema check covers the subset vendor specs use for answers: local `$ref`s,
//! `type` (a name or a list), `nullable` / `x-nullable`, `enum`, `properties`, `required`,
//! `additionalProperties`, `items`, `allOf`, `anyOf`, `oneOf`. Formats are not checked.
//! With [`ApiSpec::strict`] an object schema that lists `properties` and says nothing
//! about `additionalProperties` also rejects fields it does not list (catches misspelt or
//! invented field names in a simulator).
//!
//! ```
//! use cartograph_testkit::openapi::{ApiSpec, Verdict};
//! use serde_json::json;
//!
//! let doc = json!({"openapi": "3.0.0", "paths": {"/things/{id}": {"get": {"responses": {
//!     "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}}}},
//!     "components": {"schemas": {"Thing": {"type": "object", "required": ["id"],
//!         "properties": {"id": {"type": "string"}}}}}});
//! let mut spec = ApiSpec::default();
//! spec.add("things.json", doc, "/api");
//! assert_eq!(spec.check("GET", "/api/things/7", 200, Some(&json!({"id": "7"}))), Verdict::Valid);
//! match spec.check("GET", "/api/things/7", 200, Some(&json!({"id": 7}))) {
//!     Verdict::Invalid(errors) => assert!(errors[0].contains("$.id")),
//!     other => panic!("{other:?}"),
//! }
//! ```

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The environment variable naming the folder of vendor specs (overrides the default).
pub const SPECS_ENV: &str = "CARTOGRAPH_SPECS";

/// The folder of vendor specs: `$CARTOGRAPH_SPECS` when set, else `../shared/specs`
/// beside the workspace root; `None` (tests skip, saying why) when it is absent.
pub fn specs_dir() -> Option<PathBuf> {
    let dir = std::env::var_os(SPECS_ENV).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/specs"),
        PathBuf::from,
    );
    dir.is_dir().then_some(dir)
}

/// `specs_dir()/<below>` when it exists; otherwise prints why `vendor`'s spec test is
/// skipped and answers `None`.
pub fn vendor_specs(below: &str, vendor: &str) -> Option<PathBuf> {
    let path = specs_dir().map(|d| d.join(below)).filter(|p| p.exists());
    if path.is_none() {
        println!(
            "SKIPPED: {below} is absent from the vendor specs folder (../shared/specs or ${SPECS_ENV}); simulator answers not checked against {vendor}'s spec"
        );
    }
    path
}

/// Every file under `dir` (recursively) whose name ends with one of `extensions`, sorted.
pub fn files(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| extensions.iter().any(|e| n.ends_with(e)))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// One loaded description file and its operations.
#[derive(Debug)]
struct Doc {
    file: String,
    root: Value,
    prefix: Vec<String>,
    operations: Vec<Operation>,
}

#[derive(Debug)]
struct Operation {
    method: String,
    template: Vec<String>,
    path: String,
}

/// What [`ApiSpec::check`] found for one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The answer matches the documented schema.
    Valid,
    /// The answer does not match; one line per divergence, each starting with its JSON
    /// path (`$.results[0].id`).
    Invalid(Vec<String>),
    /// No operation in the spec matches the method and path.
    NoOperation,
    /// The operation documents no JSON schema for this status (nor a default).
    NoSchema,
}

/// One recorded answer to check: method, path (no query), status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// HTTP method.
    pub method: String,
    /// Request path, without the query.
    pub path: String,
    /// Answer status.
    pub status: u16,
    /// Answer body, when it was JSON.
    pub body: Option<Value>,
}

impl Answer {
    /// An answer from its parts; `body` is parsed as JSON (`None` when empty or not JSON).
    pub fn new(method: &str, path: &str, status: u16, body: &[u8]) -> Self {
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            status,
            body: serde_json::from_slice(body).ok(),
        }
    }
}

/// What [`ApiSpec::check_answers`] found over many answers.
#[derive(Debug, Default)]
pub struct Report {
    /// `"METHOD /template (file) -> status"` of every answer matched to an operation.
    pub checked: std::collections::BTreeSet<String>,
    /// Divergences, `"METHOD path -> status: $.where: what"`.
    pub errors: Vec<String>,
    /// Divergences the caller called spec defects.
    pub tolerated: usize,
    /// Answers whose status documents no JSON schema (not checked).
    pub unchecked: usize,
}

impl Report {
    /// Prints what was checked and tolerated, then panics listing the divergences, if any.
    ///
    /// # Panics
    /// When a divergence was found.
    pub fn assert_clean(&self, vendor: &str) {
        println!(
            "checked {} (operation, status) answers against {vendor}'s spec ({} without a documented schema):\n  {}",
            self.checked.len(),
            self.unchecked,
            self.checked
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join("\n  ")
        );
        println!("tolerated spec defects: {}", self.tolerated);
        assert!(
            self.errors.is_empty(),
            "simulator answers that do not match {vendor}'s spec:\n{}",
            self.errors.join("\n")
        );
    }

    /// Whether an operation whose `"METHOD /template"` starts with `operation` was checked.
    pub fn covers(&self, operation: &str) -> bool {
        self.checked.iter().any(|c| c.starts_with(operation))
    }
}

/// OpenAPI descriptions of one vendor, possibly spread over many files.
#[derive(Debug, Default)]
pub struct ApiSpec {
    docs: Vec<Doc>,
    strict: bool,
}

impl ApiSpec {
    /// Unknown fields of objects that list their `properties` become divergences.
    #[must_use]
    pub fn strict(mut self) -> Self {
        self.strict = true;
        self
    }

    /// Adds one description; its paths are served under `prefix` on the wire (`""`,
    /// `/api/3`, `/stores/abc/v3`).
    pub fn add(&mut self, file: impl Into<String>, root: Value, prefix: &str) {
        let mut operations = Vec::new();
        for (path, item) in root["paths"].as_object().into_iter().flatten() {
            for (method, _) in item.as_object().into_iter().flatten() {
                if !matches!(
                    method.as_str(),
                    "get" | "put" | "post" | "delete" | "patch" | "head" | "options"
                ) {
                    continue;
                }
                operations.push(Operation {
                    method: method.to_uppercase(),
                    template: segments(path),
                    path: path.clone(),
                });
            }
        }
        self.docs.push(Doc {
            file: file.into(),
            root,
            prefix: segments(prefix),
            operations,
        });
    }

    /// Operations loaded, over all files.
    pub fn operation_count(&self) -> usize {
        self.docs.iter().map(|d| d.operations.len()).sum()
    }

    /// The operation serving `method path`, as `"METHOD /template (file)"`, preferring the
    /// most literal template.
    pub fn operation(&self, method: &str, path: &str) -> Option<String> {
        self.find(method, path)
            .map(|(doc, op)| format!("{} {} ({})", op.method, op.path, doc.file))
    }

    fn find(&self, method: &str, path: &str) -> Option<(&Doc, &Operation)> {
        let wire = segments(path);
        self.docs
            .iter()
            .filter_map(|doc| {
                let rest = strip(&doc.prefix, &wire)?;
                doc.operations
                    .iter()
                    .filter(|op| op.method == method && matches(&op.template, rest))
                    .min_by_key(|op| op.template.iter().filter(|t| is_param(t)).count())
                    .map(|op| (doc, op))
            })
            .min_by_key(|(_, op)| op.template.iter().filter(|t| is_param(t)).count())
    }

    /// Checks one answer: `body` against the schema the operation documents for `status`
    /// (the exact code, then `2XX`-style ranges, then `default`). A success status the
    /// operation does not document, while it documents other successes, is a divergence.
    pub fn check(&self, method: &str, path: &str, status: u16, body: Option<&Value>) -> Verdict {
        let Some((doc, op)) = self.find(method, path) else {
            return Verdict::NoOperation;
        };
        let responses = &doc.root["paths"][&op.path][method.to_lowercase()]["responses"];
        let code = status.to_string();
        let range = format!("{}XX", status / 100);
        let response = responses
            .get(&code)
            .or_else(|| responses.get(&range))
            .or_else(|| responses.get(range.to_lowercase()))
            .or_else(|| responses.get("default"));
        let Some(response) = response else {
            let documented: Vec<&String> = responses
                .as_object()
                .into_iter()
                .flat_map(|m| m.keys())
                .filter(|k| k.starts_with('2'))
                .collect();
            if (200..300).contains(&status) && !documented.is_empty() {
                return Verdict::Invalid(vec![format!(
                    "$: status {status} is not documented (the spec answers {documented:?})"
                )]);
            }
            return Verdict::NoSchema;
        };
        let response = resolve(&doc.root, response);
        let Some(schema) = response_schema(response) else {
            return Verdict::NoSchema;
        };
        let Some(body) = body else {
            return Verdict::Invalid(vec![format!(
                "$: status {status} documents a JSON body; the answer has none"
            )]);
        };
        let mut errors = Vec::new();
        self.validate(&doc.root, schema, body, "$", 0, &mut errors);
        if errors.is_empty() {
            Verdict::Valid
        } else {
            Verdict::Invalid(errors)
        }
    }

    /// Checks every answer. `defect(method, path, status, divergence)` names the
    /// divergences that are the spec's (tolerated, counted); an answer with no matching
    /// operation is a divergence; one whose status documents no JSON schema is a divergence
    /// only with `require_schema` (a 204 never is).
    pub fn check_answers(
        &self,
        answers: impl IntoIterator<Item = Answer>,
        require_schema: bool,
        defect: impl Fn(&str, &str, u16, &str) -> bool,
    ) -> Report {
        let mut report = Report::default();
        for a in answers {
            let (method, path, status) = (a.method.as_str(), a.path.as_str(), a.status);
            let found = match self.check(method, path, status, a.body.as_ref()) {
                Verdict::Valid => Vec::new(),
                Verdict::NoSchema if status == 204 || !require_schema => {
                    report.unchecked += 1;
                    Vec::new()
                }
                Verdict::NoSchema => vec![format!("$: no JSON schema documented for {status}")],
                Verdict::NoOperation => vec!["no such operation in the spec".to_owned()],
                Verdict::Invalid(list) => list,
            };
            for e in found {
                if defect(method, path, status, &e) {
                    report.tolerated += 1;
                } else {
                    report
                        .errors
                        .push(format!("{method} {path} -> {status}: {e}"));
                }
            }
            if let Some(op) = self.operation(method, path) {
                report.checked.insert(format!("{op} -> {status}"));
            }
        }
        report
    }

    /// Validates `value` against `schema` (resolved in `root`), pushing divergences.
    fn validate(
        &self,
        root: &Value,
        schema: &Value,
        value: &Value,
        at: &str,
        depth: usize,
        errors: &mut Vec<String>,
    ) {
        if depth > 64 {
            return;
        }
        let schema = resolve(root, schema);
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for s in all {
                Self::validate_loose(root, s, value, at, depth + 1, errors);
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(options) = schema.get(key).and_then(Value::as_array) {
                let fits = options.iter().any(|s| {
                    let mut e = Vec::new();
                    self.validate(root, s, value, at, depth + 1, &mut e);
                    e.is_empty()
                });
                if !fits {
                    errors.push(format!("{at}: matches none of the {key} schemas"));
                }
            }
        }
        if value.is_null() && nullable(schema) {
            return;
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array) {
            if !options.contains(value) {
                errors.push(format!("{at}: {value} is not one of {options:?}"));
            }
        }
        let kinds = types(schema);
        if !kinds.is_empty() && !kinds.iter().any(|k| fits(k, value)) {
            errors.push(format!(
                "{at}: expected {}, got {}",
                kinds.join(" or "),
                short(value)
            ));
            return;
        }
        match value {
            Value::Object(map) => self.validate_object(root, schema, map, at, depth, errors),
            Value::Array(items) => {
                if let Some(item) = schema.get("items") {
                    for (i, v) in items.iter().enumerate() {
                        self.validate(root, item, v, &format!("{at}[{i}]"), depth + 1, errors);
                    }
                }
            }
            _ => {}
        }
    }

    /// An `allOf` part: its properties are checked, but fields it does not list are not
    /// unknown (another part may list them).
    fn validate_loose(
        root: &Value,
        schema: &Value,
        value: &Value,
        at: &str,
        depth: usize,
        errors: &mut Vec<String>,
    ) {
        let loose = Self {
            docs: Vec::new(),
            strict: false,
        };
        loose.validate(root, schema, value, at, depth, errors);
    }

    fn validate_object(
        &self,
        root: &Value,
        schema: &Value,
        map: &serde_json::Map<String, Value>,
        at: &str,
        depth: usize,
        errors: &mut Vec<String>,
    ) {
        let props = schema.get("properties").and_then(Value::as_object);
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !map.contains_key(name) {
                errors.push(format!("{at}: required field {name} is missing"));
            }
        }
        let listed_elsewhere = schema.get("allOf").is_some()
            || schema.get("anyOf").is_some()
            || schema.get("oneOf").is_some();
        for (k, v) in map {
            let child = format!("{at}.{k}");
            match (
                props.and_then(|p| p.get(k)),
                schema.get("additionalProperties"),
            ) {
                (Some(s), _) => self.validate(root, s, v, &child, depth + 1, errors),
                (None, Some(Value::Bool(false))) => errors.push(format!("{child}: not allowed")),
                (None, Some(s @ Value::Object(_))) => {
                    self.validate(root, s, v, &child, depth + 1, errors);
                }
                (None, None) if self.strict && props.is_some() && !listed_elsewhere => {
                    errors.push(format!("{child}: not in the schema"));
                }
                _ => {}
            }
        }
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn is_param(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// `wire` without `prefix` (whose `{...}` segments match anything).
fn strip<'w>(prefix: &[String], wire: &'w [String]) -> Option<&'w [String]> {
    if wire.len() < prefix.len() || !matches(prefix, &wire[..prefix.len()]) {
        return None;
    }
    Some(&wire[prefix.len()..])
}

fn matches(template: &[String], wire: &[String]) -> bool {
    template.len() == wire.len()
        && template
            .iter()
            .zip(wire)
            .all(|(t, s)| is_param(t) || t == s)
}

/// Follows local `$ref`s (`#/components/...`, `#/definitions/...`).
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    let mut current = schema;
    for _ in 0..32 {
        match current.get("$ref").and_then(Value::as_str) {
            Some(r) => match root.pointer(r.trim_start_matches('#')) {
                Some(next) => current = next,
                None => return &Value::Null,
            },
            None => return current,
        }
    }
    current
}

/// The JSON schema of a response object: OpenAPI 3 `content` (a JSON media type, else
/// `*/*`), or Swagger 2 `schema`.
fn response_schema(response: &Value) -> Option<&Value> {
    if let Some(schema) = response.get("schema") {
        return Some(schema);
    }
    let content = response.get("content")?.as_object()?;
    content
        .iter()
        .find(|(media, _)| media.contains("json"))
        .or_else(|| content.iter().find(|(media, _)| media.as_str() == "*/*"))
        .and_then(|(_, m)| m.get("schema"))
}

fn nullable(schema: &Value) -> bool {
    schema.get("nullable").and_then(Value::as_bool) == Some(true)
        || schema.get("x-nullable").and_then(Value::as_bool) == Some(true)
        || types(schema).contains(&"null")
}

fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn fits(kind: &str, value: &Value) -> bool {
    match (kind, value) {
        ("object", Value::Object(_))
        | ("array", Value::Array(_))
        | ("string", Value::String(_))
        | ("boolean", Value::Bool(_))
        | ("number", Value::Number(_))
        | ("null", Value::Null) => true,
        ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
        _ => false,
    }
}

/// A value for a message, cut short.
fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec() -> ApiSpec {
        let mut spec = ApiSpec::default().strict();
        spec.add(
            "t.json",
            json!({"paths": {
                "/batch/create": {"post": {"responses": {
                    "201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}}},
                    "default": {"$ref": "#/components/responses/Error"}}}},
                "/items/{id}": {"get": {"responses": {"200": {"schema": {"type": "object", "x-nullable": true,
                    "properties": {"n": {"type": ["integer", "null"]}, "tags": {"type": "array", "items": {"type": "string"}}}}}}}},
                "/items/special": {"get": {"responses": {"200": {"content": {"*/*": {"schema": {"type": "string", "enum": ["x"]}}}}}}}
            },
            "components": {
                "schemas": {
                    "Batch": {"type": "object", "required": ["results", "status"], "properties": {
                        "status": {"type": "string", "enum": ["COMPLETE"]},
                        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Pair"}}}},
                    "Pair": {"type": "object", "required": ["fromObjectId"], "properties": {
                        "fromObjectId": {"type": "string"},
                        "extra": {"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}}]}}},
                    "Error": {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}
                },
                "responses": {"Error": {"content": {"*/*": {"schema": {"$ref": "#/components/schemas/Error"}}}}}
            }}),
            "/api",
        );
        spec
    }

    fn errors(verdict: Verdict) -> Vec<String> {
        match verdict {
            Verdict::Invalid(e) => e,
            other => panic!("expected divergences, got {other:?}"),
        }
    }

    #[test]
    fn refs_required_types_enums_and_unknown_fields_are_checked() {
        let s = spec();
        let good = json!({"status": "COMPLETE", "results": [{"fromObjectId": "1"}]});
        assert_eq!(
            s.check("POST", "/api/batch/create", 201, Some(&good)),
            Verdict::Valid
        );
        let bad = json!({"status": "DONE", "results": [{"from": {"id": "1"}}]});
        let e = errors(s.check("POST", "/api/batch/create", 201, Some(&bad)));
        assert!(e.iter().any(|e| e.starts_with("$.status:")), "{e:?}");
        assert!(
            e.iter()
                .any(|e| e == "$.results[0]: required field fromObjectId is missing"),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|e| e == "$.results[0].from: not in the schema"),
            "{e:?}"
        );
        let wrong_type =
            json!({"status": "COMPLETE", "results": [{"fromObjectId": 1, "extra": {"a": "x"}}]});
        let e = errors(s.check("POST", "/api/batch/create", 201, Some(&wrong_type)));
        assert_eq!(e.len(), 2, "{e:?}");
    }

    #[test]
    fn statuses_fall_back_to_default_and_undocumented_successes_diverge() {
        let s = spec();
        assert_eq!(
            s.check(
                "POST",
                "/api/batch/create",
                400,
                Some(&json!({"message": "no"}))
            ),
            Verdict::Valid
        );
        assert!(matches!(
            s.check("POST", "/api/batch/create", 400, Some(&json!({}))),
            Verdict::Invalid(_)
        ));
        assert_eq!(
            s.check("GET", "/api/items/1", 404, Some(&json!({}))),
            Verdict::NoSchema
        );
        let e = errors(s.check("GET", "/api/items/1", 201, Some(&json!({}))));
        assert!(e[0].contains("status 201 is not documented"), "{e:?}");
        assert_eq!(
            s.check("GET", "/elsewhere/items/1", 200, None),
            Verdict::NoOperation
        );
    }

    #[test]
    fn a_report_counts_tolerated_and_unchecked_answers() {
        let s = spec();
        let answers = vec![
            Answer::new(
                "POST",
                "/api/batch/create",
                201,
                br#"{"status": "X", "results": []}"#,
            ),
            Answer::new("GET", "/api/items/1", 404, b""),
            Answer::new("GET", "/api/nowhere", 200, b"{}"),
        ];
        let report = s.check_answers(answers.clone(), false, |_, _, _, e| {
            e.starts_with("$.status")
        });
        assert_eq!((report.tolerated, report.unchecked), (1, 1));
        assert_eq!(
            report.errors,
            vec!["GET /api/nowhere -> 200: no such operation in the spec"]
        );
        assert!(report.covers("POST /batch/create"));
        let strict = s.check_answers(answers, true, |_, _, _, _| false);
        assert_eq!(strict.errors.len(), 3, "{:?}", strict.errors);
    }

    #[test]
    fn nullable_swagger_schemas_and_literal_paths_win() {
        let s = spec();
        assert_eq!(
            s.check("GET", "/api/items/1", 200, Some(&Value::Null)),
            Verdict::Valid
        );
        assert_eq!(
            s.check(
                "GET",
                "/api/items/1",
                200,
                Some(&json!({"n": null, "tags": ["a"]}))
            ),
            Verdict::Valid
        );
        assert!(matches!(
            s.check("GET", "/api/items/1", 200, Some(&json!({"tags": [1]}))),
            Verdict::Invalid(_)
        ));
        assert_eq!(
            s.check("GET", "/api/items/special", 200, Some(&json!("x"))),
            Verdict::Valid
        );
        assert_eq!(
            s.operation("GET", "/api/items/special").as_deref(),
            Some("GET /items/special (t.json)")
        );
        assert!(matches!(
            s.check("POST", "/api/batch/create", 201, None),
            Verdict::Invalid(_)
        ));
    }
}

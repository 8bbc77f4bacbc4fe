//! The two hosts: the auth host (`POST /oauth/token`) and the API host (every path under
//! `/{projectKey}`), the request gate (bearer token, scopes, injected faults, the optional
//! quota) and the commercetools error body `{statusCode, message, errors: [{code, message}]}`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use cartograph_sim::Fault;
use serde_json::{Value, json};

use super::Shared;
use super::state::Token;

/// Query pairs as sent (keys repeat: `where`, `sort`, `expand`).
pub(crate) type Q = Vec<(String, String)>;

/// An error answer in the commercetools shape.
pub(crate) fn error(status: StatusCode, code: &str, message: &str, extra: Value) -> Response {
    let mut object = json!({"code": code, "message": message});
    if let (Some(target), Value::Object(more)) = (object.as_object_mut(), extra) {
        target.extend(more);
    }
    let mut body = json!({"statusCode": status.as_u16(), "message": message, "errors": [object]});
    if code.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        // OAuth-style codes (`invalid_token`, `insufficient_scope`) also come as `error`.
        body["error"] = Value::String(code.to_owned());
    }
    (status, axum::Json(body)).into_response()
}

/// 400 `InvalidInput`.
pub(crate) fn invalid_input(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "InvalidInput", message, json!({}))
}

/// 404 `ResourceNotFound`.
pub(crate) fn not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!("The Resource with ID '{id}' was not found."),
        json!({}),
    )
}

pub(crate) fn ok(status: StatusCode, body: &Value) -> Response {
    (status, axum::Json(body.clone())).into_response()
}

/// Parses the raw query string into pairs.
pub(crate) fn pairs(raw: Option<&str>) -> Q {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    })
    .unwrap_or_default()
}

/// Every value of a repeated query key.
pub(crate) fn values<'a>(q: &'a Q, key: &str) -> Vec<&'a str> {
    q.iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// `var.<name>` input variables of predicates.
pub(crate) fn vars(q: &Q) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in q {
        if let Some(name) = k.strip_prefix("var.") {
            out.entry(name.to_owned()).or_default().push(v.clone());
        }
    }
    out
}

pub(crate) fn auth_router(shared: &Arc<Shared>) -> Router {
    Router::new()
        .route("/oauth/token", post(token))
        .with_state(Arc::clone(shared))
}

pub(crate) fn api_router(shared: &Arc<Shared>) -> Router {
    Router::new().fallback(api).with_state(Arc::clone(shared))
}

fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// `POST /oauth/token`: client credentials with HTTP Basic; `grant_type` and `scope` in the
/// form body or the query string.
async fn token(
    State(sh): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params = pairs(raw.as_deref());
    params.extend(pairs(std::str::from_utf8(&body).ok()));
    let config = &sh.config;
    let Some((client_id, secret)) = credentials(&headers)
        .filter(|(id, secret)| *id == config.client_id && *secret == config.client_secret)
    else {
        let message = "Please provide valid client credentials using HTTP Basic Authentication.";
        let mut response = error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            message,
            json!({}),
        );
        if let Ok(v) = "Basic realm=\"commercetools\"".parse() {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        return response;
    };
    drop(secret);
    if values(&params, "grant_type").first() != Some(&"client_credentials") {
        return error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Grant type not supported by the simulator (use client_credentials).",
            json!({}),
        );
    }
    let project = format!(":{}", config.project_key);
    let scopes: Vec<String> = match values(&params, "scope").first() {
        Some(s) => s.split_whitespace().map(str::to_owned).collect(),
        None => vec![format!("manage_project{project}")],
    };
    if let Some(bad) = scopes.iter().find(|s| !s.ends_with(&project)) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!("Invalid scope: {bad}"),
            json!({}),
        );
    }
    let lifetime = config.token_lifetime;
    let access_token = {
        let mut s = sh.state();
        s.tokens_issued += 1;
        let n = s.tokens_issued;
        let token = format!("sim-token-{n}-{}", s.uuid());
        s.tokens.insert(
            token.clone(),
            Token {
                client_id,
                scopes: scopes.clone(),
                expires_at: tokio::time::Instant::now() + config.time_scale.real(lifetime),
            },
        );
        token
    };
    ok(
        StatusCode::OK,
        &json!({"access_token": access_token, "token_type": "Bearer",
                "expires_in": lifetime.as_secs(), "scope": scopes.join(" ")}),
    )
}

/// The permission a path needs (`view_<x>` or `manage_<x>`, or `manage_project`).
fn permission(resource: &str) -> &'static str {
    match resource {
        "customers" => "customers",
        "orders" | "carts" => "orders",
        "products" | "product-projections" => "products",
        "categories" => "categories",
        "customer-groups" => "customer_groups",
        "payments" => "payments",
        "messages" => "messages",
        _ => "project",
    }
}

fn scope_allows(scopes: &[String], resource: &str, write: bool, project: &str) -> bool {
    let p = permission(resource);
    scopes.iter().any(|s| {
        let Some(name) = s.strip_suffix(&format!(":{project}")) else {
            return false;
        };
        name == "manage_project"
            || name == format!("manage_{p}")
            || (!write && (name == format!("view_{p}") || name == "view_project"))
    })
}

/// The bearer token's client id, or the error answer.
fn authorize(
    sh: &Shared,
    headers: &HeaderMap,
    resource: &str,
    write: bool,
) -> Result<String, Box<Response>> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let invalid = || {
        error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "invalid_token",
            json!({}),
        )
    };
    let Some(bearer) = bearer else {
        return Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "Missing bearer token",
            json!({}),
        )));
    };
    let mut s = sh.state();
    let Some(token) = s.tokens.get(bearer).cloned() else {
        return Err(Box::new(invalid()));
    };
    if token.expires_at <= tokio::time::Instant::now() {
        s.tokens.remove(bearer);
        return Err(Box::new(invalid()));
    }
    if !scope_allows(&token.scopes, resource, write, &sh.config.project_key) {
        let kind = if write { "manage" } else { "view" };
        return Err(Box::new(error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            &format!(
                "Insufficient scope. One of the following scopes is missing: {kind}_{}",
                permission(resource)
            ),
            json!({}),
        )));
    }
    Ok(token.client_id)
}

fn fault_response(fault: Fault) -> Option<Response> {
    match fault {
        Fault::RateLimited(_) => Some(error(
            StatusCode::TOO_MANY_REQUESTS,
            "General",
            "Too Many Requests",
            json!({}),
        )),
        Fault::ServerError(502) => Some(error(
            StatusCode::BAD_GATEWAY,
            "BadGateway",
            "Bad Gateway",
            json!({}),
        )),
        Fault::ServerError(503) => Some(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "OverCapacity",
            "The service is currently over capacity. Please retry later.",
            json!({}),
        )),
        Fault::ServerError(status) => Some(error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "General",
            "Internal Server Error",
            json!({}),
        )),
        Fault::Latency(_) | Fault::Drop => None,
    }
}

/// One parsed API path: `/{projectKey}[/in-store/key={storeKey}]/{resource}[/{id}]`.
#[derive(Debug)]
pub(crate) struct ApiPath {
    pub(crate) store: Option<String>,
    pub(crate) resource: String,
    pub(crate) id: Option<String>,
}

fn parse_path(project: &str, path: &str) -> Option<ApiPath> {
    let mut parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    if parts.first() != Some(&project) {
        return None;
    }
    parts.remove(0);
    let mut store = None;
    if parts.first() == Some(&"in-store") {
        let key = parts.get(1)?.strip_prefix("key=")?;
        store = Some(key.to_owned());
        parts.drain(..2);
    }
    match parts.as_slice() {
        [resource] => Some(ApiPath {
            store,
            resource: (*resource).to_owned(),
            id: None,
        }),
        [resource, id] => Some(ApiPath {
            store,
            resource: (*resource).to_owned(),
            id: Some((*id).to_owned()),
        }),
        _ => None,
    }
}

async fn api(
    State(sh): State<Arc<Shared>>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    {
        let mut s = sh.state();
        s.requests += 1;
        let target = uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), ToString::to_string);
        let decoded = url::form_urlencoded::parse(target.as_bytes())
            .map(|(k, v)| {
                if v.is_empty() {
                    k.into_owned()
                } else {
                    format!("{k}={v}")
                }
            })
            .collect::<Vec<_>>()
            .join("&");
        s.log.push((method.to_string(), decoded));
    }
    let mut drop_body = false;
    if let Some(fault) = sh.faults.next_fault() {
        match fault {
            Fault::Latency(d) => tokio::time::sleep(d).await,
            Fault::Drop => drop_body = true,
            other => {
                if let Some(response) = fault_response(other) {
                    return response;
                }
            }
        }
    }
    let Some(path) = parse_path(&sh.config.project_key, uri.path()) else {
        return error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("The endpoint '{}' was not found.", uri.path()),
            json!({}),
        );
    };
    let write = method == Method::POST || method == Method::DELETE;
    let client = match authorize(&sh, &headers, &path.resource, write) {
        Ok(client) => client,
        Err(response) => return *response,
    };
    if let Some(quota) = &sh.quota {
        let state = quota
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if !state.allowed {
            return error(
                StatusCode::TOO_MANY_REQUESTS,
                "General",
                "Too Many Requests",
                json!({}),
            );
        }
    }
    if let Some(store) = &path.store
        && !sh.state().stores.contains(store)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            &format!("The Store with key '{store}' was not found."),
            json!({}),
        );
    }
    let q = pairs(uri.query());
    let response = super::routes::dispatch(&sh, &method, &path, &q, &body, &client);
    if drop_body {
        return cartograph_sim::faults::cut_body(response);
    }
    response
}

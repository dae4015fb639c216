//! What every route shares: JSON errors in OpenAI's shape, body parsing, the bearer token, the
//! concurrency limit, and the health and readiness probes.

use std::path::Path;

use anyhow::{bail, Context, Result};
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use super::Shared;

/// An error answer: `{"error": {"message", "type", "param", "code"}}`, as OpenAI's API writes them,
/// so its clients raise their usual exceptions.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400: the body is not the JSON the route reads.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 413: the body or one of its texts is over a limit.
    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message)
    }

    /// 422: well-formed, but asks for what the server does not do (too many texts, bad settings).
    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 500: the server failed; the message names no post text.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    fn kind(&self) -> &'static str {
        match self.status {
            StatusCode::UNAUTHORIZED => "authentication_error",
            StatusCode::SERVICE_UNAVAILABLE => "server_busy",
            status if status.is_server_error() => "server_error",
            _ => "invalid_request_error",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"message": self.message, "type": self.kind(), "param": null, "code": null}});
        let mut response = json_response(self.status, &body);
        match self.status {
            StatusCode::SERVICE_UNAVAILABLE => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            StatusCode::UNAUTHORIZED => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

/// `value` as a JSON response with `status`.
pub fn json_response(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            Body::from(bytes),
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The request body as `T`: 413 over the body limit, 400 for anything that is not such JSON.
pub fn parse_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large("the request body is over the server's limit (--max-body-bytes)")
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request(format!("bad JSON body: {e}")))
}

/// The texts of an `input`: a string, or a list of strings and of `{"type": "text", "text": ...}`
/// parts (OpenAI's multi-modal form; other parts are refused). At most `max_batch`.
pub fn texts_of(input: Value, max_batch: usize) -> Result<Vec<String>, ApiError> {
    let items = match input {
        Value::String(text) => return Ok(vec![text]),
        Value::Array(items) => items,
        other => {
            return Err(ApiError::bad_request(format!(
                "`input` must be a string or a list, not {}",
                kind_of(&other)
            )))
        }
    };
    if items.len() > max_batch {
        return Err(ApiError::unprocessable(format!(
            "{} inputs in one request; the server takes at most {max_batch} (--max-batch)",
            items.len()
        )));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(text) => Ok(text),
            Value::Object(mut part) if part.get("type") == Some(&json!("text")) => {
                match part.remove("text") {
                    Some(Value::String(text)) => Ok(text),
                    _ => Err(ApiError::bad_request(format!(
                        "input[{i}]: a text part needs a string `text`"
                    ))),
                }
            }
            Value::Object(part) => Err(ApiError::bad_request(format!(
                "input[{i}]: only text is scored, not `{}` parts",
                part.get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("untyped")
            ))),
            other => Err(ApiError::bad_request(format!(
                "input[{i}] must be a string or a text part, not {}",
                kind_of(&other)
            ))),
        })
        .collect()
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The token in an API key file (surrounding whitespace ignored; an empty file is an error).
pub fn read_api_key(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the API key file {}", path.display()))?;
    let key = text.trim();
    if key.is_empty() {
        bail!("the API key file {} is empty", path.display());
    }
    Ok(key.to_owned())
}

/// 401 unless the request carries the server's bearer token (when it has one).
pub async fn require_api_key(State(app): Shared, request: Request, next: Next) -> Response {
    if let Some(key) = &app.api_key {
        let sent = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !sent.is_some_and(|sent| same_secret(sent.trim().as_bytes(), key.as_bytes())) {
            return ApiError::new(StatusCode::UNAUTHORIZED, "missing or wrong bearer token")
                .into_response();
        }
    }
    next.run(request).await
}

/// Compares in time that depends on the lengths only, not on where the bytes differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 503 with `Retry-After` when `--max-concurrent` requests are already being scored, instead of
/// queueing without bound. The refused request's body is read first (up to `--max-body-bytes`) and
/// dropped: answering while a client is still sending makes it see a reset connection, not the 503.
pub async fn limit_concurrency(State(app): Shared, request: Request, next: Next) -> Response {
    match app.slots.clone().try_acquire_owned() {
        Ok(_permit) => next.run(request).await,
        Err(_) => {
            let _ = axum::body::to_bytes(request.into_body(), app.max_body_bytes).await;
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is at its concurrency limit; retry shortly",
            )
            .into_response()
        }
    }
}

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Response {
    json_response(StatusCode::OK, &json!({"status": "ok"}))
}

/// `GET /readyz`: 200 when the model is loaded or the fast engine was chosen (`--rules-only`); 503
/// with the reason when the model was wanted and could not be loaded (the server still scores,
/// with rules only).
pub async fn readyz(State(app): Shared) -> Response {
    let engine = app.engine.mode();
    match app.engine.unready_reason() {
        None => json_response(StatusCode::OK, &json!({"ready": true, "engine": engine})),
        Some(why) => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"ready": false, "engine": engine, "reason": why.to_string()}),
        ),
    }
}

/// Any other route: 404 in the same error shape.
pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such route; see /v1/moderations, /v1/score, /healthz, /readyz, /metrics",
    )
}

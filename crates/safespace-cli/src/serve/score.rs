//! `POST /v1/score`: safespace's own reports, with per-request settings.
//!
//! Request: `{"input": "text" | ["text", ...], "settings": {...}}`, where `settings` is the
//! [`safespace::Settings`] object every surface reads (policy, locale, thresholds, rules,
//! disable_rules, max_input_bytes) and replaces the server's for this request. Response:
//! `{"results": [Report, ...]}` in input order.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use safespace::Report;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::http::{json_response, parse_body, ApiError};
use super::Shared;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoreRequest {
    input: Value,
    #[serde(default)]
    settings: Option<Value>,
}

#[derive(Serialize)]
struct ScoreResponse {
    results: Vec<Report>,
}

/// The handler.
pub async fn score(
    State(app): Shared,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: ScoreRequest = parse_body(body)?;
    let (_, reports) = app.score(request.input, request.settings).await?;
    Ok(json_response(
        StatusCode::OK,
        &ScoreResponse { results: reports },
    ))
}

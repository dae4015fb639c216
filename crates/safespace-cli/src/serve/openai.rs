//! `POST /v1/moderations`, compatible with OpenAI's moderation API: a platform switches by changing
//! its client's base URL.
//!
//! Request: `{"input": "text" | ["text", ...] | [{"type": "text", "text": "..."}], "model": ...}`
//! (`model` is accepted and ignored). Response: `{"id", "model", "results": [...]}`, one result per
//! input with `flagged`, `categories`, `category_scores` and `category_applied_input_types` under
//! OpenAI's thirteen category names, and the full safespace report under `safespace`.
//!
//! Mapping: `self-harm` and `harassment` are safespace's categories; `self-harm/intent`,
//! `self-harm/instructions`, `harassment/threatening` and `hate` are its labels `intent`, `method`,
//! `threat` and `identity_attack` (flagged when their category is flagged and the label's score
//! reaches the category's threshold). Categories safespace does not score (sexual, violence,
//! illicit, ...) are present as `false` and `0`. `flagged` is true when safespace flags any of its
//! categories, misinformation included (it has no OpenAI name; see `safespace.flagged`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use safespace::{Category, Detector, Label, Report};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::http::{json_response, parse_body, ApiError};
use super::Shared;

/// Where an OpenAI category's score comes from.
#[derive(Clone, Copy)]
enum Source {
    Category(Category),
    Label(Label),
    NotScored,
}

/// OpenAI's moderation categories, in its order, and their safespace source.
const CATEGORIES: [(&str, Source); 13] = [
    ("sexual", Source::NotScored),
    ("sexual/minors", Source::NotScored),
    ("harassment", Source::Category(Category::Harassment)),
    ("harassment/threatening", Source::Label(Label::Threat)),
    ("hate", Source::Label(Label::IdentityAttack)),
    ("hate/threatening", Source::NotScored),
    ("illicit", Source::NotScored),
    ("illicit/violent", Source::NotScored),
    ("self-harm", Source::Category(Category::SelfHarm)),
    ("self-harm/intent", Source::Label(Label::Intent)),
    ("self-harm/instructions", Source::Label(Label::Method)),
    ("violence", Source::NotScored),
    ("violence/graphic", Source::NotScored),
];

#[derive(Deserialize)]
struct ModerationRequest {
    input: Value,
    #[serde(default, rename = "model")]
    _model: Option<Value>,
}

#[derive(Serialize)]
struct ModerationResponse {
    id: String,
    model: String,
    results: Vec<Moderation>,
}

#[derive(Serialize)]
struct Moderation {
    flagged: bool,
    categories: BTreeMap<&'static str, bool>,
    category_scores: BTreeMap<&'static str, f32>,
    category_applied_input_types: BTreeMap<&'static str, [&'static str; 1]>,
    safespace: Report,
}

/// The handler.
pub async fn moderations(
    State(app): Shared,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: ModerationRequest = parse_body(body)?;
    let (detector, reports) = app.score(request.input, None).await?;
    let model = reports
        .first()
        .and_then(|r| r.engine.model.clone())
        .unwrap_or_else(|| format!("safespace-rules@{}", env!("CARGO_PKG_VERSION")));
    let results = reports
        .into_iter()
        .map(|r| moderation(&detector, r))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &ModerationResponse {
            id: next_id(),
            model,
            results,
        },
    ))
}

fn moderation(detector: &Detector, report: Report) -> Moderation {
    let mut categories = BTreeMap::new();
    let mut category_scores = BTreeMap::new();
    for (name, source) in CATEGORIES {
        let (score, flagged) = match source {
            Source::Category(category) => {
                (report.scores.get(category), report.is_flagged(category))
            }
            Source::Label(label) => {
                let category = label.category();
                let score = report.labels.get(&label).copied().unwrap_or(0.0);
                let flagged =
                    report.is_flagged(category) && score >= detector.policy().threshold(category);
                (score, flagged)
            }
            Source::NotScored => (0.0, false),
        };
        categories.insert(name, flagged);
        category_scores.insert(name, score);
    }
    Moderation {
        flagged: !report.flagged.is_empty(),
        categories,
        category_scores,
        category_applied_input_types: CATEGORIES
            .iter()
            .map(|(name, _)| (*name, ["text"]))
            .collect(),
        safespace: report,
    }
}

/// `modr-` and 24 hex digits: the time and a counter, unique per server run.
fn next_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    format!(
        "modr-{started:016x}{:08x}",
        COUNTER.fetch_add(1, Ordering::Relaxed) as u32
    )
}

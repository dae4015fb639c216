//! A moderation queue: batch-score a JSONL file of posts and route each one by the recommended action.
//!
//! ```text
//! cargo run -p safespace-examples --example moderation_queue -- examples/posts.jsonl
//! ```
//!
//! Each input line is `{"id": ..., "text": ...}`. Every post lands in exactly one queue; none is dropped,
//! not even a malformed line (it goes to review with the parse error as the reason).

use std::collections::BTreeMap;
use std::error::Error;

use safespace::{Action, Detector, Report};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Post {
    id: String,
    text: String,
}

/// Where a post goes next on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Route {
    Publish,
    PublishWithContentWarning,
    PublishAndShowResources,
    HoldForReview,
}

fn route(report: &Report) -> Route {
    match report.action {
        Action::Allow => Route::Publish,
        Action::SuggestContentWarning => Route::PublishWithContentWarning,
        Action::ShowCrisisResources => Route::PublishAndShowResources,
        // A blocked post still reaches a person: automatic removal without review is not our call.
        Action::HoldForReview | Action::Block => Route::HoldForReview,
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/posts.jsonl".to_owned());
    let input = std::fs::read_to_string(&path)?;
    let detector = Detector::default();

    let mut posts = Vec::new();
    let mut queues: BTreeMap<Route, Vec<String>> = BTreeMap::new();
    for (number, line) in input
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        match serde_json::from_str::<Post>(line) {
            Ok(post) => posts.push(post),
            Err(e) => queues
                .entry(Route::HoldForReview)
                .or_default()
                .push(format!("line {}: unreadable ({e})", number + 1)),
        }
    }

    let texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    let reports = detector.score_batch(&texts);
    for (post, report) in posts.iter().zip(&reports) {
        let why: Vec<String> = report
            .evidence
            .iter()
            .filter(|e| e.weight >= 0.3)
            .map(|e| format!("{}/{} \"{}\"", e.category, e.subcategory, e.text))
            .collect();
        let warnings: Vec<String> = report
            .content_warnings
            .iter()
            .map(ToString::to_string)
            .collect();
        let line = format!(
            "{} [{}] {} {}",
            post.id,
            report.severity,
            why.join(", "),
            if warnings.is_empty() {
                String::new()
            } else {
                format!("(CW: {})", warnings.join(", "))
            }
        );
        queues.entry(route(report)).or_default().push(line);
    }

    for (route, items) in &queues {
        println!("{route:?} ({})", items.len());
        for item in items {
            println!("  {item}");
        }
    }
    Ok(())
}

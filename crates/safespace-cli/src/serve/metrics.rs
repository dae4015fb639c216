//! `GET /metrics`: Prometheus text. Requests by route and status, a latency histogram by route,
//! texts scored, flags per category, and the engine mode.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use safespace::{Category, Report};

use super::Shared;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The routes metrics name; any other path counts as `other` (a path is client-chosen, so it never
/// becomes a label value itself).
const ROUTES: [&str; 5] = [
    "/v1/moderations",
    "/v1/score",
    "/healthz",
    "/readyz",
    "/metrics",
];

/// The route label for a request path.
pub fn route(path: &str) -> &'static str {
    ROUTES.into_iter().find(|r| *r == path).unwrap_or("other")
}

#[derive(Default)]
pub struct Metrics {
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    requests: BTreeMap<(&'static str, u16), u64>,
    latency: BTreeMap<&'static str, Histogram>,
    texts: u64,
    flagged: [u64; 3],
}

#[derive(Default)]
struct Histogram {
    /// Requests at or under each bound of [`BUCKETS`] (not cumulative; summed when rendered).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Metrics {
    /// Counts one request.
    pub fn record_request(&self, route: &'static str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *counts.requests.entry((route, status)).or_default() += 1;
        let histogram = counts.latency.entry(route).or_default();
        if let Some(i) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            histogram.buckets[i] += 1;
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// Counts scored texts and their flags.
    pub fn record_reports(&self, reports: &[Report]) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.texts += reports.len() as u64;
        for category in reports.iter().flat_map(|r| &r.flagged) {
            counts.flagged[category.index()] += 1;
        }
    }

    fn render(&self, mode: &str, ready: bool) -> String {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str(
            "# HELP safespace_requests_total HTTP requests answered, by route and status.\n",
        );
        out.push_str("# TYPE safespace_requests_total counter\n");
        for ((route, status), n) in &counts.requests {
            let _ = writeln!(
                out,
                "safespace_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP safespace_request_duration_seconds Time to answer a request, by route.\n",
        );
        out.push_str("# TYPE safespace_request_duration_seconds histogram\n");
        for (route, histogram) in &counts.latency {
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(histogram.buckets) {
                cumulative += n;
                let _ = writeln!(out, "safespace_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}");
            }
            let _ = writeln!(
                out,
                "safespace_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "safespace_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "safespace_request_duration_seconds_count{{route=\"{route}\"}} {}",
                histogram.count
            );
        }
        out.push_str("# HELP safespace_texts_scored_total Texts scored.\n");
        out.push_str("# TYPE safespace_texts_scored_total counter\n");
        let _ = writeln!(out, "safespace_texts_scored_total {}", counts.texts);
        out.push_str("# HELP safespace_flagged_total Texts flagged, by category.\n");
        out.push_str("# TYPE safespace_flagged_total counter\n");
        for category in Category::ALL {
            let _ = writeln!(
                out,
                "safespace_flagged_total{{category=\"{category}\"}} {}",
                counts.flagged[category.index()]
            );
        }
        out.push_str(
            "# HELP safespace_engine_info The engine scoring requests (1 for the mode in use).\n",
        );
        out.push_str("# TYPE safespace_engine_info gauge\n");
        let _ = writeln!(out, "safespace_engine_info{{mode=\"{mode}\"}} 1");
        out.push_str("# HELP safespace_ready 1 when /readyz answers 200.\n");
        out.push_str("# TYPE safespace_ready gauge\n");
        let _ = writeln!(out, "safespace_ready {}", u8::from(ready));
        out
    }
}

/// The handler.
pub async fn metrics(State(app): Shared) -> Response {
    let text = app
        .metrics
        .render(app.engine.mode(), app.engine.unready_reason().is_none());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        text,
    )
        .into_response()
}

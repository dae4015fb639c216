//! `safespace serve`: the detector over HTTP, for platforms that moderate from their backend.
//!
//! Routes: `POST /v1/moderations` (OpenAI's moderation API, see [`openai`]), `POST /v1/score`
//! (safespace reports, see [`score`]), `GET /healthz`, `GET /readyz` and `GET /metrics`
//! (Prometheus text, see [`metrics`]). The `/v1/` routes sit behind the optional bearer token, the
//! body limit and the concurrency limit ([`http`]); scoring runs on the rayon pool, off the async
//! runtime ([`engine`]). No log line holds post text: one line per request gives its method, route,
//! status and time.

mod engine;
mod http;
mod metrics;
mod openai;
mod score;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::Semaphore;

use crate::options::ServeArgs;
use engine::Engine;
use metrics::Metrics;

/// What every handler shares.
struct App {
    engine: Engine,
    metrics: Metrics,
    /// The bearer token `/v1/` requests must carry, when the server has one.
    api_key: Option<String>,
    /// One permit per `/v1/` request being scored.
    slots: Arc<Semaphore>,
    max_batch: usize,
    /// The largest request body read.
    max_body_bytes: usize,
}

type Shared = State<Arc<App>>;

impl App {
    /// Scores a request's `input` with the detector for its `settings` (the server's when `None`),
    /// and counts the texts and flags.
    async fn score(
        &self,
        input: serde_json::Value,
        settings: Option<serde_json::Value>,
    ) -> Result<(Arc<safespace::Detector>, Vec<safespace::Report>), http::ApiError> {
        let texts = http::texts_of(input, self.max_batch)?;
        let detector = self.engine.detector_for(settings).await?;
        let reports = engine::score(detector.clone(), texts).await?;
        self.metrics.record_reports(&reports);
        Ok((detector, reports))
    }
}

/// Builds the detector, binds the address and serves until SIGTERM or Ctrl-C.
pub fn run(args: ServeArgs) -> Result<ExitCode> {
    let api_key = args
        .api_key_file
        .as_deref()
        .map(http::read_api_key)
        .transpose()?;
    let engine = Engine::start(args.detector)?;
    let app = Arc::new(App {
        engine,
        metrics: Metrics::default(),
        api_key,
        slots: Arc::new(Semaphore::new(args.max_concurrent)),
        max_batch: args.max_batch,
        max_body_bytes: args.max_body_bytes,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(app, args.listen, args.max_body_bytes))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(app: Arc<App>, listen: std::net::SocketAddr, max_body_bytes: usize) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let api = Router::new()
        .route("/v1/moderations", post(openai::moderations))
        .route("/v1/score", post(score::score))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(middleware::from_fn_with_state(
            app.clone(),
            http::limit_concurrency,
        ))
        .layer(middleware::from_fn_with_state(
            app.clone(),
            http::require_api_key,
        ));
    let router = Router::new()
        .route("/healthz", get(http::healthz))
        .route("/readyz", get(http::readyz))
        .route("/metrics", get(metrics::metrics))
        .merge(api)
        .fallback(http::not_found)
        .layer(middleware::from_fn_with_state(app.clone(), observe))
        .with_state(app.clone());
    eprintln!(
        "safespace: listening on http://{} (engine: {})",
        listener.local_addr()?,
        app.engine.mode()
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the server stopped")?;
    eprintln!("safespace: stopped");
    Ok(())
}

/// Counts the request and its time in the metrics and writes its access-log line: method, route,
/// status and milliseconds — never the body.
async fn observe(State(app): Shared, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = metrics::route(request.uri().path());
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    app.metrics
        .record_request(route, response.status().as_u16(), elapsed);
    eprintln!(
        "{method} {route} {} {:.1}ms",
        response.status().as_u16(),
        elapsed.as_secs_f64() * 1e3
    );
    response
}

/// Resolves on SIGTERM or Ctrl-C; the server then stops accepting and finishes what is in flight.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    eprintln!("safespace: shutting down after the requests in flight");
}

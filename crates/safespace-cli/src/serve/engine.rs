//! The detectors the server scores with: the one its options describe, and one per distinct
//! `settings` object a request sends (built once, kept in a small cache). Scoring runs on the
//! rayon pool so the async runtime keeps answering.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use safespace::{Detector, Error, Report, Settings};
use serde::Deserialize;
use serde_json::Value;

use super::http::ApiError;
use crate::options::DetectorArgs;
use crate::run::{build_detector, detector_with};

/// Distinct request settings whose detectors are kept; the oldest goes first.
const CACHED_SETTINGS: usize = 16;

pub struct Engine {
    args: DetectorArgs,
    server: Arc<Detector>,
    by_settings: Mutex<Vec<(String, Arc<Detector>)>>,
}

impl Engine {
    /// Builds the server's detector (a bad option or rule file fails here, before binding; a model
    /// that cannot load is a warning, as for every subcommand).
    pub fn start(args: DetectorArgs) -> Result<Engine> {
        let server = Arc::new(build_detector(&args)?);
        Ok(Engine {
            args,
            server,
            by_settings: Mutex::new(Vec::new()),
        })
    }

    /// `model+rules` or `fast`.
    pub fn mode(&self) -> &'static str {
        self.server.mode().as_str()
    }

    /// Why the server is not ready: the model was wanted and could not be loaded.
    pub fn unready_reason(&self) -> Option<&safespace::ModelError> {
        self.server.model_unavailable_reason()
    }

    /// The detector for a request: the server's, or one built with the request's `settings`
    /// (which replace the server's policy, thresholds, locale and rules; the engine stays the
    /// server's). Rule files are refused (the server's disk is not the client's), and so is an
    /// input limit above the server's.
    pub async fn detector_for(
        &self,
        request_settings: Option<Value>,
    ) -> Result<Arc<Detector>, ApiError> {
        let Some(value) = request_settings else {
            return Ok(self.server.clone());
        };
        let key = value.to_string();
        if let Some(detector) = self.cached(&key) {
            return Ok(detector);
        }
        let mut settings = Settings::deserialize(value)
            .map_err(|e| ApiError::unprocessable(format!("settings: {e}")))?;
        if !settings.rules_files.is_empty() {
            return Err(ApiError::unprocessable(
                "settings: rules_files is not accepted in a request; send the rules' text in `rules`",
            ));
        }
        let engine = self.args.engine();
        if settings.engine.is_some_and(|asked| asked != engine) {
            return Err(ApiError::unprocessable(format!(
                "settings: the server runs the {engine} engine; a request cannot change it"
            )));
        }
        let limit = self.server.max_input_bytes();
        match settings.max_input_bytes {
            Some(asked) if asked > limit => {
                return Err(ApiError::unprocessable(format!(
                    "settings: max_input_bytes {asked} is over the server's limit of {limit}"
                )))
            }
            None => settings.max_input_bytes = Some(limit),
            Some(_) => {}
        }
        let args = self.args.clone();
        let built = tokio::task::spawn_blocking(move || detector_with(&args, settings))
            .await
            .map_err(|_| ApiError::internal("building the detector failed"))?
            .map_err(|e| ApiError::unprocessable(format!("settings: {e:#}")))?;
        let detector = Arc::new(built);
        let mut cache = self.by_settings.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() == CACHED_SETTINGS {
            cache.remove(0);
        }
        cache.push((key, detector.clone()));
        Ok(detector)
    }

    fn cached(&self, key: &str) -> Option<Arc<Detector>> {
        let cache = self.by_settings.lock().unwrap_or_else(|e| e.into_inner());
        cache.iter().find(|(k, _)| k == key).map(|(_, d)| d.clone())
    }
}

/// Scores `texts` on the rayon pool. Every text must fit the detector's input limit; the first
/// that does not is named in a 413.
pub async fn score(detector: Arc<Detector>, texts: Vec<String>) -> Result<Vec<Report>, ApiError> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let outcome =
            std::panic::catch_unwind(AssertUnwindSafe(|| detector.try_score_batch(&texts)));
        let _ = sender.send(outcome);
    });
    let results = receiver
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| ApiError::internal("scoring failed"))?;
    results
        .into_iter()
        .enumerate()
        .map(|(i, result)| {
            result.map_err(|e| match e {
                Error::InputTooLarge { .. } => ApiError::too_large(format!("input[{i}]: {e}")),
                other => ApiError::internal(format!("input[{i}]: {other}")),
            })
        })
        .collect()
}

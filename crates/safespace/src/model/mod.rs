//! The bundled classifier: tokenizer + ONNX Runtime session + calibration.
//!
//! Texts longer than the model's window are split into overlapping, sentence-aware windows; a
//! category's probability is the maximum over windows.
//!
//! Each window runs alone. The int8 model quantizes its activations dynamically, with one scale per
//! tensor, so a window batched with others (padded or not) gets scores that depend on its neighbours —
//! by up to 0.05 here. A safety tool must give the same text the same score, so windows are not batched;
//! they run in parallel on rayon instead, each on one of a small pool of sessions (`Session::run` needs
//! exclusive access).

mod manifest;
mod runtime;
mod window;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use ndarray::Array2;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;
use rayon::prelude::*;
use tokenizers::Tokenizer;

use manifest::{calibrate, Manifest};

/// Windows read per text: about 30 KB of English. The rules read all of a longer text; the model
/// reads its beginning.
const MAX_WINDOWS: usize = 64;
/// Bytes handed to the tokenizer per text: enough for [`MAX_WINDOWS`] windows, and it bounds the
/// tokenizer's memory on multi-megabyte inputs.
const MAX_MODEL_BYTES: usize = 64 * 1024;

/// Where the model files come from.
#[derive(Debug, Clone)]
pub(crate) enum ModelSource {
    /// Embedded in the binary (feature `bundled-model`).
    #[cfg(feature = "bundled-model")]
    Bundled,
    /// A folder holding `model.onnx`, `tokenizer.json` and `manifest.json`.
    Dir(PathBuf),
}

impl Default for ModelSource {
    fn default() -> Self {
        #[cfg(feature = "bundled-model")]
        return ModelSource::Bundled;
        #[cfg(not(feature = "bundled-model"))]
        ModelSource::Dir(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../models/safespace-minilm-int8"
        )))
    }
}

#[cfg(feature = "bundled-model")]
mod bundled {
    pub const MODEL: &[u8] = include_bytes!("../../../../models/safespace-minilm-int8/model.onnx");
    pub const TOKENIZER: &[u8] =
        include_bytes!("../../../../models/safespace-minilm-int8/tokenizer.json");
    pub const MANIFEST: &[u8] =
        include_bytes!("../../../../models/safespace-minilm-int8/manifest.json");
}

/// A loaded model, shared by every thread of a detector.
pub(crate) struct Model {
    tokenizer: Tokenizer,
    sessions: Vec<Mutex<Session>>,
    manifest: Manifest,
    temperatures: [f32; 3],
    cls: u32,
    sep: u32,
    sentence_ends: Vec<u32>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("id", &self.manifest.id())
            .finish_non_exhaustive()
    }
}

impl Model {
    /// Loads and verifies the model. `sessions` is how many batches may run at once.
    pub(crate) fn load(
        source: &ModelSource,
        runtime: Option<&Path>,
        sessions: usize,
    ) -> Result<Model, String> {
        let (model, tokenizer, manifest) = read(source)?;
        let manifest = Manifest::parse(&manifest)?;
        manifest.verify("model.onnx", &model)?;
        manifest.verify("tokenizer.json", &tokenizer)?;
        let mut tokenizer =
            Tokenizer::from_bytes(&tokenizer).map_err(|e| format!("tokenizer.json: {e}"))?;
        tokenizer
            .with_truncation(None)
            .map_err(|e| format!("tokenizer.json: {e}"))?;
        tokenizer.with_padding(None);
        let id = |token: &str| {
            tokenizer
                .token_to_id(token)
                .ok_or_else(|| format!("tokenizer.json has no {token} token"))
        };
        let (cls, sep) = (id("[CLS]")?, id("[SEP]")?);
        let sentence_ends = [".", "!", "?"]
            .iter()
            .filter_map(|t| tokenizer.token_to_id(t))
            .collect();
        let environment = runtime::environment(runtime)?;
        let sessions = (0..sessions.max(1))
            .map(|_| {
                Session::builder(environment)
                    .and_then(|b| Ok(b.with_optimization_level(GraphOptimizationLevel::Level3)?))
                    .and_then(|b| Ok(b.with_intra_threads(1)?))
                    .and_then(|mut b| b.commit_from_memory(&model))
                    .map(Mutex::new)
                    .map_err(|e| format!("model.onnx could not be loaded by ONNX Runtime: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Model {
            temperatures: manifest.temperatures(),
            tokenizer,
            sessions,
            manifest,
            cls,
            sep,
            sentence_ends,
        })
    }

    /// `name@hash`, for reports.
    pub(crate) fn id(&self) -> String {
        self.manifest.id()
    }

    /// Calibrated probabilities per text, in input order: the maximum over each text's windows.
    pub(crate) fn predict<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
    ) -> Result<Vec<[f32; 3]>, String> {
        let mut windows: Vec<(usize, Vec<u32>)> = Vec::new();
        for (index, text) in texts.iter().enumerate() {
            let encoding = self
                .tokenizer
                .encode(prefix(text.as_ref(), MAX_MODEL_BYTES), false)
                .map_err(|e| format!("tokenizer failed: {e}"))?;
            let size = self.manifest.max_length - 2;
            let is_end = |t: u32| self.sentence_ends.contains(&t);
            for window in window::windows(encoding.get_ids(), size, is_end)
                .into_iter()
                .take(MAX_WINDOWS)
            {
                windows.push((index, window));
            }
        }
        let scored: Vec<(usize, [f32; 3])> = windows
            .par_iter()
            .map(|(index, window)| self.run_window(window).map(|p| (*index, p)))
            .collect::<Result<_, _>>()?;
        let mut out = vec![[0.0f32; 3]; texts.len()];
        for (index, probabilities) in scored {
            for (slot, p) in out[index].iter_mut().zip(probabilities) {
                *slot = slot.max(p);
            }
        }
        Ok(out)
    }

    /// Calibrated probabilities of one window (wrapped in `[CLS]` ... `[SEP]`).
    fn run_window(&self, window: &[u32]) -> Result<[f32; 3], String> {
        let tokens: Vec<i64> = std::iter::once(self.cls)
            .chain(window.iter().copied())
            .chain([self.sep])
            .map(i64::from)
            .collect();
        let width = tokens.len();
        let tensor = |values: Vec<i64>| {
            Array2::from_shape_vec((1, width), values)
                .map_err(|e| e.to_string())
                .and_then(|a| Tensor::from_array(a).map_err(|e| e.to_string()))
                .map_err(|e| format!("input tensor: {e}"))
        };
        let inputs = ort::inputs![
            "input_ids" => tensor(tokens)?,
            "attention_mask" => tensor(vec![1; width])?,
            "token_type_ids" => tensor(vec![0; width])?,
        ];
        let mut session = self.free_session();
        let outputs = session
            .run(inputs)
            .map_err(|e| format!("model run failed: {e}"))?;
        let (_, p) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| format!("model output: {e}"))?;
        if p.len() != 3 {
            return Err(format!("model returned {} values, expected 3", p.len()));
        }
        Ok([0, 1, 2].map(|c| calibrate(p[c], self.temperatures[c])))
    }

    /// A session nobody is using, or else the first one once it is free.
    fn free_session(&self) -> MutexGuard<'_, Session> {
        self.sessions
            .iter()
            .find_map(|s| s.try_lock().ok())
            .unwrap_or_else(|| {
                self.sessions[0]
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
            })
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn prefix(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

type ModelFiles = (Cow<'static, [u8]>, Cow<'static, [u8]>, Cow<'static, [u8]>);

/// The model, tokenizer and manifest bytes.
fn read(source: &ModelSource) -> Result<ModelFiles, String> {
    match source {
        #[cfg(feature = "bundled-model")]
        ModelSource::Bundled => Ok((
            Cow::Borrowed(bundled::MODEL),
            Cow::Borrowed(bundled::TOKENIZER),
            Cow::Borrowed(bundled::MANIFEST),
        )),
        ModelSource::Dir(dir) => {
            let file = |name: &str| {
                let path = dir.join(name);
                std::fs::read(&path)
                    .map(Cow::Owned)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))
            };
            Ok((
                file("model.onnx")?,
                file("tokenizer.json")?,
                file("manifest.json")?,
            ))
        }
    }
}

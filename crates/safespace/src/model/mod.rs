//! The bundled classifier: tokenizer + inference backend + calibration.
//!
//! Two backends run the same ONNX file: ONNX Runtime (feature `onnxruntime`, fastest natively) and
//! tract (feature `tract`, pure Rust, the one that builds for WebAssembly). With both, tract runs when
//! ONNX Runtime cannot be loaded. With [`ModelArithmetic::Int8`], ONNX Runtime runs the folder's
//! int8 graph instead, with its own temperatures; tract does not run it.
//!
//! Texts longer than the model's window are split into overlapping, sentence-aware windows; a
//! category's probability is the maximum over windows.
//!
//! With ONNX Runtime, windows of similar length (from the texts of a batch, or from one long text) run
//! together in padded batches (see [`window::batches`]); tract runs them one at a time. Batches run in
//! parallel on rayon. Padding is masked, so a window's probabilities depend on the windows beside it
//! only through float rounding (the order of sums in the matrix products; at most 1.1e-5 in a
//! probability over 2,048 posts): `score_batch` equals `score` within that.

#[cfg(not(any(feature = "onnxruntime", feature = "tract")))]
compile_error!("feature `model` needs a backend: enable `onnxruntime` or `tract`");

mod manifest;
#[cfg(feature = "onnxruntime")]
mod onnxruntime;
#[cfg(feature = "tract")]
mod tract;
mod window;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rayon::prelude::*;
use tokenizers::Tokenizer;

use crate::offsets::prefix;
use crate::{ModelArithmetic, ModelError};
use manifest::{calibrate, Manifest, MAIN_GRAPH};

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
    /// A folder holding `model.onnx`, `tokenizer.json` and `manifest.json` (and the int8 graph its
    /// manifest names, if any).
    Dir(PathBuf),
    /// The three files' contents, handed over by the caller (no int8 graph).
    Bytes(Arc<crate::ModelFiles>),
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
    /// The int8 graph, embedded only where ONNX Runtime can run it.
    #[cfg(feature = "onnxruntime")]
    const INT8: &[u8] = include_bytes!("../../../../models/safespace-minilm-int8/model-int8.onnx");

    /// The embedded graph that runs with `arithmetic`.
    pub fn graph(arithmetic: super::ModelArithmetic) -> Result<&'static [u8], super::ModelError> {
        match arithmetic {
            super::ModelArithmetic::Fp32 => Ok(MODEL),
            #[cfg(feature = "onnxruntime")]
            super::ModelArithmetic::Int8 => Ok(INT8),
            #[cfg(not(feature = "onnxruntime"))]
            super::ModelArithmetic::Int8 => Err(super::ModelError::RuntimeMissing(
                super::INT8_NEEDS_ONNXRUNTIME.to_owned(),
            )),
        }
    }
}

/// Why int8 arithmetic does not run without ONNX Runtime.
#[cfg_attr(all(feature = "onnxruntime", not(feature = "tract")), allow(dead_code))]
const INT8_NEEDS_ONNXRUNTIME: &str =
    "int8 model arithmetic runs on ONNX Runtime only; tract runs the fp32 graph (model.onnx)";

/// The models [`Model::shared`] keeps, by where they came from, their `manifest.json`, the
/// session layout asked for and the arithmetic.
type Loaded = BTreeMap<(Origin, Vec<u8>, Option<(usize, usize)>, ModelArithmetic), Arc<Model>>;

/// Where a shared model came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Origin {
    #[cfg(feature = "bundled-model")]
    Bundled,
    Dir(PathBuf),
}

impl Origin {
    /// `None` for models handed over in memory, which are not shared.
    fn of(source: &ModelSource) -> Option<Origin> {
        match source {
            #[cfg(feature = "bundled-model")]
            ModelSource::Bundled => Some(Origin::Bundled),
            ModelSource::Dir(dir) => Some(Origin::Dir(dir.clone())),
            ModelSource::Bytes(_) => None,
        }
    }
}

/// What runs the network.
enum Backend {
    #[cfg(feature = "onnxruntime")]
    OnnxRuntime(onnxruntime::OnnxRuntime),
    #[cfg(feature = "tract")]
    Tract(tract::Tract),
}

impl Backend {
    /// ONNX Runtime when it is compiled in and loads, else tract when compiled in and the arithmetic
    /// is fp32. When neither loads, the error names both failures and has the kind of the more
    /// telling one (a damaged model over a missing runtime).
    #[cfg_attr(not(feature = "onnxruntime"), allow(unused_variables))]
    fn load(model: &[u8], file: &str, options: &LoadOptions) -> Result<Backend, ModelError> {
        let mut failures: Vec<ModelError> = Vec::new();
        #[cfg(feature = "onnxruntime")]
        match onnxruntime::OnnxRuntime::load(model, file, options) {
            Ok(backend) => return Ok(Backend::OnnxRuntime(backend)),
            Err(e) => failures.push(e),
        }
        #[cfg(feature = "tract")]
        match options.arithmetic {
            ModelArithmetic::Fp32 => match tract::Tract::load(model) {
                Ok(backend) => return Ok(Backend::Tract(backend)),
                Err(e) => failures.push(e),
            },
            ModelArithmetic::Int8 => failures.push(ModelError::RuntimeMissing(
                INT8_NEEDS_ONNXRUNTIME.to_owned(),
            )),
        }
        let message = failures
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        Err(
            match failures
                .iter()
                .find(|e| matches!(e, ModelError::Damaged(_)))
            {
                Some(_) => ModelError::Damaged(message),
                None if failures
                    .iter()
                    .all(|e| matches!(e, ModelError::RuntimeMissing(_))) =>
                {
                    ModelError::RuntimeMissing(message)
                }
                None => ModelError::RuntimeFailed(message),
            },
        )
    }

    /// The most windows one run takes: ONNX Runtime runs a padded batch as one tensor; tract's plan
    /// is optimized for a batch of one.
    fn batch_limit(&self) -> usize {
        match self {
            #[cfg(feature = "onnxruntime")]
            Backend::OnnxRuntime(_) => usize::MAX,
            #[cfg(feature = "tract")]
            Backend::Tract(_) => 1,
        }
    }

    /// The model's outputs for a batch of token-id sequences, concatenated in order.
    fn run(&self, batch: &[&[i64]]) -> Result<Vec<f32>, ModelError> {
        match self {
            #[cfg(feature = "onnxruntime")]
            Backend::OnnxRuntime(backend) => backend.run(batch),
            #[cfg(feature = "tract")]
            Backend::Tract(backend) => batch.iter().try_fold(Vec::new(), |mut out, tokens| {
                out.extend(backend.run(tokens)?);
                Ok(out)
            }),
        }
    }
}

/// How to load a model. Only ONNX Runtime reads the library and the session layout; `Model::shared`
/// keeps one model per [`shared_layout`](Self::shared_layout).
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "onnxruntime"), allow(dead_code))]
pub(crate) struct LoadOptions<'a> {
    /// The ONNX Runtime library, when not found the usual way (ignored by tract).
    pub library: Option<&'a Path>,
    /// Whether the session count was asked for (else it is the default).
    pub requested: bool,
    /// How many batches of windows may run at once (ONNX Runtime sessions; tract shares one plan).
    pub sessions: usize,
    /// The threads each session runs one batch on.
    pub threads_per_session: usize,
    /// Which graph runs.
    pub arithmetic: ModelArithmetic,
}

impl<'a> LoadOptions<'a> {
    /// Options for a model loaded in the current rayon pool. By default one single-threaded session
    /// per thread of the pool, at most 4 (later detectors share them, so one built inside a
    /// one-thread pool, as the CLI's `--threads 1`, loads one); with `sessions`, that many, the pool's
    /// threads divided among them; `arithmetic` chooses the graph.
    pub(crate) fn new(
        library: Option<&'a Path>,
        sessions: Option<usize>,
        arithmetic: ModelArithmetic,
    ) -> LoadOptions<'a> {
        let threads = rayon::current_num_threads().max(1);
        let (count, threads_per_session) = match sessions.map(|count| count.max(1)) {
            None => (threads.min(4), 1),
            Some(count) => (count, (threads / count).max(1)),
        };
        LoadOptions {
            library,
            requested: sessions.is_some(),
            sessions: count,
            threads_per_session,
            arithmetic,
        }
    }

    /// The layout a shared model is kept under: the one asked for, or `None` for the default, whose
    /// model every detector that does not ask shares.
    pub(crate) fn shared_layout(&self) -> Option<(usize, usize)> {
        self.requested
            .then_some((self.sessions, self.threads_per_session))
    }
}

/// A loaded model, shared by every thread of a detector.
pub(crate) struct Model {
    tokenizer: Tokenizer,
    backend: Backend,
    manifest: Manifest,
    /// `name@hash` of the graph that runs.
    id: String,
    temperatures: [f32; 3],
    cls: u32,
    sep: u32,
    sentence_ends: Vec<u32>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Model {
    /// The model `source` holds, loaded once per process and shared by every detector that asks for
    /// it with the same session layout (`options.shared_layout()`) and arithmetic: the bundled model,
    /// and a folder's for as long as its `manifest.json` (which records the sha256 of the other
    /// files) is unchanged.
    /// Models handed over in memory and failed loads are not kept. The other `options` matter only
    /// when the model loads (a process holds one ONNX Runtime).
    pub(crate) fn shared(
        source: &ModelSource,
        options: &LoadOptions,
    ) -> Result<Arc<Model>, ModelError> {
        static LOADED: Mutex<Loaded> = Mutex::new(BTreeMap::new());
        let Some(origin) = Origin::of(source) else {
            return Model::load(&read(source, options.arithmetic)?, options).map(Arc::new);
        };
        let mut loaded = LOADED.lock().unwrap_or_else(PoisonError::into_inner);
        // A hit needs only manifest.json (it records the sha256 of the graphs and the tokenizer),
        // not the graph's 24 MB.
        let key = |manifest| {
            let layout = options.shared_layout();
            (origin.clone(), manifest, layout, options.arithmetic)
        };
        let hit = read_manifest(source).and_then(|m| loaded.get(&key(m)).cloned());
        if let Some(model) = hit {
            return Ok(model);
        }
        let files = read(source, options.arithmetic)?;
        let model = Arc::new(Model::load(&files, options)?);
        loaded.insert(key(files.2.to_vec()), model.clone());
        Ok(model)
    }

    /// Verifies and loads the model from its files' bytes.
    fn load(
        (model, tokenizer, manifest): &FileBytes<'_>,
        options: &LoadOptions,
    ) -> Result<Model, ModelError> {
        let manifest = Manifest::parse(manifest)?;
        let graph = manifest.graph(options.arithmetic)?;
        manifest.verify(graph.file, model)?;
        manifest.verify("tokenizer.json", tokenizer)?;
        let mut tokenizer = Tokenizer::from_bytes(tokenizer)
            .map_err(|e| ModelError::Damaged(format!("tokenizer.json: {e}")))?;
        tokenizer
            .with_truncation(None)
            .map_err(|e| ModelError::Damaged(format!("tokenizer.json: {e}")))?;
        tokenizer.with_padding(None);
        let id = |token: &str| {
            tokenizer
                .token_to_id(token)
                .ok_or_else(|| ModelError::Damaged(format!("tokenizer.json has no {token} token")))
        };
        let (cls, sep) = (id("[CLS]")?, id("[SEP]")?);
        let sentence_ends = [".", "!", "?"]
            .iter()
            .filter_map(|t| tokenizer.token_to_id(t))
            .collect();
        let backend = Backend::load(model, graph.file, options)?;
        Ok(Model {
            id: manifest.id(graph.file),
            temperatures: graph.temperatures(),
            tokenizer,
            backend,
            manifest,
            cls,
            sep,
            sentence_ends,
        })
    }

    /// `name@hash` of the graph that runs, for reports.
    pub(crate) fn id(&self) -> String {
        self.id.clone()
    }

    /// Calibrated probabilities per text, in input order: the maximum over each text's windows.
    pub(crate) fn predict<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
    ) -> Result<Vec<[f32; 3]>, ModelError> {
        let per_text: Vec<Vec<Vec<i64>>> = texts
            .par_iter()
            .map(|text| self.windows(text.as_ref()))
            .collect::<Result<_, _>>()?;
        let windows: Vec<(usize, Vec<i64>)> = per_text
            .into_iter()
            .enumerate()
            .flat_map(|(index, windows)| windows.into_iter().map(move |w| (index, w)))
            .collect();
        let mut out = vec![[0.0f32; 3]; texts.len()];
        for (index, probabilities) in self.score_windows(&windows)? {
            for (slot, p) in out[index].iter_mut().zip(probabilities) {
                *slot = slot.max(p);
            }
        }
        Ok(out)
    }

    /// Calibrated probabilities of `(text index, window)` pairs, run in batches of similar length in
    /// parallel; returned as `(text index, probabilities)`, in no particular order.
    fn score_windows(
        &self,
        windows: &[(usize, Vec<i64>)],
    ) -> Result<Vec<(usize, [f32; 3])>, ModelError> {
        let lengths: Vec<usize> = windows.iter().map(|(_, w)| w.len()).collect();
        let parallel = rayon::current_num_threads();
        let batches = window::batches(&lengths, parallel, self.backend.batch_limit());
        let scored: Vec<Vec<(usize, [f32; 3])>> = batches
            .par_iter()
            .map(|batch| {
                let tokens: Vec<&[i64]> = batch.iter().map(|&i| &windows[i].1[..]).collect();
                let probabilities = self.run_batch(&tokens)?;
                Ok(batch
                    .iter()
                    .map(|&i| windows[i].0)
                    .zip(probabilities)
                    .collect())
            })
            .collect::<Result<_, ModelError>>()?;
        Ok(scored.into_iter().flatten().collect())
    }

    /// The token ids of a text's windows, each wrapped in `[CLS]` ... `[SEP]`.
    fn windows(&self, text: &str) -> Result<Vec<Vec<i64>>, ModelError> {
        let encoding = self
            .tokenizer
            .encode(prefix(text, MAX_MODEL_BYTES), false)
            .map_err(|e| ModelError::RuntimeFailed(format!("tokenizer failed: {e}")))?;
        let size = self.manifest.max_length - 2;
        let is_end = |t: u32| self.sentence_ends.contains(&t);
        Ok(window::windows(encoding.get_ids(), size, is_end)
            .into_iter()
            .take(MAX_WINDOWS)
            .map(|window| {
                std::iter::once(self.cls)
                    .chain(window)
                    .chain([self.sep])
                    .map(i64::from)
                    .collect()
            })
            .collect())
    }

    /// Calibrated probabilities of windows run as one batch.
    fn run_batch(&self, windows: &[&[i64]]) -> Result<Vec<[f32; 3]>, ModelError> {
        let p = self.backend.run(windows)?;
        if p.len() != 3 * windows.len() {
            return Err(ModelError::Damaged(format!(
                "model returned {} values for {} windows, expected 3 per window",
                p.len(),
                windows.len()
            )));
        }
        Ok(p.chunks_exact(3)
            .map(|p| [0, 1, 2].map(|c| calibrate(p[c], self.temperatures[c])))
            .collect())
    }
}

/// The bytes of the graph that runs, `tokenizer.json` and `manifest.json`.
type FileBytes<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>, Cow<'a, [u8]>);

/// The graph for `arithmetic`, tokenizer and manifest bytes.
fn read(source: &ModelSource, arithmetic: ModelArithmetic) -> Result<FileBytes<'_>, ModelError> {
    match source {
        #[cfg(feature = "bundled-model")]
        ModelSource::Bundled => Ok((
            Cow::Borrowed(bundled::graph(arithmetic)?),
            Cow::Borrowed(bundled::TOKENIZER),
            Cow::Borrowed(bundled::MANIFEST),
        )),
        ModelSource::Bytes(_) if arithmetic == ModelArithmetic::Int8 => Err(ModelError::NotFound(
            "model files handed over in memory (ModelFiles) hold model.onnx only; int8 arithmetic needs the bundled model or a model folder".to_owned(),
        )),
        ModelSource::Bytes(files) => Ok((
            Cow::Borrowed(&files.model[..]),
            Cow::Borrowed(&files.tokenizer[..]),
            Cow::Borrowed(&files.manifest[..]),
        )),
        ModelSource::Dir(dir) if arithmetic == ModelArithmetic::Fp32 => Ok((
            read_file(dir, MAIN_GRAPH)?,
            read_file(dir, "tokenizer.json")?,
            read_file(dir, "manifest.json")?,
        )),
        ModelSource::Dir(dir) => {
            let manifest = read_file(dir, "manifest.json")?;
            let graph = read_file(dir, Manifest::parse(&manifest)?.graph(arithmetic)?.file)?;
            Ok((graph, read_file(dir, "tokenizer.json")?, manifest))
        }
    }
}

/// The `manifest.json` of a model that can be shared (bundled or a folder), if it can be read.
fn read_manifest(source: &ModelSource) -> Option<Vec<u8>> {
    match source {
        #[cfg(feature = "bundled-model")]
        ModelSource::Bundled => Some(bundled::MANIFEST.to_vec()),
        ModelSource::Dir(dir) => read_file(dir, "manifest.json").ok().map(Cow::into_owned),
        ModelSource::Bytes(_) => None,
    }
}

/// One file of a model folder.
fn read_file(dir: &Path, name: &str) -> Result<Cow<'static, [u8]>, ModelError> {
    let path = dir.join(name);
    std::fs::read(&path)
        .map(Cow::Owned)
        .map_err(|e| ModelError::NotFound(format!("cannot read {}: {e}", path.display())))
}

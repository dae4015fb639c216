//! [`ModelFiles`]: a model handed over in memory.

/// The three files of a model folder, in memory: `model.onnx`, `tokenizer.json` and `manifest.json`.
/// They run with fp32 arithmetic; [`ModelArithmetic::Int8`](crate::ModelArithmetic) needs the bundled
/// model or a model folder.
///
/// For platforms without a file system (WebAssembly, where the page fetches the files so the browser
/// caches them apart from the code) and for models the caller stores elsewhere. The manifest's
/// SHA-256 hashes are checked against the other two files when the detector is built.
///
/// ```no_run
/// use safespace::{Detector, ModelFiles};
///
/// let dir = std::path::Path::new("models/safespace-minilm-int8");
/// let files = ModelFiles {
///     model: std::fs::read(dir.join("model.onnx"))?,
///     tokenizer: std::fs::read(dir.join("tokenizer.json"))?,
///     manifest: std::fs::read(dir.join("manifest.json"))?,
/// };
/// let detector = Detector::builder().model_files(files).require_model(true).build()?;
/// assert!(detector.uses_model());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ModelFiles {
    /// The ONNX network (`model.onnx`).
    pub model: Vec<u8>,
    /// The Hugging Face tokenizer (`tokenizer.json`).
    pub tokenizer: Vec<u8>,
    /// Name, hashes and calibration (`manifest.json`).
    pub manifest: Vec<u8>,
}

impl std::fmt::Debug for ModelFiles {
    /// Sizes, not contents: the model is megabytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelFiles")
            .field("model_bytes", &self.model.len())
            .field("tokenizer_bytes", &self.tokenizer.len())
            .field("manifest_bytes", &self.manifest.len())
            .finish()
    }
}

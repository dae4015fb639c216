//! WebAssembly bindings of safespace, the native half of the `safespace` npm package.
//!
//! JavaScript never calls this module directly: the package's `safespace.js` wraps it, checks argument
//! types, and turns the JSON that crosses the boundary into plain objects. Options come in as the JSON
//! of [`safespace::Settings`] (the wrapper renames its camelCase keys); reports go out as JSON whose
//! evidence offsets are JavaScript string indices ([`report::to_json`]).
//!
//! Two builds come from this crate: without features the detector runs the fast engine, the rules and
//! the lexical tier (small enough to score on every keystroke); with feature `model` it can also run
//! the bundled model through tract, from files the page passes in.

mod report;

use wasm_bindgen::prelude::*;

/// A builder configured with `settings`, the JSON of [`safespace::Settings`], and, when given, the
/// lexical tier in `lexical` (the bytes of a `weights.bin`) named `lexical_name` (default `custom`).
fn builder(
    settings: &str,
    lexical: Option<Vec<u8>>,
    lexical_name: Option<String>,
) -> Result<safespace::DetectorBuilder, safespace::Error> {
    let settings: safespace::Settings = serde_json::from_str(settings)
        .map_err(|e| safespace::Error::InvalidOption(format!("options: {e}")))?;
    let mut builder = safespace::Detector::builder().settings(settings);
    if let Some(bytes) = lexical {
        let name = lexical_name.unwrap_or_else(|| "custom".to_owned());
        let tier = safespace::LexicalTier::from_bytes(name, &bytes)
            .map_err(|e| safespace::Error::Lexical(e.to_string()))?;
        builder = builder.lexical_tier(std::sync::Arc::new(tier));
    }
    Ok(builder)
}

/// A safespace detector living in WebAssembly memory.
#[wasm_bindgen]
pub struct Detector {
    inner: safespace::Detector,
}

#[wasm_bindgen]
impl Detector {
    /// A fast-engine detector (rules and lexical tier). `options` is the JSON of
    /// [`safespace::Settings`]; `lexical`, when given, a tier's `weights.bin` to run instead of the
    /// built-in one.
    #[wasm_bindgen(constructor)]
    pub fn new(
        options: &str,
        lexical: Option<Vec<u8>>,
        lexical_name: Option<String>,
    ) -> Result<Detector, JsError> {
        let builder = builder(options, lexical, lexical_name)?.engine(safespace::Engine::Fast);
        Ok(Detector {
            inner: builder.build()?,
        })
    }

    /// A detector running the model in `model`, `tokenizer` and `manifest` (the files' bytes) fused
    /// with the rules. Fails when the model cannot be loaded.
    #[cfg(feature = "model")]
    #[wasm_bindgen(js_name = withModel)]
    pub fn with_model(
        options: &str,
        model: Vec<u8>,
        tokenizer: Vec<u8>,
        manifest: Vec<u8>,
        lexical: Option<Vec<u8>>,
        lexical_name: Option<String>,
    ) -> Result<Detector, JsError> {
        let files = safespace::ModelFiles {
            model,
            tokenizer,
            manifest,
        };
        let builder = builder(options, lexical, lexical_name)?
            .model_files(files)
            .require_model(true);
        Ok(Detector {
            inner: builder.build()?,
        })
    }

    /// Whether this build can run the model (feature `model`).
    #[wasm_bindgen(js_name = buildHasModel)]
    pub fn build_has_model() -> bool {
        cfg!(feature = "model")
    }

    /// Whether this detector runs the model.
    #[wasm_bindgen(getter, js_name = usesModel)]
    pub fn uses_model(&self) -> bool {
        self.inner.uses_model()
    }

    /// The report for `text`, as JSON.
    pub fn score(&self, text: &str) -> Result<String, JsError> {
        let report = self.inner.try_score(text)?;
        Ok(report::to_json(&report)?)
    }

    /// The reports for `texts`, as a JSON array in input order; a text over the size limit fails the
    /// call, naming its index.
    #[wasm_bindgen(js_name = scoreBatch)]
    pub fn score_batch(&self, texts: Vec<String>) -> Result<String, JsError> {
        let reports = self
            .inner
            .try_score_batch(&texts)
            .into_iter()
            .enumerate()
            .map(|(index, result)| {
                result.map_err(|e| JsError::new(&format!("texts[{index}]: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(report::to_json(&reports)?)
    }
}

//! [`DetectorBuilder`]: options, validation, and loading what a [`Detector`] runs (the rules, compiled
//! once per process for the built-in set, and the model, shared through [`crate::model`]'s cache).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, ModelError, Result};
use crate::input_limit::InputLimit;
use crate::lexical::LexicalTier;
#[cfg(feature = "model")]
use crate::model::{LoadOptions, Model, ModelSource};
use crate::normalize::Normalizer;
use crate::policy::{Policy, Preset};
use crate::resources::Locale;
use crate::rules::{RuleEngine, RuleSource};
use crate::settings::{RuleText, Settings};
use crate::{Category, Detector, Engine, ModelArithmetic, DEFAULT_MAX_INPUT_BYTES};

/// Configures a [`Detector`]. Options are validated by [`DetectorBuilder::build`].
///
/// ```
/// use safespace::{Category, Detector, Preset};
/// let detector = Detector::builder()
///     .preset(Preset::General)
///     .threshold(Category::Harassment, 0.8)
///     .disable_rule("harassment.insult.term")
///     .add_rules_str("ours.toml", r#"
///         [[rule]]
///         id = "ours.pile_on"
///         labels = ["harassment/bullying"]
///         weight = 0.9
///         severity = "medium"
///         terms = ["ratio plus you fell off"]
///     "#)
///     .build()?;
/// assert!(detector.score("Ratio plus you fell off").is_flagged(Category::Harassment));
/// # Ok::<(), safespace::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct DetectorBuilder {
    policy: Policy,
    thresholds: Vec<(Category, f32)>,
    locale: Locale,
    extra_rules: Vec<RuleSource>,
    disabled: BTreeSet<String>,
    deferred_error: Option<Error>,
    engine: Engine,
    lexical: LexicalChoice,
    model: ModelChoice,
    require_model: bool,
    onnxruntime: Option<std::path::PathBuf>,
    model_sessions: Option<usize>,
    model_arithmetic: ModelArithmetic,
    max_input_bytes: Option<usize>,
}

impl DetectorBuilder {
    /// The longest text, in bytes, that is scored whole (default [`DEFAULT_MAX_INPUT_BYTES`]):
    /// [`Detector::try_score`] refuses longer texts, [`Detector::score`] scores their beginning and
    /// says so in `engine.note`. It bounds the memory and time of one call; must be at least 1.
    ///
    /// ```
    /// let detector = safespace::Detector::builder().rules_only(true).max_input_bytes(1 << 20).build()?;
    /// assert_eq!(detector.max_input_bytes(), 1 << 20);
    /// assert!(safespace::Detector::builder().max_input_bytes(0).build().is_err());
    /// # Ok::<(), safespace::Error>(())
    /// ```
    pub fn max_input_bytes(mut self, limit: usize) -> Self {
        self.max_input_bytes = Some(limit);
        self
    }

    /// Sets the policy (thresholds and actions). Thresholds set with [`threshold`](Self::threshold)
    /// still apply on top.
    ///
    /// ```
    /// let d = safespace::Detector::builder().policy(safespace::Policy::strict()).build().unwrap();
    /// assert_eq!(d.policy().name(), safespace::Preset::Strict);
    /// ```
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the policy to a preset's defaults.
    ///
    /// ```
    /// let d = safespace::Detector::builder().preset(safespace::Preset::General).build().unwrap();
    /// assert_eq!(d.policy().name(), safespace::Preset::General);
    /// ```
    pub fn preset(self, preset: Preset) -> Self {
        self.policy(Policy::preset(preset))
    }

    /// Overrides the threshold of one category, in `(0, 1]`.
    ///
    /// ```
    /// use safespace::{Category, Detector};
    /// assert!(Detector::builder().threshold(Category::SelfHarm, 1.5).build().is_err());
    /// ```
    pub fn threshold(mut self, category: Category, threshold: f32) -> Self {
        self.thresholds.push((category, threshold));
        self
    }

    /// Chooses the crisis resources shown with self-harm reports.
    ///
    /// ```
    /// let d = safespace::Detector::builder().locale(safespace::Locale::Ca).build().unwrap();
    /// assert_eq!(d.score("i want to die").resources[0].region, "CA");
    /// ```
    pub fn locale(mut self, locale: Locale) -> Self {
        self.locale = locale;
        self
    }

    /// Adds a rule file (same format as the built-in `rules/*.toml`). Read now; errors surface from
    /// [`build`](Self::build) with the file, line and problem.
    ///
    /// ```
    /// let err = safespace::Detector::builder().add_rules_file("no/such/file.toml").build().unwrap_err();
    /// assert!(err.to_string().contains("no/such/file.toml"));
    /// ```
    pub fn add_rules_file(mut self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        match std::fs::read_to_string(path) {
            Ok(contents) => self.extra_rules.push(RuleSource {
                name: path.display().to_string(),
                contents,
            }),
            Err(source) => {
                self.deferred_error.get_or_insert(Error::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        }
        self
    }

    /// Adds rules from a string; `name` identifies it in error messages.
    ///
    /// ```
    /// let d = safespace::Detector::builder()
    ///     .add_rules_str("mine.toml", "[[rule]]\nid = 'mine.x'\nlabels = ['harassment/insult']\nweight = 0.9\nterms = ['bozo']")
    ///     .build()
    ///     .unwrap();
    /// assert!(d.score("what a BOZO").scores.harassment > 0.8);
    /// ```
    pub fn add_rules_str(mut self, name: impl Into<String>, contents: impl Into<String>) -> Self {
        self.extra_rules.push(RuleSource {
            name: name.into(),
            contents: contents.into(),
        });
        self
    }

    /// Applies [`Settings`]: the preset first, then thresholds, rules, disabled rules and the size
    /// limit. Errors (a bad threshold, an unreadable rule file) surface from [`build`](Self::build).
    ///
    /// ```
    /// use safespace::{Detector, Locale, Preset, Settings};
    /// let settings = Settings { policy: Some(Preset::General), locale: Some(Locale::Ie), ..Settings::default() };
    /// let d = Detector::builder().settings(settings).build().unwrap();
    /// assert_eq!((d.policy().name(), d.locale()), (Preset::General, Locale::Ie));
    /// ```
    pub fn settings(mut self, settings: Settings) -> Self {
        if let Some(engine) = settings.engine {
            self = self.engine(engine);
        }
        if let Some(preset) = settings.policy {
            self = self.preset(preset);
        }
        if let Some(locale) = settings.locale {
            self = self.locale(locale);
        }
        for (category, threshold) in settings.thresholds {
            self = self.threshold(category, threshold);
        }
        for RuleText { name, toml } in settings.rules {
            self = self.add_rules_str(name, toml);
        }
        for path in settings.rules_files {
            self = self.add_rules_file(path);
        }
        for id in settings.disable_rules {
            self = self.disable_rule(id);
        }
        if let Some(limit) = settings.max_input_bytes {
            self = self.max_input_bytes(limit);
        }
        self
    }

    /// Switches off a rule or context modifier by id (see [`Detector::rule_ids`]). Unknown ids are an
    /// error at build time.
    ///
    /// ```
    /// use safespace::{Category, Detector};
    /// let joke = "I'll kill you if you spoil the ending";
    /// assert!(Detector::default().score(joke).evidence.is_empty());
    /// let literal = Detector::builder().disable_rule("idiom.figurative").build().unwrap();
    /// assert!(literal.score(joke).is_flagged(Category::Harassment));
    /// ```
    pub fn disable_rule(mut self, id: impl Into<String>) -> Self {
        self.disabled.insert(id.into());
        self
    }

    /// Chooses the engine (see [`Engine`]): `Auto` (the default) runs the model only on the texts
    /// the fast engine screens in, `Full` on every text, `Fast` never: the rules and the lexical
    /// tier only, no ONNX Runtime needed, microseconds per post. A model folder or files chosen
    /// with [`model_dir`](Self::model_dir) or [`model_files`](Self::model_files) serve `Auto` and
    /// `Full`.
    ///
    /// ```
    /// use safespace::{Engine, Tier};
    /// let d = safespace::Detector::builder().engine(Engine::Fast).build().unwrap();
    /// let report = d.score("kys");
    /// assert_eq!(report.engine.mode, "fast");
    /// assert_eq!(report.engine.tiers, [Tier::Rules, Tier::Lexical]);
    /// ```
    pub fn engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    /// Runs a lexical tier folder (`weights.bin` and `manifest.json`, as `safespace fit` writes
    /// them) instead of the built-in tier. An unreadable folder fails [`build`](Self::build).
    ///
    /// ```
    /// let err = safespace::Detector::builder().lexical_dir("no/such/tier").build().unwrap_err();
    /// assert!(err.to_string().starts_with("the lexical tier could not be loaded"));
    /// ```
    pub fn lexical_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.lexical = LexicalChoice::Dir(dir.into());
        self
    }

    /// Runs a lexical tier already in memory (from [`LexicalTier::fit`] or
    /// [`LexicalTier::from_bytes`]) instead of the built-in tier.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use safespace::{Detector, Engine, LexicalTier};
    /// let copy = LexicalTier::from_bytes("copy@1", &LexicalTier::builtin().to_bytes())?;
    /// let d = Detector::builder().engine(Engine::Fast).lexical_tier(Arc::new(copy)).build()?;
    /// assert_eq!(d.score("kys").engine.lexical.as_deref(), Some("copy@1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "lexical")]
    pub fn lexical_tier(mut self, tier: Arc<LexicalTier>) -> Self {
        self.lexical = LexicalChoice::Tier(tier);
        self
    }

    /// The old name of `engine(Engine::Fast)` (`true`) and of the default engine (`false`).
    ///
    /// ```
    /// let d = safespace::Detector::builder().rules_only(true).build().unwrap();
    /// assert_eq!(d.engine(), safespace::Engine::Fast);
    /// ```
    pub fn rules_only(self, rules_only: bool) -> Self {
        self.engine(if rules_only {
            Engine::Fast
        } else {
            Engine::default()
        })
    }

    /// Loads the model from a folder holding `model.onnx`, `tokenizer.json` and `manifest.json` instead
    /// of the bundled one (and, for [`ModelArithmetic::Int8`], the int8 graph the manifest names).
    /// The files are checked against the manifest's sha256.
    ///
    /// ```
    /// let d = safespace::Detector::builder().model_dir("no/such/model").build().unwrap();
    /// assert!(!d.uses_model()); // falls back to rules; `require_model(true)` makes this an error
    /// ```
    pub fn model_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.model = ModelChoice::Dir(dir.into());
        self
    }

    /// Loads the model from files already in memory (see [`ModelFiles`](crate::ModelFiles)) instead of
    /// the bundled one: how WebAssembly builds get their model.
    ///
    /// ```
    /// let broken = safespace::ModelFiles::default();
    /// let d = safespace::Detector::builder().model_files(broken).build().unwrap();
    /// let why = d.model_unavailable_reason().unwrap();
    /// assert!(matches!(why, safespace::ModelError::Damaged(_)) && why.to_string().contains("manifest"));
    /// ```
    pub fn model_files(mut self, files: crate::ModelFiles) -> Self {
        self.model = ModelChoice::Files(Arc::new(files));
        self
    }

    /// Fails [`build`](Self::build) if the model cannot be loaded, instead of falling back to rules.
    ///
    /// ```
    /// let err = safespace::Detector::builder().model_dir("no/such/model").require_model(true).build();
    /// assert!(err.is_err());
    /// ```
    pub fn require_model(mut self, required: bool) -> Self {
        self.require_model = required;
        self
    }

    /// The ONNX Runtime shared library to load. Without it: `ORT_DYLIB_PATH`, then an installed
    /// Python `onnxruntime` package, then the system library path. A process loads one ONNX Runtime;
    /// the first detector that loads it decides which.
    ///
    /// ```
    /// let d = safespace::Detector::builder().onnxruntime_library("/opt/ort/libonnxruntime.so").build();
    /// assert!(d.is_ok());
    /// ```
    pub fn onnxruntime_library(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.onnxruntime = Some(path.into());
        self
    }

    /// How many ONNX Runtime sessions score batches of windows at once (default: one per thread of
    /// the rayon pool the model loads in, at most 4, each on one thread). Each session holds its own
    /// fp32 copy of the weights, about 55 MB; the threads of the pool the detector is built in are
    /// divided among the sessions, so `model_sessions(1)` on 2 threads runs every batch on both and
    /// saves one copy for some throughput (`benches/README.md`, "Memory"); sessions beyond the
    /// pool's threads only cost memory. Detectors built with the same value in pools of the same
    /// size share the loaded model; the default's is shared by every detector that does not set
    /// this. Must be at least 1; tract runs one plan whatever the value.
    ///
    /// ```
    /// let lean = safespace::Detector::builder().model_sessions(1).build()?;
    /// assert!(safespace::Detector::builder().model_sessions(0).build().is_err());
    /// # Ok::<(), safespace::Error>(())
    /// ```
    pub fn model_sessions(mut self, sessions: usize) -> Self {
        self.model_sessions = Some(sessions);
        self
    }

    /// The model's arithmetic (default [`ModelArithmetic::Fp32`], the same scores in every runtime).
    /// [`ModelArithmetic::Int8`] runs the model folder's int8 graph on ONNX Runtime: faster on CPUs
    /// with fast integer products, with scores a little apart from the browser's. Asked of a model
    /// without an int8 graph, or of a build that only has tract, the model does not load (an error
    /// with [`require_model`](Self::require_model), else the fast engine and `engine.note`).
    ///
    /// ```
    /// use safespace::{Detector, Engine, ModelArithmetic};
    /// let full = || Detector::builder().engine(Engine::Full);
    /// let int8 = full().model_arithmetic(ModelArithmetic::Int8).build()?;
    /// let text = "i think about dying every day";
    /// let (a, b) = (int8.score(text), full().build()?.score(text));
    /// if let (Some(a), Some(b)) = (a.engine.model, b.engine.model) {
    ///     assert_ne!(a, b); // the report names the graph that ran
    /// }
    /// # Ok::<(), safespace::Error>(())
    /// ```
    pub fn model_arithmetic(mut self, arithmetic: ModelArithmetic) -> Self {
        self.model_arithmetic = arithmetic;
        self
    }

    /// Validates the options and compiles the rules.
    ///
    /// ```
    /// let detector = safespace::Detector::builder().build()?;
    /// # Ok::<(), safespace::Error>(())
    /// ```
    pub fn build(self) -> Result<Detector> {
        if let Some(error) = self.deferred_error {
            return Err(error);
        }
        let mut policy = self.policy;
        for (category, threshold) in self.thresholds {
            policy = policy.with_threshold(category, threshold)?;
        }
        let rules = if self.extra_rules.is_empty() && self.disabled.is_empty() {
            RuleEngine::builtin()
        } else {
            Arc::new(RuleEngine::new(&self.extra_rules, &self.disabled)?)
        };
        let lexical = match self.lexical {
            LexicalChoice::Builtin => LexicalTier::builtin(),
            LexicalChoice::Dir(dir) => {
                Arc::new(LexicalTier::load_dir(&dir).map_err(Error::Lexical)?)
            }
            LexicalChoice::Tier(tier) => tier,
        };
        let engine = self.engine;
        let choice = if engine.uses_model() {
            self.model
        } else {
            ModelChoice::None
        };
        if self.model_sessions == Some(0) {
            return Err(Error::InvalidOption(
                "model_sessions must be at least 1".to_owned(),
            ));
        }
        let (model, model_error) = choice.load(
            self.onnxruntime.as_deref(),
            self.model_sessions,
            self.model_arithmetic,
        );
        if let (true, Some(error)) = (self.require_model, &model_error) {
            return Err(Error::Model(error.clone()));
        }
        let max_input_bytes = match self.max_input_bytes {
            Some(0) => {
                return Err(Error::InvalidOption(
                    "max_input_bytes must be at least 1".to_owned(),
                ))
            }
            limit => limit.unwrap_or(DEFAULT_MAX_INPUT_BYTES),
        };
        Ok(Detector {
            normalizer: Normalizer::default(),
            rules,
            policy,
            locale: self.locale,
            model,
            model_error,
            engine,
            lexical,
            limit: InputLimit(max_input_bytes),
        })
    }
}

/// Which lexical tier a detector should run.
#[derive(Debug, Clone, Default)]
enum LexicalChoice {
    /// The one built into the library.
    #[default]
    Builtin,
    /// A folder chosen by the user.
    Dir(std::path::PathBuf),
    /// A tier handed over in memory.
    #[cfg_attr(not(feature = "lexical"), allow(dead_code))]
    Tier(Arc<LexicalTier>),
}

/// Which model a detector should run.
#[derive(Debug, Clone, Default)]
#[cfg_attr(not(feature = "model"), allow(dead_code))]
pub(crate) enum ModelChoice {
    /// The model shipped with the crate (embedded with the `bundled-model` feature).
    #[default]
    Bundled,
    /// A model folder chosen by the user.
    Dir(std::path::PathBuf),
    /// Model files handed over in memory.
    Files(Arc<crate::ModelFiles>),
    /// The rule engine alone.
    None,
}

#[cfg(feature = "model")]
pub(crate) type LoadedModel = Option<Arc<Model>>;
#[cfg(not(feature = "model"))]
pub(crate) type LoadedModel = ();

impl ModelChoice {
    /// The model to run, shared with every detector of the same model and `sessions` (see
    /// `Model::shared`), and why none runs when one was wanted; `library` is the ONNX Runtime library
    /// to use, `sessions` the sessions to load (`None`: see [`LoadOptions::new`]), `arithmetic` the
    /// graph.
    pub(crate) fn load(
        &self,
        library: Option<&Path>,
        sessions: Option<usize>,
        arithmetic: ModelArithmetic,
    ) -> (LoadedModel, Option<ModelError>) {
        #[cfg(feature = "model")]
        {
            let source = match self {
                ModelChoice::Bundled => ModelSource::default(),
                ModelChoice::Dir(dir) => ModelSource::Dir(dir.clone()),
                ModelChoice::Files(files) => ModelSource::Bytes(files.clone()),
                ModelChoice::None => return (None, None),
            };
            let options = LoadOptions::new(library, sessions, arithmetic);
            match Model::shared(&source, &options) {
                Ok(model) => (Some(model), None),
                Err(e) => (None, Some(e)),
            }
        }
        #[cfg(not(feature = "model"))]
        {
            let _ = (library, sessions, arithmetic);
            let note = match self {
                ModelChoice::None => None,
                _ => Some(ModelError::RuntimeMissing(
                    "this build has no model support (feature `model`)".to_owned(),
                )),
            };
            ((), note)
        }
    }
}

/// Model probabilities per text from `model`; `None` when no model runs, `Some(Err)` when the run
/// failed.
pub(crate) fn predict<S: AsRef<str> + Sync>(
    model: &LoadedModel,
    texts: &[S],
) -> Option<std::result::Result<Vec<[f32; 3]>, ModelError>> {
    #[cfg(feature = "model")]
    return model.as_ref().map(|m| m.predict(texts));
    #[cfg(not(feature = "model"))]
    {
        let _ = (model, texts);
        None
    }
}

/// The id (`name@version`) of `model`, when one runs.
pub(crate) fn model_id(model: &LoadedModel) -> Option<String> {
    #[cfg(feature = "model")]
    return model.as_ref().map(|m| m.id());
    #[cfg(not(feature = "model"))]
    {
        let _ = model;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model a detector built by `builder` runs.
    #[cfg(feature = "bundled-model")]
    fn model_of(builder: DetectorBuilder) -> Arc<Model> {
        let detector = builder.require_model(true).build();
        detector
            .expect("the model loads (is ONNX Runtime installed?)")
            .model
            .expect("require_model(true) gives a model")
    }

    #[cfg(feature = "bundled-model")]
    #[test]
    fn detectors_share_a_model_until_its_manifest_changes() {
        let bundled = model_of(Detector::builder());
        // Once a model is loaded another ONNX Runtime path changes nothing: a process holds one.
        let elsewhere = Detector::builder().onnxruntime_library("/elsewhere/libonnxruntime.so");
        assert!(Arc::ptr_eq(&bundled, &model_of(elsewhere)));

        let dir = std::env::temp_dir().join(format!("safespace-shared-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let original =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/safespace-minilm-int8");
        for file in ["model.onnx", "tokenizer.json", "manifest.json"] {
            std::fs::copy(original.join(file), dir.join(file)).unwrap();
        }
        let from_dir = model_of(Detector::builder().model_dir(&dir));
        assert!(Arc::ptr_eq(
            &from_dir,
            &model_of(Detector::builder().model_dir(&dir))
        ));
        let manifest = std::fs::read(dir.join("manifest.json")).unwrap();
        let mut manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
        manifest["name"] = "retrained".into();
        std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
        let retrained = model_of(Detector::builder().model_dir(&dir));
        assert!(!Arc::ptr_eq(&from_dir, &retrained));
        assert!(retrained.id().starts_with("retrained@"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(feature = "bundled-model")]
    #[test]
    fn one_session_for_all_threads_scores_like_one_per_thread() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let texts = [
            "I bought the pills, tonight's the night",
            "you are a worthless idiot and everyone knows it",
            "see you at practice",
            "Drinking bleach cures covid, my uncle did it and he's fine",
        ];
        let (default, lean, lean_again) = pool.install(|| {
            (
                model_of(Detector::builder()),
                model_of(Detector::builder().model_sessions(1)),
                model_of(Detector::builder().model_sessions(1)),
            )
        });
        assert!(!Arc::ptr_eq(&default, &lean));
        assert!(Arc::ptr_eq(&lean, &lean_again));
        let scores = |model: &Model| pool.install(|| model.predict(&texts).unwrap());
        for (a, b) in scores(&default).iter().zip(scores(&lean)) {
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() < 1e-4, "{a:?} {b:?}");
            }
        }
        assert!(Detector::builder().model_sessions(0).build().is_err());
    }
}

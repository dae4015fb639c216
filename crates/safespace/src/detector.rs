//! [`Detector`]: owns the pipeline stages and turns text into a [`Report`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use crate::error::{Error, ModelError, Result};
use crate::fusion::{fuse, model_only_severity};
#[cfg(feature = "model")]
use crate::model::{LoadOptions, Model, ModelSource};
use crate::normalize::{NormalizedText, Normalizer};
use crate::offsets::utf16_offsets;
use crate::policy::{Policy, Preset};
use crate::report::{Action, CategoryScores, EngineInfo, EngineMode, Evidence, Report, Severity};
use crate::resources::Locale;
use crate::rules::{Hit, RuleEngine, RuleSource};
use crate::settings::{RuleText, Settings};
use crate::{Category, Label};

/// Reports list at most this many evidence items (the strongest); the rest are counted.
const MAX_EVIDENCE: usize = 64;

/// The default of [`DetectorBuilder::max_input_bytes`]: 32 MiB, far above any post, low enough that one
/// call's memory stays bounded (about 35 bytes per input byte at peak for the rules).
pub const DEFAULT_MAX_INPUT_BYTES: usize = 32 << 20;

/// Scores text for self-harm risk, harassment and health misinformation.
///
/// Build once and share: a `Detector` is `Send + Sync`, and scoring takes `&self`. Building is cheap
/// after the first: the model loads once per process and every detector of the same model shares it
/// (the bundled one, or a folder's while its `manifest.json` is unchanged). By default it runs
/// the bundled model through ONNX Runtime fused with the rule engine; when ONNX Runtime is not installed
/// it runs the model on tract if the crate was built with feature `tract`, or else the rules alone, and
/// says so in `engine.mode` and `engine.note`.
///
/// ```
/// use safespace::{Action, Category, Detector, Severity};
///
/// let detector = Detector::default();
/// let report = detector.score("I bought the pills, tonight's the night");
/// assert!(report.is_flagged(Category::SelfHarm));
/// assert_eq!(report.severity, Severity::Critical);
/// assert!(report.resources.iter().any(|r| r.how == "Call or text 988"));
///
/// let calm = detector.score("this homework is killing me lol");
/// assert!(calm.flagged.is_empty());
/// assert_eq!(calm.action, Action::Allow);
/// ```
#[derive(Debug, Clone)]
pub struct Detector {
    normalizer: Normalizer,
    rules: Arc<RuleEngine>,
    policy: Policy,
    locale: Locale,
    /// The model, when one runs (`()` in builds without feature `model`).
    #[cfg_attr(not(feature = "model"), allow(dead_code))]
    model: LoadedModel,
    /// Why the model is not in use, when it was wanted.
    model_error: Option<ModelError>,
    max_input_bytes: usize,
}

impl Default for Detector {
    /// The bundled model fused with the built-in rules, `peer_support` policy, US resources; rules alone
    /// if ONNX Runtime cannot be loaded.
    fn default() -> Self {
        let (model, model_error) = ModelChoice::Bundled.load(None);
        Detector {
            normalizer: Normalizer::default(),
            rules: builtin_engine(),
            policy: Policy::default(),
            locale: Locale::default(),
            model,
            model_error,
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
        }
    }
}

/// Which model a detector should run.
#[derive(Debug, Clone, Default)]
#[cfg_attr(not(feature = "model"), allow(dead_code))]
enum ModelChoice {
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
type LoadedModel = Option<Arc<Model>>;
#[cfg(not(feature = "model"))]
type LoadedModel = ();

impl ModelChoice {
    /// The model to run, shared with every detector of the same model (see `Model::shared`), and why
    /// none runs when one was wanted; `library` is the ONNX Runtime library to use.
    fn load(&self, library: Option<&Path>) -> (LoadedModel, Option<ModelError>) {
        #[cfg(feature = "model")]
        {
            let source = match self {
                ModelChoice::Bundled => ModelSource::default(),
                ModelChoice::Dir(dir) => ModelSource::Dir(dir.clone()),
                ModelChoice::Files(files) => ModelSource::Bytes(files.clone()),
                ModelChoice::None => return (None, None),
            };
            let options = LoadOptions {
                library,
                sessions: default_sessions(),
            };
            match Model::shared(&source, &options) {
                Ok(model) => (Some(model), None),
                Err(e) => (None, Some(e)),
            }
        }
        #[cfg(not(feature = "model"))]
        {
            let _ = library;
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

#[cfg(feature = "model")]
fn default_sessions() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
}

/// The built-in rule set, compiled once per process.
fn builtin_engine() -> Arc<RuleEngine> {
    static ENGINE: OnceLock<Arc<RuleEngine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            Arc::new(RuleEngine::new(&[], &BTreeSet::new()).expect("built-in rules are valid"))
        })
        .clone()
}

impl Detector {
    /// Starts configuring a detector.
    ///
    /// ```
    /// use safespace::{Detector, Locale, Policy};
    /// let detector = Detector::builder().policy(Policy::strict()).locale(Locale::Uk).build()?;
    /// assert_eq!(detector.locale(), Locale::Uk);
    /// # Ok::<(), safespace::Error>(())
    /// ```
    pub fn builder() -> DetectorBuilder {
        DetectorBuilder::default()
    }

    /// The policy in force.
    ///
    /// ```
    /// assert_eq!(safespace::Detector::default().policy().name(), safespace::Preset::PeerSupport);
    /// ```
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The locale whose crisis resources reports carry.
    ///
    /// ```
    /// assert_eq!(safespace::Detector::default().locale(), safespace::Locale::Us);
    /// ```
    pub fn locale(&self) -> Locale {
        self.locale
    }

    /// Ids of every active rule and context modifier, for listing and for [`DetectorBuilder::disable_rule`].
    ///
    /// ```
    /// let detector = safespace::Detector::default();
    /// assert!(detector.rule_ids().any(|id| id == "negation.before"));
    /// ```
    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.rules.ids()
    }

    /// Whether the model runs (`engine.mode == "model+rules"`) or only the rules.
    ///
    /// ```
    /// let rules_only = safespace::Detector::builder().rules_only(true).build().unwrap();
    /// assert!(!rules_only.uses_model());
    /// ```
    pub fn uses_model(&self) -> bool {
        #[cfg(feature = "model")]
        return self.model.is_some();
        #[cfg(not(feature = "model"))]
        false
    }

    /// Why the model is not running, when it was wanted (ONNX Runtime missing, model file corrupted...).
    /// `None` when the model runs or when the detector was built with `rules_only(true)`.
    ///
    /// ```
    /// use safespace::ModelError;
    /// let d = safespace::Detector::builder().model_dir("no/such/model").build().unwrap();
    /// let why = d.model_unavailable_reason().unwrap();
    /// assert!(matches!(why, ModelError::NotFound(_)) && why.to_string().contains("model.onnx"));
    /// ```
    pub fn model_unavailable_reason(&self) -> Option<&ModelError> {
        self.model_error.as_ref()
    }

    /// Scores one text. Never fails and never panics: any string gives a report.
    ///
    /// ```
    /// let report = safespace::Detector::default().score("");
    /// assert!(report.flagged.is_empty());
    /// ```
    ///
    /// A text longer than [`DetectorBuilder::max_input_bytes`] is scored on its first `max_input_bytes`
    /// bytes (cut at a character boundary) and `engine.note` says so; [`try_score`](Self::try_score)
    /// returns an error instead.
    pub fn score(&self, text: &str) -> Report {
        let scored = self.within_limit(text);
        let normalized = self.normalizer.normalize(scored);
        let hits = self.rules.find(normalized.as_str());
        let model = self.model_probabilities(&[scored]);
        let report = self.report(scored, &normalized, &hits, model.map(|m| m.map(|v| v[0])));
        self.note_cut(report, text.len(), scored.len())
    }

    /// Scores one text, or fails with [`Error::InputTooLarge`] when it is longer than
    /// [`DetectorBuilder::max_input_bytes`].
    ///
    /// ```
    /// let detector = safespace::Detector::builder().rules_only(true).max_input_bytes(10).build()?;
    /// assert!(detector.try_score("short").is_ok());
    /// let err = detector.try_score("a much longer text").unwrap_err();
    /// assert!(matches!(err, safespace::Error::InputTooLarge { bytes: 18, limit: 10 }));
    /// # Ok::<(), safespace::Error>(())
    /// ```
    pub fn try_score(&self, text: &str) -> Result<Report> {
        self.check_size(text)?;
        Ok(self.score(text))
    }

    /// Like [`score_batch`](Self::score_batch), with an [`Error::InputTooLarge`] in place of each text
    /// over the limit; the others are scored.
    ///
    /// ```
    /// let detector = safespace::Detector::builder().rules_only(true).max_input_bytes(10).build()?;
    /// let results = detector.try_score_batch(&["kys", "a much longer text"]);
    /// assert!(results[0].as_ref().unwrap().is_flagged(safespace::Category::SelfHarm));
    /// assert!(results[1].is_err());
    /// # Ok::<(), safespace::Error>(())
    /// ```
    pub fn try_score_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Result<Report>> {
        let fitting: Vec<&str> = texts
            .iter()
            .map(AsRef::as_ref)
            .filter(|t| self.check_size(t).is_ok())
            .collect();
        let mut reports = self.score_batch(&fitting).into_iter();
        texts
            .iter()
            .map(|t| {
                self.check_size(t.as_ref())?;
                Ok(reports.next().expect("one report per fitting text"))
            })
            .collect()
    }

    /// The longest text scored whole, in bytes.
    ///
    /// ```
    /// assert_eq!(safespace::Detector::default().max_input_bytes(), safespace::DEFAULT_MAX_INPUT_BYTES);
    /// ```
    pub fn max_input_bytes(&self) -> usize {
        self.max_input_bytes
    }

    fn check_size(&self, text: &str) -> Result<()> {
        match text.len() > self.max_input_bytes {
            true => Err(Error::InputTooLarge {
                bytes: text.len(),
                limit: self.max_input_bytes,
            }),
            false => Ok(()),
        }
    }

    /// `text` cut to the size limit at a character boundary.
    fn within_limit<'t>(&self, text: &'t str) -> &'t str {
        let mut end = text.len().min(self.max_input_bytes);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        &text[..end]
    }

    fn note_cut(&self, mut report: Report, length: usize, scored: usize) -> Report {
        if scored < length {
            let cut = format!(
                "only the first {scored} of {length} bytes were scored (max_input_bytes is {})",
                self.max_input_bytes
            );
            report.engine.note = Some(match report.engine.note.take() {
                Some(note) => format!("{cut}; {note}"),
                None => cut,
            });
        }
        report
    }

    /// Scores many texts in parallel on the rayon thread pool. The result has one report per input,
    /// in input order.
    ///
    /// ```
    /// let reports = safespace::Detector::default().score_batch(&["kys", "have a nice day"]);
    /// assert_eq!(reports.len(), 2);
    /// assert!(!reports[0].flagged.is_empty());
    /// assert!(reports[1].flagged.is_empty());
    /// ```
    pub fn score_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Report> {
        let originals = texts;
        let texts: Vec<&str> = originals
            .iter()
            .map(|t| self.within_limit(t.as_ref()))
            .collect();
        let rules: Vec<(NormalizedText, Vec<Hit>)> = texts
            .par_iter()
            .map(|t| {
                let normalized = self.normalizer.normalize(t);
                let hits = self.rules.find(normalized.as_str());
                (normalized, hits)
            })
            .collect();
        let model = self.model_probabilities(&texts);
        texts
            .par_iter()
            .zip(rules.par_iter())
            .enumerate()
            .map(|(i, (text, (normalized, hits)))| {
                let probabilities = model
                    .as_ref()
                    .map(|m| m.as_ref().map(|all| all[i]).map_err(Clone::clone));
                let report = self.report(text, normalized, hits, probabilities);
                self.note_cut(report, originals[i].as_ref().len(), text.len())
            })
            .collect()
    }

    /// Model probabilities per text; `None` when no model runs, `Some(Err)` when the run failed.
    fn model_probabilities<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
    ) -> Option<std::result::Result<Vec<[f32; 3]>, ModelError>> {
        #[cfg(feature = "model")]
        return self.model.as_ref().map(|m| m.predict(texts));
        #[cfg(not(feature = "model"))]
        {
            let _ = texts;
            None
        }
    }

    fn engine(&self, model_scores: Option<[f32; 3]>, run_error: Option<String>) -> EngineInfo {
        #[cfg(feature = "model")]
        let model = self
            .model
            .as_ref()
            .filter(|_| model_scores.is_some())
            .map(|m| m.id());
        #[cfg(not(feature = "model"))]
        let model: Option<String> = None;
        EngineInfo {
            mode: if model.is_some() {
                EngineMode::ModelAndRules
            } else {
                EngineMode::Rules
            },
            model,
            rules: self.rules.description(),
            model_scores: model_scores.map(CategoryScores::from_array),
            note: run_error.or_else(|| self.model_error.as_ref().map(ToString::to_string)),
        }
    }

    fn report(
        &self,
        original: &str,
        normalized: &NormalizedText,
        hits: &[Hit],
        model: Option<std::result::Result<[f32; 3], ModelError>>,
    ) -> Report {
        let mut category_miss = [1.0f32; 3];
        let mut label_miss: BTreeMap<Label, f32> = BTreeMap::new();
        let mut category_severity = [Severity::None; 3];
        let mut warnings = BTreeSet::new();
        for hit in hits {
            if self.rules.warnings_apply(hit) {
                warnings.extend(self.rules.rule(hit.rule).warnings.iter().copied());
            }
            let Some(label) = hit.label else { continue };
            let c = label.category().index();
            category_miss[c] *= 1.0 - hit.weight;
            *label_miss.entry(label).or_insert(1.0) *= 1.0 - hit.weight;
            category_severity[c] = category_severity[c].max(hit.severity);
        }
        let rule_scores = category_miss.map(|miss| 1.0 - miss);
        let (scores, model_scores, run_error) = match model {
            Some(Ok(probabilities)) => {
                let damping = self.rules.model_damping(normalized.as_str(), hits);
                (
                    fuse(rule_scores, probabilities, damping),
                    Some(probabilities),
                    None,
                )
            }
            Some(Err(e)) => (
                rule_scores,
                None,
                Some(format!("the model failed, rules only: {e}")),
            ),
            None => (rule_scores, None, None),
        };
        let scores = CategoryScores::from_array(scores);
        let flagged: Vec<Category> = Category::ALL
            .into_iter()
            .filter(|&c| scores.get(c) >= self.policy.threshold(c))
            .collect();
        let severity_of = |c: Category| match category_severity[c.index()] {
            Severity::None => model_only_severity(c),
            found => found,
        };
        let severity = flagged
            .iter()
            .map(|&c| severity_of(c))
            .max()
            .unwrap_or_default();
        let action = flagged
            .iter()
            .map(|&c| self.policy.action_for(c, severity_of(c)))
            .max()
            .unwrap_or(if warnings.is_empty() {
                Action::Allow
            } else {
                Action::SuggestContentWarning
            });
        let resources = if flagged.contains(&Category::SelfHarm) {
            self.locale.resources()
        } else {
            Vec::new()
        };
        let (evidence, evidence_omitted) = self.evidence(original, normalized, hits);
        Report {
            scores,
            labels: label_miss
                .into_iter()
                .map(|(l, miss)| (l, 1.0 - miss))
                .collect(),
            flagged,
            severity,
            action,
            evidence,
            evidence_omitted,
            content_warnings: warnings.into_iter().collect(),
            resources,
            engine: self.engine(model_scores, run_error),
        }
    }

    /// Evidence items in text order, keeping the strongest [`MAX_EVIDENCE`] when there are more.
    fn evidence(
        &self,
        original: &str,
        normalized: &NormalizedText,
        hits: &[Hit],
    ) -> (Vec<Evidence>, usize) {
        let mut labelled: Vec<(&Hit, Label)> = hits
            .iter()
            .filter_map(|h| h.label.map(|l| (h, l)))
            .collect();
        let omitted = labelled.len().saturating_sub(MAX_EVIDENCE);
        if omitted > 0 {
            labelled.sort_by(|a, b| b.0.weight.total_cmp(&a.0.weight));
            labelled.truncate(MAX_EVIDENCE);
            labelled.sort_by_key(|(h, _)| (h.range.start, h.range.end, h.rule));
        }
        let spans: Vec<_> = labelled
            .iter()
            .map(|(h, _)| normalized.original_range(h.range.clone()))
            .collect();
        let byte_offsets: Vec<usize> = spans.iter().flat_map(|s| [s.start, s.end]).collect();
        let utf16 = utf16_offsets(original, &byte_offsets);
        let evidence = labelled
            .iter()
            .zip(&spans)
            .enumerate()
            .map(|(i, ((hit, label), span))| Evidence {
                category: label.category(),
                subcategory: label.name().to_owned(),
                rule: self.rules.rule(hit.rule).id.clone(),
                text: original[span.clone()].to_owned(),
                start: span.start,
                end: span.end,
                utf16_start: utf16[2 * i],
                utf16_end: utf16[2 * i + 1],
                weight: hit.weight,
                severity: hit.severity,
                context: hit
                    .contexts
                    .iter()
                    .map(|&c| self.rules.context(c).id.clone())
                    .collect(),
            })
            .collect();
        (evidence, omitted)
    }
}

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
    model: ModelChoice,
    require_model: bool,
    onnxruntime: Option<std::path::PathBuf>,
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

    /// Runs the rule engine alone: no ONNX Runtime needed, microseconds per post.
    ///
    /// ```
    /// let d = safespace::Detector::builder().rules_only(true).build().unwrap();
    /// assert_eq!(d.score("kys").engine.mode, "rules");
    /// ```
    pub fn rules_only(mut self, rules_only: bool) -> Self {
        if rules_only {
            self.model = ModelChoice::None;
        } else if let ModelChoice::None = self.model {
            self.model = ModelChoice::Bundled;
        }
        self
    }

    /// Loads the model from a folder holding `model.onnx`, `tokenizer.json` and `manifest.json` instead
    /// of the bundled one. The files are checked against the manifest's sha256.
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
            builtin_engine()
        } else {
            Arc::new(RuleEngine::new(&self.extra_rules, &self.disabled)?)
        };
        let (model, model_error) = self.model.load(self.onnxruntime.as_deref());
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
            max_input_bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detector_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Detector>();
    }

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
}

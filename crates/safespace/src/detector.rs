//! [`Detector`]: runs the pipeline stages in order and turns text into a [`Report`]: normalize →
//! fast stage (rules and lexical tier) → model (on every text under `Full`, on the screened-in ones
//! under `Auto`) → fusion → policy → report. Building one:
//! [`crate::builder`].

use std::sync::Arc;

use rayon::prelude::*;

use crate::builder::{model_id, predict, LoadedModel, ModelChoice};
use crate::cascade::screened_in;
use crate::error::ModelError;
use crate::fusion::{fuse, Scores};
use crate::input_limit::InputLimit;
use crate::lexical::{LexicalRun, LexicalTier};
use crate::normalize::{NormalizedText, Normalizer};
use crate::policy::Policy;
use crate::report::{EngineInfo, EngineMode, LexicalFinding, Report};
use crate::resources::Locale;
use crate::rules::{RuleEngine, RuleOutcome};
use crate::{Category, DetectorBuilder, Engine, ModelArithmetic};

/// The default of [`DetectorBuilder::max_input_bytes`]: 32 MiB, far above any post, low enough that one
/// call's memory stays bounded (about 35 bytes per input byte at peak for the rules). A
/// [`Detector::score_batch`] works through its texts a chunk at a time, so beyond its reports its
/// memory does not grow with the batch.
pub const DEFAULT_MAX_INPUT_BYTES: usize = 32 << 20;

/// The most texts [`Detector::score_batch`] carries through its stages at once (fewer when they
/// pass 4 MiB). Every text in flight holds its normalized form and the fast engine's findings (tens
/// of bytes per byte of text), so a batch's memory stays bounded however many texts it has, while a
/// chunk still gives the model enough windows to keep the threads busy. A caller that keeps only
/// part of each report can hand over this many texts at a time and drop the reports in between.
///
/// ```
/// let texts = vec!["have a nice day"; 2 * safespace::BATCH_CHUNK_TEXTS + 1];
/// let detector = safespace::Detector::builder().rules_only(true).build().unwrap();
/// let flagged: usize = texts
///     .chunks(safespace::BATCH_CHUNK_TEXTS)
///     .map(|chunk| detector.score_batch(chunk).iter().filter(|r| !r.flagged.is_empty()).count())
///     .sum();
/// assert_eq!(flagged, 0);
/// ```
pub const BATCH_CHUNK_TEXTS: usize = 1024;
/// The most bytes of text one chunk of a batch holds, unless it is only one text per thread.
const CHUNK_BYTES: usize = 4 << 20;

/// `texts` cut into consecutive chunks of at most [`BATCH_CHUNK_TEXTS`] texts and [`CHUNK_BYTES`] bytes,
/// but never fewer than `threads` texts (where that many are left), so that long texts still run
/// in parallel.
fn batch_chunks<S: AsRef<str>>(texts: &[S], threads: usize) -> impl Iterator<Item = &[S]> {
    let mut rest = texts;
    std::iter::from_fn(move || {
        let mut bytes = 0;
        let fit = rest
            .iter()
            .take(BATCH_CHUNK_TEXTS)
            .take_while(|text| {
                bytes += text.as_ref().len();
                bytes <= CHUNK_BYTES
            })
            .count();
        let (chunk, tail) = rest.split_at(fit.max(threads.max(1)).min(rest.len()));
        rest = tail;
        (!chunk.is_empty()).then_some(chunk)
    })
}

/// Scores text for self-harm risk, harassment and health misinformation.
///
/// Build once and share: a `Detector` is `Send + Sync`, and scoring takes `&self`. Building is cheap
/// after the first: the model loads once per process and every detector of the same model shares it
/// (the bundled one, or a folder's while its `manifest.json` is unchanged). By default it runs the
/// cascade ([`Engine::Auto`]): rules and lexical tier on every text, the bundled model through ONNX
/// Runtime on the texts they screen in; when ONNX Runtime is not installed it runs the model on
/// tract if the crate was built with feature `tract`, or else the fast engine alone, and says so in
/// `engine.mode` and `engine.note`.
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
    pub(crate) normalizer: Normalizer,
    pub(crate) rules: Arc<RuleEngine>,
    pub(crate) policy: Policy,
    pub(crate) locale: Locale,
    /// The model, when one runs (`()` in builds without feature `model`).
    #[cfg_attr(not(feature = "model"), allow(dead_code))]
    pub(crate) model: LoadedModel,
    /// Why the model is not in use, when it was wanted.
    pub(crate) model_error: Option<ModelError>,
    /// The engine asked for.
    pub(crate) engine: Engine,
    /// The fast engine's learned tier.
    pub(crate) lexical: Arc<LexicalTier>,
    pub(crate) limit: InputLimit,
}

impl Default for Detector {
    /// The bundled model fused with the built-in rules, `peer_support` policy, US resources; rules alone
    /// if ONNX Runtime cannot be loaded.
    fn default() -> Self {
        let (model, model_error) = ModelChoice::Bundled.load(None, None, ModelArithmetic::Fp32);
        Detector {
            normalizer: Normalizer::default(),
            rules: RuleEngine::builtin(),
            policy: Policy::default(),
            locale: Locale::default(),
            model,
            model_error,
            engine: Engine::default(),
            lexical: LexicalTier::builtin(),
            limit: InputLimit(DEFAULT_MAX_INPUT_BYTES),
        }
    }
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

    /// The engine asked for (an `Auto` or `Full` detector whose model cannot be loaded answers with
    /// the fast engine: see [`uses_model`](Self::uses_model)).
    ///
    /// ```
    /// use safespace::{Detector, Engine};
    /// assert_eq!(Detector::builder().engine(Engine::Fast).build()?.engine(), Engine::Fast);
    /// # Ok::<(), safespace::Error>(())
    /// ```
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The `engine.mode` reports carry: `"model+rules"` when the model runs, else `"fast"` (or
    /// `"rules"` in a build without feature `lexical`). A text the model fails on is answered by
    /// the fast engine all the same, with a note.
    ///
    /// ```
    /// use safespace::{Detector, Engine, EngineMode};
    /// let fast = Detector::builder().engine(Engine::Fast).build()?;
    /// assert_eq!(fast.mode(), EngineMode::Fast);
    /// # Ok::<(), safespace::Error>(())
    /// ```
    pub fn mode(&self) -> EngineMode {
        if self.uses_model() {
            EngineMode::ModelAndRules
        } else if cfg!(feature = "lexical") {
            EngineMode::Fast
        } else {
            EngineMode::Rules
        }
    }

    /// Whether the model runs (`engine.mode == "model+rules"`) or only the fast engine.
    ///
    /// ```
    /// let rules_only = safespace::Detector::builder().rules_only(true).build().unwrap();
    /// assert!(!rules_only.uses_model());
    /// ```
    pub fn uses_model(&self) -> bool {
        model_id(&self.model).is_some()
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
        let scored = self.limit.cut(text);
        let normalized = self.normalizer.normalize(scored);
        let fast = self.fast_stage(&normalized);
        let model = if self.model_reads(&normalized, &fast) {
            predict(&self.model, &[scored]).map(|m| m.map(|all| all[0]))
        } else {
            None
        };
        let report = self.finish(scored, &normalized, fast, model);
        self.limit.note_cut(report, text.len(), scored.len())
    }

    /// Scores many texts in parallel on the rayon thread pool. The result has one report per input,
    /// in input order. Texts go through in chunks of at most 1,024 texts and 4 MiB (or one text per
    /// thread, if they are longer), so what a batch holds besides its reports stays the same however
    /// long it is.
    ///
    /// ```
    /// let reports = safespace::Detector::default().score_batch(&["kys", "have a nice day"]);
    /// assert_eq!(reports.len(), 2);
    /// assert!(!reports[0].flagged.is_empty());
    /// assert!(reports[1].flagged.is_empty());
    /// ```
    pub fn score_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Report> {
        let mut reports = Vec::with_capacity(texts.len());
        for chunk in batch_chunks(texts, rayon::current_num_threads()) {
            reports.extend(self.score_chunk(chunk));
        }
        reports
    }

    /// [`score_batch`](Self::score_batch) on one chunk of texts ([`batch_chunks`]): each stage runs
    /// on all of them in parallel before the next.
    fn score_chunk<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Report> {
        let originals = texts;
        let texts: Vec<&str> = originals
            .iter()
            .map(|t| self.limit.cut(t.as_ref()))
            .collect();
        let normalized: Vec<NormalizedText> = texts
            .par_iter()
            .map(|t| self.normalizer.normalize(t))
            .collect();
        let fast: Vec<FastStage> = normalized.par_iter().map(|n| self.fast_stage(n)).collect();
        let read: Vec<usize> = (0..texts.len())
            .filter(|&i| self.model_reads(&normalized[i], &fast[i]))
            .collect();
        let chosen: Vec<&str> = read.iter().map(|&i| texts[i]).collect();
        let mut model: Vec<Option<Result<[f32; 3], ModelError>>> = vec![None; texts.len()];
        if let Some(result) = predict(&self.model, &chosen) {
            for (k, &i) in read.iter().enumerate() {
                model[i] = Some(result.as_ref().map(|all| all[k]).map_err(Clone::clone));
            }
        }
        texts
            .par_iter()
            .zip(normalized.par_iter())
            .zip(fast.into_par_iter().zip(model.into_par_iter()))
            .enumerate()
            .map(|(i, ((text, normalized), (fast, model)))| {
                let report = self.finish(text, normalized, fast, model);
                self.limit
                    .note_cut(report, originals[i].as_ref().len(), text.len())
            })
            .collect()
    }

    /// What the fast engine finds in a text: the rules' outcome and the lexical tier's run, which
    /// every engine fuses (beside the model's where it reads the text).
    fn fast_stage<'d>(&'d self, normalized: &NormalizedText) -> FastStage<'d> {
        FastStage {
            rules: self.rules.find(normalized.as_str()),
            lexical: self.lexical.run(normalized),
        }
    }

    /// Whether the model reads a text: every text under `Full`, the screened-in ones under `Auto`,
    /// none under `Fast` or when no model is loaded.
    fn model_reads(&self, normalized: &NormalizedText, fast: &FastStage) -> bool {
        self.uses_model()
            && match self.engine {
                Engine::Full => true,
                Engine::Fast => false,
                Engine::Auto => screened_in(
                    normalized.as_str(),
                    &fast.rules,
                    fast.lexical.as_ref().map(LexicalRun::probabilities),
                    &self.policy,
                ),
            }
    }

    /// The stages after the fast engine and the model: fusion → policy → report.
    fn finish(
        &self,
        text: &str,
        normalized: &NormalizedText,
        fast: FastStage,
        model: Option<Result<[f32; 3], ModelError>>,
    ) -> Report {
        let FastStage { rules, lexical } = fast;
        let scores = fuse(
            &rules,
            model,
            lexical.as_ref().map(LexicalRun::probabilities),
        );
        let decision = self.policy.decide(
            scores.categories,
            rules.severity,
            &rules.warnings,
            self.locale,
        );
        let lexical_evidence = match &lexical {
            Some(run) => self.lexical_evidence(normalized, run, &scores, &decision.flagged),
            None => Vec::new(),
        };
        let engine = self.engine_info(&scores);
        Report::assemble(
            text,
            normalized,
            rules,
            lexical_evidence,
            scores.categories,
            decision,
            engine,
        )
    }

    /// The lexical tier's strongest words for each flagged category whose score it carried.
    fn lexical_evidence(
        &self,
        normalized: &NormalizedText,
        run: &LexicalRun,
        scores: &Scores,
        flagged: &[Category],
    ) -> Vec<LexicalFinding> {
        /// Words named per category: enough to see why, few enough to read.
        const WORDS: usize = 4;
        let mut findings = Vec::new();
        for &category in flagged {
            if !scores.carried_by_lexical(category.index()) {
                continue;
            }
            let score = scores.categories[category.index()];
            for (range, share) in self.lexical.explain(normalized, run, category, WORDS) {
                findings.push(LexicalFinding {
                    category,
                    range,
                    weight: score * share,
                });
            }
        }
        findings
    }

    /// Which engines produced `scores`, and why the model did not when it was wanted.
    fn engine_info(&self, scores: &Scores) -> EngineInfo {
        EngineInfo::new(
            model_id(&self.model).filter(|_| scores.model.is_some()),
            scores.lexical.map(|_| self.lexical.id().to_owned()),
            self.rules.description(),
            scores,
            self.model_error.as_ref(),
        )
    }
}

/// The fast engine's findings in one text, before the model runs (or not).
struct FastStage<'d> {
    rules: RuleOutcome<'d>,
    lexical: Option<LexicalRun>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detector_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Detector>();
    }

    #[test]
    fn batch_chunks_keep_every_text_in_order_within_both_bounds() {
        let sizes = [10, CHUNK_BYTES - 5, 3, 1, CHUNK_BYTES + 7, 0];
        let mut texts: Vec<String> = sizes.iter().map(|&n| "a".repeat(n)).collect();
        texts.extend((0..2 * BATCH_CHUNK_TEXTS + 1).map(|i| i.to_string()));
        let lens = |threads: usize| -> Vec<usize> {
            let chunks: Vec<&[String]> = batch_chunks(&texts, threads).collect();
            assert_eq!(chunks.concat(), texts, "every text once, in order");
            for chunk in &chunks {
                let bytes: usize = chunk.iter().map(String::len).sum();
                assert!(chunk.len() <= BATCH_CHUNK_TEXTS.max(threads));
                assert!(bytes <= CHUNK_BYTES || chunk.len() <= threads.max(1));
            }
            chunks.iter().map(|c| c.len()).collect()
        };
        // One thread: the second text would take the first chunk past the byte bound; the next two
        // fit beside it; the longer-than-the-bound text is a chunk alone; the short ones fill whole
        // chunks.
        assert_eq!(lens(1), [1, 3, 1, BATCH_CHUNK_TEXTS, BATCH_CHUNK_TEXTS, 2]);
        // Two threads: never fewer than two texts, so long texts still run side by side.
        assert_eq!(lens(2), [2, 2, 2, BATCH_CHUNK_TEXTS, BATCH_CHUNK_TEXTS, 1]);
        assert_eq!(batch_chunks::<String>(&[], 4).count(), 0);
    }
}

//! The output of scoring: [`Report`] and the types inside it. Everything here serializes with serde to
//! the JSON shape documented in the README.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::fusion::Scores;
use crate::normalize::NormalizedText;
use crate::offsets::utf16_offsets;
use crate::policy::Decision;
use crate::rules::{Finding, RuleOutcome};
use crate::vocabulary::{Action, ContentWarning, ContextKind, Resource, Severity};
use crate::{Category, Label, Tier};

/// Reports list at most this many evidence items (the strongest); the rest are counted.
const MAX_EVIDENCE: usize = 64;

/// Per-category probabilities in `[0, 1]`.
///
/// ```
/// let scores = safespace::CategoryScores::default();
/// assert_eq!(scores.get(safespace::Category::SelfHarm), 0.0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CategoryScores {
    /// Probability of self-harm risk (including encouraging someone else to self-harm).
    pub self_harm: f32,
    /// Probability of harassment.
    pub harassment: f32,
    /// Probability of health misinformation.
    pub misinformation: f32,
}

impl CategoryScores {
    /// The score of one category.
    ///
    /// ```
    /// use safespace::{Category, CategoryScores};
    /// let s = CategoryScores { harassment: 0.7, ..Default::default() };
    /// assert_eq!(s.get(Category::Harassment), 0.7);
    /// ```
    pub fn get(&self, category: Category) -> f32 {
        match category {
            Category::SelfHarm => self.self_harm,
            Category::Harassment => self.harassment,
            Category::Misinformation => self.misinformation,
        }
    }

    /// Builds scores from an array indexed by [`Category::index`].
    ///
    /// ```
    /// let s = safespace::CategoryScores::from_array([0.1, 0.2, 0.3]);
    /// assert_eq!(s.misinformation, 0.3);
    /// ```
    pub fn from_array(values: [f32; 3]) -> Self {
        CategoryScores {
            self_harm: values[0],
            harassment: values[1],
            misinformation: values[2],
        }
    }

    /// The scores as an array indexed by [`Category::index`].
    ///
    /// ```
    /// let s = safespace::CategoryScores::from_array([0.1, 0.2, 0.3]);
    /// assert_eq!(s.to_array(), [0.1, 0.2, 0.3]);
    /// ```
    pub fn to_array(&self) -> [f32; 3] {
        [self.self_harm, self.harassment, self.misinformation]
    }
}

/// One piece of evidence: a rule that matched, where, and what context changed its weight.
///
/// Offsets point into the ORIGINAL text: `start..end` in bytes (for Rust and Python byte strings) and
/// `utf16_start..utf16_end` in UTF-16 code units (JavaScript string indices).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Category the evidence counts towards.
    pub category: Category,
    /// The sub-label, e.g. `intent`.
    pub subcategory: String,
    /// Id of the rule that matched.
    pub rule: String,
    /// The original text of the span, as the writer typed it.
    pub text: String,
    /// Byte offset of the span start in the original text.
    pub start: usize,
    /// Byte offset of the span end (exclusive).
    pub end: usize,
    /// UTF-16 offset of the span start.
    pub utf16_start: usize,
    /// UTF-16 offset of the span end (exclusive).
    pub utf16_end: usize,
    /// Weight of this evidence after context modifiers, in `[0, 1]`.
    pub weight: f32,
    /// Severity this evidence supports after context modifiers.
    pub severity: Severity,
    /// Ids of the context modifiers that changed the weight (negation, past, third person, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
}

/// Which engine scored a text (the tiers it ran are in [`EngineInfo::tiers`]).
///
/// ```
/// use safespace::EngineMode;
/// assert_eq!(serde_json::to_string(&EngineMode::ModelAndRules).unwrap(), r#""model+rules""#);
/// assert_eq!(EngineMode::Fast.as_str(), "fast");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EngineMode {
    /// The full engine: the model and the lexical tier fused with the rules.
    #[serde(rename = "model+rules")]
    ModelAndRules,
    /// The fast engine: the lexical tier fused with the rules (by choice, or because the model
    /// could not run).
    #[serde(rename = "fast")]
    Fast,
    /// The rules alone: the fast engine of a build without feature `lexical`.
    #[serde(rename = "rules")]
    Rules,
}

impl EngineMode {
    /// `"model+rules"`, `"fast"` or `"rules"`, as in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            EngineMode::ModelAndRules => "model+rules",
            EngineMode::Fast => "fast",
            EngineMode::Rules => "rules",
        }
    }
}

impl fmt::Display for EngineMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for EngineMode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Which engine produced the scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineInfo {
    /// The full engine (`"model+rules"`), the fast one (`"fast"`), or the rules alone (`"rules"`).
    pub mode: EngineMode,
    /// The tiers that ran, in order: `["rules", "lexical"]` (fast, or a text the cascade kept from
    /// the model), `["rules", "lexical", "model"]` (full, or a text the cascade sent to the model).
    pub tiers: Vec<Tier>,
    /// The model name and hash prefix, when a model ran.
    pub model: Option<String>,
    /// The lexical tier's name and version, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lexical: Option<String>,
    /// The rule set: built-in version plus the number of user rule files.
    pub rules: String,
    /// The rules' own scores, before fusion with a learned tier.
    pub rules_scores: CategoryScores,
    /// The model's calibrated probabilities before fusion with the rules, when the model ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_scores: Option<CategoryScores>,
    /// The lexical tier's calibrated probabilities before fusion with the rules, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lexical_scores: Option<CategoryScores>,
    /// How the learned tiers' probabilities were combined with the rules, when one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fusion: Option<FusionInfo>,
    /// Why the model did not run, when it was wanted but unavailable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How the learned tiers' probabilities entered the scores: the combiner's output and the contexts it
/// read (see the fusion stage in the README).
///
/// ```
/// let report = safespace::Detector::builder().engine(safespace::Engine::Fast).build().unwrap()
///     .score("years ago i wanted to kill myself. today i run a support group");
/// let fusion = report.engine.fusion.unwrap();
/// assert!(fusion.contexts[&safespace::Category::SelfHarm].contains(&safespace::ContextKind::Past));
/// assert!(fusion.damping.self_harm < 1.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FusionInfo {
    /// The combiner's probability per category, before its ceiling and the maximum with the rules.
    pub combined: CategoryScores,
    /// The rule files' hand-set reduction of the learned tier per category (1 = none), one of the
    /// combiner's inputs.
    pub damping: CategoryScores,
    /// The context kinds that lowered each category, for the categories where any did.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub contexts: BTreeMap<Category, Vec<ContextKind>>,
}

impl FusionInfo {
    /// The fusion info of `scores`, when a learned tier was fused.
    fn new(scores: &Scores) -> Option<FusionInfo> {
        let combined = scores.combined?;
        let context = &scores.learned_context;
        let contexts = Category::ALL
            .into_iter()
            .filter(|c| !context.kinds[c.index()].is_empty())
            .map(|c| (c, context.kinds[c.index()].clone()))
            .collect();
        Some(FusionInfo {
            combined: CategoryScores::from_array(combined),
            damping: CategoryScores::from_array(context.damping),
            contexts,
        })
    }
}

impl EngineInfo {
    /// The engine info of a text scored with `scores`: `model` names the model when it ran,
    /// `lexical` the lexical tier when it ran, `rules` the rule set; the note says why the model
    /// failed on this text, or else why it was not loaded (`model_error`).
    pub(crate) fn new(
        model: Option<String>,
        lexical: Option<String>,
        rules: String,
        scores: &Scores,
        model_error: Option<&ModelError>,
    ) -> EngineInfo {
        let failure = scores
            .model_failure
            .as_ref()
            .map(|e| format!("the model failed, fast engine: {e}"));
        let mode = match (&model, &lexical) {
            (Some(_), _) => EngineMode::ModelAndRules,
            (None, Some(_)) => EngineMode::Fast,
            (None, None) => EngineMode::Rules,
        };
        let tiers = [
            Some(Tier::Rules),
            lexical.as_ref().map(|_| Tier::Lexical),
            model.as_ref().map(|_| Tier::Model),
        ];
        EngineInfo {
            mode,
            tiers: tiers.into_iter().flatten().collect(),
            model,
            lexical,
            rules,
            rules_scores: CategoryScores::from_array(scores.rules),
            model_scores: scores.model.map(CategoryScores::from_array),
            lexical_scores: scores.lexical.map(CategoryScores::from_array),
            fusion: FusionInfo::new(scores),
            note: failure.or_else(|| model_error.map(ToString::to_string)),
        }
    }
}

/// The full result of scoring one text.
///
/// ```
/// let report = safespace::Detector::default().score("I bought the pills, tonight's the night.");
/// assert_eq!(report.severity, safespace::Severity::Critical);
/// assert_eq!(report.action, safespace::Action::ShowCrisisResources);
/// let json = serde_json::to_value(&report).unwrap();
/// assert_eq!(json["flagged"][0], "self_harm");
/// // The rules flag it already, so the default engine answers without the model.
/// assert_eq!(json["engine"]["mode"], "fast");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Per-category probabilities.
    pub scores: CategoryScores,
    /// Per-sub-label probabilities, only for sub-labels with evidence.
    pub labels: BTreeMap<Label, f32>,
    /// Categories whose score reached the policy threshold.
    pub flagged: Vec<Category>,
    /// Overall severity of the flagged categories.
    pub severity: Severity,
    /// Recommended action under the policy.
    pub action: Action,
    /// Why: the matched spans, strongest first up to a limit, then in text order.
    pub evidence: Vec<Evidence>,
    /// Evidence items found but left out of `evidence` to keep reports small (very long texts).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub evidence_omitted: usize,
    /// Content-warning tags for readers.
    pub content_warnings: Vec<ContentWarning>,
    /// Crisis resources, present when self-harm is flagged.
    pub resources: Vec<Resource>,
    /// What ran.
    pub engine: EngineInfo,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Report {
    /// Whether a category was flagged.
    ///
    /// ```
    /// let report = safespace::Detector::default().score("kys");
    /// assert!(report.is_flagged(safespace::Category::Harassment));
    /// ```
    pub fn is_flagged(&self, category: Category) -> bool {
        self.flagged.contains(&category)
    }
    /// The last stage: the report of `original` (normalized as `normalized`) from the rules'
    /// outcome, the fused `scores`, the policy's decision and the engine that ran. Evidence comes in
    /// text order with offsets into `original`, the strongest [`MAX_EVIDENCE`] when there are more.
    pub(crate) fn assemble(
        original: &str,
        normalized: &NormalizedText,
        rules: RuleOutcome,
        lexical: Vec<LexicalFinding>,
        scores: [f32; 3],
        decision: Decision,
        engine: EngineInfo,
    ) -> Report {
        let mut items: Vec<Item> = rules.evidence.into_iter().map(Item::from).collect();
        items.extend(lexical.into_iter().map(Item::from));
        items.sort_by_key(|item| (item.range.start, item.range.end));
        let (evidence, evidence_omitted) = evidence(original, normalized, items);
        Report {
            scores: CategoryScores::from_array(scores),
            labels: rules.label_scores,
            flagged: decision.flagged,
            severity: decision.severity,
            action: decision.action,
            evidence,
            evidence_omitted,
            content_warnings: decision.content_warnings,
            resources: decision.resources,
            engine,
        }
    }
}

/// Words of a text that carry the lexical tier's flag of a category, as evidence.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LexicalFinding {
    pub category: Category,
    /// Byte range in the normalized text.
    pub range: std::ops::Range<usize>,
    /// The category's fused score times these words' share of the tier's raise.
    pub weight: f32,
}

/// One evidence item before offsets are mapped: a rule's finding or the lexical tier's words.
struct Item<'a> {
    category: Category,
    subcategory: &'a str,
    rule: &'a str,
    range: std::ops::Range<usize>,
    weight: f32,
    severity: Severity,
    contexts: Vec<&'a str>,
}

impl<'a> From<Finding<'a>> for Item<'a> {
    fn from(finding: Finding<'a>) -> Self {
        Item {
            category: finding.label.category(),
            subcategory: finding.label.name(),
            rule: finding.rule,
            range: finding.range,
            weight: finding.weight,
            severity: finding.severity,
            contexts: finding.contexts,
        }
    }
}

impl From<LexicalFinding> for Item<'_> {
    /// Lexical evidence names the tier as its rule and sub-label: `"lexical"`.
    fn from(finding: LexicalFinding) -> Self {
        Item {
            category: finding.category,
            subcategory: "lexical",
            rule: "lexical",
            range: finding.range,
            weight: finding.weight,
            severity: crate::policy::learned_only_severity(finding.category),
            contexts: Vec::new(),
        }
    }
}

/// Evidence items in text order with offsets into `original`, keeping the strongest
/// [`MAX_EVIDENCE`] when there are more, and how many were left out.
fn evidence(
    original: &str,
    normalized: &NormalizedText,
    mut findings: Vec<Item>,
) -> (Vec<Evidence>, usize) {
    let omitted = findings.len().saturating_sub(MAX_EVIDENCE);
    if omitted > 0 {
        let mut ranked: Vec<(usize, Item)> = findings.into_iter().enumerate().collect();
        ranked.sort_by(|(_, a), (_, b)| b.weight.total_cmp(&a.weight));
        ranked.truncate(MAX_EVIDENCE);
        ranked.sort_unstable_by_key(|(position, _)| *position);
        findings = ranked.into_iter().map(|(_, finding)| finding).collect();
    }
    let spans: Vec<_> = findings
        .iter()
        .map(|f| normalized.original_range(f.range.clone()))
        .collect();
    let byte_offsets: Vec<usize> = spans.iter().flat_map(|s| [s.start, s.end]).collect();
    let utf16 = utf16_offsets(original, &byte_offsets);
    let evidence = findings
        .into_iter()
        .zip(spans)
        .enumerate()
        .map(|(i, (finding, span))| Evidence {
            category: finding.category,
            subcategory: finding.subcategory.to_owned(),
            rule: finding.rule.to_owned(),
            text: original[span.clone()].to_owned(),
            start: span.start,
            end: span.end,
            utf16_start: utf16[2 * i],
            utf16_end: utf16[2 * i + 1],
            weight: finding.weight,
            severity: finding.severity,
            context: finding.contexts.into_iter().map(str::to_owned).collect(),
        })
        .collect();
    (evidence, omitted)
}

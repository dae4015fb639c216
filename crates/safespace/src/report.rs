//! The output of scoring: [`Report`] and the types inside it. Everything here serializes with serde to
//! the JSON shape documented in the README.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Category, Label};

/// How serious a finding is, from `none` to `critical` (intent with a plan or a time).
///
/// ```
/// use safespace::Severity;
/// assert!(Severity::Critical > Severity::High);
/// assert_eq!(serde_json::to_string(&Severity::Low).unwrap(), "\"low\"");
/// ```
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Nothing flagged.
    #[default]
    None,
    /// Worth noting; past, third-person or hedged content.
    Low,
    /// A present concern (ideation, self-injury, insults, myths).
    Medium,
    /// Strong risk (stated intent, methods, threats, encouragement to self-harm).
    High,
    /// Imminent risk: intent with a plan, means or a time.
    Critical,
}

impl Severity {
    /// The snake_case name used in JSON and on the command line.
    ///
    /// ```
    /// assert_eq!(safespace::Severity::Critical.as_str(), "critical");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// What a platform should do with the text, from least to most restrictive.
///
/// ```
/// use safespace::Action;
/// assert!(Action::Block > Action::HoldForReview);
/// assert_eq!(Action::ShowCrisisResources.as_str(), "show_crisis_resources");
/// ```
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Publish as is.
    #[default]
    Allow,
    /// Publish behind a content warning.
    SuggestContentWarning,
    /// Publish, and show the writer (and readers) crisis resources in a supportive way.
    ShowCrisisResources,
    /// Hold for a human moderator before it is shown.
    HoldForReview,
    /// Do not publish.
    Block,
}

impl Action {
    /// The snake_case name used in JSON and on the command line.
    ///
    /// ```
    /// assert_eq!(safespace::Action::HoldForReview.as_str(), "hold_for_review");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::SuggestContentWarning => "suggest_content_warning",
            Action::ShowCrisisResources => "show_crisis_resources",
            Action::HoldForReview => "hold_for_review",
            Action::Block => "block",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A content-warning tag for readers, independent of whether the text is a risk.
///
/// A recovery story about cutting is not a risk, but readers may still want a warning.
///
/// ```
/// use safespace::ContentWarning;
/// assert_eq!(serde_json::to_string(&ContentWarning::EatingDisorder).unwrap(), "\"eating_disorder\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentWarning {
    /// Suicide, suicidal thoughts or attempts.
    Suicide,
    /// Self-injury such as cutting or burning.
    SelfHarm,
    /// Disordered eating.
    EatingDisorder,
    /// Drug or alcohol use, overdose, relapse.
    SubstanceUse,
    /// Abuse, assault and trauma.
    TraumaAbuse,
}

impl ContentWarning {
    /// The snake_case name used in JSON.
    ///
    /// ```
    /// assert_eq!(safespace::ContentWarning::TraumaAbuse.as_str(), "trauma_abuse");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ContentWarning::Suicide => "suicide",
            ContentWarning::SelfHarm => "self_harm",
            ContentWarning::EatingDisorder => "eating_disorder",
            ContentWarning::SubstanceUse => "substance_use",
            ContentWarning::TraumaAbuse => "trauma_abuse",
        }
    }
}

impl fmt::Display for ContentWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// A crisis or support service to show next to self-harm content.
///
/// ```
/// let r = safespace::Locale::Us.resources();
/// assert_eq!(r[0].how, "Call or text 988");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// Name of the service.
    pub name: String,
    /// How to reach it, in words a person can act on.
    pub how: String,
    /// Region code the service covers.
    pub region: String,
}

/// Which engines scored a text.
///
/// ```
/// use safespace::EngineMode;
/// assert_eq!(serde_json::to_string(&EngineMode::ModelAndRules).unwrap(), r#""model+rules""#);
/// assert_eq!(EngineMode::Rules.as_str(), "rules");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EngineMode {
    /// The model fused with the rules.
    #[serde(rename = "model+rules")]
    ModelAndRules,
    /// The rules alone (by choice, or because the model could not run).
    #[serde(rename = "rules")]
    Rules,
}

impl EngineMode {
    /// `"model+rules"` or `"rules"`, as in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            EngineMode::ModelAndRules => "model+rules",
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
    /// Whether a model was fused in (`"model+rules"`) or only the rule engine ran (`"rules"`).
    pub mode: EngineMode,
    /// The model name and hash prefix, when a model ran.
    pub model: Option<String>,
    /// The rule set: built-in version plus the number of user rule files.
    pub rules: String,
    /// The model's calibrated probabilities before fusion with the rules, when the model ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_scores: Option<CategoryScores>,
    /// Why the model did not run, when it was wanted but unavailable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The full result of scoring one text.
///
/// ```
/// let report = safespace::Detector::default().score("I bought the pills, tonight's the night.");
/// assert_eq!(report.severity, safespace::Severity::Critical);
/// assert_eq!(report.action, safespace::Action::ShowCrisisResources);
/// let json = serde_json::to_value(&report).unwrap();
/// assert_eq!(json["flagged"][0], "self_harm");
/// // "model+rules" when ONNX Runtime is installed, "rules" (with a note saying why) when not.
/// assert!(json["engine"]["mode"].as_str().unwrap().ends_with("rules"));
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
}

//! The words every stage shares for what it finds and decides: [`Severity`], [`Action`],
//! [`ContentWarning`] and [`Resource`]. No stage of its own; it sits below all of them.

use std::fmt;

use serde::{Deserialize, Serialize};

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

/// What a context modifier recognizes. At most one context of each kind applies to one piece of
/// evidence, and the model is lowered once per kind. A closed list, so that a misspelt kind in a rule
/// file is an error instead of a new kind of its own.
///
/// Reports name the kinds that lowered a learned tier's probability (`engine.fusion.contexts`).
///
/// ```
/// use safespace::ContextKind;
/// assert_eq!(serde_json::to_string(&ContextKind::ThirdPerson).unwrap(), "\"third_person\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContextKind {
    /// "not", "I'm not suicidal", "X doesn't cure Y".
    Negation,
    /// "years ago", "used to", recovery and survival.
    Past,
    /// Someone else is the subject ("my sister wants to...").
    ThirdPerson,
    /// Support and crisis resources ("call 988", "you're not alone").
    Supportive,
    /// Prevention, research and training material.
    Prevention,
    /// Novels, films, songs, characters.
    Fiction,
    /// A question about what a word means.
    Definition,
    /// Someone told, dared or urged the writer to.
    ToldTo,
    /// Inside quotation marks.
    Quotation,
    /// Reported speech, posts and claims of others.
    Reporting,
    /// Moderation and reports of being bullied.
    Moderation,
    /// Figures of speech and technical senses ("killing it", "kill the process").
    Idiom,
    /// A goodbye for a while ("see you tomorrow").
    Farewell,
    /// Intrusive thoughts called common or harmless.
    Intrusive,
    /// A mood report and nothing else.
    Distress,
    /// Jokes and laughter.
    Humor,
    /// Aimed at "you".
    Directed,
    /// Said of oneself.
    SelfDirected,
    /// Objecting to abuse ("stop calling people...").
    CounterSpeech,
    /// Names nobody else (lowers only the model).
    Untargeted,
    /// About people in general (lowers only the model).
    Generic,
    /// Debunking a claim.
    Debunk,
    /// Asking whether a claim is true.
    Question,
}

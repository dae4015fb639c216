//! Policies: per-category thresholds and the mapping from flagged categories and severity to an action,
//! applied to a text's fused scores by [`Policy::decide`].

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::resources::Locale;
use crate::vocabulary::{Action, ContentWarning, Resource, Severity};
use crate::Category;

/// What the policy makes of one text's scores.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    /// Categories whose score reaches their threshold, in category order.
    pub flagged: Vec<Category>,
    /// The highest severity among the flagged categories.
    pub severity: Severity,
    pub action: Action,
    pub content_warnings: Vec<ContentWarning>,
    /// Crisis resources, when self-harm is flagged.
    pub resources: Vec<Resource>,
}

/// Severity given to a category a learned tier (the model or the lexical tier) flags without any
/// rule evidence.
pub(crate) fn learned_only_severity(category: Category) -> Severity {
    match category {
        Category::SelfHarm | Category::Harassment => Severity::Medium,
        Category::Misinformation => Severity::Low,
    }
}

/// A named preset; see [`Policy`] for what each one does.
///
/// ```
/// use safespace::Preset;
/// assert_eq!("strict".parse::<Preset>().unwrap(), Preset::Strict);
/// assert_eq!(Preset::PeerSupport.to_string(), "peer_support");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// Mental-health peer-support communities: low self-harm threshold, crisis resources rather than
    /// blocking, abuse held for review.
    #[default]
    PeerSupport,
    /// General-purpose platforms: fewer flags, blocks only severe harassment.
    General,
    /// Spaces for young or vulnerable users: lowest thresholds, harassment blocked.
    Strict,
}

impl Preset {
    /// Every preset.
    ///
    /// ```
    /// assert_eq!(safespace::Preset::ALL.len(), 3);
    /// ```
    pub const ALL: [Preset; 3] = [Preset::PeerSupport, Preset::General, Preset::Strict];

    /// The snake_case name.
    ///
    /// ```
    /// assert_eq!(safespace::Preset::General.as_str(), "general");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::PeerSupport => "peer_support",
            Preset::General => "general",
            Preset::Strict => "strict",
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Preset {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Preset::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                Error::InvalidOption(format!(
                    "unknown policy `{s}` (expected peer_support, general or strict)"
                ))
            })
    }
}

/// Thresholds per category plus the preset that decides actions.
///
/// A category is flagged when its score reaches its threshold. The action is the most restrictive
/// one the flagged categories call for:
///
/// | preset | self_harm | harassment | misinformation |
/// |---|---|---|---|
/// | `peer_support` (0.45 / 0.60 / 0.60) | show crisis resources | hold for review; block if high | content warning; hold if high |
/// | `general` (0.55 / 0.70 / 0.70) | content warning if low, else resources | allow if low, hold if medium, block if high | allow if low, content warning if medium, hold if high |
/// | `strict` (0.35 / 0.45 / 0.50) | resources; hold if critical | hold if low, else block | content warning if low, else hold |
///
/// Text with content warnings but nothing flagged gets `suggest_content_warning`.
///
/// ```
/// use safespace::{Category, Policy};
/// let policy = Policy::peer_support().with_threshold(Category::Harassment, 0.8).unwrap();
/// assert_eq!(policy.threshold(Category::Harassment), 0.8);
/// assert_eq!(policy.threshold(Category::SelfHarm), 0.45);
/// ```
///
/// It deserializes through the same checks as [`Policy::with_threshold`]:
///
/// ```
/// let ok: safespace::Policy = serde_json::from_str(r#"{"preset": "strict", "thresholds": [0.3, 0.5, 0.5]}"#).unwrap();
/// assert_eq!(ok.name(), safespace::Preset::Strict);
/// let err = serde_json::from_str::<safespace::Policy>(r#"{"preset": "strict", "thresholds": [0, 0.5, 0.5]}"#);
/// assert!(err.unwrap_err().to_string().contains("thresholds lie in (0, 1]"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PolicyFields")]
pub struct Policy {
    preset: Preset,
    thresholds: [f32; 3],
}

/// A policy as written, before its thresholds are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFields {
    preset: Preset,
    thresholds: [f32; 3],
}

impl TryFrom<PolicyFields> for Policy {
    type Error = Error;

    fn try_from(fields: PolicyFields) -> Result<Policy> {
        Category::ALL
            .into_iter()
            .try_fold(Policy::preset(fields.preset), |policy, category| {
                policy.with_threshold(category, fields.thresholds[category.index()])
            })
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::peer_support()
    }
}

impl Policy {
    /// The policy of a preset with its default thresholds.
    ///
    /// ```
    /// let p = safespace::Policy::preset(safespace::Preset::Strict);
    /// assert_eq!(p.name(), safespace::Preset::Strict);
    /// ```
    pub fn preset(preset: Preset) -> Policy {
        let thresholds = match preset {
            Preset::PeerSupport => [0.45, 0.6, 0.6],
            Preset::General => [0.55, 0.7, 0.7],
            Preset::Strict => [0.35, 0.45, 0.5],
        };
        Policy { preset, thresholds }
    }

    /// The default: tuned for mental-health peer-support communities.
    ///
    /// ```
    /// assert_eq!(safespace::Policy::peer_support(), safespace::Policy::default());
    /// ```
    pub fn peer_support() -> Policy {
        Policy::preset(Preset::PeerSupport)
    }

    /// General-purpose platforms.
    ///
    /// ```
    /// assert_eq!(safespace::Policy::general().threshold(safespace::Category::SelfHarm), 0.55);
    /// ```
    pub fn general() -> Policy {
        Policy::preset(Preset::General)
    }

    /// Young or vulnerable audiences.
    ///
    /// ```
    /// assert_eq!(safespace::Policy::strict().threshold(safespace::Category::Harassment), 0.45);
    /// ```
    pub fn strict() -> Policy {
        Policy::preset(Preset::Strict)
    }

    /// Overrides the threshold of one category. Thresholds must lie in `(0, 1]`.
    ///
    /// ```
    /// use safespace::{Category, Policy};
    /// assert!(Policy::general().with_threshold(Category::SelfHarm, 0.0).is_err());
    /// ```
    pub fn with_threshold(mut self, category: Category, threshold: f32) -> Result<Policy> {
        if !(threshold > 0.0 && threshold <= 1.0) {
            return Err(Error::InvalidOption(format!(
                "threshold for {category} is {threshold}; thresholds lie in (0, 1]"
            )));
        }
        self.thresholds[category.index()] = threshold;
        Ok(self)
    }

    /// The preset this policy starts from.
    ///
    /// ```
    /// assert_eq!(safespace::Policy::default().name(), safespace::Preset::PeerSupport);
    /// ```
    pub fn name(&self) -> Preset {
        self.preset
    }

    /// The threshold of a category.
    ///
    /// ```
    /// assert_eq!(safespace::Policy::default().threshold(safespace::Category::Misinformation), 0.6);
    /// ```
    pub fn threshold(&self, category: Category) -> f32 {
        self.thresholds[category.index()]
    }

    /// Flags, severity, action, content warnings and resources for a text with fused `scores`, the
    /// rules' severity per category (`None` where only the model speaks: self_harm and harassment
    /// then count as `medium`, misinformation as `low`) and the content warnings the rules kept. Text
    /// with warnings but no flag gets `suggest_content_warning`.
    pub(crate) fn decide(
        &self,
        scores: [f32; 3],
        rule_severity: [Severity; 3],
        warnings: &BTreeSet<ContentWarning>,
        locale: Locale,
    ) -> Decision {
        let flagged: Vec<Category> = Category::ALL
            .into_iter()
            .filter(|&c| scores[c.index()] >= self.threshold(c))
            .collect();
        let severity_of = |c: Category| match rule_severity[c.index()] {
            Severity::None => learned_only_severity(c),
            found => found,
        };
        let severity = flagged
            .iter()
            .map(|&c| severity_of(c))
            .max()
            .unwrap_or_default();
        let fallback = if warnings.is_empty() {
            Action::Allow
        } else {
            Action::SuggestContentWarning
        };
        let action = flagged
            .iter()
            .map(|&c| self.action_for(c, severity_of(c)))
            .max()
            .unwrap_or(fallback);
        let resources = if flagged.contains(&Category::SelfHarm) {
            locale.resources()
        } else {
            Vec::new()
        };
        Decision {
            flagged,
            severity,
            action,
            content_warnings: warnings.iter().copied().collect(),
            resources,
        }
    }

    /// The action one flagged category calls for at a severity.
    ///
    /// ```
    /// use safespace::{Action, Category, Policy, Severity};
    /// let p = Policy::peer_support();
    /// assert_eq!(p.action_for(Category::SelfHarm, Severity::Critical), Action::ShowCrisisResources);
    /// assert_eq!(p.action_for(Category::Harassment, Severity::High), Action::Block);
    /// ```
    pub fn action_for(&self, category: Category, severity: Severity) -> Action {
        use Action::*;
        use Severity::{Critical, High, Low, Medium, None as Nothing};
        match (self.preset, category, severity) {
            (_, _, Nothing) => Allow,
            (Preset::PeerSupport, Category::SelfHarm, _) => ShowCrisisResources,
            (Preset::PeerSupport, Category::Harassment, Low | Medium) => HoldForReview,
            (Preset::PeerSupport, Category::Harassment, High | Critical) => Block,
            (Preset::PeerSupport, Category::Misinformation, Low | Medium) => SuggestContentWarning,
            (Preset::PeerSupport, Category::Misinformation, High | Critical) => HoldForReview,
            (Preset::General, Category::SelfHarm, Low) => SuggestContentWarning,
            (Preset::General, Category::SelfHarm, _) => ShowCrisisResources,
            (Preset::General, Category::Harassment, Low) => Allow,
            (Preset::General, Category::Harassment, Medium) => HoldForReview,
            (Preset::General, Category::Harassment, High | Critical) => Block,
            (Preset::General, Category::Misinformation, Low) => Allow,
            (Preset::General, Category::Misinformation, Medium) => SuggestContentWarning,
            (Preset::General, Category::Misinformation, High | Critical) => HoldForReview,
            (Preset::Strict, Category::SelfHarm, Critical) => HoldForReview,
            (Preset::Strict, Category::SelfHarm, _) => ShowCrisisResources,
            (Preset::Strict, Category::Harassment, Low) => HoldForReview,
            (Preset::Strict, Category::Harassment, _) => Block,
            (Preset::Strict, Category::Misinformation, Low) => SuggestContentWarning,
            (Preset::Strict, Category::Misinformation, _) => HoldForReview,
        }
    }
}

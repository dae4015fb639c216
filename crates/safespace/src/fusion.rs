//! Fusing a learned tier's calibrated probabilities with the rule engine's evidence.
//!
//! The rule: for each category, `score = max(rules, weight × learned × damping)`, where `learned`
//! is the model's probability in the full engine and the lexical tier's in the fast one.
//!
//! - `rules` is the noisy-OR of the rule evidence after its context modifiers. Rules are precise and
//!   explain themselves, so they are never lowered by a learned tier.
//! - `learned` is the calibrated probability (for the model, the maximum over windows). Neither tier
//!   sees context, so it is multiplied by `damping`: the strongest reduction that context modifiers
//!   marked `model = true` found anywhere in the text (support messages, prevention news, recovery,
//!   debunking, fiction, denial), and, when every piece of rule evidence in the category was itself
//!   lowered by context (negation, quotation, idiom...), the weakest of those reductions. Boosting
//!   contexts never raise it.
//! - `weight` is per tier and category ([`MODEL_WEIGHT`], [`LEXICAL_WEIGHT`]), measured on pooled
//!   validation.
//! - Severity and action come from the policy ([`crate::policy`]), evidence from the rules and,
//!   where the lexical tier carries a flag, from its strongest words.

use crate::error::ModelError;
use crate::rules::RuleOutcome;

/// The fused scores of one text, and what the learned tiers contributed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scores {
    /// Per category: `max(rules, weight × learned × damping)`, or the rules' alone.
    pub categories: [f32; 3],
    /// The rules' own scores.
    pub rules: [f32; 3],
    /// The model's calibrated probabilities, when it ran.
    pub model: Option<[f32; 3]>,
    /// The lexical tier's calibrated probabilities, when it ran (fused only where the model did
    /// not).
    pub lexical: Option<[f32; 3]>,
    /// Why the model ran but gave nothing (the fast engine's scores stand in).
    pub model_failure: Option<ModelError>,
}

impl Scores {
    /// Whether the lexical tier's weighted probability is what reached category `c`'s score.
    pub(crate) fn carried_by_lexical(&self, c: usize) -> bool {
        self.model.is_none() && self.lexical.is_some() && self.categories[c] > self.rules[c]
    }
}

/// Fuses the rules' outcome with the model's probabilities (`None` when no model runs, `Some(Err)`
/// when its run failed) or, where the model gave none, the lexical tier's.
pub(crate) fn fuse(
    rules: &RuleOutcome,
    model: Option<Result<[f32; 3], ModelError>>,
    lexical: Option<[f32; 3]>,
) -> Scores {
    let (model, model_failure) = match model {
        Some(Ok(probabilities)) => (Some(probabilities), None),
        Some(Err(failure)) => (None, Some(failure)),
        None => (None, None),
    };
    let categories = match (model, lexical) {
        (Some(p), _) => fused(rules.category_scores, p, rules.model_damping, MODEL_WEIGHT),
        (None, Some(p)) => fused(
            rules.category_scores,
            p,
            rules.model_damping,
            LEXICAL_WEIGHT,
        ),
        (None, None) => rules.category_scores,
    };
    Scores {
        categories,
        rules: rules.category_scores,
        model,
        lexical,
        model_failure,
    }
}

/// How far the model's probability is trusted per category (self_harm, harassment, misinformation).
///
/// Measured with `models/training/fusion.py` (table in the model folder's `fusion.json`): per category,
/// the largest weight whose fused false-positive rate on pooled validation (18k texts of every source,
/// never trained on) stays within 3 % at the `peer_support` threshold and that flags none of the
/// functional suite's hard negatives by the model alone.
///
/// - harassment 0.70: recall 0.16 → 0.28 over the rules at a false-positive rate of 2.8 %.
/// - self_harm 0.45: the model scores suicide as a topic, not a stance: at 0.50 (recall 0.33 → 0.80,
///   2.6 %) it flags "Years ago I overdosed. Today I run a support group" and "suicide is selfish", at
///   0.55 nine of the suite's recovery, negation and myth sentences. At 0.45 it cannot flag alone under
///   `peer_support` or `general`; under `strict` (0.35) it flags where its probability reaches 0.78.
/// - misinformation 0.45: its head fires on short claims of any kind (insults 0.62–0.80, true health
///   advice 0.76–0.94 on the suite), so a model-only score stays under every preset's threshold (0.45
///   < 0.50, `strict`): flags come from the rules, and the score still ranks.
pub(crate) const MODEL_WEIGHT: [f32; 3] = [0.45, 0.7, 0.45];

/// How far the lexical tier's probability is trusted per category in the fast engine, chosen like
/// [`MODEL_WEIGHT`] (`models/training/fusion.py --tier lexical`, table in
/// `models/safespace-lexical/fusion.json`; pooled validation, `peer_support` thresholds):
///
/// - harassment 0.70: recall 0.16 → 0.29 over the rules at a false-positive rate of 1.9 % → 2.6 %.
/// - self_harm 0.45: like the model, the tier scores suicide as a topic: at 0.50 (recall 0.33 →
///   0.53, 1.9 %) it flags 11 of the suite's recovery, support and news sentences. At 0.45 it
///   cannot flag alone under `peer_support` or `general`; its score still ranks.
/// - misinformation 0.60: at 0.65 (recall 0.02 → 0.45, 0.7 %) it flags five of the suite's true
///   health statements and debunkings.
pub(crate) const LEXICAL_WEIGHT: [f32; 3] = [0.45, 0.7, 0.6];

/// `max(rules, weight × learned × damping)` per category.
fn fused(rules: [f32; 3], learned: [f32; 3], damping: [f32; 3], weight: [f32; 3]) -> [f32; 3] {
    [0, 1, 2].map(|c| rules[c].max(weight[c] * learned[c] * damping[c].clamp(0.0, 1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Category;

    #[test]
    fn rules_are_never_lowered_and_damping_lowers_the_model() {
        assert_eq!(
            fused([0.9, 0.0, 0.0], [0.1, 0.0, 0.0], [1.0; 3], MODEL_WEIGHT)[0],
            0.9
        );
        let full = fused([0.0; 3], [0.8; 3], [1.0; 3], MODEL_WEIGHT);
        let damped = fused([0.0; 3], [0.8; 3], [0.5; 3], MODEL_WEIGHT);
        for c in 0..3 {
            assert!((full[c] - 0.8 * MODEL_WEIGHT[c]).abs() < 1e-6);
            assert!((damped[c] - 0.4 * MODEL_WEIGHT[c]).abs() < 1e-6);
        }
        assert_eq!(
            fused([0.0; 3], [0.8; 3], [2.0; 3], MODEL_WEIGHT),
            full,
            "damping never boosts"
        );
    }

    #[test]
    fn the_model_alone_never_flags_misinformation_at_a_preset_threshold() {
        let certain =
            fused([0.0; 3], [1.0; 3], [1.0; 3], MODEL_WEIGHT)[Category::Misinformation as usize];
        assert!(certain > 0.0, "the model still ranks");
        for preset in crate::Preset::ALL {
            let threshold = crate::Policy::preset(preset).threshold(Category::Misinformation);
            assert!(
                certain < threshold,
                "{preset}: {certain} reaches {threshold}"
            );
        }
    }
}

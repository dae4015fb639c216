//! Fusing the model's calibrated probabilities with the rule engine's evidence.
//!
//! The rule: for each category, `score = max(rules, model × damping)`.
//!
//! - `rules` is the noisy-OR of the rule evidence after its context modifiers. Rules are precise and
//!   explain themselves, so they are never lowered by the model.
//! - `model` is the calibrated probability (maximum over windows). The model cannot see context, so it is
//!   multiplied by `damping`: the strongest reduction that context modifiers marked `model = true` found
//!   anywhere in the text (support messages, prevention news, recovery, debunking, fiction, denial), and,
//!   when every piece of rule evidence in the category was itself lowered by context (negation, quotation,
//!   idiom...), the weakest of those reductions. Boosting contexts never raise the model.
//! - Severity and action come from the policy ([`crate::policy`]), evidence from the rules.

use crate::error::ModelError;
use crate::rules::RuleOutcome;

/// The fused scores of one text, and what the model contributed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scores {
    /// Per category: `max(rules, weight × model × damping)`, or the rules' alone without a model.
    pub categories: [f32; 3],
    /// The model's calibrated probabilities, when it ran.
    pub model: Option<[f32; 3]>,
    /// Why the model ran but gave nothing (the scores are then the rules').
    pub model_failure: Option<ModelError>,
}

/// Fuses the rules' outcome with the model's probabilities: `None` when no model runs, `Some(Err)`
/// when its run failed.
pub(crate) fn fuse(rules: &RuleOutcome, model: Option<Result<[f32; 3], ModelError>>) -> Scores {
    match model {
        Some(Ok(probabilities)) => Scores {
            categories: fused(rules.category_scores, probabilities, rules.model_damping),
            model: Some(probabilities),
            model_failure: None,
        },
        Some(Err(failure)) => Scores {
            categories: rules.category_scores,
            model: None,
            model_failure: Some(failure),
        },
        None => Scores {
            categories: rules.category_scores,
            model: None,
            model_failure: None,
        },
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

/// `max(rules, weight × model × damping)` per category.
fn fused(rules: [f32; 3], model: [f32; 3], damping: [f32; 3]) -> [f32; 3] {
    [0, 1, 2].map(|c| rules[c].max(MODEL_WEIGHT[c] * model[c] * damping[c].clamp(0.0, 1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Category;

    #[test]
    fn rules_are_never_lowered_and_damping_lowers_the_model() {
        assert_eq!(fused([0.9, 0.0, 0.0], [0.1, 0.0, 0.0], [1.0; 3])[0], 0.9);
        let full = fused([0.0; 3], [0.8; 3], [1.0; 3]);
        let damped = fused([0.0; 3], [0.8; 3], [0.5; 3]);
        for c in 0..3 {
            assert!((full[c] - 0.8 * MODEL_WEIGHT[c]).abs() < 1e-6);
            assert!((damped[c] - 0.4 * MODEL_WEIGHT[c]).abs() < 1e-6);
        }
        assert_eq!(
            fused([0.0; 3], [0.8; 3], [2.0; 3]),
            full,
            "damping never boosts"
        );
    }

    #[test]
    fn the_model_alone_never_flags_misinformation_at_a_preset_threshold() {
        let certain = fused([0.0; 3], [1.0; 3], [1.0; 3])[Category::Misinformation as usize];
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

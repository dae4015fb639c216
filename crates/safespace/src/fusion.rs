//! Fusing the learned tiers' calibrated probabilities with the rule engine's evidence, through a
//! learned combiner.
//!
//! Per category: `score = max(rules, ceiling × combined)`, where `combined` is a logistic regression
//! over what the tiers said about the text:
//!
//! ```text
//! combined = σ(bias + learned × logit(p) + lexical × logit(q) + rules × r + damping × ln(d) + Σ contexts[k])
//! ```
//!
//! - `p` is the learned tier's calibrated probability: the model's (the maximum over windows) in the
//!   full engine, the lexical tier's in the fast one. Neither tier sees context.
//! - `q` is the lexical tier's probability beside the model's, in the full engine only (the lexical
//!   combiner has no such term). The two tiers err on different texts: a transformer reads meaning,
//!   a linear model over n-grams the words of a community it was not trained on, so together they
//!   rank text from unseen sources better than either (model card, "Fusion").
//! - `r` is the rules' score: the noisy-OR of the rule evidence after its context modifiers. Rules
//!   are precise and explain themselves, so the fused score never falls below it; agreement between
//!   a weak rule hit and the learned tier raises `combined`.
//! - `d` is the hand-set damping of the rule files: the product of the effects of the context kinds
//!   marked `model = true` found in the text (support messages, prevention news, recovery,
//!   debunking, fiction, denial, ...) and, where every piece of the category's evidence was itself
//!   lowered by context, the weakest of those reductions. Its weight is at least 1: the damping
//!   lowers the odds at least by its own factor, whatever the fit finds.
//! - `contexts[k]` is a measured weight, never above zero, for each context kind `k` that lowers the
//!   category somewhere in the text (negation, quotation, recovery, support, ...): the contexts keep
//!   their documented meaning — they lower a flag — by amounts measured on data.
//! - `ceiling` caps what the learned tiers can reach without rule evidence, where the policy asks for
//!   it (a category the tier scores as a topic rather than a stance).
//!
//! The weights are fitted per tier and category on pooled validation (every public source's
//! validation split, never trained on) by `models/training/fusion.py` and shipped as data next to
//! the tier (`combiner.json`), turned into constants and checked at build time. The model's are
//! fitted with the built-in lexical tier beside it; a refitted tier (`lexical_dir`) takes its
//! place with the same weight. Severity and action come from the policy ([`crate::policy`]),
//! evidence from the rules and, where the lexical tier carries a flag, from its strongest words.

use crate::error::ModelError;
use crate::rules::{LearnedContext, RuleOutcome};
use crate::vocabulary::ContextKind;
use crate::Category;

/// The fused scores of one text, and what the learned tiers contributed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scores {
    /// Per category: `max(rules, ceiling × combined)`, or the rules' alone.
    pub categories: [f32; 3],
    /// The rules' own scores.
    pub rules: [f32; 3],
    /// The model's calibrated probabilities, when it ran.
    pub model: Option<[f32; 3]>,
    /// The lexical tier's calibrated probabilities, when it ran (fused alone where the model did
    /// not, beside it where it did).
    pub lexical: Option<[f32; 3]>,
    /// The combiner's probabilities, when a learned tier was fused.
    pub combined: Option<[f32; 3]>,
    /// The contexts that entered the combiner.
    pub learned_context: LearnedContext,
    /// Why the model ran but gave nothing (the fast engine's scores stand in).
    pub model_failure: Option<ModelError>,
}

impl Scores {
    /// Whether the lexical tier's combined probability is what reached category `c`'s score.
    pub(crate) fn carried_by_lexical(&self, c: usize) -> bool {
        self.model.is_none() && self.lexical.is_some() && self.categories[c] > self.rules[c]
    }
}

/// Fuses the rules' outcome with the model's probabilities (`None` when no model runs, `Some(Err)`
/// when its run failed) and the lexical tier's, or with the lexical tier's alone where the model
/// gave none.
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
    let combiner = match (model, lexical) {
        (Some(p), beside) => Some((Combiner::model(), p, beside)),
        (None, Some(p)) => Some((Combiner::lexical(), p, None)),
        (None, None) => None,
    };
    let (categories, combined) = match combiner {
        Some((combiner, p, beside)) => {
            let combined = Category::ALL.map(|c| combiner.combine(c, p, beside, rules));
            let fused = Category::ALL.map(|c| {
                let i = c.index();
                rules.category_scores[i].max(combiner.ceiling(c) * combined[i])
            });
            (fused, Some(combined))
        }
        None => (rules.category_scores, None),
    };
    Scores {
        categories,
        rules: rules.category_scores,
        model,
        lexical,
        combined,
        learned_context: rules.learned_context.clone(),
        model_failure,
    }
}

/// A learned tier's combiner: one logistic regression per category over the tier's probability
/// (the model's with the lexical tier's beside it), the rules' score and the contexts (see the
/// module docs). The shipped ones are the tiers'
/// `combiner.json`, turned into statics (and checked) at build time by `build/combiners.rs`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Combiner {
    /// Per category, in the order of [`Category::ALL`].
    categories: [CategoryCombiner; 3],
}

/// The combiner of one category.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CategoryCombiner {
    bias: f32,
    /// Weight of the tier's logit, `≥ 0`.
    learned: f32,
    /// Weight of the lexical tier's logit beside the model's, `≥ 0` (0 in the lexical combiner).
    lexical: f32,
    /// Weight of the rules' score, `≥ 0`.
    rules: f32,
    /// Weight of `ln(damping)`, `≥ 1` (so the rule files' damping lowers the odds at least by its own
    /// factor).
    damping: f32,
    /// Weight of each context kind present, `≤ 0`; kinds not listed weigh 0.
    contexts: &'static [(ContextKind, f32)],
    /// The most the combiner can contribute without rule evidence, in `(0, 1]`.
    ceiling: f32,
}

include!(concat!(env!("OUT_DIR"), "/combiners.rs"));

/// Probabilities are clamped to `[LOGIT_FLOOR, 1 - LOGIT_FLOOR]` before their logit, as in fitting.
const LOGIT_FLOOR: f32 = 1e-4;

/// The hand-set damping is floored here before its logarithm, as in fitting (a context that
/// removes evidence has damping 0).
const DAMPING_FLOOR: f32 = 1e-3;

impl Combiner {
    /// The combiner of the built-in model.
    pub(crate) fn model() -> &'static Combiner {
        &MODEL_COMBINER
    }

    /// The combiner of the lexical tier.
    pub(crate) fn lexical() -> &'static Combiner {
        &LEXICAL_COMBINER
    }

    fn category(&self, category: Category) -> &CategoryCombiner {
        &self.categories[category.index()]
    }

    /// The most this combiner can add to `category` without rule evidence.
    pub(crate) fn ceiling(&self, category: Category) -> f32 {
        self.category(category).ceiling
    }

    /// The combined probability of `category` for a tier's probabilities `p`, with the lexical
    /// tier's `beside` them where the model's combiner has it.
    fn combine(
        &self,
        category: Category,
        p: [f32; 3],
        beside: Option<[f32; 3]>,
        rules: &RuleOutcome,
    ) -> f32 {
        let context = &rules.learned_context;
        let c = self.category(category);
        let i = category.index();
        let beside = beside.map_or(0.0, |q| c.lexical * logit(q[i]));
        let contexts: f32 = context.kinds[i]
            .iter()
            .filter_map(|kind| c.contexts.iter().find(|(k, _)| k == kind))
            .map(|(_, weight)| weight)
            .sum();
        let z = c.bias
            + c.learned * logit(p[i])
            + beside
            + c.rules * rules.category_scores[i]
            + c.damping * context.damping[i].clamp(DAMPING_FLOOR, 1.0).ln()
            + contexts;
        1.0 / (1.0 + (-z).exp())
    }
}

/// `ln(p / (1 - p))`, with `p` clamped to `[LOGIT_FLOOR, 1 - LOGIT_FLOOR]`.
fn logit(p: f32) -> f32 {
    let p = p.clamp(LOGIT_FLOOR, 1.0 - LOGIT_FLOOR);
    (p / (1.0 - p)).ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Policy, Preset};

    /// A combiner with the same weights for every category.
    fn combiner(weights: CategoryCombiner) -> Combiner {
        Combiner {
            categories: [weights; 3],
        }
    }

    fn outcome(
        rules: [f32; 3],
        damping: [f32; 3],
        kinds: Vec<ContextKind>,
    ) -> RuleOutcome<'static> {
        RuleOutcome {
            evidence: Vec::new(),
            category_scores: rules,
            label_scores: Default::default(),
            severity: Default::default(),
            warnings: Default::default(),
            learned_context: LearnedContext {
                damping,
                kinds: [kinds.clone(), kinds.clone(), kinds],
            },
        }
    }

    const PLAIN: CategoryCombiner = CategoryCombiner {
        bias: 0.0,
        learned: 1.0,
        lexical: 0.0,
        rules: 0.0,
        damping: 0.0,
        contexts: &[],
        ceiling: 1.0,
    };

    #[test]
    fn a_unit_learned_weight_returns_the_tier_probability() {
        let rules = outcome([0.0; 3], [1.0; 3], vec![]);
        let c = combiner(PLAIN).combine(Category::Harassment, [0.2, 0.7, 0.1], None, &rules);
        assert!((c - 0.7).abs() < 1e-5, "{c}");
    }

    #[test]
    fn the_lexical_tier_beside_the_model_moves_the_odds_by_its_weight() {
        let rules = outcome([0.0; 3], [1.0; 3], vec![]);
        let both = combiner(CategoryCombiner {
            lexical: 1.0,
            ..PLAIN
        });
        let at = |q: f32| both.combine(Category::SelfHarm, [0.5; 3], Some([q; 3]), &rules);
        assert!(
            (at(0.8) - 0.8).abs() < 1e-5,
            "a model at even odds leaves the lexical tier's"
        );
        assert!(at(0.1) < at(0.5) && at(0.5) < at(0.9));
        let plain = combiner(PLAIN).combine(Category::SelfHarm, [0.5; 3], Some([0.9; 3]), &rules);
        assert!((plain - 0.5).abs() < 1e-5, "no weight, no effect");
    }

    #[test]
    fn contexts_and_damping_lower_and_rules_are_never_lowered() {
        let combiner = combiner(CategoryCombiner {
            rules: 2.0,
            damping: 1.0,
            contexts: &[(ContextKind::Past, -1.5)],
            ceiling: 0.8,
            ..PLAIN
        });
        let plain = outcome([0.0; 3], [1.0; 3], vec![]);
        let past = outcome([0.0; 3], [1.0; 3], vec![ContextKind::Past]);
        let negated = outcome([0.0; 3], [1.0; 3], vec![ContextKind::Negation]);
        let damped = outcome([0.0; 3], [0.5; 3], vec![]);
        let score = |o: &RuleOutcome| combiner.combine(Category::SelfHarm, [0.6; 3], None, o);
        assert!(score(&past) < score(&plain));
        assert_eq!(score(&negated), score(&plain), "a kind without a weight");
        assert!(score(&damped) < score(&plain));
        // Fusing with the rules: the maximum of the rules and the capped combination.
        let strong_rules = outcome([0.95, 0.0, 0.0], [1.0; 3], vec![ContextKind::Past]);
        assert_eq!(combiner.ceiling(Category::SelfHarm), 0.8);
        let fused = combiner.ceiling(Category::SelfHarm) * score(&strong_rules);
        assert!(fused < 0.95, "the rules' 0.95 stands: {fused}");
    }

    #[test]
    fn fusion_keeps_the_rules_and_caps_a_learned_tier_at_its_ceiling() {
        let rules = outcome([0.98, 0.0, 0.0], [1.0; 3], vec![]);
        let full = fuse(&rules, Some(Ok([1e-4, 0.9999, 0.5])), Some([0.5; 3]));
        assert_eq!(
            full.categories[0], 0.98,
            "a low model never lowers the rules"
        );
        let ceiling = Combiner::model().ceiling(Category::Harassment);
        let combined = full.combined.expect("the model was fused")[1];
        assert_eq!(full.categories[1], ceiling * combined);
        assert!(full.categories[1] > 0.0 && full.categories[1] < ceiling);
        assert!(
            !full.carried_by_lexical(1),
            "beside the model, the lexical tier's words are not its evidence"
        );
        let beside = |q: f32| {
            fuse(&rules, Some(Ok([0.3; 3])), Some([q; 3]))
                .combined
                .expect("the model was fused")
        };
        let (low, high) = (beside(0.05), beside(0.95));
        for c in Category::ALL {
            let (i, weight) = (c.index(), Combiner::model().category(c).lexical);
            assert_eq!(low[i] < high[i], weight > 0.0, "{c}: {weight}");
        }
        let fast = fuse(&rules, None, Some([0.1, 0.9999, 0.1]));
        assert!(fast.carried_by_lexical(1));
        assert!(fast.categories[1] < Combiner::lexical().ceiling(Category::Harassment));
        let rules_only = fuse(&rules, None, None);
        assert_eq!(rules_only.categories, [0.98, 0.0, 0.0]);
        assert_eq!(rules_only.combined, None);
    }

    #[test]
    fn the_shipped_combiners_keep_their_documented_signs() {
        for combiner in [Combiner::model(), Combiner::lexical()] {
            for category in Category::ALL {
                let c = combiner.category(category);
                assert!(
                    c.learned >= 0.0 && c.lexical >= 0.0 && c.rules >= 0.0 && c.damping >= 1.0,
                    "{c:?}"
                );
                assert!(c.contexts.iter().all(|(_, w)| *w <= 0.0), "{c:?}");
                assert!(c.ceiling > 0.0 && c.ceiling <= 1.0, "{c:?}");
            }
        }
    }

    #[test]
    fn the_model_cannot_flag_alone_where_a_preset_threshold_reaches_its_ceiling() {
        // The cascade leaves such a category unread (cascade.rs). That holds while ceiling ×
        // combined stays below the ceiling in f32, even at the highest probability and rule score.
        let model = Combiner::model();
        let mut checked = 0;
        for preset in Preset::ALL {
            let policy = Policy::preset(preset);
            for category in Category::ALL {
                let threshold = policy.threshold(category);
                if threshold < model.ceiling(category) {
                    continue;
                }
                let mut scores = [0.0; 3];
                scores[category.index()] = threshold;
                let rules = outcome(scores, [1.0; 3], Vec::new());
                let most = model.ceiling(category)
                    * model.combine(category, [1.0; 3], Some([1.0; 3]), &rules);
                assert!(most < threshold, "{preset:?} {category}: {most}");
                checked += 1;
            }
        }
        assert!(checked > 0, "no preset keeps the model from flagging alone");
    }
}

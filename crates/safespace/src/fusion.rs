//! Fusing a learned tier's calibrated probability with the rule engine's evidence, through a
//! learned combiner.
//!
//! Per category: `score = max(rules, ceiling × combined)`, where `combined` is a logistic regression
//! over what the tiers said about the text:
//!
//! ```text
//! combined = σ(bias + learned × logit(p) + rules × r + damping × ln(d) + Σ contexts[k])
//! ```
//!
//! - `p` is the learned tier's calibrated probability: the model's (the maximum over windows) in the
//!   full engine, the lexical tier's in the fast one. Neither tier sees context.
//! - `r` is the rules' score: the noisy-OR of the rule evidence after its context modifiers. Rules
//!   are precise and explain themselves, so the fused score never falls below it; agreement between
//!   a weak rule hit and the learned tier raises `combined`.
//! - `d` is the hand-set damping of the rule files: the product of the effects of the context kinds
//!   marked `model = true` found in the text (support messages, prevention news, recovery,
//!   debunking, fiction, denial, ...) and, where every piece of the category's evidence was itself
//!   lowered by context, the weakest of those reductions.
//! - `contexts[k]` is a measured weight, never above zero, for each context kind `k` that lowers the
//!   category somewhere in the text (negation, quotation, recovery, support, ...): the contexts keep
//!   their documented meaning — they lower a flag — by amounts measured on data.
//! - `ceiling` caps what the learned tiers can reach without rule evidence, where the policy asks for
//!   it (a category the tier scores as a topic rather than a stance).
//!
//! The weights are fitted per tier and category on pooled validation (every public source's
//! validation split, never trained on) by `models/training/fusion.py` and shipped as data next to
//! the tier (`combiner.json`), embedded in the crate. Severity and action come from the policy
//! ([`crate::policy`]), evidence from the rules and, where the lexical tier carries a flag, from its
//! strongest words.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

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
    /// The lexical tier's calibrated probabilities, when it ran (fused only where the model did
    /// not).
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
    let context = &rules.learned_context;
    let learned = match (model, lexical) {
        (Some(p), _) => Some((Combiner::model(), p)),
        (None, Some(p)) => Some((Combiner::lexical(), p)),
        (None, None) => None,
    };
    let combined =
        learned.map(|(combiner, p)| Category::ALL.map(|c| combiner.combine(c, p, rules, context)));
    let categories = match (learned, combined) {
        (Some((combiner, _)), Some(combined)) => Category::ALL.map(|c| {
            let i = c.index();
            rules.category_scores[i].max(combiner.ceiling(c) * combined[i])
        }),
        _ => rules.category_scores,
    };
    Scores {
        categories,
        rules: rules.category_scores,
        model,
        lexical,
        combined,
        learned_context: context.clone(),
        model_failure,
    }
}

/// A learned tier's combiner: one logistic regression per category over the tier's probability,
/// the rules' score and the contexts (see the module docs), read from the tier's `combiner.json`.
///
/// The file's `categories` object holds, per category, `bias`, `learned`, `rules`, `damping`,
/// `contexts` (context kind → weight) and `ceiling`; its other fields record how it was fitted.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Combiner {
    categories: BTreeMap<Category, CategoryCombiner>,
}

/// The combiner of one category.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CategoryCombiner {
    bias: f32,
    /// Weight of the tier's logit, `≥ 0`.
    learned: f32,
    /// Weight of the rules' score, `≥ 0`.
    rules: f32,
    /// Weight of `ln(damping)`, `≥ 0` (so damping lowers).
    damping: f32,
    /// Weight of each context kind present, `≤ 0`; kinds not listed weigh 0.
    contexts: BTreeMap<ContextKind, f32>,
    /// The most the combiner can contribute without rule evidence, in `(0, 1]`.
    ceiling: f32,
}

/// Probabilities are clamped to `[LOGIT_FLOOR, 1 - LOGIT_FLOOR]` before their logit, as in fitting.
const LOGIT_FLOOR: f32 = 1e-4;

/// The hand-set damping is floored here before its logarithm, as in fitting (a context that
/// removes evidence has damping 0).
const DAMPING_FLOOR: f32 = 1e-3;

impl Combiner {
    /// The combiner of the built-in model.
    pub(crate) fn model() -> &'static Combiner {
        static MODEL: OnceLock<Combiner> = OnceLock::new();
        Combiner::embedded(
            &MODEL,
            include_str!("../../../models/safespace-minilm-int8/combiner.json"),
        )
    }

    /// The combiner of the lexical tier.
    pub(crate) fn lexical() -> &'static Combiner {
        static LEXICAL: OnceLock<Combiner> = OnceLock::new();
        Combiner::embedded(
            &LEXICAL,
            include_str!("../../../models/safespace-lexical/combiner.json"),
        )
    }

    /// The combiner embedded as `json`, parsed once into `cell`.
    fn embedded(cell: &'static OnceLock<Combiner>, json: &str) -> &'static Combiner {
        cell.get_or_init(|| {
            Combiner::parse(json).expect("the embedded combiner.json files are checked by a test")
        })
    }

    /// Reads a `combiner.json`, checking that every category is there and every weight has its
    /// documented sign.
    fn parse(json: &str) -> Result<Combiner, String> {
        let combiner: Combiner =
            serde_json::from_str(json).map_err(|e| format!("combiner.json: {e}"))?;
        for category in Category::ALL {
            let Some(c) = combiner.categories.get(&category) else {
                return Err(format!("combiner.json has no {category}"));
            };
            let signs_hold = c.learned >= 0.0
                && c.rules >= 0.0
                && c.damping >= 0.0
                && c.contexts.values().all(|w| *w <= 0.0)
                && c.bias.is_finite()
                && c.ceiling > 0.0
                && c.ceiling <= 1.0;
            if !signs_hold {
                return Err(format!(
                    "combiner.json {category}: learned, rules and damping weights are ≥ 0, context \
                     weights ≤ 0, the ceiling in (0, 1]"
                ));
            }
        }
        Ok(combiner)
    }

    fn category(&self, category: Category) -> &CategoryCombiner {
        &self.categories[&category]
    }

    /// The most this combiner can add to `category` without rule evidence.
    pub(crate) fn ceiling(&self, category: Category) -> f32 {
        self.category(category).ceiling
    }

    /// The combined probability of `category` for a tier's probabilities `p`.
    fn combine(
        &self,
        category: Category,
        p: [f32; 3],
        rules: &RuleOutcome,
        context: &LearnedContext,
    ) -> f32 {
        let c = self.category(category);
        let i = category.index();
        let p = p[i].clamp(LOGIT_FLOOR, 1.0 - LOGIT_FLOOR);
        let contexts: f32 = context.kinds[i]
            .iter()
            .filter_map(|kind| c.contexts.get(kind))
            .sum();
        let z = c.bias
            + c.learned * (p / (1.0 - p)).ln()
            + c.rules * rules.category_scores[i]
            + c.damping * context.damping[i].clamp(DAMPING_FLOOR, 1.0).ln()
            + contexts;
        1.0 / (1.0 + (-z).exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn combiner(json_category: &str) -> Combiner {
        let json = format!(
            r#"{{"categories": {{"self_harm": {json_category}, "harassment": {json_category}, "misinformation": {json_category}}}}}"#
        );
        Combiner::parse(&json).unwrap()
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

    const PLAIN: &str =
        r#"{"bias": 0, "learned": 1, "rules": 0, "damping": 0, "contexts": {}, "ceiling": 1}"#;

    #[test]
    fn a_unit_learned_weight_returns_the_tier_probability() {
        let rules = outcome([0.0; 3], [1.0; 3], vec![]);
        let c = combiner(PLAIN).combine(
            Category::Harassment,
            [0.2, 0.7, 0.1],
            &rules,
            &rules.learned_context,
        );
        assert!((c - 0.7).abs() < 1e-5, "{c}");
    }

    #[test]
    fn contexts_and_damping_lower_and_rules_are_never_lowered() {
        let weights = r#"{"bias": 0, "learned": 1, "rules": 2, "damping": 1, "contexts": {"past": -1.5}, "ceiling": 0.8}"#;
        let combiner = combiner(weights);
        let plain = outcome([0.0; 3], [1.0; 3], vec![]);
        let past = outcome([0.0; 3], [1.0; 3], vec![ContextKind::Past]);
        let damped = outcome([0.0; 3], [0.5; 3], vec![]);
        let score =
            |o: &RuleOutcome| combiner.combine(Category::SelfHarm, [0.6; 3], o, &o.learned_context);
        assert!(score(&past) < score(&plain));
        assert!(score(&damped) < score(&plain));
        // Fusing with the rules: the maximum of the rules and the capped combination.
        let strong_rules = outcome([0.95, 0.0, 0.0], [1.0; 3], vec![ContextKind::Past]);
        assert_eq!(combiner.ceiling(Category::SelfHarm), 0.8);
        let fused = combiner.ceiling(Category::SelfHarm) * score(&strong_rules);
        assert!(fused < 0.95, "the rules' 0.95 stands: {fused}");
    }

    #[test]
    fn combiner_files_keep_their_signs() {
        let boosting = r#"{"bias": 0, "learned": 1, "rules": 0, "damping": 0, "contexts": {"past": 0.5}, "ceiling": 1}"#;
        let json = format!(
            r#"{{"categories": {{"self_harm": {boosting}, "harassment": {PLAIN}, "misinformation": {PLAIN}}}}}"#
        );
        let err = Combiner::parse(&json).unwrap_err();
        assert!(
            err.contains("self_harm") && err.contains("context"),
            "{err}"
        );
        let missing = format!(r#"{{"categories": {{"self_harm": {PLAIN}}}}}"#);
        assert!(Combiner::parse(&missing)
            .unwrap_err()
            .contains("harassment"));
        let unknown_kind = PLAIN.replace("{}", r#"{"sarcasm": -1}"#);
        assert!(Combiner::parse(&format!(
            r#"{{"categories": {{"self_harm": {unknown_kind}}}}}"#
        ))
        .is_err());
    }

    #[test]
    fn the_shipped_combiners_parse() {
        for combiner in [Combiner::model(), Combiner::lexical()] {
            for category in Category::ALL {
                assert!(combiner.category(category).learned >= 0.0);
            }
        }
    }
}

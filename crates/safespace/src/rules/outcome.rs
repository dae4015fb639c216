//! The rule engine's output for one text: its evidence with rule and context ids, and the scores,
//! severities, content warnings and model damping that follow from it. Later stages read this and
//! never go back to the engine.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use super::{Hit, RuleEngine};
use crate::vocabulary::{ContentWarning, ContextKind, Severity};
use crate::Label;

/// What the rules found in one normalized text.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RuleOutcome<'e> {
    /// Labelled evidence in text order (by start, end and rule).
    pub evidence: Vec<Finding<'e>>,
    /// Per category, the noisy-OR of its evidence weights: `1 - Π(1 - weight)`.
    pub category_scores: [f32; 3],
    /// The same per label that has evidence.
    pub label_scores: BTreeMap<Label, f32>,
    /// Per category, the highest severity of its evidence (`None` without evidence).
    pub severity: [Severity; 3],
    /// Content warnings of the rules whose matches kept them (negation removes them).
    pub warnings: BTreeSet<ContentWarning>,
    /// What the text's contexts say about a learned tier's probability; see the fusion stage.
    pub learned_context: LearnedContext,
}

/// What the contexts in a text say about a learned tier's probability, per category (indexed by
/// [`Category::index`](crate::Category::index)).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LearnedContext {
    /// The hand-set reduction of the probability (1 = none).
    pub damping: [f32; 3],
    /// The context kinds that lower the category, sorted.
    pub kinds: [Vec<ContextKind>; 3],
}

impl Default for LearnedContext {
    /// No context: no reduction, no kinds.
    fn default() -> Self {
        LearnedContext {
            damping: [1.0; 3],
            kinds: Default::default(),
        }
    }
}

/// One piece of labelled evidence.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Finding<'e> {
    pub label: Label,
    /// The id of the rule that matched.
    pub rule: &'e str,
    /// Byte range in the normalized text.
    pub range: Range<usize>,
    /// The rule's weight times its context factor.
    pub weight: f32,
    pub severity: Severity,
    /// Ids of the context modifiers that applied.
    pub contexts: Vec<&'e str>,
}

impl<'e> RuleOutcome<'e> {
    /// Aggregates `hits` of `engine`; `learned_context` as the engine found it.
    pub(super) fn new(
        engine: &'e RuleEngine,
        hits: &[Hit],
        learned_context: LearnedContext,
    ) -> Self {
        let mut category_miss = [1.0f32; 3];
        let mut label_miss: BTreeMap<Label, f32> = BTreeMap::new();
        let mut severity = [Severity::None; 3];
        let mut warnings = BTreeSet::new();
        let mut evidence = Vec::new();
        for hit in hits {
            let rule = engine.rule(hit.rule);
            if engine.warnings_apply(hit) {
                warnings.extend(rule.warnings.iter().copied());
            }
            let Some(label) = hit.label else { continue };
            let c = label.category().index();
            category_miss[c] *= 1.0 - hit.weight;
            *label_miss.entry(label).or_insert(1.0) *= 1.0 - hit.weight;
            severity[c] = severity[c].max(hit.severity);
            evidence.push(Finding {
                label,
                rule: &rule.id,
                range: hit.range.clone(),
                weight: hit.weight,
                severity: hit.severity,
                contexts: hit
                    .contexts
                    .iter()
                    .map(|&i| engine.context(i).id.as_str())
                    .collect(),
            });
        }
        RuleOutcome {
            evidence,
            category_scores: category_miss.map(|miss| 1.0 - miss),
            label_scores: label_miss
                .into_iter()
                .map(|(label, miss)| (label, 1.0 - miss))
                .collect(),
            severity,
            warnings,
            learned_context,
        }
    }
}

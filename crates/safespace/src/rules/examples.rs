//! Every built-in rule and context carries `examples` (texts it applies to) and `not_examples`
//! (look-alikes it must leave alone) in its TOML entry; these tests hold the rules to them.
//!
//! - A rule's example must produce a hit of that rule (after context modifiers and `requires`), and
//!   for a rule with labels the rules-only report must cite it as evidence; a not-example must not.
//! - A context's example must apply to some rule match in the text (listed among the match's
//!   contexts, even where it removes the evidence altogether, as idioms do); a not-example must not.
//!   Contexts apply to user rule files too, so they are checked against the built-in rules plus
//!   [`PROBE`], a rule on the bare words idioms are about ("kill", "dead", ...): "kill the process"
//!   must be excused whether or not a built-in rule matches "kill". A context of scope `model` never
//!   touches rule evidence: its example must stand in the text (found, and not cancelled by its
//!   `unless` patterns), its not-example must not.

use std::collections::BTreeSet;

use super::{Examples, RuleEngine, RuleSource, Scope};
use crate::normalize::Normalizer;
use crate::Detector;

/// A user rule file on the bare words that idiom and technical contexts exist for.
const PROBE: &str = r#"
[[rule]]
id = "probe.bare_words"
labels = ["self_harm/ideation"]
terms = ["kill", "kills", "killed", "killing", "die", "died", "dies", "dying", "dead", "cut", "cutting", "shoot"]
"#;

/// Every rule and context shows at least this many texts it applies to...
const MIN_EXAMPLES: usize = 2;
/// ...and at least this many look-alikes it leaves alone.
const MIN_NOT_EXAMPLES: usize = 1;

impl RuleEngine {
    /// Indices of the rules with a hit in `text` (normalized).
    fn rules_hit(&self, text: &str) -> BTreeSet<usize> {
        self.hits(text, &self.scan(text))
            .0
            .iter()
            .map(|hit| hit.rule)
            .collect()
    }

    /// Indices of the contexts that apply to some rule match in `text` (normalized), plus the
    /// contexts of scope `model` that stand in it.
    fn contexts_applied(&self, text: &str) -> BTreeSet<usize> {
        let scan = self.scan(text);
        let applied = self
            .matches_in_context(text, &scan)
            .map(|(matches, _)| matches)
            .unwrap_or_default()
            .into_iter()
            .flat_map(|(_, _, contexts)| contexts);
        let model_scope = self
            .model_contexts_in(text, &scan, None)
            .into_iter()
            .filter(|&i| self.contexts[i].scope == Scope::Model);
        applied.chain(model_scope).collect()
    }
}

fn normalize(text: &str) -> String {
    Normalizer::default().normalize(text).as_str().to_owned()
}

/// A line when `examples` holds fewer texts than the tests ask for.
fn too_few(id: &str, examples: &Examples) -> Option<String> {
    let (n, m) = (examples.examples.len(), examples.not_examples.len());
    (n < MIN_EXAMPLES || m < MIN_NOT_EXAMPLES).then(|| {
        format!(
            "`{id}` has {n} examples and {m} not_examples; it needs at least {MIN_EXAMPLES} and \
             {MIN_NOT_EXAMPLES}"
        )
    })
}

/// One line per broken promise of a built-in rule's examples.
fn rule_failures() -> Vec<String> {
    let engine = RuleEngine::new(&[], &BTreeSet::new()).expect("built-in rules compile");
    let detector = Detector::builder()
        .rules_only(true)
        .build()
        .expect("rules-only detector");
    let mut failures = Vec::new();
    for (index, rule) in engine.rules.iter().enumerate() {
        failures.extend(too_few(&rule.id, &rule.examples));
        let cited = |text: &str| {
            detector
                .score(text)
                .evidence
                .iter()
                .any(|e| e.rule == rule.id)
        };
        for example in &rule.examples.examples {
            if !engine.rules_hit(&normalize(example)).contains(&index) {
                failures.push(format!(
                    "`{}` does not fire on its example {example:?}",
                    rule.id
                ));
            } else if !rule.labels.is_empty() && !cited(example) {
                failures.push(format!(
                    "`{}` fires on {example:?}, but the rules-only report does not cite it",
                    rule.id
                ));
            }
        }
        for text in &rule.examples.not_examples {
            if engine.rules_hit(&normalize(text)).contains(&index) {
                failures.push(format!("`{}` fires on its not-example {text:?}", rule.id));
            }
        }
    }
    failures
}

/// One line per broken promise of a built-in context's examples.
fn context_failures() -> Vec<String> {
    let probe = RuleSource {
        name: "probe.toml".into(),
        contents: PROBE.into(),
    };
    let engine = RuleEngine::new(&[probe], &BTreeSet::new()).expect("probe rule compiles");
    let mut failures = Vec::new();
    for (index, context) in engine.contexts.iter().enumerate() {
        failures.extend(too_few(&context.id, &context.examples));
        let applies = |text: &str| engine.contexts_applied(&normalize(text)).contains(&index);
        for example in &context.examples.examples {
            if !applies(example) {
                failures.push(format!(
                    "`{}` does not apply to its example {example:?}",
                    context.id
                ));
            }
        }
        for text in &context.examples.not_examples {
            if applies(text) {
                failures.push(format!(
                    "`{}` applies to its not-example {text:?}",
                    context.id
                ));
            }
        }
    }
    failures
}

/// Fails with every line of `failures`, if there are any.
fn assert_none(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} example failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rule_keeps_to_its_examples() {
    assert_none(&rule_failures());
}

#[test]
fn every_context_keeps_to_its_examples() {
    assert_none(&context_failures());
}

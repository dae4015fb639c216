//! The rule engine: data-driven patterns for each sub-label plus context modifiers.
//!
//! Built-in rules live in `crates/safespace/rules/*.toml` and are embedded in the binary. Users add
//! their own files through [`DetectorBuilder::add_rules_file`](crate::DetectorBuilder::add_rules_file)
//! and switch rules off by id with [`DetectorBuilder::disable_rule`](crate::DetectorBuilder::disable_rule).
//!
//! Scoring a text:
//! 1. every rule's patterns are matched against the normalized text (one [`RegexSet`] pass picks the
//!    rules that match at all, and the contexts that lower a learned tier's score wherever they are);
//! 2. each match becomes a [`Hit`] per label, and the context modifiers around it (negation before it,
//!    "years ago" in its sentence, a third-person subject, quotation marks, an idiom overlapping it, ...)
//!    multiply its weight per category and may cap its severity;
//! 3. rules marked `requires` (a time like "tonight", possession of pills) only count when other evidence
//!    of their category stands near them;
//! 4. the hits are aggregated into a [`RuleOutcome`]: evidence with rule and context ids, noisy-OR
//!    scores per category and label, severities, content warnings and, when a model runs, how much the
//!    contexts found lower its probability.

mod context_index;
#[cfg(test)]
mod examples;
#[cfg(test)]
mod lists;
mod outcome;
mod segment;
mod spec;

pub(crate) use outcome::{Finding, LearnedContext, RuleOutcome};

use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use regex::{Regex, RegexSet, RegexSetBuilder, SetMatches};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::vocabulary::{ContentWarning, ContextKind, Severity};
use crate::{Category, Label};
use context_index::{ContextIndex, Exceptions, Place};
use segment::Segments;

/// Built-in rule files, embedded at compile time with their phrase lists expanded by the build
/// (`build/rule_lists.rs`): (file name, contents).
const BUILTIN_RULES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Minimum weight an evidence item keeps for its content warnings to apply.
const WARNING_FLOOR: f32 = 0.2;
/// Minimum weight of the evidence that a `requires` rule leans on.
const REQUIREMENT_FLOOR: f32 = 0.3;
/// Evidence weights stay below certainty: rules are never the last word.
const MAX_WEIGHT: f32 = 0.99;

/// A compiled rule: patterns that are evidence for some labels and content warnings.
#[derive(Debug)]
pub(crate) struct Rule {
    pub id: String,
    pub labels: Vec<Label>,
    pub weight: f32,
    pub severity: Severity,
    pub warnings: Vec<ContentWarning>,
    pub regex: Regex,
    pub requires: Option<Requirement>,
    #[cfg_attr(not(test), allow(dead_code))]
    pub examples: Examples,
}

/// Texts a rule or context must apply to (`examples`) and look-alikes it must not apply to
/// (`not_examples`), as written in its TOML entry. The built-in ones are checked by the tests
/// (`rules/examples.rs`); the engine itself never reads them.
#[derive(Debug, Default)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Examples {
    pub examples: Vec<String>,
    pub not_examples: Vec<String>,
}

/// A rule that only counts next to other evidence of a category (`requires = { category = ..., within = ... }`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Requirement {
    category: Category,
    within: Within,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Within {
    Sentence,
    Text,
}

/// A compiled context modifier.
#[derive(Debug)]
pub(crate) struct Context {
    pub id: String,
    pub kind: ContextKind,
    pub scope: Scope,
    pub window: usize,
    pub regex: Option<Regex>,
    pub unless: Option<Regex>,
    pub effect: Effect,
    pub cap: Option<Severity>,
    pub damps_model: bool,
    #[cfg_attr(not(test), allow(dead_code))]
    pub examples: Examples,
}

/// Where a context match must lie, relative to the evidence, to apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Scope {
    /// Ends before the evidence, in the same clause, at most `window` words away.
    Before,
    /// Starts after the evidence, in the same clause, at most `window` words away.
    After,
    /// Before or after, as above.
    Around,
    /// Overlaps the evidence span (idioms such as "killing it").
    Overlap,
    /// Anywhere in the same clause.
    Clause,
    /// Anywhere in the same sentence.
    Sentence,
    /// Anywhere in the text.
    Text,
    /// The evidence is inside quotation marks (no patterns).
    Quoted,
    /// Never applies to rule evidence: anywhere in the text, it only lowers the model's
    /// probabilities, and its `unless` patterns are looked for in the whole text.
    Model,
}

/// Multipliers a context applies to evidence weights, per category, and to content warnings.
/// A missing entry means 1 (no change); 0 removes the evidence.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Effect {
    self_harm: Option<f32>,
    harassment: Option<f32>,
    misinformation: Option<f32>,
    warnings: Option<f32>,
}

impl Effect {
    fn factor(&self, category: Category) -> f32 {
        match category {
            Category::SelfHarm => self.self_harm,
            Category::Harassment => self.harassment,
            Category::Misinformation => self.misinformation,
        }
        .unwrap_or(1.0)
    }

    fn validate(&self) -> Result<(), String> {
        let values = [
            self.self_harm,
            self.harassment,
            self.misinformation,
            self.warnings,
        ];
        if values.iter().flatten().all(|v| (0.0..=4.0).contains(v)) {
            Ok(())
        } else {
            Err("effect multipliers lie in [0, 4]".to_owned())
        }
    }
}

/// One rule match for one label (or for content warnings only, when the rule has no label), after
/// context modifiers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hit {
    pub rule: usize,
    pub label: Option<Label>,
    /// Byte range in the normalized text.
    pub range: Range<usize>,
    pub weight: f32,
    /// What the applied contexts multiplied the rule's weight by, for this hit's category (for
    /// content warnings when the hit has no label).
    pub context_factor: f32,
    pub severity: Severity,
    /// Indices of the contexts that applied.
    pub contexts: Vec<usize>,
}

/// The compiled rule set. Build once; matching is read-only and thread-safe.
#[derive(Debug)]
pub(crate) struct RuleEngine {
    rules: Vec<Rule>,
    /// Every rule, then every context in `model_contexts`, then every context in `text_contexts`:
    /// what one pass over each text looks for.
    scan_set: RegexSet,
    contexts: Vec<Context>,
    /// Contexts matched only in sentences that hold evidence, in the order of `local_set`.
    local_contexts: Vec<usize>,
    local_set: RegexSet,
    /// Contexts whose scope is the whole text, in their order in `scan_set` after `model_contexts`.
    text_contexts: Vec<usize>,
    /// Contexts that also lower model probabilities, in their order in `scan_set` after the rules.
    model_contexts: Vec<usize>,
    user_files: usize,
}

/// A user rule file, by name and contents.
#[derive(Debug, Clone)]
pub(crate) struct RuleSource {
    pub name: String,
    pub contents: String,
}

impl RuleEngine {
    /// Compiles the built-in rules plus `extra` files, minus the rules and contexts whose ids are in
    /// `disabled`.
    /// The built-in rule set, compiled once per process and shared.
    pub(crate) fn builtin() -> Arc<RuleEngine> {
        static ENGINE: OnceLock<Arc<RuleEngine>> = OnceLock::new();
        ENGINE
            .get_or_init(|| {
                Arc::new(RuleEngine::new(&[], &BTreeSet::new()).expect("built-in rules are valid"))
            })
            .clone()
    }

    pub(crate) fn new(extra: &[RuleSource], disabled: &BTreeSet<String>) -> Result<RuleEngine> {
        let mut rules = Vec::new();
        let mut contexts = Vec::new();
        let builtin = BUILTIN_RULES.iter().map(|&(n, c)| (n, c));
        let user = extra.iter().map(|s| (s.name.as_str(), s.contents.as_str()));
        for (name, contents) in builtin.chain(user) {
            let parsed = spec::parse(name, contents)?;
            for rule in parsed.rules {
                if rules.iter().any(|r: &Rule| r.id == rule.id) {
                    return Err(duplicate(name, contents, &rule.id));
                }
                rules.push(rule);
            }
            for context in parsed.contexts {
                if contexts.iter().any(|c: &Context| c.id == context.id) {
                    return Err(duplicate(name, contents, &context.id));
                }
                contexts.push(context);
            }
        }
        for id in disabled {
            if !rules.iter().any(|r| &r.id == id) && !contexts.iter().any(|c| &c.id == id) {
                return Err(Error::InvalidOption(format!(
                    "cannot disable `{id}`: no rule or context has that id"
                )));
            }
        }
        rules.retain(|r| !disabled.contains(&r.id));
        contexts.retain(|c| !disabled.contains(&c.id));
        let with_scope = |text_wide: bool| -> Vec<usize> {
            (0..contexts.len())
                .filter(|&i| contexts[i].regex.is_some())
                .filter(|&i| contexts[i].scope != Scope::Model)
                .filter(|&i| (contexts[i].scope == Scope::Text) == text_wide)
                .collect()
        };
        let (local_contexts, text_contexts) = (with_scope(false), with_scope(true));
        let local_set = regex_set(
            local_contexts
                .iter()
                .filter_map(|&i| contexts[i].regex.as_ref().map(Regex::as_str)),
        )?;
        let model_contexts: Vec<usize> = (0..contexts.len())
            .filter(|&i| contexts[i].damps_model && contexts[i].regex.is_some())
            .collect();
        let scan_set = regex_set(
            rules.iter().map(|r| r.regex.as_str()).chain(
                model_contexts
                    .iter()
                    .chain(&text_contexts)
                    .filter_map(|&i| contexts[i].regex.as_ref().map(Regex::as_str)),
            ),
        )?;
        // Both lists hold only contexts with patterns, so their parts of the set start where
        // `model_part` and `text_part` say.
        debug_assert_eq!(
            scan_set.len(),
            rules.len() + model_contexts.len() + text_contexts.len()
        );
        Ok(RuleEngine {
            rules,
            scan_set,
            contexts,
            local_contexts,
            local_set,
            text_contexts,
            model_contexts,
            user_files: extra.len(),
        })
    }

    /// Describes the rule set for reports: `builtin@<version>` plus user files.
    pub(crate) fn description(&self) -> String {
        let base = format!("builtin@{}", env!("CARGO_PKG_VERSION"));
        match self.user_files {
            0 => base,
            n => format!("{base}+{n} user file{}", if n == 1 { "" } else { "s" }),
        }
    }

    fn rule(&self, index: usize) -> &Rule {
        &self.rules[index]
    }

    fn context(&self, index: usize) -> &Context {
        &self.contexts[index]
    }

    /// Ids of every active rule and context.
    pub(crate) fn ids(&self) -> impl Iterator<Item = &str> {
        let rules = self.rules.iter().map(|r| r.id.as_str());
        rules.chain(self.contexts.iter().map(|c| c.id.as_str()))
    }

    /// What the rules find in a normalized text, with how much the contexts in it lower a learned
    /// tier's probability (every engine fuses one: the model or the lexical tier).
    pub(crate) fn find(&self, text: &str) -> RuleOutcome<'_> {
        let scan = self.scan(text);
        let (hits, segments) = self.hits(text, &scan);
        let learned = self.learned_context(text, &scan, &hits, segments.as_ref());
        RuleOutcome::new(self, &hits, learned)
    }

    /// The one pass over a normalized text: which rules match, which contexts that lower a learned
    /// tier occur, and which text-wide contexts occur (both before their `unless` exceptions).
    fn scan(&self, text: &str) -> SetMatches {
        self.scan_set.matches(text)
    }

    /// Matches every rule that `scan` found against a normalized text and applies context modifiers.
    /// Hits come in text order: by start, end and rule. The sentence segments come along when a rule
    /// matched.
    fn hits(&self, text: &str, scan: &SetMatches) -> (Vec<Hit>, Option<Segments>) {
        let Some((matches, segments)) = self.matches_in_context(text, scan) else {
            return (Vec::new(), None);
        };
        let mut hits = Vec::with_capacity(matches.len());
        for (rule_index, range, applied) in matches {
            self.push_hits(rule_index, range, &applied, &mut hits);
        }
        self.enforce_requirements(&mut hits, &segments);
        (hits, Some(segments))
    }

    /// Every rule match in text order (rule index, byte range) with the indices of the contexts that
    /// apply to it, before weights: a context that removes the evidence is listed too. `None` when no
    /// rule matches (`scan` is the text's).
    fn matches_in_context(
        &self,
        text: &str,
        scan: &SetMatches,
    ) -> Option<(Vec<RuleMatch>, Segments)> {
        let mut matched_rules = scan.iter().take_while(|&i| i < self.rules.len()).peekable();
        matched_rules.peek()?;
        let segments = Segments::new(text);
        let mut matches: Vec<(usize, Range<usize>)> = matched_rules
            .flat_map(|r| {
                self.rules[r]
                    .regex
                    .find_iter(text)
                    .map(move |m| (r, m.range()))
            })
            .collect();
        // The order of the hits; it also keeps the previous match's sentence and contexts in cache
        // for the lookups of the next.
        matches.sort_unstable_by_key(|(rule, range)| (range.start, range.end, *rule));
        let mut sentences: Vec<(usize, usize)> = matches
            .iter()
            .map(|(_, range)| segments.sentence_range(range.start, text.len()))
            .collect();
        sentences.dedup();
        let contexts = self.context_matches(text, scan, &sentences, &segments);
        let quotes = quoted_regions(text);
        let in_context = matches
            .into_iter()
            .map(|(rule_index, range)| {
                let quoted = inside_quotes(&quotes, &range);
                let place = Place::new(range.clone(), &segments, text.len());
                let applied = self.applicable_contexts(&place, quoted, &contexts, text);
                (rule_index, range, applied)
            })
            .collect();
        Some((in_context, segments))
    }

    /// Context matches with `unless` exceptions already removed: text-wide contexts anywhere (those
    /// that `scan`, the text's, found), the others only inside `sentences` (the sentences that hold
    /// evidence, in text order).
    fn context_matches(
        &self,
        text: &str,
        scan: &SetMatches,
        sentences: &[(usize, usize)],
        segments: &Segments,
    ) -> ContextIndex {
        let mut per_context = vec![Vec::new(); self.contexts.len()];
        for &(start, end) in sentences {
            let sentence = &text[start..end];
            for k in self.local_set.matches(sentence).iter() {
                let index = self.local_contexts[k];
                self.push_standing(index, text, start..end, segments, &mut per_context[index]);
            }
        }
        for k in scanned(scan, self.text_part()) {
            let index = self.text_contexts[k];
            self.push_standing(
                index,
                text,
                0..text.len(),
                segments,
                &mut per_context[index],
            );
        }
        ContextIndex::new(per_context, &self.contexts)
    }

    /// Appends to `out` the matches of context `index` inside `region` of `text` that its `unless`
    /// exceptions leave standing, as byte ranges of `text`.
    fn push_standing(
        &self,
        index: usize,
        text: &str,
        region: Range<usize>,
        segments: &Segments,
        out: &mut Vec<Range<usize>>,
    ) {
        let context = &self.contexts[index];
        let Some(regex) = &context.regex else {
            return;
        };
        let mut exceptions = Exceptions::new(context, text, segments);
        let offset = region.start;
        out.extend(
            regex
                .find_iter(&text[region])
                .map(|m| m.start() + offset..m.end() + offset)
                .filter(|range| !exceptions.cancel(range.start)),
        );
    }

    /// Where `model_contexts` lie in `scan_set`.
    fn model_part(&self) -> Range<usize> {
        let start = self.rules.len();
        start..start + self.model_contexts.len()
    }

    /// Where `text_contexts` lie in `scan_set`.
    fn text_part(&self) -> Range<usize> {
        let start = self.model_part().end;
        start..start + self.text_contexts.len()
    }

    /// Contexts that apply to evidence at `place`, at most one per kind (the first found), plus the
    /// quotation contexts when the evidence is `quoted`.
    fn applicable_contexts(
        &self,
        place: &Place,
        quoted: bool,
        found: &ContextIndex,
        text: &str,
    ) -> Vec<usize> {
        let quotation = (0..self.contexts.len())
            .filter(|&index| quoted && self.contexts[index].scope == Scope::Quoted);
        let mut applied: Vec<usize> = Vec::new();
        for index in found.applying(&self.contexts, place, text).chain(quotation) {
            let kind = self.contexts[index].kind;
            if !applied.iter().any(|&a| self.contexts[a].kind == kind) {
                applied.push(index);
            }
        }
        applied
    }

    fn push_hits(
        &self,
        rule_index: usize,
        range: Range<usize>,
        applied: &[usize],
        hits: &mut Vec<Hit>,
    ) {
        let rule = &self.rules[rule_index];
        let cap = applied
            .iter()
            .filter_map(|&i| self.contexts[i].cap)
            .min()
            .unwrap_or(Severity::Critical);
        let hit = |label: Option<Label>, context_factor: f32| Hit {
            rule: rule_index,
            label,
            range: range.clone(),
            weight: (rule.weight * context_factor).min(MAX_WEIGHT),
            context_factor,
            severity: rule.severity.min(cap),
            contexts: applied.to_vec(),
        };
        if rule.labels.is_empty() {
            let factor = self.warnings_factor(applied);
            if rule.weight * factor >= WARNING_FLOOR {
                hits.push(hit(None, factor));
            }
            return;
        }
        for &label in &rule.labels {
            let factor: f32 = applied
                .iter()
                .map(|&i| self.contexts[i].effect.factor(label.category()))
                .product();
            let labelled = hit(Some(label), factor);
            if labelled.weight > 0.0 {
                hits.push(labelled);
            }
        }
    }

    /// Whether content warnings of the rule behind `hit` apply (contexts such as negation remove them).
    fn warnings_apply(&self, hit: &Hit) -> bool {
        self.rules[hit.rule].weight * self.warnings_factor(&hit.contexts) >= WARNING_FLOOR
    }

    /// How much the applied contexts scale content warnings (negation removes them, recovery keeps them).
    fn warnings_factor(&self, applied: &[usize]) -> f32 {
        applied
            .iter()
            .map(|&i| self.contexts[i].effect.warnings.unwrap_or(1.0))
            .product()
    }

    /// What the contexts in this text say about a learned tier's probability, per category: the kinds
    /// that lower the category (context kinds marked `model = true` found anywhere in the text, and
    /// the contexts applied to the category's evidence), and the hand-set damping: the product, over
    /// the `model = true` kinds, of their effect and, where every hit of a category was lowered by
    /// its context, the mildest of those reductions. `segments` are the text's, when already built.
    fn learned_context(
        &self,
        text: &str,
        scan: &SetMatches,
        hits: &[Hit],
        segments: Option<&Segments>,
    ) -> LearnedContext {
        let mut per_kind: Vec<(ContextKind, [f32; 3])> = Vec::new();
        for context in self.model_contexts_in(text, scan, segments) {
            let context = &self.contexts[context];
            let factors = Category::ALL.map(|c| context.effect.factor(c).min(1.0));
            match per_kind.iter_mut().find(|(kind, _)| *kind == context.kind) {
                Some((_, existing)) => {
                    for (e, f) in existing.iter_mut().zip(factors) {
                        *e = e.min(f);
                    }
                }
                None => per_kind.push((context.kind, factors)),
            }
        }
        let mut learned = LearnedContext::default();
        for (kind, factors) in &per_kind {
            for (c, f) in factors.iter().enumerate() {
                learned.damping[c] *= f;
                if *f < 1.0 {
                    learned.kinds[c].push(*kind);
                }
            }
        }
        for category in Category::ALL {
            let c = category.index();
            let evidence = hits
                .iter()
                .filter(|h| h.label.map(Label::category) == Some(category));
            let mut kept: Option<f32> = None;
            for hit in evidence {
                kept = Some(kept.map_or(hit.context_factor, |k| k.max(hit.context_factor)));
                let lowering = hit
                    .contexts
                    .iter()
                    .map(|&i| &self.contexts[i])
                    .filter(|context| context.effect.factor(category) < 1.0);
                learned.kinds[c].extend(lowering.map(|context| context.kind));
            }
            if let Some(kept) = kept {
                learned.damping[c] = learned.damping[c].min(kept.min(1.0));
            }
            learned.kinds[c].sort_unstable();
            learned.kinds[c].dedup();
        }
        learned
    }

    /// Indices of the contexts marked `model = true` that stand in `text`: found anywhere in it (by
    /// `scan`, the text's), and not cancelled by their `unless` patterns. `segments` are the text's,
    /// when already built.
    fn model_contexts_in(
        &self,
        text: &str,
        scan: &SetMatches,
        segments: Option<&Segments>,
    ) -> Vec<usize> {
        let mut found = scanned(scan, self.model_part())
            .map(|k| self.model_contexts[k])
            .peekable();
        if found.peek().is_none() {
            return Vec::new();
        }
        let built = OnceCell::new();
        let segments = || segments.unwrap_or_else(|| built.get_or_init(|| Segments::new(text)));
        found
            .filter_map(|index| {
                let context = &self.contexts[index];
                let regex = context.regex.as_ref()?;
                // The scan found a match of `regex`; where it lies matters only to exceptions that
                // depend on its sentence.
                let stands = match Exceptions::same_for_every_match(context, text) {
                    Some(cancelled) => !cancelled,
                    None => {
                        let mut exceptions = Exceptions::new(context, text, segments());
                        regex.find_iter(text).any(|m| !exceptions.cancel(m.start()))
                    }
                };
                stands.then_some(index)
            })
            .collect()
    }

    /// Drops hits of `requires` rules that have no supporting evidence near them.
    fn enforce_requirements(&self, hits: &mut Vec<Hit>, segments: &Segments) {
        let support = Support::new(hits.iter().filter(|h| self.supports(h)), segments);
        hits.retain(|hit| {
            self.rules[hit.rule].requires.is_none_or(|requirement| {
                support.holds(requirement, segments.sentence_index(hit.range.start))
            })
        });
    }

    /// Whether `hit` is evidence that `requires` rules may lean on.
    fn supports(&self, hit: &Hit) -> bool {
        self.rules[hit.rule].requires.is_none() && hit.weight >= REQUIREMENT_FLOOR
    }
}

/// The patterns of `scan` (a text's matches of `scan_set`) that lie in `part` of the set, counted
/// from the start of `part`.
fn scanned(scan: &SetMatches, part: Range<usize>) -> impl Iterator<Item = usize> + '_ {
    scan.iter()
        .filter_map(move |i| i.checked_sub(part.start).filter(|_| i < part.end))
}

/// A rule match: rule index, byte range in the normalized text, indices of the contexts that apply.
type RuleMatch = (usize, Range<usize>, Vec<usize>);

/// The sentences holding supporting evidence, per category (sorted sentence indices).
struct Support([Vec<usize>; 3]);

impl Support {
    fn new<'a>(hits: impl Iterator<Item = &'a Hit>, segments: &Segments) -> Support {
        let mut sentences: [Vec<usize>; 3] = Default::default();
        for hit in hits {
            if let Some(label) = hit.label {
                let sentence = segments.sentence_index(hit.range.start);
                sentences[label.category().index()].push(sentence);
            }
        }
        for list in &mut sentences {
            list.sort_unstable();
            list.dedup();
        }
        Support(sentences)
    }

    /// Whether supporting evidence of the required category stands in the text, or in `sentence`
    /// when the requirement is within a sentence.
    fn holds(&self, requirement: Requirement, sentence: usize) -> bool {
        let sentences = &self.0[requirement.category.index()];
        match requirement.within {
            Within::Text => !sentences.is_empty(),
            Within::Sentence => sentences.binary_search(&sentence).is_ok(),
        }
    }
}

fn duplicate(file: &str, contents: &str, id: &str) -> Error {
    let line = contents
        .lines()
        .position(|l| l.contains(&format!("'{id}'")) || l.contains(&format!("\"{id}\"")))
        .map_or(1, |i| i + 1);
    Error::Rules {
        file: file.to_owned(),
        line,
        message: format!("id `{id}` is already used by another rule or context"),
    }
}

fn regex_set<'a>(patterns: impl Iterator<Item = &'a str>) -> Result<RegexSet> {
    RegexSetBuilder::new(patterns)
        .size_limit(64 << 20)
        .dfa_size_limit(128 << 20)
        .build()
        .map_err(|e| Error::InvalidOption(format!("the combined rule set does not compile: {e}")))
}

/// Ranges between pairs of straight double quotes (the normalizer straightens curly ones), in text
/// order and disjoint.
fn quoted_regions(text: &str) -> Vec<Range<usize>> {
    let marks: Vec<usize> = text.match_indices('"').map(|(i, _)| i).collect();
    marks
        .chunks_exact(2)
        .map(|pair| pair[0]..pair[1] + 1)
        .collect()
}

/// Whether `range` lies inside one of the `quotes` (as [`quoted_regions`] gives them).
fn inside_quotes(quotes: &[Range<usize>], range: &Range<usize>) -> bool {
    let last_opened = quotes.partition_point(|q| q.start <= range.start);
    last_opened
        .checked_sub(1)
        .is_some_and(|i| range.end <= quotes[i].end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> RuleEngine {
        RuleEngine::new(&[], &BTreeSet::new()).expect("built-in rules compile")
    }

    #[test]
    fn builtin_rules_compile_with_unique_ids() {
        let engine = engine();
        let ids: Vec<&str> = engine.ids().collect();
        let unique: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(ids.len(), unique.len());
        for label in Label::ALL {
            assert!(
                engine.rules.iter().any(|r| r.labels.contains(label)),
                "no built-in rule for {label}"
            );
        }
    }

    #[test]
    fn disabling_an_unknown_id_is_an_error() {
        let disabled = BTreeSet::from(["no.such.rule".to_owned()]);
        let err = RuleEngine::new(&[], &disabled).unwrap_err();
        assert!(err.to_string().contains("no.such.rule"));
    }

    #[test]
    fn user_rule_ids_may_not_shadow_builtin_ones() {
        let id = engine().ids().next().unwrap().to_owned();
        let source = RuleSource {
            name: "mine.toml".into(),
            contents: format!(
                "[[rule]]\nid = '{id}'\nlabels = ['harassment/insult']\nterms = ['x']\n"
            ),
        };
        let err = RuleEngine::new(&[source], &BTreeSet::new()).unwrap_err();
        assert!(err.to_string().starts_with("mine.toml:2:"), "{err}");
    }

    #[test]
    fn model_scope_contexts_lower_only_the_model_and_look_at_the_whole_text() {
        let engine = engine();
        let damping = |text: &str| engine.find(text).learned_context.damping;
        // First person, nobody else named: the model's harassment is halved, nothing else.
        let context = engine
            .find("ugh my laptop died again, i hate this")
            .learned_context;
        assert_eq!(context.damping, [1.0, 0.5, 1.0]);
        assert_eq!(
            context.kinds,
            [vec![], vec![ContextKind::Untargeted], vec![]]
        );
        // Someone else anywhere in the text cancels it, even in another sentence.
        assert_eq!(damping("i am done. you are pathetic"), [1.0; 3]);
        assert_eq!(damping("what a pathetic loser"), [1.0; 3]);
        // And it never touches rule evidence.
        let text = "i think i am a worthless idiot";
        let (hits, _) = engine.hits(text, &engine.scan(text));
        assert!(!hits.is_empty());
        assert!(hits
            .iter()
            .flat_map(|h| &h.contexts)
            .all(|&c| engine.contexts[c].scope != Scope::Model));
    }

    #[test]
    fn contexts_that_lower_evidence_are_named_for_the_learned_tier() {
        let engine = engine();
        let context = engine.find("i am not suicidal at all").learned_context;
        let self_harm = &context.kinds[Category::SelfHarm.index()];
        assert!(self_harm.contains(&ContextKind::Negation), "{self_harm:?}");
        assert!(context.damping[Category::SelfHarm.index()] < 1.0);
        // A text without contexts names none.
        let plain = engine.find("i want to kill myself").learned_context;
        assert!(plain.kinds[Category::SelfHarm.index()].is_empty());
    }

    #[test]
    fn model_scope_exceptions_are_looked_for_once_per_text() {
        // Every "i" matches `untargeted.first_person`; the "you" at the very end cancels them all.
        // Looking for it once per match would read the megabyte once per "i".
        let engine = engine();
        let harassment = |text: &str| {
            let scan = engine.scan(text);
            engine.learned_context(text, &scan, &[], None).damping[Category::Harassment.index()]
        };
        assert_eq!(
            harassment(&format!("{}you", "i am sad. ".repeat(100_000))),
            1.0
        );
        assert_eq!(harassment("i am sad. "), 0.5);
    }

    #[test]
    fn quoted_regions_pair_marks_in_order() {
        let quotes = quoted_regions(r#"a "b" c "d" "e"#);
        assert_eq!(quotes, vec![2..5, 8..11]);
        assert!(inside_quotes(&quotes, &(3..4)));
        assert!(inside_quotes(&quotes, &(9..10)));
        assert!(!inside_quotes(&quotes, &(6..7)));
        assert!(!inside_quotes(&quotes, &(3..7)));
        assert!(!inside_quotes(&quotes, &(0..1)));
    }
}

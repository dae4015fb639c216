//! The context matches of one text, indexed per context so that each piece of evidence finds the
//! contexts that apply to it with a few binary searches per context, however many matches the text
//! holds.

use std::ops::Range;

use regex::Regex;

use super::segment::Segments;
use super::{Context, Scope};

/// Where a piece of evidence lies: its span and the sentence and clauses around it.
#[derive(Debug)]
pub(super) struct Place {
    evidence: Range<usize>,
    /// The sentence holding the start of the evidence.
    sentence: (usize, usize),
    /// The clause holding the start of the evidence.
    clause: (usize, usize),
    /// Where the clause holding the end of the evidence stops.
    clause_after_end: usize,
    /// Only context matches starting here are considered: the sentence, stretched to the evidence end.
    window: Range<usize>,
}

impl Place {
    pub(super) fn new(evidence: Range<usize>, segments: &Segments, text_len: usize) -> Place {
        let sentence = segments.sentence_range(evidence.start, text_len);
        Place {
            clause: segments.clause_range(evidence.start, text_len),
            clause_after_end: segments
                .clause_range(evidence.end.saturating_sub(1), text_len)
                .1,
            window: sentence.0..sentence.1.max(evidence.end),
            sentence,
            evidence,
        }
    }

    /// The first match ending before the evidence, in its clause, at most `window` words away.
    fn first_before(&self, matches: &[Range<usize>], window: usize, text: &str) -> Option<usize> {
        let in_clause = first_index(matches, |m| {
            m.end > self.clause.0 && m.start >= self.window.start
        });
        let before = |i: usize| matches.get(i).filter(|m| m.end <= self.evidence.start);
        before(in_clause)?;
        let reach = words_reach(&text[self.clause.0..self.evidence.start], window) + self.clause.0;
        let near = in_clause + first_index(&matches[in_clause..], |m| m.end >= reach);
        before(near).map(|m| m.start)
    }

    /// The first match starting after the evidence, in its clause, at most `window` words away.
    fn first_after(&self, matches: &[Range<usize>], window: usize, text: &str) -> Option<usize> {
        let end = self.evidence.end;
        let start = matches.get(first_index(matches, |m| m.start >= end))?.start;
        let limit = self.clause_after_end.min(self.window.end);
        (start < limit && within_words(text, end, start, window)).then_some(start)
    }

    /// The first match overlapping the evidence.
    fn first_overlapping(&self, matches: &[Range<usize>]) -> Option<usize> {
        let from = first_index(matches, |m| {
            m.end > self.evidence.start && m.start >= self.window.start
        });
        let start = matches.get(from)?.start;
        (start < self.evidence.end).then_some(start)
    }
}

/// Context matches of one text, per context.
#[derive(Debug)]
pub(super) struct ContextIndex {
    /// Match ranges per context index, sorted by start; one context's matches never overlap.
    per_context: Vec<Vec<Range<usize>>>,
    /// Indices of the contexts found at all.
    present: Vec<usize>,
    /// Contexts of scope `text` found anywhere, in the order of their first match.
    text_wide: Vec<usize>,
}

impl ContextIndex {
    /// Indexes `per_context`: for each context, its matches in text order, without overlaps.
    pub(super) fn new(per_context: Vec<Vec<Range<usize>>>, contexts: &[Context]) -> ContextIndex {
        let mut firsts: Vec<(usize, usize)> = per_context
            .iter()
            .enumerate()
            .filter(|&(index, _)| contexts[index].scope == Scope::Text)
            .filter_map(|(index, matches)| matches.first().map(|m| (m.start, index)))
            .collect();
        firsts.sort_unstable();
        ContextIndex {
            present: (0..per_context.len())
                .filter(|&index| !per_context[index].is_empty())
                .collect(),
            per_context,
            text_wide: firsts.into_iter().map(|(_, index)| index).collect(),
        }
    }

    /// Contexts with a match that applies to evidence at `place`, in the order of their first such
    /// match in its sentence, followed by the text-wide ones.
    pub(super) fn applying<'a>(
        &'a self,
        contexts: &[Context],
        place: &Place,
        text: &str,
    ) -> impl Iterator<Item = usize> + 'a {
        let mut local: Vec<(usize, usize)> = self
            .present
            .iter()
            .filter_map(|&index| {
                first_applicable(&contexts[index], &self.per_context[index], place, text)
                    .map(|start| (start, index))
            })
            .collect();
        local.sort_unstable();
        let local = local.into_iter().map(|(_, index)| index);
        local.chain(self.text_wide.iter().copied())
    }
}

/// Start of the first match, in text order, of `context` that applies to evidence at `place`.
fn first_applicable(
    context: &Context,
    matches: &[Range<usize>],
    place: &Place,
    text: &str,
) -> Option<usize> {
    let starting_in = |(from, to): (usize, usize)| {
        let start = matches
            .get(first_index(matches, |m| m.start >= from))?
            .start;
        (start < to).then_some(start)
    };
    match context.scope {
        Scope::Before => place.first_before(matches, context.window, text),
        Scope::After => place.first_after(matches, context.window, text),
        Scope::Around => place
            .first_before(matches, context.window, text)
            .or_else(|| place.first_after(matches, context.window, text)),
        Scope::Overlap => place.first_overlapping(matches),
        Scope::Clause => starting_in(place.clause),
        Scope::Sentence => starting_in(place.sentence),
        Scope::Text => starting_in((place.window.start, place.window.end)),
        Scope::Quoted | Scope::Model => None,
    }
}

/// Index of the first match for which `past` holds, where it holds for every later one.
fn first_index(matches: &[Range<usize>], past: impl Fn(&Range<usize>) -> bool) -> usize {
    matches.partition_point(|m| !past(m))
}

/// Whether at most `window` words lie between byte offsets `from` and `to`.
fn within_words(text: &str, from: usize, to: usize, window: usize) -> bool {
    text.get(from..to)
        .is_some_and(|s| s.split_whitespace().nth(window).is_none())
}

/// The smallest offset in `text` from which at most `window` words lie up to its end: the end of the
/// word before the last `window` ones, or 0 when there are no more.
fn words_reach(text: &str, window: usize) -> usize {
    let mut words = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices().rev() {
        let enters_word = !c.is_whitespace() && !in_word;
        if enters_word {
            words += 1;
            if words > window {
                return i + c.len_utf8();
            }
        }
        in_word = !c.is_whitespace();
    }
    0
}

/// Whether a context's `unless` patterns cancel its matches. Evaluated once per region (the sentence
/// of a match, or the whole text for scope `model`) while matches come in text order.
pub(super) struct Exceptions<'a> {
    unless: Option<&'a Regex>,
    whole_text: bool,
    text: &'a str,
    segments: &'a Segments,
    last: Option<((usize, usize), bool)>,
}

impl<'a> Exceptions<'a> {
    pub(super) fn new(context: &'a Context, text: &'a str, segments: &'a Segments) -> Self {
        Exceptions {
            unless: context.unless.as_ref(),
            whole_text: context.scope == Scope::Model,
            text,
            segments,
            last: None,
        }
    }

    /// Whether `context`'s exceptions cancel every match of it in `text` or none, wherever the match
    /// lies: `Some(false)` for a context without `unless` patterns, the whole text's answer for
    /// scope `model`; `None` when it depends on the match's sentence. A caller that only needs to
    /// know whether some match stands can then skip finding the matches and the sentences.
    pub(super) fn same_for_every_match(context: &Context, text: &str) -> Option<bool> {
        match &context.unless {
            None => Some(false),
            Some(unless) if context.scope == Scope::Model => Some(unless.is_match(text)),
            Some(_) => None,
        }
    }

    /// Whether the match starting at `offset` is cancelled.
    pub(super) fn cancel(&mut self, offset: usize) -> bool {
        let Some(unless) = self.unless else {
            return false;
        };
        let region = if self.whole_text {
            (0, self.text.len())
        } else {
            self.segments.sentence_range(offset, self.text.len())
        };
        match self.last {
            Some((last, cancelled)) if last == region => cancelled,
            _ => {
                let cancelled = unless.is_match(&self.text[region.0..region.1]);
                self.last = Some((region, cancelled));
                cancelled
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_reach_is_where_the_window_of_words_starts() {
        for text in ["", "a", "a b", " one  two\nthree ", "é ü, x"] {
            for window in 0..4 {
                let reach = words_reach(text, window);
                for from in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                    assert_eq!(
                        from >= reach,
                        within_words(text, from, text.len(), window),
                        "{text:?}, window {window}, from {from}"
                    );
                }
            }
        }
    }
}

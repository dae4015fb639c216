//! Sentence and clause boundaries of a normalized text, used to scope context modifiers.

use std::sync::OnceLock;

use regex::Regex;

/// Sentences longer than this are split at the next space, which bounds the work of context matching.
const MAX_SENTENCE_BYTES: usize = 1000;

/// Start offsets of sentences and clauses in a normalized text.
#[derive(Debug)]
pub(crate) struct Segments {
    sentences: Vec<usize>,
    clauses: Vec<usize>,
}

impl Segments {
    pub(crate) fn new(text: &str) -> Segments {
        static CONJUNCTIONS: OnceLock<Regex> = OnceLock::new();
        let conjunctions = CONJUNCTIONS.get_or_init(|| {
            Regex::new(r"(?-u:\b)(?:but|however|although|though|except|whereas|yet)(?-u:\b)")
                .expect("valid conjunction pattern")
        });
        let bytes = text.as_bytes();
        let mut sentences = vec![0];
        let mut clauses = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            let next = bytes.get(i + 1).copied();
            let ends_sentence = match b {
                b'\n' => true,
                b'.' | b'!' | b'?' => matches!(next, None | Some(b' ' | b'\n' | b'"')),
                b' ' => i - sentences[sentences.len() - 1] > MAX_SENTENCE_BYTES,
                _ => false,
            };
            if ends_sentence {
                sentences.push(i + 1);
                clauses.push(i + 1);
            } else if matches!(b, b',' | b';' | b':' | b'(' | b')') {
                clauses.push(i + 1);
            }
        }
        clauses.extend(conjunctions.find_iter(text).map(|m| m.start()));
        clauses.sort_unstable();
        clauses.dedup();
        Segments { sentences, clauses }
    }

    /// Byte range of the sentence holding `offset`.
    pub(crate) fn sentence_range(&self, offset: usize, text_len: usize) -> (usize, usize) {
        let i = self.sentences.partition_point(|&s| s <= offset) - 1;
        (
            self.sentences[i],
            self.sentences.get(i + 1).copied().unwrap_or(text_len),
        )
    }

    pub(crate) fn same_sentence(&self, a: usize, b: usize) -> bool {
        index_of(&self.sentences, a) == index_of(&self.sentences, b)
    }

    pub(crate) fn same_clause(&self, a: usize, b: usize) -> bool {
        index_of(&self.clauses, a) == index_of(&self.clauses, b)
    }
}

fn index_of(starts: &[usize], offset: usize) -> usize {
    starts.partition_point(|&s| s <= offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sentences_and_clauses() {
        let text = "im fine. not okay, but alive\nnext";
        let s = Segments::new(text);
        assert!(s.same_sentence(0, 5));
        assert!(!s.same_sentence(0, 10));
        assert!(s.same_clause(9, 14));
        assert!(!s.same_clause(9, 25));
        assert!(!s.same_sentence(25, 30));
        assert_eq!(s.sentence_range(12, text.len()), (8, 29));
    }

    #[test]
    fn decimals_do_not_end_sentences() {
        assert!(Segments::new("take 2.5 mg").same_sentence(0, 10));
    }
}

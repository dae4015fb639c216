//! Sentence and clause boundaries of a normalized text, used to scope context modifiers.

use std::sync::OnceLock;

use regex::Regex;

/// Sentences longer than this are split at the next space, which bounds the work of context matching.
const MAX_SENTENCE_BYTES: usize = 1000;
/// Sentences without a space that long are split at the next character boundary.
const HARD_SENTENCE_BYTES: usize = 2 * MAX_SENTENCE_BYTES;

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
            let length = i - sentences[sentences.len() - 1];
            let ends_sentence = match b {
                b'\n' => true,
                b'.' | b'!' | b'?' => matches!(next, None | Some(b' ' | b'\n' | b'"')),
                b' ' => length > MAX_SENTENCE_BYTES,
                _ => false,
            } || (length > HARD_SENTENCE_BYTES && text.is_char_boundary(i + 1));
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
        range_of(&self.sentences, offset, text_len)
    }

    /// Byte range of the clause holding `offset`.
    pub(crate) fn clause_range(&self, offset: usize, text_len: usize) -> (usize, usize) {
        range_of(&self.clauses, offset, text_len)
    }

    /// Index of the sentence holding `offset`.
    pub(crate) fn sentence_index(&self, offset: usize) -> usize {
        index_of(&self.sentences, offset)
    }
}

/// Index of the segment of `starts` holding `offset`.
fn index_of(starts: &[usize], offset: usize) -> usize {
    starts.partition_point(|&s| s <= offset) - 1
}

/// The segment of `starts` holding `offset`, ending where the next one starts.
fn range_of(starts: &[usize], offset: usize, text_len: usize) -> (usize, usize) {
    let i = index_of(starts, offset);
    (starts[i], starts.get(i + 1).copied().unwrap_or(text_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sentences_and_clauses() {
        let text = "im fine. not okay, but alive\nnext";
        let s = Segments::new(text);
        assert_eq!(s.sentence_index(5), 0);
        assert_eq!(s.sentence_index(10), 1);
        assert_eq!(s.sentence_index(30), 2);
        assert_eq!(s.sentence_range(12, text.len()), (8, 29));
        assert_eq!(s.clause_range(14, text.len()), (8, 18));
        assert_eq!(s.clause_range(25, text.len()), (19, 29));
    }

    #[test]
    fn decimals_do_not_end_sentences() {
        assert_eq!(Segments::new("take 2.5 mg").sentence_index(10), 0);
    }

    #[test]
    fn long_sentences_split_at_a_space_or_else_at_a_character_boundary() {
        let spaced = "word ".repeat(400);
        let s = Segments::new(&spaced);
        assert_eq!(s.sentence_range(0, spaced.len()), (0, 1005));
        let unspaced = "é.".repeat(1000);
        let s = Segments::new(&unspaced);
        assert_eq!(s.sentence_range(0, unspaced.len()), (0, 2003));
    }
}

//! Finding and hashing the n-grams of a normalized text, in one pass over it.
//!
//! Nothing is allocated per n-gram: each one is hashed straight from the text's bytes with a kind
//! prefix and padding spaces fed to the hash around them.

use std::ops::Range;

use super::{LexicalFeatures, NgramKind};

/// FNV-1a 64-bit, fed piece by piece. Plain `u64` arithmetic, so every platform (wasm32 included)
/// computes the same value.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fnv1a(pub(super) u64);

impl Fnv1a {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    pub(super) const fn new() -> Self {
        Fnv1a(Self::OFFSET_BASIS)
    }

    pub(super) fn write(mut self, bytes: &[u8]) -> Self {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(Self::PRIME);
        }
        self
    }

    /// The feature index: the hash modulo [`LexicalFeatures::N_FEATURES`].
    pub(super) fn bucket(self) -> u32 {
        // The remainder is below N_FEATURES, a u32.
        (self.0 % u64::from(LexicalFeatures::N_FEATURES)) as u32
    }
}

/// Calls `emit(kind, n, bucket, range)` for every n-gram occurrence of `text`, word by word in text
/// order: the word, its bigram with the previous word, then its character n-grams.
pub(super) fn for_each_ngram(
    text: &str,
    mut emit: impl FnMut(NgramKind, usize, u32, Range<usize>),
) {
    let bytes = text.as_bytes();
    let mut previous: Option<Range<usize>> = None;
    for word in words(text) {
        let current = &bytes[word.clone()];
        let unigram = Fnv1a::new().write(b"w1:").write(current);
        emit(NgramKind::Word, 1, unigram.bucket(), word.clone());
        if let Some(previous) = previous {
            let bigram = Fnv1a::new()
                .write(b"w2:")
                .write(&bytes[previous.clone()])
                .write(b" ")
                .write(current);
            emit(
                NgramKind::Word,
                2,
                bigram.bucket(),
                previous.start..word.end,
            );
        }
        char_ngrams(text, word.clone(), &mut emit);
        previous = Some(word);
    }
}

/// Byte ranges of the maximal runs of alphanumeric characters ([`char::is_alphanumeric`]).
pub(super) fn words(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, _) = chars.find(|&(_, c)| c.is_alphanumeric())?;
        let mut end = text.len();
        while let Some(&(offset, c)) = chars.peek() {
            if !c.is_alphanumeric() {
                end = offset;
                break;
            }
            chars.next();
        }
        Some(start..end)
    })
}

/// The character n-grams of the word at `word`, padded with one space on each side, by start:
/// the windows that start at one element share the hash of their common prefix.
fn char_ngrams(
    text: &str,
    word: Range<usize>,
    emit: &mut impl FnMut(NgramKind, usize, u32, Range<usize>),
) {
    let prefix = Fnv1a::new().write(b"c:");
    windows_from(text, &word, word.start, prefix.write(b" "), 1, emit);
    for (offset, _) in text[word.clone()].char_indices() {
        windows_from(text, &word, word.start + offset, prefix, 0, emit);
    }
}

/// Emits the windows that start at byte `start` of the word (`elements` is 1 when they start with
/// the opening space, already in `hash`), each `n` from the shortest to the longest that fits.
fn windows_from(
    text: &str,
    word: &Range<usize>,
    start: usize,
    mut hash: Fnv1a,
    mut elements: usize,
    emit: &mut impl FnMut(NgramKind, usize, u32, Range<usize>),
) {
    let (min_n, max_n) = LexicalFeatures::CHAR_NGRAMS;
    let mut end = start;
    for ch in text[start..word.end].chars() {
        if elements == max_n {
            return;
        }
        let next = end + ch.len_utf8();
        hash = hash.write(&text.as_bytes()[end..next]);
        end = next;
        elements += 1;
        if elements >= min_n {
            emit(NgramKind::Char, elements, hash.bucket(), start..end);
        }
    }
    // The word ended within reach: the window through the closing space.
    if elements < max_n && elements + 1 >= min_n {
        emit(
            NgramKind::Char,
            elements + 1,
            hash.write(b" ").bucket(),
            start..end,
        );
    }
}

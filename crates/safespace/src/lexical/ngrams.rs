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
    let mut at = 0;
    std::iter::from_fn(move || {
        let start = next_char_where(text, &mut at, char::is_alphanumeric)?;
        let end = next_char_where(text, &mut at, |c| !c.is_alphanumeric()).unwrap_or(text.len());
        Some(start..end)
    })
}

/// The offset of the first character at or after `*at` that `wanted` accepts; `*at` moves past
/// it. ASCII bytes are read without decoding.
fn next_char_where(text: &str, at: &mut usize, wanted: impl Fn(char) -> bool) -> Option<usize> {
    while *at < text.len() {
        let offset = *at;
        let ch = char_at(text, offset);
        *at += ch.len_utf8();
        if wanted(ch) {
            return Some(offset);
        }
    }
    None
}

/// The character that starts at byte `offset` of `text` (a char boundary); ASCII without decoding.
fn char_at(text: &str, offset: usize) -> char {
    match text.as_bytes()[offset] {
        byte if byte.is_ascii() => char::from(byte),
        _ => text[offset..]
            .chars()
            .next()
            .expect("offset is on a char boundary"),
    }
}

/// The character n-grams of the word at `word`, padded with one space on each side, by start:
/// the windows that start at one element share the hash of their common prefix.
fn char_ngrams(
    text: &str,
    word: Range<usize>,
    emit: &mut impl FnMut(NgramKind, usize, u32, Range<usize>),
) {
    let bytes = &text.as_bytes()[word.clone()];
    if bytes.is_ascii() {
        // One byte per character: nothing to decode.
        padded_windows(bytes, word.start, bytes.len(), |k| k..k + 1, emit);
    } else {
        let mut chars = RecentChars::new(&text[word.clone()]);
        let len = text[word.clone()].chars().count();
        padded_windows(bytes, word.start, len, |k| chars.range(k), emit);
    }
}

/// The byte ranges of a word's characters, decoded forward on demand. Only the last few are kept:
/// a window reaches back at most `CHAR_NGRAMS.1` characters, so memory stays constant however long
/// the word.
struct RecentChars<'a> {
    word: &'a str,
    ring: [Range<usize>; RecentChars::KEPT],
    decoded: usize,
    at: usize,
}

// The ring holds every character one window can reach back to.
const _: () = assert!(LexicalFeatures::CHAR_NGRAMS.1 < RecentChars::KEPT);

impl<'a> RecentChars<'a> {
    /// How many of the last decoded characters are kept.
    const KEPT: usize = 8;

    fn new(word: &'a str) -> Self {
        RecentChars {
            word,
            ring: Default::default(),
            decoded: 0,
            at: 0,
        }
    }

    /// The byte range of character `k`, which is at most `KEPT - 1` behind the furthest one asked
    /// for.
    fn range(&mut self, k: usize) -> Range<usize> {
        debug_assert!(
            k + Self::KEPT >= self.decoded,
            "character {k} has left the ring"
        );
        while self.decoded <= k {
            let ch = char_at(self.word, self.at);
            self.ring[self.decoded % Self::KEPT] = self.at..self.at + ch.len_utf8();
            self.at += ch.len_utf8();
            self.decoded += 1;
        }
        self.ring[k % Self::KEPT].clone()
    }
}

/// Emits the windows over `[' ', char 0, …, char len-1, ' ']` of the word `bytes` (which starts at
/// byte `base` of the text; `char_at(k)` is the byte range of its character `k`), by first element,
/// each from the shortest to the longest `n` that fits. A window's range covers its characters
/// (the padding spaces add nothing).
fn padded_windows(
    bytes: &[u8],
    base: usize,
    len: usize,
    mut char_at: impl FnMut(usize) -> Range<usize>,
    emit: &mut impl FnMut(NgramKind, usize, u32, Range<usize>),
) {
    let (min_n, max_n) = LexicalFeatures::CHAR_NGRAMS;
    let prefix = Fnv1a::new().write(b"c:");
    // Padded position p is a space at 0 and len + 1, else character p - 1. A window that starts at
    // the closing space is one element long: none is emitted.
    for first in 0..=len {
        let start = base + char_at(first.saturating_sub(1)).start;
        let mut hash = prefix;
        let mut end = start;
        for p in first..(first + max_n).min(len + 2) {
            if p == 0 || p == len + 1 {
                hash = hash.write(b" ");
            } else {
                let range = char_at(p - 1);
                hash = hash.write(&bytes[range.clone()]);
                end = base + range.end;
            }
            let n = p - first + 1;
            if n >= min_n {
                emit(NgramKind::Char, n, hash.bucket(), start..end);
            }
        }
    }
}

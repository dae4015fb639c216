//! Lexical features: hashed word 1–2-grams and character 2–5-grams of the normalizer's output.
//!
//! One extractor serves training (through the Python binding's `lexical_features`, into
//! scikit-learn) and inference, so the two can never disagree. [`lexical_features`] has the exact
//! definition, which a trained model depends on and which must therefore never change. A
//! [`LexicalTier`] turns them into calibrated probabilities: the fast engine's learned part.

mod counts;
mod fit;
mod ngrams;
#[cfg(test)]
mod tests;
mod tier;
#[cfg(test)]
mod tier_tests;

pub use fit::FitOptions;
pub(crate) use tier::LexicalRun;
pub use tier::{LexicalTier, LexicalTierError};

use std::ops::Range;

use serde::Serialize;

use crate::normalize::{NormalizedText, Normalizer};

/// The lexical feature space: its size and the n-gram lengths it counts (see the
/// [`lexical_features`] function for the whole definition).
///
/// ```
/// use safespace::LexicalFeatures;
/// assert_eq!(LexicalFeatures::N_FEATURES, 262_144);
/// assert_eq!(LexicalFeatures::WORD_NGRAMS, (1, 2));
/// assert_eq!(LexicalFeatures::CHAR_NGRAMS, (2, 5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LexicalFeatures;

impl LexicalFeatures {
    /// Number of hash buckets, the length of every feature vector: 2^18.
    ///
    /// ```
    /// let v = safespace::lexical_features("hello there");
    /// assert!(v.indices.iter().all(|&i| i < safespace::LexicalFeatures::N_FEATURES));
    /// ```
    pub const N_FEATURES: u32 = 1 << 18;

    /// Shortest and longest word n-gram, in words (scikit-learn's `ngram_range`).
    ///
    /// ```
    /// assert_eq!(safespace::LexicalFeatures::WORD_NGRAMS, (1, 2));
    /// ```
    pub const WORD_NGRAMS: (usize, usize) = (1, 2);

    /// Shortest and longest character n-gram, in characters of a space-padded word.
    ///
    /// ```
    /// assert_eq!(safespace::LexicalFeatures::CHAR_NGRAMS, (2, 5));
    /// ```
    pub const CHAR_NGRAMS: (usize, usize) = (2, 5);
}

/// A sparse vector of length [`LexicalFeatures::N_FEATURES`]: `indices` ascending and unique,
/// `values[i]` the value at `indices[i]`. Serializes as `{"indices": [...], "values": [...]}`.
///
/// ```
/// let v = safespace::lexical_features("you are kind");
/// assert_eq!(v.indices.len(), v.values.len());
/// assert!(v.indices.windows(2).all(|w| w[0] < w[1]));
/// let norm: f32 = v.values.iter().map(|x| x * x).sum::<f32>().sqrt();
/// assert!((norm - 1.0).abs() < 1e-5);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SparseVector {
    /// Feature indices, ascending, no repeats, each below [`LexicalFeatures::N_FEATURES`].
    pub indices: Vec<u32>,
    /// The value at each index (positive).
    pub values: Vec<f32>,
}

/// What an [`Ngram`] is made of.
///
/// ```
/// use safespace::{lexical_ngrams, NgramKind, Normalizer};
/// let ngrams = lexical_ngrams(&Normalizer::default().normalize("hi there"));
/// assert_eq!(ngrams.iter().filter(|g| g.kind == NgramKind::Word).count(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NgramKind {
    /// `n` consecutive words.
    Word,
    /// `n` consecutive characters of one space-padded word.
    Char,
}

/// One n-gram occurrence in a normalized text: which feature it counts toward and where it is.
///
/// ```
/// use safespace::{lexical_ngrams, NgramKind, Normalizer};
/// let normalized = Normalizer::default().normalize("Hi there");
/// let bigram = lexical_ngrams(&normalized)
///     .into_iter()
///     .find(|g| g.kind == NgramKind::Word && g.n == 2)
///     .unwrap();
/// assert_eq!(&normalized.as_str()[bigram.range.clone()], "hi there");
/// assert_eq!(normalized.original_range(bigram.range), 0..8);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ngram {
    /// Words or characters.
    pub kind: NgramKind,
    /// Its length in words or characters (padding spaces included).
    pub n: usize,
    /// Its feature index, below [`LexicalFeatures::N_FEATURES`].
    pub bucket: u32,
    /// Its bytes in the normalized text ([`NormalizedText::as_str`]); padding spaces are not in
    /// it, and a word bigram's range covers whatever separates the two words. Map it to the
    /// original text with [`NormalizedText::original_range`].
    pub range: Range<usize>,
}

/// The lexical features of `text`: hashed word 1–2-grams and character 2–5-grams of its
/// normalized form, `1 + ln(count)` per index, scaled to length 1. Exactly:
///
/// 1. **Text**: the default [`Normalizer`]'s output (lower-cased, obfuscations undone), so
///    `k1ll y0urs3lf` and `kill yourself` have the same features.
/// 2. **Words**: the maximal runs of alphanumeric characters ([`char::is_alphanumeric`]);
///    everything else (spaces, punctuation, emoji, NUL) separates words.
/// 3. **N-grams**: each word (kind prefix `w1:`), each pair of consecutive words joined by one
///    space whatever separated them (`w2:`), and the character 2- to 5-grams of each word padded
///    with one space on each side (`c:`), counted in characters, not bytes, like scikit-learn's
///    `char_wb` analyzer (but a word shorter than `n` gives no `n`-gram): `kill` gives `" k"`,
///    `"ki"`, ..., `"ll "`, `" ki"`, ..., `"kill "` and `" kill "`.
/// 4. **Hashing**: FNV-1a 64 (offset basis `0xcbf29ce484222325`, prime `0x100000001b3`) over the
///    UTF-8 bytes of the kind prefix followed by the n-gram (`w1:kill`, `w2:kill yourself`,
///    `c: ki`); the feature index is the hash modulo [`LexicalFeatures::N_FEATURES`] (its low 18
///    bits). No sign trick: every count is positive.
/// 5. **Values**: per index, `1 + ln(count)` (n-grams that share an index add their counts
///    first), then the vector is scaled to Euclidean length 1.
///
/// Indices are the same on every platform, wasm32 included; values are equal up to float
/// rounding. Never panics; time is linear in the text's length, and each thread that extracts
/// features keeps a 1 MiB count table for the next text. An empty text, or one without letters
/// or digits, gives the empty vector.
///
/// ```
/// use safespace::lexical_features;
/// assert_eq!(lexical_features("k1ll y0urs3lf"), lexical_features("Kill yourself"));
/// assert!(lexical_features("").indices.is_empty());
/// assert!(lexical_features("kill").indices.contains(&4321)); // FNV-1a("w1:kill") % 2^18
/// ```
pub fn lexical_features(text: &str) -> SparseVector {
    features(Normalizer::default().normalize(text).as_str())
}

/// The features of `text` taken as it is (already normalized): `1 + ln(count)` per index, scaled to
/// length 1.
pub(crate) fn features(text: &str) -> SparseVector {
    let capacity = text.len().saturating_mul(2).min(1 << 12);
    let (mut indices, mut weights) = (Vec::with_capacity(capacity), Vec::with_capacity(capacity));
    let norm = log_counts(text, |index, weight| {
        indices.push(index);
        weights.push(weight);
    });
    SparseVector {
        indices,
        values: weights.iter().map(|&w| scaled(w, norm)).collect(),
    }
}

/// Calls `f(index, 1 + ln(count))` for every feature index of `text` (already normalized), ascending,
/// and returns the Euclidean length of those values: [`features`] before it is scaled, without
/// building the vector.
fn log_counts(text: &str, mut f: impl FnMut(u32, f64)) -> f64 {
    counts::Counts::with(|counts| {
        ngrams::for_each_ngram(text, |_, _, bucket, _| counts.add(bucket));
        let log_count = LogCount::new();
        let mut squares = 0.0;
        counts.drain(|index, count| {
            let weight = log_count.of(count);
            squares += weight * weight;
            f(index, weight);
        });
        f64::sqrt(squares)
    })
}

/// The feature value of an index that `count` n-grams of a text hash to, where [`log_counts`] gave
/// the text's length `norm`.
fn value_of(count: u32, norm: f64) -> f32 {
    scaled(LogCount::new().of(count), norm)
}

/// A `1 + ln(count)` weight scaled by the text's length, as a feature value.
fn scaled(weight: f64, norm: f64) -> f32 {
    (weight / norm) as f32
}

/// Every n-gram occurrence of a normalized text with its feature index and byte range, in text
/// order of words: each word, its bigram with the word before it, then its character n-grams (by
/// start, shortest first). Their indices, counted, give [`lexical_features`]. Meant for explaining
/// a score on one text (the strongest n-grams become evidence spans), as it holds every occurrence
/// at once.
///
/// ```
/// use safespace::{lexical_ngrams, NgramKind, Normalizer};
/// let normalized = Normalizer::default().normalize("ur a l0ser");
/// assert_eq!(normalized.as_str(), "your a loser");
/// let first = &lexical_ngrams(&normalized)[0];
/// assert_eq!((first.kind, first.n), (NgramKind::Word, 1));
/// assert_eq!(&normalized.as_str()[first.range.clone()], "your");
/// assert_eq!(normalized.original_range(first.range.clone()), 0..2); // "ur"
/// ```
pub fn lexical_ngrams(normalized: &NormalizedText) -> Vec<Ngram> {
    let mut out = Vec::new();
    ngrams::for_each_ngram(normalized.as_str(), |kind, n, bucket, range| {
        out.push(Ngram {
            kind,
            n,
            bucket,
            range,
        });
    });
    out
}

/// `1 + ln(count)` of an n-gram count, from a table for the small counts that almost every n-gram
/// has (the same values: the table is computed with the same expression). Made once per text.
struct LogCount(&'static [f64; 64]);

impl LogCount {
    fn new() -> Self {
        static SMALL: std::sync::OnceLock<[f64; 64]> = std::sync::OnceLock::new();
        // The table's indices are below 64: they fit a u32.
        LogCount(SMALL.get_or_init(|| std::array::from_fn(|c| Self::compute(c as u32))))
    }

    fn of(&self, count: u32) -> f64 {
        self.0
            .get(count as usize)
            .copied()
            .unwrap_or_else(|| Self::compute(count))
    }

    fn compute(count: u32) -> f64 {
        1.0 + f64::from(count).ln()
    }
}

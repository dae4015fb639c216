use std::collections::HashMap;

use super::ngrams::Fnv1a;
use super::*;

fn fnv1a64(bytes: &[u8]) -> u64 {
    Fnv1a::new().write(bytes).0
}

/// The features of `(index, count)` pairs in ascending order of index.
fn from_counts(counts: Vec<(u32, u32)>) -> SparseVector {
    let (indices, weights): (Vec<u32>, Vec<f64>) = counts
        .into_iter()
        .map(|(index, count)| (index, 1.0 + f64::from(count).ln()))
        .unzip();
    let norm = weights.iter().map(|w| w * w).sum::<f64>().sqrt();
    SparseVector {
        indices,
        values: weights.iter().map(|w| (w / norm) as f32).collect(),
    }
}

fn sorted(counts: HashMap<u32, u32>) -> Vec<(u32, u32)> {
    let mut pairs: Vec<(u32, u32)> = counts.into_iter().collect();
    pairs.sort_unstable();
    pairs
}

/// The definition written the slow, obvious way: every n-gram built as a string, then hashed.
fn reference(text: &str) -> SparseVector {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut grams: Vec<String> = Vec::new();
    for (i, word) in words.iter().enumerate() {
        grams.push(format!("w1:{word}"));
        if i > 0 {
            grams.push(format!("w2:{} {word}", words[i - 1]));
        }
        let padded: Vec<char> = std::iter::once(' ')
            .chain(word.chars())
            .chain(std::iter::once(' '))
            .collect();
        for n in 2..=5 {
            for window in padded.windows(n) {
                grams.push(format!("c:{}", window.iter().collect::<String>()));
            }
        }
    }
    let mut counts: HashMap<u32, u32> = HashMap::new();
    for gram in grams {
        let bucket = (fnv1a64(gram.as_bytes()) % (1 << 18)) as u32;
        *counts.entry(bucket).or_default() += 1;
    }
    from_counts(sorted(counts))
}

fn assert_well_formed(v: &SparseVector) {
    assert_eq!(v.indices.len(), v.values.len());
    assert!(v.indices.windows(2).all(|w| w[0] < w[1]), "sorted, unique");
    assert!(v.indices.iter().all(|&i| i < LexicalFeatures::N_FEATURES));
    assert!(v.values.iter().all(|x| x.is_finite() && *x > 0.0));
    if !v.indices.is_empty() {
        let norm = v.values.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>();
        assert!((norm.sqrt() - 1.0).abs() < 1e-5, "L2 norm {}", norm.sqrt());
    }
}

fn assert_close(a: &SparseVector, b: &SparseVector) {
    assert_eq!(a.indices, b.indices);
    for (x, y) in a.values.iter().zip(&b.values) {
        assert!((x - y).abs() < 1e-6, "{x} vs {y}");
    }
}

const TEXTS: &[&str] = &[
    "kill yourself",
    "hello world hello",
    "a",
    "a a a",
    "ab cd, ef!",
    "i can't do this anymore\n\nno one would notice",
    "naïve café ümlaut",
    "日本語 テキスト",
    "x\0y",
    "🔥fire🔥",
    "e\u{301}e\u{301}",
    "αβγ δ",
    "a1b2 33",
    "abcdefghijklmnopqrstuvwxyz",
    "b ab abc abcd abcde abcdef ñ añ ñbc aéb abcdé é日本",
    "ñaïveñaïveñaïveéabcdefgh日本語テキストß",
];

#[test]
fn fnv1a_gives_the_published_test_vectors() {
    assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
}

/// Pins the definition: a change here invalidates every trained lexical model. The Python tests
/// (`bindings/python/tests/test_lexical.py`) pin the same values.
#[test]
fn pinned_hashes_and_buckets() {
    assert_eq!(fnv1a64(b"w1:kill"), 0x834e_5e4c_d16c_10e1);
    assert_eq!(Fnv1a::new().write(b"w1:").write(b"kill").bucket(), 4321);
    assert_eq!(fnv1a64(b"w2:kill yourself"), 0x7043_e8e6_23b4_a68f);
    assert_eq!(fnv1a64(b"w2:kill yourself") % (1 << 18), 42639);
    assert_eq!(fnv1a64(b"c: k") % (1 << 18), 218_137);
    let v = lexical_features("kill yourself");
    for bucket in [4321, 42639, 218_137] {
        assert!(v.indices.contains(&bucket), "{bucket}");
    }
}

#[test]
fn features_follow_the_reference_definition() {
    for text in TEXTS {
        let v = features(text);
        assert_well_formed(&v);
        assert_close(&v, &reference(text));
    }
}

#[test]
fn one_word_has_its_word_and_fourteen_character_ngrams() {
    let normalized = Normalizer::default().normalize("kill");
    let ngrams = lexical_ngrams(&normalized);
    let text = normalized.as_str();
    let spans: Vec<(NgramKind, usize, &str)> = ngrams
        .iter()
        .map(|g| (g.kind, g.n, &text[g.range.clone()]))
        .collect();
    use NgramKind::{Char, Word};
    #[rustfmt::skip]
    let expected = vec![
        (Word, 1, "kill"),
        (Char, 2, "k"), (Char, 3, "ki"), (Char, 4, "kil"), (Char, 5, "kill"),
        (Char, 2, "ki"), (Char, 3, "kil"), (Char, 4, "kill"), (Char, 5, "kill"),
        (Char, 2, "il"), (Char, 3, "ill"), (Char, 4, "ill"),
        (Char, 2, "ll"), (Char, 3, "ll"),
        (Char, 2, "l"),
    ];
    assert_eq!(spans, expected);
}

#[test]
fn ngrams_count_up_to_the_features_and_point_into_the_text() {
    for text in TEXTS {
        let normalized = Normalizer::default().normalize(text);
        let ngrams = lexical_ngrams(&normalized);
        let mut counts: HashMap<u32, u32> = HashMap::new();
        for g in &ngrams {
            *counts.entry(g.bucket).or_default() += 1;
            let span = normalized
                .as_str()
                .get(g.range.clone())
                .expect("on char boundaries");
            assert!(!span.is_empty());
            if g.kind == NgramKind::Char {
                let chars = span.chars().count();
                assert!(chars <= g.n && chars + 2 >= g.n, "{span:?} as {}-gram", g.n);
            }
        }
        assert_eq!(from_counts(sorted(counts)), lexical_features(text));
    }
}

#[test]
fn the_word_bigram_spans_its_separator() {
    let normalized = Normalizer::default().normalize("kill,  yourself");
    let bigram = lexical_ngrams(&normalized)
        .into_iter()
        .find(|g| g.kind == NgramKind::Word && g.n == 2)
        .expect("a bigram");
    assert_eq!(
        bigram.bucket, 42639,
        "joined by one space whatever the separator"
    );
    assert_eq!(bigram.range, 0..normalized.as_str().len());
}

#[test]
fn obfuscations_are_undone_before_hashing() {
    let plain = lexical_features("kill yourself");
    assert!(!plain.indices.is_empty());
    assert_eq!(lexical_features("k1ll y0urs3lf"), plain);
    assert_eq!(lexical_features("KILL YOURSELF"), plain);
    assert_ne!(features("k1ll y0urs3lf"), plain, "the raw text differs");
}

#[test]
fn text_without_words_gives_the_empty_vector() {
    for text in ["", " ", "\n\n", "...", "\0\0", "?!?"] {
        assert_eq!(lexical_features(text), SparseVector::default(), "{text:?}");
    }
    assert_eq!(features("🔥 🔥"), SparseVector::default());
    assert_eq!(
        serde_json::to_string(&SparseVector::default()).unwrap(),
        r#"{"indices":[],"values":[]}"#
    );
}

#[test]
fn the_looked_up_logarithms_are_the_computed_ones() {
    for count in (0..300).chain([u32::MAX]) {
        assert_eq!(
            LogCount::new().of(count),
            1.0 + f64::from(count).ln(),
            "{count}"
        );
    }
}

#[test]
fn counts_are_logged_then_scaled() {
    let v = from_counts(vec![(3, 1), (7, 4)]);
    assert_eq!(v.indices, [3, 7]);
    let big = 1.0 + 4f64.ln();
    let norm = (1.0 + big * big).sqrt();
    assert!((f64::from(v.values[0]) - 1.0 / norm).abs() < 1e-7);
    assert!((f64::from(v.values[1]) - big / norm).abs() < 1e-7);
}

/// A deterministic mix of words, obfuscations, separators, emoji, NUL and combining marks.
fn random_ish(bytes: usize) -> String {
    const PIECES: &[&str] = &[
        "kill", "you", " ", "  ", "\0", "🔥", "e\u{301}", "日本", "k1ll", ".", "\n", "Ω", "ß", "İ",
        "aaaa", "y0u", "'", "s.u.i", "\u{200b}", "ﬁ", "𝐤", "988", "-", "\u{feff}", "ǅ",
    ];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut out = String::with_capacity(bytes + 8);
    while out.len() < bytes {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.push_str(PIECES[(state % PIECES.len() as u64) as usize]);
    }
    out
}

#[test]
fn long_random_ish_input() {
    let text = random_ish(1 << 20);
    let v = lexical_features(&text);
    assert_well_formed(&v);
    assert!(v.indices.len() > 100);
    let small = random_ish(4096);
    assert_close(&features(&small), &reference(&small));
}

#[test]
fn megabytes_without_normalizing() {
    let one_word = "a".repeat(10 << 20);
    let v = features(&one_word);
    assert_well_formed(&v);
    // w1, plus " a", "aa", "a ", " aa", "aaa", "aa ", ... : 1 + 3 + 3 + 3 + 3 n-grams at most.
    assert!(v.indices.len() <= 13);
    let mixed = random_ish(2 << 20);
    assert_well_formed(&features(&mixed));
}

/// `bindings/python/tests/test_lexical.py` checks these texts against a pure-Python version of the
/// definition that leaves the normalizer out.
#[test]
fn the_python_reference_texts_are_already_normalized() {
    for text in [
        "hello world hello",
        "have a lovely day",
        "the quick brown fox 42",
    ] {
        assert_eq!(Normalizer::default().normalize(text).as_str(), text);
        assert_eq!(lexical_features(text), features(text));
    }
}

#[test]
fn the_count_table_reads_back_in_index_order_and_empties() {
    let last = LexicalFeatures::N_FEATURES - 1;
    let drained = |adds: &[u32]| {
        counts::Counts::with(|table| {
            adds.iter().for_each(|&i| table.add(i));
            let mut out = Vec::new();
            table.drain(|index, count| out.push((index, count)));
            out
        })
    };
    assert_eq!(
        drained(&[70_000, 5, last, 0, 5, 4096, 4095]),
        [(0, 1), (5, 2), (4095, 1), (4096, 1), (70_000, 1), (last, 1)]
    );
    assert_eq!(drained(&[]), []);
    // A panic while counting leaves the table dirty; the next use starts clean all the same.
    let panicked = std::panic::catch_unwind(|| {
        counts::Counts::with(|table| {
            table.add(9);
            panic!("mid-count");
        })
    });
    assert!(panicked.is_err());
    assert_eq!(drained(&[1]), [(1, 1)]);
}

/// What the tier and its explanations read instead of the vector gives the vector's values exactly:
/// the weights `log_counts` passes, scaled by the length it returns, and `value_of` an index's
/// count.
#[test]
fn log_counts_and_value_of_give_the_feature_values_bit_for_bit() {
    let text = format!("you idiot {} 🔥 naïve café", "idiot ".repeat(70));
    let normalized = Normalizer::default().normalize(&text);
    let vector = features(normalized.as_str());
    let mut weights = Vec::new();
    let norm = log_counts(normalized.as_str(), |index, weight| {
        weights.push((index, weight))
    });
    let scaled_back: Vec<f32> = weights.iter().map(|&(_, w)| scaled(w, norm)).collect();
    assert_eq!(
        weights.iter().map(|&(i, _)| i).collect::<Vec<_>>(),
        vector.indices
    );
    assert_eq!(scaled_back, vector.values);
    let mut counts: HashMap<u32, u32> = HashMap::new();
    for gram in lexical_ngrams(&normalized) {
        *counts.entry(gram.bucket).or_default() += 1;
    }
    assert!(
        counts.values().any(|&c| c >= 64),
        "a count past the table of small counts"
    );
    for (index, value) in vector.indices.iter().zip(&vector.values) {
        assert_eq!(value_of(counts[index], norm), *value);
    }
}

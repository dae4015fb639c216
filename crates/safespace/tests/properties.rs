//! Property tests of the rule engine: arbitrary Unicode never panics, evidence spans always map back to
//! what was typed, and batch scoring equals one-by-one scoring.

use proptest::prelude::*;
use safespace::{Detector, Engine, Normalizer};

// The same properties the fuzz targets check; `rule_file` is only fuzzed.
#[allow(dead_code)]
#[path = "../fuzz/checks.rs"]
mod checks;

/// Fragments that exercise the normalizer and rules: risky phrases, obfuscations, invisible and bidi
/// characters, emoji sequences, combining marks and scripts outside Latin.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just("I want to kill myself tonight".to_owned()),
        Just("k y s".to_owned()),
        Just("s.u.i.c.i.d.e".to_owned()),
        Just("ᴜɴᴀʟɪᴠᴇ".to_owned()),
        Just("k\u{200B}i\u{200D}l\u{202E}l".to_owned()),
        Just("you are such an 1d10t".to_owned()),
        Just("\"vaccines cause autism\"".to_owned()),
        Just("👩\u{200D}👩\u{200D}👧\u{1F3FD}🏳\u{FE0F}\u{200D}🌈".to_owned()),
        Just("e\u{301}\u{302}\u{303} ǅ ﬁ ß İ".to_owned()),
        Just("\0\r\n\t\u{2028}".to_owned()),
        Just("مرحبا 你好 こんにちは 한국어".to_owned()),
        Just("𝐤𝐢𝐥𝐥 ＭＹＳＥＬＦ".to_owned()),
        Just("diiiiie!!! $uicide @ss 100mg 988".to_owned()),
        "[a-z .!?',]{0,40}",
    ]
}

fn rules_only() -> Detector {
    Detector::builder().rules_only(true).build().unwrap()
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..8).prop_map(|parts| parts.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Never panics; scores are probabilities; every span is its text in bytes and UTF-16 units.
    #[test]
    fn scoring_never_panics_and_spans_match_in_bytes_and_utf16(text in text()) {
        checks::score(&rules_only(), &text);
    }

    #[test]
    fn normalized_ranges_map_inside_the_original(text in text(), a in 0usize..200, b in 0usize..200) {
        let normalized = Normalizer::default().normalize(&text);
        let len = normalized.as_str().len();
        let (start, end) = (a.min(b).min(len), a.max(b).min(len));
        let range = normalized.original_range(start..end);
        prop_assert!(range.start <= range.end && range.end <= text.len());
        prop_assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
    }

    #[test]
    fn batch_scoring_equals_scoring_one_by_one(texts in prop::collection::vec(text(), 0..12)) {
        let detector = rules_only();
        let batch = detector.score_batch(&texts);
        prop_assert_eq!(batch.len(), texts.len());
        for (text, report) in texts.iter().zip(&batch) {
            prop_assert_eq!(&detector.score(text), report);
        }
    }
}

/// A batch larger than the texts `score_batch` carries through its stages at once (1,024) comes back
/// whole and in order, each report equal to scoring its text alone.
#[test]
fn a_batch_of_several_chunks_equals_scoring_one_by_one() {
    let lines = [
        "see you at practice on tuesday",
        "I want to kill myself tonight",
        "you are such an 1d10t",
        "vaccines cause autism, look it up",
    ];
    let texts: Vec<String> = (0..2_600)
        .map(|i| format!("{} (post {i})", lines[i % lines.len()]))
        .collect();
    let detector = Detector::builder().engine(Engine::Fast).build().unwrap();
    let batch = detector.score_batch(&texts);
    assert_eq!(batch.len(), texts.len());
    for (text, report) in texts.iter().zip(&batch) {
        assert_eq!(&detector.score(text), report, "{text}");
    }
}

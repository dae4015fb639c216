//! Property tests of the rule engine: arbitrary Unicode never panics, evidence spans always map back to
//! what was typed, and batch scoring equals one-by-one scoring.

use proptest::prelude::*;
use safespace::{Detector, Normalizer};

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

    #[test]
    fn scoring_never_panics_and_scores_are_probabilities(text in text()) {
        let report = rules_only().score(&text);
        for score in report.scores.to_array() {
            prop_assert!((0.0..=1.0).contains(&score));
        }
        for score in report.labels.values() {
            prop_assert!((0.0..=1.0).contains(score));
        }
    }

    #[test]
    fn spans_lie_on_char_boundaries_and_match_in_utf16(text in text()) {
        let report = rules_only().score(&text);
        let utf16: Vec<u16> = text.encode_utf16().collect();
        for evidence in &report.evidence {
            prop_assert!(evidence.start <= evidence.end && evidence.end <= text.len());
            prop_assert!(text.is_char_boundary(evidence.start) && text.is_char_boundary(evidence.end));
            prop_assert_eq!(&text[evidence.start..evidence.end], evidence.text.as_str());
            let from_utf16 = String::from_utf16(&utf16[evidence.utf16_start..evidence.utf16_end]).unwrap();
            prop_assert_eq!(from_utf16, evidence.text.clone());
        }
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

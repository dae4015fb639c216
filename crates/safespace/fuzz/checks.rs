//! The properties every fuzz input must keep, shared by the fuzz targets (`fuzz_targets/`) and by the
//! stable test that replays the saved corpus in CI (`tests/fuzz_regressions.rs`).

use std::sync::OnceLock;

use safespace::{Detector, Normalizer};

/// The rules-only detector, built once per process.
pub fn rules_detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| {
        Detector::builder()
            .rules_only(true)
            .build()
            .expect("built-in rules load")
    })
}

/// The detector with the bundled model (needs ONNX Runtime), built once per process.
pub fn model_detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| {
        Detector::builder()
            .require_model(true)
            .build()
            .expect("the bundled model loads (is ONNX Runtime installed, or ORT_DYLIB_PATH set?)")
    })
}

/// Normalizing never panics, and every normalized piece maps back to a range of the input that lies on
/// character boundaries.
pub fn normalize(text: &str) {
    let normalized = Normalizer::default().normalize(text);
    let out = normalized.as_str();
    let mut at = 0;
    for ch in out.chars() {
        let range = normalized.original_range(at..at + ch.len_utf8());
        assert!(
            range.start <= range.end && range.end <= text.len(),
            "{range:?} outside the input"
        );
        assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
        at += ch.len_utf8();
    }
}

/// Scoring never panics, scores are probabilities, and every evidence span is the text it claims, in bytes and UTF-16 units.
pub fn score(detector: &Detector, text: &str) {
    let report = detector.score(text);
    for evidence in &report.evidence {
        assert_eq!(
            text.get(evidence.start..evidence.end),
            Some(evidence.text.as_str())
        );
        let utf16_start = text[..evidence.start].encode_utf16().count();
        let utf16_len = evidence.text.encode_utf16().count();
        assert_eq!(
            (evidence.utf16_start, evidence.utf16_end),
            (utf16_start, utf16_start + utf16_len)
        );
    }
    for score in report
        .scores
        .to_array()
        .iter()
        .chain(report.labels.values())
    {
        assert!((0.0..=1.0).contains(score), "score {score} out of range");
    }
}

/// A user rule file either loads or gives an error; it never panics.
pub fn rule_file(contents: &str) {
    if let Ok(detector) = Detector::builder()
        .rules_only(true)
        .add_rules_str("fuzz.toml", contents)
        .build()
    {
        score(&detector, "I want to die, you idiot, vaccines cause autism");
    }
}

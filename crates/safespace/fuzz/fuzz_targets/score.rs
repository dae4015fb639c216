//! The full rules-only `Detector::score` on arbitrary UTF-8.
#![no_main]

use std::sync::OnceLock;

#[path = "../checks.rs"]
mod checks;

static DETECTOR: OnceLock<safespace::Detector> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|text: &str| {
    let detector = DETECTOR.get_or_init(|| {
        safespace::Detector::builder()
            .rules_only(true)
            .build()
            .expect("built-in rules load")
    });
    checks::score(detector, text);
});

//! The full rules-only `Detector::score` on arbitrary UTF-8.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|text: &str| checks::score(checks::rules_detector(), text));

//! The full `Detector::score` with the bundled model (ONNX Runtime, found through `ORT_DYLIB_PATH`) on
//! arbitrary UTF-8: tokenization, windows over long texts and fusion, under the same checks as `score`.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|text: &str| checks::score(checks::model_detector(), text));

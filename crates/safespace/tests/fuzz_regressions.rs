//! Replays, on the stable toolchain, what the fuzz targets (`fuzz/`, nightly + cargo fuzz) check: every
//! saved crash input in `fuzz/regressions/<target>/` and the seed corpus (the functional and
//! adversarial suites) must keep the properties in `fuzz/checks.rs`. `fuzz/run.sh` fuzzes for longer and
//! saves any new crash input there.

use std::path::Path;

#[path = "../fuzz/checks.rs"]
mod checks;

/// UTF-8 inputs saved for `target` (the targets take `&str`; libFuzzer never passes them other bytes).
fn saved(target: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut inputs: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|path| String::from_utf8(std::fs::read(path).ok()?).ok())
        .collect();
    inputs.sort();
    inputs
}

fn seeds() -> Vec<String> {
    ["functional/suite.jsonl", "adversarial/suite.jsonl"]
        .iter()
        .flat_map(|suite| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../datasets")
                .join(suite);
            std::fs::read_to_string(path)
                .expect("suite is readable")
                .lines()
                .map(|line| {
                    let value: serde_json::Value = serde_json::from_str(line).unwrap();
                    value["text"].as_str().unwrap().to_owned()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn normalizer_keeps_its_offset_map_on_saved_and_seed_inputs() {
    for text in saved("normalize").iter().chain(&seeds()) {
        checks::normalize(text);
    }
}

#[test]
fn scoring_keeps_evidence_spans_exact_on_saved_and_seed_inputs() {
    let detector = checks::rules_detector();
    for text in saved("score").iter().chain(&seeds()) {
        checks::score(detector, text);
    }
}

/// The model path (tokenizer, windows, fusion) under the same checks; needs ONNX Runtime, like
/// `tests/model.rs`. Every fifth seed keeps the debug-build run short.
#[cfg(feature = "onnxruntime")]
#[test]
fn scoring_with_the_model_keeps_evidence_spans_exact_on_saved_and_seed_inputs() {
    let detector = checks::model_detector();
    for text in saved("score_model").iter().chain(seeds().iter().step_by(5)) {
        checks::score(detector, text);
    }
}

#[test]
fn rule_files_load_or_fail_cleanly_on_saved_inputs() {
    for contents in saved("rule_file") {
        checks::rule_file(&contents);
    }
    for builtin in [
        "self_harm",
        "harassment",
        "misinformation",
        "context",
        "topics",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("rules/{builtin}.toml"));
        let contents = std::fs::read_to_string(path).unwrap();
        // A built-in file loaded again as a user file collides with the built-in ids: a clean error.
        checks::rule_file(&contents);
    }
}

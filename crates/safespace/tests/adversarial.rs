//! Spelling tricks against the rules: `datasets/adversarial/suite.jsonl` holds the same crisis and
//! harassment sentences under each transform (`datasets/adversarial/generate.py`). Per transform, the
//! detection rate is measured against the clean form: of the sentences whose clean form is flagged for
//! their category, the share still flagged after the transform. Run with `--nocapture` for the table.

use std::collections::BTreeMap;

use safespace::{Category, Detector};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Case {
    text: String,
    clean: String,
    category: Category,
    transform: String,
}

/// The goal for every transform: at least 90 % of clean-form detection.
const GOAL: f64 = 0.9;

/// Transforms that do not reach the goal yet, with the floor they do reach. Leetspeak that replaces
/// most letters is ambiguous (`1` is `i` or `l`, `4m` is "am" or four metres); see the closing note of
/// the reliability issue for what would move it.
const BELOW_GOAL: &[(&str, f64)] = &[("leetspeak", 0.7), ("leetspeak_full", 0.3)];

fn load() -> Vec<Case> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../datasets/adversarial/suite.jsonl"
    );
    std::fs::read_to_string(path)
        .expect("adversarial suite is readable")
        .lines()
        .map(|line| serde_json::from_str(line).expect("valid suite line"))
        .collect()
}

#[test]
fn spelling_tricks_keep_at_least_90_percent_of_clean_detection() {
    let cases = load();
    let detector = Detector::builder().rules_only(true).build().unwrap();
    let tricked = detector.score_batch(&cases.iter().map(|c| c.text.as_str()).collect::<Vec<_>>());
    let clean = detector.score_batch(&cases.iter().map(|c| c.clean.as_str()).collect::<Vec<_>>());
    let mut per_transform: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for ((case, tricked), clean) in cases.iter().zip(&tricked).zip(&clean) {
        if !clean.is_flagged(case.category) {
            continue;
        }
        let entry = per_transform.entry(case.transform.as_str()).or_default();
        entry.0 += usize::from(tricked.is_flagged(case.category));
        entry.1 += 1;
    }
    println!("{:<22} {:>9} {:>6}", "transform", "detected", "rate");
    for (transform, (detected, total)) in &per_transform {
        let rate = *detected as f64 / *total as f64;
        println!("{transform:<22} {detected:>4}/{total:<4} {rate:>6.2}");
    }
    assert!(per_transform.len() >= 15, "every transform is present");
    for (transform, (detected, total)) in &per_transform {
        assert!(*total >= 30, "{transform}: only {total} clean detections");
        let rate = *detected as f64 / *total as f64;
        let floor = BELOW_GOAL
            .iter()
            .find(|(t, _)| t == transform)
            .map_or(GOAL, |(_, floor)| *floor);
        assert!(rate >= floor, "{transform}: {rate:.2} < {floor}");
    }
}

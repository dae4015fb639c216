//! Spelling tricks against the rules: `datasets/adversarial/suite.jsonl` holds the same crisis and
//! harassment sentences under each transform (`datasets/adversarial/generate.py`). Per transform, the
//! detection rate is measured against the clean form: of the sentences whose clean form is flagged for
//! their category, the share still flagged after the transform. Run with `--nocapture` for the table.
//!
//! The normalizer's leetspeak vocabulary was written alongside `clean.jsonl`; `fresh.jsonl` was written
//! after it, so its column shows how the vocabulary does on sentences it was not written for.

use std::collections::BTreeMap;

use safespace::{Category, Detector};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Case {
    text: String,
    clean: String,
    category: Category,
    transform: String,
    set: String,
}

/// The goal for every transform: at least 90 % of clean-form detection.
const GOAL: f64 = 0.9;

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
    // Per transform: (detected, clean detections) over all sentences, and over the fresh ones.
    let mut per_transform: BTreeMap<&str, [(usize, usize); 2]> = BTreeMap::new();
    for ((case, tricked), clean) in cases.iter().zip(&tricked).zip(&clean) {
        if !clean.is_flagged(case.category) {
            continue;
        }
        let entry = per_transform.entry(case.transform.as_str()).or_default();
        let detected = usize::from(tricked.is_flagged(case.category));
        for (tally, counts) in entry.iter_mut().zip([true, case.set == "fresh"]) {
            if counts {
                tally.0 += detected;
                tally.1 += 1;
            }
        }
    }
    let rate = |(detected, total): (usize, usize)| detected as f64 / total as f64;
    println!(
        "{:<22} {:>9} {:>6} {:>7}",
        "transform", "detected", "rate", "fresh"
    );
    for (transform, [all, fresh]) in &per_transform {
        let (detected, total) = *all;
        println!(
            "{transform:<22} {detected:>4}/{total:<4} {:>6.2} {:>7.2}",
            rate(*all),
            rate(*fresh)
        );
    }
    assert!(per_transform.len() >= 15, "every transform is present");
    for (transform, [all, fresh]) in &per_transform {
        assert!(
            all.1 >= 50 && fresh.1 >= 15,
            "{transform}: too few clean detections"
        );
        assert!(
            rate(*all) >= GOAL,
            "{transform}: {:.2} < {GOAL}",
            rate(*all)
        );
    }
}

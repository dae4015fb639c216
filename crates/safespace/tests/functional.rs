//! Runs the detector over the team-written functional suite (`datasets/functional/suite.jsonl`) and
//! checks per-tag accuracy against floors set from what the rule engine measurably reaches.
//!
//! A case is correct when the flagged categories equal its labels exactly. Run with `--nocapture` to
//! see the table. The last test also runs the bundled model, so it needs ONNX Runtime.

use std::collections::BTreeMap;
use std::path::Path;

use safespace::{Category, Detector, Engine, Report};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Case {
    text: String,
    self_harm: u8,
    harassment: u8,
    misinformation: u8,
    tag: String,
}

impl Case {
    fn expected(&self, category: Category) -> bool {
        match category {
            Category::SelfHarm => self.self_harm == 1,
            Category::Harassment => self.harassment == 1,
            Category::Misinformation => self.misinformation == 1,
        }
    }
}

/// Minimum share of cases per tag that must be fully correct (rules-only engine, peer_support policy).
/// The rule engine gets every case right at the time of writing; each floor allows one miss per tag so
/// that a rule change may trade one case for broader coverage, but not more without a conscious edit.
const FLOORS: &[(&str, f64)] = &[
    ("harassment.bullying", 0.91),
    ("harassment.identity_attack", 0.90),
    ("harassment.insult", 0.93),
    ("harassment.obfuscated", 0.87),
    ("harassment.threat", 0.91),
    ("misinformation.false_cure", 0.91),
    ("misinformation.health_falsehood", 0.90),
    ("misinformation.pseudo_professional", 0.90),
    ("misinformation.stigma_myth", 0.91),
    ("misinformation.treatment_discouragement", 0.91),
    ("negative.banter", 0.90),
    ("negative.counter_speech", 0.90),
    ("negative.debunk", 0.93),
    ("negative.distress_not_risk", 0.90),
    ("negative.everyday", 0.91),
    ("negative.fiction_news", 0.87),
    ("negative.gaming_sports", 0.91),
    ("negative.health_info", 0.91),
    ("negative.hyperbole", 0.87),
    ("negative.idiom", 0.95),
    ("negative.negation", 0.93),
    ("negative.past_recovery", 0.93),
    ("negative.prevention_news", 0.91),
    ("negative.quotation_reporting", 0.91),
    ("negative.reclaimed_identity", 0.91),
    ("negative.self_directed", 0.91),
    ("negative.supportive", 0.93),
    ("negative.technical", 0.91),
    ("negative.true_health", 0.91),
    ("self_harm.eating", 0.87),
    ("self_harm.encouragement", 0.92),
    ("self_harm.ideation", 0.95),
    ("self_harm.intent", 0.91),
    ("self_harm.method", 0.91),
    ("self_harm.obfuscated", 0.93),
    ("self_harm.plan_time", 0.92),
    ("self_harm.self_injury", 0.92),
    ("self_harm.third_person", 0.90),
];

fn load() -> Vec<Case> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../datasets/functional/suite.jsonl"
    );
    let text = std::fs::read_to_string(path).expect("functional suite is readable");
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("suite line {}: {e}", i + 1))
        })
        .collect()
}

#[test]
fn per_tag_accuracy_meets_floors() {
    let cases = load();
    assert!(cases.len() >= 400, "the suite has {} cases", cases.len());
    let detector = Detector::builder().rules_only(true).build().unwrap();
    let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    let reports = detector.score_batch(&texts);
    let mut per_tag: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for (case, report) in cases.iter().zip(&reports) {
        let mut correct = true;
        for category in Category::ALL {
            correct &= case.expected(category) == report.is_flagged(category);
        }
        let entry = per_tag.entry(case.tag.as_str()).or_default();
        entry.0 += usize::from(correct);
        entry.1 += 1;
        if !correct {
            misses.push(format!(
                "  [{}] {:?} -> {:?} {:?}",
                case.tag, case.text, report.flagged, report.scores
            ));
        }
    }
    println!("{:<45} {:>8} {:>6}", "tag", "correct", "acc");
    for (tag, (correct, total)) in &per_tag {
        println!(
            "{tag:<45} {correct:>4}/{total:<3} {:>6.3}",
            *correct as f64 / *total as f64
        );
    }
    for category in Category::ALL {
        let (precision, recall, f1) = precision_recall_f1(&cases, &reports, category);
        println!("{category:<15} precision {precision:.3} recall {recall:.3} F1 {f1:.3}");
    }
    println!("misses:\n{}", misses.join("\n"));
    for (tag, floor) in FLOORS {
        let (correct, total) = per_tag
            .get(tag)
            .unwrap_or_else(|| panic!("no cases tagged {tag}"));
        let accuracy = *correct as f64 / *total as f64;
        assert!(
            accuracy >= *floor,
            "{tag}: accuracy {accuracy:.3} is below its floor {floor}"
        );
    }
    for tag in per_tag.keys() {
        assert!(
            FLOORS.iter().any(|(t, _)| t == tag),
            "tag {tag} has no floor"
        );
    }
}

/// The bar for the engines on this suite. Per category, the full engine (rules + lexical tier + model) flags
/// every case the fast engine (rules + lexical tier) rightly flags, and at most the fusion budget of
/// cases negative for the category beyond the fast engine's: `suite_budget` in the model's
/// `fusion.json` (1 % of them for self-harm, none for the others; the rules get every case here, so
/// whatever the model adds on this suite is a false positive). The cascade flags exactly what the
/// full engine flags.
#[test]
fn the_full_engine_stays_within_the_fusion_budget_and_the_cascade_equals_it() {
    let cases = load();
    let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    let engine = |engine: Engine| {
        Detector::builder()
            .engine(engine)
            .require_model(engine != Engine::Fast)
            .build()
            .expect("the bundled model loads (is ONNX Runtime installed?)")
            .score_batch(&texts)
    };
    let (fast, full, auto) = (
        engine(Engine::Fast),
        engine(Engine::Full),
        engine(Engine::Auto),
    );
    let fusion: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../models/safespace-minilm-int8/fusion.json"),
        )
        .expect("the model's fusion.json is readable"),
    )
    .expect("fusion.json is JSON");
    for category in Category::ALL {
        let budget = fusion["categories"][category.as_str()]["suite_budget"]
            .as_u64()
            .expect("fusion.json gives each category's suite budget") as usize;
        for ((case, fast), full) in cases.iter().zip(&fast).zip(&full) {
            let caught = case.expected(category) && fast.is_flagged(category);
            assert!(
                !caught || full.is_flagged(category),
                "{category}: the full engine misses what the fast one catches: {}",
                case.text
            );
        }
        let (_, fast_fp, _) = confusion(&cases, &fast, category);
        let (_, full_fp, _) = confusion(&cases, &full, category);
        println!("{category}: false positives fast {fast_fp}, full {full_fp} (budget {budget})");
        assert!(
            full_fp <= fast_fp + budget,
            "{category}: full flags {full_fp} negatives, fast {fast_fp}, budget {budget}"
        );
    }
    for ((case, full), auto) in cases.iter().zip(&full).zip(&auto) {
        assert_eq!(full.flagged, auto.flagged, "{}", case.text);
    }
}

/// True positives, false positives and misses of `category`.
fn confusion(cases: &[Case], reports: &[Report], category: Category) -> (usize, usize, usize) {
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for (case, report) in cases.iter().zip(reports) {
        match (case.expected(category), report.is_flagged(category)) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            (false, false) => {}
        }
    }
    (tp, fp, fn_)
}

fn precision_recall_f1(cases: &[Case], reports: &[Report], category: Category) -> (f64, f64, f64) {
    let (tp, fp, fn_) = confusion(cases, reports, category);
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    let f1 = 2.0 * precision * recall / (precision + recall).max(f64::EPSILON);
    (precision, recall, f1)
}

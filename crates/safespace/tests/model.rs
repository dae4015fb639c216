//! The model path: loading, fallback, integrity checks, windowing and parity with Python's
//! onnxruntime. These tests need ONNX Runtime (`pip install onnxruntime==1.32.0`; `make test` installs
//! it) and fail without it, so that a CI run cannot pass without exercising the model.

use std::path::{Path, PathBuf};

use safespace::{
    Category, CategoryScores, Detector, Engine, Error, ModelArithmetic, ModelError, ModelFiles,
    Report, Tier,
};
use serde::Deserialize;

fn model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/safespace-minilm-int8")
}

/// A scratch model folder named after `tag`, holding copies of the shipped model's `files`.
fn scratch_model_dir(tag: &str, files: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("safespace-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for file in files {
        std::fs::copy(model_dir().join(file), dir.join(file)).unwrap();
    }
    dir
}

/// The full engine: the model reads every text.
fn with_model() -> Detector {
    Detector::builder()
        .engine(Engine::Full)
        .require_model(true)
        .build()
        .expect("the bundled model loads (is ONNX Runtime installed?)")
}

#[test]
fn the_default_detector_runs_the_bundled_model() {
    let report = with_model().score("I bought the pills, tonight's the night");
    assert_eq!(report.engine.mode, "model+rules");
    assert!(report
        .engine
        .model
        .as_deref()
        .unwrap()
        .starts_with("safespace-minilm-int8@"));
    assert!(report.engine.model_scores.is_some());
    assert!(report.is_flagged(Category::SelfHarm));
    assert_eq!(report.severity, safespace::Severity::Critical);
}

#[test]
fn the_model_lifts_risk_the_rules_miss_and_context_holds_it_back() {
    let detector = with_model();
    let rules = Detector::builder().rules_only(true).build().unwrap();
    // Phrased so that no rule matches: the model alone carries it.
    let text = "my whole family would honestly be relieved if they never had to see me again, i'm done trying";
    let (fused, alone) = (detector.score(text), rules.score(text));
    assert!(
        fused.scores.self_harm > alone.scores.self_harm,
        "{:?} vs {:?}",
        fused.scores,
        alone.scores
    );
    // A support message that mentions suicide: the supportive context damps the model.
    let support =
        detector.score("If you are having thoughts of suicide, please call or text 988 tonight");
    let raw = support.engine.model_scores.unwrap().self_harm;
    assert!(
        support.scores.self_harm < raw,
        "fused {} raw {raw}",
        support.scores.self_harm
    );
    assert!(support.flagged.is_empty(), "{:?}", support.flagged);
}

#[test]
fn despair_and_identity_in_the_first_person_are_not_harassment() {
    let detector = with_model();
    let despair = detector.score("nobody would miss me if i just stopped existing tomorrow");
    assert!(
        despair.is_flagged(Category::SelfHarm),
        "{:?}",
        despair.scores
    );
    assert!(
        !despair.is_flagged(Category::Harassment),
        "{:?}",
        despair.scores
    );
    let identity = detector.score("as a queer woman i'm tired of explaining myself to everyone");
    assert!(identity.flagged.is_empty(), "{:?}", identity.scores);
}

/// Survivors' stories: the rules find nothing in them, and the combiner reads the "past" context
/// and holds its probability below the model's, which reads suicide as a topic: at least half a
/// logit lower (with model 0.2.4, 1.5 for the attempt anniversary, 0.99 → 0.94, and 0.8 for the
/// faded scars, 0.06 → 0.03). Under `general`, where the model cannot flag self-harm alone, nothing
/// is flagged; under `peer_support` an attempt anniversary can still get resources (the model
/// card's known failure modes). A target reporting abuse is not flagged.
#[test]
fn survivors_and_targets_telling_their_story_are_held_back() {
    let full = with_model();
    let general = Detector::builder()
        .engine(Engine::Full)
        .policy(safespace::Policy::general())
        .require_model(true)
        .build()
        .unwrap();
    for story in [
        "Two years ago today I attempted. I'm still here, I have a job I like and a dog who needs me.",
        "I used to self-harm in high school. My scars have faded and I wear short sleeves now.",
    ] {
        let report = full.score(story);
        assert_eq!(report.engine.rules_scores.self_harm, 0.0, "{story}");
        let fusion = report.engine.fusion.as_ref().unwrap();
        let contexts = &fusion.contexts[&Category::SelfHarm];
        assert!(contexts.contains(&safespace::ContextKind::Past), "{story}: {contexts:?}");
        let model = report.engine.model_scores.unwrap().self_harm;
        let combined = fusion.combined.self_harm;
        let logit = |p: f32| (p / (1.0 - p)).ln();
        assert!(
            logit(combined) < logit(model) - 0.5,
            "{story}: the combiner gives {combined}, the model {model}"
        );
        assert!(!report.is_flagged(Category::Harassment), "{story}");
        assert!(general.score(story).flagged.is_empty(), "{story}");
    }
    let target =
        "Someone in my DMs keeps calling me a fat ugly cow. I've blocked three accounts already.";
    let report = full.score(target);
    assert!(report.flagged.is_empty(), "{target}: {:?}", report.scores);
}

#[test]
fn a_missing_model_falls_back_to_the_fast_engine_with_a_reason() {
    let detector = Detector::builder()
        .model_dir("/nonexistent/model")
        .build()
        .unwrap();
    assert!(!detector.uses_model());
    let report = detector.score("kys");
    assert_eq!(report.engine.mode, "fast");
    assert!(report
        .engine
        .note
        .as_deref()
        .unwrap()
        .contains("model.onnx"));
    assert!(report.is_flagged(Category::SelfHarm), "rules still work");
    let err = Detector::builder()
        .model_dir("/nonexistent/model")
        .require_model(true)
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::Model(ModelError::NotFound(_))),
        "{err}"
    );
}

#[test]
fn a_corrupted_model_file_is_refused() {
    let dir = scratch_model_dir("corrupt", &["tokenizer.json", "manifest.json"]);
    let model = std::fs::read(model_dir().join("model.onnx")).unwrap();
    std::fs::write(dir.join("model.onnx"), &model[..model.len() / 2]).unwrap();
    let err = Detector::builder()
        .model_dir(&dir)
        .require_model(true)
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::Model(ModelError::Damaged(_)))
            && err.to_string().contains("does not match manifest.json"),
        "{err}"
    );
    let fallback = Detector::builder().model_dir(&dir).build().unwrap();
    assert_eq!(fallback.score("hello").engine.mode, "fast");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn long_texts_are_windowed_and_spans_still_point_into_the_original() {
    let filler = "We talked about the weather and the garden for a while. ".repeat(60);
    let text = format!("{filler}Then she said: I want to die. {filler}");
    let report = with_model().score(&text);
    assert_eq!(report.engine.mode, "model+rules");
    let evidence = report
        .evidence
        .iter()
        .find(|e| e.rule.contains("want_to_die"))
        .unwrap();
    assert_eq!(&text[evidence.start..evidence.end], "want to die");
}

#[test]
fn batches_keep_order_and_match_single_scoring_within_float_rounding() {
    let long = "I keep telling myself tomorrow will be different. ".repeat(30);
    let texts = [
        "kys",
        "have a lovely day",
        "I want to die",
        "",
        "vaccines cause autism",
        "same length",
        "also samey",
        "nobody would notice if I was gone, I have the pills ready for tonight",
        long.as_str(),
    ];
    // The int8 graph's activation scales are fixed, so padding cannot move them either.
    for detector in [with_model(), with_int8_model()] {
        let batch = detector.score_batch(&texts);
        assert_eq!(batch.len(), texts.len());
        for (text, report) in texts.iter().zip(&batch) {
            assert!(report.engine.model_scores.is_some(), "{text}");
            assert_equal_up_to_float_rounding(text, &detector.score(text), report);
        }
    }
}

/// `single` and `batched` (the same text scored alone and in a batch) agree: padded batches change
/// the model's scores only through the order of float sums, and nothing else.
fn assert_equal_up_to_float_rounding(text: &str, single: &Report, batched: &Report) {
    let close = |a: &CategoryScores, b: &CategoryScores| {
        Category::ALL
            .iter()
            .all(|&c| (a.get(c) - b.get(c)).abs() <= 1e-4)
    };
    assert!(close(&single.scores, &batched.scores), "{text}");
    match (&single.engine.model_scores, &batched.engine.model_scores) {
        (Some(a), Some(b)) => assert!(close(a, b), "{text}: {a:?} vs {b:?}"),
        (a, b) => assert_eq!(a, b, "{text}"),
    }
    assert_eq!(single.flagged, batched.flagged, "{text}");
    assert_eq!(single.evidence, batched.evidence, "{text}");
    assert_eq!(single.action, batched.action, "{text}");
    assert_eq!(single.engine.tiers, batched.engine.tiers, "{text}");
}

#[derive(Deserialize)]
struct ParityCase {
    text: String,
    self_harm: f32,
    harassment: f32,
    misinformation: f32,
}

/// The parity fixture `name` (`models/training/parity.py`).
fn parity_cases(name: &str) -> Vec<ParityCase> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The largest difference between `detector`'s calibrated model probabilities and the fixture's.
fn largest_parity_gap(detector: &Detector, cases: &[ParityCase]) -> f32 {
    let mut worst = 0.0f32;
    for case in cases {
        let got = detector.score(&case.text).engine.model_scores.unwrap();
        for (g, want) in
            got.to_array()
                .into_iter()
                .zip([case.self_harm, case.harassment, case.misinformation])
        {
            worst = worst.max((g - want).abs());
        }
    }
    worst
}

#[test]
fn scores_match_python_onnxruntime_within_5e_3() {
    let cases = parity_cases("parity.json");
    assert_eq!(cases.len(), 50);
    let worst = largest_parity_gap(&with_model(), &cases);
    assert!(
        worst <= 5e-3,
        "largest difference from Python onnxruntime: {worst}"
    );
}

/// The full engine on the int8 graph.
fn with_int8_model() -> Detector {
    Detector::builder()
        .engine(Engine::Full)
        .model_arithmetic(ModelArithmetic::Int8)
        .require_model(true)
        .build()
        .expect("the bundled int8 graph loads on ONNX Runtime")
}

#[test]
fn int8_arithmetic_runs_its_own_graph_and_matches_python_onnxruntime_on_it() {
    let int8 = with_int8_model();
    let text = "I bought the pills, tonight's the night";
    let (a, b) = (int8.score(text), with_model().score(text));
    let (a_id, b_id) = (a.engine.model.as_deref(), b.engine.model.as_deref());
    assert!(
        a_id.is_some_and(|id| id.starts_with("safespace-minilm-int8@")) && a_id != b_id,
        "{a_id:?} vs {b_id:?}"
    );
    assert!(a.is_flagged(Category::SelfHarm));
    let cases = parity_cases("parity-int8.json");
    assert_eq!(cases.len(), 50);
    let worst = largest_parity_gap(&int8, &cases);
    assert!(
        worst <= 5e-3,
        "largest difference from Python onnxruntime: {worst}"
    );
}

#[test]
fn int8_scores_stay_near_the_fp32_graphs() {
    let (int8, fp32) = (with_int8_model(), with_model());
    let (mut total, mut count, mut same_flags) = (0.0f32, 0, 0);
    let cases = parity_cases("parity.json");
    for case in &cases {
        let (a, b) = (int8.score(&case.text), fp32.score(&case.text));
        let (pa, pb) = (
            a.engine.model_scores.unwrap(),
            b.engine.model_scores.unwrap(),
        );
        for (x, y) in pa.to_array().into_iter().zip(pb.to_array()) {
            total += (x - y).abs();
            count += 1;
        }
        same_flags += usize::from(a.flagged == b.flagged);
    }
    let mean = total / count as f32;
    assert!(mean <= 0.03, "mean difference from the fp32 graph: {mean}");
    assert!(
        same_flags >= cases.len() - 2,
        "{same_flags} of {} texts flagged alike",
        cases.len()
    );
}

#[test]
fn int8_arithmetic_is_refused_where_there_is_no_int8_graph() {
    let files = ModelFiles {
        model: std::fs::read(model_dir().join("model.onnx")).unwrap(),
        tokenizer: std::fs::read(model_dir().join("tokenizer.json")).unwrap(),
        manifest: std::fs::read(model_dir().join("manifest.json")).unwrap(),
    };
    let in_memory = Detector::builder()
        .model_files(files)
        .model_arithmetic(ModelArithmetic::Int8)
        .build()
        .unwrap();
    let why = in_memory.model_unavailable_reason().unwrap();
    assert!(
        matches!(why, ModelError::NotFound(_)) && why.to_string().contains("ModelFiles"),
        "{why}"
    );

    let dir = scratch_model_dir("fp32-only", &["model.onnx", "tokenizer.json"]);
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(model_dir().join("manifest.json")).unwrap()).unwrap();
    manifest.as_object_mut().unwrap().remove("int8");
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    let builder = || Detector::builder().model_dir(&dir).engine(Engine::Full);
    let err = builder()
        .model_arithmetic(ModelArithmetic::Int8)
        .require_model(true)
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::Model(ModelError::NotFound(_)))
            && err.to_string().contains("no int8 graph"),
        "{err}"
    );
    assert!(builder().require_model(true).build().unwrap().uses_model());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_cascade_sends_risky_text_to_the_model_and_answers_everyday_text_fast() {
    let auto = Detector::builder().require_model(true).build().unwrap();
    assert_eq!(auto.engine(), Engine::Auto);
    let full = with_model();
    let plain_ideation = "honestly i think about dying every single day now";
    let screened = auto.score(plain_ideation);
    assert_eq!(
        screened.engine.rules_scores.self_harm, 0.0,
        "no rule reads it"
    );
    assert_eq!(
        screened.engine.tiers,
        [Tier::Rules, Tier::Lexical, Tier::Model]
    );
    let full_report = full.score(plain_ideation);
    assert_eq!(
        full_report.engine.tiers,
        [Tier::Rules, Tier::Lexical, Tier::Model],
        "the full engine fuses both learned tiers"
    );
    assert!(full_report.engine.lexical_scores.is_some());
    assert_eq!(
        screened.scores, full_report.scores,
        "the model's answer, fused as in full"
    );
    assert!(
        screened.is_flagged(Category::SelfHarm),
        "{:?}",
        screened.scores
    );
    // The rules flag this one already and the model cannot unflag it: the fast engine's answer
    // is the full engine's decision.
    let crisis = "I bought the pills, tonight's the night";
    let (fast_answer, model_answer) = (auto.score(crisis), full.score(crisis));
    assert_eq!(fast_answer.engine.tiers, [Tier::Rules, Tier::Lexical]);
    assert!(fast_answer.is_flagged(Category::SelfHarm));
    assert_eq!(fast_answer.flagged, model_answer.flagged);
    assert_eq!(fast_answer.action, model_answer.action);
    assert_eq!(fast_answer.severity, model_answer.severity);
    assert_eq!(fast_answer.scores.self_harm, model_answer.scores.self_harm);
    let everyday = auto.score("see you at practice on tuesday, bring the blue shirts");
    assert_eq!(everyday.engine.tiers, [Tier::Rules, Tier::Lexical]);
    assert_eq!(everyday.engine.mode, "fast");
    assert!(
        everyday.engine.note.is_none(),
        "the model was not wanted there"
    );
    for blank in ["", "   \n "] {
        assert_eq!(auto.score(blank).engine.tiers, [Tier::Rules, Tier::Lexical]);
    }
    let texts = [
        crisis,
        "see you at practice",
        "kys",
        "",
        "vaccines cause autism",
        "you are a worthless idiot and everyone knows it",
        plain_ideation,
    ];
    let batch = auto.score_batch(&texts);
    assert!(batch.iter().any(|r| r.engine.tiers.contains(&Tier::Model)));
    for (text, report) in texts.iter().zip(&batch) {
        assert_equal_up_to_float_rounding(text, &auto.score(text), report);
        if !report.engine.tiers.contains(&Tier::Model) {
            // Left unread only where the model could not change the decision (or the screen says
            // it would not): here, the full engine's decision.
            let full_report = full.score(text);
            assert_eq!(report.flagged, full_report.flagged, "{text}");
            assert_eq!(report.severity, full_report.severity, "{text}");
            assert_eq!(report.action, full_report.action, "{text}");
        }
    }
}

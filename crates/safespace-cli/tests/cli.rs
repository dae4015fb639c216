//! Runs the `safespace` binary as a user would.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn safespace(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_safespace"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout_lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn scores_one_sentence_as_pretty_json() {
    let output = safespace(&["score", "I bought the pills, tonight's the night"], b"");
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["severity"], "critical");
    // The rules flag it already, so the default cascade answers without the model; text the rules
    // do not settle goes to the bundled model.
    assert_eq!(report["engine"]["mode"], "fast");
    assert!(String::from_utf8_lossy(&output.stdout).contains("\n  \"scores\""));
    let unsettled = safespace(
        &["score", "--compact", "i think about dying every day"],
        b"",
    );
    let report: serde_json::Value = serde_json::from_slice(&unsettled.stdout).unwrap();
    assert_eq!(report["engine"]["mode"], "model+rules", "{report}");
}

#[test]
fn the_fast_engine_needs_no_model_and_a_missing_model_is_reported() {
    for flags in [&["--engine", "fast"][..], &["--rules-only"]] {
        let output = safespace(&[&["score", "--compact", "kys"], flags].concat(), b"");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["engine"]["mode"], "fast");
        assert_eq!(
            report["engine"]["tiers"],
            serde_json::json!(["rules", "lexical"])
        );
        assert!(stderr(&output).is_empty(), "{}", stderr(&output));
    }
    let conflict = safespace(&["score", "--engine", "full", "--rules-only", "kys"], b"");
    assert!(
        stderr(&conflict).contains("cannot be used with"),
        "{}",
        stderr(&conflict)
    );
    let missing = safespace(
        &["score", "--model", "/nonexistent", "--compact", "kys"],
        b"",
    );
    assert!(
        stderr(&missing).contains("warning: scoring with the fast engine"),
        "{}",
        stderr(&missing)
    );
    let required = safespace(
        &["score", "--model", "/nonexistent", "--require-model", "kys"],
        b"",
    );
    assert!(!required.status.success());
    assert!(
        stderr(&required).contains("the model could not be loaded"),
        "{}",
        stderr(&required)
    );
}

#[test]
fn the_int8_graph_is_chosen_with_model_arithmetic() {
    let model_of = |arithmetic: &str| {
        let args = [
            "score",
            "--compact",
            "--engine",
            "full",
            "--model-arithmetic",
            arithmetic,
        ];
        let output = safespace(
            &[&args[..], &["i think about dying every day"]].concat(),
            b"",
        );
        assert!(output.status.success(), "{}", stderr(&output));
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(
            report["flagged"],
            serde_json::json!(["self_harm"]),
            "{report}"
        );
        report["engine"]["model"].as_str().unwrap().to_owned()
    };
    assert_ne!(model_of("int8"), model_of("fp32"));
    let unknown = safespace(&["score", "--model-arithmetic", "int4", "kys"], b"");
    assert!(
        !unknown.status.success() && stderr(&unknown).contains("[possible values: fp32, int8]"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn scores_jsonl_from_stdin_in_order_with_passthrough_fields() {
    let input = b"{\"id\":\"a\",\"text\":\"kys\"}\n{\"id\":\"b\",\"text\":\"have a lovely day\",\"meta\":{\"x\":1}}\n";
    let output = safespace(&["score", "--input", "-", "--threads", "2"], input);
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[0]["line"], 1);
    assert_eq!(lines[0]["report"]["flagged"][0], "self_harm");
    assert_eq!(lines[1]["meta"]["x"], 1);
    assert_eq!(lines[1]["report"]["action"], "allow");
}

#[test]
fn a_bad_record_fails_with_its_line_number_by_default() {
    let input = b"{\"text\":\"fine\"}\n{\"body\":\"no text\"}\n{\"text\":\"never reached\"}\n";
    let output = safespace(&["score", "--input", "-"], input);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("line 2: missing field `text`"),
        "{}",
        stderr(&output)
    );
    assert_eq!(stdout_lines(&output).len(), 1);
}

#[test]
fn skip_mode_keeps_a_line_for_every_record() {
    let mut input = b"{\"text\":\"ok\"}\n{\"text\":\"\xff\xfe\"}\nnot json\n{\"text\":\"you are such an idiot\"}\n".to_vec();
    input.extend_from_slice(b"{\"text\":\"nul \\u0000 and bidi \\u202e kys\"}\n");
    let output = safespace(&["score", "--input", "-", "--on-error", "skip"], &input);
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 5);
    assert!(lines[1]["error"]
        .as_str()
        .unwrap()
        .contains("invalid UTF-8"));
    assert!(lines[2]["error"].as_str().unwrap().starts_with("bad JSON"));
    assert_eq!(lines[3]["report"]["flagged"][0], "harassment");
    assert_eq!(lines[4]["report"]["flagged"][0], "self_harm");
    assert!(stderr(&output).contains("2 of 5 records could not be scored"));
}

#[test]
fn records_over_the_size_limit_are_bad_records() {
    let input = b"{\"text\":\"kys\"}\n{\"text\":\"a text longer than twenty bytes\"}\n";
    let args = [
        "score",
        "--rules-only",
        "--max-input-bytes",
        "20",
        "--input",
        "-",
    ];
    let failed = safespace(&args, input);
    assert!(!failed.status.success());
    assert!(stderr(&failed).contains("line 2: the text is 31 bytes, over the limit of 20 bytes"));
    let skipped = safespace(&[&args[..], &["--on-error", "skip"]].concat(), input);
    let lines = stdout_lines(&skipped);
    assert_eq!(lines[0]["report"]["flagged"][0], "self_harm");
    assert!(lines[1]["error"]
        .as_str()
        .unwrap()
        .contains("over the limit"));
    let single = safespace(
        &["score", "--rules-only", "--max-input-bytes", "2", "kys"],
        b"",
    );
    assert!(stderr(&single).contains("over the limit of 2 bytes"));
}

#[test]
fn csv_input_uses_the_chosen_column() {
    let dir = std::env::temp_dir().join(format!("safespace-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("posts.csv");
    std::fs::write(
        &path,
        "post_id,body\n1,\"I want to die, honestly\"\n2,nice weather\n",
    )
    .unwrap();
    let output = safespace(
        &[
            "score",
            "--input",
            path.to_str().unwrap(),
            "--column",
            "body",
        ],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = stdout_lines(&output);
    assert_eq!(lines[0]["post_id"], "1");
    assert_eq!(lines[0]["report"]["flagged"][0], "self_harm");
    assert_eq!(lines[1]["line"], 3);
    let missing = safespace(&["score", "--input", path.to_str().unwrap()], b"");
    assert!(
        stderr(&missing).contains("no column `text`"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn policies_thresholds_and_locales_apply() {
    let output = safespace(
        &[
            "score",
            "--policy",
            "strict",
            "--locale",
            "AU",
            "--compact",
            "I want to die",
        ],
        b"",
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["resources"][0]["region"], "AU");
    let raised = safespace(
        &["score", "--threshold", "self_harm=0.99", "I want to die"],
        b"",
    );
    let report: serde_json::Value = serde_json::from_slice(&raised.stdout).unwrap();
    assert_eq!(report["flagged"].as_array().unwrap().len(), 0);
    let bad = safespace(&["score", "--threshold", "self_harm=high", "x"], b"");
    assert!(stderr(&bad).contains("not a number"), "{}", stderr(&bad));
}

#[test]
fn user_rule_files_are_validated_and_rules_can_be_disabled() {
    let dir = std::env::temp_dir().join(format!("safespace-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[[rule]]\nid = 'ours.x'\nlabels = ['harassment/insult']\npatterns = ['(oops']\n",
    )
    .unwrap();
    let output = safespace(&["score", "--rules", bad.to_str().unwrap(), "x"], b"");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("bad.toml:4: in `ours.x`"),
        "{}",
        stderr(&output)
    );
    let listing = safespace(&["rules"], b"");
    assert!(String::from_utf8_lossy(&listing.stdout)
        .lines()
        .any(|l| l == "idiom.figurative"));
    let joke = "I'll kill you if you spoil the ending";
    let kept = safespace(&["score", "--compact", joke], b"");
    let report: serde_json::Value = serde_json::from_slice(&kept.stdout).unwrap();
    assert!(report["evidence"].as_array().unwrap().is_empty());
    let disabled = safespace(
        &["score", "--disable", "idiom.figurative", "--compact", joke],
        b"",
    );
    let report: serde_json::Value = serde_json::from_slice(&disabled.stdout).unwrap();
    assert_eq!(report["evidence"][0]["subcategory"], "threat");
}

#[test]
fn missing_text_and_input_is_a_clear_error() {
    let output = safespace(&["score"], b"");
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--input"), "{}", stderr(&output));
}

#[test]
fn eval_measures_the_functional_suite() {
    let suite = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../datasets/functional/suite.jsonl"
    );
    let output = safespace(&["eval", "--input", suite, "--rules-only", "--json"], b"");
    assert!(output.status.success(), "{}", stderr(&output));
    let results: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(results["records"], 467);
    let self_harm = &results["categories"]["self_harm"];
    assert_eq!(self_harm["n"], 467);
    assert_eq!(self_harm["positives"], 119);
    assert!(self_harm["roc_auc"].as_f64().unwrap() > 0.9);
    assert!(results["tags"]["negative.idiom"]["n"].as_u64().unwrap() >= 10);
    let table = safespace(&["eval", "--input", suite, "--rules-only"], b"");
    assert!(String::from_utf8_lossy(&table.stdout).contains("recall ≥ 0.95"));
}

#[test]
fn eval_report_writes_a_page_with_svg_plots_per_category() {
    let suite = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../datasets/functional/suite.jsonl"
    );
    let dir = std::env::temp_dir().join(format!("safespace-report-{}", std::process::id()));
    let dir_arg = dir.to_str().unwrap();
    let output = safespace(
        &[
            "eval",
            "--input",
            suite,
            "--rules-only",
            "--report",
            dir_arg,
        ],
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let page = std::fs::read_to_string(dir.join("index.html")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    for category in ["self_harm", "harassment", "misinformation"] {
        assert!(page.contains(&format!("<title>ROC curve, {category}</title>")));
        assert!(page.contains(&format!("<title>Reliability, {category}</title>")));
    }
    assert_eq!(page.matches("<svg").count(), 6);
    assert_eq!(page.matches("<svg").count(), page.matches("</svg>").count());
    assert!(!page.contains("<script"));
    assert!(page.contains("<td>self_harm</td><td>467</td><td>119</td>"));
}

#[test]
fn eval_reads_csv_labels_skips_empty_ones_and_names_bad_ones() {
    // self_harm scores: kys and the crisis post high, "nice day" 0; the empty label leaves a record out.
    let csv = "body,self_harm\nkys,1\n\"I bought the pills, tonight's the night\",1\nnice day,0\nhello,\n";
    let args = [
        "eval",
        "--input",
        "-",
        "--format",
        "csv",
        "--text-column",
        "body",
    ];
    let output = safespace(
        &[
            &args[..],
            &["--label-columns", "self_harm", "--rules-only", "--json"],
        ]
        .concat(),
        csv.as_bytes(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let results: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let e = &results["categories"]["self_harm"];
    assert_eq!(
        (e["n"].as_u64(), e["positives"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(e["roc_auc"], 1.0);
    assert_eq!(e["at_threshold"]["tp"], 2);
    let bad = safespace(&args, b"body,self_harm\nkys,maybe\n");
    assert!(
        stderr(&bad).contains("line 2: label `maybe` is not 0/1"),
        "{}",
        stderr(&bad)
    );
}

/// A community whose members say "catching the bus" for suicide: 120 labeled lines, half of them
/// the coded phrase in a risky sentence, half ordinary talk of buses.
fn coded_phrase_records() -> String {
    let openers = [
        "honestly", "tonight", "i think", "maybe", "so yeah", "lately",
    ];
    let risky = [
        "i am catching the bus for good",
        "nobody will miss me when i catch the bus",
        "i have decided to catch the bus this week",
        "catching the bus is the only way out now",
        "ready to catch the bus and be done",
    ];
    let ordinary = [
        "the bus was late again this morning",
        "which bus goes to the library",
        "i caught the early bus to work",
        "the bus driver was really friendly",
        "missed the bus so i walked home",
    ];
    let mut lines = String::new();
    for (i, opener) in openers.iter().cycle().take(60).enumerate() {
        for (text, label) in [(risky[i % 5], 1), (ordinary[i % 5], 0)] {
            lines += &format!("{{\"text\": \"{opener} {text} #{i}\", \"self_harm\": {label}}}\n");
        }
    }
    lines
}

#[test]
fn fit_refits_the_lexical_tier_and_score_loads_it() {
    let dir = std::env::temp_dir().join(format!("safespace-fit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("ours.jsonl");
    std::fs::write(&input, coded_phrase_records()).unwrap();
    let tier = dir.join("ours-tier");
    let (input_arg, tier_arg) = (input.to_str().unwrap(), tier.to_str().unwrap());
    let fit = safespace(
        &[
            "fit",
            "--input",
            input_arg,
            "--out",
            tier_arg,
            "--label-columns",
            "self_harm",
            "--l2",
            "1e-3",
        ],
        b"",
    );
    assert!(fit.status.success(), "{}", stderr(&fit));
    let printed = String::from_utf8_lossy(&fit.stdout);
    assert!(
        printed.contains("fitted ours-tier@1 on 96 records"),
        "{printed}"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tier.join("manifest.json")).unwrap()).unwrap();
    let measured = &manifest["holdout"]["categories"]["self_harm"];
    assert_eq!(measured["n"], 24);
    let auc = |when: &str| measured[when]["roc_auc"].as_f64().unwrap();
    assert!(auc("after") > auc("before"), "{measured}");
    assert_eq!(
        std::fs::read_to_string(tier.join("holdout.jsonl"))
            .unwrap()
            .lines()
            .count(),
        24
    );

    let coded = "so yeah i am catching the bus for good tomorrow";
    let report = |extra: &[&str]| {
        let output = safespace(
            &[&["score", "--engine", "fast", "--compact", coded], extra].concat(),
            b"",
        );
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    let (before, after) = (report(&[]), report(&["--lexical", tier_arg]));
    assert_eq!(after["engine"]["lexical"], "ours-tier@1");
    let p = |r: &serde_json::Value| r["engine"]["lexical_scores"]["self_harm"].as_f64().unwrap();
    assert!(p(&after) > p(&before), "{} -> {}", p(&before), p(&after));
    let missing = safespace(&["score", "--lexical", "/nonexistent", "kys"], b"");
    assert!(
        stderr(&missing).contains("the lexical tier could not be loaded"),
        "{}",
        stderr(&missing)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

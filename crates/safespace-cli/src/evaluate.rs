//! `safespace eval`: the detector measured on the user's labeled data.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use safespace::eval::{evaluate, parse_label, Evaluation};
use safespace::{Category, Detector};
use serde::Serialize;
use serde_json::Value;

use crate::html;
use crate::options::{EvalArgs, Format, LabeledInput};
use crate::records::open_records;

/// What `eval` prints with `--json`.
#[derive(Debug, Serialize)]
struct Results {
    records: usize,
    policy: &'static str,
    categories: BTreeMap<&'static str, Evaluation>,
    /// Per `tag`: records, and records whose flags equal their labels in every measured category.
    tags: BTreeMap<String, TagAccuracy>,
}

#[derive(Debug, Default, Serialize)]
struct TagAccuracy {
    n: usize,
    correct: usize,
    /// `correct / n`, filled in once every record is counted.
    accuracy: f64,
}

/// One labeled record: its label per measured category (`None` when empty) and its tag.
pub struct Labeled {
    pub line: u64,
    pub text: String,
    pub labels: Vec<Option<bool>>,
    pub tag: Option<String>,
}

pub fn run(args: &EvalArgs, detector: &Detector) -> Result<ExitCode> {
    let categories = parse_categories(&args.labeled.label_columns)?;
    if !(0.0..=1.0).contains(&args.target_recall) {
        bail!("--target-recall must be between 0 and 1");
    }
    let records = read_labeled(&args.labeled)?;
    let reports =
        detector.try_score_batch(&records.iter().map(|r| r.text.as_str()).collect::<Vec<_>>());
    let mut scores = vec![Vec::new(); categories.len()];
    let mut labels = vec![Vec::new(); categories.len()];
    let mut tags: BTreeMap<String, TagAccuracy> = BTreeMap::new();
    for (record, report) in records.iter().zip(reports) {
        let report = report.with_context(|| format!("line {}", record.line))?;
        let mut correct = true;
        for (k, category) in categories.iter().enumerate() {
            let Some(label) = record.labels[k] else {
                continue;
            };
            scores[k].push(report.scores.get(*category));
            labels[k].push(label);
            correct &= report.is_flagged(*category) == label;
        }
        if let Some(tag) = &record.tag {
            let entry = tags.entry(tag.clone()).or_default();
            entry.n += 1;
            entry.correct += usize::from(correct);
        }
    }
    for tag in tags.values_mut() {
        tag.accuracy = tag.correct as f64 / tag.n as f64;
    }
    let results = Results {
        records: records.len(),
        policy: detector.policy().name().as_str(),
        categories: categories
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let threshold = detector.policy().threshold(*c);
                (
                    c.as_str(),
                    evaluate(&scores[k], &labels[k], threshold, args.target_recall),
                )
            })
            .collect(),
        tags,
    };
    if let Some(dir) = &args.report {
        let measured: Vec<html::Measured> = categories
            .iter()
            .enumerate()
            .map(|(k, c)| html::Measured {
                category: c.as_str(),
                evaluation: &results.categories[c.as_str()],
                scores: &scores[k],
                labels: &labels[k],
            })
            .collect();
        let title = format!(
            "safespace eval: {}, {} records, policy {}",
            args.labeled.input.display(),
            results.records,
            results.policy
        );
        let page = html::write(dir, &title, &measured)
            .with_context(|| format!("cannot write the report in {}", dir.display()))?;
        eprintln!("report: {}", page.display());
    }
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &results)?;
        writeln!(out)?;
    } else {
        write_tables(&mut out, &results, args.target_recall)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The labeled records of a JSONL or CSV file: the text, a label per label column, and the `tag`
/// field.
pub fn read_labeled(args: &LabeledInput) -> Result<Vec<Labeled>> {
    let LabeledInput {
        input,
        format,
        column,
        label_columns,
    } = args;
    let mut out = Vec::new();
    for record in open_records(input, Format::of(input, *format), column)? {
        let record = record?;
        let text = record
            .text
            .map_err(|problem| anyhow::anyhow!("line {}: {problem}", record.line))?;
        let labels = label_columns
            .iter()
            .map(|column| label(record.passthrough.get(column)))
            .collect::<Result<Vec<_>, String>>()
            .map_err(|problem| anyhow::anyhow!("line {}: {problem}", record.line))?;
        let tag = record
            .passthrough
            .get("tag")
            .and_then(Value::as_str)
            .map(str::to_owned);
        out.push(Labeled {
            line: record.line,
            text,
            labels,
            tag,
        });
    }
    if out.is_empty() {
        bail!("no records in {}", input.display());
    }
    Ok(out)
}

/// The categories named by `--label-columns`.
pub fn parse_categories(columns: &[String]) -> Result<Vec<Category>> {
    columns
        .iter()
        .map(|c| c.parse().map_err(anyhow::Error::msg))
        .collect()
}

/// A label field as [`parse_label`] reads it: a string as written, a number or boolean by its JSON
/// text; missing or null means unlabeled.
fn label(value: Option<&Value>) -> Result<Option<bool>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => parse_label(text),
        Some(other) => parse_label(&other.to_string()),
    }
}

fn write_tables(out: &mut impl Write, results: &Results, target: f64) -> io::Result<()> {
    let figure = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{v:.3}"));
    writeln!(
        out,
        "{} records, policy {}\n",
        results.records, results.policy
    )?;
    writeln!(
        out,
        "{:<15} {:>6} {:>6} {:>8} {:>7} {:>6} {:>6} {:>6} {:>6}  {:>22}  {:>18}",
        "category",
        "n",
        "pos",
        "ROC-AUC",
        "PR-AUC",
        "thr",
        "prec",
        "recall",
        "F1",
        format!("recall ≥ {target}: thr / FPR"),
        "tp / fp / fn / tn"
    )?;
    for (category, e) in &results.categories {
        let c = e.at_threshold;
        let target = e.for_target_recall.map_or("–".to_owned(), |t| {
            format!("{:.3} / {:.3}", t.threshold, t.false_positive_rate)
        });
        writeln!(
            out,
            "{category:<15} {:>6} {:>6} {:>8} {:>7} {:>6.2} {:>6.3} {:>6.3} {:>6.3}  {target:>22}  {:>18}",
            e.n, e.positives, figure(e.roc_auc), figure(e.pr_auc), e.threshold, e.precision, e.recall,
            e.f1, format!("{} / {} / {} / {}", c.tp, c.fp, c.fn_, c.tn)
        )?;
        if let Some(note) = &e.note {
            writeln!(out, "  {category}: {note}")?;
        }
    }
    let eces: Vec<String> = results
        .categories
        .iter()
        .map(|(c, e)| format!("{c} {}", figure(e.ece)))
        .collect();
    writeln!(out, "\nexpected calibration error: {}", eces.join(", "))?;
    if !results.tags.is_empty() {
        writeln!(out, "\n{:<45} {:>9} {:>8}", "tag", "correct", "accuracy")?;
        for (tag, t) in &results.tags {
            writeln!(
                out,
                "{tag:<45} {:>4}/{:<4} {:>8.3}",
                t.correct, t.n, t.accuracy
            )?;
        }
    }
    Ok(())
}

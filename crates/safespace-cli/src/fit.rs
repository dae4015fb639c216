//! `safespace fit`: the lexical tier refitted on a community's own labeled texts, with the before
//! and after on a held-out part of them.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use safespace::eval::evaluate;
use safespace::{Category, Detector, Engine, FitOptions, LexicalTier, Policy};
use serde_json::{json, Value};

use crate::evaluate::{parse_categories, read_labeled, Labeled};
use crate::options::FitArgs;

pub fn run(args: &FitArgs) -> Result<ExitCode> {
    if !(0.0..1.0).contains(&args.holdout) {
        bail!("--holdout must be at least 0 and below 1");
    }
    let categories = parse_categories(&args.labeled.label_columns)?;
    let records = read_labeled(&args.labeled)?;
    let (train, holdout) = split(&records, args.holdout);
    let base = match &args.base {
        Some(dir) => Arc::new(
            LexicalTier::from_dir(dir).with_context(|| format!("--base {}", dir.display()))?,
        ),
        None => LexicalTier::builtin(),
    };
    let labels: Vec<[Option<bool>; 3]> =
        train.iter().map(|r| by_category(r, &categories)).collect();
    let texts: Vec<&str> = train.iter().map(|r| r.text.as_str()).collect();
    let name = args.name.clone().unwrap_or_else(|| {
        args.out
            .file_name()
            .map_or("my-tier".into(), |n| n.to_string_lossy().into_owned())
    });
    let started = std::time::Instant::now();
    let options = FitOptions::default().with_l2(args.l2);
    let tier = Arc::new(base.fit(format!("{name}@1"), &texts, &labels, options));
    let seconds = started.elapsed().as_secs_f64();

    let policy = Policy::preset(args.policy.0);
    let measured = compare(&base, &tier, &holdout, &categories, &policy)?;
    let about = json!({
        "base": base.id(),
        "trained_on": {"records": train.len(), "file": args.labeled.input.display().to_string()},
        "holdout": {"records": holdout.len(), "policy": policy.name().as_str(), "categories": measured},
        "fit_seconds": (seconds * 10.0).round() / 10.0,
    });
    tier.write_dir(&args.out, about)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    write_holdout(&args.out.join("holdout.jsonl"), &holdout, &categories)?;

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "fitted {} on {} records in {seconds:.1}s from {}; wrote {}",
        tier.id(),
        train.len(),
        base.id(),
        args.out.display()
    )?;
    writeln!(
        out,
        "held out {} records ({}): fast engine, policy {}",
        holdout.len(),
        args.out.join("holdout.jsonl").display(),
        policy.name()
    )?;
    writeln!(
        out,
        "{:<15} {:>6} {:>6}  {:>17}  {:>17}",
        "category", "n", "pos", "ROC-AUC before/after", "F1 before/after"
    )?;
    for (category, m) in &measured {
        let cell = |key: &str| {
            let [b, a] = [&m["before"][key], &m["after"][key]]
                .map(|v| v.as_f64().map_or("–".to_owned(), |x| format!("{x:.3}")));
            format!("{b} / {a}")
        };
        writeln!(
            out,
            "{category:<15} {:>6} {:>6}  {:>20}  {:>17}",
            m["n"],
            m["positives"],
            cell("roc_auc"),
            cell("f1")
        )?;
    }
    writeln!(
        out,
        "use it: safespace score --lexical {} ...",
        args.out.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The training records and the held-out ones: `share` of them, spread evenly through the file
/// (record `i` is held out when `⌊(i + 1) × share⌋ > ⌊i × share⌋`).
fn split(records: &[Labeled], share: f64) -> (Vec<&Labeled>, Vec<&Labeled>) {
    let (mut train, mut holdout) = (Vec::new(), Vec::new());
    for (i, record) in records.iter().enumerate() {
        if ((i + 1) as f64 * share).floor() > (i as f64 * share).floor() {
            holdout.push(record);
        } else {
            train.push(record);
        }
    }
    (train, holdout)
}

/// A record's labels in [`Category::index`] order (`None` for categories not fitted).
fn by_category(record: &Labeled, categories: &[Category]) -> [Option<bool>; 3] {
    let mut labels = [None; 3];
    for (k, category) in categories.iter().enumerate() {
        labels[category.index()] = record.labels[k];
    }
    labels
}

/// Per category: the fast engine's ROC-AUC, precision, recall and F1 on the held-out records with
/// the base tier and with the new one.
fn compare(
    base: &Arc<LexicalTier>,
    tier: &Arc<LexicalTier>,
    holdout: &[&Labeled],
    categories: &[Category],
    policy: &Policy,
) -> Result<BTreeMap<&'static str, Value>> {
    let texts: Vec<&str> = holdout.iter().map(|r| r.text.as_str()).collect();
    let reports = |tier: &Arc<LexicalTier>| -> Result<Vec<safespace::Report>> {
        let detector = Detector::builder()
            .engine(Engine::Fast)
            .policy(*policy)
            .lexical_tier(tier.clone())
            .build()?;
        Ok(detector.score_batch(&texts))
    };
    let (before, after) = (reports(base)?, reports(tier)?);
    let mut out = BTreeMap::new();
    for (k, &category) in categories.iter().enumerate() {
        let labeled: Vec<(usize, bool)> = holdout
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.labels[k].map(|l| (i, l)))
            .collect();
        let labels: Vec<bool> = labeled.iter().map(|&(_, l)| l).collect();
        let measure = |reports: &[safespace::Report]| {
            let scores: Vec<f32> = labeled
                .iter()
                .map(|&(i, _)| reports[i].scores.get(category))
                .collect();
            let e = evaluate(&scores, &labels, policy.threshold(category), 0.95);
            json!({"roc_auc": e.roc_auc, "precision": e.precision, "recall": e.recall, "f1": e.f1})
        };
        out.insert(
            category.as_str(),
            json!({
                "n": labels.len(),
                "positives": labels.iter().filter(|&&l| l).count(),
                "before": measure(&before),
                "after": measure(&after),
            }),
        );
    }
    Ok(out)
}

/// The held-out records as JSONL (text and labels), for `safespace eval` with and without the tier.
fn write_holdout(
    path: &std::path::Path,
    holdout: &[&Labeled],
    categories: &[Category],
) -> Result<()> {
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    for record in holdout {
        let mut line = serde_json::Map::new();
        line.insert("text".into(), record.text.clone().into());
        for (k, category) in categories.iter().enumerate() {
            line.insert(
                category.as_str().into(),
                record.labels[k].map_or(Value::Null, |l| u8::from(l).into()),
            );
        }
        serde_json::to_writer(&mut file, &line)?;
        writeln!(file)?;
    }
    file.flush()?;
    Ok(())
}

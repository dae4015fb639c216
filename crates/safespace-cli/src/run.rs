//! What each subcommand does.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use safespace::{Category, Detector, Settings};
use serde_json::{Map, Value};

use crate::options::{Cli, Command, DetectorArgs, Format, OnError, ScoreArgs};
use crate::records::{open_records, Record};

/// Records scored together (what `score_batch` carries through its stages at once); bounds memory
/// whatever the input size.
const CHUNK: usize = safespace::BATCH_CHUNK_TEXTS;

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Score(args) => score(args),
        Command::Eval(args) => crate::evaluate::run(&args, &build_detector(&args.detector)?),
        Command::Fit(args) => crate::fit::run(&args),
        Command::Serve(args) => crate::serve::run(args),
        Command::Rules(args) => {
            let detector = build_detector(&args)?;
            let mut out = io::stdout().lock();
            for id in detector.rule_ids() {
                writeln!(out, "{id}")?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The detector the options describe; warns on standard error when the model falls back to rules.
pub fn build_detector(args: &DetectorArgs) -> Result<Detector> {
    let detector = detector_with(args, settings(args)?)?;
    if let Some(why) = detector.model_unavailable_reason() {
        eprintln!("warning: scoring with the fast engine (rules and lexical tier): {why}");
    }
    Ok(detector)
}

/// The policy, thresholds, locale, rules and input limit the options set.
pub fn settings(args: &DetectorArgs) -> Result<Settings> {
    let mut thresholds = BTreeMap::new();
    for setting in &args.threshold {
        let (category, value) = setting
            .split_once('=')
            .with_context(|| format!("--threshold `{setting}` should look like harassment=0.8"))?;
        let category: Category = category.trim().parse().map_err(anyhow::Error::msg)?;
        let value: f32 = value
            .trim()
            .parse()
            .with_context(|| format!("--threshold `{setting}`: `{value}` is not a number"))?;
        thresholds.insert(category, value);
    }
    Ok(Settings {
        engine: Some(args.engine()),
        policy: Some(args.policy.0),
        locale: Some(args.locale.0),
        thresholds,
        rules: Vec::new(),
        rules_files: args.rule_files.clone(),
        disable_rules: args.disabled.clone(),
        max_input_bytes: Some(args.max_input_bytes),
    })
}

/// A detector with `settings` and the engine the options choose (model folder, engine, model
/// required, sessions, arithmetic).
pub fn detector_with(args: &DetectorArgs, settings: Settings) -> Result<Detector> {
    let mut builder = Detector::builder();
    if let Some(dir) = &args.model {
        builder = builder.model_dir(dir);
    }
    if let Some(dir) = &args.lexical {
        builder = builder.lexical_dir(dir);
    }
    if let Some(sessions) = args.model_sessions {
        builder = builder.model_sessions(sessions);
    }
    builder = builder
        .model_arithmetic(args.model_arithmetic.0)
        .settings(settings);
    Ok(builder.require_model(args.require_model).build()?)
}

fn score(args: ScoreArgs) -> Result<ExitCode> {
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build_global()
            .context("cannot start the worker threads")?;
    }
    let detector = build_detector(&args.detector)?;
    match (&args.text, &args.input) {
        (Some(text), _) => {
            let report = detector.try_score(text)?;
            let mut out = io::stdout().lock();
            if args.compact {
                serde_json::to_writer(&mut out, &report)?;
            } else {
                serde_json::to_writer_pretty(&mut out, &report)?;
            }
            writeln!(out)?;
            Ok(ExitCode::SUCCESS)
        }
        (None, Some(path)) => score_file(&detector, &args, path),
        (None, None) => bail!("give a text to score, or --input FILE (or - for standard input)"),
    }
}

fn score_file(detector: &Detector, args: &ScoreArgs, path: &Path) -> Result<ExitCode> {
    let records = open_records(path, Format::of(path, args.format), &args.column)?;
    let progress = if io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} records scored ({per_sec})")
                .expect("valid progress template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut out = BufWriter::new(io::stdout().lock());
    let mut summary = Summary::default();
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut records = records.peekable();
    while records.peek().is_some() {
        chunk.clear();
        for record in records.by_ref().take(CHUNK) {
            chunk.push(record?);
        }
        write_chunk(detector, &chunk, args.on_error, &mut out, &mut summary)?;
        progress.inc(chunk.len() as u64);
    }
    out.flush()?;
    progress.finish_and_clear();
    if summary.skipped > 0 {
        eprintln!(
            "warning: {} of {} records could not be scored; their lines hold an \"error\" field instead of a \"report\"",
            summary.skipped, summary.total
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Default)]
struct Summary {
    total: usize,
    skipped: usize,
}

fn write_chunk(
    detector: &Detector,
    chunk: &[Record],
    on_error: OnError,
    out: &mut impl Write,
    summary: &mut Summary,
) -> Result<()> {
    let texts: Vec<&str> = chunk
        .iter()
        .filter_map(|r| r.text.as_deref().ok())
        .collect();
    let mut reports = detector.try_score_batch(&texts).into_iter();
    for record in chunk {
        summary.total += 1;
        let mut line: Map<String, Value> = record.passthrough.clone();
        line.insert("line".to_owned(), Value::from(record.line));
        let outcome = match &record.text {
            Ok(_) => reports
                .next()
                .expect("one result per text")
                .map_err(|e| e.to_string()),
            Err(problem) => Err(problem.clone()),
        };
        match outcome {
            Ok(report) => {
                line.insert("report".to_owned(), serde_json::to_value(report)?);
            }
            Err(problem) if on_error == OnError::Fail => {
                out.flush()?;
                bail!(
                    "line {}: {problem} (use --on-error skip to go on past bad records)",
                    record.line
                );
            }
            Err(problem) => {
                eprintln!("warning: line {}: {problem}", record.line);
                summary.skipped += 1;
                line.insert("error".to_owned(), Value::from(problem.as_str()));
            }
        }
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

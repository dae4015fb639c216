//! Command-line options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Score text for self-harm risk, harassment and health misinformation, on this machine.
#[derive(Debug, Parser)]
#[command(name = "safespace", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Score one text (pretty JSON) or a JSONL/CSV file or pipe (JSONL out, input order kept).
    ///
    /// Examples:
    ///   safespace score "I can't do this anymore"
    ///   safespace score --input posts.jsonl > reports.jsonl
    ///   cat posts.csv | safespace score --input - --format csv --column body
    Score(ScoreArgs),
    /// Measure the detector on labeled JSONL/CSV: per category n, positives, ROC-AUC, PR-AUC,
    /// precision/recall/F1 at the policy threshold, the threshold for a target recall and its
    /// false-positive rate, calibration error and a confusion table; accuracy per `tag` if present.
    ///
    /// Labels are 0/1 (or true/false) in one field per category; an empty label leaves that record
    /// out of that category.
    ///
    /// Examples:
    ///   safespace eval --input datasets/functional/suite.jsonl
    ///   safespace eval --input ours.csv --column body --label-columns self_harm --target-recall 0.98 --json
    Eval(EvalArgs),
    /// List the ids of all rules and context modifiers (for --disable).
    Rules(DetectorArgs),
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A labeled JSONL or CSV file; `-` reads standard input.
    #[arg(short, long, value_name = "FILE|-")]
    pub input: PathBuf,

    /// Input format; by default CSV for `.csv` files, JSONL otherwise.
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// The field (JSONL) or column (CSV) holding the text.
    #[arg(long = "text-column", alias = "column", default_value = "text")]
    pub column: String,

    /// Categories to measure; each names the field holding its label.
    #[arg(long, value_delimiter = ',', default_values_t = ["self_harm".to_owned(), "harassment".to_owned(), "misinformation".to_owned()])]
    pub label_columns: Vec<String>,

    /// The recall to find a threshold for (missing someone at risk is the costly error).
    #[arg(long, default_value_t = 0.95)]
    pub target_recall: f64,

    /// Print the full result as JSON instead of tables.
    #[arg(long)]
    pub json: bool,

    /// Also write DIR/index.html: the tables with ROC and reliability plots (inline SVG).
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,

    #[command(flatten)]
    pub detector: DetectorArgs,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The text to score. Omit it and use --input to score a file.
    #[arg(conflicts_with = "input")]
    pub text: Option<String>,

    /// A JSONL or CSV file of records to score; `-` reads standard input.
    #[arg(short, long, value_name = "FILE|-")]
    pub input: Option<PathBuf>,

    /// Input format; by default CSV for `.csv` files, JSONL otherwise.
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// The field (JSONL) or column (CSV) holding the text.
    #[arg(long, default_value = "text")]
    pub column: String,

    /// What to do with a bad record (invalid UTF-8, bad JSON, missing field): `fail` stops with the
    /// line number; `skip` writes an error record in its place and goes on.
    #[arg(long, value_enum, default_value_t = OnError::Fail)]
    pub on_error: OnError,

    /// Worker threads for file scoring (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,

    /// Print one-line JSON for a single text.
    #[arg(long)]
    pub compact: bool,

    #[command(flatten)]
    pub detector: DetectorArgs,
}

#[derive(Debug, Args)]
pub struct DetectorArgs {
    /// Policy preset: thresholds and actions.
    #[arg(long, default_value = "peer_support", value_parser = ["peer_support", "general", "strict"])]
    pub policy: String,

    /// Override one category's threshold, e.g. `--threshold harassment=0.8` (repeatable).
    #[arg(long, value_name = "CATEGORY=VALUE")]
    pub threshold: Vec<String>,

    /// Region whose crisis resources are shown: US, UK, IE, CA or AU.
    #[arg(long, default_value = "US")]
    pub locale: String,

    /// Extra rule file in the built-in TOML format (repeatable).
    #[arg(long = "rules", value_name = "FILE")]
    pub rule_files: Vec<PathBuf>,

    /// Switch off a rule or context modifier by id (repeatable; see `safespace rules`).
    #[arg(long = "disable", value_name = "ID")]
    pub disabled: Vec<String>,

    /// Use the rule engine only (no ONNX Runtime needed).
    #[arg(long)]
    pub rules_only: bool,

    /// A model folder (model.onnx, tokenizer.json, manifest.json) instead of the bundled model.
    #[arg(long, value_name = "DIR", conflicts_with = "rules_only")]
    pub model: Option<PathBuf>,

    /// Fail instead of falling back to rules when the model cannot be loaded.
    #[arg(long, conflicts_with = "rules_only")]
    pub require_model: bool,

    /// Longest text scored, in bytes; a longer one is an error (a bad record with --input).
    #[arg(long, value_name = "BYTES", default_value_t = safespace::DEFAULT_MAX_INPUT_BYTES)]
    pub max_input_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Jsonl,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnError {
    Fail,
    Skip,
}

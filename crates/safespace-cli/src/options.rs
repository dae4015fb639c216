//! Command-line options.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use clap::builder::{PossibleValue, RangedU64ValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use safespace::{Engine, Locale, ModelArithmetic, Preset};

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
    /// Refit the lexical tier on your community's labeled JSONL/CSV (the format `eval` reads):
    /// writes a tier folder that `--lexical DIR` loads, and prints the fast engine's ROC-AUC and F1
    /// before and after on a held-out part of the records (written to DIR/holdout.jsonl, so that
    /// `eval --engine fast [--lexical DIR]` repeats the comparison).
    ///
    /// Examples:
    ///   safespace fit --input ours.jsonl --out ours-tier/
    ///   safespace score --lexical ours-tier/ --input posts.jsonl
    Fit(FitArgs),
    /// List the ids of all rules and context modifiers (for --disable).
    Rules(DetectorArgs),
    /// Serve the detector over HTTP: an OpenAI-compatible `POST /v1/moderations`, `POST /v1/score`
    /// (safespace reports), `GET /healthz`, `GET /readyz` and `GET /metrics` (Prometheus).
    ///
    /// Post text never appears in the log. Stops gracefully on SIGTERM or Ctrl-C: requests in
    /// flight finish first.
    ///
    /// Examples:
    ///   safespace serve
    ///   safespace serve --listen 0.0.0.0:8080 --api-key-file /etc/safespace/key --policy strict
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (port 0 picks a free one; the address is printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// A file holding the bearer token `/v1/` requests must send (`Authorization: Bearer TOKEN`);
    /// without it the API is open to whoever can reach the address.
    #[arg(long, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,

    /// Largest request body, in bytes (larger: 413).
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 20, value_parser = at_least_one())]
    pub max_body_bytes: usize,

    /// Most texts in one request (more: 422).
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = at_least_one())]
    pub max_batch: usize,

    /// Most `/v1/` requests scored at once; one more is answered 503 with `Retry-After`.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = at_least_one())]
    pub max_concurrent: usize,

    #[command(flatten)]
    pub detector: DetectorArgs,
}

/// A labeled JSONL or CSV file, as `eval` and `fit` read it.
#[derive(Debug, Args)]
pub struct LabeledInput {
    /// A labeled JSONL or CSV file; `-` reads standard input.
    #[arg(short, long, value_name = "FILE|-")]
    pub input: PathBuf,

    /// Input format; by default CSV for `.csv` files, JSONL otherwise.
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// The field (JSONL) or column (CSV) holding the text.
    #[arg(long, alias = "text-column", default_value = "text")]
    pub column: String,

    /// The categories; each names the field holding its label (an empty label leaves the record
    /// out of that category).
    #[arg(long, value_delimiter = ',', default_values_t = ["self_harm".to_owned(), "harassment".to_owned(), "misinformation".to_owned()])]
    pub label_columns: Vec<String>,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub labeled: LabeledInput,

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
pub struct FitArgs {
    /// The labeled records; categories not among `--label-columns` keep the base tier's head.
    #[command(flatten)]
    pub labeled: LabeledInput,

    /// The folder to write: weights.bin, manifest.json, holdout.jsonl.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// The new tier's name (default: the folder's name).
    #[arg(long)]
    pub name: Option<String>,

    /// Share of the records held out to measure the new tier against the base (every k-th one).
    #[arg(long, default_value_t = 0.2)]
    pub holdout: f64,

    /// Start from this tier folder instead of the built-in tier.
    #[arg(long, value_name = "DIR")]
    pub base: Option<PathBuf>,

    /// Pull toward the base tier's weights, per record; larger keeps more of the base.
    #[arg(long, default_value_t = 1e-4)]
    pub l2: f64,

    /// Policy of the before/after table.
    #[arg(long, value_enum, default_value_t = PolicyArg(Preset::PeerSupport))]
    pub policy: PolicyArg,
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

    /// Worker threads (default: all cores), and the ONNX Runtime sessions loaded for them (at most 4,
    /// about 55 MB each) unless `--model-sessions` says otherwise.
    #[arg(long)]
    pub threads: Option<usize>,

    /// Print one-line JSON for a single text.
    #[arg(long)]
    pub compact: bool,

    #[command(flatten)]
    pub detector: DetectorArgs,
}

#[derive(Debug, Clone, Args)]
pub struct DetectorArgs {
    /// Policy preset: thresholds and actions.
    #[arg(long, value_enum, default_value_t = PolicyArg(Preset::PeerSupport))]
    pub policy: PolicyArg,

    /// Override one category's threshold, e.g. `--threshold harassment=0.8` (repeatable).
    #[arg(long, value_name = "CATEGORY=VALUE")]
    pub threshold: Vec<String>,

    /// Region whose crisis resources are shown.
    #[arg(long, value_enum, ignore_case = true, default_value_t = LocaleArg(Locale::Us))]
    pub locale: LocaleArg,

    /// Extra rule file in the built-in TOML format (repeatable).
    #[arg(long = "rules", value_name = "FILE")]
    pub rule_files: Vec<PathBuf>,

    /// Switch off a rule or context modifier by id (repeatable; see `safespace rules`).
    #[arg(long = "disable", value_name = "ID")]
    pub disabled: Vec<String>,

    /// Engine: `auto` runs the rules and the lexical tier on every text and the model on those they
    /// screen in; `full` runs the model on every text; `fast` never (microseconds per post). `auto`
    /// and `full` fall back to `fast` when ONNX Runtime cannot be loaded.
    #[arg(long, value_enum, default_value_t = EngineArg(Engine::Auto))]
    pub engine: EngineArg,

    /// A lexical tier folder (from `safespace fit`) instead of the built-in tier.
    #[arg(long, value_name = "DIR")]
    pub lexical: Option<PathBuf>,

    /// The old name of `--engine fast`.
    #[arg(long, conflicts_with = "engine")]
    pub rules_only: bool,

    /// A model folder (model.onnx, tokenizer.json, manifest.json) instead of the bundled model.
    #[arg(long, value_name = "DIR", conflicts_with = "rules_only")]
    pub model: Option<PathBuf>,

    /// Fail instead of falling back to the fast engine when the model cannot be loaded.
    #[arg(long, conflicts_with = "rules_only")]
    pub require_model: bool,

    /// ONNX Runtime sessions that score at once (default: one per thread, at most 4), the threads
    /// divided among them. Each holds a copy of the weights (~55 MB); `--model-sessions 1` runs one
    /// on all threads: less memory, a little less throughput.
    #[arg(long, value_name = "N", value_parser = at_least_one(), conflicts_with = "rules_only")]
    pub model_sessions: Option<usize>,

    /// The model's arithmetic: `fp32` (the same scores as the browser and every runtime) or `int8`
    /// (the model's int8 graph, on ONNX Runtime only: faster on CPUs with VNNI, scores about 0.01
    /// apart). Where the int8 graph cannot run, the fast engine answers (an error with
    /// --require-model).
    #[arg(long, value_enum, default_value_t = ArithmeticArg(ModelArithmetic::Fp32), conflicts_with = "rules_only")]
    pub model_arithmetic: ArithmeticArg,

    /// Longest text scored, in bytes; a longer one is an error (a bad record with --input).
    #[arg(long, value_name = "BYTES", default_value_t = safespace::DEFAULT_MAX_INPUT_BYTES)]
    pub max_input_bytes: usize,
}

impl DetectorArgs {
    /// The engine asked for (`--rules-only` is `fast`).
    pub fn engine(&self) -> Engine {
        if self.rules_only {
            Engine::Fast
        } else {
            self.engine.0
        }
    }
}

/// A count of 1 or more.
fn at_least_one() -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::new().range(1..)
}

/// Declares `$arg`, a command-line value wrapping one of the library's enums: every variant in
/// `<$inner>::ALL`, each named on the command line by its `$name()`.
macro_rules! library_enum_arg {
    ($(#[$doc:meta])* $arg:ident($inner:ty), $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $arg(pub $inner);

        impl ValueEnum for $arg {
            fn value_variants<'a>() -> &'a [Self] {
                static ALL: LazyLock<[$arg; <$inner>::ALL.len()]> =
                    LazyLock::new(|| <$inner>::ALL.map($arg));
                &*ALL
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(PossibleValue::new(self.0.$name()))
            }
        }
    };
}

library_enum_arg!(
    /// A policy preset as a command-line value (the names of [`Preset`]).
    PolicyArg(Preset),
    as_str
);
library_enum_arg!(
    /// An engine as a command-line value (the names of [`Engine`]).
    EngineArg(Engine),
    as_str
);
library_enum_arg!(
    /// A locale as a command-line value (the region codes of [`Locale`]).
    LocaleArg(Locale),
    code
);
library_enum_arg!(
    /// The model's arithmetic as a command-line value (the names of [`ModelArithmetic`]).
    ArithmeticArg(ModelArithmetic),
    as_str
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Jsonl,
    Csv,
}

impl Format {
    /// The format asked for, else CSV for a `.csv` path and JSONL otherwise.
    pub fn of(path: &Path, asked: Option<Format>) -> Format {
        let is_csv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        asked.unwrap_or(if is_csv { Format::Csv } else { Format::Jsonl })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnError {
    Fail,
    Skip,
}

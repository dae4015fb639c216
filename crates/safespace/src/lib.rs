//! # safespace
//!
//! On-device detection of **self-harm risk**, **harassment** and **health misinformation** in
//! user-written text, with evidence spans, severity, a recommended action, content-warning tags and
//! crisis resources.
//!
//! ```
//! use safespace::{Category, Detector, Severity};
//!
//! let detector = Detector::default();
//! let report = detector.score("I bought the pills, tonight's the night");
//! assert!(report.is_flagged(Category::SelfHarm));
//! assert_eq!(report.severity, Severity::Critical);
//! println!("{}", serde_json::to_string_pretty(&report).unwrap());
//! ```
//!
//! The pipeline runs in one direction, one stage per module, each handing its output to the next:
//!
//! 1. [`Normalizer`] (`normalize`): undoes spelling tricks (confusables, leetspeak, spacing), keeps an
//!    offset map back to the original;
//! 2. the learned tiers: the lexical tier (`lexical`), a linear model over hashed n-grams, and in the
//!    full engine (see [`Engine`]) the model beside it (`model`): calibrated probabilities per
//!    category from the quantized MiniLM, maximum over sentence-aware windows;
//! 3. the rule engine (`rules`): patterns plus context modifiers (negation, recovery, third person,
//!    quotation, idioms) → a rule outcome (evidence, noisy-OR scores, severities, content warnings,
//!    the contexts that lower the learned tier);
//! 4. fusion (`fusion`): `max(rules, ceiling × combined)` per category, `combined` a learned
//!    combiner over the learned tiers' probabilities, the rules' score and those contexts;
//! 5. [`Policy`] (`policy`): thresholds → flags, severity, action, content warnings, crisis resources;
//! 6. [`Report`] (`report`): evidence (rules', and the lexical tier's words where it carries a flag)
//!    in text order with byte and UTF-16 offsets into the original.
//!
//! [`Detector`] (`detector`) runs them in that order; [`DetectorBuilder`] (`builder`) configures it.

mod builder;
mod cascade;
mod category;
mod detector;
mod engine;
mod error;
pub mod eval;
mod fusion;
mod input_limit;
#[cfg(feature = "lexical")]
mod lexical;
#[cfg(not(feature = "lexical"))]
#[path = "lexical_off.rs"]
mod lexical;
#[cfg(feature = "model")]
mod model;
mod model_arithmetic;
mod model_files;
mod normalize;
mod offsets;
mod policy;
mod report;
mod resources;
mod rules;
mod settings;
mod vocabulary;

pub use builder::DetectorBuilder;
pub use category::{Category, Label};
pub use detector::{Detector, BATCH_CHUNK_TEXTS, DEFAULT_MAX_INPUT_BYTES};
pub use engine::{Engine, Tier};
pub use error::{Error, ModelError, Result};
#[cfg(feature = "lexical")]
pub use lexical::{
    lexical_features, lexical_ngrams, FitOptions, LexicalFeatures, LexicalTier, LexicalTierError,
    Ngram, NgramKind, SparseVector,
};
pub use model_arithmetic::ModelArithmetic;
pub use model_files::ModelFiles;
pub use normalize::{NormalizedText, Normalizer};
pub use policy::{Policy, Preset};
pub use report::{CategoryScores, EngineInfo, EngineMode, Evidence, FusionInfo, Report};
pub use resources::Locale;
pub use settings::{RuleText, Settings};
pub use vocabulary::{Action, ContentWarning, ContextKind, Resource, Severity};

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
//! The pipeline runs in one direction, one stage per module:
//! [`Normalizer`] (undoes spelling tricks, keeps offsets) → rule engine (patterns plus context
//! modifiers such as negation, recovery, third person, quotation and idioms) → [`Policy`] (thresholds,
//! severity, action) → [`Report`].

mod category;
mod detector;
mod error;
pub mod eval;
mod fusion;
#[cfg(feature = "model")]
mod model;
mod model_files;
mod normalize;
mod offsets;
mod policy;
mod report;
mod resources;
mod rules;
mod settings;

pub use category::{Category, Label};
pub use detector::{Detector, DetectorBuilder, DEFAULT_MAX_INPUT_BYTES};
pub use error::{Error, ModelError, Result};
pub use model_files::ModelFiles;
pub use normalize::{NormalizedText, Normalizer};
pub use policy::{Policy, Preset};
pub use report::{
    Action, CategoryScores, ContentWarning, EngineInfo, EngineMode, Evidence, Report, Resource,
    Severity,
};
pub use resources::Locale;
pub use settings::{RuleText, Settings};

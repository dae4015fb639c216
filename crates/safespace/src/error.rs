//! The one error type of the crate.

use std::path::PathBuf;

/// Everything that can go wrong while building a [`Detector`](crate::Detector), or scoring with
/// [`Detector::try_score`](crate::Detector::try_score).
///
/// [`Detector::score`](crate::Detector::score) never fails: any input text gives a report.
///
/// ```
/// let err = safespace::Detector::builder()
///     .add_rules_str("community.toml", "[[rule]]\nid = 'x'\nlabels = ['self_harm/sadness']\npatterns = ['sad']")
///     .build()
///     .unwrap_err();
/// assert!(err.to_string().starts_with("community.toml:3:"), "{err}");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A rule file has a problem; the message names the file, line and what is wrong.
    #[error("{file}:{line}: {message}")]
    Rules {
        /// The file name as given to the builder.
        file: String,
        /// 1-based line of the problem.
        line: usize,
        /// What is wrong and, where possible, how to fix it.
        message: String,
    },
    /// A rule file could not be read.
    #[error("cannot read rule file {}: {source}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A builder option is out of range or unknown.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// A text is longer than [`DetectorBuilder::max_input_bytes`](crate::DetectorBuilder::max_input_bytes)
    /// (from [`Detector::try_score`](crate::Detector::try_score)).
    #[error("the text is {bytes} bytes, over the limit of {limit} bytes (raise it with max_input_bytes)")]
    InputTooLarge {
        /// The text's length in bytes.
        bytes: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The model was required (`require_model(true)`) but could not be loaded.
    #[error("the model could not be loaded: {0}")]
    Model(#[from] ModelError),
    /// A lexical tier chosen with [`DetectorBuilder::lexical_dir`](crate::DetectorBuilder::lexical_dir)
    /// could not be loaded.
    #[error("the lexical tier could not be loaded: {0}")]
    Lexical(String),
}

/// Why the model cannot run, by what to do about it.
///
/// ```
/// use safespace::{Detector, Error, ModelError};
/// let err = Detector::builder().model_dir("no/such/model").require_model(true).build().unwrap_err();
/// assert!(matches!(err, Error::Model(ModelError::NotFound(_))), "{err}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A model file is missing or cannot be read: check the model folder.
    #[error("{0}")]
    NotFound(String),
    /// A model file is corrupt, truncated or from another model (checksum, manifest, tokenizer or
    /// graph): reinstall or re-export the model.
    #[error("{0}")]
    Damaged(String),
    /// No inference runtime could be loaded (ONNX Runtime not installed, and no tract in this
    /// build): install ONNX Runtime or set `ORT_DYLIB_PATH`.
    #[error("{0}")]
    RuntimeMissing(String),
    /// The runtime loaded but failed, starting up or running the network.
    #[error("{0}")]
    RuntimeFailed(String),
}

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

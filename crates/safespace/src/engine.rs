//! Which engine a detector runs ([`Engine`]) and the tiers an engine is made of ([`Tier`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The engine a detector runs.
///
/// | engine | tiers | needs | speed (280-char post, one core) |
/// |---|---|---|---|
/// | `full` (default) | rules + model | ONNX Runtime (or tract) | ~15 ms |
/// | `fast` | rules + lexical | nothing | ~20 µs |
///
/// When the model cannot be loaded, or fails on a text, the full engine answers with the fast one
/// and says so in `engine.mode` and `engine.note`.
///
/// ```
/// use safespace::Engine;
/// assert_eq!("fast".parse::<Engine>()?, Engine::Fast);
/// assert_eq!(Engine::default().to_string(), "full");
/// assert!("turbo".parse::<Engine>().unwrap_err().to_string().contains("expected full or fast"));
/// # Ok::<(), safespace::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// The transformer fused with the rules, on every text.
    #[default]
    Full,
    /// The rules and the lexical tier: no model, microseconds per post, what runs in the browser.
    Fast,
}

impl Engine {
    /// Every engine.
    ///
    /// ```
    /// assert_eq!(safespace::Engine::ALL.len(), 2);
    /// ```
    pub const ALL: [Engine; 2] = [Engine::Full, Engine::Fast];

    /// `"full"` or `"fast"`.
    ///
    /// ```
    /// assert_eq!(safespace::Engine::Fast.as_str(), "fast");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Full => "full",
            Engine::Fast => "fast",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Engine {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Engine::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| {
                Error::InvalidOption(format!("unknown engine `{s}` (expected full or fast)"))
            })
    }
}

/// One stage of an engine that produces scores; a report lists those that ran in `engine.tiers`.
///
/// ```
/// use safespace::Tier;
/// assert_eq!(serde_json::to_string(&[Tier::Rules, Tier::Lexical]).unwrap(), r#"["rules","lexical"]"#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The rule engine: precise patterns with context.
    Rules,
    /// The lexical tier: a linear model over hashed n-grams.
    Lexical,
    /// The transformer.
    Model,
}
